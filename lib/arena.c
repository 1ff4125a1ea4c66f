/*
 * arena - bump allocator.  See arena.h.
 */
#include "arena.h"
#include "log.h"
#include "mem.h"
#include "str.h"

#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    struct arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
    struct arena_chunk *c = a->head;
    size_t need = (size + 15) & ~(size_t)15;

    if (size > STR_MAX_SIZE)
        log_panic("arena_alloc: %zu bytes", size);
    if (c == NULL || c->size - c->used < need) {
        size_t csize = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = xmalloc(sizeof(*c) + csize);
        c->size = csize;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    c->used += need;
    a->used_total += need;
    return c->data + c->used - need;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_strdup_lower(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *p = arena_strndup(a, s, n);

    str_lower(p, n);
    return p;
}

void arena_free(struct arena *a)
{
    while (a->head) {
        struct arena_chunk *c = a->head;
        a->head = c->next;
        free(c);
    }
    a->used_total = 0;
}
