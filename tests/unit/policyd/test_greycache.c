/*
 * test_greycache - the greylisting cache of postern-policyd
 * (policyd/greycache.c) filled past its bound: it keeps its newest entries
 * and answers for them, drops the oldest ones gradually (never all at
 * once), keeps an entry stored again, drops entries older than the ttl
 * first, and never holds more than its bound, with one shard (a small
 * cache) and with many (a large one).  No database: the writer thread
 * starts without one and nothing is queued.
 */
#include <stdio.h>
#include <string.h>

#include "policyd.h"
#include "unit.h"

#define T0 1700000000LL

static void key_of(char *buf, size_t size, long i)
{
    snprintf(buf, size, "10.%ld.%ld.0/24 sender%ld@example.org user@school.example",
             (i >> 8) & 255, i & 255, i);
}

static struct gc_state state_of(long i, long long at)
{
    struct gc_state st = {T0 + i, T0 + i, -1, 0, T0 + i, (time_t)at, 0};
    return st;
}

/* answers - how many of keys [from, to) the cache answers for, with the
   state stored for them */
static long answers(struct greycache *gc, long from, long to, long long now)
{
    char k[128];
    long n = 0;

    for (long i = from; i < to; i++) {
        struct gc_state st;
        key_of(k, sizeof(k), i);
        if (gc_get(gc, k, (time_t)now, &st) && st.first == T0 + i)
            n++;
    }
    return n;
}

static void small_cache(void)
{
    struct policyd_config cfg;
    struct str err = STR_INIT;
    struct greycache *gc;
    char k[128];
    long kept_key = 7;

    memset(&cfg, 0, sizeof(cfg));
    cfg.greylist_cache_size = 1000; /* the configured minimum */
    cfg.greylist_cache_ttl = 3600 * 1000;
    cfg.db.hosts = ""; /* no database: the writer starts without one */
    cfg.db.name = cfg.db.user = "x";
    cfg.db.password_file = "";
    gc = gc_new(&cfg, &err);
    CHECK(gc != NULL, "a cache of 1,000 entries (%s)", str_cstr(&err));
    if (gc == NULL)
        return;
    for (long i = 0; i < 2500; i++) {
        key_of(k, sizeof(k), i);
        struct gc_state st = state_of(i, T0 + i / 100);
        gc_put(gc, k, &st);
        if (i % 100 == 99) { /* key 7 is stored again now and then */
            key_of(k, sizeof(k), kept_key);
            st = state_of(kept_key, T0 + i / 100);
            gc_put(gc, k, &st);
        }
    }
    CHECK(answers(gc, 1501, 2500, T0 + 25) == 999,
          "filled with 2,500 entries: the newest 999 answer (%ld)",
          answers(gc, 1501, 2500, T0 + 25));
    CHECK(answers(gc, kept_key, kept_key + 1, T0 + 25) == 1,
          "an entry stored again is new again: it stays");
    CHECK(answers(gc, 0, kept_key, T0 + 25) + answers(gc, kept_key + 1, 1501,
                                                      T0 + 25) == 0,
          "the oldest entries were dropped");
    /* one more store drops exactly one entry, the oldest */
    key_of(k, sizeof(k), 2500);
    struct gc_state st = state_of(2500, T0 + 25);
    gc_put(gc, k, &st);
    CHECK(answers(gc, 1502, 2501, T0 + 25) == 999 &&
              answers(gc, 1501, 1502, T0 + 25) == 0,
          "a store into the full cache drops one entry, the oldest");
    CHECK(answers(gc, kept_key, kept_key + 1, T0 + 25) == 1,
          "the entry stored again is still there");
    gc_free(gc);
    str_free(&err);
}

