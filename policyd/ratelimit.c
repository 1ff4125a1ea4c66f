/*
 * ratelimit - rate limits with exact sliding windows, shared by every
 * policyd instance through MariaDB.
 *
 * A rule (ratelimit_rules) counts per key: SASL login, sender address,
 * sender domain, client address (masked to the rule's prefixes) or
 * recipient; optionally only one key (match_value) or only keys in a policy
 * group.  It counts messages (once per message, at its first accepted
 * recipient), recipients (every RCPT) or bytes (the size Postfix reports at
 * END-OF-MESSAGE; at RCPT a key already at its byte limit is refused early).
 * Each rule has one or more windows (ratelimit_windows: "100 per 3600 s and
 * 500 per 86400 s"), each with per-key overrides (ratelimit_overrides,
 * NULL = unlimited).
 *
 * Algorithm: an exact sliding window over one-second buckets
 * (ratelimit_events).  For one rule and key, a transaction locks the key's
 * row in ratelimit_keys (so instances on several hosts serialise on the
 * same key, and only on it), sums the buckets inside each window, and adds
 * the amount only when every window stays within its limit: mail that is
 * refused is not counted.  Rules with action warn count and only log.
 * After a deadlock or a lost connection the transaction runs again as a
 * whole (db_transaction, RL_TX_TRIES times), never one statement of it.
 * The counts of requests that arrive together share one transaction
 * (lib/gcommit, group commit): its keys are locked in (rule, key) order,
 * each count then sums and adds in the order it arrived, and its verdict
 * counts only once the transaction committed.  One COMMIT (one fsync, one
 * Galera certification) serves them all; a batch that fails for good runs
 * each count alone.
 *
 * Over a limit: defer (450 4.7.1 with the time until the window has room),
 * reject (550 5.7.1), HOLD (the message is accepted and held in the queue)
 * or warn.  Of several exceeded rules, the first in priority order decides.
 * Database trouble: PV_TEMP.
 *
 * Keys are bounded to the key_value column (PD_COL_ADDR characters, UTF-8)
 * before they are used (lib/dbtext.h): a longer or non-UTF-8 login or
 * address is canonicalised (leading part and a hash of the whole), so it
 * is still counted, and never refused by the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbtext.h"
#include "gcommit.h"
#include "log.h"
#include "policyd.h"

/* The key's row always changes (last_seen alternates between now and
   now + 1 within one second): on a Galera cluster a row lock is local to
   its node, and only a real change of the row makes a concurrent count of
   the same key on another node conflict (certification, or the applier
   aborting the holder of the lock).  An unchanged row would let two nodes
   both read the sum and both add: one over the limit (tests/galera). */
static const char SQL_KEY[] =
    "INSERT INTO ratelimit_keys (rule_id, key_value, first_seen, last_seen)"
    " VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_seen ="
    " IF(last_seen = VALUES(last_seen), VALUES(last_seen) + 1,"
    " VALUES(last_seen))";
static const char SQL_SUM[] =
    "SELECT COALESCE(SUM(amount), 0), MIN(bucket) FROM ratelimit_events"
    " WHERE rule_id = ? AND key_value = ? AND bucket > ?";
static const char SQL_ADD[] =
    "INSERT INTO ratelimit_events (rule_id, key_value, bucket, amount)"
    " VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount)";

struct sum {
    long long total, oldest;
};

static int sum_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct sum *s = ctx;

    (void)l;
    if (n >= 2) {
        s->total = v[0] ? strtoll(v[0], NULL, 10) : 0;
        s->oldest = v[1] ? strtoll(v[1], NULL, 10) : 0;
    }
    return 1;
}

/* rule_key - the key this request has for rule rl; 0 or -1 (no key) */
static int rule_key(struct pd_eval *e, const struct pd_rl_rule *rl,
                    char *key, size_t size)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *v = NULL;
    char low[PD_VALUE_MAX + 1];

    switch (rl->key) {
    case RK_LOGIN: v = e->login; break;
    case RK_SENDER: v = e->sender.full; break;
    case RK_SENDER_DOMAIN: v = e->sender.has_domain ? e->sender.domain : ""; break;
    case RK_RECIPIENT: v = e->rcpt.full; break; /* "" after RCPT when
                                                   the message has several */
    case RK_CLIENT:
        if (rl->match && !cidr_contains(&rl->match_net, client))
            return -1;
        return cidr_mask(client, rl->v4prefix, rl->v6prefix, key, size);
    }
    if (v == NULL || v[0] == '\0' ||
        str_copy_bounded(low, sizeof(low), v, strlen(v)) < 0)
        return -1;
    str_lower(low, strlen(low));
    if (dbtext_bound(key, size, low, strlen(low), PD_COL_ADDR) < 0)
        return -1;
    if (rl->match && strcmp(rl->match, key) != 0)
        return -1;
    return 0;
}

