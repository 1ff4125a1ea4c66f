/*
 * test_penalty - lib/penalty.c: delays doubling per failure up to the
 * maximum, forgetting after forget_ms, clearing, holds, and a full table
 * making room without dropping a held key.
 */
#include <stdio.h>

#include "penalty.h"
#include "unit.h"

int main(void)
{
    struct penalty_settings set = {2000, 15000, 60000};
    struct penalty *p = penalty_new(&set, 16);
    long long t = 1000000;
    char key[32];

    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t) == 0, "no failure: no delay");
    penalty_fail(p, "s:192.0.2.1/32", t);
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t) == 2000, "1 failure: 2 s");
    penalty_fail(p, "s:192.0.2.1/32", t);
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t) == 4000, "2 failures: 4 s");
    penalty_fail(p, "s:192.0.2.1/32", t);
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t) == 8000, "3 failures: 8 s");
    for (int i = 0; i < 100; i++)
        penalty_fail(p, "s:192.0.2.1/32", t);
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t) == 15000,
          "many failures: capped at 15 s");
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t + 59999) == 15000,
          "still there just before forget_ms");
    CHECK(penalty_delay_ms(p, "s:192.0.2.1/32", t + 60000) == 0 &&
              penalty_failures(p, "s:192.0.2.1/32", t + 60000) == 0,
          "forgotten forget_ms after the last failure");

    penalty_fail(p, "u:alice", t);
    penalty_clear(p, "u:alice");
    CHECK(penalty_delay_ms(p, "u:alice", t) == 0, "a success clears its key");

    penalty_fail(p, "u:bob", t);
    penalty_hold(p, "u:bob", 1);
    CHECK(penalty_held(p, "u:bob") == 1, "an attempt held");
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "s:flood-%d", i);
        penalty_fail(p, key, t + 1 + i);
    }
    CHECK(penalty_held(p, "u:bob") == 1 && penalty_failures(p, "u:bob", t) == 1,
          "a full table makes room without dropping a held key");
    CHECK(penalty_failures(p, "s:flood-39", t + 40) == 1,
          "the newest key got in");
    penalty_hold(p, "u:bob", -1);
    CHECK(penalty_held(p, "u:bob") == 0, "the hold ended");
    set.initial_ms = 100;
    set.max_ms = 300;
    penalty_set(p, &set);
    penalty_fail(p, "u:carol", t);
    penalty_fail(p, "u:carol", t);
    penalty_fail(p, "u:carol", t);
    CHECK(penalty_delay_ms(p, "u:carol", t) == 300, "new settings apply");
    penalty_free(p);
    return UNIT_END();
}
