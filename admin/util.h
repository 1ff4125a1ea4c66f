/*
 * util.h - what every postern command shares: settings given as
 * KEY=VALUE operands, addresses and domains parsed the way the daemons
 * parse them (lib/addr), "did you mean" against existing names, and
 * small SQL helpers.  Every function that refuses input prints one
 * message (admin_error) and returns ADMIN_EX_DATAERR or ADMIN_EX_USAGE.
 *
 * Limits: ADMIN_KV_MAX settings per command line, values of
 * ADMIN_VALUE_MAX octets.
 */
#ifndef POSTERN_ADMIN_UTIL_H
#define POSTERN_ADMIN_UTIL_H

#include "addr.h"
#include "admin.h"

#define ADMIN_KV_MAX 32
#define ADMIN_VALUE_MAX 1024
#define ADMIN_SUGGEST_DISTANCE 2 /* "did you mean" up to this many edits */

struct admin_kv {
    const char *key[ADMIN_KV_MAX];
    const char *val[ADMIN_KV_MAX]; /* "" for key= ; the literal "null" is
                                       returned as is (caller decides) */
    unsigned n;
};

/*
 * admin_kv_parse - argv[0..argc) as KEY=VALUE pairs; every key must be in
 * allowed (NULL-terminated).  An unknown key is refused with the closest
 * allowed one suggested; a repeated key is refused.
 */
int admin_kv_parse(struct admin_kv *kv, int argc, char **argv,
                   const char *const *allowed, const char *what);
/* the value of key, or NULL when not given */
const char *admin_kv_get(const struct admin_kv *kv, const char *key);

/*
 * admin_parse_address - a mailbox or alias address as the daemons see it:
 * lower-case, no recipient-delimiter extension allowed (an alias named
 * "user+x" would never be looked up), no quoted local part, domain with a
 * dot.  0, or an ADMIN_EX_* status with the reason printed.
 */
int admin_parse_address(const char *what, const char *in, struct addr *a);

/* admin_parse_domain - a domain name as stored (lower-case, no trailing
   dot, LDH labels, at least two labels); written into out (size
   ADDR_DOMAIN_MAX + 1).  0 or ADMIN_EX_DATAERR. */
int admin_parse_domain(const char *what, const char *in, char *out);

/* admin_edit_distance - Levenshtein distance of a and b (capped at 255) */
unsigned admin_edit_distance(const char *a, const char *b);

/*
 * admin_suggest - the value of column `col` in `table` closest to name
 * (at most ADMIN_SUGGEST_DISTANCE edits), copied into out, or "" when
 * none is close.  LK_FOUND / LK_NOTFOUND / LK_TEMP.  table and col are
 * code constants, never input.
 */
int admin_suggest(struct db *db, const char *table, const char *col,
                  const char *name, char *out, size_t outsize);

/* admin_parse_bool - "1"/"0"/"yes"/"no"/"true"/"false"; 0/1, or -1 */
int admin_parse_bool(const char *s);

/* admin_parse_size - "500M", "2G", "0" (unlimited), "1048576" in bytes;
   0 and *out, or -1 */
int admin_parse_size(const char *s, unsigned long long *out);

#endif
