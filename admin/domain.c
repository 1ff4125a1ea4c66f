/*
 * domain.c - postern domain: the domains table.
 *
 *   postern domain list
 *   postern domain show NAME
 *   postern domain add NAME [kind=local|alias|relay|legacy] [KEY=VALUE...] [--force]
 *   postern domain set NAME KEY=VALUE...
 *   postern domain disable|enable NAME
 *   postern domain remove NAME
 *
 * KEYs: kind, alias_target, transport, legacy_transport, relayhost,
 * default_quota (a size: 2G, 500M, 0 = unlimited), dkim_selector,
 * dkim_fallback (the domain whose DKIM keys sign this one's mail when it
 * has none; docs/milter.md), dmarc_action (reject, quarantine or record:
 * inbound mail to this domain failing DMARC; docs/milter.md), description.  A value "" or "null" clears a column.  alias_target
 * without kind means kind=alias.
 *
 * Before SQL is touched: the name's syntax; on add, that its top-level
 * label is a public suffix (libpsl; --force adds a .lan or a typo anyway)
 * and that it is not a public suffix itself; the rules the CHECK
 * constraints enforce, explained (an alias domain has no routes of its
 * own and mirrors an existing local domain; a relay domain needs a
 * transport); an alias domain with mailboxes or aliases of its own is
 * refused; remove refuses a domain rows still depend on and names them.
 *
 * Exit: 0; 64 usage; 65 refused; 66 no such domain; 73 exists; 75 database.
 */
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mem.h"
#include "routing.h"

#define WHAT "domain"

enum { D_KIND, D_TARGET, D_TRANSPORT, D_LEGACY, D_RELAYHOST, D_QUOTA,
       D_DKIM, D_FALLBACK, D_DMARC, D_DESC, D_NF };

static const char *const dom_keys[] = {
    "kind", "alias_target", "transport", "legacy_transport", "relayhost",
    "default_quota", "dkim_selector", "dkim_fallback", "dmarc_action",
    "description", NULL};

struct dom {
    char name[ADDR_DOMAIN_MAX + 1];
    char *v[D_NF]; /* owned; NULL = SQL NULL */
};

static void dom_free(struct dom *d)
{
    for (int i = 0; i < D_NF; i++) {
        free(d->v[i]);
        d->v[i] = NULL;
    }
}

static void dom_put(struct dom *d, int i, const char *v)
{
    free(d->v[i]);
    d->v[i] = v ? xstrdup(v) : NULL;
}

static int dom_load_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct dom *d = ctx;
    (void)l;
    for (unsigned i = 0; i < n && i < D_NF; i++)
        dom_put(d, (int)i, v[i]);
    return 1;
}

/* the row of d->name into d->v: LK_FOUND / LK_NOTFOUND / LK_TEMP */
static int dom_load(struct db *db, struct dom *d)
{
    struct db_param p = DBP_S(d->name);
    struct str err = {0};
    int rc = db_query(db,
                      "SELECT kind, alias_target, transport, legacy_transport, "
                      "relayhost, default_quota_bytes, dkim_selector, "
                      "dkim_fallback, dmarc_action, "
                      "description FROM domains WHERE name = ?",
                      &p, 1, dom_load_row, d, &err);
    if (rc < 0)
        admin_dbfail(WHAT, &err);
    str_free(&err);
    return rc;
}

static int dom_psl(const char *name)
{
    psl_ctx_t *psl = psl_latest(NULL);
    const char *tld = strrchr(name, '.') + 1;
    int type = PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE, rc = ADMIN_EX_OK;
    if (!psl)
        return admin_error(ADMIN_EX_UNAVAILABLE, WHAT,
                           "cannot read the public suffix list (package "
                           "publicsuffix); --force adds %s unchecked", name);
    if (!psl_is_public_suffix2(psl, tld, type))
        rc = admin_error(ADMIN_EX_DATAERR, WHAT,
                         "%s: '.%s' is not a top-level domain of the public "
                         "suffix list (a typo? an internal name?), so mail "
                         "from the Internet cannot reach it; --force adds it "
                         "anyway", name, tld);
    else if (psl_is_public_suffix2(psl, name, type))
        rc = admin_error(ADMIN_EX_DATAERR, WHAT,
                         "%s is itself a public suffix (a registry's zone "
                         "such as co.uk), not a domain one hosts; --force "
                         "adds it anyway", name);
    psl_free(psl);
    return rc;
}

