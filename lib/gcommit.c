/*
 * gcommit - group commit (see gcommit.h).
 *
 * One mutex guards the queue and the "a batch is running" flag; the
 * leader runs its batch without it.  Outcomes are written by the leader
 * before it takes the mutex to mark the items done, and read by their
 * threads after they took it: the mutex orders the two.
 */
#include <pthread.h>
#include <stdlib.h>

#include "gcommit.h"
#include "lookup.h"

struct gcommit {
    gcommit_fn body;
    void *ctx;
    int tries;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct gcommit_item *head, *tail;
    int running;
    unsigned long long batches, items;
};

struct batch {
    struct gcommit *g;
    struct gcommit_item **items;
    size_t n;
};

struct gcommit *gcommit_new(gcommit_fn body, void *ctx, int tries)
{
    struct gcommit *g = calloc(1, sizeof(*g));

    if (g == NULL)
        return NULL;
    g->body = body;
    g->ctx = ctx;
    g->tries = tries > 0 ? tries : 1;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    return g;
}

void gcommit_free(struct gcommit *g)
{
    if (g == NULL)
        return;
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    free(g);
}

static int batch_body(struct db *db, void *ctx, struct str *err)
{
    struct batch *b = ctx;

    return b->g->body(db, b->items, b->n, b->g->ctx, err);
}

/* run_alone - items[0..n) each in its own transaction, after their batch
   failed; once the connection itself is gone, the rest fail with the same
   error instead of each waiting for its own connect timeout */
static void run_alone(struct gcommit *g, struct db *db,
                      struct gcommit_item **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct batch one = {g, &items[i], 1};
        int rc = db_transaction(db, batch_body, &one, g->tries, items[i]->err);

        if (rc >= 0)
            continue;
        items[i]->rc = rc;
        if (db_current_host(db)[0] != '\0')
            continue;
        for (size_t j = i + 1; j < n; j++) {
            items[j]->rc = rc;
            str_set(items[j]->err, items[i]->err->data, items[i]->err->len);
        }
        return;
    }
}

/* run_batch - run items[0..n); the first item's err takes the batch's */
static void run_batch(struct gcommit *g, struct db *db,
                      struct gcommit_item **items, size_t n)
{
    struct batch b = {g, items, n};
    struct str *err = items[0]->err;
    int rc = db_transaction(db, batch_body, &b, g->tries, err);

    if (rc >= 0)
        return;
    if (n > 1 && db_current_host(db)[0] != '\0') {
        str_reset(err);
        run_alone(g, db, items, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        items[i]->rc = rc < 0 ? rc : LK_TEMP;
        if (i > 0)
            str_set(items[i]->err, err->data, err->len);
    }
}

int gcommit_run(struct gcommit *g, struct db *db, struct gcommit_item *item)
{
    item->next = NULL;
    item->rc = 0;
    item->done = 0;
    pthread_mutex_lock(&g->lock);
    if (g->tail)
        g->tail->next = item;
    else
        g->head = item;
    g->tail = item;
    while (!item->done) {
        if (g->running) {
            pthread_cond_wait(&g->cond, &g->lock);
            continue;
        }
        struct gcommit_item *items[GCOMMIT_BATCH_MAX];
        size_t n = 0;

        while (g->head && n < GCOMMIT_BATCH_MAX) {
            items[n++] = g->head;
            g->head = g->head->next;
        }
        if (g->head == NULL)
            g->tail = NULL;
        g->running = 1;
        g->batches++;
        g->items += n;
        pthread_mutex_unlock(&g->lock);
        run_batch(g, db, items, n);
        pthread_mutex_lock(&g->lock);
        for (size_t i = 0; i < n; i++)
            items[i]->done = 1;
        g->running = 0;
        pthread_cond_broadcast(&g->cond);
    }
    pthread_mutex_unlock(&g->lock);
    return item->rc;
}

void gcommit_counts(struct gcommit *g, unsigned long long *batches,
                    unsigned long long *items)
{
    pthread_mutex_lock(&g->lock);
    *batches = g->batches;
    *items = g->items;
    pthread_mutex_unlock(&g->lock);
}
