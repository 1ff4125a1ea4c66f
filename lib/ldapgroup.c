/*
 * ldapgroup - LDAP group lookup and expansion with a shared TTL cache.
 * See ldapgroup.h.
 *
 * Implementation: an expansion is a depth-first walk from the group's
 * entry.  Before walking a group's members, their entries are read in
 * batches (prefetch): member DNs grouped by parent entry, one one-level
 * search per parent and LDAPGROUP_BATCH_MAX members with an OR of their
 * RDNs, "(|(uid=a)(uid=b)...)" (an entry always holds its RDN values, and
 * the RDN attribute is the indexed one: uid, cn); a parent with
 * LDAPGROUP_PARENT_MIN members or more is first read whole (one one-level
 * search, at most LDAPGROUP_PARENT_FACTOR times as many entries as
 * members: measured on slapd, an entry read whole costs about a third of
 * one read in an OR batch, so a school-wide group's container is one
 * search; over the limit, the OR batches follow); memberUid values in an OR
 * of uid_filter when it has the form "(ATTR=%s)".  An entry that comes
 * back is matched to the member value by its DN (by ATTR's values for a
 * uid); a member the batch did not settle (a DN with escapes or a
 * multi-valued RDN, a uid two entries answer, an entry whose DN is spelt
 * otherwise) is read alone as before, so every outcome stays the same.  A
 * batch that answered only members proves the unanswered ones missing.
 * A hash set of the DNs read so far ends cycles and diamonds; a struct
 * lg_set (a hash set over a vector, so the order is kept) collects the
 * addresses.  The finished set goes into the expansion cache with the
 * entryCSN (else modifyTimestamp) of every group it passed through; the
 * cache's check (lib/ttlcache.h) reads those again in a batch every
 * [ldap] group_check_interval and re-expands a group when one changed.
 * A membership test on a cached set is one hash lookup under the cache
 * lock.
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

#define LG_ATTRS_MAX (2 * LDAPGROUP_ATTRS_MAX + 6)

struct ldapgroup {
    char *group_filter, *uid_filter, *user_filter;
    char *uid_attr;              /* ATTR of a uid_filter "(ATTR=%s)", or NULL */
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
    char *stamp;                 /* entryCSN / modifyTimestamp, or NULL */
    struct strvec values;
};

/* member addresses: in order (list), once each (set, keys borrowed), the
   groups nested below the group (each once, in walk order), and the
   change stamp of every group read (the group itself first) */
struct lg_set {
    struct strvec list;
    struct hmap set;
    struct ldapgroup_subs subs;
    struct strvec stamp_dns, stamps;
};

static const char *const stamp_attrs[] = {"entryCSN", "modifyTimestamp",
                                          NULL};

/* --- setup --------------------------------------------------------------- */

static void found_free(void *p)
{
    struct lg_found *f = p;

    free(f->dn);
    free(f->stamp);
    strvec_free(&f->values);
    free(f);
}

static void set_free(void *p)
{
    struct lg_set *s = p;

    hmap_free(&s->set, NULL);
    strvec_free(&s->list);
    ldapgroup_subs_free(&s->subs);
    strvec_free(&s->stamp_dns);
    strvec_free(&s->stamps);
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

/* attr_name - n bytes of s are an attribute description (letters,
   digits, '-', '.', ';'). */
static int attr_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' ||
              s[i] == ';'))
            return 0;
    return 1;
}

/* uid_attr - ATTR when the template is exactly "(ATTR=%s)", else NULL. */
static char *uid_attr(const char *tmpl)
{
    size_t n = strlen(tmpl);
    const char *eq = strchr(tmpl, '=');

    if (n < 6 || tmpl[0] != '(' || eq == NULL || strcmp(eq, "=%s)") != 0 ||
        !attr_name(tmpl + 1, (size_t)(eq - tmpl - 1)))
        return NULL;
    return xstrndup(tmpl + 1, (size_t)(eq - tmpl - 1));
}

