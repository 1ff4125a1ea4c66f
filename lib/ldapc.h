/*
 * ldapc - a small LDAP client on OpenLDAP's libldap: a list of server URIs
 * tried in order, an optional simple bind with the password read from a
 * file, connect and search timeouts (filter escaping and templates are
 * lib/ldapfilter.h), and searches that keep three outcomes apart
 * (lib/lookup.h):
 *
 *   LK_FOUND (1)     at least one entry
 *   LK_NOTFOUND (0)  the search ran and returned no entry (or the base DN
 *                    does not exist)
 *   LK_TEMP (-1)     anything else: no server reachable, bind refused,
 *                    timeout, size limit, lost connection.  Callers answer
 *                    "try again later", never "not found".
 *
 * The connection is made on first use and re-made after a failure (one
 * retry per search when an established connection turned out dead).  After
 * every URI failed, no new attempt is made for retry_interval.
 *
 * Limits: LDAPC_URIS_MAX URIs, LDAPC_VALUE_MAX bytes per attribute value
 * (longer values fail the search with LK_TEMP), the caller's max_entries
 * per search (more entries: LK_TEMP, never a silent cut).
 *
 * One struct ldapc is used by one thread at a time.
 */
#ifndef POSTERN_LDAPC_H
#define POSTERN_LDAPC_H

#include <stddef.h>

#include "config.h"
#include "ldapfilter.h"
#include "lookup.h"
#include "str.h"

#define LDAPC_URIS_MAX 8
#define LDAPC_VALUE_MAX 65536
#define LDAPC_PASSWORD_MAX 1024

#define LDAPC_SCOPE_BASE 0
#define LDAPC_SCOPE_ONE 1
#define LDAPC_SCOPE_SUB 2

/*
 * The [ldap] section.  The connection keys are used by ldapc itself; the
 * directory-layout keys (group_filter ... group_check_interval) are shared
 * settings every program that resolves groups reads the same way.
 */
struct ldapc_config {
    char *uri;              /* "ldap://a:389 ldap://b:389" (blank or comma) */
    char *base;
    char *bind_dn;          /* "" = anonymous */
    char *password_file;
    long long connect_timeout; /* ms */
    long long query_timeout;   /* ms */
    long long retry_interval;  /* ms */
    char *group_filter;     /* finds a group by its mail address (%s) */
    char *user_filter;      /* finds a user by mail address or login (%s) */
    char *uid_filter;       /* finds a user by uid (memberUid values) */
    char *member_attribute; /* member | uniqueMember | memberUid, or a
                               list in priority order (lib/ldapgroup.h) */
    char *mail_attribute;   /* mailPrimaryAddress | mail, or a list */
    long long max_nesting;
    long long cache_ttl;    /* ms */
    long long check_interval; /* ms: group_check_interval, 0 = never */
};

#define LDAPC_DEFAULT_GROUP_FILTER                                             \
    "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)"           \
    "(objectClass=posixGroup))(|(mailPrimaryAddress=%s)(mail=%s)))"
#define LDAPC_DEFAULT_USER_FILTER                                              \
    "(&(|(objectClass=inetOrgPerson)(objectClass=person))"                     \
    "(|(mailPrimaryAddress=%s)(mail=%s)(uid=%s)))"