static int dom_check_selector(const char *v)
{
    int label = 0;
    for (const char *p = v; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            label++;
        else if ((*p == '-' && label && p[1] && p[1] != '.') ||
                 (*p == '.' && label && p[1]))
            label = *p == '.' ? 0 : label + 1;
        else
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "dkim_selector '%s': lower-case letters, "
                               "digits and inner hyphens in dot-separated "
                               "labels", v);
    }
    if (!*v)
        return admin_error(ADMIN_EX_DATAERR, WHAT, "dkim_selector is empty");
    return ADMIN_EX_OK;
}

/* apply the KEY=VALUE settings to d (validating their own syntax) */
static int dom_apply(struct dom *d, const struct admin_kv *kv)
{
    for (unsigned i = 0; i < kv->n; i++) {
        int f = 0;
        const char *v = rt_null(kv->val[i]);
        char buf[32];
        while (strcmp(dom_keys[f], kv->key[i]) != 0)
            f++;
        if (f == D_KIND && !v)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "kind cannot be empty (local, alias, relay "
                               "or legacy)");
        if (v && (f == D_TARGET || f == D_FALLBACK)) {
            char dom[ADDR_DOMAIN_MAX + 1];
            int rc = admin_parse_domain(WHAT, v, dom);
            if (rc)
                return rc;
            dom_put(d, f, dom);
            continue;
        }
        if (v && f == D_QUOTA) {
            unsigned long long q;
            if (admin_parse_size(v, &q) < 0)
                return admin_error(ADMIN_EX_DATAERR, WHAT,
                                   "default_quota '%s' is not a size (e.g. "
                                   "2G, 500M, 0 = unlimited)", v);
            snprintf(buf, sizeof(buf), "%llu", q);
            v = buf;
        }
        if (v && (f == D_TRANSPORT || f == D_LEGACY) &&
            rt_check_transport(WHAT, dom_keys[f], v))
            return ADMIN_EX_DATAERR;
        if (v && f == D_RELAYHOST &&
            rt_check_relayhost(WHAT, dom_keys[f], v))
            return ADMIN_EX_DATAERR;
        if (v && f == D_DKIM && dom_check_selector(v))
            return ADMIN_EX_DATAERR;
        if (v && f == D_DMARC && strcmp(v, "reject") &&
            strcmp(v, "quarantine") && strcmp(v, "record"))
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "dmarc_action '%s' is not reject, quarantine "
                               "or record (empty = [milter] dmarc_action)",
                               v);
        if (v && f == D_DESC && strlen(v) > 255)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "description longer than 255 characters");
        dom_put(d, f, v);
    }
    return ADMIN_EX_OK;
}

