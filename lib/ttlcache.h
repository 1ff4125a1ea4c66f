/*
 * ttlcache - a bounded cache with a time to live, shared by threads:
 * string key (ASCII case-insensitive) -> an opaque value the cache owns.
 *
 * Every entry lives ttl_ms from the moment it was put (its hard TTL: no
 * value older than that is ever served).  The cache holds at most
 * max_entries; a put into a full cache first drops the expired entries,
 * then, if that freed nothing, the oldest one (so the newest answer always
 * gets in).  Putting a key that exists replaces its value and makes it the
 * newest.  A TTL of 0 disables the cache: every get misses and put frees
 * the value at once.  Callers cache answers (found and not found), never
 * temporary failures.
 *
 * Values are not copied out: ttlcache_get runs the caller's function on the
 * value with the cache's mutex held, so the function reads (or copies) what
 * it needs and must not call back into the same cache.  Values are freed
 * with the free_val function given at creation (NULL: not freed).
 *
 * Read-through (ttlcache_fetch, with a struct ttlcache_loader):
 *   - a cold miss loads the value; one caller loads (single flight), the
 *     others asking for the same key meanwhile wait for its result;
 *   - refresh ahead: a get of an entry older than its refresh age (about
 *     3/4 of the TTL, less a per-entry random share of up to 1/8 of the
 *     TTL, so entries put together do not all come due together) reloads
 *     it, one caller per key; the others keep getting the old value, which
 *     is still within its hard TTL;
 *   - revalidation: with check_ms > 0, a get of an entry last checked
 *     check_ms ago runs the loader's check (one caller per key, the others
 *     get the value as it is); "changed" reloads it at once;
 *   - a refresh that fails keeps serving the old value until its hard TTL;
 *     a cold load that fails is returned to every caller that waited.
 * Entries never expire all at once: each expires ttl_ms after its own put.
 *
 * Limits: TTLCACHE_MAX_ENTRIES entries at most.  Time is clock_ms().
 * Thread safety: every function may be called from any thread.
 */
#ifndef POSTERN_TTLCACHE_H
#define POSTERN_TTLCACHE_H

#include <stddef.h>

#include "str.h"

#define TTLCACHE_MAX_ENTRIES ((size_t)1 << 24)

struct ttlcache;

/* ttlcache_new - max_entries 1..TTLCACHE_MAX_ENTRIES (clamped). */
struct ttlcache *ttlcache_new(size_t max_entries, long long ttl_ms,
                              void (*free_val)(void *));
void ttlcache_free(struct ttlcache *c);

/*
 * ttlcache_get - if key is cached and fresh, call fn(ctx, value) under the
 * cache's lock and return 1 (fn's return value is stored in *fn_rc when
 * fn_rc is not NULL); else 0.  An expired entry found on the way is freed.
 */
int ttlcache_get(struct ttlcache *c, const char *key,
                 int (*fn)(void *ctx, void *val), void *ctx, int *fn_rc);
/* ttlcache_put - store val under key (the cache owns val from now on). */
void ttlcache_put(struct ttlcache *c, const char *key, void *val);
/* ttlcache_del - forget key; 1 if it was cached. */
int ttlcache_del(struct ttlcache *c, const char *key);
/*
 * A loader for ttlcache_fetch; ctx is the caller's (e.g. its own LDAP
 * connection), called without the cache's lock.
 *   load   build the value of key: rc >= 0 with *val set (cached when not
 *          NULL; NULL: rc is the answer, nothing cached), or rc < 0
 *          (+ *err): a failure, never cached
 *   check  NULL, or: is val (cached) still current?  1 yes, 0 no (reload
 *          now), < 0 cannot tell now (served as it is, checked again after
 *          check_ms); val stays valid during the call
 */
struct ttlcache_loader {
    int (*load)(void *ctx, const char *key, void **val, struct str *err);
    int (*check)(void *ctx, const char *key, void *val, struct str *err);
    void *ctx;
};

/*
 * ttlcache_fetch - fn(ctx, value of key) under the cache's lock, the value
 * from the cache or from ld (see above); returns fn's return value, or the
 * load's rc when there is no value (rc < 0: a failure, + *err).  fn must
 * not call back into the cache.
 */
int ttlcache_fetch(struct ttlcache *c, const char *key,
                   const struct ttlcache_loader *ld,
                   int (*fn)(void *ctx, void *val), void *ctx,
                   struct str *err);

/* ttlcache_set_refresh - refresh entries through ttlcache_fetch once they
   are older than refresh_ms (0: 3/4 of the TTL; at most the TTL) and
   revalidate them every check_ms (0: never). */
void ttlcache_set_refresh(struct ttlcache *c, long long refresh_ms,
                          long long check_ms);

struct ttlcache_stats {
    unsigned long long loads;      /* cold loads and refreshes run */
    unsigned long long refreshes;  /* of those, refreshes ahead of expiry */
    unsigned long long checks;     /* revalidations run */
    unsigned long long waits;      /* callers that waited for a load */
};

/* ttlcache_stats - counters since ttlcache_new. */
void ttlcache_stats(struct ttlcache *c, struct ttlcache_stats *out);

/* ttlcache_count - entries held now (expired ones included until dropped). */
size_t ttlcache_count(struct ttlcache *c);

#endif
