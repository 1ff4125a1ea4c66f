/*
 * aliasdom - alias domain -> target map.  See aliasdom.h.
 */
#include <string.h>

#include "addr.h"
#include "aliasdom.h"
#include "lookup.h"

#define SQL_ALIASDOM \
    "SELECT name, alias_target FROM domains " \
    "WHERE active = 1 AND kind = 'alias' AND alias_target IS NOT NULL"

void aliasdom_init(struct aliasdom *m)
{
    memset(m, 0, sizeof(*m));
    strmap_init(&m->map, 16);
}

void aliasdom_add(struct aliasdom *m, const char *alias, const char *target)
{
    char *t;

    if (strlen(alias) > ADDR_DOMAIN_MAX || strlen(target) > ADDR_DOMAIN_MAX)
        return;
    t = arena_strdup_lower(&m->arena, target);
    if (strmap_put(&m->map, arena_strdup_lower(&m->arena, alias), t) == t)
        m->n++;
}

static int add_row(void *ctx, unsigned ncols, char **v,
                   const unsigned long *lens)
{
    (void)lens;
    if (ncols == 2 && v[0] && v[1])
        aliasdom_add(ctx, v[0], v[1]);
    return 0;
}

int aliasdom_load(struct aliasdom *m, struct db *db, struct str *err)
{
    return db_query(db, SQL_ALIASDOM, NULL, 0, add_row, m, err) < 0 ? LK_TEMP
                                                                     : 0;
}

static int chain_row(void *ctx, unsigned ncols, char **v,
                     const unsigned long *lens)
{
    char *next = ctx;

    (void)lens;
    if (ncols == 1 && v[0] && strlen(v[0]) <= ADDR_DOMAIN_MAX)
        strcpy(next, v[0]);
    return 0;
}

int aliasdom_load_domain(struct aliasdom *m, struct db *db,
                         const char *domain, struct str *err)
{
    char cur[ADDR_DOMAIN_MAX + 1], next[ADDR_DOMAIN_MAX + 1];

    if (strlen(domain) > ADDR_DOMAIN_MAX)
        return 0;
    strcpy(cur, domain);
    for (int hop = 0; hop < ADDR_ALIAS_DOMAIN_DEPTH; hop++) {
        struct db_param p = DBP_S(cur);

        next[0] = '\0';
        if (db_query(db, "SELECT alias_target FROM domains WHERE name = ? "
                     "AND active = 1 AND kind = 'alias' AND alias_target "
                     "IS NOT NULL", &p, 1, chain_row,
                     next, err) < 0)
            return LK_TEMP;
        if (next[0] == '\0' || aliasdom_target(m, cur))
            return 0;
        aliasdom_add(m, cur, next);
        strcpy(cur, next);
    }
    return 0;
}

void aliasdom_free(struct aliasdom *m)
{
    strmap_free(&m->map);
    arena_free(&m->arena);
}

const char *aliasdom_target(void *ctx, const char *domain)
{
    const struct aliasdom *m = ctx;

    return m ? strmap_get(&m->map, domain) : NULL;
}
