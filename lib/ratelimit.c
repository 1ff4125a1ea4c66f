/*
 * ratelimit - exact sliding-window counting in MariaDB, shared by
 * postern-policyd, postern-forward and postern-lda (ratelimit.h).
 *
 * Diagnostics: none here; callers log the decision (rule, key, window)
 * and the database errors they get in *err.
 */
#include <stdlib.h>
#include <string.h>

#include "dbtext.h"
#include "ratelimit.h"

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

int rl_window_over(long long total, long long oldest, long long amount,
                   const struct rl_window *w, long long now,
                   long long *retry)
{
    *retry = 0;
    if (w->max < 0)
        return 0; /* unlimited for this key */
    if (amount > 0 ? total + amount <= w->max : total < w->max)
        return 0;
    *retry = oldest ? oldest + w->seconds - now + 1 : 1;
    if (*retry < 1)
        *retry = 1;
    return 1;
}

int rl_count_body(struct db *db, void *ctx, struct str *err)
{
    struct rl_count *c = ctx;
    int over = 0;

    c->win_over = 0;
    c->retry = 0;
    struct db_param kp[] = {DBP_I(c->rule_id), DBP_S(c->key), DBP_I(c->now),
                            DBP_I(c->now)};
    if (db_exec(db, SQL_KEY, kp, 4, NULL, err) < 0)
        return LK_TEMP;
    for (int w = 0; w < c->nwin; w++) {
        struct sum s = {0, 0};
        struct db_param sp[] = {DBP_I(c->rule_id), DBP_S(c->key),
                                DBP_I(c->now - c->win[w].seconds)};
        if (c->win[w].max < 0)
            continue; /* unlimited for this key: nothing to sum */
        if (db_query(db, SQL_SUM, sp, 3, sum_row, &s, err) == LK_TEMP)
            return LK_TEMP;
        if (rl_window_over(s.total, s.oldest, c->amount, &c->win[w], c->now,
                           &c->retry)) {
            over = 1;
            c->win_over = w;
            break;
        }
    }
    if (c->amount > 0 && (!over || c->always)) {
        struct db_param ap[] = {DBP_I(c->rule_id), DBP_S(c->key),
                                DBP_I(c->now), DBP_I(c->amount)};
        if (db_exec(db, SQL_ADD, ap, 4, NULL, err) < 0)
            return LK_TEMP;
    }
    return over;
}

int rl_count(struct db *db, struct rl_count *c, int dry, struct str *err)
{
    int rc;

    if (dry) { /* the same transaction, rolled back: counts nothing */
        if (db_begin(db, err) < 0)
            return LK_TEMP;
        rc = rl_count_body(db, c, err);
        db_rollback(db);
    } else {
        rc = db_transaction(db, rl_count_body, c, RL_TX_TRIES, err);
    }
    return rc < 0 ? LK_TEMP : rc;
}

int rl_key_bound(const char *in, char *out, size_t size)
{
    char low[RL_COL_KEY * 4 + 1];
    size_t n = strlen(in);

    if (n == 0 || str_copy_bounded(low, sizeof(low), in, n) < 0)
        return -1;
    str_lower(low, n);
    return dbtext_bound(out, size, low, n, RL_COL_KEY) < 0 ? -1 : 0;
}

/* --- rules read per mail ------------------------------------------------- */

static const char SQL_RULES[] =
    "SELECT r.id, r.name, r.counts, r.action, r.text, w.window_seconds,"
    " IF(o.rule_id IS NULL, w.max_count, IFNULL(o.max_count, -1))"
    " FROM ratelimit_rules r"
    " JOIN ratelimit_windows w ON w.rule_id = r.id"
    " LEFT JOIN ratelimit_overrides o ON o.rule_id = r.id"
    "  AND o.window_seconds = w.window_seconds AND o.key_value = ?"
    " WHERE r.active = 1 AND r.key_type = ? AND r.group_id IS NULL"
    "  AND (r.match_value IS NULL OR r.match_value = ?)"
    " ORDER BY r.priority, r.id, w.window_seconds";

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (v && !strcmp(v, names[i]))
            return i;
    return 0;
}

static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= size)
        n = size - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static int rule_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    static const char *const counts[] = {"messages", "recipients", "bytes"};
    static const char *const acts[] = {"defer", "reject", "hold", "warn"};
    struct rl_rules *r = ctx;
    unsigned id = v[0] ? (unsigned)strtoul(v[0], NULL, 10) : 0;
    struct rl_rule *rl = r->n ? &r->rule[r->n - 1] : NULL;

    (void)l;
    if (n < 7)
        return 0;
    if (rl == NULL || rl->id != id) {
        if (r->n == RL_RULES_MAX)
            return 0; /* the rest ignored */
        rl = &r->rule[r->n++];
        memset(rl, 0, sizeof(*rl));
        rl->id = id;
        copy(rl->name, sizeof(rl->name), v[1] ? v[1] : "?");
        copy(rl->text, sizeof(rl->text), v[4]);
        rl->counts = pick(v[2], counts, 3);
        rl->action = pick(v[3], acts, 4);
    }
    if (rl->nwin < RL_WINDOWS_MAX) {
        rl->win[rl->nwin].seconds = v[5] ? strtoll(v[5], NULL, 10) : 1;
        rl->win[rl->nwin].max = v[6] ? strtoll(v[6], NULL, 10) : 0;
        rl->nwin++;
    }
    return 0;
}

int rl_rules_load(struct db *db, const char *key_type, const char *key,
                  struct rl_rules *out, struct str *err)
{
    struct db_param p[] = {DBP_S(key), DBP_S(key_type), DBP_S(key)};
    int rc;

    out->n = 0;
    rc = db_query(db, SQL_RULES, p, 3, rule_row, out, err);
    if (rc < 0)
        return LK_TEMP;
    return out->n ? LK_FOUND : LK_NOTFOUND;
}

int rl_check(struct db *db, const struct rl_rules *r, const char *key,
             long long n, long long size, long long now,
             struct rl_verdict *v, struct str *err)
{
    memset(v, 0, sizeof(*v));
    for (int i = 0; i < r->n; i++) {
        const struct rl_rule *rl = &r->rule[i];
        struct rl_count c = {rl->id, key,
                             rl->counts == RL_C_BYTES ? size : n, now,
                             rl->win, rl->nwin, rl->action == RL_A_WARN,
                             0, 0};
        int rc;

        if (c.amount <= 0)
            continue;
        if ((rc = rl_count(db, &c, 0, err)) < 0)
            return LK_TEMP;
        if (rc == 0)
            continue;
        if (rl->action == RL_A_WARN) {
            v->warned = rl;
            v->warned_win = c.win_over;
            continue;
        }
        v->rule = rl;
        v->win = c.win_over;
        v->retry = c.retry;
        return 1;
    }
    return 0;
}
