/*
 * mem - allocation that cannot return NULL.  See mem.h.
 *
 * Diagnostics: "out of memory (N bytes)" on stderr and in the log, then
 * abort(), so a core dump shows where.
 */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void mem_fatal(size_t size)
{
    log_error("out of memory (%zu bytes)", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        mem_fatal(size);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        mem_fatal(n * size);
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);

    if (q == NULL)
        mem_fatal(size);
    return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        mem_fatal(SIZE_MAX);
    return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);

    memcpy(q, p, n);
    return q;
}