/* the rules between columns (the CHECK constraints, explained) */
static int dom_validate(struct db *db, const struct dom *d)
{
    const char *kind = d->v[D_KIND];
    struct rt_domain t;
    int rc;
    if (strcmp(kind, "local") && strcmp(kind, "alias") &&
        strcmp(kind, "relay") && strcmp(kind, "legacy"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "kind '%s' is not local, alias, relay or legacy",
                           kind);
    if (d->v[D_FALLBACK] && !strcmp(d->v[D_FALLBACK], d->name))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "dkim_fallback of %s cannot be %s itself",
                           d->name, d->name);
    /* its keys are dkim_keys rows, which name one of our domains */
    if (d->v[D_FALLBACK] &&
        (rc = rt_domain(db, WHAT, d->v[D_FALLBACK], &t, ADMIN_EX_DATAERR)))
        return rc;
    if (strcmp(kind, "alias") != 0) {
        if (d->v[D_TARGET])
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "alias_target is for kind=alias only (%s is "
                               "kind=%s)", d->name, kind);
        if (!strcmp(kind, "relay") && !d->v[D_TRANSPORT])
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "a relay domain needs transport=... (where "
                               "its mail goes, e.g. relay:[mx.%s]:25)",
                               d->name);
        return ADMIN_EX_OK;
    }
    if (!d->v[D_TARGET])
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "an alias domain needs alias_target=DOMAIN (the "
                           "local domain whose addresses it mirrors)");
    if (!strcmp(d->v[D_TARGET], d->name))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s cannot be an alias of itself", d->name);
    if (d->v[D_TRANSPORT] || d->v[D_LEGACY] || d->v[D_QUOTA])
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "an alias domain has no transport, "
                           "legacy_transport or default_quota of its own: "
                           "its mail is routed as %s's", d->v[D_TARGET]);
    rc = rt_domain(db, WHAT, d->v[D_TARGET], &t, ADMIN_EX_DATAERR);
    if (rc)
        return rc;
    if (!strcmp(t.kind, "alias"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "alias_target %s is itself an alias domain (of "
                           "%s); point %s at %s", d->v[D_TARGET], t.target,
                           d->name, t.target);
    return ADMIN_EX_OK;
}

struct dom_tx {
    struct dom *d;
    int insert;
    unsigned long long rows;
};

static int dom_write(struct admin *a, struct db *db, void *vctx, int *status,
                     struct str *err)
{
    struct dom_tx *t = vctx;
    struct db_param p[D_NF + 1];
    (void)a;
    (void)status;
    t->rows = 0;
    for (int i = 0; i < D_NF; i++)
        p[i + (t->insert ? 1 : 0)] =
            t->d->v[i] ? DBP_S(t->d->v[i]) : DBP_NUL;
    p[t->insert ? 0 : D_NF] = DBP_S(t->d->name);
    if (t->insert)
        return rt_tx_exec(db,
                          "INSERT INTO domains (name, kind, alias_target, "
                          "transport, legacy_transport, relayhost, "
                          "default_quota_bytes, dkim_selector, dkim_fallback, "
                          "dmarc_action, description) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          p, D_NF + 1, &t->rows, err);
    return rt_tx_exec(db,
                      "UPDATE domains SET kind = ?, alias_target = ?, "
                      "transport = ?, legacy_transport = ?, relayhost = ?, "
                      "default_quota_bytes = ?, dkim_selector = ?, "
                      "dkim_fallback = ?, dmarc_action = ?, "
                      "description = ? WHERE name = ?",
                      p, D_NF + 1, &t->rows, err);
}

/* an alias domain mirrors its target: rows of its own would never be used */
static int dom_check_empty_alias(struct db *db, const struct dom *d)
{
    char n[32];
    struct db_param p[2] = {DBP_S(d->name), DBP_S(d->name)};
    if (strcmp(d->v[D_KIND], "alias") != 0)
        return ADMIN_EX_OK;
    if (admin_value(db, WHAT,
                    "SELECT (SELECT COUNT(*) FROM mailboxes WHERE domain = ?) + "
                    "(SELECT COUNT(*) FROM aliases WHERE domain = ?)",
                    p, 2, n, sizeof(n)) < 0)
        return ADMIN_EX_TEMPFAIL;
    if (atoll(n) > 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s has %s mailboxes and aliases of its own; an "
                           "alias domain has none (they would never be "
                           "used): move or remove them first", d->name, n);
    return ADMIN_EX_OK;
}

static int dom_add(struct admin *a, int argc, char **argv)
{
    int force = a->flag; /* --force */
    struct dom d = {.v = {0}};
    struct admin_kv kv;
    struct dom_tx t = {&d, 1, 0};
    struct db *db;
    int rc;
    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern domain add NAME [kind=...] "
                           "[KEY=VALUE...] [--force]");
    if ((rc = admin_parse_domain(WHAT, argv[0], d.name)) ||
        (rc = admin_kv_parse(&kv, argc - 1, argv + 1, dom_keys, WHAT)))
        return rc;
    dom_put(&d, D_KIND, admin_kv_get(&kv, "alias_target") ? "alias" : "local");
    if ((rc = dom_apply(&d, &kv)) || (!force && (rc = dom_psl(d.name))))
        goto out;
    if (!(db = admin_db(a))) {
        rc = ADMIN_EX_TEMPFAIL;
        goto out;
    }
    rc = rt_exists(db, WHAT, "SELECT 1 FROM domains WHERE name = ?", d.name);
    if (rc == LK_FOUND) {
        rc = admin_error(ADMIN_EX_CANTCREAT, WHAT, "%s exists already "
                         "(postern domain show %s)", d.name, d.name);
        goto out;
    }
    if (rc < 0 || (rc = dom_validate(db, &d)))
        goto out_rc;
    if ((rc = admin_transaction(a, dom_write, &t)) == ADMIN_EX_OK)
        admin_done(a, WHAT, "added", d.name, t.rows);
    goto out;
out_rc:
    if (rc < 0)
        rc = ADMIN_EX_TEMPFAIL;
out:
    dom_free(&d);
    return rc;
}

