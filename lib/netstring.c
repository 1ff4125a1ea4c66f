/*
 * netstring - netstring codec.  See netstring.h.
 *
 * Diagnostics: the decoder never logs; callers decide.  A leading zero in the
 * length ("01:x,") is accepted as Postfix's own reader does, but a length
 * longer than NETSTRING_MAX_DIGITS digits is a format error.
 */
#include "netstring.h"

#include <stdint.h>

enum netstring_status netstring_decode(const char *buf, size_t buflen,
                                       size_t max, const char **data,
                                       size_t *len, size_t *used)
{
    size_t n = 0, i;

    for (i = 0; i < buflen; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == ':')
            break;
        if (c < '0' || c > '9' || i >= NETSTRING_MAX_DIGITS)
            return NETSTRING_ERR_FORMAT;
        if (n > SIZE_MAX / 10 || (n *= 10) > SIZE_MAX - (c - '0'))
            return NETSTRING_ERR_SIZE;
        n += c - '0';
        if (n > max)
            return NETSTRING_ERR_SIZE;
    }
    if (i == buflen)
        return NETSTRING_INCOMPLETE;
    if (i == 0)
        return NETSTRING_ERR_FORMAT;
    /* i is the colon; payload from i+1, comma at i+1+n */
    if (buflen - (i + 1) < n + 1)
        return NETSTRING_INCOMPLETE;
    if (buf[i + 1 + n] != ',')
        return NETSTRING_ERR_FORMAT;
    *data = buf + i + 1;
    *len = n;
    *used = i + 2 + n;
    return NETSTRING_OK;
}

int netstring_encode(struct str *out, const void *data, size_t len)
{
    size_t old = out->len;

    if (str_appendf(out, "%zu:", len) < 0 || str_append(out, data, len) < 0 ||
        str_append_char(out, ',') < 0) {
        str_truncate(out, old);
        return -1;
    }
    return 0;
}

const char *netstring_strerror(enum netstring_status st)
{
    switch (st) {
    case NETSTRING_OK:
        return "ok";
    case NETSTRING_INCOMPLETE:
        return "incomplete netstring";
    case NETSTRING_ERR_FORMAT:
        return "malformed netstring";
    case NETSTRING_ERR_SIZE:
        return "netstring too long";
    }
    return "unknown netstring error";
}
