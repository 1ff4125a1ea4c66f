/*
 * dmarc.h - postern dmarc: the two halves of DMARC aggregate reporting
 * (RFC 7489 7.2; docs/dmarc.md).
 *
 *   dmarc_report   admin/dmarc.c: build the reports of one UTC day from
 *                  dmarc_results and mail them to each rua destination
 *   dmarc_summary  admin/dmarc_summary.c: summarize the reports other
 *                  receivers sent to us
 */
#ifndef POSTERN_ADMIN_DMARC_H
#define POSTERN_ADMIN_DMARC_H

#include "admin.h"

int dmarc_report(struct admin *a, int argc, char **argv);
int dmarc_summary(struct admin *a, int argc, char **argv);

#endif
