/*
 * mem - allocation with one out-of-memory policy for all of postern: an
 * allocation that fails is fatal (logged, then abort), as in Postfix
 * (mymalloc) and Dovecot (i_malloc).  Nothing in postern checks for NULL
 * after these, and no reply ever says "out of memory": a daemon that
 * cannot allocate is restarted, and Postfix retries meanwhile.
 */
#ifndef POSTERN_MEM_H
#define POSTERN_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* xreallocarray - realloc for n items of size, overflow-checked (fatal). */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

#endif
