/*
 * routing.c - domains, syntax checks and the alias graph for the routing
 * commands (routing.h).
 *
 * The alias walk reads the tables with one query per address visited: an
 * address with active alias rows goes on to their targets (plus the
 * targets being added, when it is the new source); a mailbox ends the
 * path; an address of an alias domain goes on as the same local part in
 * the target domain; any other address of a hosted domain with a
 * catch-all goes on to the catch-all "@domain", whose targets follow.  A
 * path that comes back to an address on it is a loop.
 *
 * Diagnostics: database failures are printed under `what` (admin_dbfail).
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "routing.h"

#define RT_DEPTH_MAX 64  /* path length followed; deeper: Postfix's own limit */
#define RT_CHILD_MAX 256 /* targets read per address */

int rt_domain(struct db *db, const char *what, const char *name,
              struct rt_domain *d, int missing_status)
{
    char row[64], near[ADDR_DOMAIN_MAX + 1];
    struct db_param p = DBP_S(name);
    int rc;
    memset(d, 0, sizeof(*d));
    rc = admin_value(db, what,
                     "SELECT CONCAT(kind, ' ', active) FROM domains WHERE name = ?",
                     &p, 1, row, sizeof(row));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND) {
        char *sp = strchr(row, ' ');
        if (sp) {
            *sp = 0;
            d->active = atoi(sp + 1);
        }
        str_copy_bounded(d->kind, sizeof(d->kind), row, strlen(row));
        if (admin_value(db, what,
                        "SELECT alias_target FROM domains WHERE name = ?", &p,
                        1, d->target, sizeof(d->target)) < 0)
            return ADMIN_EX_TEMPFAIL;
        return ADMIN_EX_OK;
    }
    rc = admin_suggest(db, "domains", "name", name, near, sizeof(near));
    if (rc < 0)
        return admin_error(ADMIN_EX_TEMPFAIL, what,
                           "database unavailable (nothing was changed; try "
                           "again)");
    if (rc == LK_FOUND)
        return admin_error(missing_status, what,
                           "no domain %s; did you mean %s?", name, near);
    return admin_error(missing_status, what,
                       "no domain %s (postern domain list shows them; "
                       "postern domain add %s creates it)", name, name);
}

static int rt_transport_ok(const char *v)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v || !((*v >= 'a' && *v <= 'z') ||
                                  (*v >= '0' && *v <= '9')))
        return 0;
    for (const char *p = v; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return 0;
    return strlen(v) <= 255;
}

int rt_check_transport(const char *what, const char *key, const char *v)
{
    if (rt_transport_ok(v))
        return ADMIN_EX_OK;
    return admin_error(ADMIN_EX_DATAERR, what,
                       "%s '%s' is not a Postfix transport:nexthop "
                       "(e.g. postern-lda:, relay:[mx.example.org]:25, "
                       "lmtp:unix:private/dovecot-lmtp; lower-case service "
                       "name, no spaces)", key, v);
}

static int rt_relayhost_ok(const char *v)
{
    const char *p = v, *end;
    if (strlen(v) > 255 || !*v)
        return 0;
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end || end == p + 1)
            return 0;
        for (p++; p < end; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '.' || *p == ':' || *p == '-'))
                return 0;
        p = end + 1;
    } else {
        for (; *p && *p != ':'; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  *p == '.' || *p == '-'))
                return 0;
        if (p == v)
            return 0;
    }
    if (!*p)
        return 1;
    if (*p++ != ':')
        return 0;
    end = p;
    while (*end >= '0' && *end <= '9')
        end++;
    return *end == 0 && end > p && end - p <= 5;
}

int rt_check_relayhost(const char *what, const char *key, const char *v)
{
    if (rt_relayhost_ok(v))
        return ADMIN_EX_OK;
    return admin_error(ADMIN_EX_DATAERR, what,
                       "%s '%s' is not a relay host: write [host]:port (no MX "
                       "lookup) or host:port, lower-case, as in Postfix's "
                       "relayhost", key, v);
}

int rt_list(struct admin *a, const char *what, int argc,
            const char *const *cols, const char *sql)
{
    if (argc)
        return admin_error(ADMIN_EX_USAGE, what, "usage: postern %s list",
                           what);
    return admin_list(a, cols, sql, NULL, 0);
}

const char *rt_null(const char *v)
{
    if (!v || !*v || strcmp(v, "null") == 0 || strcmp(v, "NULL") == 0)
        return NULL;
    return v;
}

