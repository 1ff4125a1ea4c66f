/*
 * strmap - arena-keyed index over lib/hash.  See strmap.h.
 */
#include "strmap.h"

void strmap_init(struct strmap *m, size_t n)
{
    hmap_init(&m->h, n, 0);
}

void *strmap_put(struct strmap *m, const char *key, void *val)
{
    return hmap_put(&m->h, key, val);
}

void *strmap_get(const struct strmap *m, const char *key)
{
    return hmap_get(&m->h, key);
}

void strmap_free(struct strmap *m)
{
    hmap_free(&m->h, NULL);
}
