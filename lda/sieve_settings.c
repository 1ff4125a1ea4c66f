/*
 * sieve_settings - settings rows -> generated script -> the engine, in
 * postern-lda (sieve_settings.h; the rows and the text are
 * lib-sieve/settings.c, shared with postern-managesieve).
 *
 * One prepared query per delivery (by the mailbox address the lookup
 * found), only with [lda] lookup = sql: lookup = maps opens no database
 * and applies no settings (docs/sieve.md).  The database not answering,
 * or a row over a limit, is a temporary failure of the delivery (4.3.0,
 * EX_TEMPFAIL): Postfix retries, and no message is ever delivered
 * without the out-of-office reply or the forward an admin set.
 *
 * The script runs in the same result as the others, so its actions go
 * the normal ways: vacation through the RFC 3834 checks, the period in
 * vacation_responses and the send limits; redirect through the loop
 * checks, the forwarder rate limits and the send limits; fileinto like
 * any fileinto.
 *
 * Diagnostics: "to=<A>: settings: ..." (database), "to=<A>: sieve:
 * postern-settings:LINE: ..." (a generated script that does not compile:
 * a bug; the delivery is deferred).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "settings.h"
#include "sieve_settings.h"

int sieve_lda_settings(struct lda_ctx *ctx, const struct lda_mailbox *mb,
                       struct str *script, struct lda_result *res)
{
    struct sieve_settings s;
    struct str err = STR_INIT;
    int rc;

    if (ctx->cfg->lookup != LDA_LOOKUP_SQL || ctx->db == NULL)
        return 0;
    sieve_settings_init(&s);
    rc = sieve_settings_load(ctx->db, mb->address, &s, &err);
    if (rc < 0) {
        log_warn("to=<%s>: settings: %s", mb->address, str_cstr(&err));
        lda_result_set(res, LDA_TEMP, "<%s>: mailbox settings not "
                       "available, try again later", mb->address);
    } else if (rc == LK_FOUND)
        sieve_settings_script(&s, strtod(ctx->cfg->sieve_spam_score_max,
                                         NULL), script);
    sieve_settings_free(&s);
    str_free(&err);
    return rc < 0 ? -1 : 0;
}

int sieve_lda_settings_run(const struct str *script,
                           const struct sieve_host *host,
                           const struct sieve_message *sm,
                           struct sieve_result *sr, const char *who,
                           struct lda_result *res)
{
    struct str errors = STR_INIT;
    struct sieve_script *s;
    int rc;

    if (sieve_compile(SIEVE_SETTINGS_NAME, str_cstr(script), script->len,
                      host, &s, &errors) < 0) {
        log_error("to=<%s>: sieve: the generated settings script does not "
                  "compile: %s", who, log_safe(errors.data, errors.len));
        lda_result_set(res, LDA_TEMP, "<%s>: mailbox settings cannot be "
                       "applied, try again later", who);
        str_free(&errors);
        return -2;
    }
    rc = sieve_execute(s, sm, host, sr);
    if (rc < 0)
        log_warn("to=<%s>: sieve: %s; keeping the message", who,
                 log_safe(sr->error.data, sr->error.len));
    sieve_script_free(s);
    str_free(&errors);
    return rc;
}
