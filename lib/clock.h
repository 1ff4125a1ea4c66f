/*
 * clock - the monotonic clock every timeout, cache age and interval in
 * postern is measured with (never the wall clock, which an admin or NTP
 * may step).  clock_ms/clock_us never fail on Linux.
 */
#ifndef POSTERN_CLOCK_H
#define POSTERN_CLOCK_H

#include <time.h>

static inline long long clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long clock_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
