/*
 * mutf7 - IMAP modified UTF-7 (RFC 3501 section 5.1.3), the on-disk form
 * of non-ASCII folder names in Maildir++ as Dovecot and Courier write it.
 *
 * Printable US-ASCII (0x20-0x7e) stands for itself except '&', which is
 * written "&-".  Any other run of characters is UTF-16BE in modified
 * BASE64 (',' instead of '/', no padding) between '&' and '-'.
 * Example: "Entwürfe" -> "Entw&APw-rfe".
 *
 * Limits: input must be well-formed UTF-8 (no overlong forms, no
 * surrogates, at most U+10FFFF); decoding refuses non-canonical forms
 * (empty "&...-" runs, leftover bits, ASCII encoded in base64, and two
 * encoded runs back to back such as "&q0A-&q0A-", which RFC 3501 requires
 * to be one run; "&APw-&-" is fine: "&-" is the character '&').
 */
#include <stdint.h>
#include <string.h>

#include "mutf7.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* utf8_next - decode one code point; bytes used, or -1. */
static int utf8_next(const unsigned char *p, size_t len, uint32_t *cp)
{
    uint32_t c = p[0], min;
    int n;

    if (c < 0x80)
        return *cp = c, 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, c &= 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, c &= 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, c &= 0x07, min = 0x10000;
    else
        return -1;
    if ((size_t)n > len)
        return -1;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *cp = c;
    return n;
}

struct b64_state {
    uint32_t bits;
    int nbits;
    int open;
};

static void b64_put16(struct b64_state *s, unsigned u, struct str *out)
{
    s->bits = (s->bits << 16) | (u & 0xffff);
    s->nbits += 16;
    while (s->nbits >= 6) {
        s->nbits -= 6;
        str_append_char(out, b64[(s->bits >> s->nbits) & 0x3f]);
    }
}

static void b64_close(struct b64_state *s, struct str *out)
{
    if (!s->open)
        return;
    if (s->nbits > 0)
        str_append_char(out, b64[(s->bits << (6 - s->nbits)) & 0x3f]);
    str_append_char(out, '-');
    s->bits = 0;
    s->nbits = 0;
    s->open = 0;
}

int mutf7_encode(const char *in, size_t len, struct str *out)
{
    const unsigned char *p = (const unsigned char *)in;
    struct b64_state s = {0, 0, 0};
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        int n = utf8_next(p + i, len - i, &cp);
        if (n < 0)
            return -1;
        i += (size_t)n;
        if (cp >= 0x20 && cp <= 0x7e) {
            b64_close(&s, out);
            str_append_cstr(out, cp == '&' ? "&-" : (char[]){(char)cp, 0});
            continue;
        }
        if (!s.open) {
            str_append_char(out, '&');
            s.open = 1;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            b64_put16(&s, 0xd800 | (cp >> 10), out);
            b64_put16(&s, 0xdc00 | (cp & 0x3ff), out);
        } else {
            b64_put16(&s, cp, out);
        }
    }
    b64_close(&s, out);
    return 0;
}

static int b64_val(unsigned char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

static void put_utf8(uint32_t cp, struct str *out)
{
    char b[4];
    size_t n;

    if (cp < 0x80)
        b[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)),
        n = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xe0 | (cp >> 12)),
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    else
        b[0] = (char)(0xf0 | (cp >> 18)),
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    str_append(out, b, n);
}

int mutf7_decode(const char *in, size_t len, struct str *out)
{
    size_t i = 0;
    int after_run = 0; /* the previous item was an encoded run */

    while (i < len) {
        unsigned char c = (unsigned char)in[i++];
        uint32_t bits = 0, high = 0;
        int nbits = 0, units = 0;
        if (c < 0x20 || c > 0x7e)
            return -1;
        if (c != '&') {
            str_append_char(out, (char)c);
            after_run = 0;
            continue;
        }
        if (i < len && in[i] == '-') {
            str_append_char(out, '&');
            i++;
            after_run = 0;
            continue;
        }
        if (after_run)
            return -1; /* adjacent runs: must have been one */
        after_run = 1;
        for (;;) {
            int v;
            if (i >= len)
                return -1;
            if (in[i] == '-') {
                i++;
                break;
            }
            if ((v = b64_val((unsigned char)in[i++])) < 0)
                return -1;
            bits = (bits << 6) | (unsigned)v;
            nbits += 6;
            if (nbits < 16)
                continue;
            nbits -= 16;
            uint32_t u = (bits >> nbits) & 0xffff;
            units++;
            if (high) {
                if (u < 0xdc00 || u > 0xdfff)
                    return -1;
                put_utf8(0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00),
                         out);
                high = 0;
            } else if (u >= 0xd800 && u <= 0xdbff) {
                high = u;
            } else if ((u >= 0xdc00 && u <= 0xdfff) ||
                       (u >= 0x20 && u <= 0x7e)) {
                return -1;
            } else {
                put_utf8(u, out);
            }
        }
        if (units == 0 || high || nbits >= 6 ||
            (bits & ((1u << nbits) - 1)) != 0)
            return -1;
    }
    return 0;
}
