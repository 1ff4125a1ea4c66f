/*
 * ldapgroup - LDAP group lookup and expansion with a shared TTL cache.
 * See ldapgroup.h.
 *
 * Implementation: an expansion is a depth-first walk from the group's
 * entry.  A hash set of the DNs read so far ends cycles and diamonds; a
 * struct lg_set (a hash set over a vector, so the order is kept) collects
 * the addresses.  The finished set goes into the expansion cache; a
 * membership test on a cached set is one hash lookup under the cache lock.
 *
 * Diagnostics: failures are a message in *err for the caller to log; the
 * one line logged here is the warning for a member DN or uid that does not
 * exist (skipped: stale data, not an outage), once per expansion built.
 */
#include "ldapgroup.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "hash.h"
#include "log.h"
#include "lookup.h"
#include "mem.h"
#include "ttlcache.h"

struct ldapgroup {
    char *group_filter, *uid_filter, *user_filter;
    char *member_attrs[LDAPGROUP_ATTRS_MAX];
    char *mail_attrs[LDAPGROUP_ATTRS_MAX];
    int nmember, nmail;
    char *extra_attr;            /* NULL = none */
    long long max_nesting;
    struct ttlcache *found;      /* address -> struct lg_found */
    struct ttlcache *sets;       /* DN -> struct lg_set */
    _Atomic unsigned long long searches, missing;
};

/* a cached group lookup */
struct lg_found {
    int found;
    char *dn;
    struct strvec values;
};

/* member addresses: in order (list), once each (set, keys borrowed), and
   the groups nested below the group (each once, in walk order) */
struct lg_set {
    struct strvec list;
    struct hmap set;
    struct ldapgroup_subs subs;
};

/* --- setup --------------------------------------------------------------- */

static void found_free(void *p)
{
    struct lg_found *f = p;

    free(f->dn);
    strvec_free(&f->values);
    free(f);
}

static void set_free(void *p)
{
    struct lg_set *s = p;

    hmap_free(&s->set, NULL);
    strvec_free(&s->list);
    ldapgroup_subs_free(&s->subs);
    free(s);
}

void ldapgroup_subs_free(struct ldapgroup_subs *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].dn);
        free(s->v[i].mail);
        strvec_free(&s->v[i].values);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int attr_list(const char *key, const char *list, char **out, int *n,
                     struct str *err)
{
    const char *cur = list;
    char item[65];
    int rc;

    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        if (*n == LDAPGROUP_ATTRS_MAX) {
            str_appendf(err, "[ldap] %s: more than %d attributes", key,
                        LDAPGROUP_ATTRS_MAX);
            return -1;
        }
        out[(*n)++] = xstrdup(item);
    }
    if (rc < 0 || *n == 0) {
        str_appendf(err, "[ldap] %s: expected attribute names, not '%s'", key,
                    list);
        return -1;
    }
    return 0;
}

struct ldapgroup *ldapgroup_new(const struct ldapc_config *cfg,
                                const char *extra_attr, struct str *err)
{
    struct ldapgroup *g = xcalloc(1, sizeof(*g));

    g->group_filter = xstrdup(cfg->group_filter);
    g->uid_filter = xstrdup(cfg->uid_filter);
    g->user_filter = xstrdup(cfg->user_filter);
    g->extra_attr = extra_attr && extra_attr[0] ? xstrdup(extra_attr) : NULL;
    g->max_nesting = cfg->max_nesting;
    g->found = ttlcache_new(LDAPGROUP_FIND_CACHE_MAX, cfg->cache_ttl,
                            found_free);
    g->sets = ttlcache_new(LDAPGROUP_EXPAND_CACHE_MAX, cfg->cache_ttl,
                           set_free);
    if (attr_list("member_attribute", cfg->member_attribute, g->member_attrs,
                  &g->nmember, err) < 0 ||
        attr_list("mail_attribute", cfg->mail_attribute, g->mail_attrs,
                  &g->nmail, err) < 0) {
        ldapgroup_free(g);
        return NULL;
    }
    return g;
}

