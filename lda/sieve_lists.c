/*
 * sieve_lists - postern-lda's answers to the Sieve "extlists" extension
 * (RFC 6134, lib-sieve/ext_extlists.c): a list named "tag:NAME" is the
 * postern policy group NAME, the same groups postern-policyd's sender
 * rules and postern-milter's send rights use (tables policy_groups and
 * policy_group_members, read by lib/pgroup.h).
 *
 *   membership     `address :list "from" "tag:parents"`: the value is
 *                  put in canonical form (lib/addr.h addr_canonical: case,
 *                  quoting, the [lda] recipient_delimiter extension,
 *                  trailing dot, alias domains of the domains table) and
 *                  asked with pgroup_has(): address and domain members,
 *                  nested groups, and with [lda] ldap = yes ldap_group
 *                  members (lib/ldapgroup.h ldapgroup_has).  A value that
 *                  is no address is no member.  With ldap = no (the
 *                  default) a value that no other member of the group
 *                  holds is "cannot tell" (LK_TEMP, there is no LDAP
 *                  connection), a run-time error of the script.
 *   directory      with [lda] ldap = yes, "tag:NAME" that is no policy
 *   groups         group names the directory group (postern-dirsync's
 *                  table directory_groups) whose name (its cn, any case)
 *                  or address is NAME; an address match wins, a name
 *                  that two groups share is LK_TEMP ("ambiguous": write
 *                  the address).  Membership is ldapgroup_has on the
 *                  group's address, nested groups included.
 *   valid_ext_list "tag:NAME" exists when the policy group NAME does (or,
 *                  with ldap = yes, the directory group NAME).
 *   redirect :list the group's address members (nested groups included);
 *                  a policy group with domain or LDAP members, or more
 *                  than the engine's max, is LK_LIMIT; a directory group
 *                  is expanded in LDAP (ldapgroup_expand), more members
 *                  than the max is LK_LIMIT.
 *
 * LDAP: one connection per delivery, opened when a script first needs it
 * (lib/ldapc.h, loaded then as the module postern-ldap.so through
 * lib/ldapload.h, so that deliveries without it do not pay for libldap;
 * the [ldap] password_file is read then, so it must be readable by [lda]
 * user).  A missing module is LDAP trouble, below.  LDAP trouble (LK_TEMP) and LDAP limits
 * (LK_LIMIT: [ldap] max_nesting, LDAPGROUP_MEMBERS_MAX) are run-time
 * errors of the script, logged with the reason: the message is kept,
 * never filed by a wrong "not a member".
 *
 * Reading: the alias domains and both group tables are read in one
 * consistent snapshot (db_begin_snapshot) when a script first asks, and
 * kept for the rest of the delivery (sieve_before, the user's script,
 * sieve_after); the engine asks each (list, value) once per run.
 *
 * Diagnostics: the database down or without [database] (lookup = maps
 * without a database) answers LK_TEMP, logged once per delivery; the
 * engine makes it a run-time error, so the message is kept in the
 * default folder: never lost, never filed by a wrong answer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve_lists.h"
#include "log.h"
#include "mem.h"

void sieve_lists_init(struct sieve_lists *l, struct lda_ctx *ctx,
                      const char *address)
{
    memset(l, 0, sizeof(*l));
    l->ctx = ctx;
    l->address = address;
    aliasdom_init(&l->alias);
}

void sieve_lists_free(struct sieve_lists *l)
{
    pgroup_set_free(l->groups);
    l->groups = NULL;
    aliasdom_free(&l->alias);
    if (l->ldgroups != NULL)
        ldapgroup_free(l->ldgroups);
    if (l->ld != NULL)
        l->ldap->close(l->ld);
    l->ldgroups = NULL;
    l->ld = NULL;
}

/* the LDAP connection and group reader, made on first use; 0 or LK_TEMP */
static int ldap_open(struct sieve_lists *l)
{
    const struct lda_config *cfg = l->ctx->cfg;
    struct str err = STR_INIT;

    if (l->ldap_state != 0)
        return l->ldap_state == 1 ? 0 : LK_TEMP;
    l->ldap_state = LK_TEMP;
    if ((l->ldap = ldapload_get(&err)) == NULL ||
        (l->ld = l->ldap->open(&cfg->ldap, &err)) == NULL ||
        (l->ldgroups = ldapgroup_new(&cfg->ldap, "", &err)) == NULL) {
        log_warn("to=<%s>: sieve extlists: [ldap]: %s", l->address,
                 str_cstr(&err));
        str_free(&err);
        return LK_TEMP;
    }
    l->ldap_state = 1;
    return 0;
}

/* struct pgroup_ldap's has: an ldap_group member of a policy group, or a
   directory group */
static int ldap_has(void *ctx, const char *group, const char *addr,
                    struct str *err)
{
    struct sieve_lists *l = ctx;
    struct ldapgroup_backend be;

