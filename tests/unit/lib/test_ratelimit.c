/* test_ratelimit - the window decision of the shared counting core
   (lib/ratelimit.c rl_window_over) and the key bound; the transaction
   itself runs against MariaDB in tests/integration (policyd.sh,
   ratelimit-faults.sh, forward-limits.sh). */
#include <string.h>

#include "ratelimit.h"
#include "unit.h"

int main(void)
{
    struct rl_window w = {3600, 2};
    long long retry = -1;
    char key[RL_COL_KEY * 4 + 1];

    CHECK(rl_window_over(0, 0, 1, &w, 10000, &retry) == 0 && retry == 0,
          "first of 2 per hour is within");
    CHECK(rl_window_over(1, 9000, 1, &w, 10000, &retry) == 0,
          "second of 2 per hour is within");
    CHECK(rl_window_over(2, 9000, 1, &w, 10000, &retry) == 1,
          "third of 2 per hour is over");
    CHECK(retry == 9000 + 3600 - 10000 + 1,
          "retry: until the oldest bucket leaves the window (%lld)", retry);
    CHECK(rl_window_over(1, 9000, 2, &w, 10000, &retry) == 1,
          "an amount of 2 on top of 1 passes a limit of 2");
    CHECK(rl_window_over(1, 0, 0, &w, 10000, &retry) == 0,
          "a check (amount 0) below the limit is within");
    CHECK(rl_window_over(2, 0, 0, &w, 10000, &retry) == 1 && retry == 1,
          "a check at the limit is over; without an oldest bucket retry 1");
    CHECK(rl_window_over(2, 5000, 1, &w, 10000, &retry) == 1 && retry == 1,
          "retry never under 1 second");
    w.max = -1;
    CHECK(rl_window_over(1000000, 1, 1, &w, 10000, &retry) == 0,
          "an override of NULL (max < 0) is unlimited");
    w.max = 0;
    CHECK(rl_window_over(0, 0, 1, &w, 10000, &retry) == 1,
          "a limit of 0 refuses the first");

    CHECK(rl_key_bound("Fwd@A.Example", key, sizeof(key)) == 0 &&
              !strcmp(key, "fwd@a.example"),
          "keys are lower-cased for the column");
    CHECK(rl_key_bound("", key, sizeof(key)) < 0, "an empty key is refused");
    return UNIT_END();
}
