/*
 * ttlcache - a bounded cache with a time to live, shared by threads:
 * string key (ASCII case-insensitive) -> an opaque value the cache owns.
 *
 * Every entry lives ttl_ms from the moment it was put.  The cache holds at
 * most max_entries; a put into a full cache first drops the expired
 * entries, then, if that freed nothing, the oldest one (so the newest
 * answer always gets in).  Putting a key that exists replaces its value and
 * makes it the newest.  A TTL of 0 disables the cache: every get misses and
 * put frees the value at once.  Callers cache answers (found and not
 * found), never temporary failures.
 *
 * Values are not copied out: ttlcache_get runs the caller's function on the
 * value with the cache's mutex held, so the function reads (or copies) what
 * it needs and must not call back into the same cache.  Values are freed
 * with the free_val function given at creation (NULL: not freed).
 *
 * Limits: TTLCACHE_MAX_ENTRIES entries at most.  Time is clock_ms().
 * Thread safety: every function may be called from any thread.
 */
#ifndef POSTERN_TTLCACHE_H
#define POSTERN_TTLCACHE_H

#include <stddef.h>

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
/* ttlcache_count - entries held now (expired ones included until dropped). */
size_t ttlcache_count(struct ttlcache *c);

#endif
