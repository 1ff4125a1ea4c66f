/*
 * str - counted, growable byte strings.  See str.h.
 *
 * Limits: STR_MAX_SIZE per string.  Allocation failure is fatal (mem.h):
 * a mail daemon that cannot allocate a few bytes cannot do anything safe.
 */
#include "str.h"
#include "log.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int str_reserve(struct str *s, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > STR_MAX_SIZE || s->len > STR_MAX_SIZE - n)
        return -1;
    need = s->len + n + 1;
    if (need <= s->cap)
        return 0;
    cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    p = xrealloc(s->data, cap);
    s->data = p;
    s->cap = cap;
    return 0;
}

int str_append(struct str *s, const void *data, size_t len)
{
    if (str_reserve(s, len) < 0)
        return -1;
    if (len)
        memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = '\0';
    return 0;
}

int str_append_cstr(struct str *s, const char *cstr)
{
    return str_append(s, cstr, strlen(cstr));
}

int str_append_char(struct str *s, char c)
{
    return str_append(s, &c, 1);
}

int str_vappendf(struct str *s, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || str_reserve(s, (size_t)n) < 0)
        return -1;
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    s->len += (size_t)n;
    return 0;
}

int str_appendf(struct str *s, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = str_vappendf(s, fmt, ap);
    va_end(ap);
    return r;
}

int str_set(struct str *s, const void *data, size_t len)
{
    str_reset(s);
    return str_append(s, data, len);
}

void str_consume(struct str *s, size_t n)
{
    if (n >= s->len) {
        str_reset(s);
        return;
    }
    memmove(s->data, s->data + n, s->len - n);
    s->len -= n;
    s->data[s->len] = '\0';
}

void str_truncate(struct str *s, size_t len)
{
    if (len < s->len) {
        s->len = len;
        s->data[len] = '\0';
    }
}

void str_reset(struct str *s)
{
    s->len = 0;
    if (s->data)
        s->data[0] = '\0';
}

void str_free(struct str *s)
{
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
}

const char *str_cstr(const struct str *s)
{
    return s->data ? s->data : "";
}

int str_copy_bounded(char *dst, size_t dstsize, const char *src, size_t srclen)
{
    if (dstsize == 0)
        return -1;
    if (srclen >= dstsize) {
        dst[0] = '\0';
        return -1;
    }
    memcpy(dst, src, srclen);
    dst[srclen] = '\0';
    return 0;
}

void str_lower(char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (char)(p[i] - 'A' + 'a');
}

int str_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void str_wipe(struct str *s)
{
    if (s->data)
        explicit_bzero(s->data, s->cap);
    str_free(s);
}

size_t str_utf8_seq(const unsigned char *p, size_t left)
{
    size_t n, i;
    unsigned cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (left < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}
