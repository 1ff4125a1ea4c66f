/*
 * arena - a bump allocator for data that lives and dies together (an
 * in-memory snapshot of a table set).  Allocations are 16-byte aligned and
 * are freed all at once by arena_free().  Chunks are ARENA_CHUNK bytes;
 * larger requests get a chunk of their own.  Out of memory is fatal.
 */
#ifndef POSTERN_ARENA_H
#define POSTERN_ARENA_H

#include <stddef.h>

#define ARENA_CHUNK (1024 * 1024)

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t used_total; /* bytes handed out, for reporting */
};

void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* arena_strdup_lower - copy with ASCII lower-cased. */
char *arena_strdup_lower(struct arena *a, const char *s);
void arena_free(struct arena *a);

#endif
