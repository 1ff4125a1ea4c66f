/*
 * cache - a small TTL cache shared by the milter threads: key (a group
 * address or DN, compared case-insensitively) -> found flag and a list of
 * strings.  Negative answers are cached too (most recipients are not
 * groups); temporary failures never are.  A TTL of 0 disables the cache.
 *
 * Limits: MCACHE_MAX entries; when full, expired entries are dropped, and
 * if that frees nothing the whole cache is emptied (simple and bounded).
 * One mutex protects the table; values are copied in and out.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "clock.h"
#include "milter.h"

#define MCACHE_MAX 20000
#define MCACHE_BUCKETS 4096

struct mentry {
    char *key;
    int found;
    struct slist vals;
    long long expires;
    struct mentry *next;
};

struct mcache {
    pthread_mutex_t lock;
    long long ttl;
    size_t count;
    struct mentry *b[MCACHE_BUCKETS];
};

static unsigned hash(const char *s)
{
    unsigned h = 5381;

    while (*s)
        h = h * 33 + (unsigned)tolower((unsigned char)*s++);
    return h % MCACHE_BUCKETS;
}

struct mcache *mcache_create(long long ttl_ms)
{
    struct mcache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        log_fatal("out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->ttl = ttl_ms;
    return c;
}

static void entry_free(struct mentry *e)
{
    free(e->key);
    slist_free(&e->vals);
    free(e);
}

/* drop entries (all, or only the expired ones); lock held */
static void prune(struct mcache *c, int all, long long now)
{
    for (size_t i = 0; i < MCACHE_BUCKETS; i++) {
        struct mentry **pp = &c->b[i];
        while (*pp) {
            struct mentry *e = *pp;
            if (all || e->expires <= now) {
                *pp = e->next;
                entry_free(e);
                c->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

void mcache_free(struct mcache *c)
{
    if (c == NULL)
        return;
    prune(c, 1, 0);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int mcache_get(struct mcache *c, const char *key, int *found,
               struct slist *out)
{
    long long now = clock_ms();
    int hit = 0;

    if (c->ttl <= 0)
        return 0;
    pthread_mutex_lock(&c->lock);
    for (struct mentry *e = c->b[hash(key)]; e; e = e->next)
        if (!strcasecmp(e->key, key) && e->expires > now) {
            if (slist_copy(out, &e->vals) == 0) {
                *found = e->found;
                hit = 1;
            }
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void mcache_put(struct mcache *c, const char *key, int found,
                const struct slist *vals)
{
    struct mentry *e;
    long long now = clock_ms();
    unsigned h = hash(key);

    if (c->ttl <= 0 || (e = calloc(1, sizeof(*e))) == NULL)
        return;
    if ((e->key = strdup(key)) == NULL ||
        (vals && slist_copy(&e->vals, vals) < 0)) {
        entry_free(e);
        return;
    }
    e->found = found;
    e->expires = now + c->ttl;
    pthread_mutex_lock(&c->lock);
    for (struct mentry **pp = &c->b[h]; *pp; pp = &(*pp)->next)
        if (!strcasecmp((*pp)->key, key)) {
            struct mentry *old = *pp;
            *pp = old->next;
            entry_free(old);
            c->count--;
            break;
        }
    if (c->count >= MCACHE_MAX) {
        prune(c, 0, now);
        if (c->count >= MCACHE_MAX)
            prune(c, 1, now);
    }
    e->next = c->b[h];
    c->b[h] = e;
    c->count++;
    pthread_mutex_unlock(&c->lock);
}
