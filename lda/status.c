/*
 * status - delivery outcomes and their codes.  lda_status_info() is the one
 * place that maps an outcome to a sysexits(3) exit code (pipe mode), an
 * LMTP reply code and an RFC 3463 enhanced status code, so 75 (try again)
 * and a bounce can never be confused elsewhere.
 *
 * Postfix pipe(8) defers on 75 (EX_TEMPFAIL) and bounces on 64-78 except
 * 71/75; when the command's output begins with an enhanced status code it
 * reports that code (and its text) instead of the generic one.
 *
 *   outcome        exit               LMTP  DSN
 *   delivered      0                  250   2.0.0
 *   temporary      75 EX_TEMPFAIL     451   4.3.0
 *   no mailbox     67 EX_NOUSER       550   5.1.1
 *   quota bounce   77 EX_NOPERM       552   5.2.2
 *   quota defer    75 EX_TEMPFAIL     452   4.2.2
 *   loop           77 EX_NOPERM       554   5.4.6
 *   too big        77 EX_NOPERM       552   5.3.4
 *   usage          75 EX_TEMPFAIL     451   4.3.5   (a broken master.cf line
 *                                             must not bounce mail)
 *   config         75 EX_TEMPFAIL     451   4.3.5
 *   sieve reject   77 EX_NOPERM       550   5.7.1
 */
#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "lda.h"

struct lda_metrics lda_metrics;

static const char *const status_names[] = {
    "delivered", "temporary", "nouser", "quota_bounce", "quota_defer",
    "loop", "toobig", "usage", "config", "sieve_reject"};

void lda_metrics_register(void)
{
    lda_metrics.deliveries = metrics_register(
        METRICS_COUNTER, "postern_lda_deliveries_total",
        "Deliveries per recipient by outcome (delivered, temporary, nouser, "
        "quota_bounce, quota_defer, loop, toobig, sieve_reject, ...).",
        "outcome");
    lda_metrics.sieve = metrics_register(
        METRICS_COUNTER, "postern_lda_sieve_actions_total",
        "Sieve actions of delivered messages (keep, fileinto, redirect, "
        "reject, discard, vacation, notify).", "action");
    for (size_t i = 0; i < 3; i++)
        metrics_series(lda_metrics.deliveries, METRICS_L(status_names[i]));
}

void lda_count(enum lda_status st)
{
    if ((size_t)st < sizeof(status_names) / sizeof(status_names[0]))
        metrics_inc(lda_metrics.deliveries, METRICS_L(status_names[st]));
}

struct lda_status_info lda_status_info(enum lda_status st)
{
    switch (st) {
    case LDA_OK:           return (struct lda_status_info){EX_OK, 250, "2.0.0"};
    case LDA_TEMP:         return (struct lda_status_info){EX_TEMPFAIL, 451, "4.3.0"};
    case LDA_NOUSER:       return (struct lda_status_info){EX_NOUSER, 550, "5.1.1"};
    case LDA_QUOTA_BOUNCE: return (struct lda_status_info){EX_NOPERM, 552, "5.2.2"};
    case LDA_QUOTA_DEFER:  return (struct lda_status_info){EX_TEMPFAIL, 452, "4.2.2"};
    case LDA_LOOP:         return (struct lda_status_info){EX_NOPERM, 554, "5.4.6"};
    case LDA_TOOBIG:       return (struct lda_status_info){EX_NOPERM, 552, "5.3.4"};
    case LDA_USAGE:        return (struct lda_status_info){EX_TEMPFAIL, 451, "4.3.5"};
    case LDA_CONFIG:       return (struct lda_status_info){EX_TEMPFAIL, 451, "4.3.5"};
    case LDA_REJECTED:     return (struct lda_status_info){EX_NOPERM, 550, "5.7.1"};
    }
    /* an unknown value is a bug; never bounce because of one */
    return (struct lda_status_info){EX_TEMPFAIL, 451, "4.3.0"};
}

void lda_result_set(struct lda_result *r, enum lda_status st, const char *fmt,
                    ...)
{
    va_list ap;

    r->status = st;
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
}

void lda_result_format(const struct lda_result *r, struct str *out)
{
    str_appendf(out, "%s %s", lda_status_info(r->status).dsn, r->text);
}
