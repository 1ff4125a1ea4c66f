/*
 * reloader - the thread that keeps a daemon's in-memory snapshot of SQL
 * tables current (see reloader.h).
 *
 * The thread owns its own database connection; the handover of snapshots
 * and deltas is protected by a mutex.  Database errors are logged once per
 * outage.
 *
 * Generations: the thread remembers the generation of every table of
 * change_counter as of the data it handed over last.  A poll reads them
 * (one small SELECT); only a moved table that the program reads
 * (ops->tables) costs more.  Inside the read transaction the generations
 * are read again, and those are the ones remembered.
 *
 * Deltas: for each moved table, the change_log rows with gen in
 * (remembered, now] are read; the triggers write exactly one per
 * generation, so a count that does not match means rows were pruned or
 * written without the triggers, and a full load follows.  Handed-over items
 * form a queue: a full snapshot drops every item before it, deltas are
 * applied in order after it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "reloader.h"
#include "metrics.h"

#define TBL_NAME_MAX 64
#define FULL_INTERVAL_DEFAULT (3600 * 1000LL)

struct gens {
    size_t n;
    char tbl[RELOADER_TABLES_MAX][TBL_NAME_MAX + 1];
    unsigned long long gen[RELOADER_TABLES_MAX];
};

/* one item handed over: a full snapshot or a delta */
struct item {
    struct item *next;
    void *full, *delta;
};

struct reloader {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct server *srv;
    struct db_config dbcfg;   /* strings owned by the loader */
    struct db *db0;           /* opened by reloader_start, taken by the thread */
    int dbcfg_changed;
    long long poll_ms;
    long long full_ms;
    int full_wanted;          /* ops->apply asked for a rebuild */
    const struct reloader_ops *ops;
    struct item *head, *tail; /* handed over, not yet taken */
    int stop;
    _Atomic long long last_ok_ms;
    _Atomic int reading;
    _Atomic long long health_ms; /* /health: stale after this long */
    struct metrics_series *m_gen, *m_full, *m_delta, *m_err, *m_age;
};

/* --- generations ---------------------------------------------------------- */

static int add_gen(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct gens *g = ctx;

    (void)lens;
    if (ncols < 2 || vals[0] == NULL || vals[1] == NULL ||
        strlen(vals[0]) > TBL_NAME_MAX || g->n == RELOADER_TABLES_MAX)
        return 0; /* a name that long is not one of ours */
    strcpy(g->tbl[g->n], vals[0]);
    g->gen[g->n++] = strtoull(vals[1], NULL, 10);
    return 0;
}

static int read_gens(struct db *db, struct gens *g, struct str *err)
{
    g->n = 0;
    return db_query(db, "SELECT tbl, generation FROM change_counter", NULL, 0,
                    add_gen, g, err) == LK_TEMP ? -1 : 0;
}

/* gen_of - the generation of tbl in g; 0 when g does not have it */
static unsigned long long gen_of(const struct gens *g, const char *tbl)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->tbl[i], tbl))
            return g->gen[i];
    return 0;
}

static int listed(const char *const *list, const char *tbl)
{
    if (list == NULL)
        return 0;
    for (; *list; list++)
        if (!strcmp(*list, tbl))
            return 1;
    return 0;
}

/* relevant - the program reads tbl */
static int relevant(const struct reloader_ops *ops, const char *tbl)
{
    return ops->tables == NULL || listed(ops->tables, tbl);
}

/* moved - some table the program reads has another generation in now
   than in have */
static int moved(const struct reloader_ops *ops, const struct gens *have,
                 const struct gens *now)
{
    for (size_t i = 0; i < now->n; i++)
        if (relevant(ops, now->tbl[i]) &&
            gen_of(have, now->tbl[i]) != now->gen[i])
            return 1;
    for (size_t i = 0; i < have->n; i++) /* a table gone */
        if (relevant(ops, have->tbl[i]) && gen_of(now, have->tbl[i]) == 0 &&
            have->gen[i] != 0)
            return 1;
    return 0;
}

/* --- handing over ----------------------------------------------------------- */

static void item_free(const struct reloader_ops *ops, struct item *it)
{
    if (it->full)
        ops->free(it->full);
    if (it->delta)
        ops->delta_free(it->delta);
    free(it);
}

