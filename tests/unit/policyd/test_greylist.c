/*
 * test_greylist - the greylisting state step of postern-policyd
 * (greylist_step() in policyd/greylist.c), table-driven: first sight, a
 * retry too early / in the window / after the window, passed triplets and
 * their expiry, the hourly last_seen grain, auto-whitelisting of client
 * networks, and every "now == boundary" edge.  No database, no clock: each
 * row gives the stored states and the time and expects the verdict, the
 * change queued for the database and the new states.
 */
#include <stdio.h>
#include <string.h>

#include "policyd.h"
#include "unit.h"

#define T0 1700000000LL
#define DELAY 300
#define WINDOW 14400
#define EXPIRY 3024000 /* 35 days */
#define AWL 3
#define NO GREY_NO_OP

/* a triplet row: first_seen, last_seen, passed_at (-1 = not yet), last_seen
   as written; a client row: pass_count, last_seen, last_seen as written */
#define TRIP(f, l, p, w) {(f), (l), (p), 0, (w), 0, 0}
#define CLIENT(n, l, w) {0, (l), -1, (n), (w), 0, 0}
#define ABSENT {0, 0, -1, 0, 0, 0, 1}

struct grey_case {
    const char *name;
    struct pd_grey_settings g;
    struct gc_state t, c;
    long long now;
    int verdict, first_pass, op, put_t, put_c;
    long long retry_in, waited;
    long long t_first, t_last, t_passed; /* expected new triplet (if put_t) */
    long long c_count, c_last;           /* expected new client (if put_c) */
};

static const struct pd_grey_settings G = {
    .enabled = 1, .delay = DELAY, .window = WINDOW, .expiry = EXPIRY,
    .awl_after = AWL, .v4prefix = 24, .v6prefix = 64};
static const struct pd_grey_settings G_NOAWL = {
    .enabled = 1, .delay = DELAY, .window = WINDOW, .expiry = EXPIRY,
    .awl_after = 0, .v4prefix = 24, .v6prefix = 64};
static const struct pd_grey_settings G_NODELAY = {
    .enabled = 1, .delay = 0, .window = WINDOW, .expiry = EXPIRY,
    .awl_after = AWL, .v4prefix = 24, .v6prefix = 64};

/* a triplet first seen at T0 and blocked since, not passed */
#define WAITING TRIP(T0, T0, -1, T0)
/* a triplet that passed at T0 + 400 */
#define PASSED TRIP(T0, T0 + 400, T0 + 400, T0 + 400)

