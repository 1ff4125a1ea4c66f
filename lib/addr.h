/*
 * addr - mail address helpers: split local part and domain, lower-case the
 * domain (and optionally the local part), strip a recipient-delimiter
 * extension ("user+ext" -> "user"), and validate length and characters.
 *
 * Limits (RFC 5321 4.5.3.1): local part ADDR_LOCAL_MAX octets, domain
 * ADDR_DOMAIN_MAX octets, labels 63.  Accepted local parts: printable ASCII
 * except space, or a quoted string; UTF-8 (RFC 6531) when well-formed.
 * Domains: LDH labels, '_' (seen in the wild), UTF-8 labels, or an address
 * literal in brackets.  The split is at the last '@'.
 */
#ifndef POSTERN_ADDR_H
#define POSTERN_ADDR_H

#include <stddef.h>

#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 253
#define ADDR_LABEL_MAX 63
#define ADDR_MAX (ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX)
#define ADDR_DELIM_MAX 8 /* distinct recipient delimiter characters */
/* alias domain of an alias domain ...: how far every program follows
   domains.alias_target before it gives up (the chain is a misconfiguration) */
#define ADDR_ALIAS_DOMAIN_DEPTH 4

/* flags for addr_parse */
#define ADDR_LOWER_LOCAL 0x01 /* lower-case the local part too */
#define ADDR_NEED_DOMAIN 0x02 /* "user" without "@domain" is an error */
#define ADDR_ALLOW_EMPTY 0x04 /* "" (the null sender <>) is accepted */

struct addr {
    char local[ADDR_LOCAL_MAX + 1];  /* without extension */
    char ext[ADDR_LOCAL_MAX + 1];    /* extension without the delimiter */
    char domain[ADDR_DOMAIN_MAX + 1];/* lower-case, no trailing dot */
    char full[ADDR_MAX + 1];         /* local@domain (or local) */
    char delim;                      /* the delimiter found, or 0 */
    int has_domain;
};

/*
 * addr_parse - parse in[0..len) into *a.  delims is the set of recipient
 * delimiter characters ("" or NULL: no extension stripping).  Returns 0, or
 * -1 with *err set to a static message.
 */
int addr_parse(const char *in, size_t len, const char *delims, int flags,
               struct addr *a, const char **err);

/*
 * addr_alias_fn - the target domain of alias domain d (lower-case), or
 * NULL when d is no alias domain.  The answer must live as long as the
 * caller's snapshot.
 */
typedef const char *(*addr_alias_fn)(void *ctx, const char *d);

/*
 * addr_canonical - the one form every postern rule matches an address in.
 * It parses like addr_parse with ADDR_LOWER_LOCAL and then:
 *   - a quoted local part whose content is a plain dot-atom loses its
 *     quotes and backslash escapes ("Pupil"@x and pupil@x are one mailbox,
 *     RFC 5321 4.1.2); other quoted local parts stay quoted, lower-cased;
 *   - the recipient-delimiter extension is stripped (after unquoting, so
 *     "pupil+x"@x is pupil@x);
 *   - the trailing root dot of the domain is dropped (addr_parse);
 *   - an alias domain is replaced by its target through alias (may be
 *     NULL), followed at most ADDR_ALIAS_DOMAIN_DEPTH times.
 * flags: ADDR_NEED_DOMAIN, ADDR_ALLOW_EMPTY as for addr_parse.  Returns 0,
 * or -1 with *err set (a malformed address, or an alias domain chain that
 * does not end: a misconfiguration the caller answers as a temporary
 * failure).
 */
int addr_canonical(const char *in, size_t len, const char *delims, int flags,
                   addr_alias_fn alias, void *ctx, struct addr *a,
                   const char **err);

/* addr_domain_valid - 1 if d[0..len) is an acceptable domain name. */
int addr_domain_valid(const char *d, size_t len);

/* addr_local_valid - 1 if l[0..len) is an acceptable local part. */
int addr_local_valid(const char *l, size_t len);

#endif