int rt_exists(struct db *db, const char *what, const char *sql,
              const char *param)
{
    char buf[8];
    struct db_param p = DBP_S(param);
    return admin_value(db, what, sql, &p, 1, buf, sizeof(buf));
}

int rt_tx_exec(struct db *db, const char *sql, const struct db_param *p,
               size_t np, unsigned long long *rows, struct str *err)
{
    unsigned long long n = 0;
    if (db_exec(db, sql, p, np, &n, err) < 0)
        return -1;
    if (rows)
        *rows += n;
    return 0;
}

static int rt_stmt_tx(struct admin *a, struct db *db, void *ctx,
                      int *status, struct str *err)
{
    struct rt_stmt *t = ctx;
    (void)a;
    (void)status;
    t->rows = 0;
    return rt_tx_exec(db, t->sql, t->p, t->np, &t->rows, err);
}

int rt_stmt_run(struct admin *a, struct rt_stmt *t, const char *what,
                const char *action, const char *key)
{
    int rc = admin_transaction(a, rt_stmt_tx, t);
    if (rc == ADMIN_EX_OK)
        admin_done(a, what, action, key, t->rows);
    return rc;
}

const char *rt_done(const char *verb)
{
    return !strcmp(verb, "remove") ? "removed"
           : !strcmp(verb, "enable") ? "enabled"
                                     : "disabled";
}

/* --- the alias walk --- */

struct walk {
    struct db *db;
    const char *what;
    const char *source;
    const char *const *targets;
    unsigned ntargets;
    char *path[RT_DEPTH_MAX];
    unsigned depth;
    char **done; /* addresses fully explored without a loop */
    unsigned ndone;
    unsigned visits;
    struct str *cycle;
};

struct kids {
    char *v[RT_CHILD_MAX];
    unsigned n;
};

static void kids_add(struct kids *k, const char *s)
{
    for (unsigned i = 0; i < k->n; i++)
        if (strcmp(k->v[i], s) == 0)
            return;
    if (k->n < RT_CHILD_MAX)
        k->v[k->n++] = xstrdup(s);
}

static int kids_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    (void)n;
    (void)l;
    if (v[0]) {
        char *low = xstrdup(v[0]);
        str_lower(low, strlen(low));
        kids_add(ctx, low);
        free(low);
    }
    return 0;
}

static void kids_free(struct kids *k)
{
    for (unsigned i = 0; i < k->n; i++)
        free(k->v[i]);
    k->n = 0;
}

/* the targets of source node (alias rows plus the ones being added) */
static int walk_alias_rows(struct walk *w, const char *node, struct kids *k)
{
    struct db_param p = DBP_S(node);
    struct str err = {0};
    int rc = db_query(w->db,
                      "SELECT target FROM aliases WHERE source = ? AND active = 1",
                      &p, 1, kids_row, k, &err);
    if (rc < 0) {
        admin_dbfail(w->what, &err);
        str_free(&err);
        return LK_TEMP;
    }
    if (strcmp(node, w->source) == 0)
        for (unsigned i = 0; i < w->ntargets; i++)
            kids_add(k, w->targets[i]);
    return LK_FOUND;
}

/* where node goes next: LK_FOUND with children in *k (none: path ends) */
static int walk_children(struct walk *w, const char *node, struct kids *k)
{
    const char *at = strrchr(node, '@');
    char row[ADDR_DOMAIN_MAX + 32], catchall[ADDR_DOMAIN_MAX + 2];
    struct db_param p;
    int rc;
    if (walk_alias_rows(w, node, k) < 0)
        return LK_TEMP;
    if (k->n || node[0] == '@' || !at)
        return LK_FOUND;
    rc = rt_exists(w->db, w->what,
                   "SELECT 1 FROM mailboxes WHERE address = ? AND active = 1",
                   node);
    if (rc != LK_NOTFOUND)
        return rc < 0 ? LK_TEMP : LK_FOUND; /* a mailbox ends the path */
    p = DBP_S(at + 1);
    rc = admin_value(w->db, w->what,
                     "SELECT CONCAT(kind, ' ', IFNULL(alias_target, '')) "
                     "FROM domains WHERE name = ? AND active = 1",
                     &p, 1, row, sizeof(row));
    if (rc < 0)
        return LK_TEMP;
    if (rc == LK_NOTFOUND)
        return LK_FOUND; /* not hosted: leaves postern */
    if (strncmp(row, "alias ", 6) == 0) {
        struct str next = {0};
        str_append(&next, node, (size_t)(at - node) + 1);
        str_append_cstr(&next, row + 6);
        kids_add(k, str_cstr(&next));
        str_free(&next);
        return LK_FOUND;
    }
    snprintf(catchall, sizeof(catchall), "@%s", at + 1);
    if (strcmp(catchall, w->source) == 0)
        rc = LK_FOUND;
    else
        rc = rt_exists(w->db, w->what,
                       "SELECT 1 FROM aliases WHERE source = ? AND active = 1",
                       catchall);
    if (rc < 0)
        return LK_TEMP;
    if (rc == LK_FOUND)
        kids_add(k, catchall);
    return LK_FOUND;
}

