/*
 * ttlcache - bounded, thread-safe TTL cache.  See ttlcache.h.
 *
 * Implementation: a case-insensitive struct hmap indexes the entries; the
 * entries also form a doubly linked list in the order they were put, oldest
 * first.  All entries share one TTL, so the list is also in expiry order:
 * the expired entries are always at its head, and dropping "the expired
 * ones, then the oldest" is popping the head.  One mutex guards it all.
 *
 * Read-through: a second hmap holds the loads in flight (struct tc_flight,
 * one per key); a caller that needs a key being loaded waits on the
 * cache's condition variable until the flight is done.  A refresh or check
 * runs on an entry that stays where it is (a reference keeps it alive if
 * it is evicted or replaced meanwhile); the new value replaces it when it
 * is ready.  A refresh that failed is not retried for TTLCACHE_RETRY_MS.
 */
#include "ttlcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hash.h"
#include "mem.h"

#define TTLCACHE_RETRY_MS 1000 /* after a failed refresh of a valid entry */

struct tc_entry {
    char *key;
    void *val;
    long long expires;          /* hard TTL */
    long long refresh_at;       /* refresh ahead from then on */
    long long check_at;         /* revalidate from then on */
    int refs;                   /* refreshes running on it */
    int linked;                 /* in the index and the list */
    struct tc_entry *prev, *next;
};

/* a load, refresh or check in progress for one key */
struct tc_flight {
    char *key;
    int refs;                   /* the loader + the callers waiting */
    int done;
    int have;                   /* done: the key has a value in the cache */
    int rc;                     /* done and !have: the load's outcome */
    struct str err;
};

struct ttlcache {
    pthread_mutex_t lock;
    pthread_cond_t done;        /* a flight is done */
    struct hmap index;          /* key -> struct tc_entry (keys borrowed) */
    struct hmap flights;        /* key -> struct tc_flight (keys borrowed) */
    struct tc_entry *head, *tail; /* oldest .. newest */
    size_t max;
    long long ttl, refresh, check;
    uint64_t rnd;
    struct ttlcache_stats stats;
    void (*free_val)(void *);
};

struct ttlcache *ttlcache_new(size_t max_entries, long long ttl_ms,
                              void (*free_val)(void *))
{
    struct ttlcache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    c->max = max_entries < 1 ? 1
             : max_entries > TTLCACHE_MAX_ENTRIES ? TTLCACHE_MAX_ENTRIES
                                                  : max_entries;
    c->ttl = ttl_ms;
    c->refresh = ttl_ms / 4 * 3;
    c->free_val = free_val;
    c->rnd = (uint64_t)clock_us() ^ (uint64_t)(uintptr_t)c;
    if (c->rnd == 0)
        c->rnd = 88172645463325252ULL;
    hmap_init(&c->index, c->max < 1024 ? c->max : 1024, HMAP_NOCASE);
    hmap_init(&c->flights, 16, HMAP_NOCASE);
    return c;
}

void ttlcache_set_refresh(struct ttlcache *c, long long refresh_ms,
                          long long check_ms)
{
    pthread_mutex_lock(&c->lock);
    c->refresh = refresh_ms <= 0 ? c->ttl / 4 * 3
                 : refresh_ms > c->ttl ? c->ttl : refresh_ms;
    c->check = check_ms > 0 ? check_ms : 0;
    pthread_mutex_unlock(&c->lock);
}

static void value_free(struct ttlcache *c, void *val)
{
    if (c->free_val && val)
        c->free_val(val);
}

static void entry_destroy(struct ttlcache *c, struct tc_entry *e)
{
    value_free(c, e->val);
    free(e->key);
    free(e);
}

/* unlink_entry - take e out of the list and the index, free it unless a
   refresh holds it; locked. */
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
    e->prev = e->next = NULL;
    e->linked = 0;
    if (e->refs == 0)
        entry_destroy(c, e);
}

