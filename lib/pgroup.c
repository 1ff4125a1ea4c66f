/*
 * pgroup - policy groups over an in-memory snapshot.  See pgroup.h.
 *
 * Implementation: every address and domain member is one key
 * "INDEX \x1f KIND \x1f VALUE" in one case-insensitive hash table of the
 * set, so a question costs one lookup per group for the address and one
 * per domain level; nested groups and LDAP groups are a per-group array
 * walked depth-first with a visited mark per group (a byte array indexed
 * by the group's index, on the stack for small sets).
 */
#include "pgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "hash.h"
#include "lookup.h"
#include "mem.h"

enum { PG_GROUP, PG_LDAP };

struct pg_sub {
    int type;
    char *value;                 /* group name (lower-case) or LDAP group */
    const struct pgroup *group;  /* PG_GROUP, resolved by finish; NULL =
                                    names no group */
};

struct pgroup {
    unsigned long id;
    char *name;
    unsigned index;
    int has_domains;
    int on_cycle;
    struct pg_sub *subs;
    size_t nsubs, capsubs;
};

struct pgroup_set {
    struct pgroup **groups;
    size_t n, cap;
    struct hmap by_name;         /* name -> group (keys borrowed) */
    struct hmap by_id;           /* "id" -> group (copied keys) */
    struct hmap members;         /* "index\x1fa\x1faddr" -> group (copied) */
    size_t cycles;
    char delims[ADDR_DELIM_MAX + 1]; /* canonical members: see */
    addr_alias_fn alias;             /* pgroup_set_canonical */
    void *alias_ctx;
    int canonical;
};

#define PG_STACK_SEEN 256

/* --- building ------------------------------------------------------------ */

struct pgroup_set *pgroup_set_new(void)
{
    struct pgroup_set *s = xcalloc(1, sizeof(*s));

    hmap_init(&s->by_name, 64, HMAP_NOCASE);
    hmap_init(&s->by_id, 64, HMAP_COPYKEYS);
    hmap_init(&s->members, 256, HMAP_NOCASE | HMAP_COPYKEYS);
    return s;
}

void pgroup_set_add_group(struct pgroup_set *s, unsigned long id,
                          const char *name)
{
    struct pgroup *g = xcalloc(1, sizeof(*g));
    char key[32];

    g->id = id;
    g->name = xstrdup(name);
    str_lower(g->name, strlen(g->name));
    g->index = (unsigned)s->n;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->groups = xreallocarray(s->groups, s->cap, sizeof(*s->groups));
    }
    s->groups[s->n++] = g;
    hmap_put(&s->by_name, g->name, g);
    snprintf(key, sizeof(key), "%lu", id);
    hmap_put(&s->by_id, key, g);
}

void pgroup_set_canonical(struct pgroup_set *s, const char *delims,
                          addr_alias_fn alias, void *ctx)
{
    size_t n = delims ? strlen(delims) : 0;

    if (n > ADDR_DELIM_MAX)
        n = ADDR_DELIM_MAX;
    memcpy(s->delims, delims ? delims : "", n);
    s->delims[n] = '\0';
    s->alias = alias;
    s->alias_ctx = ctx;
    s->canonical = 1;
}

/* canonical_value - the form a member is stored in: an address through
   addr_canonical, a domain lower-case without its root dot and with an
   alias domain replaced by its target (".suffix" members stay as they
   are); a value that does not parse is kept (lower-cased by the table) */
static const char *canonical_value(const struct pgroup_set *s, char kind,
                                   const char *value, struct addr *a)
{
    const char *why;
    size_t len = strlen(value);

    if (!s->canonical)
        return value;
    if (kind == 'a')
        return addr_canonical(value, len, s->delims, ADDR_NEED_DOMAIN,
                              s->alias, s->alias_ctx, a, &why) == 0
                   ? a->full : value;
    if (len == 0 || value[0] == '.' || len > ADDR_DOMAIN_MAX)
        return value;
    /* "x@domain" gives the domain its canonical form */
    char tmp[ADDR_DOMAIN_MAX + 3];
    snprintf(tmp, sizeof(tmp), "x@%s", value);
    if (addr_canonical(tmp, strlen(tmp), NULL, ADDR_NEED_DOMAIN, s->alias,
                       s->alias_ctx, a, &why) == 0)
        return a->domain;
    return value;
}

