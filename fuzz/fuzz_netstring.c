/*
 * fuzz_netstring - lib/netstring.c: netstring_decode on any bytes, as
 * postern-maps reads socketmap requests (a stream of netstrings).
 * Checks: a decoded netstring lies inside the buffer and under the limit;
 * every proper prefix of a complete netstring is INCOMPLETE (the decision
 * does not depend on how reads split the input); encode(decode(x)) decodes
 * to the same payload.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *d;
    size_t max = size ? (size_t)(data[0] % 4 == 0 ? 10000 : data[0]) : 100;
    size_t off = 0, len, used;

    while (off < size) {
        enum netstring_status st =
            netstring_decode(buf + off, size - off, max, &d, &len, &used);
        if (st != NETSTRING_OK)
            break;
        if (len > max || used > size - off || d < buf + off ||
            d + len > buf + off + used)
            abort();
        for (size_t pre = 0; pre < used; pre++) {
            const char *d2;
            size_t l2, u2;
            if (netstring_decode(buf + off, pre, max, &d2, &l2, &u2) !=
                NETSTRING_INCOMPLETE)
                abort();
        }
        {
            struct str s = STR_INIT;
            const char *d2;
            size_t l2, u2;
            netstring_encode(&s, d, len);
            if (netstring_decode(s.data, s.len, max, &d2, &l2, &u2) !=
                    NETSTRING_OK ||
                l2 != len || u2 != s.len || memcmp(d2, d, len) != 0)
                abort();
            str_free(&s);
        }
        (void)netstring_strerror(st);
        off += used;
    }
    return 0;
}