static void expiry(void)
{
    struct gc_cache *c = gc_cache_new(1000, 60);
    char k[128];
    struct gc_state st;

    for (long i = 0; i < 10; i++) { /* old entries */
        key_of(k, sizeof(k), i);
        st = state_of(i, T0);
        gc_cache_put(c, k, &st);
    }
    for (long i = 10; i < 15; i++) { /* 100 s later: each drops 2 expired */
        key_of(k, sizeof(k), i);
        st = state_of(i, T0 + 100);
        gc_cache_put(c, k, &st);
    }
    CHECK(gc_cache_count(c) == 5, "5 stores after the ttl dropped the 10 "
          "expired entries, 2 per store (%zu left)", gc_cache_count(c));
    key_of(k, sizeof(k), 12);
    CHECK(gc_cache_get(c, k, T0 + 100, &st) == 1 && st.first == T0 + 12,
          "a fresh entry answers");
    key_of(k, sizeof(k), 12);
    CHECK(gc_cache_get(c, k, T0 + 161, &st) == 0,
          "an entry older than the ttl does not answer");
    gc_cache_set_ttl(c, 0); /* a reload with greylist_cache_ttl = 0 */
    CHECK(gc_cache_get(c, k, T0 + 101, &st) == 0,
          "a lowered ttl applies at once");
    CHECK(gc_cache_get(c, k, T0 + 100, &st) == 1,
          "with ttl 0 an entry answers within the second it was stored "
          "(this node's own writes)");
    gc_cache_free(c);
}

/* own_writes - a state this host changed answers until its write is done */
static void own_writes(void)
{
    struct gc_cache *c = gc_cache_new(1000, 0);
    struct gc_state st, got;

    st = state_of(1, T0);
    gc_cache_put_own(c, "t own", &st, 7);
    CHECK(gc_cache_get(c, "t own", T0 + 5, &got) == 1 && got.first == T0 + 1,
          "an own change not yet written answers after the ttl");
    st = state_of(2, T0 + 5);
    gc_cache_put(c, "t own", &st);
    CHECK(gc_cache_get(c, "t own", T0 + 5, &got) == 1 && got.first == T0 + 1,
          "a state read from the database does not replace it");
    gc_cache_done(c, 6);
    CHECK(gc_cache_get(c, "t own", T0 + 5, &got) == 1,
          "the writer has committed up to an earlier change: still answers");
    gc_cache_done(c, 7);
    CHECK(gc_cache_get(c, "t own", T0 + 5, &got) == 0,
          "once written, the ttl applies again");
    gc_cache_put(c, "t own", &st);
    CHECK(gc_cache_get(c, "t own", T0 + 5, &got) == 1 && got.first == T0 + 2,
          "and a state read replaces it");
    gc_cache_put_own(c, "t own", &st, 0);
    CHECK(gc_cache_get(c, "t own", T0 + 6, &got) == 0,
          "an own change with no write queued follows the ttl");
    gc_cache_free(c);
}

static void large_cache(void)
{
    struct gc_cache *c = gc_cache_new(100000, 3600);
    char k[128];
    long newest = 0, most_dropped = 0;
    size_t before = 0;

    for (long i = 0; i < 300000; i++) {
        key_of(k, sizeof(k), i);
        struct gc_state st = state_of(i, T0 + i / 1000);
        if (i >= 290000)
            before = gc_cache_count(c);
        gc_cache_put(c, k, &st);
        if (i >= 290000 && (long)before + 1 - (long)gc_cache_count(c) >
                               most_dropped)
            most_dropped = (long)before + 1 - (long)gc_cache_count(c);
    }
    CHECK(most_dropped <= 3, "a store into the full cache drops at most 3 "
          "entries (the oldest, and 2 expired), never the cache (%ld)",
          most_dropped);
    CHECK(gc_cache_count(c) == 100000,
          "300,000 stores into 100,000 entries (shards): it holds its bound "
          "(%zu)", gc_cache_count(c));
    for (long i = 295000; i < 300000; i++) {
        struct gc_state st;
        key_of(k, sizeof(k), i);
        newest += gc_cache_get(c, k, T0 + 300, &st) == 1 && st.first == T0 + i;
    }
    CHECK(newest == 5000, "the newest 5,000 entries all answer (%ld)",
          newest);
    key_of(k, sizeof(k), 0);
    {
        struct gc_state st;
        CHECK(gc_cache_get(c, k, T0 + 300, &st) == 0,
              "the oldest entry is gone");
    }
    gc_cache_free(c);
}

int main(void)
{
    small_cache();
    expiry();
    own_writes();
    large_cache();
    return UNIT_END();
}