static const struct grey_case cases[] = {
    /* name, settings, triplet, client, now,
       verdict, first_pass, op, put_t, put_c, retry_in, waited,
       t first/last/passed, c count/last */
    {"first sight: defer for the whole delay", G, ABSENT, ABSENT, T0,
     GV_DEFER, 0, GC_FIRST, 1, 0, DELAY, 0, T0, T0, -1, 0, 0},
    {"retry too early: defer for the rest, first_seen kept", G, WAITING,
     ABSENT, T0 + 100,
     GV_DEFER, 0, GC_BLOCK, 1, 0, DELAY - 100, 0, T0, T0 + 100, -1, 0, 0},
    {"retry one second before the delay: retry in 1 s", G, WAITING, ABSENT,
     T0 + DELAY - 1,
     GV_DEFER, 0, GC_BLOCK, 1, 0, 1, 0, T0, T0 + DELAY - 1, -1, 0, 0},
    {"retry exactly at the delay (now == first + delay) passes", G, WAITING,
     ABSENT, T0 + DELAY,
     GV_PASS, 1, GC_PASS, 1, 1, 0, DELAY, T0, T0 + DELAY, T0 + DELAY,
     1, T0 + DELAY},
    {"retry inside the window passes and counts the client", G, WAITING,
     ABSENT, T0 + 3600,
     GV_PASS, 1, GC_PASS, 1, 1, 0, 3600, T0, T0 + 3600, T0 + 3600,
     1, T0 + 3600},
    {"retry exactly at the end of the window (now == first + window) passes",
     G, WAITING, ABSENT, T0 + WINDOW,
     GV_PASS, 1, GC_PASS, 1, 1, 0, WINDOW, T0, T0 + WINDOW, T0 + WINDOW,
     1, T0 + WINDOW},
    {"retry one second after the window: start over", G, WAITING, ABSENT,
     T0 + WINDOW + 1,
     GV_DEFER, 0, GC_RESTART, 1, 0, DELAY, 0, T0 + WINDOW + 1,
     T0 + WINDOW + 1, -1, 0, 0},
    {"passed triplet again within the hour: pass, nothing written", G, PASSED,
     ABSENT, T0 + 400 + GC_SEEN_GRAIN - 1,
     GV_PASS, 0, NO, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"passed triplet after the hour (now == written + grain): last_seen "
     "written", G, PASSED, ABSENT, T0 + 400 + GC_SEEN_GRAIN,
     GV_PASS, 0, GC_SEEN, 1, 0, 0, 0, T0, T0 + 400 + GC_SEEN_GRAIN, T0 + 400,
     0, 0},
    {"passed triplet long after its window still passes", G, PASSED, ABSENT,
     T0 + 400 + 10 * WINDOW,
     GV_PASS, 0, GC_SEEN, 1, 0, 0, 0, T0, T0 + 400 + 10 * WINDOW, T0 + 400,
     0, 0},
    {"passed triplet unused exactly expiry seconds (now == last + expiry) "
     "passes", G, PASSED, ABSENT, T0 + 400 + EXPIRY,
     GV_PASS, 0, GC_SEEN, 1, 0, 0, 0, T0, T0 + 400 + EXPIRY, T0 + 400, 0, 0},
    {"passed triplet expired (now == last + expiry + 1): start over", G,
     PASSED, ABSENT, T0 + 400 + EXPIRY + 1,
     GV_DEFER, 0, GC_RESTART, 1, 0, DELAY, 0, T0 + 400 + EXPIRY + 1,
     T0 + 400 + EXPIRY + 1, -1, 0, 0},
    {"waiting triplet forgotten (last_seen older than expiry)",
     G, TRIP(T0 - EXPIRY - 10, T0 - EXPIRY - 1, -1, T0 - EXPIRY - 1), ABSENT,
     T0,
     GV_DEFER, 0, GC_RESTART, 1, 0, DELAY, 0, T0, T0, -1, 0, 0},
    {"first pass of a known client network adds to its count", G, WAITING,
     CLIENT(1, T0 - 50, T0 - 50), T0 + DELAY,
     GV_PASS, 1, GC_PASS, 1, 1, 0, DELAY, T0, T0 + DELAY, T0 + DELAY,
     2, T0 + DELAY},
    {"first pass of an expired client network counts from 1 again", G,
     WAITING, CLIENT(2, T0 + DELAY - EXPIRY - 1, T0 + DELAY - EXPIRY - 1),
     T0 + DELAY,
     GV_PASS, 1, GC_PASS, 1, 1, 0, DELAY, T0, T0 + DELAY, T0 + DELAY,
     1, T0 + DELAY},
    {"client below the auto-whitelist threshold is greylisted", G, ABSENT,
     CLIENT(AWL - 1, T0, T0), T0 + 10,
     GV_DEFER, 0, GC_FIRST, 1, 0, DELAY, 0, T0 + 10, T0 + 10, -1, 0, 0},
    {"client at the threshold is auto-whitelisted, nothing written", G,
     ABSENT, CLIENT(AWL, T0, T0), T0 + 10,
     GV_AWL, 0, NO, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"auto-whitelisted client after the hour: last_seen written", G, ABSENT,
     CLIENT(AWL, T0, T0), T0 + GC_SEEN_GRAIN,
     GV_AWL, 0, GC_CLIENT_SEEN, 0, 1, 0, 0, 0, 0, 0, AWL, T0 + GC_SEEN_GRAIN},
    {"auto-whitelisted client wins over a waiting triplet", G, WAITING,
     CLIENT(AWL + 5, T0, T0), T0 + 1,
     GV_AWL, 0, NO, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"auto-whitelisted client at now == last + expiry still whitelisted", G,
     ABSENT, CLIENT(AWL, T0, T0), T0 + EXPIRY,
     GV_AWL, 0, GC_CLIENT_SEEN, 0, 1, 0, 0, 0, 0, 0, AWL, T0 + EXPIRY},
    {"auto-whitelisted client expired (now == last + expiry + 1)", G, ABSENT,
     CLIENT(AWL, T0, T0), T0 + EXPIRY + 1,
     GV_DEFER, 0, GC_FIRST, 1, 0, DELAY, 0, T0 + EXPIRY + 1, T0 + EXPIRY + 1,
     -1, 0, 0},
    {"auto_whitelist_after = 0: never whitelisted", G_NOAWL, ABSENT,
     CLIENT(1000, T0, T0), T0 + 10,
     GV_DEFER, 0, GC_FIRST, 1, 0, DELAY, 0, T0 + 10, T0 + 10, -1, 0, 0},
    {"delay 0: first sight still defers, retry in 1 s", G_NODELAY, ABSENT,
     ABSENT, T0,
     GV_DEFER, 0, GC_FIRST, 1, 0, 1, 0, T0, T0, -1, 0, 0},
    {"delay 0: a retry in the same second passes", G_NODELAY, WAITING, ABSENT,
     T0,
     GV_PASS, 1, GC_PASS, 1, 1, 0, 0, T0, T0, T0, 1, T0},
    {"another host's clock ahead (first_seen in the future): defer", G,
     TRIP(T0 + 10, T0 + 10, -1, T0 + 10), ABSENT, T0,
     GV_DEFER, 0, GC_BLOCK, 1, 0, DELAY + 10, 0, T0 + 10, T0, -1, 0, 0},
};

