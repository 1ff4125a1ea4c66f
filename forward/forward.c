/*
 * forward - one forwarded copy, for Postfix's pipe(8) transport
 * postern-forward (master.cf; routed there by postern-maps'
 * forwardtransport for copies of the default address class with a
 * foreign envelope sender: an alias or catch-all to an outside address,
 * or a Sieve redirect re-submitted by postern-lda):
 *
 *   1. the forwarding rate limit: rules of key type forwarder
 *      (ratelimit_rules) count the copy against the forwarding account,
 *      the canonical ${original_recipient} (alias domains resolved),
 *      with the exact sliding windows of postern-policyd
 *      (lib/ratelimit.c).  A copy whose original recipient is its
 *      recipient (a re-submitted Sieve redirect: postern-lda counted it
 *      against the mailbox) is not counted again.  Over a limit: the
 *      decision is logged (rule, key, window) and the copy deferred
 *      (EX_TEMPFAIL, "4.7.1 TEXT (try again in N seconds)"): Postfix
 *      retries it, it is never dropped.  Database away: [forward]
 *      ratelimit_fail (defer, the default, or pass).
 *   2. the SRS sender: the envelope sender rewritten with the [maps]
 *      srs_* settings (lib/srs.c), the same secret srsdecode verifies;
 *      the null sender and senders in the SRS domain stay; a sender SRS
 *      cannot rewrite (quoting, length) stays, logged.
 *   3. re-submission: [forward] sendmail_path -i -f SRS -- RECIPIENT with
 *      the message on stdin, within sendmail_timeout (then killed).
 *
 * Exit: 0 re-submitted; 75 (EX_TEMPFAIL) for everything else, so
 * Postfix defers that copy and never bounces it on our doubt.  The text
 * on stdout ("4.x.x ...") is what Postfix shows in the queue and the log.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aliasdom.h"
#include "clock.h"
#include "forward.h"
#include "log.h"
#include "mem.h"
#include "ratelimit.h"
#include "child.h"
#include "sendmail.h"

int fwd_ratelimit_key(const char *orig_rcpt, const char *recipient,
                      const char *delims, addr_alias_fn alias, void *ctx,
                      char *key, size_t size, const char **why)
{
    struct addr o, r;

    key[0] = '\0';
    if (orig_rcpt == NULL || orig_rcpt[0] == '\0')
        return 0;
    if (addr_canonical(orig_rcpt, strlen(orig_rcpt), delims,
                       ADDR_NEED_DOMAIN, alias, ctx, &o, why) < 0)
        return -1;
    if (addr_canonical(recipient, strlen(recipient), delims, 0, alias, ctx,
                       &r, why) == 0 && strcmp(o.full, r.full) == 0)
        return 0; /* not an alias expansion: a re-submitted redirect */
    if (rl_key_bound(o.full, key, size) < 0)
        return *why = "the key does not fit the key column", -1;
    return 0;
}

/* db_trouble - the database cannot answer: [forward] ratelimit_fail */
static int db_trouble(const struct fwd_config *cfg, const struct fwd_args *a,
                      const struct str *err, struct str *text)
{
    log_warn("%s: forward to=<%s>: rate limits cannot be checked: %s%s",
             a->queue_id, log_safe_cstr(a->recipient), str_cstr(err),
             cfg->ratelimit_fail == FWD_FAIL_PASS ? "; forwarding anyway "
             "([forward] ratelimit_fail = pass)" : "");
    if (cfg->ratelimit_fail == FWD_FAIL_PASS)
        return FWD_EX_OK;
    str_appendf(text, "4.3.0 forwarding rate limits cannot be checked now");
    return FWD_EX_TEMPFAIL;
}

/* orig_domain - the domain of the original recipient as addr_parse sees
   it (lower-case, no trailing dot), "" when it has none */
static const char *orig_domain(const char *orig)
{
    static struct addr o;
    const char *why;

    if (addr_parse(orig, strlen(orig), NULL, ADDR_NEED_DOMAIN, &o, &why) < 0)
        return "";
    return o.domain;
}

static int check_limit(const struct fwd_config *cfg, const struct fwd_args *a,
                       struct str *text)
{
    struct str err = STR_INIT;
    struct aliasdom ad;
    struct rl_rules *rules = NULL;
    struct rl_verdict v;
    char key[RL_COL_KEY * 4 + 1];
    const char *why = NULL;
    struct db *db;
    int rc = FWD_EX_OK, r;

