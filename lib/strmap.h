/*
 * strmap - a string-keyed index whose keys and values live in an arena
 * (snapshots): lib/hash.h's table with borrowed keys.  Kept as a name for
 * the snapshot code; new code uses struct hmap directly.
 */
#ifndef POSTERN_STRMAP_H
#define POSTERN_STRMAP_H

#include <stddef.h>

#include "hash.h"

struct strmap {
    struct hmap h;
};

/* strmap_init - room for n keys before the table grows. */
void strmap_init(struct strmap *m, size_t n);
/* strmap_put - insert key unless it exists; returns the value now stored
   under key (val, or the one that was there). */
void *strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
void strmap_free(struct strmap *m);

#endif
