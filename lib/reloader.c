/*
 * reloader - the thread that keeps a daemon's in-memory snapshot of SQL
 * tables current (see reloader.h).
 *
 * The thread owns its own database connection; the handover of snapshots
 * is protected by a mutex.  Database errors are logged once per outage.
 *
 * Every load runs inside one read-only transaction with a consistent
 * snapshot (db_begin_snapshot): all tables, and the generation that is
 * recorded for them, are read as of one instant, so a change an admin
 * commits in one transaction (an address moved from aliases to mailboxes)
 * is in a snapshot entirely or not at all.  The generation is read again
 * inside that transaction: a change committed after it is not in the
 * snapshot and moves the generation, so the next poll loads again.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mem.h"
#include "clock.h"
#include "reloader.h"

struct reloader {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct server *srv;
    struct db_config dbcfg;   /* strings owned by the loader */
    int dbcfg_changed;
    long long poll_ms;
    const struct reloader_ops *ops;
    void *pending;            /* handed over, not yet taken */
    int stop;
    _Atomic long long last_ok_ms;
};

static int sum_generations(void *ctx, unsigned ncols, char **vals,
                           const unsigned long *lens)
{
    unsigned long long *sum = ctx;

    (void)lens;
    if (ncols >= 1 && vals[0])
        *sum += strtoull(vals[0], NULL, 10);
    return 0;
}

int reloader_generation(struct db *db, unsigned long long *sum,
                        struct str *err)
{
    *sum = 0;
    return db_query(db, "SELECT generation FROM change_counter", NULL, 0,
                    sum_generations, sum, err) == LK_TEMP ? -1 : 0;
}

static void publish(struct reloader *l, void *s)
{
    pthread_mutex_lock(&l->lock);
    if (l->pending) /* never taken: replaced by a newer one */
        l->ops->free(l->pending);
    l->pending = s;
    pthread_mutex_unlock(&l->lock);
    if (l->srv) /* NULL: the program polls reloader_take (the milter) */
        server_wakeup(l->srv);
}

/* load_consistent - the generation and the snapshot, read in one
   consistent read-only transaction; NULL + *err on failure. */
static void *load_consistent(struct reloader *l, struct db *db,
                             unsigned long long *gen, struct str *err)
{
    void *s = NULL;

    if (db_begin_snapshot(db, err) < 0)
        return NULL;
    if (reloader_generation(db, gen, err) == 0)
        s = l->ops->load(db, err);
    db_rollback(db); /* read only: nothing to keep */
    return s;
}

/* poll_once - one round; returns the generation now served. */
static unsigned long long poll_once(struct reloader *l, struct db *db,
                                    unsigned long long have, int *have_any,
                                    int *down)
{
    struct str err = STR_INIT;
    unsigned long long gen;
    void *s;

    if (reloader_generation(db, &gen, &err) < 0) {
        if (!*down)
            log_error("database: %s (answering TEMP after max_staleness)",
                      str_cstr(&err));
        *down = 1;
        str_free(&err);
        return have;
    }
    if (*have_any && gen == have) {
        atomic_store(&l->last_ok_ms, clock_ms());
        if (*down)
            log_info("database reachable again (%s)", db_current_host(db));
        *down = 0;
        str_free(&err);
        return have;
    }
    if ((s = load_consistent(l, db, &gen, &err)) == NULL) {
        if (!*down)
            log_error("database: loading the %s: %s", l->ops->what,
                      str_cstr(&err));
        *down = 1;
        str_free(&err);
        return have;
    }
    if (*down)
        log_info("database reachable again (%s)", db_current_host(db));
    *down = 0;
    str_reset(&err);
    if (l->ops->describe)
        l->ops->describe(s, &err);
    log_info("%s loaded%s%s (generation %llu)", l->ops->what,
             err.len ? ": " : "", str_cstr(&err), gen);
    publish(l, s);
    atomic_store(&l->last_ok_ms, clock_ms());
    *have_any = 1;
    str_free(&err);
    return gen;
}

static void *reloader_main(void *arg)
{
    struct reloader *l = arg;
    struct str err = STR_INIT;
    struct db *db = NULL;
    unsigned long long gen = 0;
    int have_any = 0, down = 0;

    db_thread_init();
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        struct timespec until;
        if (l->dbcfg_changed || db == NULL) {
            db_close(db);
            str_reset(&err);
            if ((db = db_open(&l->dbcfg, &err)) == NULL)
                log_error("database: %s", str_cstr(&err));
            l->dbcfg_changed = 0;
        }
        pthread_mutex_unlock(&l->lock);
        if (db)
            gen = poll_once(l, db, gen, &have_any, &down);
        pthread_mutex_lock(&l->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (l->poll_ms % 1000) * 1000000;
        until.tv_sec += l->poll_ms / 1000 + until.tv_nsec / 1000000000;
        until.tv_nsec %= 1000000000;
        if (!l->stop)
            pthread_cond_timedwait(&l->cond, &l->lock, &until);
    }
    pthread_mutex_unlock(&l->lock);
    db_close(db);
    str_free(&err);
    db_thread_end();
    return NULL;
}

struct reloader *reloader_start(const struct reloader_ops *ops,
                                const struct db_config *dbcfg,
                                long long poll_ms, struct server *srv,
                                struct str *err)
{
    struct reloader *l = xcalloc(1, sizeof(*l));

    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    l->ops = ops;
    l->srv = srv;
    l->poll_ms = poll_ms;
    atomic_store(&l->last_ok_ms, -1000000000LL);
    db_config_copy(&l->dbcfg, dbcfg);
    if (pthread_create(&l->thread, NULL, reloader_main, l) != 0) {
        db_config_free(&l->dbcfg);
        free(l);
        return str_appendf(err, "cannot start the reloader thread"), NULL;
    }
    return l;
}

void *reloader_take(struct reloader *l)
{
    void *s;

    pthread_mutex_lock(&l->lock);
    s = l->pending;
    l->pending = NULL;
    pthread_mutex_unlock(&l->lock);
    return s;
}

int reloader_fresh(struct reloader *l, long long max_ms)
{
    return clock_ms() - atomic_load(&l->last_ok_ms) <= max_ms;
}

void reloader_reconfigure(struct reloader *l, const struct db_config *dbcfg,
                          long long poll_ms)
{
    pthread_mutex_lock(&l->lock);
    db_config_free(&l->dbcfg);
    db_config_copy(&l->dbcfg, dbcfg);
    l->poll_ms = poll_ms;
    l->dbcfg_changed = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

void reloader_stop(struct reloader *l)
{
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    if (l->pending)
        l->ops->free(l->pending);
    db_config_free(&l->dbcfg);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
