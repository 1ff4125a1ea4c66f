/*
 * dbtext - values fit for utf8mb4 VARCHAR columns.  See dbtext.h.
 */
#include "dbtext.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"

/* seq - the length of the valid UTF-8 sequence at s (n bytes left), or 0 */
static size_t seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t k;

    if (s[0] == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return k;
}

long dbtext_chars(const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    long chars = 0;

    while (i < len) {
        size_t k = seq(s + i, len - i);
        if (k == 0)
            return -1;
        i += k;
        chars++;
    }
    return chars;
}

int dbtext_bound(char *out, size_t outsize, const char *src, size_t len,
                 size_t max_chars)
{
    const unsigned char *s = (const unsigned char *)src;
    long chars = dbtext_chars(src, len);
    size_t i = 0, o = 0, c = 0, room_chars, room_bytes;

    if (outsize == 0)
        return -1;
    if (chars >= 0 && (size_t)chars <= max_chars && len < outsize) {
        memcpy(out, src, len);
        out[len] = '\0';
        return 0;
    }
    if (max_chars <= DBTEXT_SUFFIX_LEN || outsize <= DBTEXT_SUFFIX_LEN + 1) {
        out[0] = '\0';
        return -1;
    }
    room_chars = max_chars - DBTEXT_SUFFIX_LEN;
    room_bytes = outsize - 1 - DBTEXT_SUFFIX_LEN;
    while (i < len && c < room_chars) {
        size_t k = seq(s + i, len - i);
        if (k == 0) { /* not UTF-8 (or NUL): one '?' per byte */
            if (o + 1 > room_bytes)
                break;
            out[o++] = '?';
            i++;
        } else {
            if (o + k > room_bytes)
                break;
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
        c++;
    }
    snprintf(out + o, outsize - o, "#%016llx",
             (unsigned long long)hash_stable64(src, len, 0));
    return 1;
}