static long long limit_for(const struct pd_rules *r,
                           const struct pd_rl_rule *rl, int w, const char *key)
{
    char k[ADDR_MAX + 64];
    const struct pd_override *o;

    snprintf(k, sizeof(k), "%u/%lld/%s", rl->id, rl->win[w].seconds, key);
    o = strmap_get(&r->overrides, k);
    return o ? o->max : rl->win[w].max;
}

/* One count: a rule, a key and an amount, from one request.  Counts of
   many requests share a transaction (lib/gcommit): one COMMIT for all of
   them. */
struct rl_item {
    struct gcommit_item base;    /* base.rc: 1 over a limit, 0 within */
    const struct pd_rules *rules;
    const struct pd_rl_rule *rl;
    const char *key;
    long long now, amount;
    int win;                 /* out: the window over its limit */
    long long retry;         /* out: seconds until that window has room */
};

#define RL_TX_TRIES 3        /* whole-transaction runs after a deadlock or
                                a lost connection */

static int item_cmp(const void *a, const void *b)
{
    const struct rl_item *x = *(struct rl_item *const *)a;
    const struct rl_item *y = *(struct rl_item *const *)b;

    if (x->rl->id != y->rl->id)
        return x->rl->id < y->rl->id ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* lock_keys - lock the rows of every key of the batch, in (rule, key)
   order, so that batches on several hosts never wait on each other in a
   circle; 0 or LK_TEMP */
static int lock_keys(struct db *db, struct gcommit_item **items, size_t n,
                     struct str *err)
{
    struct rl_item *sorted[GCOMMIT_BATCH_MAX];

    for (size_t i = 0; i < n; i++)
        sorted[i] = (struct rl_item *)items[i];
    qsort(sorted, n, sizeof(sorted[0]), item_cmp);
    for (size_t i = 0; i < n; i++) {
        struct rl_item *c = sorted[i];
        long long now = c->now;

        if (i > 0 && item_cmp(&sorted[i - 1], &sorted[i]) == 0)
            continue;
        for (size_t j = i + 1; j < n && item_cmp(&sorted[j], &sorted[i]) == 0; j++)
            if (sorted[j]->now > now)
                now = sorted[j]->now;
        struct db_param kp[] = {DBP_I(c->rl->id), DBP_S(c->key), DBP_I(now),
                                DBP_I(now)};
        if (db_exec(db, SQL_KEY, kp, 4, NULL, err) < 0)
            return LK_TEMP;
    }
    return 0;
}

/* count_item - sum the windows of one count and add it when it stays
   within them (a warn rule adds always): sets c->base.rc to 1 over a
   limit, 0 within; 0 or LK_TEMP.  Counts of one key in one batch run in
   the order they arrived, each seeing the ones before. */
static int count_item(struct db *db, struct rl_item *c, struct str *err)
{
    const struct pd_rl_rule *rl = c->rl;
    int over = 0;

    c->win = 0;
    c->retry = 0;
    for (int w = 0; w < rl->nwin; w++) {
        long long lim = limit_for(c->rules, rl, w, c->key);
        struct sum s = {0, 0};
        struct db_param sp[] = {DBP_I(rl->id), DBP_S(c->key),
                                DBP_I(c->now - rl->win[w].seconds)};
        if (lim < 0)
            continue; /* unlimited for this key */
        if (db_query(db, SQL_SUM, sp, 3, sum_row, &s, err) == LK_TEMP)
            return LK_TEMP;
        if (c->amount > 0 ? s.total + c->amount > lim : s.total >= lim) {
            over = 1;
            c->win = w;
            c->retry = s.oldest ? s.oldest + rl->win[w].seconds - c->now + 1 : 1;
            if (c->retry < 1)
                c->retry = 1;
            break;
        }
    }
    if (c->amount > 0 && (!over || rl->action == RL_WARN)) {
        struct db_param ap[] = {DBP_I(rl->id), DBP_S(c->key), DBP_I(c->now),
                                DBP_I(c->amount)};
        if (db_exec(db, SQL_ADD, ap, 4, NULL, err) < 0)
            return LK_TEMP;
    }
    c->base.rc = over;
    return 0;
}

/* count_batch - the transaction of a batch of counts (a gcommit body):
   lock every key, then count each; 0 or LK_TEMP */
static int count_batch(struct db *db, struct gcommit_item **items, size_t n,
                       void *ctx, struct str *err)
{
    (void)ctx;
    if (lock_keys(db, items, n, err) < 0)
        return LK_TEMP;
    for (size_t i = 0; i < n; i++)
        if (count_item(db, (struct rl_item *)items[i], err) < 0)
            return LK_TEMP;
    return 0;
}

struct gcommit *pd_ratelimit_counter_new(void)
{
    return gcommit_new(count_batch, NULL, RL_TX_TRIES);
}

/* count_one - count amount for rule rl and key in a shared transaction
   (run again as a whole after a deadlock or a lost connection, never a
   statement alone: the row lock on the key is what makes the count exact
   across hosts): 1 over a limit (*win, *retry set), 0 within, -1 database
   trouble */
static int count_one(struct pd_eval *e, const struct pd_rl_rule *rl,
                     const char *key, long long amount, int *win,
                     long long *retry)
{
    struct rl_item c = {{NULL, &e->err, 0, 0}, e->rules, rl, key,
                        (long long)e->now, amount, 0, 0};
    int rc = gcommit_run(e->w->counter, e->w->db, &c.base);

    if (rc < 0)
        return -1;
    *win = c.win;
    *retry = c.retry;
    return rc;
}

static int counted(struct pd_msgstate *ms, size_t i, int set)
{
    size_t byte = i / 8;

    if (byte >= sizeof(ms->counted))
        return 0; /* beyond the bitmap: counted per recipient */
    if (set)
        ms->counted[byte] |= (unsigned char)(1u << (i % 8));
    return (ms->counted[byte] >> (i % 8)) & 1;
}

int check_ratelimit(struct pd_eval *e, int stage, int main)
{
    const struct pd_rules *r = e->rules;
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));
    long long size = strtoll(preq_get(e->req, A_SIZE), NULL, 10);
    long long nrcpt = strtoll(preq_get(e->req, A_RECIPIENT_COUNT), NULL, 10);

    for (size_t i = 0; i < r->nrl; i++) {
        const struct pd_rl_rule *rl = &r->rl[i];
        char key[ADDR_MAX + 1];
        long long amount, retry = 0;
        int w = 0, rc;

        if (rule_key(e, rl, key, sizeof(key)) < 0)
            continue;
        if (rl->group) {
            if ((rc = pd_group_has(e, rl->group, key)) < 0)
                return PV_TEMP;
            if (rc == 0)
                continue;
        }
        if (rl->counts == RC_BYTES)
            /* counted at END-OF-MESSAGE; earlier, a key already at its
               limit is refused */
            amount = stage == ST_EOM ? (size > 0 ? size : 0) : 0;
        else if (stage != main)
            continue; /* messages and recipients count at one stage */
        else if (rl->counts == RC_MESSAGES && counted(e->ms, i, 0))
            continue; /* this message passed this rule already */
        else if (rl->counts == RC_MESSAGES)
            amount = 1;
        else /* recipients: one per RCPT, or all of them after RCPT */
            amount = stage == ST_RCPT ? 1 : (nrcpt > 0 ? nrcpt : 1);
        if (stage == ST_EOM && amount == 0)
            continue;
        rc = count_one(e, rl, key, amount, &w, &retry);
        if (rc < 0)
            return PV_TEMP;
        if (rc == 0 || rl->action == RL_WARN) {
            if (rc == 1)
                log_warn("%s: ratelimit %s: key %s over %lld per %lld s "
                         "(warn only)", qid, rl->name, log_safe_cstr(key),
                         limit_for(r, rl, w, key), rl->win[w].seconds);
            if (rl->counts == RC_MESSAGES && amount > 0)
                counted(e->ms, i, 1);
            continue;
        }
        log_info("%s: ratelimit %s: key %s over %lld per %lld s: %s", qid,
                 rl->name, log_safe_cstr(key), limit_for(r, rl, w, key),
                 rl->win[w].seconds,
                 rl->action == RL_DEFER ? "defer"
                 : rl->action == RL_REJECT ? "reject" : "hold");
        str_reset(&e->reply);
        const char *text = rl->text ? rl->text : e->w->cfg->ratelimit_text;
        if (rl->action == RL_DEFER)
            str_appendf(&e->reply, "450 4.7.1 %s (try again in %lld seconds)",
                        text, retry);
        else if (rl->action == RL_REJECT)
            str_appendf(&e->reply, "550 5.7.1 %s", text);
        else
            str_appendf(&e->reply, "HOLD %s", text);
        return PV_DECIDED;
    }
    return PV_DUNNO;
}
