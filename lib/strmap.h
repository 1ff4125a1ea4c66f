/*
 * strmap - a string-keyed hash index built once and then only read, on top
 * of glibc's hsearch_r(3).  The capacity is fixed when it is created (the
 * caller knows its row count); keys and values are not copied and must
 * outlive the map (an arena).  Readers need no locking while nobody writes.
 */
#ifndef POSTERN_STRMAP_H
#define POSTERN_STRMAP_H

#include <search.h>
#include <stddef.h>

struct strmap {
    struct hsearch_data h;
    size_t cap, count;
    int ready;
};

/* strmap_init - room for n keys; 0 or -1 (out of memory). */
int strmap_init(struct strmap *m, size_t n);
/* strmap_put - insert key; if it exists, return its value and keep it. */
void *strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
void strmap_free(struct strmap *m);

#endif
