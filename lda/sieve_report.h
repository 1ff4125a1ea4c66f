/*
 * sieve_report - telling the user that their Sieve script is broken
 * (sieve_report.c), once per script version.
 */
#ifndef POSTERN_SIEVE_REPORT_H
#define POSTERN_SIEVE_REPORT_H

#include "lda.h"

#define SIEVE_REPORT_STATE ".postern.sieve.reported" /* in the mailbox */
#define SIEVE_REPORT_ERRORS_MAX 8192  /* bytes of error lines in a report */
#define SIEVE_REPORT_SCRIPTS_MAX 64   /* personal scripts in the version */

/* what went wrong with the user's script in one delivery */
struct sieve_report {
    struct str errors;   /* the error lines ("" = nothing to report) */
    int runtime;         /* 0 compile errors, 1 a run-time error */
};

/*
 * sieve_report_version - the version of the user's scripts: SHA-256 (64
 * hex digits) over the active script's text and every personal script
 * (personal_dir/NAME.sieve, at most SIEVE_REPORT_SCRIPTS_MAX, by name),
 * so that a change in an included script is a new version too.  0, or -1
 * when the active script cannot be read.
 */
int sieve_report_version(const char *active, const char *personal_dir,
                         char out[65]);

/*
 * sieve_report_text - the report message (header and body, LF lines):
 * From MAILER-DAEMON@domain, Auto-Submitted: auto-generated, the
 * subject "Your mail filter has errors", the error lines.  Pure.
 */
void sieve_report_text(struct str *out, const char *address,
                       const char *hostname, const struct sieve_report *r,
                       const char *version, long long now);

/* sieve_report_server_fault - 1 if the run-time error lines say that a
   host lookup failed temporarily (the database, the lists): the server's
   fault, not the script's, so the user is not told */
int sieve_report_server_fault(const char *errors);

/*
 * sieve_report_deliver - after a delivery in which the user's script
 * failed (r->errors not empty): unless [lda] sieve_report_errors = no or
 * this version was reported before (root/.postern.sieve.reported), deliver
 * the report into the INBOX through store (the same checked store as the
 * message), then remember the version (written atomically).  Logged;
 * never changes the delivery's outcome.
 */
void sieve_report_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                          const struct lda_mailbox *mb, const char *root,
                          lda_store_fn *store, const char *active,
                          const char *personal_dir,
                          const struct sieve_report *r);

#endif
