/*
 * slist - a growable list of strings (addresses, DNs) owned by the list.
 * Membership tests are case-insensitive and linear: lists are bounded by
 * [milter] max_recipients.  Out of memory is an error return (-1).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter.h"

int slist_add(struct slist *l, const char *s)
{
    char *copy;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if ((copy = strdup(s)) == NULL)
        return -1;
    l->v[l->n++] = copy;
    return 0;
}

int slist_has(const struct slist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcasecmp(l->v[i], s))
            return 1;
    return 0;
}

void slist_free(struct slist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

int slist_copy(struct slist *dst, const struct slist *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (slist_add(dst, src->v[i]) < 0)
            return -1;
    return 0;
}