/* d->name exists and is loaded into d, or the status to return */
static int dom_get(struct admin *a, const char *arg, struct dom *d,
                   struct db **dbp)
{
    struct rt_domain rd;
    int rc;
    if ((rc = admin_parse_domain(WHAT, arg, d->name)))
        return rc;
    if (!(*dbp = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = rt_domain(*dbp, WHAT, d->name, &rd, ADMIN_EX_NOINPUT)))
        return rc;
    rc = dom_load(*dbp, d);
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    return rc == LK_FOUND ? ADMIN_EX_OK : ADMIN_EX_NOINPUT;
}

static int dom_set(struct admin *a, int argc, char **argv)
{
    struct dom d = {.v = {0}};
    struct admin_kv kv;
    struct dom_tx t = {&d, 0, 0};
    struct db *db;
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern domain set NAME KEY=VALUE...");
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, dom_keys, WHAT)) ||
        (rc = dom_get(a, argv[0], &d, &db)))
        goto out;
    if (admin_kv_get(&kv, "alias_target") && !admin_kv_get(&kv, "kind") &&
        rt_null(admin_kv_get(&kv, "alias_target")))
        dom_put(&d, D_KIND, "alias");
    if ((rc = dom_apply(&d, &kv)) || (rc = dom_validate(db, &d)) ||
        (rc = dom_check_empty_alias(db, &d)))
        goto out;
    if ((rc = admin_transaction(a, dom_write, &t)) == ADMIN_EX_OK)
        admin_done(a, WHAT, "changed", d.name, t.rows);
out:
    dom_free(&d);
    return rc;
}

static int dom_active(struct admin *a, int argc, char **argv)
{
    int on = a->verb[0] == 'e';
    struct dom d = {.v = {0}};
    struct rt_stmt s;
    struct db *db;
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT, "usage: postern domain %s "
                           "NAME", on ? "enable" : "disable");
    if ((rc = dom_get(a, argv[0], &d, &db)))
        goto out;
    s = (struct rt_stmt){on ? "UPDATE domains SET active = 1 WHERE name = ?"
                            : "UPDATE domains SET active = 0 WHERE name = ?",
                         {DBP_S(d.name)}, 1, 0};
    rc = rt_stmt_run(a, &s, WHAT, on ? "enabled" : "disabled", d.name);
out:
    dom_free(&d);
    return rc;
}

