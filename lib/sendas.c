/*
 * sendas - may a SASL login use a sender address.  See sendas.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "mem.h"
#include "sendas.h"

int sendas_owns(const struct sendas_backend *be, const char *login,
                const struct addr *sender, struct str *err)
{
    char lo[ADDR_MAX + 1];
    size_t n = strlen(login);
    int rc;

    if (n == 0 || n > ADDR_MAX || !sender->has_domain)
        return LK_NOTFOUND;
    memcpy(lo, login, n + 1);
    str_lower(lo, n);
    if (!strcmp(lo, sender->full))                            /* rule 1 */
        return LK_FOUND;
    if ((rc = be->grant(be->ctx, lo, "address", sender->full, err)) != 0)
        return rc;                                            /* rule 2 */
    if ((rc = be->grant(be->ctx, lo, "domain", sender->domain, err)) != 0)
        return rc;
    if (be->alias_owner == NULL)                              /* rule 3 */
        return LK_NOTFOUND;
    return be->alias_owner(be->ctx, sender->full, lo, err);
}

/* --- the SQL backend ------------------------------------------------------ */

static int db_grant(void *ctx, const char *login, const char *type,
                    const char *pattern, struct str *err)
{
    static const char sql[] =
        "SELECT 1 FROM sender_grants WHERE login = ? AND match_type = ?"
        " AND pattern = ? AND active = 1 LIMIT 1";
    struct db_param p[] = {DBP_S(login), DBP_S(type), DBP_S(pattern)};

    return db_query(ctx, sql, p, 3, db_row_exists, NULL, err);
}

struct owner_rows {
    size_t n;
    int is_login; /* the (first) target is the login's active mailbox */
    const char *login;
};

static int owner_row(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    struct owner_rows *o = ctx;

    (void)lens;
    if (o->n++ == 0)
        o->is_login = ncols == 2 && vals[0] && vals[1] &&
                      !strcasecmp(vals[0], o->login) && !strcmp(vals[1], "1");
    return 0;
}

static int db_alias_owner(void *ctx, const char *address, const char *login,
                          struct str *err)
{
    static const char sql[] =
        "SELECT a.target, EXISTS (SELECT 1 FROM mailboxes m"
        " WHERE m.address = a.target AND m.active = 1)"
        " FROM aliases a WHERE a.source = ? AND a.active = 1 LIMIT 2";
    struct db_param p[] = {DBP_S(address)};
    struct owner_rows o = {0, 0, login};
    int rc = db_query(ctx, sql, p, 1, owner_row, &o, err);

    if (rc < 0)
        return rc;
    return o.n == 1 && o.is_login ? LK_FOUND : LK_NOTFOUND;
}

struct sendas_backend sendas_backend_db(struct db *db)
{
    return (struct sendas_backend){db_grant, db_alias_owner, db};
}

/* --- canonical form with alias domains from SQL --------------------------- */

struct alias_ask {
    struct db *db;
    struct str *err;
    int failed;          /* the database did not answer */
    int steps;           /* alias domains followed */
    char target[ADDR_ALIAS_DOMAIN_DEPTH + 2][ADDR_DOMAIN_MAX + 1];
};

static int target_row(void *ctx, unsigned ncols, char **vals,
                      const unsigned long *lens)
{
    char *out = ctx;

    (void)lens;
    if (ncols == 1 && vals[0] &&
        str_copy_bounded(out, ADDR_DOMAIN_MAX + 1, vals[0],
                         strlen(vals[0])) == 0)
        str_lower(out, strlen(out));
    return 1;
}

static const char *alias_target(void *ctx, const char *domain)
{
    static const char sql[] =
        "SELECT alias_target FROM domains WHERE name = ? AND kind = 'alias'"
        " AND active = 1 AND alias_target IS NOT NULL";
    struct alias_ask *a = ctx;
    struct db_param p[] = {DBP_S(domain)};
    char *out;
    int rc;

    if (a->failed || a->steps > ADDR_ALIAS_DOMAIN_DEPTH)
        return NULL;
    out = a->target[a->steps];
    out[0] = '\0';
    rc = db_query(a->db, sql, p, 1, target_row, out, a->err);
    if (rc < 0) {
        a->failed = 1;
        return NULL;
    }
    if (rc == LK_NOTFOUND || out[0] == '\0')
        return NULL;
    a->steps++;
    return out;
}

int sendas_canonical_db(struct db *db, const char *in, size_t len,
                        const char *delims, struct addr *a, const char **why,
                        struct str *err)
{
    struct alias_ask *ask = xcalloc(1, sizeof(*ask));
    int rc;

    ask->db = db;
    ask->err = err;
    rc = addr_canonical(in, len, delims, ADDR_NEED_DOMAIN, alias_target, ask,
                        a, why);
    if (ask->failed) {
        rc = LK_TEMP;
    } else if (rc < 0 && ask->steps > 0) {
        str_appendf(err, "alias domain chain longer than %d steps",
                    ADDR_ALIAS_DOMAIN_DEPTH);
        rc = LK_TEMP;
    } else {
        rc = rc < 0 ? LK_NOTFOUND : LK_FOUND;
    }
    free(ask);
    return rc;
}
