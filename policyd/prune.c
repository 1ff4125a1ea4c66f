/*
 * prune - delete expired greylisting and rate-limit state (the learned
 * whitelists of 0015_greylist_learn.sql too: reply rows past expires_at,
 * domain rows unused for the longest greylisting expiry).
 *
 * Runs as a job in a worker every [policyd] prune_interval, so requests are
 * never blocked by it (other workers keep answering).  Deletes in batches of
 * PRUNE_BATCH rows (short transactions, short row locks on Galera), at most
 * PRUNE_ROUNDS batches per table per run.  Several policyd instances may
 * prune at once; the work is idempotent.
 */
#include "log.h"
#include "policyd.h"

#define PRUNE_BATCH 5000
#define PRUNE_ROUNDS 200

static const char *const SQL_PRUNE[] = {
    "DELETE FROM greylist_triplets WHERE last_seen < ? LIMIT 5000",
    "DELETE FROM greylist_clients WHERE last_seen < ? LIMIT 5000",
    "DELETE FROM ratelimit_events WHERE bucket < ? LIMIT 5000",
    "DELETE FROM ratelimit_keys WHERE last_seen < ? LIMIT 5000",
    "DELETE FROM greylist_reply_awl WHERE expires_at < ? LIMIT 5000",
    "DELETE FROM greylist_domain_awl WHERE last_seen < ? LIMIT 5000",
};
#define PRUNE_TABLES (sizeof(SQL_PRUNE) / sizeof(SQL_PRUNE[0]))

int prune_state(struct pd_worker *w, const struct pd_rules *r, time_t now)
{
    long long cut[PRUNE_TABLES];
    unsigned long long total = 0;
    struct str err = STR_INIT;

    cut[0] = cut[1] = (long long)now - r->max_expiry;
    cut[2] = cut[3] = (long long)now - (r->max_window ? r->max_window : 1);
    cut[4] = (long long)now;
    cut[5] = (long long)now - r->max_expiry;
    for (size_t t = 0; t < PRUNE_TABLES; t++) {
        for (int round = 0; round < PRUNE_ROUNDS; round++) {
            unsigned long long n = 0;
            struct db_param p[] = {DBP_I(cut[t])};
            if (db_exec(w->db, SQL_PRUNE[t], p, 1, &n, &err) < 0) {
                log_warn("pruning expired state: %s", str_cstr(&err));
                str_free(&err);
                return LK_TEMP;
            }
            total += n;
            if (n < PRUNE_BATCH)
                break;
        }
    }
    if (total)
        log_info("pruned %llu expired greylisting/rate-limit rows", total);
    str_free(&err);
    return 0;
}
