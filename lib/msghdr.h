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
 *   msghdr_mailbox the one address of a value that must hold exactly one
 *                  mailbox (RFC 5322 3.4: From with one author, Sender):
 *                  a name-addr ("Name" <addr>) or a bare addr-spec.
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
/* msghdr_mailbox - the addr-spec of the single mailbox in the value
   v[0..len) into out (outsize bytes, NUL-terminated), with comments and
   blanks removed and a quoted local part kept quoted.  1, or 0 when the
   value holds no mailbox, several (a ',' outside quotes, comments and
   brackets), a group (':' or ';'), an obsolete route, a blank inside the
   addr-spec, an unclosed comment, quote, '<' or '[', text after the '>',
   a NUL byte, or an address longer than outsize - 1.  The display name is
   skipped whatever it holds.  The result is not validated further: parse
   it with lib/addr.h. */
int msghdr_mailbox(const char *v, size_t len, char *out, size_t outsize);
/* msghdr_name_is - 1 if the field's name is `name` (ASCII case-insensitive) */
int msghdr_name_is(const struct msghdr_field *f, const char *name);

#endif