static void run_case(const struct grey_case *k)
{
    struct gc_state t = k->t, c = k->c;
    struct grey_outcome o;

    greylist_step(&k->g, k->now, &t, &c, &o);
    CHECK(o.verdict == k->verdict && o.first_pass == k->first_pass,
          "%s: verdict %d first_pass %d", k->name, o.verdict, o.first_pass);
    CHECK(o.op == k->op, "%s: op %d (want %d)", k->name, o.op, k->op);
    CHECK(o.put_t == k->put_t && o.put_c == k->put_c, "%s: stores t %d c %d",
          k->name, o.put_t, o.put_c);
    if (k->verdict == GV_DEFER)
        CHECK(o.retry_in == k->retry_in, "%s: retry in %lld (want %lld)",
              k->name, o.retry_in, k->retry_in);
    if (k->first_pass)
        CHECK(o.waited == k->waited, "%s: waited %lld (want %lld)", k->name,
              o.waited, k->waited);
    /* a block writes last_seen, but "written" only matters once passed */
    if (k->put_t)
        CHECK(!o.t.absent && o.t.first == k->t_first &&
                  o.t.last == k->t_last && o.t.passed == k->t_passed &&
                  o.t.written == (o.op == GC_BLOCK ? k->t.written : o.t.last),
              "%s: new triplet %lld %lld %lld written %lld", k->name,
              o.t.first, o.t.last, o.t.passed, o.t.written);
    if (k->put_c)
        CHECK(!o.c.absent && o.c.pass_count == k->c_count &&
                  o.c.last == k->c_last && o.c.written == o.c.last,
              "%s: new client %lld %lld written %lld", k->name,
              o.c.pass_count, o.c.last, o.c.written);
    CHECK(!memcmp(&t, &k->t, sizeof(t)) && !memcmp(&c, &k->c, sizeof(c)),
          "%s: inputs untouched", k->name);
}

/* the auto-whitelist threshold reached through the step itself: AWL
   triplets pass after their delay, then a new triplet from the same client
   network is not greylisted */
static void test_awl_sequence(void)
{
    struct gc_state c = ABSENT, absent = ABSENT;
    struct grey_outcome o;
    long long now = T0;

    for (int i = 0; i < AWL; i++) {
        greylist_step(&G, now, &absent, &c, &o);
        CHECK(o.verdict == GV_DEFER && o.op == GC_FIRST,
              "sequence: triplet %d first sight deferred", i);
        struct gc_state t = o.t;
        now += DELAY;
        greylist_step(&G, now, &t, &c, &o);
        CHECK(o.verdict == GV_PASS && o.first_pass && o.put_c &&
                  o.c.pass_count == i + 1,
              "sequence: triplet %d passes, client count %lld", i,
              o.c.pass_count);
        c = o.c;
        now += 60;
    }
    greylist_step(&G, now, &absent, &c, &o);
    CHECK(o.verdict == GV_AWL && o.op == GREY_NO_OP,
          "sequence: after %d passed triplets a new one is auto-whitelisted",
          AWL);
}

/* a cached first sight keeps its cache time on a restart, a fresh one is
   cached now (the cache ttl counts from there) */
static void test_cached_at(void)
{
    struct gc_state t = WAITING, c = ABSENT, absent = ABSENT;
    struct grey_outcome o;

    t.cached_at = T0 - 5;
    greylist_step(&G, T0 + WINDOW + 1, &t, &c, &o);
    CHECK(o.op == GC_RESTART && o.t.cached_at == T0 - 5,
          "restart keeps cached_at");
    absent.cached_at = T0 - 5;
    greylist_step(&G, T0, &absent, &c, &o);
    CHECK(o.op == GC_FIRST && o.t.cached_at == T0, "first sight: cached now");
}

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
    test_awl_sequence();
    test_cached_at();
    return UNIT_END();
}
