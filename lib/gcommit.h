/*
 * gcommit - group commit: small transactions that many threads run at the
 * same time share one transaction, so one COMMIT (one fsync on the server,
 * one Galera certification) serves many of them.
 *
 * A thread hands its item to gcommit_run and blocks until the item's
 * outcome is known.  If no batch is running, the thread becomes the
 * leader: it takes the items waiting (its own first, at most
 * GCOMMIT_BATCH_MAX), runs them in one transaction on its own database
 * connection (db_transaction: after a deadlock or a lost connection the
 * whole batch runs again) and wakes their threads.  Items that arrive
 * while a batch runs wait for the next one.  Nothing waits on a timer: an
 * idle system runs every item at once in a batch of one, and the batches
 * grow with the load.
 *
 * The body gets the items of a batch in the order they arrived and sets
 * each item's outcome (item->rc) itself, on every run, since
 * db_transaction may run it again.  It returns >= 0 to commit or < 0 (or
 * LK_TEMP) to roll back.  An item's outcome counts only once the batch
 * committed.  When a batch of several items fails for good (tries used up,
 * or a failure of a statement that fails again when retried), each item
 * runs again alone in its own transaction: one bad item does not fail the
 * others.  An item whose transaction failed gets rc < 0 and the error text
 * in the err its thread passed.
 *
 * Limits: GCOMMIT_BATCH_MAX items per batch.  Thread safety: gcommit_run
 * from any number of threads, each with its own struct db.
 */
#ifndef POSTERN_GCOMMIT_H
#define POSTERN_GCOMMIT_H

#include <stddef.h>

#include "db.h"
#include "str.h"

#define GCOMMIT_BATCH_MAX 64

/* Embed as the first member of the caller's item. */
struct gcommit_item {
    struct gcommit_item *next;
    struct str *err;             /* the submitting thread's */
    int rc;                      /* set by the body: the item's outcome */
    int done;
};

/* body - run items[0..n) inside the transaction; ctx as given to
   gcommit_new */
typedef int (*gcommit_fn)(struct db *db, struct gcommit_item **items,
                          size_t n, void *ctx, struct str *err);

struct gcommit;

struct gcommit *gcommit_new(gcommit_fn body, void *ctx, int tries);
void gcommit_free(struct gcommit *g);

/* gcommit_run - run item in a batch on db (the calling thread's
   connection, used if this thread leads); returns item->rc (< 0 with
   *item->err set when its transaction failed) */
int gcommit_run(struct gcommit *g, struct db *db, struct gcommit_item *item);

/* batches run and items in them, since the start (for tests and logs) */
void gcommit_counts(struct gcommit *g, unsigned long long *batches,
                    unsigned long long *items);

#endif
