/*
 * msghdr - header fields of a message: iteration and unfolding (the
 * rules are in msghdr.h).  Linear in the size of the header section; no
 * allocation, no limits of its own (callers bound the section and the
 * number of fields they look at).
 */
#include <string.h>
#include <strings.h>

#include "msghdr.h"

/* field_end - the end of the field starting at p: after the line break
   that is not followed by a blank, or end */
static const char *field_end(const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return end;
        p = nl + 1;
        if (p >= end || (*p != ' ' && *p != '\t'))
            return p;
    }
    return end;
}

int msghdr_next(const char *h, size_t len, size_t *pos,
                struct msghdr_field *f)
{
    const char *end = h + len;

    while (*pos < len) {
        const char *start = h + *pos, *q = field_end(start, end), *colon,
                   *ne;
        *pos = (size_t)(q - h);
        if ((colon = memchr(start, ':', (size_t)(q - start))) == NULL)
            continue;
        for (ne = colon; ne > start && (ne[-1] == ' ' || ne[-1] == '\t');)
            ne--;
        if (ne == start || memchr(start, '\n', (size_t)(ne - start)))
            continue;
        f->name = start;
        f->nlen = (size_t)(ne - start);
        f->value = colon + 1;
        f->vlen = (size_t)(q - colon - 1);
        return 1;
    }
    return 0;
}

size_t msghdr_unfold(const char *v, size_t len, char *out)
{
    size_t k = 0, s = 0;

    for (size_t i = 0; i < len; i++)
        if (v[i] != '\n' && v[i] != '\r')
            out[k++] = v[i];
    while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t'))
        k--;
    while (s < k && (out[s] == ' ' || out[s] == '\t'))
        s++;
    if (s > 0)
        memmove(out, out + s, k - s);
    out[k - s] = '\0';
    return k - s;
}

int msghdr_name_is(const struct msghdr_field *f, const char *name)
{
    size_t n = strlen(name);

    return f->nlen == n && strncasecmp(f->name, name, n) == 0;
}
