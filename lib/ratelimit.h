/*
 * ratelimit - the counting core of postern's rate limits: exact sliding
 * windows over one-second buckets in MariaDB (ratelimit_keys,
 * ratelimit_events), shared by postern-policyd (SMTP), postern-forward
 * (forwarded copies) and postern-lda (Sieve redirect, notify, vacation),
 * so that every program counts the same way against the same rows.
 *
 * One count, for one rule and one key, is one transaction: lock the key's
 * row in ratelimit_keys (instances on several hosts serialise on the same
 * key, and only on it), sum the buckets inside each window, and add the
 * amount only when every window stays within its limit (refused mail is
 * not counted), or always for a rule that only warns.  After a deadlock
 * or a lost connection the transaction runs again as a whole
 * (db_transaction), never one statement of it.
 *
 * The decision for one window is a pure function (rl_window_over), so it
 * is unit-tested without a server.  rl_rules_load reads the rules of one
 * key type for one key (windows with the key's overrides applied) for the
 * programs that run once per mail and keep no rule snapshot.
 *
 * Limits: RL_WINDOWS_MAX windows per rule, RL_RULES_MAX rules per key
 * type (the rest ignored); keys are bounded to the key_value column
 * (RL_COL_KEY characters) by rl_key_bound.
 */
#ifndef POSTERN_RATELIMIT_H
#define POSTERN_RATELIMIT_H

#include "db.h"
#include "str.h"

#define RL_WINDOWS_MAX 16
#define RL_RULES_MAX 32
#define RL_COL_KEY 320       /* ratelimit_keys/events.key_value */
#define RL_NAME_MAX 64
#define RL_TEXT_MAX 255
#define RL_TX_TRIES 3        /* whole-transaction runs after a deadlock or
                                a lost connection */

struct rl_window {
    long long seconds;
    long long max;           /* < 0: unlimited (for this key) */
};

/*
 * rl_window_over - the decision of one window: 1 when counting amount
 * (0 = only ask whether the key is already at its limit) on top of total
 * would pass max, with *retry the seconds until the window has room
 * (oldest is the oldest bucket in the window, 0 for none); 0 within.
 */
int rl_window_over(long long total, long long oldest, long long amount,
                   const struct rl_window *w, long long now,
                   long long *retry);

/* one count: inputs, and the outputs every run of the body sets */
struct rl_count {
    unsigned rule_id;
    const char *key;         /* bounded (rl_key_bound) */
    long long amount;        /* 0: only check */
    long long now;           /* Unix time */
    const struct rl_window *win;
    int nwin;
    int always;              /* count even over a limit (action warn) */
    int win_over;            /* out: the window over its limit */
    long long retry;         /* out: seconds until it has room */
};

/*
 * rl_count_body - a db_tx_fn: the body of the transaction for c (struct
 * rl_count *): 1 over a limit (win_over, retry set), 0 within, LK_TEMP.
 */
int rl_count_body(struct db *db, void *c, struct str *err);

/*
 * rl_count - run that transaction, as a whole up to RL_TX_TRIES times;
 * dry: the same transaction rolled back (counts nothing).  1 over, 0
 * within, LK_TEMP (+ *err).
 */
int rl_count(struct db *db, struct rl_count *c, int dry, struct str *err);

/* rl_key_bound - the key as the column takes it (lower-cased, then
   dbtext_bound to RL_COL_KEY characters) in out[size]; 0 or -1. */
int rl_key_bound(const char *in, char *out, size_t size);

/* --- rules read per mail ------------------------------------------------- */

enum rl_counts { RL_C_MESSAGES, RL_C_RECIPIENTS, RL_C_BYTES };
enum rl_action { RL_A_DEFER, RL_A_REJECT, RL_A_HOLD, RL_A_WARN };

struct rl_rule {
    unsigned id;
    char name[RL_NAME_MAX + 1];
    char text[RL_TEXT_MAX + 1];  /* "" = the program's default text */
    int counts, action;
    int nwin;
    struct rl_window win[RL_WINDOWS_MAX];
};

struct rl_rules {
    int n;
    struct rl_rule rule[RL_RULES_MAX];
};

/*
 * rl_rules_load - the active rules of key_type ("forwarder") that apply
 * to key (match_value NULL or equal; rules with a group are not for
 * these programs and are skipped), in priority order, each with its
 * windows and the key's overrides.  LK_FOUND, LK_NOTFOUND (no rule) or
 * LK_TEMP (+ *err).
 */
int rl_rules_load(struct db *db, const char *key_type, const char *key,
                  struct rl_rules *out, struct str *err);

/* the outcome of rl_check */
struct rl_verdict {
    const struct rl_rule *rule;  /* the rule that decided (over), or NULL */
    int win;                     /* its window */
    long long retry;             /* seconds until it has room */
    const struct rl_rule *warned;/* the last warn-only rule over, or NULL */
    int warned_win;
};

/*
 * rl_check - count one mail (size bytes, for rules that count bytes;
 * messages and recipients count n) for key against every rule of r, in
 * priority order, as postern-policyd does: each rule counts in its own
 * transaction; the first rule over its limit whose action is not warn
 * decides and stops (the rules after it do not count).  1 over (*v), 0
 * within (v->warned may be set), LK_TEMP (+ *err).
 */
int rl_check(struct db *db, const struct rl_rules *r, const char *key,
             long long n, long long size, long long now,
             struct rl_verdict *v, struct str *err);

#endif