    if (ldap_open(l) < 0) {
        str_appendf(err, "no LDAP connection ([ldap])");
        return LK_TEMP;
    }
    be = l->ldap->backend(l->ld);
    return ldapgroup_has(l->ldgroups, &be, group, addr, err);
}

void sieve_lists_host(struct sieve_lists *l, struct sieve_host *h)
{
    h->list_member = sieve_lists_member;
    h->list_valid = sieve_lists_valid;
    h->list_members = sieve_lists_members;
    h->list_ctx = l;
}

/* read the snapshot once; 0 or LK_TEMP */
static int load(struct sieve_lists *l)
{
    struct db *db = l->ctx->db;
    struct str err = STR_INIT;

    if (l->state != 0)
        return l->state == 1 ? 0 : LK_TEMP;
    l->state = LK_TEMP;
    if (db == NULL) {
        log_warn("to=<%s>: sieve extlists: no [database]: lists cannot be "
                 "read", l->address);
        return LK_TEMP;
    }
    if (db_begin_snapshot(db, &err) < 0 ||
        aliasdom_load(&l->alias, db, &err) < 0 ||
        (l->groups = pgroup_load_canonical(db, l->ctx->cfg->recipient_delimiter,
                                           aliasdom_target, &l->alias, 1,
                                           &err)) == NULL) {
        db_rollback(db);
        log_warn("to=<%s>: sieve extlists: cannot read the groups: %s",
                 l->address, str_cstr(&err));
        str_free(&err);
        return LK_TEMP;
    }
    db_rollback(db); /* read-only: nothing to commit */
    l->state = 1;
    str_free(&err);
    return 0;
}

/* the policy group of "tag:NAME" (NULL: none); *rc LK_TEMP when
   unreadable */
static const struct pgroup *group_of(struct sieve_lists *l, const char *list,
                                     int *rc)
{
    char name[PGROUP_NAME_MAX + 1];
    size_t n;

    *rc = LK_NOTFOUND;
    if (strncasecmp(list, "tag:", 4) != 0 ||
        (n = strlen(list + 4)) == 0 || n > ADDR_MAX)
        return NULL;
    if (load(l) < 0) {
        *rc = LK_TEMP;
        return NULL;
    }
    if (n > PGROUP_NAME_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)(list[4 + i] >= 'A' && list[4 + i] <= 'Z'
                             ? list[4 + i] + 32 : list[4 + i]);
    return pgroup_by_name(l->groups, name);
}

struct dirrow {
    char addr[ADDR_MAX + 1];
    int exact;                  /* a row's address is NAME */
    int rows;
};

static int dir_row(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct dirrow *d = ctx;

    if (ncols < 2 || vals[0] == NULL || lens[0] > ADDR_MAX)
        return 0;
    d->rows++;
    if (d->exact)
        return 0;
    if (vals[1] != NULL && strcmp(vals[1], "1") == 0)
        d->exact = 1;
    memcpy(d->addr, vals[0], lens[0]);
    d->addr[lens[0]] = '\0';
    return 0;
}

/*
 * dirgroup_of - with [lda] ldap = yes, the address of the directory group
 * "tag:NAME" (name or address NAME) into addr: LK_FOUND, LK_NOTFOUND,
 * LK_TEMP (database trouble, a name two groups share).  Call after
 * group_of found no policy group.
 */
static int dirgroup_of(struct sieve_lists *l, const char *list,
                       char addr[ADDR_MAX + 1])
{
    static const char sql[] =
        "SELECT address, address = ? FROM directory_groups "
        "WHERE address = ? OR name = ? LIMIT 16";
    struct dirrow d;
    struct str err = STR_INIT;
    const char *name = list + 4;
    struct db_param p[3] = {DBP_S(name), DBP_S(name), DBP_S(name)};
    int rc;

    if (!l->ctx->cfg->ldap_on || strncasecmp(list, "tag:", 4) != 0 ||
        name[0] == '\0' || strlen(name) > ADDR_MAX)
        return LK_NOTFOUND;
    memset(&d, 0, sizeof(d));
    rc = db_query(l->ctx->db, sql, p, 3, dir_row, &d, &err);
    if (rc < 0) {
        log_warn("to=<%s>: sieve extlists: %s: cannot read the directory "
                 "groups: %s", l->address, log_safe_cstr(list),
                 str_cstr(&err));
        str_free(&err);
        return LK_TEMP;
    }
    str_free(&err);
    if (d.rows == 0)
        return LK_NOTFOUND;
    if (!d.exact && d.rows > 1) {
        log_warn("to=<%s>: sieve extlists: %s: ambiguous, %d directory "
                 "groups have this name (write tag:ADDRESS)", l->address,
                 log_safe_cstr(list), d.rows);
        return LK_TEMP;
    }
    memcpy(addr, d.addr, strlen(d.addr) + 1);
    return LK_FOUND;
}

