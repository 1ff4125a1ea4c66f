/*
 * header - questions about the header section kept by msg.c.
 *
 * lda_header_has_fields() tells whether the message starts with a header
 * field (RFC 5322 2.2: printable ASCII name without ':' then ':'); if not,
 * the message has no header section and deliver.c separates the headers it
 * adds from the body with an empty line.
 *
 * lda_header_has_value() scans the fields (folded lines unfolded) for a
 * field name (case-insensitive, blanks before ':' allowed, as obsolete
 * syntax permits) whose value, trimmed and without angle brackets, equals
 * the given value case-insensitively.  Only the first LDA_HDR_KEEP_MAX
 * bytes of the header are seen; Delivered-To fields are prepended, so a
 * loop is found at the top.
 */
#include <string.h>
#include <strings.h>

#include "lda.h"

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

/* value_equal - compare an unfolded, trimmed field value with want. */
static int value_equal(const char *v, size_t vlen, const char *want)
{
    char buf[ADDR_MAX + 8];
    size_t k = 0, wlen = strlen(want);

    for (size_t i = 0; i < vlen; i++) {
        if (v[i] == '\n' || v[i] == '\r')
            continue;
        if (k == sizeof(buf))
            return 0;
        buf[k++] = v[i];
    }
    while (k > 0 && (buf[k - 1] == ' ' || buf[k - 1] == '\t'))
        k--;
    size_t s = 0;
    while (s < k && (buf[s] == ' ' || buf[s] == '\t'))
        s++;
    if (k - s >= 2 && buf[s] == '<' && buf[k - 1] == '>') {
        s++;
        k--;
    }
    return k - s == wlen && strncasecmp(buf + s, want, wlen) == 0;
}

int lda_header_has_value(const struct lda_msg *m, const char *name,
                         const char *value)
{
    const char *p = m->header.data, *end;
    size_t nlen = strlen(name);

    if (p == NULL || !lda_header_has_fields(m))
        return 0;
    end = p + m->header.len;
    while (p < end) {
        /* one field: up to a newline not followed by a blank */
        const char *f = p, *q = p;
        while (q < end) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            if (nl == NULL) {
                q = end;
                break;
            }
            q = nl + 1;
            if (q >= end || (*q != ' ' && *q != '\t'))
                break;
        }
        p = q;
        if ((size_t)(q - f) > nlen && strncasecmp(f, name, nlen) == 0) {
            const char *c = f + nlen;
            while (c < q && (*c == ' ' || *c == '\t'))
                c++;
            if (c < q && *c == ':' &&
                value_equal(c + 1, (size_t)(q - c - 1), value))
                return 1;
        }
    }
    return 0;
}