static void publish(struct reloader *l, void *full, void *delta)
{
    struct item *it = xcalloc(1, sizeof(*it));

    it->full = full;
    it->delta = delta;
    pthread_mutex_lock(&l->lock);
    if (full) { /* replaces everything not yet taken */
        while (l->head) {
            struct item *next = l->head->next;
            item_free(l->ops, l->head);
            l->head = next;
        }
        l->tail = NULL;
    }
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    pthread_mutex_unlock(&l->lock);
    if (l->srv) /* NULL: the program polls (the milter) */
        server_wakeup(l->srv);
}

/* --- reading ------------------------------------------------------------------ */

/* load_full - the generations and the snapshot, read in one consistent
   read-only transaction; NULL + *err on failure. */
static void *load_full(struct reloader *l, struct db *db, struct gens *gen,
                       struct str *err)
{
    void *s = NULL;

    if (db_begin_snapshot(db, err) < 0)
        return NULL;
    if (read_gens(db, gen, err) == 0)
        s = l->ops->load(db, err);
    db_rollback(db); /* read only: nothing to keep */
    return s;
}

struct log_read {
    struct arena *a;
    struct reloader_changes *c;
    size_t cap, rows;
    const char *tbl;
    int too_many;
};

static void change_add(struct log_read *r, const char *key)
{
    if (r->c->n == r->cap) {
        r->too_many = 1;
        return;
    }
    r->c->v[r->c->n].tbl = r->tbl;
    r->c->v[r->c->n].key = arena_strdup(r->a, key);
    r->c->n++;
}

static int add_change(void *ctx, unsigned ncols, char **vals,
                      const unsigned long *lens)
{
    struct log_read *r = ctx;

    (void)lens;
    r->rows++;
    if (ncols >= 1 && vals[0])
        change_add(r, vals[0]);
    if (ncols >= 2 && vals[1])
        change_add(r, vals[1]);
    return 0;
}

/* read_delta - inside the open transaction: the keys changed between have
   and now (now read there), and the delta ops->fetch makes of them.
   1 = *delta set; 0 = a full load is needed; -1 = database error. */
static int read_delta(struct reloader *l, struct db *db,
                      const struct gens *have, struct gens *now,
                      void **delta, unsigned long long *nkeys,
                      struct str *err)
{
    static const char sql[] =
        "SELECT pk, old_pk FROM change_log WHERE tbl = ? AND gen > ? "
        "AND gen <= ? ORDER BY gen";
    const struct reloader_ops *ops = l->ops;
    struct arena a = {0};
    struct reloader_changes c;
    struct log_read r;
    int rc = 1;

    if (read_gens(db, now, err) < 0)
        return -1;
    c.v = xcalloc(RELOADER_DELTA_MAX, sizeof(*c.v));
    c.n = 0;
    r = (struct log_read){&a, &c, RELOADER_DELTA_MAX, 0, NULL, 0};
    for (size_t i = 0; i < now->n && rc == 1; i++) {
        unsigned long long from = gen_of(have, now->tbl[i]);
        unsigned long long to = now->gen[i];
        struct db_param p[3];

        if (!relevant(ops, now->tbl[i]) || from == to)
            continue;
        if (!listed(ops->delta_tables, now->tbl[i]) || to < from ||
            to - from > RELOADER_DELTA_MAX) {
            rc = 0;
            break;
        }
        p[0] = DBP_S(now->tbl[i]);
        p[1] = DBP_I(from);
        p[2] = DBP_I(to);
        r.tbl = now->tbl[i];
        r.rows = 0;
        if (db_query(db, sql, p, 3, add_change, &r, err) == LK_TEMP)
            rc = -1;
        else if (r.rows != to - from || r.too_many)
            rc = 0; /* pruned, or written without the triggers */
    }
    for (size_t i = 0; i < have->n && rc == 1; i++) /* a table gone */
        if (relevant(ops, have->tbl[i]) && have->gen[i] != 0 &&
            gen_of(now, have->tbl[i]) == 0)
            rc = 0;
    if (rc == 1) {
        *nkeys = c.n;
        if ((*delta = ops->fetch(db, &c, err)) == NULL)
            rc = -1;
    }
    free(c.v);
    arena_free(&a);
    return rc;
}

/* try_delta - one delta in its own transaction; as read_delta */
static int try_delta(struct reloader *l, struct db *db,
                     const struct gens *have, struct gens *now,
                     void **delta, unsigned long long *nkeys,
                     struct str *err)
{
    int rc;

