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

/* the same two checks, the reason appended to *why instead of printed
   (for a batch that reports every bad row at the end: postern import) */
int admin_address_check(const char *in, struct addr *a, struct str *why);
int admin_domain_check(const char *in, char *out, struct str *why);

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

/* admin_index - the position of v in set (NULL-terminated), or -1; a
   verb to its enum when set lists the names in the enum's order */
int admin_index(const char *v, const char *const *set);

/* admin_parse_bool - "1"/"0"/"yes"/"no"/"true"/"false"; 0/1, or -1 */
int admin_parse_bool(const char *s);

/* admin_parse_size - "500M", "2G", "0" (unlimited), "1048576" in bytes;
   0 and *out, or -1 */
int admin_parse_size(const char *s, unsigned long long *out);

/* --- policy objects (adm2) --- */

/* admin_parse_duration - "90", "90s", "10m", "1h", "2d", "1w" in seconds;
   0 and *out, or -1 */
int admin_parse_duration(const char *s, unsigned long long *out);

/*
 * admin_value - the first column of the first row of a query, copied into
 * out ("" for SQL NULL): LK_FOUND / LK_NOTFOUND / LK_TEMP (message printed
 * under what).
 */
int admin_value(struct db *db, const char *what, const char *sql,
                const struct db_param *p, size_t np, char *out,
                size_t outsize);

/*
 * admin_group_id - the id of the policy group called name.  0; or, with
 * the message "no policy group 'x' (did you mean 'y'?)" printed,
 * missing_status (ADMIN_EX_DATAERR for a group a rule names,
 * ADMIN_EX_NOINPUT for the object of the command), or ADMIN_EX_TEMPFAIL.
 */
int admin_group_id(struct db *db, const char *what, const char *name,
                   int missing_status, long long *id);

/*
 * admin_hosted_domain - check that domain is in the domains table; an
 * alias domain is replaced in place by its target (a note on stderr:
 * rules match canonical addresses).  0, ADMIN_EX_DATAERR ("no hosted
 * domain", with did-you-mean) or ADMIN_EX_TEMPFAIL.  dom has room for
 * ADDR_DOMAIN_MAX + 1.
 */
int admin_hosted_domain(struct db *db, const char *what, char *dom);

/* admin_list - run a SELECT and print its rows under cols (admin_out);
   ADMIN_EX_OK or ADMIN_EX_TEMPFAIL */
int admin_list(struct admin *a, const char *const *cols, const char *sql,
               const struct db_param *p, size_t np);

/* admin_dbfail - print a database error under what; ADMIN_EX_TEMPFAIL */
int admin_dbfail(const char *what, const struct str *err);

/* admin_ldap_owned - refuse to change a row postern-dirsync owns
   (owner = 'ldap', migration 0006): ADMIN_EX_DATAERR */
int admin_ldap_owned(const char *what, const char *object);

/* admin_parse_text - a free-text value (a reply text, a comment): at most
   max characters, no control characters; "" means NULL (*out = NULL).
   0 or ADMIN_EX_DATAERR. */
int admin_parse_text(const char *what, const char *key, const char *v,
                     size_t max, const char **out);

/* admin_parse_int - a decimal integer in [min, max]; 0 or
   ADMIN_EX_DATAERR (message names key) */
int admin_parse_int(const char *what, const char *key, const char *v,
                    long long min, long long max, long long *out);

/* admin_kv_text - the setting key as admin_parse_text (NULL when not
   given or ""); *given: key was on the line.  0 or ADMIN_EX_DATAERR. */
int admin_kv_text(const struct admin_kv *kv, const char *what,
                  const char *key, size_t max, const char **out, int *given);

/* admin_kv_priority - priority=N of a policy rule, from
   ADMIN_PRIORITY_MIN to ADMIN_PRIORITY_MAX; ADMIN_PRIORITY_DEFAULT when
   not given (*given 0).  0 or ADMIN_EX_DATAERR. */
#define ADMIN_PRIORITY_MIN (-1000000LL)
#define ADMIN_PRIORITY_MAX 1000000LL
#define ADMIN_PRIORITY_DEFAULT 100
int admin_kv_priority(const struct admin_kv *kv, const char *what,
                      long long *out, int *given);

/* admin_parse_name - a policy group, sender rule or rate-limit rule name
   as the schema's CHECKs allow: [a-z0-9][a-z0-9._-]*, at most
   ADMIN_NAME_MAX octets; 0 or ADMIN_EX_DATAERR */
#define ADMIN_NAME_MAX 64
int admin_parse_name(const char *what, const char *name);

/* admin_network_ok - 1 if v is an IPv4/IPv6 address or ADDR/PREFIX */
int admin_network_ok(const char *v);

/*
 * An UPDATE of the columns a "set" gave, and only those:
 * "UPDATE table SET id = id, col = ?, ... WHERE id = ?".  At most
 * ADMIN_UPDATE_MAX columns (more is a bug in the caller: abort).
 */
#define ADMIN_UPDATE_MAX 16
struct admin_update {
    struct str sql;
    struct db_param p[ADMIN_UPDATE_MAX + 1]; /* + the id */
    size_t n;
};
void admin_update_begin(struct admin_update *u, const char *table);
/* ", col = ?" bound to p */
void admin_update_col(struct admin_update *u, const char *col,
                      struct db_param p);
/* ", col = ?" bound to s, or to NULL when s is NULL */
void admin_update_str(struct admin_update *u, const char *col, const char *s);
/* run it on the row id and free u: 0, or -1 (err set by lib/db) */
int admin_update_run(struct admin_update *u, struct db *db, long long id,
                     struct str *err);

/* --- routing objects (adm1) --- */

/* admin_take_flag - remove every argv element equal to flag ("--force")
   from argv[1..*argc), shifting the rest; 1 if it was there, else 0 */
int admin_take_flag(int *argc, char **argv, const char *flag);

/*
 * admin_done - what a changing command did, as one row (TSV or JSON):
 * object ("mailbox"), action ("added"), key (the address), rows changed,
 * and dry_run (1: rolled back, nothing changed).
 */
void admin_done(struct admin *a, const char *object, const char *action,
                const char *key, unsigned long long rows);

/*
 * admin_show - one object: the first row of a SELECT printed as
 * "column<TAB>value" lines (TSV), or with --json as one JSON object.
 * LK_FOUND, LK_NOTFOUND (nothing printed; the caller explains) or
 * LK_TEMP (message printed under what).
 */
int admin_show(struct admin *a, const char *what, const char *const *cols,
               const char *sql, const struct db_param *p, size_t np);

#endif