static void member_key(struct str *k, unsigned index, char kind,
                       const char *value)
{
    str_reset(k);
    str_appendf(k, "%u\x1f%c\x1f%s", index, kind, value);
}

int pgroup_set_add_member(struct pgroup_set *s, unsigned long group_id,
                          const char *type, const char *value,
                          struct str *err)
{
    struct pgroup *g = (struct pgroup *)pgroup_by_id(s, group_id);
    struct str k = STR_INIT;
    struct pg_sub *sub;

    if (g == NULL)
        return str_appendf(err, "policy group member of unknown group id "
                           "%lu", group_id), -1;
    if (!strcmp(type, "address") || !strcmp(type, "domain")) {
        struct addr a;
        member_key(&k, g->index, type[0],
                   canonical_value(s, type[0], value, &a));
        if (k.len > 0)
            hmap_put(&s->members, k.data, g);
        g->has_domains |= type[0] == 'd';
        str_free(&k);
        return 0;
    }
    if (strcmp(type, "group") != 0 && strcmp(type, "ldap_group") != 0)
        return str_appendf(err, "policy group %s: unknown member type '%s'",
                           g->name, type), -1;
    if (g->nsubs == g->capsubs) {
        g->capsubs = g->capsubs ? g->capsubs * 2 : 4;
        g->subs = xreallocarray(g->subs, g->capsubs, sizeof(*g->subs));
    }
    sub = &g->subs[g->nsubs++];
    sub->type = type[0] == 'g' ? PG_GROUP : PG_LDAP;
    sub->value = xstrdup(value);
    if (sub->type == PG_GROUP)
        str_lower(sub->value, strlen(sub->value));
    sub->group = NULL;
    return 0;
}

/* reaches - can from reach target through nested groups? */
static int reaches(const struct pgroup *from, const struct pgroup *target,
                   unsigned char *seen)
{
    if (seen[from->index])
        return 0;
    seen[from->index] = 1;
    for (size_t i = 0; i < from->nsubs; i++) {
        const struct pgroup *sub = from->subs[i].group;
        if (sub && (sub == target || reaches(sub, target, seen)))
            return 1;
    }
    return 0;
}

size_t pgroup_set_finish(struct pgroup_set *s)
{
    unsigned char *seen = xcalloc(s->n + 1, 1);
    size_t dangling = 0;

    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->groups[i]->nsubs; j++) {
            struct pg_sub *sub = &s->groups[i]->subs[j];
            if (sub->type == PG_GROUP &&
                (sub->group = hmap_get(&s->by_name, sub->value)) == NULL)
                dangling++;
        }
    s->cycles = 0;
    for (size_t i = 0; i < s->n; i++) {
        memset(seen, 0, s->n);
        s->groups[i]->on_cycle = reaches(s->groups[i], s->groups[i], seen);
        s->cycles += s->groups[i]->on_cycle != 0;
    }
    free(seen);
    return dangling;
}

void pgroup_set_free(struct pgroup_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct pgroup *g = s->groups[i];
        for (size_t j = 0; j < g->nsubs; j++)
            free(g->subs[j].value);
        free(g->subs);
        free(g->name);
        free(g);
    }
    free(s->groups);
    hmap_free(&s->by_name, NULL);
    hmap_free(&s->by_id, NULL);
    hmap_free(&s->members, NULL);
    free(s);
}

/* --- loading ------------------------------------------------------------- */

struct pg_load {
    struct pgroup_set *s;
    struct str err;
};

static int group_row(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    struct pg_load *l = ctx;

    (void)lens;
    if (ncols >= 2 && vals[0] && vals[1])
        pgroup_set_add_group(l->s, strtoul(vals[0], NULL, 10), vals[1]);
    return 0;
}

