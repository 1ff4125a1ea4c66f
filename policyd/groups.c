/*
 * groups - is an address a member of a policy group?
 *
 * A policy group holds addresses, domains (".domain" = its subdomains),
 * other policy groups (nested, every group visited once so cycles end, at
 * most PD_NEST_MAX levels) and LDAP groups.  An LDAP group is named by its
 * DN or by its mail address ([ldap] group_filter); it is expanded to the
 * mail addresses of its members ([ldap] member_attribute: member DNs,
 * uniqueMember or memberUid values; nested LDAP groups up to [ldap]
 * max_nesting) and the expansion is cached for [ldap] cache_ttl in a cache
 * shared by the workers.
 *
 * Outcomes: 1 member, 0 not a member, -1 temporary failure (LDAP down or a
 * group over PD_LDAP_MEMBERS_MAX members): the caller defers, never
 * guesses.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "clock.h"
#include "policyd.h"

#define PD_LDAP_MEMBERS_MAX 100000 /* addresses of one LDAP group */
#define PD_LDAP_CACHE_MAX 4096     /* cached LDAP groups */

/* --- the LDAP expansion cache ----------------------------------------------- */

struct ldap_entry {
    char *group;                /* the policy member value */
    char **addrs;               /* sorted, lower-case */
    size_t n;
    long long expires_ms;
    struct ldap_entry *next;
};

struct pd_ldap_cache {
    pthread_mutex_t lock;
    struct ldap_entry *head;
    size_t count;
    long long ttl_ms;
};

struct pd_ldap_cache *ldap_cache_new(long long ttl_ms)
{
    struct pd_ldap_cache *c = calloc(1, sizeof(*c));

    if (c == NULL)
        log_fatal("out of memory");
    pthread_mutex_init(&c->lock, NULL);
    c->ttl_ms = ttl_ms;
    return c;
}

static void entry_free(struct ldap_entry *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->addrs[i]);
    free(e->addrs);
    free(e->group);
    free(e);
}