    if (a->orig_rcpt == NULL || a->orig_rcpt[0] == '\0')
        return FWD_EX_OK;
    db_global_init();
    aliasdom_init(&ad);
    if ((db = db_open(&cfg->db, &err)) == NULL ||
        aliasdom_load_domain(&ad, db, orig_domain(a->orig_rcpt), &err) < 0) {
        rc = db_trouble(cfg, a, &err, text);
        goto out;
    }
    if (fwd_ratelimit_key(a->orig_rcpt, a->recipient,
                          cfg->recipient_delimiter, aliasdom_target, &ad, key,
                          sizeof(key), &why) < 0) {
        log_warn("%s: forward to=<%s>: original recipient <%s>: %s; not "
                 "counted", a->queue_id, log_safe_cstr(a->recipient),
                 log_safe_cstr(a->orig_rcpt), why);
        goto out;
    }
    if (key[0] == '\0')
        goto out;
    rules = xmalloc(sizeof(*rules));
    r = rl_rules_load(db, "forwarder", key, rules, &err);
    if (r == LK_TEMP) {
        rc = db_trouble(cfg, a, &err, text);
        goto out;
    }
    if (r == LK_NOTFOUND)
        goto out;
    r = rl_check(db, rules, key, 1, a->size > 0 ? a->size : 0,
                 (long long)time(NULL), &v, &err);
    if (r < 0) {
        rc = db_trouble(cfg, a, &err, text);
        goto out;
    }
    if (v.warned)
        log_warn("%s: forward ratelimit %s: key %s over %lld per %lld s "
                 "(warn only)", a->queue_id, v.warned->name, key,
                 v.warned->win[v.warned_win].max,
                 v.warned->win[v.warned_win].seconds);
    if (r == 1) {
        log_info("%s: forward ratelimit %s: key %s over %lld per %lld s: "
                 "defer to=<%s>", a->queue_id, v.rule->name, key,
                 v.rule->win[v.win].max, v.rule->win[v.win].seconds,
                 log_safe_cstr(a->recipient));
        str_appendf(text, "4.7.1 %s (forwarding account %s, try again in "
                    "%lld seconds)", v.rule->text[0] ? v.rule->text
                                                     : cfg->ratelimit_text,
                    key, v.retry);
        rc = FWD_EX_TEMPFAIL;
    }
out:
    free(rules);
    aliasdom_free(&ad);
    if (db)
        db_close(db);
    str_free(&err);
    return rc;
}

/* srs_sender - the sender the copy leaves with, in *out */
static void srs_sender(const struct fwd_config *cfg, const struct fwd_args *a,
                       struct str *out)
{
    const char *s = a->sender, *at = strrchr(s, '@'), *why;

    str_reset(out);
    if (s[0] == '\0' || at == NULL ||
        strcasecmp(at + 1, cfg->srs_state->domain) == 0) {
        str_append_cstr(out, s);
        return;
    }
    if (srs_forward(cfg->srs_state, s, strlen(s), time(NULL), out, &why) == 1)
        return;
    log_warn("%s: forward from=<%s>: not SRS-rewritten: %s", a->queue_id,
             log_safe_cstr(s), why);
    str_reset(out);
    str_append_cstr(out, s);
}

/* submit - sendmail -i -f FROM -- TO with our stdin; 0 or -1 + *text */
static int submit(const struct fwd_config *cfg, const char *from,
                  const char *to, struct str *text)
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return str_appendf(text, "4.3.0 fork: %s", strerror(errno)), -1;
    if (pid == 0) {
        (void)setpgid(0, 0);
        sendmail_exec(cfg->sendmail_path, 0, from, to);
    }
    (void)setpgid(pid, pid);
    status = child_reap(pid, clock_ms() + cfg->sendmail_timeout);
    if (status == -2)
        return str_appendf(text, "4.3.0 %s did not finish within [forward] "
                           "sendmail_timeout; killed", cfg->sendmail_path),
               -1;
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return str_appendf(text, "4.3.0 %s exited with status %d",
                           cfg->sendmail_path,
                           status != -1 && WIFEXITED(status)
                               ? WEXITSTATUS(status) : -1), -1;
    return 0;
}

int fwd_run(const struct fwd_config *cfg, const struct fwd_args *a,
            struct str *text)
{
    struct str from = STR_INIT;
    int rc;

    if (cfg->srs_state == NULL) {
        log_error("%s: forward to=<%s>: [maps] srs_domain is empty: SRS is "
                  "off, deferring", a->queue_id, log_safe_cstr(a->recipient));
        str_appendf(text, "4.3.5 SRS is not configured ([maps] srs_domain)");
        return FWD_EX_TEMPFAIL;
    }
    if ((rc = check_limit(cfg, a, text)) != FWD_EX_OK)
        return rc;
    srs_sender(cfg, a, &from);
    if (submit(cfg, str_cstr(&from), a->recipient, text) < 0) {
        log_error("%s: forward from=<%s> to=<%s>: %s", a->queue_id,
                  log_safe_cstr(a->sender), log_safe_cstr(a->recipient),
                  str_cstr(text));
        str_free(&from);
        return FWD_EX_TEMPFAIL;
    }
    log_info("%s: forward from=<%s> srs=<%s> to=<%s> orig_to=<%s>: "
             "re-submitted", a->queue_id, log_safe_cstr(a->sender),
             log_safe_cstr(str_cstr(&from)), log_safe_cstr(a->recipient),
             log_safe_cstr(a->orig_rcpt ? a->orig_rcpt : ""));
    str_appendf(text, "2.0.0 forwarded with sender <%s>", str_cstr(&from));
    str_free(&from);
    return FWD_EX_OK;
}
