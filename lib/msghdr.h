/*
 * msghdr - the fields of an RFC 5322 header section, once for the tree
 * (the LDA's loop checks, the Sieve engine's header tests).
 *
 *   msghdr_next    the next field: its name and its raw value (from after
 *                  the ':' to the end of the field, folded lines
 *                  included).  A field ends at a line break not followed
 *                  by a blank (SP or HTAB).  Blanks between the name and
 *                  the ':' are allowed (RFC 5322 4.5.3, obsolete syntax)
 *                  and not part of the name.  A line without ':', with an
 *                  empty name or with a line break inside the name is
 *                  skipped.
 *   msghdr_unfold  a raw value unfolded (RFC 5322 2.2.3: CR and LF
 *                  removed) and trimmed of blanks at both ends.
 *
 * The header section is counted bytes with LF (or CRLF) line ends; it may
 * contain NUL bytes.  Nothing is allocated; the fields point into it.
 */
#ifndef POSTERN_MSGHDR_H
#define POSTERN_MSGHDR_H

#include <stddef.h>

struct msghdr_field {
    const char *name;   /* not NUL-terminated */
    size_t nlen;
    const char *value;  /* raw, not NUL-terminated */
    size_t vlen;
};

/* msghdr_next - the field at *pos in h[0..len); *pos moves past it.
   1 with *f, or 0 at the end of the section. */
int msghdr_next(const char *h, size_t len, size_t *pos,
                struct msghdr_field *f);
/* msghdr_unfold - v[0..len) unfolded and trimmed into out, which has room
   for len + 1 bytes (the result is never longer; NUL-terminated).  The
   length of the result. */
size_t msghdr_unfold(const char *v, size_t len, char *out);
/* msghdr_name_is - 1 if the field's name is `name` (ASCII case-insensitive) */
int msghdr_name_is(const struct msghdr_field *f, const char *name);

#endif