static int walk_done(const struct walk *w, const char *node)
{
    for (unsigned i = 0; i < w->ndone; i++)
        if (strcmp(w->done[i], node) == 0)
            return 1;
    return 0;
}

static int walk(struct walk *w, const char *node)
{
    struct kids k = {.n = 0};
    int rc = LK_NOTFOUND;
    for (unsigned i = 0; i < w->depth; i++) {
        if (strcmp(w->path[i], node) == 0) {
            for (unsigned j = i; j < w->depth; j++)
                str_appendf(w->cycle, "%s -> ", w->path[j]);
            str_append_cstr(w->cycle, node);
            return LK_FOUND;
        }
    }
    if (walk_done(w, node))
        return LK_NOTFOUND;
    if (w->depth >= RT_DEPTH_MAX || ++w->visits > RT_WALK_MAX) {
        admin_error(ADMIN_EX_DATAERR, w->what,
                    "note: the alias chain from %s is longer than %d "
                    "addresses; not checked further for loops", w->source,
                    w->depth >= RT_DEPTH_MAX ? RT_DEPTH_MAX : RT_WALK_MAX);
        return LK_LIMIT;
    }
    if (walk_children(w, node, &k) < 0)
        return LK_TEMP;
    w->path[w->depth++] = xstrdup(node);
    for (unsigned i = 0; i < k.n && rc == LK_NOTFOUND; i++)
        rc = walk(w, k.v[i]);
    free(w->path[--w->depth]);
    kids_free(&k);
    if (rc == LK_NOTFOUND) {
        w->done = xrealloc(w->done, (w->ndone + 1) * sizeof(*w->done));
        w->done[w->ndone++] = xstrdup(node);
    }
    return rc;
}

int rt_alias_cycle(struct db *db, const char *what, const char *source,
                   const char *const *targets, unsigned n, struct str *cycle)
{
    struct walk w = {.db = db, .what = what, .source = source,
                     .targets = targets, .ntargets = n, .cycle = cycle};
    int rc = walk(&w, source);
    for (unsigned i = 0; i < w.ndone; i++)
        free(w.done[i]);
    free(w.done);
    if (rc == LK_LIMIT)
        return LK_NOTFOUND;
    return rc;
}

int rt_parse_pattern(const char *what, const char *in, const char **type,
                     char *pattern)
{
    int rc;
    if (!strcmp(in, "default")) {
        *type = "default";
        pattern[0] = 0;
        return ADMIN_EX_OK;
    }
    if (strchr(in, '@')) {
        struct addr a;
        if ((rc = admin_parse_address(what, in, &a)))
            return rc;
        *type = "address";
        snprintf(pattern, RT_NAME_MAX + 1, "%s", a.full);
        return ADMIN_EX_OK;
    }
    *type = "domain";
    if (in[0] == '.') {
        pattern[0] = '.';
        return admin_parse_domain(what, in + 1, pattern + 1);
    }
    return admin_parse_domain(what, in, pattern);
}

int rt_no_mailbox(struct db *db, const char *what, const struct addr *ad)
{
    struct rt_domain d;
    char near[ADDR_MAX + 1];
    int rc;

    if ((rc = rt_domain(db, what, ad->domain, &d, ADMIN_EX_NOINPUT)))
        return rc;
    if (admin_suggest(db, "mailboxes", "address", ad->full, near,
                      sizeof(near)) == LK_FOUND)
        return admin_error(ADMIN_EX_NOINPUT, what,
                           "no mailbox %s; did you mean %s?", ad->full, near);
    return admin_error(ADMIN_EX_NOINPUT, what, "no mailbox %s%s", ad->full,
                       strcmp(d.kind, "alias") ? ""
                                               : " (its domain is an alias "
                                                 "domain: mailboxes live in "
                                                 "the target domain)");
}
