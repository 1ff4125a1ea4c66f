/*
 * sieve_settings - the mailbox's settings without Sieve (vacation,
 * forward, spam: lib-sieve/settings.h) in postern-lda: read per delivery,
 * turned into the generated script and run after [lda] sieve_before and
 * before the user's script (lda/sieve_settings.c).
 */
#ifndef POSTERN_LDA_SIEVE_SETTINGS_H
#define POSTERN_LDA_SIEVE_SETTINGS_H

#include "lda.h"
#include "sieve.h"

/*
 * sieve_lda_settings - the generated script of mb into *script (empty:
 * no settings, or [lda] lookup = maps, which has no database).  0, or -1
 * with *res a temporary failure (database unreachable, a bad row): the
 * message is never delivered without the settings.
 */
int sieve_lda_settings(struct lda_ctx *ctx, const struct lda_mailbox *mb,
                       struct str *script, struct lda_result *res);

/*
 * sieve_lda_settings_run - compile and run the generated script into sr:
 * 1 it stopped (spam), 0 ran, -1 run-time error (logged; the engine keeps
 * the message), -2 it did not compile (logged; *res set to a temporary
 * failure).
 */
int sieve_lda_settings_run(const struct str *script,
                           const struct sieve_host *host,
                           const struct sieve_message *sm,
                           struct sieve_result *sr, const char *who,
                           struct lda_result *res);

#endif
