/*
 * unit.h - the smallest test framework that does what postern needs:
 * CHECK(cond, desc...) records one assertion and prints "ok - ..." or
 * "not ok - ... (file:line)"; UNIT_END() prints "N passed, N failed" and
 * returns the exit status.  Header-only; one test program per module.
 */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_pass, unit_fail;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            unit_pass++;                                                       \
            printf("ok - ");                                                   \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
        } else {                                                               \
            unit_fail++;                                                       \
            printf("not ok - ");                                               \
            printf(__VA_ARGS__);                                               \
            printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond);               \
        }                                                                      \
    } while (0)

#define CHECK_STR(got, want, ...)                                              \
    do {                                                                       \
        const char *g_ = (got), *w_ = (want);                                  \
        int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;               \
        CHECK(same_, __VA_ARGS__);                                             \
        if (!same_)                                                            \
            printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",            \
                   w_ ? w_ : "(null)");                                        \
    } while (0)

#define UNIT_END()                                                             \
    (printf("%d passed, %d failed\n", unit_pass, unit_fail), unit_fail != 0)

#endif
