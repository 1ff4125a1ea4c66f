/*
 * groups - find group addresses and expand groups in LDAP.
 *
 * A recipient is a group when [ldap] group_filter (with the address for
 * %s) finds exactly one entry; its DN and the values of [milter]
 * send_rule_attribute are kept.  Expansion reads the group's
 * member_attribute: values that are DNs (member, uniqueMember) are read
 * with a base search; an entry with member values or a group object class
 * is a nested group and is expanded in turn (at most max_nesting levels;
 * every group once, so cycles end), any other entry is a user whose first
 * mail_attribute value is a member address (users without one are
 * skipped).  Values that are not DNs (memberUid) are looked up with
 * uid_filter.  Addresses are collected once each (case-insensitively).
 *
 * Limits and outcomes: more than [milter] max_recipients addresses, or
 * nesting deeper than [ldap] max_nesting, is GROUP_LIMIT (the caller
 * tempfails and logs: never a silent cut); any LDAP trouble is GROUP_TEMP.
 * A member DN that does not exist is skipped with a warning (stale data,
 * not an outage).  Results are cached for [ldap] cache_ttl.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"

#define GROUP_DUPLICATES_MAX 1 /* entries a group filter may find */

/* --- group lookup -------------------------------------------------------- */

struct lookup_state {
    const char *rule_attr;
    struct slist *dn, *rules;
    int oom;
};

static int lookup_cb(void *ctx, const char *dn, const char *attr,
                     const char *value, size_t len)
{
    struct lookup_state *st = ctx;

    (void)len;
    if (attr == NULL)
        st->oom |= slist_add(st->dn, dn);
    else if (st->rule_attr[0] && !strcasecmp(attr, st->rule_attr))
        st->oom |= slist_add(st->rules, value);
    return 0;
}

int group_lookup(struct mctx *m, struct mres *r, const char *addr,
                 struct slist *dn, struct slist *rules, struct str *err)
{
    const struct milter_config *cfg = m->cfg;
    const char *attrs[] = {cfg->send_rule_attribute, NULL};
    struct lookup_state st = {cfg->send_rule_attribute, dn, rules, 0};
    struct slist cached = {0};
    struct str filter = STR_INIT;
    int found, rc;

    if (mcache_get(m->groups, addr, &found, &cached)) {
        if (found && cached.n > 0) {
            slist_add(dn, cached.v[0]);
            for (size_t i = 1; i < cached.n; i++)
                slist_add(rules, cached.v[i]);
        }
        slist_free(&cached);
        return found;
    }
    if (ldapc_filter(&filter, cfg->ldap.group_filter, addr, err) < 0) {
        str_free(&filter);
        return GROUP_TEMP;
    }
    rc = ldapc_search(r->ld, NULL, LDAPC_SCOPE_SUB, filter.data,
                      cfg->send_rule_attribute[0] ? attrs : NULL,
                      GROUP_DUPLICATES_MAX, lookup_cb, &st, err);
    str_free(&filter);
    if (rc == LDAPC_TEMP || st.oom)
        return GROUP_TEMP;
    if (rc == LDAPC_FOUND) {
        slist_add(&cached, dn->v[0]);
        slist_copy(&cached, rules);
    }
    mcache_put(m->groups, addr, rc == LDAPC_FOUND, &cached);
    slist_free(&cached);
    return rc == LDAPC_FOUND;
}

/* --- expansion ----------------------------------------------------------- */

struct expand_state {
    struct mctx *m;
    struct mres *r;
    struct slist visited; /* group DNs */
    struct slist *out;
    struct str *err;
};

/* what one entry looks like */
struct entry_info {
    const struct milter_config *cfg;
    struct slist members;
    char *mail;
    int group_class;
    int oom;
};

static int is_group_class(const char *oc)
{
    static const char *const classes[] = {"groupOfNames", "groupOfUniqueNames",
                                          "posixGroup", "univentionGroup",
                                          NULL};

    for (size_t i = 0; classes[i]; i++)
        if (!strcasecmp(oc, classes[i]))
            return 1;
    return 0;
}

static int entry_cb(void *ctx, const char *dn, const char *attr,
                    const char *value, size_t len)
{
    struct entry_info *e = ctx;

    (void)dn;
    if (attr == NULL || len == 0)
        return 0;
    if (!strcasecmp(attr, e->cfg->ldap.member_attribute))
        e->oom |= slist_add(&e->members, value);
    else if (!strcasecmp(attr, e->cfg->ldap.mail_attribute) && !e->mail)
        e->oom |= (e->mail = strdup(value)) == NULL;
    else if (!strcasecmp(attr, "objectClass"))
        e->group_class |= is_group_class(value);
    return 0;
}

static void entry_free(struct entry_info *e)
{
    slist_free(&e->members);
    free(e->mail);
}

/* read_entry - base search of dn, or uid_filter search for a uid. */
static int read_entry(struct expand_state *st, const char *value, int by_uid,
                      struct entry_info *e)
{
    const struct milter_config *cfg = st->m->cfg;
    const char *attrs[] = {cfg->ldap.member_attribute, cfg->ldap.mail_attribute,
                           "objectClass", NULL};
    struct str filter = STR_INIT;
    int rc;