/* check_filter - a template must expand and look like a filter. */
static int check_filter(const char *key, const char *tmpl, struct str *err)
{
    struct str f = STR_INIT;
    int rc = ldapc_filter(&f, tmpl, "x@y", err);

    if (rc == 0 && (f.len < 3 || f.data[0] != '(' || f.data[f.len - 1] != ')')) {
        str_appendf(err, "[ldap] %s: not an LDAP filter: %s", key, tmpl);
        rc = -1;
    } else if (rc < 0) {
        str_appendf(err, " ([ldap] %s)", key);
    }
    str_free(&f);
    return rc < 0 ? -1 : 0;
}

int ldapgroup_check_config(const struct ldapc_config *cfg, struct str *err)
{
    struct ldapgroup *g;

    if (check_filter("group_filter", cfg->group_filter, err) < 0 ||
        check_filter("user_filter", cfg->user_filter, err) < 0 ||
        check_filter("uid_filter", cfg->uid_filter, err) < 0 ||
        (g = ldapgroup_new(cfg, "", err)) == NULL)
        return -1;
    ldapgroup_free(g);
    return 0;
}

void ldapgroup_free(struct ldapgroup *g)
{
    if (g == NULL)
        return;
    free(g->group_filter);
    free(g->uid_filter);
    free(g->user_filter);
    free(g->extra_attr);
    for (int i = 0; i < g->nmember; i++)
        free(g->member_attrs[i]);
    for (int i = 0; i < g->nmail; i++)
        free(g->mail_attrs[i]);
    ttlcache_free(g->found);
    ttlcache_free(g->sets);
    free(g);
}

void ldapgroup_info_free(struct ldapgroup_info *info)
{
    free(info->dn);
    info->dn = NULL;
    strvec_free(&info->values);
}

void ldapgroup_stats(const struct ldapgroup *g, struct ldapgroup_stats *out)
{
    out->searches = atomic_load(&g->searches);
    out->missing = atomic_load(&g->missing);
}

/* --- the real backend ---------------------------------------------------- */

static int ldapc_backend_search(void *ctx, const char *base, int scope,
                                const char *filter, const char *const *attrs,
                                size_t max_entries, ldapc_entry_fn fn,
                                void *fnctx, struct str *err)
{
    return ldapc_search(ctx, base, scope, filter, attrs, max_entries, fn,
                        fnctx, err);
}

struct ldapgroup_backend ldapgroup_backend_ldapc(struct ldapc *lc)
{
    return (struct ldapgroup_backend){ldapc_backend_search, lc};
}

static int search(struct ldapgroup *g, const struct ldapgroup_backend *be,
                  const char *base, int scope, const char *filter,
                  const char *const *attrs, size_t max_entries,
                  ldapc_entry_fn fn, void *ctx, struct str *err)
{
    int rc;

    atomic_fetch_add(&g->searches, 1);
    rc = be->search(be->ctx, base, scope, filter, attrs, max_entries, fn, ctx,
                    err);
    return rc > 0 ? LK_FOUND : rc == 0 ? LK_NOTFOUND : LK_TEMP;
}

/* --- finding a group by address ------------------------------------------ */

static int find_cb(void *ctx, const char *dn, const char *attr,
                   const char *value, size_t len)
{
    struct lg_found *f = ctx;

    (void)len;
    if (attr == NULL && f->dn == NULL)
        f->dn = xstrdup(dn);
    else if (attr && f->values.n < LDAPGROUP_RULE_VALUES_MAX)
        strvec_add(&f->values, value);
    return 0;
}

static int found_copy(void *ctx, void *val)
{
    struct ldapgroup_info *info = ctx;
    const struct lg_found *f = val;

    if (f->found) {
        info->dn = xstrdup(f->dn);
        strvec_copy(&info->values, &f->values);
    }
    return f->found ? LK_FOUND : LK_NOTFOUND;
}

int ldapgroup_find(struct ldapgroup *g, const struct ldapgroup_backend *be,
                   const char *addr, struct ldapgroup_info *info,
                   struct str *err)
{
    const char *attrs[] = {g->extra_attr, NULL};
    struct str filter = STR_INIT;
    struct lg_found *f;
    int rc;

