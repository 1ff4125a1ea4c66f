/*
 * test_ttlcache - lib/ttlcache: case-insensitive keys, the bound, eviction
 * of expired entries before the oldest, replacement, TTL 0, freeing, and
 * several threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "ttlcache.h"
#include "unit.h"

static int freed;

static void free_val(void *v)
{
    freed++;
    free(v);
}

static int read_val(void *ctx, void *val)
{
    snprintf(ctx, 64, "%s", (const char *)val);
    return 7;
}

/* got - the cached value of key, or "" */
static const char *got(struct ttlcache *c, const char *key)
{
    static char buf[64];

    buf[0] = '\0';
    if (!ttlcache_get(c, key, read_val, buf, NULL))
        return "(miss)";
    return buf;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static void test_basic(void)
{
    struct ttlcache *c = ttlcache_new(10, 60000, free_val);
    char buf[64];
    int rc = 0;

    ttlcache_put(c, "Group@Example.ORG", xstrdup("v1"));
    CHECK_STR(got(c, "group@example.org"), "v1", "keys are case-insensitive");
    CHECK_STR(got(c, "GROUP@EXAMPLE.ORG"), "v1", "also upper case");
    CHECK(ttlcache_get(c, "group@example.org", read_val, buf, &rc) && rc == 7,
          "fn's return value reaches the caller");
    CHECK_STR(got(c, "other@example.org"), "(miss)", "absent key misses");
    freed = 0;
    ttlcache_put(c, "GROUP@example.org", xstrdup("v2"));
    CHECK_STR(got(c, "group@example.org"), "v2", "put replaces the value");
    CHECK(freed == 1 && ttlcache_count(c) == 1, "the old value is freed");
    CHECK(ttlcache_del(c, "group@EXAMPLE.org") == 1 && freed == 2,
          "del frees the value");
    CHECK_STR(got(c, "group@example.org"), "(miss)", "deleted key misses");
    ttlcache_free(c);
}

static void test_bound_oldest(void)
{
    struct ttlcache *c = ttlcache_new(3, 60000, free_val);
    char k[16];

    for (int i = 0; i < 3; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        ttlcache_put(c, k, xstrdup(k));
    }
    freed = 0;
    ttlcache_put(c, "k3", xstrdup("k3"));
    CHECK(ttlcache_count(c) == 3, "bounded: still 3 entries");
    CHECK_STR(got(c, "k0"), "(miss)", "the oldest entry was evicted");
    CHECK_STR(got(c, "k3"), "k3", "the newest entry is in");
    CHECK_STR(got(c, "k1"), "k1", "the others stay");
    CHECK(freed == 1, "the evicted value was freed");
    /* a replaced key becomes the newest */
    ttlcache_put(c, "k1", xstrdup("k1b"));
    ttlcache_put(c, "k4", xstrdup("k4"));
    CHECK_STR(got(c, "k2"), "(miss)", "k2 is now the oldest and goes");
    CHECK_STR(got(c, "k1"), "k1b", "the re-put k1 stays");
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof(k), "x%d", i);
        ttlcache_put(c, k, xstrdup(k));
    }
    CHECK(ttlcache_count(c) == 3, "1000 puts: never more than the bound");
    ttlcache_free(c);
}

static void test_expired_first(void)
{
    struct ttlcache *c = ttlcache_new(3, 80, free_val);

    ttlcache_put(c, "a", xstrdup("a"));
    ttlcache_put(c, "b", xstrdup("b"));
    sleep_ms(120);
    ttlcache_put(c, "c", xstrdup("c"));
    CHECK_STR(got(c, "a"), "(miss)", "an expired entry misses");
    CHECK(ttlcache_count(c) == 2, "and is freed when met");
    ttlcache_put(c, "d", xstrdup("d"));
    freed = 0;
    /* full (b expired, c, d): a put drops expired b, keeps c and d */
    ttlcache_put(c, "e", xstrdup("e"));
    CHECK(freed == 1 && ttlcache_count(c) == 3, "full: one entry dropped");
    CHECK_STR(got(c, "c"), "c", "fresh c kept (the expired entry went)");
    CHECK_STR(got(c, "d"), "d", "fresh d kept");
    CHECK_STR(got(c, "e"), "e", "new e in");
    sleep_ms(120);
    ttlcache_put(c, "f", xstrdup("f"));
    CHECK(ttlcache_count(c) == 1, "all expired: all dropped for the new one");
    ttlcache_free(c);
}

static void test_ttl_zero(void)
{
    struct ttlcache *c = ttlcache_new(3, 0, free_val);

    freed = 0;
    ttlcache_put(c, "a", xstrdup("a"));
    CHECK(freed == 1 && ttlcache_count(c) == 0, "TTL 0: put frees at once");
    CHECK_STR(got(c, "a"), "(miss)", "TTL 0: every get misses");
    ttlcache_free(c);
}

static struct ttlcache *shared;

static int count_val(void *ctx, void *val)
{
    (void)val;
    ++*(int *)ctx;
    return 0;
}

static void *worker(void *arg)
{
    char k[32];
    int hits = 0;

    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof(k), "K%ld-%d", (long)(size_t)arg, i % 300);
        if (!ttlcache_get(shared, k, count_val, &hits, NULL))
            ttlcache_put(shared, k, xstrdup(k));
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];

    shared = ttlcache_new(500, 60000, free);
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(ttlcache_count(shared) <= 500, "4 threads: the bound holds");
    ttlcache_free(shared);
}

int main(void)
{
    test_basic();
    test_bound_oldest();
    test_expired_first();
    test_ttl_zero();
    test_threads();
    return UNIT_END();
}