    if (by_uid && ldapc_filter(&filter, cfg->ldap.uid_filter, value,
                               st->err) < 0) {
        str_free(&filter);
        return GROUP_TEMP;
    }
    rc = ldapc_search(st->r->ld, by_uid ? NULL : value,
                      by_uid ? LDAPC_SCOPE_SUB : LDAPC_SCOPE_BASE,
                      by_uid ? filter.data : "(objectClass=*)", attrs, 1,
                      entry_cb, e, st->err);
    str_free(&filter);
    if (rc == LDAPC_TEMP || e->oom)
        return GROUP_TEMP;
    return rc;
}

static int add_address(struct expand_state *st, const char *mail)
{
    if (slist_has(st->out, mail))
        return GROUP_OK;
    if ((long long)st->out->n >= st->m->cfg->max_recipients) {
        str_appendf(st->err, "more than %lld member addresses",
                    st->m->cfg->max_recipients);
        return GROUP_LIMIT;
    }
    return slist_add(st->out, mail) < 0 ? GROUP_TEMP : GROUP_OK;
}

static int expand_group(struct expand_state *st, const char *dn,
                        struct entry_info *g, long long depth);

static int expand_member(struct expand_state *st, const char *value,
                         long long depth)
{
    struct entry_info e = {st->m->cfg, {0}, NULL, 0, 0};
    int by_uid = strchr(value, '=') == NULL, rc;

    rc = read_entry(st, value, by_uid, &e);
    if (rc == LDAPC_NOTFOUND) {
        log_warn("group member %s not found in LDAP (skipped)",
                 log_safe_cstr(value));
        rc = GROUP_OK;
    } else if (rc == LDAPC_FOUND) {
        if (!by_uid && (e.members.n > 0 || e.group_class))
            rc = expand_group(st, value, &e, depth + 1);
        else if (e.mail)
            rc = add_address(st, e.mail);
        else
            rc = GROUP_OK; /* a user without an address */
    }
    entry_free(&e);
    return rc;
}

static int expand_group(struct expand_state *st, const char *dn,
                        struct entry_info *g, long long depth)
{
    int rc = GROUP_OK;

    if (slist_has(&st->visited, dn))
        return GROUP_OK; /* seen: a cycle or a diamond */
    if (depth > st->m->cfg->ldap.max_nesting) {
        str_appendf(st->err, "groups nested deeper than %lld levels at %s",
                    st->m->cfg->ldap.max_nesting, dn);
        return GROUP_LIMIT;
    }
    if (slist_add(&st->visited, dn) < 0)
        return GROUP_TEMP;
    for (size_t i = 0; i < g->members.n && rc == GROUP_OK; i++)
        rc = expand_member(st, g->members.v[i], depth);
    return rc;
}

int group_expand(struct mctx *m, struct mres *r, const char *dn,
                 struct slist *out, struct str *err)
{
    struct expand_state st = {m, r, {0}, out, err};
    struct entry_info g = {m->cfg, {0}, NULL, 0, 0};
    int found, rc;

    if (mcache_get(m->members, dn, &found, out))
        return GROUP_OK;
    rc = read_entry(&st, dn, 0, &g);
    if (rc == LDAPC_FOUND)
        rc = expand_group(&st, dn, &g, 0);
    else if (rc == LDAPC_NOTFOUND)
        rc = GROUP_OK; /* deleted meanwhile: no members */
    entry_free(&g);
    slist_free(&st.visited);
    if (rc == GROUP_OK)
        mcache_put(m->members, dn, 1, out);
    return rc;
}

/* --- users --------------------------------------------------------------- */

struct user_state {
    const struct milter_config *cfg;
    struct slist *out;
    int oom;
};

static int user_cb(void *ctx, const char *dn, const char *attr,
                   const char *value, size_t len)
{
    struct user_state *st = ctx;

    (void)dn;
    if (attr && len > 0 && !slist_has(st->out, value))
        st->oom |= slist_add(st->out, value);
    return 0;
}

int user_addresses(struct mctx *m, struct mres *r, const char *login,
                   struct slist *out, struct str *err)
{
    const struct milter_config *cfg = m->cfg;
    const char *attrs[] = {cfg->ldap.mail_attribute, "mail",
                           "mailAlternativeAddress", NULL};
    struct user_state st = {cfg, out, 0};
    struct str filter = STR_INIT;
    int rc;

    if (strchr(login, '@') && !slist_has(out, login) &&
        slist_add(out, login) < 0)
        return GROUP_TEMP;
    if (ldapc_filter(&filter, cfg->ldap.user_filter, login, err) < 0) {
        str_free(&filter);
        return GROUP_TEMP;
    }
    rc = ldapc_search(r->ld, NULL, LDAPC_SCOPE_SUB, filter.data, attrs, 4,
                      user_cb, &st, err);
    str_free(&filter);
    return rc == LDAPC_TEMP || st.oom ? GROUP_TEMP : GROUP_OK;
}
