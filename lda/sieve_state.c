/*
 * sieve_state - the parts of Sieve in postern-lda that keep state in the
 * database or send mail of their own: vacation replies, enotify mailto
 * notifications, the duplicate test and redirect loop protection.
 *
 * vacation (RFC 5230/6131/3834):
 *   1. the message rules of sieve_vacation_check() with the user's
 *      addresses: the mailbox, the recipient as Postfix gave it (-a /
 *      ORCPT), every active alias whose target is the mailbox
 *      (aliases.source), the mailbox's local part in each alias domain of
 *      its domain, and :addresses;
 *   2. the period: [lda] vacation_min_period <= :days/:seconds (default
 *      vacation_default_period) <= vacation_max_period; one row per
 *      (mailbox, SHA-256 of the handle, sender) in vacation_responses,
 *      claimed atomically (INSERT ... ON DUPLICATE KEY UPDATE only when
 *      the old period expired), so every MX host and LDA process agrees;
 *   3. its From (:from, or the user's address the message named) must be
 *      the mailbox's own (lib/sendas.h: itself, a single-target alias, a
 *      sender grant), else the reply is from the mailbox (logged);
 *   4. the reply (vacation.c) through [lda] sendmail_path with the
 *      envelope sender [lda] vacation_envelope_sender: "null" (<>) or
 *      "recipient" (the mailbox).  If sendmail fails the claim is removed
 *      so the next message gets a reply.
 *   A database error (or no database: [lda] lookup = maps without
 *   [database]) means no reply (logged): never a duplicate reply, never a
 *   delayed delivery.  Expired rows are pruned after a reply.
 *
 * enotify mailto (RFC 5436): not sent for a message with Auto-Submitted
 * other than "no" (2.7); the envelope sender is <>; a :from that is not
 * the mailbox's own (own_from) is replaced by the mailbox address.
 *
 * Sending bound (sieve_lda_send_claim): every mail the scripts make
 * postern-lda send (a redirect, each recipient of a notification, a
 * vacation reply) takes one of [lda] sieve_send_max_per_message for the
 * delivery and one of [lda] sieve_send_max_per_period for the mailbox in
 * the current window of sieve_send_period seconds (a row of sieve_sends,
 * claimed atomically: INSERT ... ON DUPLICATE KEY UPDATE only below the
 * limit, so every MX host and LDA process counts on one row; fixed
 * windows, so up to twice the limit can pass around a window's edge).
 * All sends of a delivery must finish within sieve_send_timeout.  Over a
 * bound: no mail (the redirect keeps the message instead), the first
 * refusal logged, the count in one summary line.  Without a database
 * only the per-message bound and the timeout apply; a database error
 * refuses the send.
 *
 * Forwarding rate limits (sieve_lda_forward_limit, and in
 * sieve_lda_send_claim): rules of ratelimit_rules key type forwarder
 * count what the scripts send against the mailbox (its canonical
 * address), with postern-policyd's exact sliding windows
 * (lib/ratelimit.c), as postern-forward counts alias forwards.
 * Redirects are counted before any action of the result is carried out:
 * over a limit (or a database error) the whole delivery is deferred
 * (EX_TEMPFAIL / 4xx, nothing stored, nothing sent), and Postfix retries
 * it; a redirect that already happened is not counted again (the
 * redirect loop state).  A retry after a later temporary failure counts
 * again: more than sent, never fewer.  Notifications and vacation replies
 * over a limit are not sent (logged), as for the other sending bounds:
 * the message itself is delivered (docs/sieve.md).  Without a database
 * (lookup = maps) nothing is counted.
 *
 * duplicate (RFC 7352) and redirects: sieve_duplicates rows, one per
 * (mailbox, SHA-256 of handle + id).  A redirect is remembered under
 * "redirect" + target + Message-ID for [lda] sieve_duplicate_period.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "sieve_bridge.h"
#include "mailbox_meta.h"
#include "clock.h"
#include "dbtext.h"
#include "log.h"
#include "mem.h"
#include "ratelimit.h"
#include "sendas.h"

#define OWN_MAX 200   /* aliases counted as the user's addresses */

