/*
 * fuzz_cidr - lib/cidr.c: cidr_parse, cidr_contains, cidr_mask and
 * cidr_list_contains on any text (client addresses from policy requests
 * and the milter, networks from the configuration and the database).
 * Input: byte 0 = IPv4 mask bits, byte 1 = IPv6 mask bits, then two
 * NUL-separated fields: a network (or list) and an address.
 * Checks: a parsed network contains its own network address; the masked
 * text of an address parses as a network that contains the address.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "cidr.h"
#include "fuzz.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    int v4 = (int)(fuzz_byte(&in) % 40), v6 = (int)(fuzz_byte(&in) % 140);
    size_t nl, al;
    const char *np = fuzz_field(&in, &nl), *ap = fuzz_field(&in, &al);
    char *net = xstrndup(np ? np : "", nl), *a = xstrndup(ap ? ap : "", al);
    char out[CIDR_TEXT_MAX], txt[INET6_ADDRSTRLEN];
    struct cidr n = {0}, m;

    if (cidr_parse(net, &n) == 0) {
        if ((n.family != AF_INET && n.family != AF_INET6) || n.prefix < 0 ||
            n.prefix > (n.family == AF_INET ? 32 : 128))
            abort();
        if (inet_ntop(n.family, n.addr, txt, sizeof(txt)) == NULL ||
            !cidr_contains(&n, txt))
            abort();
    }
    (void)cidr_contains(&n, a);
    (void)cidr_list_contains(net, a);
    if (cidr_mask(a, v4, v6, out, sizeof(out)) == 0) {
        if (strnlen(out, sizeof(out)) >= sizeof(out))
            abort();
        if (v4 <= 32 && v6 <= 128 &&
            (cidr_parse(out, &m) < 0 || !cidr_contains(&m, a)))
            abort();
    }
    free(net);
    free(a);
    return 0;
}