    if (ttlcache_get(g->found, addr, found_copy, info, &rc))
        return rc;
    if (ldapc_filter(&filter, g->group_filter, addr, err) < 0) {
        str_free(&filter);
        return LK_TEMP;
    }
    f = xcalloc(1, sizeof(*f));
    rc = search(g, be, NULL, LDAPC_SCOPE_SUB, filter.data,
                g->extra_attr ? attrs : NULL, 1, find_cb, f, err);
    str_free(&filter);
    if (rc == LK_FOUND && f->dn == NULL) /* a backend that broke contract */
        rc = LK_TEMP;
    if (rc < 0) {
        found_free(f);
        return rc;
    }
    f->found = rc == LK_FOUND;
    found_copy(info, f);
    ttlcache_put(g->found, addr, f);
    return rc;
}

/* --- reading one entry --------------------------------------------------- */

struct lg_entry {
    const struct ldapgroup *g;
    struct strvec members[LDAPGROUP_ATTRS_MAX];
    char *mail;
    int mail_rank;               /* index in mail_attrs of mail */
    int group_class;
    struct strvec extra;         /* values of extra_attr */
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
    struct lg_entry *e = ctx;
    const struct ldapgroup *g = e->g;

    (void)dn;
    if (attr == NULL || len == 0)
        return 0;
    for (int i = 0; i < g->nmember; i++)
        if (!strcasecmp(attr, g->member_attrs[i]))
            strvec_add(&e->members[i], value);
    for (int i = 0; i < g->nmail; i++)
        if (!strcasecmp(attr, g->mail_attrs[i]) &&
            (e->mail == NULL || i < e->mail_rank)) {
            free(e->mail);
            e->mail = xstrdup(value);
            e->mail_rank = i;
        }
    if (!strcasecmp(attr, "objectClass"))
        e->group_class |= is_group_class(value);
    if (g->extra_attr && !strcasecmp(attr, g->extra_attr) &&
        e->extra.n < LDAPGROUP_RULE_VALUES_MAX)
        strvec_add(&e->extra, value);
    return 0;
}

static void entry_free(struct lg_entry *e)
{
    for (int i = 0; i < LDAPGROUP_ATTRS_MAX; i++)
        strvec_free(&e->members[i]);
    free(e->mail);
    strvec_free(&e->extra);
}

/* entry_members - the values of the first member attribute it has. */
static const struct strvec *entry_members(const struct lg_entry *e)
{
    for (int i = 0; i < e->g->nmember; i++)
        if (e->members[i].n > 0)
            return &e->members[i];
    return NULL;
}

/* read_entry - base search of a DN, or uid_filter for a uid; LK_*. */
static int read_entry(struct ldapgroup *g, const struct ldapgroup_backend *be,
                      const char *value, int by_uid, struct lg_entry *e,
                      struct str *err)
{
    const char *attrs[2 * LDAPGROUP_ATTRS_MAX + 3];
    struct str filter = STR_INIT;
    size_t n = 0;
    int rc;

    for (int i = 0; i < g->nmember; i++)
        attrs[n++] = g->member_attrs[i];
    for (int i = 0; i < g->nmail; i++)
        attrs[n++] = g->mail_attrs[i];
    attrs[n++] = "objectClass";
    if (g->extra_attr)
        attrs[n++] = g->extra_attr;
    attrs[n] = NULL;
    if (by_uid && ldapc_filter(&filter, g->uid_filter, value, err) < 0) {
        str_free(&filter);
        return LK_TEMP;
    }
    rc = search(g, be, by_uid ? NULL : value,
                by_uid ? LDAPC_SCOPE_SUB : LDAPC_SCOPE_BASE,
                by_uid ? filter.data : "(objectClass=*)", attrs, 1, entry_cb,
                e, err);
    str_free(&filter);
    return rc;
}

/* --- expansion ----------------------------------------------------------- */

struct lg_walk {
    struct ldapgroup *g;
    const struct ldapgroup_backend *be;
    struct hmap visited;         /* DNs read (copied keys) */
    struct lg_set *out;
    struct str *err;
};

static int set_add(struct lg_walk *w, const char *mail)
{
    struct lg_set *s = w->out;

    if (hmap_get(&s->set, mail))
        return 0;
    if (s->list.n >= LDAPGROUP_MEMBERS_MAX) {
        str_appendf(w->err, "LDAP group over %d member addresses",
                    LDAPGROUP_MEMBERS_MAX);
        return LK_LIMIT;
    }
    strvec_add(&s->list, mail);
    hmap_put(&s->set, s->list.v[s->list.n - 1], s);
    return 0;
}