void ldap_cache_free(struct pd_ldap_cache *c)
{
    if (c == NULL)
        return;
    while (c->head) {
        struct ldap_entry *e = c->head;
        c->head = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* cache_check - 1/0 when group is cached and fresh, -2 when not cached */
static int cache_check(struct pd_ldap_cache *c, const char *group,
                       const char *addr)
{
    int rc = -2;
    long long now = clock_ms();

    pthread_mutex_lock(&c->lock);
    for (struct ldap_entry *e = c->head; e; e = e->next) {
        if (strcmp(e->group, group) != 0)
            continue;
        if (e->expires_ms >= now)
            rc = e->n > 0 && bsearch(&addr, e->addrs, e->n, sizeof(char *),
                                     cmp_str) != NULL;
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void cache_put(struct pd_ldap_cache *c, struct ldap_entry *ne)
{
    struct ldap_entry **pp;

    if (ne->n > 1)
        qsort(ne->addrs, ne->n, sizeof(char *), cmp_str);
    ne->expires_ms = clock_ms() + c->ttl_ms;
    pthread_mutex_lock(&c->lock);
    for (pp = &c->head; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->group, ne->group) == 0) {
            struct ldap_entry *old = *pp;
            ne->next = old->next;
            *pp = ne;
            entry_free(old);
            pthread_mutex_unlock(&c->lock);
            return;
        }
    }
    if (c->count >= PD_LDAP_CACHE_MAX) { /* drop the oldest half at most */
        struct ldap_entry *e = c->head;
        c->head = e->next;
        entry_free(e);
        c->count--;
    }
    ne->next = c->head;
    c->head = ne;
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

/* --- expanding one LDAP group ---------------------------------------------- */

struct expand {
    struct pd_worker *w;
    struct ldap_entry *out;
    size_t cap;
    char **seen;               /* group DNs visited */
    size_t nseen;
    struct str *err;
    int failed;
};

struct entry_vals {
    const char *member_attr, *mail_attr;
    char **members;
    size_t nmembers;
    char *mail;
    int is_group;
    char *dn;
};

static int push(char ***v, size_t *n, const char *s)
{
    char **p = realloc(*v, (*n + 1) * sizeof(char *));

    if (p == NULL || (p[*n] = strdup(s)) == NULL)
        log_fatal("out of memory");
    *v = p;
    (*n)++;
    return 0;
}

static int entry_cb(void *ctx, const char *dn, const char *attr,
                    const char *value, size_t len)
{
    struct entry_vals *ev = ctx;

    (void)len;
    if (attr == NULL) {
        if (ev->dn == NULL && (ev->dn = strdup(dn)) == NULL)
            log_fatal("out of memory");
        return 0;
    }
    if (!strcasecmp(attr, ev->member_attr)) {
        ev->is_group = 1;
        push(&ev->members, &ev->nmembers, value);
    } else if (!strcasecmp(attr, ev->mail_attr) && ev->mail == NULL) {
        if ((ev->mail = strdup(value)) == NULL)
            log_fatal("out of memory");
    } else if (!strcasecmp(attr, "objectClass") &&
               (!strcasecmp(value, "groupOfNames") ||
                !strcasecmp(value, "groupOfUniqueNames") ||
                !strcasecmp(value, "posixGroup"))) {
        ev->is_group = 1;
    }
    return 0;
}

static void ev_free(struct entry_vals *ev)
{
    for (size_t i = 0; i < ev->nmembers; i++)
        free(ev->members[i]);
    free(ev->members);
    free(ev->mail);
    free(ev->dn);
}

static int expand_entry(struct expand *x, const char *base, const char *filter,
                        int depth);

static void add_addr(struct expand *x, const char *mail)
{
    char *a;

    if (x->out->n >= PD_LDAP_MEMBERS_MAX) {
        if (!x->failed)
            str_appendf(x->err, "LDAP group over %d members",
                        PD_LDAP_MEMBERS_MAX);
        x->failed = 1;
        return;
    }
    if ((a = strdup(mail)) == NULL)
        log_fatal("out of memory");
    str_lower(a, strlen(a));
    if (x->out->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 32;
        char **p = realloc(x->out->addrs, cap * sizeof(char *));
        if (p == NULL)
            log_fatal("out of memory");
        x->out->addrs = p;
        x->cap = cap;
    }
    x->out->addrs[x->out->n++] = a;
}

static int expand_members(struct expand *x, struct entry_vals *ev, int depth)
{
    const struct ldapc_config *lc = &x->w->cfg->ldap;
    struct str f = STR_INIT;

    for (size_t i = 0; i < ev->nmembers && !x->failed; i++) {
        const char *v = ev->members[i];
        if (strchr(v, '=') != NULL) { /* a DN */
            if (expand_entry(x, v, "(objectClass=*)", depth + 1) < 0)
                break;
        } else { /* memberUid */
            str_reset(&f);
            if (ldapc_filter(&f, lc->uid_filter, v, x->err) < 0 ||
                expand_entry(x, NULL, f.data, depth + 1) < 0)
                break;
        }
    }
    str_free(&f);
    return x->failed ? -1 : 0;
}

/* expand_entry - read the entries base/filter finds; users add their mail,
   groups are expanded (each DN once). */
static int expand_entry(struct expand *x, const char *base, const char *filter,
                        int depth)
{
    const struct ldapc_config *lc = &x->w->cfg->ldap;
    const char *attrs[] = {lc->member_attribute, lc->mail_attribute,
                           "objectClass", NULL};
    struct entry_vals ev = {lc->member_attribute, lc->mail_attribute, NULL, 0,
                            NULL, 0, NULL};
    int rc;

    if (depth > lc->max_nesting) {
        str_appendf(x->err, "LDAP groups nested deeper than %lld",
                    lc->max_nesting);
        x->failed = 1;
        return -1;
    }
    if (base) {
        for (size_t i = 0; i < x->nseen; i++)
            if (!strcasecmp(x->seen[i], base))
                return 0; /* a cycle or a group met twice */
        push(&x->seen, &x->nseen, base);
    }
    rc = ldapc_search(x->w->ldap, base, base ? 0 /* LDAP_SCOPE_BASE */
                                             : 2 /* SUBTREE */,
                      filter, attrs, 1, entry_cb, &ev, x->err);
    if (rc == LDAPC_TEMP) {
        x->failed = 1;
        ev_free(&ev);
        return -1;
    }
    if (rc == LDAPC_FOUND) {
        if (ev.is_group)
            expand_members(x, &ev, depth);
        else if (ev.mail)
            add_addr(x, ev.mail);
    }
    ev_free(&ev);
    return x->failed ? -1 : 0;
}

static int ldap_group_has(struct pd_eval *e, const char *group,
                          const char *addr)
{
    struct pd_worker *w = e->w;
    struct expand x = {0};
    int rc;

    if (w->ldap == NULL) {
        log_warn("policy group member ldap_group '%s' ignored: [policyd] "
                 "ldap = no", log_safe_cstr(group));
        return 0;
    }
    if ((rc = cache_check(w->ldcache, group, addr)) != -2)
        return rc;
    x.w = w;
    x.err = &e->err;
    if ((x.out = calloc(1, sizeof(*x.out))) == NULL ||
        (x.out->group = strdup(group)) == NULL)
        log_fatal("out of memory");
    if (strchr(group, '=') != NULL) {
        expand_entry(&x, group, "(objectClass=*)", 0);
    } else {
        struct str f = STR_INIT;
        if (ldapc_filter(&f, w->cfg->ldap.group_filter, group, &e->err) < 0)
            x.failed = 1;
        else
            expand_entry(&x, NULL, f.data, 0);
        str_free(&f);
    }
    for (size_t i = 0; i < x.nseen; i++)
        free(x.seen[i]);
    free(x.seen);
    if (x.failed) {
        entry_free(x.out);
        return -1;
    }
    cache_put(w->ldcache, x.out);
    return cache_check(w->ldcache, group, addr) == 1;
}

/* --- membership -------------------------------------------------------------- */

/* member_hit - is "index kind value" in the members index? */
static int member_hit(const struct pd_rules *r, unsigned idx, char kind,
                      const char *value)
{
    char k[ADDR_MAX + 32];
    int n = snprintf(k, sizeof(k), "%u %c %s", idx, kind, value);

    return n > 0 && (size_t)n < sizeof(k) && strmap_get(&r->members, k);
}

static int has_rec(struct pd_eval *e, const struct pd_group *g,
                   const char *addr, unsigned char *seen, int depth)
{
    const struct pd_rules *r = e->rules;
    const char *at = strrchr(addr, '@');
    int rc;

    if (seen[g->index])
        return 0;
    seen[g->index] = 1;
    rc = member_hit(r, g->index, 'a', addr);
    if (rc == 0 && g->has_domains && at) {
        /* the domain itself, then ".parent" entries for each parent */
        rc = member_hit(r, g->index, 'd', at + 1);
        for (const char *p = at + 1; rc == 0 && (p = strchr(p, '.')) != NULL;
             p++)
            rc = member_hit(r, g->index, 'd', p);
    }
    for (const struct pd_member_row *m = g->subs; m && rc == 0; m = m->next) {
        if (m->type == M_GROUP) {
            const struct pd_group *sub = strmap_get(&r->group_by_name,
                                                    m->value);
            if (sub && depth < PD_NEST_MAX)
                rc = has_rec(e, sub, addr, seen, depth + 1);
        } else {
            rc = ldap_group_has(e, m->value, addr);
        }
    }
    return rc;
}

int group_has(struct pd_eval *e, const struct pd_group *g, const char *addr)
{
    unsigned char stackseen[256];
    unsigned char *seen = stackseen;
    char low[ADDR_MAX + 1];
    size_t n = e->rules->ngroups;
    int rc;

    if (addr[0] == '\0')
        return 0; /* the null sender is in no group */
    if (str_copy_bounded(low, sizeof(low), addr, strlen(addr)) < 0)
        return 0;
    str_lower(low, strlen(low));
    if (n > sizeof(stackseen) && (seen = calloc(n, 1)) == NULL)
        log_fatal("out of memory");
    memset(seen, 0, n > sizeof(stackseen) ? n : sizeof(stackseen));
    rc = has_rec(e, g, low, seen, 0);
    if (seen != stackseen)
        free(seen);
    return rc;
}
