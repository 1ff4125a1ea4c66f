/*
 * reloader - a thread that keeps an in-memory snapshot of SQL tables
 * current for an event-loop daemon.
 *
 * Every poll interval it reads the change_counter table (bumped by triggers
 * on every configuration table).  When the sum of generations moved, or
 * there is no snapshot yet, it loads a new snapshot through ops->load and
 * hands it to the event loop: server_wakeup(), then reloader_take() in the
 * wakeup callback.  The load runs in one read-only transaction with a
 * consistent snapshot (db_begin_snapshot), and the generation it records is
 * read inside it: every table, and the generation, as of one instant, so a
 * change committed in one transaction is seen whole or not at all, and a
 * change committed during a load is seen by the next poll.  ops->load must
 * only read, and must not begin or end a transaction itself.  Each
 * successful poll records the time, so the loop can tell whether its data
 * is fresh
 * (reloader_fresh): when the database cannot be reached, the daemon keeps
 * its old snapshot and decides itself when to turn to temporary failures.
 *
 * Limits: one database connection of its own; the poll interval bounds how
 * fast a change is seen (10 ms .. 60 s in the daemons' tables).
 */
#ifndef POSTERN_RELOADER_H
#define POSTERN_RELOADER_H

#include "db.h"
#include "server.h"
#include "str.h"

struct reloader_ops {
    const char *what;                                /* "routing tables" */
    void *(*load)(struct db *db, struct str *err);   /* NULL + *err */
    void (*free)(void *snapshot);
    void (*describe)(void *snapshot, struct str *out); /* may be NULL */
};

struct reloader;

/* reloader_start - srv may be NULL for a program without an event loop
   (postern-milter): it calls reloader_take itself, from any thread. */
struct reloader *reloader_start(const struct reloader_ops *ops,
                                const struct db_config *dbcfg,
                                long long poll_ms, struct server *srv,
                                struct str *err);
/* reloader_take - the newest snapshot if one is waiting, else NULL. */
void *reloader_take(struct reloader *l);
/* reloader_fresh - 1 if the database was reached within max_ms. */
int reloader_fresh(struct reloader *l, long long max_ms);
/* reloader_reconfigure - new database settings from the next poll on. */
void reloader_reconfigure(struct reloader *l, const struct db_config *dbcfg,
                          long long poll_ms);
void reloader_stop(struct reloader *l);
/* reloader_generation - the sum of all change counters; 0 or -1 (LK_TEMP). */
int reloader_generation(struct db *db, unsigned long long *sum,
                        struct str *err);

#endif
