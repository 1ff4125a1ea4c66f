/*
 * test_ttlcache - lib/ttlcache: case-insensitive keys, the bound, eviction
 * of expired entries before the oldest, replacement, TTL 0, freeing,
 * several threads at once, and read-through (ttlcache_fetch): one load per
 * key for many callers (single flight), refresh ahead of expiry while the
 * others get the old value, a failed load for all who waited, checks.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
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

/* --- read-through --------------------------------------------------------- */

static atomic_int loads, loading, load_fail, checks_run, check_answer;
static atomic_int load_gen, load_ms = 150;

/* slow_load - load_ms, then "vN" (N counts loads), or a failure */
static int slow_load(void *ctx, const char *key, void **val, struct str *err)
{
    char buf[32];

    (void)ctx, (void)key;
    atomic_fetch_add(&loading, 1);
    sleep_ms(atomic_load(&load_ms));
    atomic_fetch_add(&loads, 1);
    atomic_fetch_sub(&loading, 1);
    if (atomic_load(&load_fail)) {
        str_appendf(err, "source down");
        return -1;
    }
    snprintf(buf, sizeof(buf), "v%d", atomic_fetch_add(&load_gen, 1) + 1);
    *val = xstrdup(buf);
    return 1;
}

static int quick_check(void *ctx, const char *key, void *val, struct str *err)
{
    (void)ctx, (void)key, (void)val, (void)err;
    atomic_fetch_add(&checks_run, 1);
    return atomic_load(&check_answer);
}

struct fetcher {
    struct ttlcache *c;
    char got[64];
    int rc;
    long long ms;
    int saw_loading;  /* a load was running when the value was read */
};

static int read_val_live(void *ctx, void *val)
{
    struct fetcher *f = ctx;

    snprintf(f->got, sizeof(f->got), "%s", (const char *)val);
    f->saw_loading = atomic_load(&loading) > 0;
    return 7;
}

static const struct ttlcache_loader slow = {slow_load, quick_check, NULL};

static void *fetch_thread(void *arg)
{
    struct fetcher *f = arg;
    struct str err = STR_INIT;
    long long t0 = clock_ms();

    f->got[0] = '\0';
    f->rc = ttlcache_fetch(f->c, "key", &slow, read_val_live, f, &err);
    f->ms = clock_ms() - t0;
    if (f->rc < 0)
        snprintf(f->got, sizeof(f->got), "%s", str_cstr(&err));
    str_free(&err);
    return NULL;
}

