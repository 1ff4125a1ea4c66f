/*
 * pgroup - policy groups (SQL: policy_groups, policy_group_members) over
 * one in-memory snapshot, the one meaning of these tables for every
 * postern program (postern-policyd's sender rules and rate limits,
 * postern-milter's group send rights).
 *
 * A policy group holds members of four types:
 *   address     one address (compared case-insensitively)
 *   domain      every address of the domain; ".domain" every address of
 *               its subdomains
 *   group       every member of another policy group (nested)
 *   ldap_group  every member of an LDAP group (a DN or a group's address),
 *               asked through the caller's struct pgroup_ldap (the caller
 *               owns the LDAP connection; lib/ldapgroup.h does the work)
 * Addresses and domains are answered first (one hash lookup each), then
 * nested and LDAP groups in the order of their rows.
 *
 * Nesting: the group asked about is level 0; a group nested more than
 * PGROUP_NEST_MAX levels below it is LK_LIMIT.  Every group is visited once
 * per question, so cycles (A -> B -> A: the schema cannot forbid them) end;
 * pgroup_set_cycles() counts the groups that lie on one, for the log.
 *
 * Outcomes (lib/lookup.h): LK_FOUND, LK_NOTFOUND, LK_TEMP (an LDAP group
 * could not be read), LK_LIMIT (nesting, or an LDAP group over its
 * limits).  A definite LK_FOUND anywhere wins; otherwise the first
 * negative outcome is the answer, never a silent "not a member".
 *
 * Snapshot: pgroup_load() reads both tables with the caller's database
 * handle (inside the caller's consistent-snapshot transaction, lib/db.h)
 * or a program builds one by hand (tests).  A finished set is read-only:
 * any number of threads may ask questions without locks.
 *
 * Limits: PGROUP_NEST_MAX levels; PGROUP_ADDR_MAX bytes per address asked
 * about (longer: LK_NOTFOUND, it cannot be a member).
 */
#ifndef POSTERN_PGROUP_H
#define POSTERN_PGROUP_H

#include <stddef.h>

#include "addr.h"
#include "db.h"
#include "str.h"

#define PGROUP_NEST_MAX 16
#define PGROUP_ADDR_MAX 320
#define PGROUP_NAME_MAX 64

struct pgroup;
struct pgroup_set;

/* --- building a snapshot ------------------------------------------------- */

struct pgroup_set *pgroup_set_new(void);
/* pgroup_set_add_group - a group with its SQL id and name (lower-cased). */
void pgroup_set_add_group(struct pgroup_set *s, unsigned long id,
                          const char *name);
/*
 * pgroup_set_add_member - one policy_group_members row; type "address",
 * "domain", "group" or "ldap_group".  0, or -1 + *err (unknown group id
 * or type: the row is skipped).  Nested group names are resolved by
 * pgroup_set_finish.
 */
int pgroup_set_add_member(struct pgroup_set *s, unsigned long group_id,
                          const char *type, const char *value,
                          struct str *err);
/*
 * pgroup_set_canonical - store the address and domain members added from
 * now on in the one form every rule matches (lib/addr.h addr_canonical:
 * case, quoting, +extension with delims, trailing dot, alias domain
 * through alias/ctx, which is used only while members are added).  A
 * domain member's alias domain is replaced by its target; ".suffix"
 * members stay as written.  Callers then ask with canonical addresses.
 */
void pgroup_set_canonical(struct pgroup_set *s, const char *delims,
                          addr_alias_fn alias, void *ctx);
/* pgroup_set_finish - resolve nested names, find cycles; call once after
   the last add.  Returns the number of nested members naming no group. */
size_t pgroup_set_finish(struct pgroup_set *s);
void pgroup_set_free(struct pgroup_set *s);

/* pgroup_load - read policy_groups and policy_group_members; NULL + *err
   when the database cannot answer. */
struct pgroup_set *pgroup_load(struct db *db, struct str *err);
/* pgroup_load_canonical - the same with pgroup_set_canonical applied
   (when canonical is non-zero) before the members are read. */
struct pgroup_set *pgroup_load_canonical(struct db *db, const char *delims,
                                         addr_alias_fn alias, void *ctx,
                                         int canonical, struct str *err);

/* --- reading it ---------------------------------------------------------- */

size_t pgroup_set_count(const struct pgroup_set *s);
/* pgroup_set_cycles - groups that lie on a nesting cycle. */
size_t pgroup_set_cycles(const struct pgroup_set *s);
const struct pgroup *pgroup_by_id(const struct pgroup_set *s,
                                  unsigned long id);
const struct pgroup *pgroup_by_name(const struct pgroup_set *s,
                                    const char *name);
const char *pgroup_name(const struct pgroup *g);

/* How a program answers for ldap_group members: LK_* (+ *err). */
struct pgroup_ldap {
    int (*has)(void *ctx, const char *group, const char *addr,
               struct str *err);
    void *ctx;
};

/*
 * pgroup_has - is addr a member of g (nested groups included)?  ldap may
 * be NULL: ldap_group members then answer LK_TEMP ("cannot tell").  The
 * null sender "" is in no group.  LK_* (+ *err).
 */
int pgroup_has(const struct pgroup_set *s, const struct pgroup *g,
               const char *addr, const struct pgroup_ldap *ldap,
               struct str *err);
/* pgroup_nested_in - 1 if inner is nested (at any depth) in outer, else
   0 (also for inner == outer). */
int pgroup_nested_in(const struct pgroup_set *s, const struct pgroup *outer,
                     const struct pgroup *inner);
/* pgroup_has_any - is any of addrs[0..n) a member?  LK_FOUND as soon as
   one is; else the first negative outcome, else LK_NOTFOUND. */
int pgroup_has_any(const struct pgroup_set *s, const struct pgroup *g,
                   const char *const *addrs, size_t n,
                   const struct pgroup_ldap *ldap, struct str *err);

/* --- indexing rules by what their groups hold ------------------------------ */

/* pgroup_index - g's place in its set: 0 .. pgroup_set_count() - 1. */
size_t pgroup_index(const struct pgroup *g);
/*
 * pgroup_closure - set seen[i] (pgroup_set_count() bytes, zeroed by the
 * caller) for g and every group nested in it: the groups whose address and
 * domain members pgroup_has(g) consults.  Returns 1 when g is static:
 * pgroup_has(g, addr) is LK_FOUND exactly when addr is an address member
 * of a marked group or its domain (or a parent, ".parent") a domain
 * member, LK_NOTFOUND otherwise; 0 when it can depend on more (an LDAP
 * group in the closure, nesting beyond PGROUP_NEST_MAX).
 */
int pgroup_closure(const struct pgroup_set *s, const struct pgroup *g,
                   unsigned char *seen);
/* pgroup_set_each_member - fn for every address ('a') and domain ('d',
   ".suffix" included) member of every group of the set, as stored
   (canonical; compare case-insensitively). */
void pgroup_set_each_member(const struct pgroup_set *s,
                            void (*fn)(void *ctx, const struct pgroup *g,
                                       char kind, const char *value),
                            void *ctx);

#endif