int sieve_lists_member(void *ctx, const char *list, const char *value)
{
    struct sieve_lists *l = ctx;
    const struct pgroup *g;
    struct str err = STR_INIT;
    struct pgroup_ldap ldap = {ldap_has, l};
    char dir[ADDR_MAX + 1];
    struct addr a;
    const char *why;
    int rc;

    if ((g = group_of(l, list, &rc)) == NULL &&
        (rc < 0 || (rc = dirgroup_of(l, list, dir)) != LK_FOUND))
        return rc;
    if (addr_canonical(value, strlen(value), l->ctx->cfg->recipient_delimiter,
                       ADDR_NEED_DOMAIN, aliasdom_target, &l->alias, &a,
                       &why) < 0)
        return LK_NOTFOUND;
    if (g == NULL)
        rc = ldap_has(l, dir, a.full, &err);
    else
        rc = pgroup_has(l->groups, g, a.full,
                        l->ctx->cfg->ldap_on ? &ldap : NULL, &err);
    if (rc < 0)
        log_warn("to=<%s>: sieve extlists: %s: is <%s> a member? %s",
                 l->address, list, a.full,
                 err.len ? str_cstr(&err) : "cannot tell");
    str_free(&err);
    return rc;
}

int sieve_lists_valid(void *ctx, const char *list)
{
    struct sieve_lists *l = ctx;
    char dir[ADDR_MAX + 1];
    int rc;

    if (group_of(l, list, &rc) != NULL)
        return LK_FOUND;
    return rc < 0 ? rc : dirgroup_of(l, list, dir);
}

/* redirect :list of a directory group: its members in LDAP */
static int dir_members(struct sieve_lists *l, const char *list,
                       const char *group, struct str *out, size_t max)
{
    struct ldapgroup_backend be;
    struct strvec v = STRVEC_INIT;
    struct str err = STR_INIT;
    int rc;

    if (ldap_open(l) < 0)
        return LK_TEMP;
    be = l->ldap->backend(l->ld);
    rc = ldapgroup_expand(l->ldgroups, &be, group, &v, &err);
    if (rc == LK_NOTFOUND)
        rc = LK_TEMP;           /* in the table, not in LDAP: stale */
    if (rc >= 0 && v.n > max)
        rc = LK_LIMIT;
    if (rc < 0)
        log_warn("to=<%s>: sieve extlists: %s: members of <%s>: %s",
                 l->address, log_safe_cstr(list), group,
                 err.len ? str_cstr(&err)
                 : rc == LK_LIMIT ? "more than the redirect limit"
                                  : "not found in LDAP");
    else
        for (size_t i = 0; i < v.n; i++) {
            str_append_cstr(out, v.v[i]);
            str_append_char(out, '\n');
        }
    strvec_free(&v);
    str_free(&err);
    return rc < 0 ? rc : LK_FOUND;
}

struct collect {
    const unsigned char *seen;
    struct str *out;
    size_t n, max;
    int limit;
};

static int already(const struct str *out, const char *v)
{
    size_t vl = strlen(v);

    for (size_t i = 0; i < out->len;) {
        const char *nl = memchr(out->data + i, '\n', out->len - i);
        size_t e = nl ? (size_t)(nl - out->data) : out->len;
        if (e - i == vl && strncasecmp(out->data + i, v, vl) == 0)
            return 1;
        i = e + 1;
    }
    return 0;
}

static void collect_one(void *ctx, const struct pgroup *g, char kind,
                        const char *value)
{
    struct collect *c = ctx;

    if (!c->seen[pgroup_index(g)] || c->limit)
        return;
    if (kind != 'a' || ++c->n > c->max) {
        c->limit = 1;
        return;
    }
    if (!already(c->out, value)) {
        str_append_cstr(c->out, value);
        str_append_char(c->out, '\n');
    } else
        c->n--;
}

int sieve_lists_members(void *ctx, const char *list, struct str *out,
                        size_t max)
{
    struct sieve_lists *l = ctx;
    const struct pgroup *g;
    struct collect c = {NULL, out, 0, max, 0};
    unsigned char *seen;
    char dir[ADDR_MAX + 1];
    int rc;

    if ((g = group_of(l, list, &rc)) == NULL) {
        if (rc < 0 || (rc = dirgroup_of(l, list, dir)) != LK_FOUND)
            return rc;
        return dir_members(l, list, dir, out, max);
    }
    seen = xcalloc(pgroup_set_count(l->groups) + 1, 1);
    c.seen = seen;
    if (!pgroup_closure(l->groups, g, seen))
        c.limit = 1;            /* LDAP members or nested too deep */
    else
        pgroup_set_each_member(l->groups, collect_one, &c);
    free(seen);
    if (c.limit) {
        str_reset(out);
        return LK_LIMIT;
    }
    return LK_FOUND;
}
