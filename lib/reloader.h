/*
 * reloader - a thread that keeps an in-memory snapshot of SQL tables
 * current for a daemon, by full loads and, where the program can, by
 * applying just the rows that changed.
 *
 * Every poll interval it reads change_counter (one generation per table,
 * bumped by triggers on every write).  When the generation of a table the
 * program reads (ops->tables) moved, or there is no snapshot yet, it
 * either
 *   - loads a whole new snapshot through ops->load and hands it over; or
 *   - when the program has ops->fetch and every moved table is one of
 *     ops->delta_tables: reads the keys that changed from change_log
 *     (sql/migrations/0005_change_log.sql), reads just those rows through
 *     ops->fetch, and hands over that delta; the thread that owns the
 *     snapshot applies it in place (ops->apply) in reloader_update.
 * A delta is used only when change_log holds exactly one row for every
 * generation missed (none pruned, none written without the triggers) and
 * at most RELOADER_DELTA_MAX keys changed; otherwise a full load.  A full
 * load also runs every full_interval (reloader_full_interval, the safety
 * net) and when ops->apply asks for one (its garbage grew).
 *
 * Both kinds of read run in one read-only transaction with a consistent
 * snapshot (db_begin_snapshot), and the generations recorded are read
 * inside it: a change committed in one transaction is seen whole or not at
 * all, and a change committed during a read is seen by the next poll.
 * ops->load and ops->fetch must only read, and must not begin or end a
 * transaction themselves.
 *
 * Freshness (reloader_fresh): the database was reached within max_ms, or
 * a read is running now.  A long full load never makes the data "stale";
 * only a database that cannot be reached does.
 *
 * Handing over: reloader_update (programs whose snapshot one thread owns:
 * postern-maps) or reloader_take (programs that share an immutable
 * snapshot between threads and have no ops->fetch: policyd, the milter).
 *
 * Limits: one database connection of its own; the poll interval bounds how
 * fast a change is seen (10 ms .. 60 s in the daemons' tables);
 * RELOADER_TABLES_MAX tables in change_counter; RELOADER_DELTA_MAX keys in
 * one delta.
 */
#ifndef POSTERN_RELOADER_H
#define POSTERN_RELOADER_H

#include <stddef.h>

#include "db.h"
#include "server.h"
#include "str.h"

#define RELOADER_TABLES_MAX 64
#define RELOADER_DELTA_MAX 5000       /* changed keys per delta */
#define CHANGE_LOG_KEEP 100000        /* rows per table the triggers keep */
#define RELOADER_HEALTH_MIN_MS 5000   /* /health: stale after at least this */

/* One changed key: a table of ops->delta_tables and the key the trigger
   wrote (an UPDATE that changed the key gives two: old and new). */
struct reloader_change {
    const char *tbl;
    const char *key;
};

struct reloader_changes {
    struct reloader_change *v;
    size_t n;
};

struct reloader_ops {
    const char *what;                                /* "routing tables" */
    void *(*load)(struct db *db, struct str *err);   /* NULL + *err */
    void (*free)(void *snapshot);
    void (*describe)(void *snapshot, struct str *out); /* may be NULL */
    /* the tables the snapshot reads, NULL-terminated; NULL = every table
       of change_counter (any change reloads) */
    const char *const *tables;
    /* incremental (all NULL: every change is a full load) */
    const char *const *delta_tables;   /* subset of tables, NULL-terminated */
    /* fetch - loader thread, inside the consistent transaction: the rows of
       the changed keys as a delta; NULL + *err on a database error */
    void *(*fetch)(struct db *db, const struct reloader_changes *c,
                   struct str *err);
    /* apply - the owner's thread: change the snapshot in place; returns 1
       when the snapshot should be rebuilt by a full load (its garbage) */
    int (*apply)(void *snapshot, void *delta);
    void (*delta_free)(void *delta);
    void (*delta_describe)(void *delta, struct str *out); /* may be NULL */
};

struct reloader;

/* reloader_start - srv may be NULL for a program without an event loop
   (postern-milter): it calls reloader_take itself, from any thread. */
struct reloader *reloader_start(const struct reloader_ops *ops,
                                const struct db_config *dbcfg,
                                long long poll_ms, struct server *srv,
                                struct str *err);
/* reloader_take - the newest full snapshot if one is waiting, else NULL
   (programs without ops->fetch). */
void *reloader_take(struct reloader *l);
/* reloader_update - bring *snap up to date: a waiting full snapshot
   replaces it (the old one freed through ops->free), waiting deltas are
   applied in order.  1 if *snap changed, else 0. */
int reloader_update(struct reloader *l, void **snap);
/* reloader_fresh - 1 if the database was reached within max_ms or a read
   is running now. */
int reloader_fresh(struct reloader *l, long long max_ms);
/* reloader_full_interval - a full load at least every ms (0 = only when
   needed); default 1 hour. */
void reloader_full_interval(struct reloader *l, long long ms);
/* reloader_health_after - every reloader is a health check of lib/metrics
   (GET /health): unhealthy when not fresh within ms; by default 3 poll
   intervals, at least RELOADER_HEALTH_MIN_MS.  It also counts into
   postern_snapshot_* (lib/metrics.h), labelled with ops->what. */
void reloader_health_after(struct reloader *l, long long ms);
/* reloader_reconfigure - new database settings from the next poll on. */
void reloader_reconfigure(struct reloader *l, const struct db_config *dbcfg,
                          long long poll_ms);
void reloader_stop(struct reloader *l);

#endif
