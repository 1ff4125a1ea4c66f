/*
 * snaptest.h - what the unit tests of postern-maps' snapshot share (header
 * only): ROW adds one row to a hand-built snapshot, ask() answers a lookup
 * as "OK value", "NOTFOUND " or "TEMP ".
 */
#ifndef POSTERN_SNAPTEST_H
#define POSTERN_SNAPTEST_H

#include <stdio.h>
#include <string.h>

#include "maps.h"

#define ROW(s, t, ...)                                                         \
    snapshot_add_row((s), (t), (const char *const[SNAP_COLS_MAX]){__VA_ARGS__})

/* ask - maps_lookup with "+" as the delimiter; a static buffer */
static inline const char *ask(const struct snapshot *s, const char *map,
                              const char *key)
{
    static char buf[512];
    struct str out = STR_INIT;
    int rc = maps_lookup(s, "+", map, key, strlen(key), &out);

    snprintf(buf, sizeof(buf), "%s %s",
             rc == LK_FOUND ? "OK" : rc == LK_NOTFOUND ? "NOTFOUND" : "TEMP",
             rc == LK_FOUND ? str_cstr(&out) : "");
    str_free(&out);
    return buf;
}

#endif