struct ldapgroup *ldapgroup_new(const struct ldapc_config *cfg,
                                const char *extra_attr, struct str *err)
{
    struct ldapgroup *g = xcalloc(1, sizeof(*g));

    g->group_filter = xstrdup(cfg->group_filter);
    g->uid_filter = xstrdup(cfg->uid_filter);
    g->user_filter = xstrdup(cfg->user_filter);
    g->uid_attr = uid_attr(cfg->uid_filter);
    g->extra_attr = extra_attr && extra_attr[0] ? xstrdup(extra_attr) : NULL;
    g->max_nesting = cfg->max_nesting;
    g->found = ttlcache_new(LDAPGROUP_FIND_CACHE_MAX, cfg->cache_ttl,
                            found_free);
    g->sets = ttlcache_new(LDAPGROUP_EXPAND_CACHE_MAX, cfg->cache_ttl,
                           set_free);
    ttlcache_set_refresh(g->found, 0, cfg->check_interval);
    ttlcache_set_refresh(g->sets, 0, cfg->check_interval);
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
    int rc = ldapfilter_expand(&f, tmpl, "x@y", err);

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
    free(g->uid_attr);
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
    struct ttlcache_stats a, b;

    out->searches = atomic_load(&g->searches);
    out->missing = atomic_load(&g->missing);
    ttlcache_stats(g->sets, &a);
    ttlcache_stats(g->found, &b);
    out->loads = a.loads;
    out->refreshes = a.refreshes;
    out->checks = a.checks + b.checks;
    out->waits = a.waits + b.waits;
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

/* what a loader of the caches works with: the caller's connection */
struct lg_ctx {
    struct ldapgroup *g;
    const struct ldapgroup_backend *be;
};

/* stamp_pick - keep the better change stamp: entryCSN over
   modifyTimestamp (rank 0 over 1) */
static void stamp_pick(char **stamp, int *rank, const char *attr,
                       const char *value)
{
    for (int i = 0; stamp_attrs[i]; i++)
        if (!strcasecmp(attr, stamp_attrs[i]) &&
            (*stamp == NULL || i < *rank)) {
            free(*stamp);
            *stamp = xstrdup(value);
            *rank = i;
        }
}

/* --- finding a group by address ------------------------------------------ */

struct lg_find_read {
    struct lg_found *f;
    int rank;
};

static int find_cb(void *ctx, const char *dn, const char *attr,
                   const char *value, size_t len)
{
    struct lg_find_read *r = ctx;
    struct lg_found *f = r->f;

    (void)len;
    if (attr == NULL && f->dn == NULL)
        f->dn = xstrdup(dn);
    else if (attr && (!strcasecmp(attr, stamp_attrs[0]) ||
                      !strcasecmp(attr, stamp_attrs[1])))
        stamp_pick(&f->stamp, &r->rank, attr, value);
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

static int find_load(void *ctx, const char *addr, void **val, struct str *err)
{
    struct lg_ctx *c = ctx;
    struct ldapgroup *g = c->g;
    const char *attrs[] = {stamp_attrs[0], stamp_attrs[1], g->extra_attr,
                           NULL};
    struct str filter = STR_INIT;
    struct lg_find_read r = {NULL, 0};
    int rc;

    if (ldapfilter_expand(&filter, g->group_filter, addr, err) < 0) {
        str_free(&filter);
        return LK_TEMP;
    }
    r.f = xcalloc(1, sizeof(*r.f));
    rc = search(g, c->be, NULL, LDAPC_SCOPE_SUB, filter.data, attrs, 1,
                find_cb, &r, err);
    str_free(&filter);
    if (rc == LK_FOUND && r.f->dn == NULL) /* a backend that broke contract */
        rc = LK_TEMP;
    if (rc < 0) {
        found_free(r.f);
        return rc;
    }
    r.f->found = rc == LK_FOUND;
    *val = r.f;
    return rc;
}

/* read_stamp - the change stamp of the entry at dn into *stamp (NULL when
   it has none); LK_* */
static int read_stamp(struct ldapgroup *g, const struct ldapgroup_backend *be,
                      const char *dn, char **stamp, struct str *err);

/* find_check - a cached group still has the same entry (negative answers
   are not checked: they live until cache_ttl). */
static int find_check(void *ctx, const char *addr, void *val, struct str *err)
{
    struct lg_ctx *c = ctx;
    const struct lg_found *f = val;
    char *stamp = NULL;
    int rc, same;

    (void)addr;
    if (!f->found || f->stamp == NULL)
        return 1;
    rc = read_stamp(c->g, c->be, f->dn, &stamp, err);
    if (rc < 0)
        return -1;
    same = rc == LK_FOUND && stamp && !strcmp(stamp, f->stamp);
    free(stamp);
    return same;
}

int ldapgroup_find(struct ldapgroup *g, const struct ldapgroup_backend *be,
                   const char *addr, struct ldapgroup_info *info,
                   struct str *err)
{
    struct lg_ctx c = {g, be};
    const struct ttlcache_loader ld = {find_load, find_check, &c};

    return ttlcache_fetch(g->found, addr, &ld, found_copy, info, err);
}

/* --- reading entries ----------------------------------------------------- */

struct lg_entry {
    const struct ldapgroup *g;
    char *dn;                    /* read in a batch: the entry's DN */
    struct strvec members[LDAPGROUP_ATTRS_MAX];
    char *mail;
    int mail_rank;               /* index in mail_attrs of mail */
    int group_class;
    struct strvec extra;         /* values of extra_attr */
    char *stamp;                 /* entryCSN, else modifyTimestamp */
    int stamp_rank;
    struct strvec keys;          /* read in a uid batch: the uid values */
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
    stamp_pick(&e->stamp, &e->stamp_rank, attr, value);
    return 0;
}

static void entry_free(struct lg_entry *e)
{
    for (int i = 0; i < LDAPGROUP_ATTRS_MAX; i++)
        strvec_free(&e->members[i]);
    free(e->dn);
    free(e->mail);
    free(e->stamp);
    strvec_free(&e->extra);
    strvec_free(&e->keys);
}

/* entry_members - the values of the first member attribute it has. */
static const struct strvec *entry_members(const struct lg_entry *e)
{
    for (int i = 0; i < e->g->nmember; i++)
        if (e->members[i].n > 0)
            return &e->members[i];
    return NULL;
}

/* entry_attrs - the attributes an expansion reads (with the change stamps
   when stamps), and more (NULL ends); attrs has room for LG_ATTRS_MAX + 1 */
static void entry_attrs(const struct ldapgroup *g, const char **attrs,
                        int stamps, const char *more)
{
    size_t n = 0;

    for (int i = 0; i < g->nmember; i++)
        attrs[n++] = g->member_attrs[i];
    for (int i = 0; i < g->nmail; i++)
        attrs[n++] = g->mail_attrs[i];
    attrs[n++] = "objectClass";
    if (stamps) {
        attrs[n++] = stamp_attrs[0];
        attrs[n++] = stamp_attrs[1];
    }
    if (g->extra_attr)
        attrs[n++] = g->extra_attr;
    if (more)
        attrs[n++] = more;
    attrs[n] = NULL;
}

/* read_entry - base search of a DN, or uid_filter for a uid; LK_*. */
static int read_entry(struct ldapgroup *g, const struct ldapgroup_backend *be,
                      const char *value, int by_uid, struct lg_entry *e,
                      struct str *err)
{
    const char *attrs[LG_ATTRS_MAX + 1];
    struct str filter = STR_INIT;
    int rc;

    entry_attrs(g, attrs, 1, NULL);
    if (by_uid && ldapfilter_expand(&filter, g->uid_filter, value, err) < 0) {
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

struct lg_stamp_read {
    char *stamp;
    int rank;
};

static int stamp_cb(void *ctx, const char *dn, const char *attr,
                    const char *value, size_t len)
{
    struct lg_stamp_read *r = ctx;

    (void)dn;
    if (attr && len > 0)
        stamp_pick(&r->stamp, &r->rank, attr, value);
    return 0;
}

static int read_stamp(struct ldapgroup *g, const struct ldapgroup_backend *be,
                      const char *dn, char **stamp, struct str *err)
{
    struct lg_stamp_read r = {NULL, 0};
    int rc = search(g, be, dn, LDAPC_SCOPE_BASE, "(objectClass=*)",
                    stamp_attrs, 1, stamp_cb, &r, err);

    *stamp = r.stamp;
    return rc;
}

/* --- reading many entries at once ---------------------------------------- */

static char lg_missing;          /* prefetched: the entry does not exist */

/* the entries of many member values, read in batches */
struct lg_pf {
    struct hmap got;             /* value -> struct lg_entry or &lg_missing
                                    (copied keys, borrowed entries) */
    struct lg_entry **own;       /* every entry read */
    size_t n, cap;
};

static void pf_init(struct lg_pf *pf)
{
    hmap_init(&pf->got, 16, HMAP_NOCASE | HMAP_COPYKEYS);
    pf->own = NULL;
    pf->n = pf->cap = 0;
}

static void pf_free(struct lg_pf *pf)
{
    hmap_free(&pf->got, NULL);
    for (size_t i = 0; i < pf->n; i++) {
        entry_free(pf->own[i]);
        free(pf->own[i]);
    }
    free(pf->own);
}

/* the entries one batch search returned */
struct lg_batch {
    const struct ldapgroup *g;
    struct lg_pf *pf;
    size_t first;                /* this batch's entries: pf->own[first..] */
    const char *key_attr;        /* uid batches: the attribute to match */
};

static int batch_cb(void *ctx, const char *dn, const char *attr,
                    const char *value, size_t len)
{
    struct lg_batch *b = ctx;
    struct lg_pf *pf = b->pf;
    struct lg_entry *e;

    if (attr == NULL) {
        if (pf->n == pf->cap) {
            pf->cap = pf->cap ? 2 * pf->cap : 64;
            pf->own = xreallocarray(pf->own, pf->cap, sizeof(*pf->own));
        }
        e = xcalloc(1, sizeof(*e));
        e->g = b->g;
        e->dn = xstrdup(dn);
        pf->own[pf->n++] = e;
        return 0;
    }
    if (pf->n == b->first)
        return 0;
    e = pf->own[pf->n - 1];
    if (b->key_attr && len > 0 && !strcasecmp(attr, b->key_attr))
        strvec_add(&e->keys, value);
    return entry_cb(e, dn, attr, value, len);
}

/* dn_norm - a DN without the blanks beside ',' and '=' and at its ends
   (the DNs batched have no escapes), for a case-insensitive comparison */
static void dn_norm(struct str *out, const char *dn)
{
    str_reset(out);
    for (const char *p = dn; *p;) {
        const char *q = p;

        if (*p != ' ') {
            str_append_char(out, *p++);
            continue;
        }
        while (*q == ' ')
            q++;
        if (!(out->len == 0 || out->data[out->len - 1] == ',' ||
              out->data[out->len - 1] == '=' || *q == ',' || *q == '=' ||
              *q == '\0'))
            str_append(out, p, (size_t)(q - p));
        p = q;
    }
}

/* dn_split - the first RDN of dn as a filter term "(attr=value)" and the
   parent DN; -1 when dn is not batched (escapes, quotes, a multi-valued
   RDN, no parent) */
static int dn_split(const char *dn, struct str *term, struct str *parent)
{
    const char *comma = strchr(dn, ','), *eq, *a, *ae, *v, *ve, *pp;

    if (strpbrk(dn, "\\\"+#;<>") != NULL || comma == NULL ||
        (eq = memchr(dn, '=', (size_t)(comma - dn))) == NULL)
        return -1;
    for (a = dn; *a == ' '; a++)
        ;
    for (ae = eq; ae > a && ae[-1] == ' '; ae--)
        ;
    for (v = eq + 1; v < comma && *v == ' '; v++)
        ;
    for (ve = comma; ve > v && ve[-1] == ' '; ve--)
        ;
    for (pp = comma + 1; *pp == ' '; pp++)
        ;
    if (!attr_name(a, (size_t)(ae - a)) || ve == v || *pp == '\0')
        return -1;
    str_append_char(term, '(');
    str_append(term, a, (size_t)(ae - a));
    str_append_char(term, '=');
    if (ldapfilter_escape(term, v, (size_t)(ve - v)) < 0)
        return -1;
    str_append_char(term, ')');
    str_set(parent, pp, strlen(pp));
    return 0;
}

/* the member DNs below one parent entry */
struct lg_parent {
    char *dn;
    struct strvec values, terms;
};

static void parent_free(void *p)
{
    struct lg_parent *pa = p;

    free(pa->dn);
    strvec_free(&pa->values);
    strvec_free(&pa->terms);
    free(pa);
}

/* batch_dns - read values[0..n) (DNs below parent, terms their RDNs) with
   one one-level search (terms NULL: of all the parent's children, at most
   LDAPGROUP_PARENT_FACTOR * n + 8); LK_* of the search */
static int batch_dns(struct ldapgroup *g, const struct ldapgroup_backend *be,
                     const char *parent, char **values, char **terms,
                     size_t n, const char *const *attrs, struct lg_pf *pf,
                     struct str *err)
{
    struct lg_batch b = {g, pf, pf->n, NULL};
    struct str filter = STR_INIT, norm = STR_INIT;
    struct hmap want;
    size_t unmatched = 0;
    int rc, bad;

    if (terms == NULL) { /* all the children */
        bad = str_append_cstr(&filter, "(objectClass=*)") < 0;
    } else {
        bad = str_append(&filter, "(|", 2) < 0;
        for (size_t i = 0; i < n; i++)
            bad |= str_append_cstr(&filter, terms[i]) < 0;
        bad |= str_append_char(&filter, ')') < 0;
    }
    if (bad) {
        str_free(&filter);
        str_appendf(err, "LDAP batch filter too long");
        return LK_TEMP;
    }
    rc = search(g, be, parent, LDAPC_SCOPE_ONE, filter.data, attrs,
                (terms ? 2 : LDAPGROUP_PARENT_FACTOR) * n + 8, batch_cb, &b,
                err);
    str_free(&filter);
    if (rc < 0) {
        while (pf->n > b.first) { /* a partial answer: drop it */
            entry_free(pf->own[--pf->n]);
            free(pf->own[pf->n]);
        }
        return rc;
    }
    hmap_init(&want, n, HMAP_NOCASE | HMAP_COPYKEYS);
    for (size_t i = 0; i < n; i++) {
        dn_norm(&norm, values[i]);
        hmap_put(&want, str_cstr(&norm), values[i]);
    }
    for (size_t i = b.first; i < pf->n; i++) {
        const char *value;

        dn_norm(&norm, pf->own[i]->dn);
        if ((value = hmap_get(&want, str_cstr(&norm))) != NULL &&
            hmap_get(&pf->got, value) == NULL)
            hmap_put(&pf->got, value, pf->own[i]);
        else
            unmatched++;
    }
    /* every entry returned was asked for: the others do not exist */
    for (size_t i = 0; i < n && unmatched == 0; i++)
        hmap_put(&pf->got, values[i], &lg_missing);
    hmap_free(&want, NULL);
    str_free(&norm);
    return rc;
}

/* batch_uids - read uids[0..n) with one search of an OR of uid_filter;
   LK_* of the search */
static int batch_uids(struct ldapgroup *g, const struct ldapgroup_backend *be,
                      char **uids, size_t n, const char *const *attrs,
                      struct lg_pf *pf, struct str *err)
{
    struct lg_batch b = {g, pf, pf->n, g->uid_attr};
    struct str filter = STR_INIT;
    struct hmap hits;             /* uid -> entry, or &lg_missing: two */
    size_t unmatched = 0;
    int rc = 0;

    str_append(&filter, "(|", 2);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = ldapfilter_expand(&filter, g->uid_filter, uids[i], err);
    if (rc < 0 || str_append_char(&filter, ')') < 0) {
        str_free(&filter);
        str_appendf(err, "LDAP batch filter too long");
        return LK_TEMP;
    }
    rc = search(g, be, NULL, LDAPC_SCOPE_SUB, filter.data, attrs, 2 * n + 8,
                batch_cb, &b, err);
    str_free(&filter);
    if (rc < 0)
        return rc;
    hmap_init(&hits, n, HMAP_NOCASE | HMAP_COPYKEYS);
    for (size_t i = 0; i < n; i++)
        hmap_put(&hits, uids[i], &hits); /* &hits: asked, no entry yet */
    for (size_t i = b.first; i < pf->n; i++) {
        struct lg_entry *e = pf->own[i];
        int matched = 0;

        for (size_t k = 0; k < e->keys.n; k++) {
            void *was = hmap_get(&hits, e->keys.v[k]);
            if (was == NULL)
                continue;
            matched = 1;
            hmap_replace(&hits, e->keys.v[k],
                         was == &hits ? (void *)e : (void *)&lg_missing);
        }
        unmatched += !matched;
    }
    for (size_t i = 0; i < n; i++) {
        void *hit = hmap_get(&hits, uids[i]);
        if (hit == &lg_missing)
            continue; /* two entries: read alone (and refused) as before */
        if (hit != &hits)
            hmap_put(&pf->got, uids[i], hit);
        else if (unmatched == 0)
            hmap_put(&pf->got, uids[i], &lg_missing);
    }
    hmap_free(&hits, NULL);
    return rc;
}

/* the member values of a prefetch, sorted for the batches */
struct lg_plan {
    struct hmap parents;         /* normalized parent DN -> lg_parent */
    struct strvec uids;
};

/* plan_make - sort the values of m not read yet (pf, visited) into plan:
   DNs by parent (those dn_split refuses stay out: read alone), uids
   when they are batched */
static void plan_make(const struct ldapgroup *g, const struct strvec *m,
                      const struct hmap *visited, int uids,
                      const struct lg_pf *pf, struct lg_plan *plan)
{
    struct str term = STR_INIT, parent = STR_INIT, pkey = STR_INIT;
    struct hmap seen;

    hmap_init(&plan->parents, 8, HMAP_NOCASE | HMAP_COPYKEYS);
    plan->uids = (struct strvec)STRVEC_INIT;
    hmap_init(&seen, m->n, HMAP_NOCASE | HMAP_COPYKEYS);
    for (size_t i = 0; i < m->n; i++) {
        const char *v = m->v[i];
        struct lg_parent *pa;

        if (hmap_get(&seen, v) || hmap_get(&pf->got, v) ||
            (visited && hmap_get(visited, v)))
            continue;
        hmap_put(&seen, v, &seen);
        str_reset(&term);
        if (strchr(v, '=') == NULL) {
            if (g->uid_attr && uids)
                strvec_add(&plan->uids, v);
            continue;
        }
        if (dn_split(v, &term, &parent) < 0)
            continue;
        dn_norm(&pkey, str_cstr(&parent));
        if ((pa = hmap_get(&plan->parents, str_cstr(&pkey))) == NULL) {
            pa = xcalloc(1, sizeof(*pa));
            pa->dn = xstrdup(str_cstr(&parent));
            hmap_put(&plan->parents, str_cstr(&pkey), pa);
        }
        strvec_add(&pa->values, v);
        strvec_add(&pa->terms, str_cstr(&term));
    }
    hmap_free(&seen, NULL);
    str_free(&term);
    str_free(&parent);
    str_free(&pkey);
}

/* batch_parent - the members below one parent: the whole parent when
   they are many and it is not much bigger, else OR batches; LK_* */
static int batch_parent(struct ldapgroup *g,
                        const struct ldapgroup_backend *be,
                        const struct lg_parent *pa, const char *const *attrs,
                        struct lg_pf *pf, struct str *err)
{
    size_t errlen = err->len;
    int rc = 0;

    if (pa->values.n >= LDAPGROUP_PARENT_MIN &&
        batch_dns(g, be, pa->dn, pa->values.v, NULL, pa->values.n, attrs, pf,
                  err) >= 0)
        return LK_FOUND;
    str_truncate(err, errlen); /* more children than that: batches */
    for (size_t i = 0; i < pa->values.n && rc >= 0;
         i += LDAPGROUP_BATCH_MAX) {
        size_t k = pa->values.n - i;
        rc = batch_dns(g, be, pa->dn, pa->values.v + i, pa->terms.v + i,
                       k < LDAPGROUP_BATCH_MAX ? k : LDAPGROUP_BATCH_MAX,
                       attrs, pf, err);
    }
    return rc;
}

/* prefetch - read the entries of the member values m (DNs not visited
   yet, uids) in batches into pf, with attrs (uid batches: uid_attrs;
   NULL: uids are not batched); 0 or LK_TEMP.  Values not in pf
   afterwards are read one by one. */
static int prefetch(struct ldapgroup *g, const struct ldapgroup_backend *be,
                    const struct strvec *m, const struct hmap *visited,
                    const char *const *attrs, const char *const *uid_attrs,
                    struct lg_pf *pf, struct str *err)
{
    struct lg_plan plan;
    size_t it = 0;
    const char *key;
    void *val;
    int rc = 0;

    plan_make(g, m, visited, uid_attrs != NULL, pf, &plan);
    while (rc >= 0 && hmap_next(&plan.parents, &it, &key, &val))
        rc = batch_parent(g, be, val, attrs, pf, err);
    for (size_t i = 0; i < plan.uids.n && rc >= 0; i += LDAPGROUP_BATCH_MAX) {
        size_t k = plan.uids.n - i;
        rc = batch_uids(g, be, plan.uids.v + i,
                        k < LDAPGROUP_BATCH_MAX ? k : LDAPGROUP_BATCH_MAX,
                        uid_attrs, pf, err);
    }
    hmap_free(&plan.parents, parent_free);
    strvec_free(&plan.uids);
    return rc < 0 ? rc : 0;
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

/* note_stamp - remember a group read and its change stamp */
static void note_stamp(struct lg_set *s, const char *dn,
                       const struct lg_entry *e)
{
    strvec_add(&s->stamp_dns, dn);
    strvec_add(&s->stamps, e->stamp ? e->stamp : "");
}

/* sub_add - note a group nested below the top group (its rules apply to
   the members reached through it) with its change stamp (read now when
   a batch read the group); 0, LK_TEMP or LK_LIMIT */
static int sub_add(struct lg_walk *w, const char *dn, struct lg_entry *e)
{
    struct ldapgroup_subs *s = &w->out->subs;
    struct ldapgroup_sub *sub;

    if (s->n >= LDAPGROUP_SUBGROUPS_MAX) {
        str_appendf(w->err, "LDAP group over %d nested groups",
                    LDAPGROUP_SUBGROUPS_MAX);
        return LK_LIMIT;
    }
    if (e->stamp == NULL && read_stamp(w->g, w->be, dn, &e->stamp,
                                       w->err) < 0)
        return LK_TEMP;
    note_stamp(w->out, dn, e);
    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    sub = &s->v[s->n++];
    sub->dn = xstrdup(dn);
    sub->mail = e->mail ? xstrdup(e->mail) : NULL;
    sub->values = e->extra; /* moved */
    e->extra = (struct strvec)STRVEC_INIT;
    return 0;
}

/* walk_member - one member value of a group at depth, its entry in pf
   when the batch read it; 0 or LK_TEMP/LIMIT */
static int walk_member(struct lg_walk *w, struct lg_pf *pf, const char *value,
                       long long depth)
{
    struct lg_entry alone = {.g = w->g}, *e = &alone;
    int by_uid = strchr(value, '=') == NULL, rc;
    void *got;

    if (!by_uid) {
        if (hmap_get(&w->visited, value))
            return 0; /* read already: a cycle, a diamond, a user twice */
        hmap_put(&w->visited, value, w);
    }
    if ((got = hmap_get(&pf->got, value)) == &lg_missing) {
        rc = LK_NOTFOUND;
    } else if (got != NULL) {
        e = got;
        rc = LK_FOUND;
    } else {
        rc = read_entry(w->g, w->be, value, by_uid, e, w->err);
    }
    if (rc == LK_NOTFOUND) {
        atomic_fetch_add(&w->g->missing, 1);
        log_warn("LDAP group member %s not found (skipped)",
                 log_safe_cstr(value));
        rc = 0;
    } else if (rc == LK_FOUND) {
        rc = 0;
        if (!by_uid && (entry_members(e) || e->group_class)) {
            if (depth + 1 > w->g->max_nesting) {
                str_appendf(w->err, "LDAP groups nested deeper than %lld "
                            "levels at %s", w->g->max_nesting, value);
                rc = LK_LIMIT;
            } else if ((rc = sub_add(w, value, e)) == 0) {
                rc = walk_group(w, value, e, depth + 1);
            }
        } else if (e->mail) {
            rc = set_add(w, e->mail);
        }
    }
    entry_free(&alone);
    return rc;
}

static int walk_group(struct lg_walk *w, const char *dn,
                      const struct lg_entry *e, long long depth)
{
    const struct strvec *m = entry_members(e);
    const char *attrs[LG_ATTRS_MAX + 1], *uid_attrs[LG_ATTRS_MAX + 1];
    struct lg_pf pf;
    int rc = 0;

    (void)dn;
    if (m == NULL)
        return 0;
    /* members are mostly users: a nested group's stamp is read apart */
    entry_attrs(w->g, attrs, 0, NULL);
    entry_attrs(w->g, uid_attrs, 0, w->g->uid_attr);
    pf_init(&pf);
    rc = prefetch(w->g, w->be, m, &w->visited, attrs, uid_attrs, &pf, w->err);
    for (size_t i = 0; i < m->n && rc == 0; i++)
        rc = walk_member(w, &pf, m->v[i], depth);
    pf_free(&pf);
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
    if (rc == LK_FOUND) {
        note_stamp(w.out, dn, &e);
        if ((rc = walk_group(&w, dn, &e, 0)) == 0)
            rc = LK_FOUND;
    }
    entry_free(&e);
    hmap_free(&w.visited, NULL);
    if (rc != LK_FOUND) {
        set_free(w.out);
        return rc;
    }
    *out = w.out;
    return LK_FOUND;
}

static int set_load(void *ctx, const char *dn, void **val, struct str *err)
{
    struct lg_ctx *c = ctx;
    struct lg_set *s = NULL;
    int rc = build_set(c->g, c->be, dn, &s, err);

    *val = s;
    return rc;
}

/* set_check - every group an expansion read still has its change stamp:
   one batch read of their stamps; 1 (same), 0 (changed), -1 */
static int set_check(void *ctx, const char *dn, void *val, struct str *err)
{
    struct lg_ctx *c = ctx;
    const struct lg_set *s = val;
    struct lg_pf pf;
    int rc, same = 1;

    (void)dn;
    pf_init(&pf);
    rc = prefetch(c->g, c->be, &s->stamp_dns, NULL, stamp_attrs, NULL, &pf,
                  err);
    for (size_t i = 0; i < s->stamp_dns.n && rc >= 0 && same; i++) {
        const struct lg_entry *e = hmap_get(&pf.got, s->stamp_dns.v[i]);
        char *stamp = NULL;

        if (e == (void *)&lg_missing) {
            same = 0;
        } else if (e != NULL) {
            same = !strcmp(e->stamp ? e->stamp : "", s->stamps.v[i]);
        } else if ((rc = read_stamp(c->g, c->be, s->stamp_dns.v[i], &stamp,
                                    err)) >= 0) {
            same = rc == LK_FOUND &&
                   !strcmp(stamp ? stamp : "", s->stamps.v[i]);
        }
        free(stamp);
    }
    pf_free(&pf);
    return rc < 0 ? -1 : same;
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
    struct lg_ctx c = {g, be};
    const struct ttlcache_loader ld = {set_load, set_check, &c};
    char *dn = NULL;
    int rc;

    if ((rc = group_dn(g, be, group, &dn, err)) != LK_FOUND)
        return rc;
    rc = ttlcache_fetch(g->sets, dn, &ld, fn, ctx, err);
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
    if (ldapfilter_expand(&filter, g->user_filter, login, err) < 0) {
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
