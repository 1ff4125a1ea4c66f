/*
 * ttlcache - bounded, thread-safe TTL cache.  See ttlcache.h.
 *
 * Implementation: a case-insensitive struct hmap indexes the entries; the
 * entries also form a doubly linked list in the order they were put, oldest
 * first.  All entries share one TTL, so the list is also in expiry order:
 * the expired entries are always at its head, and dropping "the expired
 * ones, then the oldest" is popping the head.  One mutex guards it all.
 */
#include "ttlcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "mem.h"

struct tc_entry {
    char *key;
    void *val;
    long long expires;
    struct tc_entry *prev, *next;
};

struct ttlcache {
    pthread_mutex_t lock;
    struct hmap index;          /* key -> struct tc_entry (keys borrowed) */
    struct tc_entry *head, *tail; /* oldest .. newest */
    size_t max;
    long long ttl;
    void (*free_val)(void *);
};

struct ttlcache *ttlcache_new(size_t max_entries, long long ttl_ms,
                              void (*free_val)(void *))
{
    struct ttlcache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    c->max = max_entries < 1 ? 1
             : max_entries > TTLCACHE_MAX_ENTRIES ? TTLCACHE_MAX_ENTRIES
                                                  : max_entries;
    c->ttl = ttl_ms;
    c->free_val = free_val;
    hmap_init(&c->index, c->max < 1024 ? c->max : 1024, HMAP_NOCASE);
    return c;
}

static void value_free(struct ttlcache *c, void *val)
{
    if (c->free_val && val)
        c->free_val(val);
}

/* unlink_entry - take e out of the list and the index, free it; locked. */
static void unlink_entry(struct ttlcache *c, struct tc_entry *e)
{
    hmap_del(&c->index, e->key);
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    value_free(c, e->val);
    free(e->key);
    free(e);
}

void ttlcache_free(struct ttlcache *c)
{
    if (c == NULL)
        return;
    while (c->head)
        unlink_entry(c, c->head);
    hmap_free(&c->index, NULL);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int ttlcache_get(struct ttlcache *c, const char *key,
                 int (*fn)(void *ctx, void *val), void *ctx, int *fn_rc)
{
    struct tc_entry *e;
    int hit = 0, rc;

    if (c->ttl <= 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    if ((e = hmap_get(&c->index, key)) != NULL) {
        if (e->expires <= clock_ms()) {
            unlink_entry(c, e);
        } else {
            rc = fn ? fn(ctx, e->val) : 0;
            if (fn_rc)
                *fn_rc = rc;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

/* make_room - drop expired entries, then the oldest, until one fits. */
static void make_room(struct ttlcache *c, long long now)
{
    while (c->head && c->head->expires <= now)
        unlink_entry(c, c->head);
    while (c->head && hmap_count(&c->index) >= c->max)
        unlink_entry(c, c->head);
}

void ttlcache_put(struct ttlcache *c, const char *key, void *val)
{
    struct tc_entry *e, *old;
    long long now = clock_ms();

    if (c->ttl <= 0) {
        value_free(c, val);
        return;
    }
    e = xcalloc(1, sizeof(*e));
    e->key = xstrdup(key);
    e->val = val;
    e->expires = now + c->ttl;
    pthread_mutex_lock(&c->lock);
    if ((old = hmap_get(&c->index, key)) != NULL)
        unlink_entry(c, old);
    if (hmap_count(&c->index) >= c->max)
        make_room(c, now);
    hmap_put(&c->index, e->key, e);
    e->prev = c->tail;
    if (c->tail)
        c->tail->next = e;
    else
        c->head = e;
    c->tail = e;
    pthread_mutex_unlock(&c->lock);
}

int ttlcache_del(struct ttlcache *c, const char *key)
{
    struct tc_entry *e;

    pthread_mutex_lock(&c->lock);
    if ((e = hmap_get(&c->index, key)) != NULL)
        unlink_entry(c, e);
    pthread_mutex_unlock(&c->lock);
    return e != NULL;
}

size_t ttlcache_count(struct ttlcache *c)
{
    size_t n;

    pthread_mutex_lock(&c->lock);
    n = hmap_count(&c->index);
    pthread_mutex_unlock(&c->lock);
    return n;
}
