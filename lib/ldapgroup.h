/*
 * ldapgroup - LDAP groups for every postern program: find a group by its
 * mail address, expand it to its members' mail addresses (nested groups
 * included), test whether an address is a member, and read a login's
 * addresses.  postern-milter (group addresses, send rights) and
 * postern-policyd (ldap_group members of policy groups) use it alike.
 *
 * Directory layout, from the [ldap] section (lib/ldapc.h):
 *   group_filter      finds a group by mail address (%s); one entry at most
 *   member_attribute  one attribute or a list in priority order, e.g.
 *                     "member" (groupOfNames), "uniqueMember"
 *                     (groupOfUniqueNames, UCS), "memberUid" (posixGroup,
 *                     UCS), or "uniqueMember, memberUid": per entry the
 *                     first listed attribute that has values is used, so a
 *                     UCS group listing each user twice is read once
 *   mail_attribute    one attribute or a list in priority order
 *                     ("mailPrimaryAddress, mail"): a user's address is the
 *                     first value of the first listed attribute it has
 *   uid_filter        finds a user by a memberUid value (%s)
 *   user_filter       finds a user by login or address (%s)
 *   max_nesting       groups below the top group, at most this many levels
 *   cache_ttl         how long answers are cached (at most)
 *   group_check_interval  how often a cached group is checked for changes
 * A member value with '=' is a DN, read with a base search; an entry with
 * member values or a group object class (groupOfNames, groupOfUniqueNames,
 * posixGroup, univentionGroup) is a nested group, any other entry a user
 * (users without an address are skipped).  A value without '=' is a uid,
 * always a user.  Every DN is read once per expansion, so cycles and
 * diamonds end; addresses are kept once each (a hash set, case-insensitive).
 *
 * Outcomes (lib/lookup.h): LK_FOUND, LK_NOTFOUND, LK_TEMP (LDAP trouble,
 * or a group filter that finds more than one entry), LK_LIMIT (nesting
 * deeper than max_nesting, or more than LDAPGROUP_MEMBERS_MAX addresses):
 * callers defer on rc < 0 and log LK_LIMIT apart, never "not a member".
 * A member DN that does not exist is skipped with a logged warning (stale
 * data, not an outage); the count is in struct ldapgroup_stats.
 *
 * Reading: the members of a group are read in batches, not one search
 * each: member DNs below one parent entry with one one-level search of an
 * OR of their RDNs, LDAPGROUP_BATCH_MAX at a time (LDAPGROUP_PARENT_MIN or
 * more below one parent: first one one-level search of all the parent's
 * children, limited to LDAPGROUP_PARENT_FACTOR times their number, which a
 * school-wide group's container passes; over the limit, the batches),
 * memberUid values with an OR of uid_filter when it is "(ATTR=%s)"; a
 * member a batch cannot settle (a DN with escapes or a multi-valued RDN, a
 * uid two entries answer, a DN the server spells otherwise, a custom
 * uid_filter) is read alone, so every outcome is the same as reading each
 * member alone.  A 1,000-member group is about a dozen searches, two when
 * its members fill their container.
 *
 * Caching: one lib/ttlcache for group lookups (address -> DN and rule
 * values, negative answers too) and one for expansions (DN -> member set),
 * both for cache_ttl and bounded (LDAPGROUP_FIND_CACHE_MAX,
 * LDAPGROUP_EXPAND_CACHE_MAX).  TEMP and LIMIT answers are never cached.
 * One caller per key reads (the others wait for its answer, or keep the
 * cached one while it is refreshed); an entry is refreshed ahead of
 * expiry by the caller that finds it due, and entries expire one by one.
 * Every group_check_interval (0: never) a cached expansion's groups (the
 * group and every group nested in it) have their entryCSN, else
 * modifyTimestamp, read again in one batch, and a cached group lookup its
 * group's: when one changed the group is read again at once, so a member
 * added or removed in LDAP counts within about group_check_interval.  A
 * change only to a user's entry (a new address) or a new group address
 * counts within cache_ttl.
 *
 * Backend: searches go through struct ldapgroup_backend, whose search
 * function has ldapc_search()'s contract; ldapgroup_backend_ldapc() makes
 * the real one on a struct ldapc, a unit test feeds entries of its own.
 *
 * Threads: one struct ldapgroup is shared by all threads (the caches
 * lock); a backend is used by one thread at a time.
 */
#ifndef POSTERN_LDAPGROUP_H
#define POSTERN_LDAPGROUP_H

#include <stddef.h>

#include "ldapc.h"
#include "str.h"
#include "strvec.h"

#define LDAPGROUP_MEMBERS_MAX 100000     /* addresses of one expansion */
#define LDAPGROUP_FIND_CACHE_MAX 20000   /* cached group lookups */
#define LDAPGROUP_EXPAND_CACHE_MAX 4096  /* cached expansions */
#define LDAPGROUP_ATTRS_MAX 4            /* names in an attribute list */
#define LDAPGROUP_RULE_VALUES_MAX 64     /* values of the extra attribute */
#define LDAPGROUP_USER_ENTRIES_MAX 4     /* entries user_filter may find */
#define LDAPGROUP_SUBGROUPS_MAX 1024     /* nested groups of one expansion */
#define LDAPGROUP_BATCH_MAX 100          /* member values in one search */
#define LDAPGROUP_PARENT_MIN 500         /* members below one parent read
                                            with the parent's children */