void sieve_sha256_hex(const char *s, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!EVP_Digest(s, n, md, &len, EVP_sha256(), NULL))
        len = 0;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < len ? md[i] : 0);
    out[64] = '\0';
}

struct own_list {
    struct arena *a;
    const char **v;
    size_t n;
};

static void own_add(struct own_list *o, const char *s, size_t len)
{
    if (o->n < OWN_MAX)
        o->v[o->n++] = arena_strndup(o->a, s, len);
}

static int own_row(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    if (ncols >= 1 && vals[0])
        own_add(ctx, vals[0], lens[0]);
    return 0;
}

/* the user's addresses; LK_FOUND or LK_TEMP */
static int own_addresses(const struct sieve_lda_run *run, struct own_list *o,
                         struct str *err)
{
    const char *addr = run->mb->address, *at = strrchr(addr, '@');
    struct db_param p[2];

    own_add(o, addr, strlen(addr));
    if (run->env->recipient)
        own_add(o, run->env->recipient, strlen(run->env->recipient));
    if (run->ctx->db == NULL || at == NULL)
        return LK_FOUND;
    p[0] = DBP_S(addr);
    if (db_query(run->ctx->db, "SELECT source FROM aliases WHERE target = ? "
                 "AND active = 1 AND local_part IS NOT NULL LIMIT 200", p, 1,
                 own_row, o, err) < 0)
        return LK_TEMP;
    p[0] = DBP_SN(addr, (size_t)(at - addr + 1));
    p[1] = DBP_S(at + 1);
    if (db_query(run->ctx->db, "SELECT CONCAT(?, name) FROM domains WHERE "
                 "kind = 'alias' AND alias_target = ? LIMIT 200", p, 2,
                 own_row, o, err) < 0)
        return LK_TEMP;
    return LK_FOUND;
}

/* lower_copy - s lower-cased, bounded to vacation_responses.sender
   (VARCHAR(320), utf8mb4): a sender that is not UTF-8 is canonicalised
   (lib/dbtext.h), never refused by the database */
