/*
 * header - questions about the header section kept by msg.c.
 *
 * lda_header_has_fields() tells whether the message starts with a header
 * field (RFC 5322 2.2: printable ASCII name without ':' then ':'); if not,
 * the message has no header section and deliver.c separates the headers it
 * adds from the body with an empty line.
 *
 * lda_header_has_value() scans the fields (lib/msghdr.c: folded lines
 * unfolded) for a field name (case-insensitive, blanks before ':'
 * allowed, as obsolete syntax permits) whose value, trimmed and without
 * angle brackets, equals the given value case-insensitively.  Only the
 * first LDA_HDR_KEEP_MAX bytes of the header are seen; Delivered-To
 * fields are prepended, so a loop is found at the top.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lda.h"
#include "mem.h"
#include "msghdr.h"

static int is_ftext(unsigned char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

int lda_header_has_fields(const struct lda_msg *m)
{
    const char *p = m->header.data;
    size_t n = m->header.len, i = 0;

    if (p == NULL || n == 0)
        return 0;
    while (i < n && is_ftext((unsigned char)p[i]))
        i++;
    if (i == 0)
        return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n && p[i] == ':';
}

/* value_equal - the field's value, unfolded and trimmed, without angle
   brackets, equals want (case-insensitive) */
static int value_equal(const struct msghdr_field *f, const char *want)
{
    char *buf = xmalloc(f->vlen + 1);
    size_t k = msghdr_unfold(f->value, f->vlen, buf), s = 0,
           wlen = strlen(want);
    int eq;

    if (k >= 2 && buf[0] == '<' && buf[k - 1] == '>') {
        s++;
        k--;
    }
    eq = k - s == wlen && strncasecmp(buf + s, want, wlen) == 0;
    free(buf);
    return eq;
}

int lda_header_has_value(const struct lda_msg *m, const char *name,
                         const char *value)
{
    struct msghdr_field f;
    size_t pos = 0;

    if (m->header.data == NULL || !lda_header_has_fields(m))
        return 0;
    while (msghdr_next(m->header.data, m->header.len, &pos, &f))
        if (msghdr_name_is(&f, name) && value_equal(&f, value))
            return 1;
    return 0;
}
