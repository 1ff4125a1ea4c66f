/*
 * strvec - a growable vector of owned C strings.  See strvec.h.
 */
#include "strvec.h"

#include <stdlib.h>
#include <strings.h>

#include "mem.h"

void strvec_add(struct strvec *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = xstrdup(s);
}

void strvec_copy(struct strvec *dst, const struct strvec *src)
{
    for (size_t i = 0; i < src->n; i++)
        strvec_add(dst, src->v[i]);
}

int strvec_has(const struct strvec *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->v[i], s))
            return 1;
    return 0;
}

void strvec_free(struct strvec *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
