/*
 * cidr - IPv4/IPv6 addresses and networks: parse "192.0.2.0/24",
 * "2001:db8::/32" or a bare address, test whether an address lies inside
 * a network, and mask an address to its network in CIDR text form (the
 * greylisting and rate-limit keys of postern-policyd).
 *
 * Limits: textual forms as inet_pton(3) accepts them; an IPv4-mapped IPv6
 * address (::ffff:192.0.2.1) is treated as the IPv4 address.
 */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H

#include <stddef.h>

#define CIDR_TEXT_MAX 64 /* "ffff:...:ffff/128" and NUL fit */

struct cidr {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char addr[16];   /* network byte order; IPv4 in addr[0..3] */
    int prefix;               /* 0..32 or 0..128 */
};

/* cidr_parse - a network or a bare address (full prefix); 0 or -1. */
int cidr_parse(const char *s, struct cidr *n);
/* cidr_contains - 1 if address text a lies inside n, else 0. */
int cidr_contains(const struct cidr *n, const char *a);
/* cidr_mask - a masked to v4 (IPv4) or v6 (IPv6) bits, as "net/prefix"
   text in out; 0, or -1 if a is not an address or out is too small. */
int cidr_mask(const char *a, int v4, int v6, char *out, size_t outsize);
/* cidr_list_contains - 1 if a lies in any network of a comma/blank list;
   items that do not parse are skipped (check lists at load time). */
int cidr_list_contains(const char *list, const char *a);

#endif