#define LDAPGROUP_PARENT_FACTOR 3        /* ... if it has at most this many
                                            times as many children */

typedef int (*ldapgroup_search_fn)(void *ctx, const char *base, int scope,
                                   const char *filter,
                                   const char *const *attrs,
                                   size_t max_entries, ldapc_entry_fn fn,
                                   void *fnctx, struct str *err);

struct ldapgroup_backend {
    ldapgroup_search_fn search; /* ldapc_search's contract, LK_* */
    void *ctx;
};

/* ldapgroup_backend_ldapc - the real backend: searches on lc (in its own
   file, lib/ldapgroup_ldapc.c, so that ldapgroup needs no libldap). */
struct ldapgroup_backend ldapgroup_backend_ldapc(struct ldapc *lc);

struct ldapgroup;

/*
 * ldapgroup_new - from the [ldap] settings; extra_attr ("" = none) is an
 * attribute of group entries whose values ldapgroup_find returns (the
 * milter's send_rule_attribute).  NULL + *err for a bad attribute list.
 */
struct ldapgroup *ldapgroup_new(const struct ldapc_config *cfg,
                                const char *extra_attr, struct str *err);
void ldapgroup_free(struct ldapgroup *g);
/* ldapgroup_check_config - the [ldap] checks of -t: attribute lists and
   filter templates; 0 or -1 + *err. */
int ldapgroup_check_config(const struct ldapc_config *cfg, struct str *err);

struct ldapgroup_info {
    char *dn;
    struct strvec values;       /* of extra_attr */
};

void ldapgroup_info_free(struct ldapgroup_info *info);

/* ldapgroup_find - is addr a group?  LK_FOUND (*info filled),
   LK_NOTFOUND, LK_TEMP (+ *err). */
int ldapgroup_find(struct ldapgroup *g, const struct ldapgroup_backend *be,
                   const char *addr, struct ldapgroup_info *info,
                   struct str *err);

/*
 * ldapgroup_expand - append the member addresses of group (a DN, or a
 * group's mail address) to out, each once, in directory order.  LK_FOUND
 * (the group exists; it may have no members), LK_NOTFOUND (no such group),
 * LK_TEMP or LK_LIMIT (+ *err).
 */
int ldapgroup_expand(struct ldapgroup *g, const struct ldapgroup_backend *be,
                     const char *group, struct strvec *out, struct str *err);

/* one group nested below a group: its DN, its address (the first value
   of mail_attribute, NULL when it has none) and the values of extra_attr
   (a nested group's own send rule) */
struct ldapgroup_sub {
    char *dn;
    char *mail;
    struct strvec values;
};

struct ldapgroup_subs {
    struct ldapgroup_sub *v;
    size_t n;
};

void ldapgroup_subs_free(struct ldapgroup_subs *s);

/*
 * ldapgroup_subgroups - append every group nested below group (a DN or a
 * group's address), at any depth, each once, in walk order, to out: the
 * groups an expansion of group passes through, so a caller can apply each
 * one's rule.  Read in the same walk and cached with the member set.
 * LK_FOUND, LK_NOTFOUND (no such group), LK_TEMP, LK_LIMIT (the limits of
 * ldapgroup_expand, and more than LDAPGROUP_SUBGROUPS_MAX nested groups).
 */
int ldapgroup_subgroups(struct ldapgroup *g, const struct ldapgroup_backend *be,
                        const char *group, struct ldapgroup_subs *out,
                        struct str *err);

/* ldapgroup_has - is addr (case-insensitive) a member of group (DN or
   address)?  LK_FOUND, LK_NOTFOUND (also: no such group), LK_TEMP,
   LK_LIMIT (+ *err). */
int ldapgroup_has(struct ldapgroup *g, const struct ldapgroup_backend *be,
                  const char *group, const char *addr, struct str *err);

/*
 * ldapgroup_user_addresses - the addresses of a login: the login itself
 * when it is an address, then every value of mail_attribute, mail and
 * mailAlternativeAddress of the entries user_filter finds (each once;
 * not cached).  LK_FOUND (some address), LK_NOTFOUND, LK_TEMP.
 */
int ldapgroup_user_addresses(struct ldapgroup *g,
                             const struct ldapgroup_backend *be,
                             const char *login, struct strvec *out,
                             struct str *err);

struct ldapgroup_stats {
    unsigned long long searches;       /* backend searches made */
    unsigned long long missing;        /* member DNs/uids not found */
    unsigned long long loads;          /* expansions read (cache misses
                                          and refreshes) */
    unsigned long long refreshes;      /* of those, ahead of expiry */
    unsigned long long checks;         /* change checks of cached answers */
    unsigned long long waits;          /* callers that waited for another
                                          caller's read */
};

/* ldapgroup_stats - counters since ldapgroup_new (approximate). */
void ldapgroup_stats(const struct ldapgroup *g, struct ldapgroup_stats *out);

#endif