static int walk_group(struct lg_walk *w, const char *dn,
                      const struct lg_entry *e, long long depth);

/* sub_add - note a group nested below the top group (its rules apply to
   the members reached through it); 0 or LK_LIMIT */
static int sub_add(struct lg_walk *w, const char *dn, struct lg_entry *e)
{
    struct ldapgroup_subs *s = &w->out->subs;
    struct ldapgroup_sub *sub;

    if (s->n >= LDAPGROUP_SUBGROUPS_MAX) {
        str_appendf(w->err, "LDAP group over %d nested groups",
                    LDAPGROUP_SUBGROUPS_MAX);
        return LK_LIMIT;
    }
    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    sub = &s->v[s->n++];
    sub->dn = xstrdup(dn);
    sub->mail = e->mail ? xstrdup(e->mail) : NULL;
    sub->values = e->extra; /* moved */
    e->extra = (struct strvec)STRVEC_INIT;
    return 0;
}

/* walk_member - one member value of a group at depth; 0 or LK_TEMP/LIMIT */
static int walk_member(struct lg_walk *w, const char *value, long long depth)
{
    struct lg_entry e = {.g = w->g};
    int by_uid = strchr(value, '=') == NULL, rc;

    if (!by_uid) {
        if (hmap_get(&w->visited, value))
            return 0; /* read already: a cycle, a diamond, a user twice */
        hmap_put(&w->visited, value, w);
    }
    rc = read_entry(w->g, w->be, value, by_uid, &e, w->err);
    if (rc == LK_NOTFOUND) {
        atomic_fetch_add(&w->g->missing, 1);
        log_warn("LDAP group member %s not found (skipped)",
                 log_safe_cstr(value));
        rc = 0;
    } else if (rc == LK_FOUND) {
        rc = 0;
        if (!by_uid && (entry_members(&e) || e.group_class)) {
            if (depth + 1 > w->g->max_nesting) {
                str_appendf(w->err, "LDAP groups nested deeper than %lld "
                            "levels at %s", w->g->max_nesting, value);
                rc = LK_LIMIT;
            } else if ((rc = sub_add(w, value, &e)) == 0) {
                rc = walk_group(w, value, &e, depth + 1);
            }
        } else if (e.mail) {
            rc = set_add(w, e.mail);
        }
    }
    entry_free(&e);
    return rc;
}

static int walk_group(struct lg_walk *w, const char *dn,
                      const struct lg_entry *e, long long depth)
{
    const struct strvec *m = entry_members(e);
    int rc = 0;

    (void)dn;
    for (size_t i = 0; m && i < m->n && rc == 0; i++)
        rc = walk_member(w, m->v[i], depth);
    return rc;
}

/* build_set - expand the group at dn into a new set; LK_*. */
static int build_set(struct ldapgroup *g, const struct ldapgroup_backend *be,
                     const char *dn, struct lg_set **out, struct str *err)
{
    struct lg_walk w = {g, be, {0}, NULL, err};
    struct lg_entry e = {.g = g};
    int rc;

    hmap_init(&w.visited, 64, HMAP_NOCASE | HMAP_COPYKEYS);
    w.out = xcalloc(1, sizeof(*w.out));
    hmap_init(&w.out->set, 64, HMAP_NOCASE);
    hmap_put(&w.visited, dn, &w);
    rc = read_entry(g, be, dn, 0, &e, err);
    if (rc == LK_FOUND && (rc = walk_group(&w, dn, &e, 0)) == 0)
        rc = LK_FOUND;
    entry_free(&e);
    hmap_free(&w.visited, NULL);
    if (rc != LK_FOUND) {
        set_free(w.out);
        return rc;
    }
    *out = w.out;
    return LK_FOUND;
}

/* group_dn - the DN of group (a DN already, or an address); LK_*. */
static int group_dn(struct ldapgroup *g, const struct ldapgroup_backend *be,
                    const char *group, char **dn, struct str *err)
{
    struct ldapgroup_info info = {NULL, STRVEC_INIT};
    int rc;

    if (strchr(group, '=') != NULL) {
        *dn = xstrdup(group);
        return LK_FOUND;
    }
    rc = ldapgroup_find(g, be, group, &info, err);
    *dn = info.dn;
    info.dn = NULL;
    ldapgroup_info_free(&info);
    return rc;
}