static int member_row(void *ctx, unsigned ncols, char **vals,
                      const unsigned long *lens)
{
    struct pg_load *l = ctx;

    (void)lens;
    if (ncols >= 3 && vals[0] && vals[1] && vals[2])
        pgroup_set_add_member(l->s, strtoul(vals[0], NULL, 10), vals[1],
                              vals[2], &l->err); /* rows the schema forbids */
    return 0;
}

struct pgroup_set *pgroup_load(struct db *db, struct str *err)
{
    return pgroup_load_canonical(db, NULL, NULL, NULL, 0, err);
}

struct pgroup_set *pgroup_load_canonical(struct db *db, const char *delims,
                                         addr_alias_fn alias, void *ctx,
                                         int canonical, struct str *err)
{
    static const char sql_groups[] =
        "SELECT id, name FROM policy_groups ORDER BY id";
    static const char sql_members[] =
        "SELECT group_id, member_type, value FROM policy_group_members"
        " ORDER BY id";
    struct pg_load l = {pgroup_set_new(), STR_INIT};

    if (canonical)
        pgroup_set_canonical(l.s, delims, alias, ctx);
    if (db_query(db, sql_groups, NULL, 0, group_row, &l, err) < 0 ||
        db_query(db, sql_members, NULL, 0, member_row, &l, err) < 0) {
        pgroup_set_free(l.s);
        str_free(&l.err);
        return NULL;
    }
    pgroup_set_finish(l.s);
    str_free(&l.err);
    return l.s;
}

/* --- reading ------------------------------------------------------------- */

size_t pgroup_set_count(const struct pgroup_set *s)
{
    return s->n;
}

size_t pgroup_set_cycles(const struct pgroup_set *s)
{
    return s->cycles;
}

const struct pgroup *pgroup_by_id(const struct pgroup_set *s,
                                  unsigned long id)
{
    char key[32];

    snprintf(key, sizeof(key), "%lu", id);
    return hmap_get(&s->by_id, key);
}

const struct pgroup *pgroup_by_name(const struct pgroup_set *s,
                                    const char *name)
{
    return hmap_get(&s->by_name, name);
}

const char *pgroup_name(const struct pgroup *g)
{
    return g->name;
}

struct pg_ask {
    const struct pgroup_set *s;
    const char *addr;            /* lower-case */
    const struct pgroup_ldap *ldap;
    unsigned char *seen;
    struct str *err;
    struct str key;
};

static int hit(struct pg_ask *a, const struct pgroup *g, char kind,
               const char *value)
{
    member_key(&a->key, g->index, kind, value);
    return a->key.len > 0 && hmap_get(&a->s->members, a->key.data) != NULL;
}

/* direct - an address or domain member of g itself? */
static int direct(struct pg_ask *a, const struct pgroup *g)
{
    const char *at = strrchr(a->addr, '@');

    if (hit(a, g, 'a', a->addr))
        return 1;
    if (!g->has_domains || at == NULL)
        return 0;
    /* the domain itself, then ".parent" for every parent */
    if (hit(a, g, 'd', at + 1))
        return 1;
    for (const char *p = strchr(at + 1, '.'); p; p = strchr(p + 1, '.'))
        if (hit(a, g, 'd', p))
            return 1;
    return 0;
}

static int ask(struct pg_ask *a, const struct pgroup *g, int depth)
{
    int first_neg = 0, rc;

    if (a->seen[g->index])
        return LK_NOTFOUND; /* visited: a cycle or a diamond */
    a->seen[g->index] = 1;
    if (direct(a, g))
        return LK_FOUND;
    for (size_t i = 0; i < g->nsubs; i++) {
        const struct pg_sub *sub = &g->subs[i];
        if (sub->type == PG_GROUP) {
            if (sub->group == NULL)
                continue; /* names no group (the foreign key forbids it) */
            if (depth + 1 > PGROUP_NEST_MAX) {
                str_appendf(a->err, "policy groups nested deeper than %d "
                            "levels (%s in %s)", PGROUP_NEST_MAX, sub->value,
                            g->name);
                rc = LK_LIMIT;
            } else {
                rc = ask(a, sub->group, depth + 1);
            }
        } else if (a->ldap && a->ldap->has) {
            rc = a->ldap->has(a->ldap->ctx, sub->value, a->addr, a->err);
        } else {
            str_appendf(a->err, "policy group %s: LDAP group %s cannot be "
                        "read here", g->name, sub->value);
            rc = LK_TEMP;
        }
        if (rc == LK_FOUND)
            return LK_FOUND;
        if (rc < 0 && first_neg == 0)
            first_neg = rc;
    }
    return first_neg ? first_neg : LK_NOTFOUND;
}