    if (db_begin_snapshot(db, err) < 0)
        return -1;
    rc = read_delta(l, db, have, now, delta, nkeys, err);
    db_rollback(db);
    return rc;
}

struct poll_state {
    struct gens have;
    int have_any, down;
    long long last_full_ms;
};

static void went_down(struct reloader *l, struct poll_state *ps,
                      const char *doing,
                      struct str *err)
{
    metrics_add(l->m_err, 1);
    if (!ps->down)
        log_error("database: %s%s%s (answering TEMP after max_staleness)",
                  doing, *doing ? ": " : "", str_cstr(err));
    ps->down = 1;
}

static void came_up(struct reloader *l, struct poll_state *ps, struct db *db)
{
    if (ps->down)
        log_info("database reachable again (%s)", db_current_host(db));
    ps->down = 0;
    atomic_store(&l->last_ok_ms, clock_ms());
    metrics_set(l->m_age, clock_ms());
}

static int full_due(struct reloader *l, const struct poll_state *ps)
{
    int wanted;

    pthread_mutex_lock(&l->lock);
    wanted = l->full_wanted;
    l->full_wanted = 0;
    pthread_mutex_unlock(&l->lock);
    return wanted || (l->full_ms > 0 && clock_ms() - ps->last_full_ms >=
                                            l->full_ms);
}

/* poll_once - one round */
static void poll_once(struct reloader *l, struct db *db, struct poll_state *ps)
{
    struct str err = STR_INIT;
    struct gens *now = xmalloc(sizeof(*now));
    /* the safety net, or apply asked for a rebuild (incremental only) */
    int forced = ps->have_any && l->ops->fetch && full_due(l, ps);
    int full;
    void *s = NULL, *delta = NULL;
    unsigned long long nkeys = 0;
    int rc;

    if (read_gens(db, now, &err) < 0) {
        went_down(l, ps, "", &err);
        goto out;
    }
    if (ps->have_any && !forced && !moved(l->ops, &ps->have, now)) {
        came_up(l, ps, db);
        goto out;
    }
    full = !ps->have_any || forced || l->ops->fetch == NULL;
    atomic_store(&l->reading, 1);
    if (!full) {
        rc = try_delta(l, db, &ps->have, now, &delta, &nkeys, &err);
        if (rc < 0) {
            went_down(l, ps, "reading the changes", &err);
            goto done;
        }
        if (rc == 1) {
            ps->have = *now;
            str_reset(&err);
            if (l->ops->delta_describe)
                l->ops->delta_describe(delta, &err);
            log_debug("%s: %llu changed keys read%s%s", l->ops->what, nkeys,
                      err.len ? ": " : "", str_cstr(&err));
            publish(l, NULL, delta);
            metrics_add(l->m_delta, 1);
            metrics_add(l->m_gen, 1);
            came_up(l, ps, db);
            goto done;
        }
        str_reset(&err);
    }
    if ((s = load_full(l, db, now, &err)) == NULL) {
        went_down(l, ps, l->ops->what, &err);
        goto done;
    }
    str_reset(&err);
    if (l->ops->describe)
        l->ops->describe(s, &err);
    log_info("%s loaded%s%s", l->ops->what, err.len ? ": " : "",
             str_cstr(&err));
    ps->have = *now;
    ps->have_any = 1;
    ps->last_full_ms = clock_ms();
    publish(l, s, NULL);
    metrics_add(l->m_full, 1);
    metrics_add(l->m_gen, 1);
    came_up(l, ps, db);
done:
    atomic_store(&l->reading, 0);
out:
    free(now);
    str_free(&err);
}

static void *reloader_main(void *arg)
{
    struct reloader *l = arg;
    struct str err = STR_INIT;
    struct db *db;
    struct poll_state *ps = xcalloc(1, sizeof(*ps));

    db_thread_init();
    pthread_mutex_lock(&l->lock);
    db = l->db0;
    l->db0 = NULL;
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
            poll_once(l, db, ps);
        pthread_mutex_lock(&l->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (l->poll_ms % 1000) * 1000000;
        until.tv_sec += l->poll_ms / 1000 + until.tv_nsec / 1000000000;
        until.tv_nsec %= 1000000000;
        if (!l->stop && !l->full_wanted)
            pthread_cond_timedwait(&l->cond, &l->lock, &until);
    }
    pthread_mutex_unlock(&l->lock);
    db_close(db);
    free(ps);
    str_free(&err);
    db_thread_end();
    return NULL;
}