/* run_fetchers - n threads fetch "key" at once */
static void run_fetchers(struct ttlcache *c, struct fetcher *f, int n)
{
    pthread_t t[8];

    for (int i = 0; i < n; i++) {
        f[i].c = c;
        pthread_create(&t[i], NULL, fetch_thread, &f[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static void test_single_flight(void)
{
    struct ttlcache *c = ttlcache_new(10, 60000, free);
    struct ttlcache_stats st;
    struct fetcher f[8];
    int same = 1;

    atomic_store(&loads, 0);
    run_fetchers(c, f, 8);
    for (int i = 0; i < 8; i++)
        same &= !strcmp(f[i].got, "v1") && f[i].rc == 7;
    CHECK(atomic_load(&loads) == 1, "8 callers, a cold key: one load (%d)",
          atomic_load(&loads));
    CHECK(same, "all 8 got its value and fn's outcome");
    ttlcache_stats(c, &st);
    CHECK(st.waits == 7 && st.loads == 1, "7 waited for the one load (%llu)",
          st.waits);
    ttlcache_free(c);

    /* a cold load that fails: every caller that waited gets the failure */
    c = ttlcache_new(10, 60000, free);
    atomic_store(&load_fail, 1);
    atomic_store(&loads, 0);
    run_fetchers(c, f, 4);
    same = 1;
    for (int i = 0; i < 4; i++)
        same &= f[i].rc == -1 && !strcmp(f[i].got, "source down");
    CHECK(same && atomic_load(&loads) == 1,
          "a failed load: one load, all 4 callers get the failure and why");
    atomic_store(&load_fail, 0);
    CHECK(ttlcache_count(c) == 0, "the failure is not cached");
    ttlcache_free(c);
}

static void test_refresh_ahead(void)
{
    struct ttlcache *c = ttlcache_new(10, 400, free);
    struct ttlcache_stats st;
    struct fetcher f[6];
    int old = 0, fresh = 0, quick = 0;

    atomic_store(&load_gen, 0);
    run_fetchers(c, f, 1);                 /* v1, put at t = 0 */
    sleep_ms(310);                         /* past 3/4 of the TTL */
    run_fetchers(c, f, 6);
    for (int i = 0; i < 6; i++) {
        old += !strcmp(f[i].got, "v1");
        fresh += !strcmp(f[i].got, "v2");
        quick += f[i].ms < 100;
    }
    CHECK(fresh == 1 && old == 5,
          "due for refresh: one caller refreshes (v2), the other 5 get v1 "
          "(%d, %d)", fresh, old);
    CHECK(quick == 5, "... at once, not waiting for the refresh (%d)", quick);
    ttlcache_stats(c, &st);
    CHECK(st.refreshes == 1 && st.waits == 0, "one refresh, nobody waited");
    run_fetchers(c, f, 1);
    CHECK_STR(f[0].got, "v2", "afterwards the new value");

    ttlcache_free(c);

    /* a refresh that fails keeps the old value until its hard TTL */
    c = ttlcache_new(10, 1000, free);
    run_fetchers(c, f, 1);
    sleep_ms(760);
    atomic_store(&load_fail, 1);
    run_fetchers(c, f, 1);
    CHECK(f[0].rc == 7 && !strcmp(f[0].got, "v3"),
          "a failed refresh: the old value serves within the TTL (%s)",
          f[0].got);
    sleep_ms(150);
    run_fetchers(c, f, 1);
    CHECK(f[0].rc == -1, "past the hard TTL: the failure (%s)", f[0].got);
    atomic_store(&load_fail, 0);
    ttlcache_free(c);
}

static void test_check(void)
{
    struct ttlcache *c = ttlcache_new(10, 60000, free);
    struct fetcher f[1];

    ttlcache_set_refresh(c, 0, 100);
    atomic_store(&load_gen, 0);
    atomic_store(&check_answer, 1);
    run_fetchers(c, f, 1);
    atomic_store(&checks_run, 0);
    run_fetchers(c, f, 1);
    CHECK(atomic_load(&checks_run) == 0 && !strcmp(f[0].got, "v1"),
          "within check_ms: no check");
    sleep_ms(120);
    run_fetchers(c, f, 1);
    CHECK(atomic_load(&checks_run) == 1 && !strcmp(f[0].got, "v1") &&
              f[0].ms < 100,
          "after check_ms: checked, unchanged: the same value, no load");
    run_fetchers(c, f, 1);
    CHECK(atomic_load(&checks_run) == 1, "next check only after check_ms");
    atomic_store(&check_answer, 0);
    sleep_ms(120);
    run_fetchers(c, f, 1);
    CHECK_STR(f[0].got, "v2", "changed: reloaded at once");
    atomic_store(&check_answer, -1);
    sleep_ms(120);
    run_fetchers(c, f, 1);
    CHECK_STR(f[0].got, "v2", "cannot tell: the value serves");
    ttlcache_free(c);
}

/* entries put together come due at different times (refresh jitter) */
static void test_spread(void)
{
    struct ttlcache *c = ttlcache_new(100, 800, free);
    struct str err = STR_INIT;
    struct fetcher f;
    char k[16];
    int due = 0;

    f.c = c;
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        ttlcache_put(c, k, xstrdup("old"));
    }
    /* the refresh points lie in (3/4 - 1/8, 3/4] of 800 ms: 500..600 */
    sleep_ms(550);
    atomic_store(&loads, 0);
    atomic_store(&load_ms, 0);
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        ttlcache_fetch(c, k, &slow, read_val_live, &f, &err);
    }
    due = atomic_load(&loads);
    atomic_store(&load_ms, 150);
    CHECK(due > 0 && due < 40,
          "40 entries put at once: only some are due at 550 ms (%d)", due);
    str_free(&err);
    ttlcache_free(c);
}

int main(void)
{
    test_basic();
    test_bound_oldest();
    test_expired_first();
    test_ttl_zero();
    test_threads();
    test_single_flight();
    test_refresh_ahead();
    test_check();
    test_spread();
    return UNIT_END();
}