int pgroup_has(const struct pgroup_set *s, const struct pgroup *g,
               const char *addr, const struct pgroup_ldap *ldap,
               struct str *err)
{
    unsigned char stack_seen[PG_STACK_SEEN];
    char low[PGROUP_ADDR_MAX + 1];
    struct pg_ask a = {s, low, ldap, stack_seen, err, STR_INIT};
    size_t len = strlen(addr), errlen = err->len;
    int rc;

    if (len == 0 || len > PGROUP_ADDR_MAX)
        return LK_NOTFOUND; /* the null sender; nothing that long is stored */
    memcpy(low, addr, len + 1);
    str_lower(low, len);
    if (s->n > PG_STACK_SEEN)
        a.seen = xcalloc(s->n, 1);
    else
        memset(stack_seen, 0, sizeof(stack_seen));
    rc = ask(&a, g, 0);
    if (a.seen != stack_seen)
        free(a.seen);
    str_free(&a.key);
    if (rc >= 0)
        str_truncate(err, errlen); /* what a losing branch said */
    return rc;
}

int pgroup_nested_in(const struct pgroup_set *s, const struct pgroup *outer,
                     const struct pgroup *inner)
{
    unsigned char *seen;
    int rc;

    if (outer == NULL || inner == NULL || outer == inner)
        return 0;
    seen = xcalloc(s->n + 1, 1);
    rc = reaches(outer, inner, seen);
    free(seen);
    return rc;
}

int pgroup_has_any(const struct pgroup_set *s, const struct pgroup *g,
                   const char *const *addrs, size_t n,
                   const struct pgroup_ldap *ldap, struct str *err)
{
    int first_neg = 0, rc;
    size_t errlen = err->len;

    for (size_t i = 0; i < n; i++) {
        rc = pgroup_has(s, g, addrs[i], ldap, err);
        if (rc == LK_FOUND) {
            str_truncate(err, errlen);
            return LK_FOUND;
        }
        if (rc < 0 && first_neg == 0)
            first_neg = rc;
    }
    return first_neg ? first_neg : LK_NOTFOUND;
}

/* --- indexing rules by what their groups hold ------------------------------ */

size_t pgroup_index(const struct pgroup *g)
{
    return g->index;
}

/* closure - ask()'s walk without an address: 0 as soon as it would reach
   an LDAP group or nest too deep */
static int closure(const struct pgroup *g, int depth, unsigned char *seen)
{
    if (seen[g->index])
        return 1;
    seen[g->index] = 1;
    for (size_t i = 0; i < g->nsubs; i++) {
        const struct pg_sub *sub = &g->subs[i];
        if (sub->type != PG_GROUP)
            return 0;
        if (sub->group == NULL)
            continue;
        if (depth + 1 > PGROUP_NEST_MAX || !closure(sub->group, depth + 1,
                                                    seen))
            return 0;
    }
    return 1;
}

int pgroup_closure(const struct pgroup_set *s, const struct pgroup *g,
                   unsigned char *seen)
{
    (void)s;
    return closure(g, 0, seen);
}

void pgroup_set_each_member(const struct pgroup_set *s,
                            void (*fn)(void *ctx, const struct pgroup *g,
                                       char kind, const char *value),
                            void *ctx)
{
    size_t it = 0;
    const char *key;
    void *val;

    while (hmap_next(&s->members, &it, &key, &val)) {
        const char *k = strchr(key, '\x1f'); /* "index\x1fkind\x1fvalue" */
        if (k && k[1] && k[2] == '\x1f')
            fn(ctx, val, k[1], k + 3);
    }
}