static int dom_remove(struct admin *a, int argc, char **argv)
{
    struct dom d = {.v = {0}};
    struct rt_stmt s;
    struct db *db;
    char what[512];
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern domain remove NAME");
    if ((rc = dom_get(a, argv[0], &d, &db)))
        goto out;
    {
        struct db_param p[6] = {DBP_S(d.name), DBP_S(d.name), DBP_S(d.name),
                                DBP_S(d.name), DBP_S(d.name), DBP_S(d.name)};
        if (admin_value(db, WHAT,
                        "SELECT CONCAT_WS(', ', "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM mailboxes WHERE domain = ?), ' mailboxes'), '0 mailboxes'), "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM aliases WHERE domain = ?), ' aliases'), '0 aliases'), "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM domains WHERE alias_target = ?), ' alias domains'), '0 alias domains'), "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM dkim_keys WHERE domain = ?), ' DKIM keys'), '0 DKIM keys'), "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM greylist_settings WHERE domain = ?), ' greylist settings'), '0 greylist settings'), "
                        "NULLIF(CONCAT((SELECT COUNT(*) FROM directory_groups WHERE domain = ?), ' directory groups'), '0 directory groups'))",
                        p, 6, what, sizeof(what)) < 0) {
            rc = ADMIN_EX_TEMPFAIL;
            goto out;
        }
    }
    if (what[0]) {
        rc = admin_error(ADMIN_EX_DATAERR, WHAT,
                         "%s still has %s: remove them first (postern "
                         "mailbox list %s, postern alias list %s), or "
                         "postern domain disable %s keeps everything and "
                         "accepts no mail", d.name, what, d.name, d.name,
                         d.name);
        goto out;
    }
    s = (struct rt_stmt){"DELETE FROM domains WHERE name = ?",
                         {DBP_S(d.name)}, 1, 0};
    rc = rt_stmt_run(a, &s, WHAT, "removed", d.name);
out:
    dom_free(&d);
    return rc;
}

static int dom_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {
        "domain", "kind", "alias_target", "transport", "default_quota_bytes",
        "active", "mailboxes", "aliases", NULL};
    (void)argv;
    return rt_list(a, WHAT, argc, cols,
                   "SELECT d.name, d.kind, d.alias_target, d.transport, "
                   "d.default_quota_bytes, d.active, "
                   "(SELECT COUNT(*) FROM mailboxes m WHERE m.domain = d.name), "
                   "(SELECT COUNT(*) FROM aliases l WHERE l.domain = d.name) "
                   "FROM domains d ORDER BY d.name");
}

static int dom_show(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {
        "domain", "kind", "alias_target", "transport", "legacy_transport",
        "relayhost", "default_quota_bytes", "dkim_selector", "dkim_fallback",
        "dmarc_action", "description", "active", "mailboxes", "aliases", "alias_domains", "created_at",
        "updated_at", NULL};
    char name[ADDR_DOMAIN_MAX + 1];
    struct db_param p;
    struct rt_domain rd;
    struct db *db;
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern domain show NAME");
    if ((rc = admin_parse_domain(WHAT, argv[0], name)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = rt_domain(db, WHAT, name, &rd, ADMIN_EX_NOINPUT)))
        return rc;
    p = DBP_S(name);
    rc = admin_show(a, WHAT, cols,
                    "SELECT d.name, d.kind, d.alias_target, d.transport, "
                    "d.legacy_transport, d.relayhost, d.default_quota_bytes, "
                    "d.dkim_selector, d.dkim_fallback, d.dmarc_action, "
                    "d.description, d.active, "
                    "(SELECT COUNT(*) FROM mailboxes m WHERE m.domain = d.name), "
                    "(SELECT COUNT(*) FROM aliases l WHERE l.domain = d.name), "
                    "(SELECT COUNT(*) FROM domains x WHERE x.alias_target = d.name), "
                    "d.created_at, d.updated_at FROM domains d WHERE d.name = ?",
                    &p, 1);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

const struct admin_verb domain_verbs[] = {
    {"list", dom_list}, {"show", dom_show}, {"add", dom_add},
    {"set", dom_set}, {"disable", dom_active}, {"enable", dom_active},
    {"remove", dom_remove}, {NULL, NULL},
};
