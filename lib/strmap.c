/*
 * strmap - read-mostly string index over hsearch_r.  See strmap.h.
 *
 * The table is sized at twice the key count (hsearch_r rounds up to a
 * prime) so probe sequences stay short; a put beyond the capacity panics,
 * since the caller promised the count.
 */
#include "strmap.h"
#include "log.h"

#include <string.h>

int strmap_init(struct strmap *m, size_t n)
{
    memset(m, 0, sizeof(*m));
    m->cap = n;
    if (hcreate_r(n * 2 + 16, &m->h) == 0)
        return -1;
    m->ready = 1;
    return 0;
}

void *strmap_put(struct strmap *m, const char *key, void *val)
{
    ENTRY e = {(char *)key, val}, *r;

    if (m->count >= m->cap)
        log_panic("strmap_put: more than %zu keys", m->cap);
    if (hsearch_r(e, FIND, &r, &m->h) != 0)
        return r->data;
    if (hsearch_r(e, ENTER, &r, &m->h) == 0)
        log_panic("strmap_put: table full");
    m->count++;
    return val;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    ENTRY e = {(char *)key, NULL}, *r;

    if (!m->ready ||
        hsearch_r(e, FIND, &r, (struct hsearch_data *)&m->h) == 0)
        return NULL;
    return r->data;
}

void strmap_free(struct strmap *m)
{
    if (m->ready)
        hdestroy_r(&m->h);
    m->ready = 0;
}
