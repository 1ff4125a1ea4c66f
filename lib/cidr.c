/*
 * cidr - IPv4/IPv6 networks (see cidr.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "config.h"

/* addr_parse - one address into family/bytes, IPv4-mapped folded. */
static int ip_parse(const char *s, int *family, unsigned char *b)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (inet_pton(AF_INET, s, b) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        *family = AF_INET6;
        if (memcmp(b, mapped, sizeof(mapped)) == 0) {
            memmove(b, b + 12, 4);
            *family = AF_INET;
        }
        return 0;
    }
    return -1;
}

static void apply_mask(unsigned char *b, int prefix, int bits)
{
    for (int i = 0; i < bits / 8; i++) {
        int keep = prefix - i * 8;
        if (keep >= 8)
            continue;
        b[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

int cidr_parse(const char *s, struct cidr *n)
{
    char buf[CIDR_TEXT_MAX];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    int bits;

    if (alen == 0 || alen >= sizeof(buf))
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(n, 0, sizeof(*n));
    if (ip_parse(buf, &n->family, n->addr) < 0)
        return -1;
    bits = n->family == AF_INET ? 32 : 128;
    n->prefix = bits;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || p < 0 ||
            p > bits || end - (slash + 1) > 3)
            return -1;
        n->prefix = (int)p;
    }
    apply_mask(n->addr, n->prefix, bits);
    return 0;
}

int cidr_contains(const struct cidr *n, const char *a)
{
    unsigned char b[16];
    int family;

    if (ip_parse(a, &family, b) < 0 || family != n->family)
        return 0;
    apply_mask(b, n->prefix, family == AF_INET ? 32 : 128);
    return memcmp(b, n->addr, family == AF_INET ? 4 : 16) == 0;
}

int cidr_mask(const char *a, int v4, int v6, char *out, size_t outsize)
{
    unsigned char b[16];
    char text[INET6_ADDRSTRLEN];
    int family, prefix, n;

    if (ip_parse(a, &family, b) < 0)
        return -1;
    prefix = family == AF_INET ? v4 : v6;
    apply_mask(b, prefix, family == AF_INET ? 32 : 128);
    if (inet_ntop(family, b, text, sizeof(text)) == NULL)
        return -1;
    n = snprintf(out, outsize, "%s/%d", text, prefix);
    return n < 0 || (size_t)n >= outsize ? -1 : 0;
}

int cidr_list_contains(const char *list, const char *a)
{
    const char *cur = list;
    char item[CIDR_TEXT_MAX];
    struct cidr n;

    while (cfg_list_next(&cur, item, sizeof(item)) > 0)
        if (cidr_parse(item, &n) == 0 && cidr_contains(&n, a))
            return 1;
    return 0;
}
