/*
 * netstring - encode and decode netstrings ("len:data,"), as used by the
 * Postfix socketmap protocol (socketmap_table(5)).
 *
 * Decoding is incremental: netstring_decode() looks at a buffer that may hold
 * a partial netstring and says whether it is complete, incomplete, or broken.
 * Lengths are parsed with overflow checks, at most NETSTRING_MAX_DIGITS digits,
 * and must not exceed the caller's limit.
 */
#ifndef POSTERN_NETSTRING_H
#define POSTERN_NETSTRING_H

#include <stddef.h>

#include "str.h"

#define NETSTRING_MAX_DIGITS 10

enum netstring_status {
    NETSTRING_OK = 1,         /* complete: *data, *len, *used set */
    NETSTRING_INCOMPLETE = 0, /* need more input */
    NETSTRING_ERR_FORMAT = -1,/* not a netstring */
    NETSTRING_ERR_SIZE = -2,  /* declared length over the limit */
};

/*
 * netstring_decode - parse one netstring from buf[0..buflen).  On
 * NETSTRING_OK, *data points into buf, *len is the payload length and *used
 * the bytes consumed (header, payload and the trailing comma).
 */
enum netstring_status netstring_decode(const char *buf, size_t buflen,
                                       size_t max, const char **data,
                                       size_t *len, size_t *used);

/* netstring_encode - append "len:data," to out; -1 if out cannot grow. */
int netstring_encode(struct str *out, const void *data, size_t len);

const char *netstring_strerror(enum netstring_status st);

#endif