/* The [ldap] section, for struct ldapc_config at member m of struct T. */
#define LDAPC_CFG_DEFS(T, m)                                                   \
    {"uri", CFG_STR, "ldap://127.0.0.1:389", 1, 1024, offsetof(T, m.uri),      \
     NULL},                                                                    \
    {"base", CFG_STR, "", 0, 1024, offsetof(T, m.base), NULL},                 \
    {"bind_dn", CFG_STR, "", 0, 1024, offsetof(T, m.bind_dn), NULL},           \
    {"password_file", CFG_STR, "", 0, 1024, offsetof(T, m.password_file),      \
     NULL},                                                                    \
    {"connect_timeout", CFG_TIME, "2s", 100, 60000,                            \
     offsetof(T, m.connect_timeout), NULL},                                    \
    {"query_timeout", CFG_TIME, "3s", 100, 600000,                             \
     offsetof(T, m.query_timeout), NULL},                                      \
    {"retry_interval", CFG_TIME, "1s", 0, 60000,                               \
     offsetof(T, m.retry_interval), NULL},                                     \
    {"group_filter", CFG_STR, LDAPC_DEFAULT_GROUP_FILTER, 3, 1024,             \
     offsetof(T, m.group_filter), NULL},                                       \
    {"user_filter", CFG_STR, LDAPC_DEFAULT_USER_FILTER, 3, 1024,               \
     offsetof(T, m.user_filter), NULL},                                        \
    {"uid_filter", CFG_STR, "(uid=%s)", 3, 1024, offsetof(T, m.uid_filter),    \
     NULL},                                                                    \
    {"member_attribute", CFG_STR, "uniqueMember", 1, 64,                       \
     offsetof(T, m.member_attribute), NULL},                                   \
    {"mail_attribute", CFG_STR, "mailPrimaryAddress", 1, 64,                   \
     offsetof(T, m.mail_attribute), NULL},                                     \
    {"max_nesting", CFG_INT, "10", 0, 100, offsetof(T, m.max_nesting), NULL},  \
    {"cache_ttl", CFG_TIME, "60s", 0, 86400000, offsetof(T, m.cache_ttl),      \
     NULL},                                                                    \
    {"group_check_interval", CFG_TIME, "5s", 0, 3600000,                       \
     offsetof(T, m.check_interval), NULL},                                     \
    {NULL, 0, NULL, 0, 0, 0, NULL}

/*
 * Entry callback: called once per entry with attr == NULL (value NULL),
 * then once per value of each returned attribute.  Values are
 * NUL-terminated copies valid only during the call.  Return 0 to go on,
 * non-zero to stop reading this search (it still counts as LK_FOUND).
 */
typedef int (*ldapc_entry_fn)(void *ctx, const char *dn, const char *attr,
                              const char *value, size_t len);

struct ldapc;

/* ldapc_global_init - initialize libldap; call once before starting
   threads (its first-use initialization is not thread-safe). */
void ldapc_global_init(void);

/* ldapc_open - check the URIs and read the password file (no connection). */
struct ldapc *ldapc_open(const struct ldapc_config *cfg, struct str *err);
void ldapc_close(struct ldapc *lc);

/*
 * ldapc_search - search base (NULL or "": the configured base) with scope
 * and filter, returning attrs (NULL-terminated; NULL = none but the DN).
 * More than max_entries entries is LK_TEMP.  LK_FOUND / LK_NOTFOUND /
 * LK_TEMP (+ *err).
 */
int ldapc_search(struct ldapc *lc, const char *base, int scope,
                 const char *filter, const char *const *attrs,
                 size_t max_entries, ldapc_entry_fn fn, void *ctx,
                 struct str *err);

/*
 * ldapc_entry_values - hand the entry msg (an LDAPMessage of ld, an LDAP
 * handle) to fn as ldapc_search does: once with attr == NULL, then once
 * per value, copied through value.  0, 1 (fn asked to stop), -1 + *err.
 */
int ldapc_entry_values(void *ld, void *msg, struct str *value,
                       ldapc_entry_fn fn, void *ctx, struct str *err);
/*
 * ldapc_handle - the connected and bound LDAP handle (an LDAP *), for
 * operations ldapc has no function for (lib/ldapsync.c); NULL + *err when
 * no server could be reached.  ldapc_reset drops the connection after the
 * caller saw it fail, so the next use connects again.
 */
void *ldapc_handle(struct ldapc *lc, struct str *err);
void ldapc_reset(struct ldapc *lc);
/* ldapc_ping - connect (and bind) if needed; 0 or LK_TEMP. */
int ldapc_ping(struct ldapc *lc, struct str *err);

#endif