static int set_copy(void *ctx, void *val)
{
    const struct lg_set *s = val;
    struct strvec *out = ctx;

    for (size_t i = 0; i < s->list.n; i++)
        strvec_add(out, s->list.v[i]);
    return LK_FOUND;
}

/* with_set - fn(ctx, members of group) from the cache, or after reading
   the group (then cached); fn's outcome, or the lookup's failure. */
static int with_set(struct ldapgroup *g, const struct ldapgroup_backend *be,
                    const char *group, int (*fn)(void *ctx, void *val),
                    void *ctx, struct str *err)
{
    struct lg_set *s = NULL;
    char *dn = NULL;
    int rc;

    if ((rc = group_dn(g, be, group, &dn, err)) != LK_FOUND)
        return rc;
    if (!ttlcache_get(g->sets, dn, fn, ctx, &rc) &&
        (rc = build_set(g, be, dn, &s, err)) == LK_FOUND) {
        rc = fn(ctx, s);
        ttlcache_put(g->sets, dn, s);
    }
    free(dn);
    return rc;
}

int ldapgroup_expand(struct ldapgroup *g, const struct ldapgroup_backend *be,
                     const char *group, struct strvec *out, struct str *err)
{
    return with_set(g, be, group, set_copy, out, err);
}

static int subs_copy(void *ctx, void *val)
{
    const struct lg_set *s = val;
    struct ldapgroup_subs *out = ctx;

    for (size_t i = 0; i < s->subs.n; i++) {
        const struct ldapgroup_sub *from = &s->subs.v[i];
        struct ldapgroup_sub *to;
        out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
        to = &out->v[out->n++];
        to->dn = xstrdup(from->dn);
        to->mail = from->mail ? xstrdup(from->mail) : NULL;
        to->values = (struct strvec)STRVEC_INIT;
        strvec_copy(&to->values, &from->values);
    }
    return LK_FOUND;
}

int ldapgroup_subgroups(struct ldapgroup *g, const struct ldapgroup_backend *be,
                        const char *group, struct ldapgroup_subs *out,
                        struct str *err)
{
    return with_set(g, be, group, subs_copy, out, err);
}

static int set_has(void *ctx, void *val)
{
    const struct lg_set *s = val;

    return hmap_get(&s->set, ctx) ? LK_FOUND : LK_NOTFOUND;
}

int ldapgroup_has(struct ldapgroup *g, const struct ldapgroup_backend *be,
                  const char *group, const char *addr, struct str *err)
{
    return with_set(g, be, group, set_has, (void *)addr, err);
}

/* --- a login's addresses ------------------------------------------------- */

static int user_cb(void *ctx, const char *dn, const char *attr,
                   const char *value, size_t len)
{
    struct strvec *out = ctx;

    (void)dn;
    if (attr && len > 0 && !strvec_has(out, value))
        strvec_add(out, value);
    return 0;
}

int ldapgroup_user_addresses(struct ldapgroup *g,
                             const struct ldapgroup_backend *be,
                             const char *login, struct strvec *out,
                             struct str *err)
{
    const char *attrs[LDAPGROUP_ATTRS_MAX + 3];
    struct str filter = STR_INIT;
    size_t n = 0, before = out->n;
    int rc;

    for (int i = 0; i < g->nmail; i++)
        attrs[n++] = g->mail_attrs[i];
    attrs[n++] = "mail";
    attrs[n++] = "mailAlternativeAddress";
    attrs[n] = NULL;
    if (strchr(login, '@') && !strvec_has(out, login))
        strvec_add(out, login);
    if (ldapc_filter(&filter, g->user_filter, login, err) < 0) {
        str_free(&filter);
        return LK_TEMP;
    }
    rc = search(g, be, NULL, LDAPC_SCOPE_SUB, filter.data, attrs,
                LDAPGROUP_USER_ENTRIES_MAX, user_cb, out, err);
    str_free(&filter);
    if (rc < 0)
        return rc;
    return out->n > before ? LK_FOUND : LK_NOTFOUND;
}
