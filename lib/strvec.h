/*
 * strvec - a growable vector of C strings owned by the vector (addresses,
 * DNs, header lines), in the order they were added.  Allocation failures
 * are fatal (mem.h), so adding cannot fail.  strvec_has is linear and meant for
 * short lists; a set of many strings is a struct hmap (hash.h).
 */
#ifndef POSTERN_STRVEC_H
#define POSTERN_STRVEC_H

#include <stddef.h>

struct strvec {
    char **v;
    size_t n, cap;
};

#define STRVEC_INIT { NULL, 0, 0 }

/* strvec_add - append a copy of s. */
void strvec_add(struct strvec *l, const char *s);
/* strvec_copy - append copies of every string of src. */
void strvec_copy(struct strvec *dst, const struct strvec *src);
/* strvec_has - 1 if s is in l (ASCII case-insensitive), else 0. */
int strvec_has(const struct strvec *l, const char *s);
void strvec_free(struct strvec *l);

#endif