static void entry_unref(struct ttlcache *c, struct tc_entry *e)
{
    if (--e->refs == 0 && !e->linked)
        entry_destroy(c, e);
}

void ttlcache_free(struct ttlcache *c)
{
    if (c == NULL)
        return;
    while (c->head)
        unlink_entry(c, c->head);
    hmap_free(&c->index, NULL);
    hmap_free(&c->flights, NULL); /* empty: no thread uses a freed cache */
    pthread_cond_destroy(&c->done);
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
            if (hmap_get(&c->flights, key) == NULL)
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

/* jitter - a random share of [0, range]; locked. */
static long long jitter(struct ttlcache *c, long long range)
{
    c->rnd ^= c->rnd << 13;
    c->rnd ^= c->rnd >> 7;
    c->rnd ^= c->rnd << 17;
    return range > 0 ? (long long)(c->rnd % (uint64_t)(range + 1)) : 0;
}

/* install - store val under key as the newest entry; locked. */
static struct tc_entry *install(struct ttlcache *c, const char *key,
                                void *val)
{
    struct tc_entry *e = xcalloc(1, sizeof(*e)), *old;
    long long now = clock_ms();

    e->key = xstrdup(key);
    e->val = val;
    e->expires = now + c->ttl;
    e->refresh_at = now + c->refresh - jitter(c, c->ttl / 8);
    e->check_at = now + c->check - jitter(c, c->check / 8);
    e->linked = 1;
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
    return e;
}

void ttlcache_put(struct ttlcache *c, const char *key, void *val)
{
    if (c->ttl <= 0) {
        value_free(c, val);
        return;
    }
    pthread_mutex_lock(&c->lock);
    install(c, key, val);
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

void ttlcache_stats(struct ttlcache *c, struct ttlcache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

/* --- read-through -------------------------------------------------------- */

static struct tc_flight *flight_new(struct ttlcache *c, const char *key)
{
    struct tc_flight *f = xcalloc(1, sizeof(*f));

    f->key = xstrdup(key);
    f->refs = 1;
    hmap_put(&c->flights, f->key, f);
    return f;
}

static void flight_unref(struct tc_flight *f)
{
    if (--f->refs == 0) {
        str_free(&f->err);
        free(f->key);
        free(f);
    }
}

/* flight_done - publish the outcome, wake the waiters, drop the loader's
   reference; locked. */
static void flight_done(struct ttlcache *c, struct tc_flight *f, int have,
                        int rc, const struct str *err)
{
    f->done = 1;
    f->have = have;
    f->rc = rc;
    if (!have && rc < 0)
        str_append(&f->err, err->data ? err->data : "", err->len);
    hmap_del(&c->flights, f->key);
    pthread_cond_broadcast(&c->done);
    flight_unref(f);
}

static void append_err(struct str *err, const struct str *from)
{
    if (err && from->len)
        str_append(err, from->data, from->len);
}

/* load_cold - no valid entry and no flight: load key ourselves; called
   and returns locked. */
static int load_cold(struct ttlcache *c, const char *key,
                     const struct ttlcache_loader *ld,
                     int (*fn)(void *ctx, void *val), void *ctx,
                     struct str *err)
{
    struct tc_flight *f = flight_new(c, key);
    struct str lerr = STR_INIT;
    struct tc_entry *e = NULL;
    void *val = NULL;
    int rc;

    pthread_mutex_unlock(&c->lock);
    rc = ld->load(ld->ctx, key, &val, &lerr);
    pthread_mutex_lock(&c->lock);
    c->stats.loads++;
    if (rc < 0 && val) {
        value_free(c, val); /* a loader that broke contract */
        val = NULL;
    }
    if (val) {
        e = install(c, key, val);
        rc = fn ? fn(ctx, e->val) : 0;
    } else if (rc < 0) {
        append_err(err, &lerr);
    }
    flight_done(c, f, e != NULL, rc, &lerr);
    str_free(&lerr);
    return rc;
}

/* refresh - e is valid and due for a refresh (or a check when !reload):
   run it, then answer from the newest value; called and returns locked. */
static int refresh(struct ttlcache *c, const char *key, struct tc_entry *e,
                   int reload, const struct ttlcache_loader *ld,
                   int (*fn)(void *ctx, void *val), void *ctx,
                   struct str *err)
{
    struct tc_flight *f = flight_new(c, key);
    struct str lerr = STR_INIT;
    struct tc_entry *ne = NULL;
    void *val = NULL;
    int rc = 0, checked = 1, have = 0, ahead = reload;
    long long now;

    e->refs++;
    pthread_mutex_unlock(&c->lock);
    if (!reload && (checked = ld->check(ld->ctx, key, e->val, &lerr)) == 0)
        reload = 1;
    if (!reload && clock_ms() >= e->expires)
        reload = 1; /* the check outlasted the entry */
    str_reset(&lerr);
    if (reload)
        rc = ld->load(ld->ctx, key, &val, &lerr);
    pthread_mutex_lock(&c->lock);
    now = clock_ms();
    c->stats.checks += !ahead;
    if (reload) {
        c->stats.loads++;
        c->stats.refreshes += ahead;
    }
    if (rc < 0 && val) {
        value_free(c, val);
        val = NULL;
    }
    if (val) {
        ne = install(c, key, val);
        rc = fn ? fn(ctx, ne->val) : 0;
        have = 1;
    } else if (reload && rc >= 0) {
        if (e->linked) /* gone from the source: forget the old value */
            unlink_entry(c, e);
    } else if (e->expires > now) {
        /* unchanged, cannot tell, or the reload failed: the old value
           serves until its hard TTL */
        if (!reload || checked < 0)
            e->check_at = now + c->check;
        if (reload) {
            long long retry = now + TTLCACHE_RETRY_MS;
            e->refresh_at = retry < e->expires ? retry : e->expires;
        }
        rc = fn ? fn(ctx, e->val) : 0;
        have = e->linked;
    } else {
        if (rc >= 0) {
            rc = -1;
            str_append_cstr(&lerr, "cache entry expired during its check");
        }
        append_err(err, &lerr);
    }
    flight_done(c, f, have, rc, &lerr);
    entry_unref(c, e);
    str_free(&lerr);
    return rc;
}

int ttlcache_fetch(struct ttlcache *c, const char *key,
                   const struct ttlcache_loader *ld,
                   int (*fn)(void *ctx, void *val), void *ctx,
                   struct str *err)
{
    struct tc_entry *e;
    struct tc_flight *f;
    int rc;

    if (c->ttl <= 0) {
        void *val = NULL;

        rc = ld->load(ld->ctx, key, &val, err);
        if (val && rc >= 0)
            rc = fn ? fn(ctx, val) : 0;
        value_free(c, val);
        return rc;
    }
    pthread_mutex_lock(&c->lock);
    for (;;) {
        long long now = clock_ms();

        e = hmap_get(&c->index, key);
        f = hmap_get(&c->flights, key);
        if (e && e->expires > now) {
            int reload = now >= e->refresh_at;
            int check = ld->check && c->check > 0 && now >= e->check_at;

            if (f || !(reload || check)) {
                rc = fn ? fn(ctx, e->val) : 0;
                break;
            }
            rc = refresh(c, key, e, reload, ld, fn, ctx, err);
            break;
        }
        if (f == NULL) {
            if (e)
                unlink_entry(c, e); /* expired */
            rc = load_cold(c, key, ld, fn, ctx, err);
            break;
        }
        /* someone loads key: wait for the outcome */
        f->refs++;
        c->stats.waits++;
        while (!f->done)
            pthread_cond_wait(&c->done, &c->lock);
        if (!f->have) {
            rc = f->rc;
            if (rc < 0)
                append_err(err, &f->err);
            flight_unref(f);
            break;
        }
        flight_unref(f); /* the value is in the cache now: look again */
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}
