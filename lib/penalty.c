/*
 * penalty - growing delays after failed logins.  See penalty.h.
 *
 * One hmap from key to a small record; a record with no failures and no
 * attempt held is freed at once.  Making room in a full table walks it
 * (rare: max_entries distinct keys within forget_ms).
 */
#include "penalty.h"

#include <stdlib.h>

#include "hash.h"
#include "mem.h"

#define PENALTY_MIN_ENTRIES 16

struct penalty_rec {
    unsigned fails;
    unsigned held;
    long long last_fail;
};

struct penalty {
    struct penalty_settings set;
    struct hmap map; /* key (copied) -> struct penalty_rec */
    size_t max;
};

struct penalty *penalty_new(const struct penalty_settings *set,
                            size_t max_entries)
{
    struct penalty *p = xcalloc(1, sizeof(*p));

    p->set = *set;
    p->max = max_entries < PENALTY_MIN_ENTRIES ? PENALTY_MIN_ENTRIES
                                               : max_entries;
    hmap_init(&p->map, 64, HMAP_COPYKEYS);
    return p;
}

void penalty_free(struct penalty *p)
{
    if (p) {
        hmap_free(&p->map, free);
        free(p);
    }
}

void penalty_set(struct penalty *p, const struct penalty_settings *set)
{
    p->set = *set;
}

static int forgotten(const struct penalty *p, const struct penalty_rec *r,
                     long long now)
{
    return r->fails == 0 || now - r->last_fail >= p->set.forget_ms;
}

/* rec - the live record of key (failures forgotten on the way), or NULL */
static struct penalty_rec *rec(struct penalty *p, const char *key,
                               long long now)
{
    struct penalty_rec *r = hmap_get(&p->map, key);

    if (r && forgotten(p, r, now)) {
        r->fails = 0;
        if (r->held == 0) {
            free(hmap_del(&p->map, key));
            return NULL;
        }
    }
    return r;
}

long long penalty_delay_ms(struct penalty *p, const char *key, long long now)
{
    struct penalty_rec *r = rec(p, key, now);
    long long d;

    if (r == NULL || r->fails == 0)
        return 0;
    d = p->set.initial_ms;
    for (unsigned i = 1; i < r->fails && d < p->set.max_ms; i++)
        d *= 2;
    return d < p->set.max_ms ? d : p->set.max_ms;
}

unsigned penalty_failures(struct penalty *p, const char *key, long long now)
{
    struct penalty_rec *r = rec(p, key, now);

    return r ? r->fails : 0;
}

/* make_room - drop the forgotten keys; if none, the idle key that failed
   longest ago (keys are copied out first: no deletion while iterating) */
static void make_room(struct penalty *p, long long now)
{
    size_t it = 0, n = 0;
    const char *k;
    char *oldest = NULL;
    char **drop = xcalloc(hmap_count(&p->map) + 1, sizeof(*drop));
    void *v;
    long long oldest_at = 0;

    while (hmap_next(&p->map, &it, &k, &v)) {
        struct penalty_rec *r = v;
        if (r->held > 0)
            continue;
        if (forgotten(p, r, now))
            drop[n++] = xstrdup(k);
        else if (oldest == NULL || r->last_fail < oldest_at) {
            free(oldest);
            oldest = xstrdup(k);
            oldest_at = r->last_fail;
        }
    }
    if (n == 0 && oldest != NULL)
        drop[n++] = oldest;
    else
        free(oldest);
    for (size_t i = 0; i < n; i++) {
        free(hmap_del(&p->map, drop[i]));
        free(drop[i]);
    }
    free(drop);
}

static struct penalty_rec *rec_new(struct penalty *p, const char *key,
                                   long long now)
{
    struct penalty_rec *r;

    if (hmap_count(&p->map) >= p->max)
        make_room(p, now);
    r = xcalloc(1, sizeof(*r));
    hmap_put(&p->map, key, r);
    return r;
}

void penalty_fail(struct penalty *p, const char *key, long long now)
{
    struct penalty_rec *r = rec(p, key, now);

    if (r == NULL)
        r = rec_new(p, key, now);
    if (r->fails < 64)
        r->fails++;
    r->last_fail = now;
}

void penalty_clear(struct penalty *p, const char *key)
{
    struct penalty_rec *r = hmap_get(&p->map, key);

    if (r == NULL)
        return;
    r->fails = 0;
    if (r->held == 0)
        free(hmap_del(&p->map, key));
}

void penalty_hold(struct penalty *p, const char *key, int delta)
{
    struct penalty_rec *r = hmap_get(&p->map, key);

    if (r == NULL) {
        if (delta <= 0)
            return;
        r = rec_new(p, key, 0);
    }
    if (delta > 0)
        r->held++;
    else if (r->held > 0)
        r->held--;
    if (r->held == 0 && r->fails == 0)
        free(hmap_del(&p->map, key));
}

unsigned penalty_held(struct penalty *p, const char *key)
{
    struct penalty_rec *r = hmap_get(&p->map, key);

    return r ? r->held : 0;
}