static void lower_copy(char *out, size_t size, const char *s)
{
    char low[ADDR_MAX + 1];
    size_t i = 0;

    for (; s[i] && i + 1 < sizeof(low); i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    low[i] = '\0';
    if (dbtext_bound(out, size, low, i, 320) < 0)
        snprintf(out, size, "%s", low);
}

/* claim the period: 1 claimed (send), 0 already replied, -1 error */
static int vacation_claim(const struct sieve_lda_run *run, const char *hash,
                          const char *sender, long long now,
                          long long period, struct str *err)
{
    unsigned long long affected = 0;
    struct db_param p[5];

    if (period <= 0)
        return 1;
    p[0] = DBP_S(run->mb->address);
    p[1] = DBP_S(hash);
    p[2] = DBP_S(sender);
    p[3] = DBP_I(now);
    p[4] = DBP_I(now + period);
    if (db_exec(run->ctx->db,
                "INSERT INTO vacation_responses (recipient, handle, sender, "
                "sent_at, expires_at) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY "
                "UPDATE sent_at = IF(expires_at <= VALUES(sent_at), "
                "VALUES(sent_at), sent_at), expires_at = IF(expires_at <= "
                "VALUES(sent_at), VALUES(expires_at), expires_at)",
                p, 5, &affected, err) < 0)
        return -1;
    return affected > 0;
}

static void vacation_release(const struct sieve_lda_run *run,
                             const char *hash, const char *sender,
                             long long now)
{
    struct str err = STR_INIT;
    struct db_param p[4] = {DBP_S(run->mb->address), DBP_S(hash),
                            DBP_S(sender), DBP_I(now)};

    if (db_exec(run->ctx->db, "DELETE FROM vacation_responses WHERE "
                "recipient = ? AND handle = ? AND sender = ? AND sent_at = ?",
                p, 4, NULL, &err) < 0)
        log_warn("to=<%s>: vacation: %s", run->mb->address, str_cstr(&err));
    str_free(&err);
}

static void vacation_prune(const struct sieve_lda_run *run, long long now)
{
    struct str err = STR_INIT;
    struct db_param p[1] = {DBP_I(now)};

    (void)db_exec(run->ctx->db, "DELETE FROM vacation_responses WHERE "
                  "expires_at < ? LIMIT 100", p, 1, NULL, &err);
    str_free(&err);
}

/*
 * own_from - is f ("Name <addr>" or an address) one of the mailbox's own
 * addresses as lib/sendas.h defines them (itself in any spelling, a
 * single-target alias of it, a sender grant)?  A script sends vacation
 * replies and notifications only in the mailbox's own name.  LK_FOUND,
 * LK_NOTFOUND (also: not an address, or no database to ask), LK_TEMP
 * (+ *err).
 */
static int own_from(const struct sieve_lda_run *run, const char *f,
                    struct str *err)
{
    const char *lt, *why = NULL;
    struct sendas_backend be;
    struct addr a;
    size_t len = strlen(f);
    int rc;

    if (run->ctx->db == NULL)
        return LK_NOTFOUND;
    if ((lt = strrchr(f, '<')) != NULL) { /* "Name <addr>" */
        const char *gt = strchr(lt, '>');
        f = lt + 1;
        len = gt ? (size_t)(gt - f) : strlen(f);
    }
    rc = sendas_canonical_db(run->ctx->db, f, len,
                             run->ctx->cfg->recipient_delimiter, &a, &why,
                             err);
    if (rc != LK_FOUND)
        return rc;
    be = sendas_backend_db(run->ctx->db);
    return sendas_owns(&be, run->mb->address, &a, err);
}

/* vacation_from - the reply's From (:from, else the user's address the
   message named, vacation.c) that is not the mailbox's own is dropped:
   the reply is from the mailbox (logged).  0, or -1 + *err (no reply) */
static int vacation_from(const struct sieve_lda_run *run,
                         struct sieve_vacation *v, struct str *err)
{
    const char *f = v->from ? v->from : v->reply_from;
    int rc;

    if (f == NULL)
        return 0;
    if ((rc = own_from(run, f, err)) < 0)
        return -1;
    if (rc == LK_NOTFOUND) {
        log_warn("to=<%s>: vacation: From %s is not one of the mailbox's "
                 "addresses: the reply is from <%s>", run->mb->address,
                 log_safe_cstr(f), run->mb->address);
        v->from = NULL;
        v->reply_from = NULL;
    }
    return 0;
}

static struct sieve_vacation_policy policy(const struct lda_config *cfg)
{
    struct sieve_vacation_policy p = {cfg->vacation_min_period / 1000,
                                      cfg->vacation_default_period / 1000,
                                      cfg->vacation_max_period / 1000};
    return p;
}

void sieve_lda_vacation(const struct sieve_lda_run *run,
                        struct sieve_vacation *v)
{
    const struct lda_config *cfg = run->ctx->cfg;
    struct sieve_vacation_policy pol = policy(cfg);
    struct arena a = {0};
    struct own_list o = {&a, NULL, 0};
    struct str err = STR_INIT, msg = STR_INIT;
    const char *who = run->mb->address, *from = run->sm->env_from;
    char hash[65], sender[ADDR_MAX + 1];
    long long now = (long long)time(NULL);
    int rc;

    o.v = arena_alloc(&a, OWN_MAX * sizeof(char *));
    v->effective = sieve_vacation_period(v, &pol);
    if (run->ctx->db == NULL) {
        log_warn("to=<%s>: vacation: no reply: no database connection "
                 "(vacation needs [database] for its periods)", who);
        goto out;
    }
    if (own_addresses(run, &o, &err) < 0) {
        log_warn("to=<%s>: vacation: no reply: %s", who, str_cstr(&err));
        goto out;
    }
    v->suppressed = sieve_vacation_check(run->sm, v, o.v, o.n);
    if (v->suppressed) {
        log_info("to=<%s>: vacation: no reply to <%s>: %s", who,
                 log_safe_cstr(from ? from : ""), v->suppressed);
        goto out;
    }
    if (strlen(from) > ADDR_MAX) {
        log_warn("to=<%s>: vacation: sender address too long", who);
        goto out;
    }
    if (vacation_from(run, v, &err) < 0) {
        log_warn("to=<%s>: vacation: no reply: %s", who, str_cstr(&err));
        goto out;
    }
    lower_copy(sender, sizeof(sender), from);
    sieve_sha256_hex(v->handle, strlen(v->handle), hash);
    if ((rc = vacation_claim(run, hash, sender, now, v->effective,
                             &err)) < 0) {
        log_warn("to=<%s>: vacation: no reply: %s", who, str_cstr(&err));
        goto out;
    }
    if (rc == 0) {
        log_info("to=<%s>: vacation: <%s> already got a reply in this period",
                 who, log_safe_cstr(sender));
        goto out;
    }
    if (!sieve_lda_send_claim(run, "vacation", from)) {
        if (v->effective > 0)
            vacation_release(run, hash, sender, now);
        goto out;
    }
    sieve_vacation_compose(run->sm, v, who, run->ctx->hostname, &msg);
    if (sieve_lda_sendmail(run->ctx,
                           cfg->vacation_envelope_sender ? who : "", from,
                           &msg, NULL, run->sends->deadline, &err) < 0) {
        log_error("to=<%s>: vacation reply to <%s>: %s", who,
                  log_safe_cstr(from), str_cstr(&err));
        if (v->effective > 0)
            vacation_release(run, hash, sender, now);
        goto out;
    }
    log_info("to=<%s>: vacation: replied to <%s> (period %llds)", who,
             log_safe_cstr(from), v->effective);
    if (v->fcc)     /* fcc (RFC 8580): mailbox_meta.c */
        mbmeta_fcc(run, v->fcc, &msg);
    vacation_prune(run, now);
out:
    str_free(&err);
    str_free(&msg);
    arena_free(&a);
}

void sieve_lda_notify(const struct sieve_lda_run *run,
                      const struct sieve_notify *n)
{
    struct str msg = STR_INIT, to = STR_INIT, err = STR_INIT, as = STR_INIT;
    const char *who = run->mb->address;
    struct sieve_notify own = *n;
    int sent = 0, rc;

    if (sieve_header_first(run->sm, "Auto-Submitted", &as) &&
        strncasecmp(str_cstr(&as), "no", 2) != 0) {
        log_info("to=<%s>: notify: not for an auto-submitted message", who);
        goto out;
    }
    if (n->from && (rc = own_from(run, n->from, &err)) != LK_FOUND) {
        if (rc < 0) {
            log_warn("to=<%s>: notify: not sent: %s", who, str_cstr(&err));
            goto out;
        }
        log_warn("to=<%s>: notify: From %s is not one of the mailbox's "
                 "addresses: sent from <%s>", who, log_safe_cstr(n->from),
                 who);
        own.from = NULL;
    }
    if (sieve_notify_compose(run->sm, &own, who, run->ctx->hostname, &msg,
                             &to) < 0) {
        log_warn("to=<%s>: notify: unusable method %s", who,
                 log_safe_cstr(n->method));
        goto out;
    }
    for (const char *p = str_cstr(&to); *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        char rcpt[ADDR_MAX + 1];
        if (len > 0 && len <= ADDR_MAX) {
            memcpy(rcpt, p, len);
            rcpt[len] = '\0';
            str_reset(&err);
            if (!sieve_lda_send_claim(run, "notify", rcpt)) {
                p += len + (c != NULL);     /* refused (logged) */
                continue;
            }
            if (sieve_lda_sendmail(run->ctx, "", rcpt, &msg, NULL,
                                   run->sends->deadline, &err) < 0)
                log_error("to=<%s>: notify <%s>: %s", who,
                          log_safe_cstr(rcpt), str_cstr(&err));
            else {
                log_info("to=<%s>: notify: sent to <%s>", who,
                         log_safe_cstr(rcpt));
                sent++;
            }
        }
        p += len + (c != NULL);
    }
    if (n->fcc && sent)     /* fcc (RFC 8580): mailbox_meta.c */
        mbmeta_fcc(run, n->fcc, &msg);
out:
    str_free(&msg);
    str_free(&to);
    str_free(&err);
    str_free(&as);
}

/* --- the sending bound ------------------------------------------------- */

/* one more mail in the mailbox's current window; LK_FOUND counted,
   LK_NOTFOUND over the limit, LK_TEMP database error */
static int period_claim(const struct sieve_lda_run *run, struct str *err)
{
    const struct lda_config *cfg = run->ctx->cfg;
    long long now = (long long)time(NULL);
    long long period = cfg->sieve_send_period / 1000;
    long long start = now - now % (period > 0 ? period : 1);
    unsigned long long affected = 0;
    struct db_param p[3] = {DBP_S(run->mb->address), DBP_I(start),
                            DBP_I(cfg->sieve_send_max_per_period)};

    if (db_exec(run->ctx->db,
                "INSERT INTO sieve_sends (mailbox, window_start, sent) "
                "VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE sent = IF(sent < "
                "?, sent + 1, sent)", p, 3, &affected, err) < 0)
        return LK_TEMP;
    if (affected == 1) {   /* a new window: prune the old ones */
        struct db_param q[1] = {DBP_I(start - period)};
        struct str e2 = STR_INIT;
        (void)db_exec(run->ctx->db, "DELETE FROM sieve_sends WHERE "
                      "window_start < ? LIMIT 100", q, 1, NULL, &e2);
        str_free(&e2);
    }
    return affected > 0 ? LK_FOUND : LK_NOTFOUND;
}

/* forwarder_count - count n sends (size bytes each) of the mailbox
   against the forwarder rules: 1 over (*v), 0 within or no rule,
   LK_TEMP (+ *err) */
static int forwarder_count(const struct sieve_lda_run *run, long long n,
                           long long size, struct rl_rules *rules,
                           struct rl_verdict *v, char *key, size_t keysize,
                           struct str *err)
{
    int rc;

    memset(v, 0, sizeof(*v));
    if (run->ctx->db == NULL || rl_key_bound(run->mb->address, key,
                                             keysize) < 0)
        return 0;
    rc = rl_rules_load(run->ctx->db, "forwarder", key, rules, err);
    if (rc != LK_FOUND)
        return rc;
    rc = rl_check(run->ctx->db, rules, key, n, n * size,
                  (long long)time(NULL), v, err);
    if (v->warned)
        log_warn("to=<%s>: sieve: forward ratelimit %s: key %s over %lld "
                 "per %lld s (warn only)", run->mb->address, v->warned->name,
                 key, v->warned->win[v->warned_win].max,
                 v->warned->win[v->warned_win].seconds);
    return rc;
}

int sieve_lda_forward_limit(const struct sieve_lda_run *run,
                            struct lda_msg *m, const struct sieve_result *sr,
                            struct lda_result *res)
{
    struct rl_rules *rules;
    struct rl_verdict v;
    struct str err = STR_INIT;
    char key[RL_COL_KEY * 4 + 1];
    long long n = 0;
    int rc;

    for (size_t i = 0; i < sr->n; i++)
        if (sr->acts[i].kind == SIEVE_ACT_REDIRECT &&
            sieve_lda_redirect_loop(run, m, sr->acts[i].arg) == NULL)
            n++; /* only what would be sent (not done before) */
    if (n == 0 || run->ctx->db == NULL)
        return 0;
    rules = xmalloc(sizeof(*rules));
    rc = forwarder_count(run, n, (long long)m->size, rules, &v, key,
                         sizeof(key), &err);
    if (rc == LK_TEMP) {
        log_warn("to=<%s>: sieve: forwarding rate limits cannot be checked: "
                 "%s; deferring the delivery", run->mb->address,
                 str_cstr(&err));
        lda_result_set(res, LDA_TEMP, "<%s>: forwarding rate limits cannot "
                       "be checked now", run->mb->address);
    } else if (rc == 1) {
        log_info("to=<%s>: sieve: forward ratelimit %s: key %s over %lld per "
                 "%lld s: %lld redirect(s) deferred", run->mb->address,
                 v.rule->name, key, v.rule->win[v.win].max,
                 v.rule->win[v.win].seconds, n);
        lda_result_set(res, LDA_TEMP, "<%s>: %s (Sieve redirect, try again "
                       "in %lld seconds)", run->mb->address,
                       v.rule->text[0] ? v.rule->text
                                       : "Forwarding rate limit exceeded",
                       v.retry);
    }
    free(rules);
    str_free(&err);
    return rc == 0 ? 0 : -1;
}

static int refuse(const struct sieve_lda_run *run, const char *what,
                  const char *to, const char *why)
{
    struct sieve_send_budget *b = run->sends;

    if (b->skipped++ == 0) {
        b->why = why;
        log_warn("to=<%s>: sieve: %s to <%s> not sent: %s", run->mb->address,
                 what, log_safe_cstr(to), why);
    }
    return 0;
}

int sieve_lda_send_claim(const struct sieve_lda_run *run, const char *what,
                         const char *to)
{
    const struct lda_config *cfg = run->ctx->cfg;
    struct sieve_send_budget *b = run->sends;
    struct str err = STR_INIT;
    int rc;

    if (b->left <= 0)
        return refuse(run, what, to, "over [lda] sieve_send_max_per_message");
    if (b->deadline && clock_ms() >= b->deadline)
        return refuse(run, what, to, "[lda] sieve_send_timeout is spent");
    if (cfg->sieve_send_max_per_period > 0 && run->ctx->db) {
        rc = period_claim(run, &err);
        if (rc == LK_TEMP)
            log_warn("to=<%s>: sieve: cannot count sends: %s",
                     run->mb->address, str_cstr(&err));
        str_free(&err);
        if (rc == LK_TEMP)
            return refuse(run, what, to, "the database cannot count it");
        if (rc == LK_NOTFOUND)
            return refuse(run, what, to, "over [lda] "
                          "sieve_send_max_per_period");
    }
    if (strcmp(what, "redirect") != 0 && run->ctx->db) {
        /* notify, vacation: redirects were counted before the actions */
        struct rl_rules *rules = xmalloc(sizeof(*rules));
        struct rl_verdict v;
        char key[RL_COL_KEY * 4 + 1];
        rc = forwarder_count(run, 1, 0, rules, &v, key, sizeof(key), &err);
        if (rc == LK_TEMP)
            log_warn("to=<%s>: sieve: cannot count %s against forwarding "
                     "rate limits: %s", run->mb->address, what,
                     str_cstr(&err));
        else if (rc == 1)
            log_info("to=<%s>: sieve: forward ratelimit %s: key %s over "
                     "%lld per %lld s: %s not sent", run->mb->address,
                     v.rule->name, key, v.rule->win[v.win].max,
                     v.rule->win[v.win].seconds, what);
        free(rules);
        str_free(&err);
        if (rc == LK_TEMP)
            return refuse(run, what, to, "the database cannot count it");
        if (rc == 1)
            return refuse(run, what, to, "over a forwarding rate limit");
    }
    b->left--;
    return 1;
}

void sieve_lda_send_summary(const struct sieve_lda_run *run)
{
    const struct sieve_send_budget *b = run->sends;

    if (b->skipped > 1)
        log_warn("to=<%s>: sieve: %lu mails of redirect, notify or vacation "
                 "not sent (first: %s)", run->mb->address, b->skipped,
                 b->why);
}

/* --- duplicate ids ------------------------------------------------------ */

struct dup_ctx {
    const struct sieve_lda_run *run;
};

static int seen_row(void *ctx, unsigned ncols, char **vals,
                    const unsigned long *lens)
{
    (void)ctx, (void)ncols, (void)vals, (void)lens;
    return 1;
}

static int dup_seen(const struct sieve_lda_run *run, const char *id,
                    size_t len)
{
    struct str err = STR_INIT;
    char hash[65];
    struct db_param p[3];
    int rc;

    if (run->ctx->db == NULL)
        return LK_NOTFOUND;
    sieve_sha256_hex(id, len, hash);
    p[0] = DBP_S(run->mb->address);
    p[1] = DBP_S(hash);
    p[2] = DBP_I((long long)time(NULL));
    rc = db_query(run->ctx->db, "SELECT 1 FROM sieve_duplicates WHERE "
                  "mailbox = ? AND id_hash = ? AND expires_at > ?", p, 3,
                  seen_row, NULL, &err);
    if (rc < 0)
        log_warn("to=<%s>: sieve duplicate: %s", run->mb->address,
                 str_cstr(&err));
    str_free(&err);
    return rc < 0 ? LK_TEMP : rc == LK_FOUND ? LK_FOUND : LK_NOTFOUND;
}

static void dup_store(const struct sieve_lda_run *run, const char *id,
                      size_t len, long long seconds)
{
    struct str err = STR_INIT;
    long long now = (long long)time(NULL);
    char hash[65];
    struct db_param p[4];

    if (run->ctx->db == NULL)
        return;
    sieve_sha256_hex(id, len, hash);
    p[0] = DBP_S(run->mb->address);
    p[1] = DBP_S(hash);
    p[2] = DBP_I(now);
    p[3] = DBP_I(now + seconds);
    if (db_exec(run->ctx->db, "INSERT INTO sieve_duplicates (mailbox, "
                "id_hash, seen_at, expires_at) VALUES (?, ?, ?, ?) ON "
                "DUPLICATE KEY UPDATE seen_at = VALUES(seen_at), expires_at "
                "= VALUES(expires_at)", p, 4, NULL, &err) < 0)
        log_warn("to=<%s>: sieve duplicate: %s", run->mb->address,
                 str_cstr(&err));
    str_free(&err);
}

int sieve_lda_duplicate(void *ctx, const char *id, size_t len,
                        long long seconds, int last)
{
    (void)seconds, (void)last;
    return dup_seen(ctx, id, len);
}

void sieve_lda_duplicate_commit(const struct sieve_lda_run *run,
                                const struct sieve_result *r)
{
    for (size_t i = 0; i < r->ndups; i++)
        if (!r->dups[i].seen || r->dups[i].last)
            dup_store(run, r->dups[i].id, r->dups[i].len,
                      r->dups[i].seconds);
}

static void redirect_id(const struct sieve_lda_run *run, const char *to,
                        struct str *id)
{
    struct str mid = STR_INIT;

    sieve_header_first(run->sm, "Message-ID", &mid);
    str_appendf(id, "redirect%c%s%c", 0, to, 0);
    str_append(id, mid.data ? mid.data : "", mid.len);
    str_free(&mid);
}

const char *sieve_lda_redirect_loop(const struct sieve_lda_run *run,
                                    struct lda_msg *m, const char *to)
{
    struct str id = STR_INIT, mid = STR_INIT;
    int seen = 0;

    if (lda_header_has_value(m, "Delivered-To", to))
        return "the message was delivered to that address before "
               "(Delivered-To)";
    if (lda_header_has_value(m, "X-Loop", to))
        return "X-Loop names that address";
    if (sieve_header_first(run->sm, "Message-ID", &mid) && mid.len) {
        redirect_id(run, to, &id);
        seen = dup_seen(run, id.data, id.len) == LK_FOUND;
    }
    str_free(&id);
    str_free(&mid);
    return seen ? "this mailbox redirected the same message there before"
                : NULL;
}

void sieve_lda_redirect_done(const struct sieve_lda_run *run,
                             const char *to)
{
    struct str id = STR_INIT, mid = STR_INIT;

    if (sieve_header_first(run->sm, "Message-ID", &mid) && mid.len) {
        redirect_id(run, to, &id);
        dup_store(run, id.data, id.len,
                  run->ctx->cfg->sieve_duplicate_period / 1000);
    }
    str_free(&id);
    str_free(&mid);
}
