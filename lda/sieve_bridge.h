/*
 * sieve_bridge - glue between postern-lda's message spool and the Sieve engine
 * (sieve_bridge.c, sieve_state.c).  lda_sieve_deliver() itself is declared in lda.h.
 */
#ifndef POSTERN_SIEVE_BRIDGE_H
#define POSTERN_SIEVE_BRIDGE_H

#include "lda.h"
#include "sieve.h"

/* sieve_lda_message - a sieve_message over a spooled message; sender ""
   is the null sender.  m must stay put while sm is used. */
void sieve_lda_message(struct sieve_message *sm, struct lda_msg *m,
                       const char *sender, const char *recipient);

/* sieve_maildir_flags - "\Seen \Flagged" -> "FS" (Maildir info letters,
   sorted); keywords are left out. */
void sieve_maildir_flags(const char *const *flags, char *out, size_t size);

/* sieve_lda_sendmail - [lda] sendmail_path -i -f FROM -- TO, fed prefix
   then m (NULL: prefix only); FROM "" is <>.  A sendmail (and the
   writer feeding it) still running at deadline_ms (clock_ms(); 0: no
   deadline) is killed.  0, or -1 with *err. */
int sieve_lda_sendmail(struct lda_ctx *ctx, const char *from, const char *to,
                       const struct str *prefix, struct lda_msg *m,
                       long long deadline_ms, struct str *err);

/* --- sieve_state.c: state in the database, replies ----------------------- */

/* what one delivery's scripts may still send (redirect, notify,
   vacation): [lda] sieve_send_max_per_message, sieve_send_timeout */
struct sieve_send_budget {
    long long left;          /* mails */
    long long deadline;      /* clock_ms() */
    unsigned long skipped;   /* refused, for the summary line */
    const char *why;         /* the first reason */
};

/* the delivery as the state functions see it */
struct sieve_lda_run {
    struct lda_ctx *ctx;
    const struct lda_envelope *env;
    const struct lda_mailbox *mb;
    const struct sieve_message *sm;
    struct sieve_send_budget *sends;
};

/* sieve_lda_send_claim - may the scripts send one more mail (`what`:
   "redirect", "notify", "vacation") to `to`?  The per-message bound,
   the deadline, then one of [lda] sieve_send_max_per_period in the
   sieve_sends window of the mailbox (not counted without a database; a
   database error refuses).  1 yes, 0 no (the first refusal is logged,
   the rest counted for sieve_lda_send_summary). */
int sieve_lda_send_claim(const struct sieve_lda_run *run, const char *what,
                         const char *to);
/* sieve_lda_forward_limit - count the redirects of sr that would be sent
   against the mailbox's forwarder rate limits, before any action is
   carried out: 0 go on; -1 over a limit or database trouble (*res set to
   a temporary failure, logged): the delivery is deferred as a whole */
int sieve_lda_forward_limit(const struct sieve_lda_run *run,
                            struct lda_msg *m, const struct sieve_result *sr,
                            struct lda_result *res);
/* sieve_lda_send_summary - log how many sends were refused, if any */
void sieve_lda_send_summary(const struct sieve_lda_run *run);

/* sieve_sha256_hex - out gets 64 hex digits and a NUL */
void sieve_sha256_hex(const char *s, size_t n, char out[65]);
/* sieve_lda_vacation - the RFC 3834 rules, the period in
   vacation_responses, then the reply through sendmail (all logged) */
void sieve_lda_vacation(const struct sieve_lda_run *run,
                        struct sieve_vacation *v);
/* sieve_lda_notify - an enotify mailto notification */
void sieve_lda_notify(const struct sieve_lda_run *run,
                      const struct sieve_notify *n);
/* sieve_lda_duplicate - the host callback of the duplicate test:
   LK_FOUND seen within its period, LK_NOTFOUND not, LK_TEMP database
   error */
int sieve_lda_duplicate(void *ctx, const char *id, size_t len,
                        long long seconds, int last);
/* sieve_lda_duplicate_commit - record the ids the duplicate tests
   tracked (after a successful delivery) */
void sieve_lda_duplicate_commit(const struct sieve_lda_run *run,
                                const struct sieve_result *r);
/* sieve_lda_redirect_loop - the reason a redirect to `to` would loop
   (Delivered-To / X-Loop naming it, or the same message already
   redirected there by this mailbox), NULL if none */
const char *sieve_lda_redirect_loop(const struct sieve_lda_run *run,
                                    struct lda_msg *m, const char *to);
/* sieve_lda_redirect_done - remember the redirect (duplicate table) */
void sieve_lda_redirect_done(const struct sieve_lda_run *run,
                             const char *to);

#endif
