/*
 * dbtext - values fit for utf8mb4 VARCHAR columns.  See dbtext.h.
 */
#include "dbtext.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "str.h"

/* seq - the length of the valid UTF-8 sequence at s (n bytes left), or 0
   (NUL too: a column takes no NUL) */
static size_t seq(const unsigned char *s, size_t n)
{
    return s[0] == 0 ? 0 : str_utf8_seq(s, n);
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