static int reloader_health(void *ctx, struct str *why);

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
    l->full_ms = FULL_INTERVAL_DEFAULT;
    atomic_store(&l->last_ok_ms, -1000000000LL);
    atomic_store(&l->health_ms, poll_ms * 3 > RELOADER_HEALTH_MIN_MS
                                    ? poll_ms * 3 : RELOADER_HEALTH_MIN_MS);
    l->m_gen = metrics_series(metrics_snap_generation, METRICS_L(ops->what));
    l->m_full = metrics_series(metrics_snap_loads,
                               METRICS_L(ops->what, "full"));
    l->m_delta = metrics_series(metrics_snap_loads,
                                METRICS_L(ops->what, "delta"));
    l->m_err = metrics_series(metrics_snap_loads,
                              METRICS_L(ops->what, "error"));
    l->m_age = metrics_series(metrics_snap_age, METRICS_L(ops->what));
    db_config_copy(&l->dbcfg, dbcfg);
    /* the handle (and the password file it reads) is opened here, by the
       caller, before a daemon drops its privileges: the thread may run
       only after the drop (no connection is made yet; the thread retries
       the open itself when this one fails) */
    if ((l->db0 = db_open(&l->dbcfg, err)) == NULL) {
        log_error("database: %s", str_cstr(err));
        str_reset(err);
    }
    if (pthread_create(&l->thread, NULL, reloader_main, l) != 0) {
        db_close(l->db0);
        db_config_free(&l->dbcfg);
        free(l);
        return str_appendf(err, "cannot start the reloader thread"), NULL;
    }
    metrics_health_add(reloader_health, l);
    return l;
}

/* take_all - the queue, emptied */
static struct item *take_all(struct reloader *l)
{
    struct item *it;

    pthread_mutex_lock(&l->lock);
    it = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->lock);
    return it;
}

void *reloader_take(struct reloader *l)
{
    struct item *it = take_all(l);
    void *s = NULL;

    while (it) { /* without ops->fetch only full snapshots are queued */
        struct item *next = it->next;
        if (it->full) {
            if (s)
                l->ops->free(s);
            s = it->full;
            it->full = NULL;
        }
        item_free(l->ops, it);
        it = next;
    }
    return s;
}

int reloader_update(struct reloader *l, void **snap)
{
    struct item *it = take_all(l);
    int changed = 0, rebuild = 0;

    while (it) {
        struct item *next = it->next;
        if (it->full) {
            if (*snap)
                l->ops->free(*snap);
            *snap = it->full;
            it->full = NULL;
            changed = 1;
        } else if (it->delta && *snap) {
            rebuild |= l->ops->apply(*snap, it->delta);
            changed = 1;
        }
        item_free(l->ops, it);
        it = next;
    }
    if (rebuild) {
        pthread_mutex_lock(&l->lock);
        l->full_wanted = 1;
        pthread_cond_signal(&l->cond);
        pthread_mutex_unlock(&l->lock);
    }
    return changed;
}

int reloader_fresh(struct reloader *l, long long max_ms)
{
    return atomic_load(&l->reading) ||
           clock_ms() - atomic_load(&l->last_ok_ms) <= max_ms;
}

void reloader_health_after(struct reloader *l, long long ms)
{
    atomic_store(&l->health_ms, ms);
}

/* reloader_health - lib/metrics health check: the snapshot is fresh */
static int reloader_health(void *ctx, struct str *why)
{
    struct reloader *l = ctx;
    long long ok = atomic_load(&l->last_ok_ms);

    if (reloader_fresh(l, atomic_load(&l->health_ms)))
        return 1;
    if (ok < 0)
        str_appendf(why, "%s: never loaded (database unreachable since the "
                    "start)", l->ops->what);
    else
        str_appendf(why, "%s: database not reached for %lld s",
                    l->ops->what, (clock_ms() - ok) / 1000);
    return 0;
}

void reloader_full_interval(struct reloader *l, long long ms)
{
    pthread_mutex_lock(&l->lock);
    l->full_ms = ms;
    pthread_mutex_unlock(&l->lock);
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
    struct item *it;

    metrics_health_remove(reloader_health, l);
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    it = take_all(l);
    while (it) {
        struct item *next = it->next;
        item_free(l->ops, it);
        it = next;
    }
    db_config_free(&l->dbcfg);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
