/*
 * alias.c - postern alias: the aliases table (aliases, forwards with or
 * without a copy, catch-alls).
 *
 *   postern alias list [DOMAIN|ADDRESS]
 *   postern alias show SOURCE
 *   postern alias add SOURCE TARGET... [keep_copy=yes|no] [comment=TEXT] [--force]
 *   postern alias set SOURCE [TARGET] KEY=VALUE...     (keep_copy, comment)
 *   postern alias disable|enable SOURCE [TARGET]
 *   postern alias remove SOURCE [TARGET]
 *
 * SOURCE is an address, or @DOMAIN for the domain's catch-all (it never
 * swallows an existing mailbox or alias).  An alias whose SOURCE is a
 * mailbox is a forward: say keep_copy=yes (the mailbox keeps a copy) or
 * keep_copy=no (it receives nothing while the forward is active).
 *
 * Before SQL is touched: the addresses; the source domain (unknown: did
 * you mean; an alias domain: refused, it maps as a whole); an alias that
 * would take a mailbox's mail without saying keep_copy; a target in a
 * hosted domain that names nothing there (did you mean), or in an unknown
 * domain one typo away from a hosted one; an open forwarder: a catch-all
 * sent off-site, or an alias of a relay/legacy domain (mail that is not
 * ours) to an external address (--force allows both); a row that exists
 * (73); a loop through aliases, alias domains and catch-alls, named
 * (also on enable).  Rows of postern-dirsync (owner = ldap) are not
 * changed.
 *
 * Exit: 0; 64 usage; 65 refused; 66 no such alias; 73 exists; 75 database.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mem.h"
#include "routing.h"

#define WHAT "alias"
#define AL_TARGETS_MAX 64

static const char *const al_keys[] = {"keep_copy", "comment", NULL};

struct al_src {
    char source[ADDR_MAX + 2];         /* local@domain or @domain */
    char local[ADDR_LOCAL_MAX + 1];    /* "" for a catch-all */
    char domain[ADDR_DOMAIN_MAX + 1];
    int catchall;
};

/* 1 if arg is KEY=VALUE for one of al_keys (an address may hold '=') */
static int al_is_setting(const char *arg)
{
    for (const char *const *k = al_keys; *k; k++) {
        size_t n = strlen(*k);
        if (!strncmp(arg, *k, n) && arg[n] == '=')
            return 1;
    }
    return 0;
}

static int al_parse_source(const char *in, struct al_src *s)
{
    int rc;
    memset(s, 0, sizeof(*s));
    if (in[0] == '@') {
        if ((rc = admin_parse_domain(WHAT, in + 1, s->domain)))
            return rc;
        s->catchall = 1;
        snprintf(s->source, sizeof(s->source), "@%s", s->domain);
        return ADMIN_EX_OK;
    }
    {
        struct addr a;
        if ((rc = admin_parse_address(WHAT, in, &a)))
            return rc;
        snprintf(s->local, sizeof(s->local), "%s", a.local);
        snprintf(s->domain, sizeof(s->domain), "%s", a.domain);
        snprintf(s->source, sizeof(s->source), "%s", a.full);
    }
    return ADMIN_EX_OK;
}

/* a target: its canonical text into out (ADDR_MAX + 1) */
static int al_parse_target(const char *in, const struct al_src *s, char *out)
{
    struct addr a;
    int rc;
    if ((rc = admin_parse_address(WHAT, in, &a)))
        return rc;
    if (!strcmp(a.full, s->source))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s cannot be an alias of itself", a.full);
    snprintf(out, ADDR_MAX + 1, "%s", a.full);
    return ADMIN_EX_OK;
}

/* 1 if address is a mailbox (any state), 0 if not, -1 database */
static int al_is_mailbox(struct db *db, const char *address)
{
    int rc = rt_exists(db, WHAT, "SELECT 1 FROM mailboxes WHERE address = ?",
                       address);
    return rc < 0 ? -1 : rc == LK_FOUND;
}

/*
 * a target in a hosted domain must name something there; one in an
 * unknown domain that is a typo away from a hosted one is refused
 * (--force: the external address is meant)
 */
static int al_check_target(struct db *db, const char *t, int force)
{
    const char *dom = strrchr(t, '@') + 1;
    char near[ADDR_MAX + 1], row[ADDR_DOMAIN_MAX + 32];
    struct db_param p[5];
    int rc;
    p[0] = DBP_S(dom);
    rc = admin_value(db, WHAT, "SELECT kind FROM domains WHERE name = ?", p, 1,
                     row, sizeof(row));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND) {
        if (force)
            return ADMIN_EX_OK;
        rc = admin_suggest(db, "domains", "name", dom, near, sizeof(near));
        if (rc == LK_FOUND)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "target %s: no domain %s here; did you mean "
                               "%s? (--force if the external address is "
                               "right)", t, dom, near);
        return ADMIN_EX_OK; /* external */
    }
    if (strcmp(row, "local") != 0)
        return ADMIN_EX_OK; /* alias domain (checked by the loop walk),
                               relay, legacy: resolved elsewhere */
    p[0] = DBP_S(t);
    p[1] = DBP_S(t);
    p[2] = DBP_S(t);
    p[3] = DBP_S(dom);
    rc = admin_value(db, WHAT,
                     "SELECT 1 FROM DUAL WHERE "
                     "EXISTS (SELECT 1 FROM mailboxes WHERE address = ?) OR "
                     "EXISTS (SELECT 1 FROM aliases WHERE source = ?) OR "
                     "EXISTS (SELECT 1 FROM directory_groups WHERE address = ?) OR "
                     "EXISTS (SELECT 1 FROM aliases WHERE domain = ? AND local_part IS NULL)",
                     p, 4, row, sizeof(row));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND)
        return ADMIN_EX_OK;
    if (admin_suggest(db, "mailboxes", "address", t, near, sizeof(near)) ==
        LK_FOUND)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "target %s: no mailbox or alias %s; did you mean "
                           "%s?", t, t, near);
    return admin_error(ADMIN_EX_DATAERR, WHAT,
                       "target %s: %s is a local domain and has no mailbox "
                       "or alias %s (mail to it would bounce)", t, dom, t);
}

/* 1 if the target leaves postern (its domain is not hosted), -1 database */
static int al_external(struct db *db, const char *t)
{
    int rc = rt_exists(db, WHAT, "SELECT 1 FROM domains WHERE name = ?",
                       strrchr(t, '@') + 1);
    return rc < 0 ? -1 : rc == LK_NOTFOUND;
}

static int al_check_loop(struct db *db, const struct al_src *s,
                         const char *const *targets, unsigned n)
{
    struct str cycle = {0};
    int rc = rt_alias_cycle(db, WHAT, s->source, targets, n, &cycle);
    if (rc == LK_FOUND)
        rc = admin_error(ADMIN_EX_DATAERR, WHAT,
                         "alias loop: %s (mail would circle until Postfix "
                         "gives up)", str_cstr(&cycle));
    else
        rc = rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
    str_free(&cycle);
    return rc;
}

/* the source's domain: hosted, not an alias domain */
static int al_check_source_domain(struct db *db, const struct al_src *s,
                                  struct rt_domain *d, int missing)
{
    int rc = rt_domain(db, WHAT, s->domain, d, missing);
    if (rc)
        return rc;
    if (!strcmp(d->kind, "alias"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s is an alias domain of %s: its addresses map "
                           "to %s as a whole; add the alias as %s@%s",
                           s->domain, d->target, d->target,
                           s->catchall ? "" : s->local, d->target);
    return ADMIN_EX_OK;
}

struct al_add {
    const struct al_src *s;
    char (*t)[ADDR_MAX + 1];
    unsigned n;
    int keep_copy;
    const char *comment;
    unsigned long long rows;
};

static int al_add_tx(struct admin *a, struct db *db, void *vctx, int *status,
                     struct str *err)
{
    struct al_add *x = vctx;
    (void)a;
    (void)status;
    x->rows = 0;
    for (unsigned i = 0; i < x->n; i++) {
        struct db_param p[5] = {
            DBP_S(x->s->domain),
            x->s->catchall ? DBP_NUL : DBP_S(x->s->local),
            DBP_S(x->t[i]), DBP_I(x->keep_copy),
            x->comment ? DBP_S(x->comment) : DBP_NUL};
        if (rt_tx_exec(db,
                       "INSERT INTO aliases (domain, local_part, target, "
                       "keep_copy, comment) VALUES (?, ?, ?, ?, ?)",
                       p, 5, &x->rows, err) < 0)
            return -1;
    }
    return 0;
}

/* the policy checks of an add: forwards of mailboxes, open forwarders */
static int al_check_policy(struct db *db, const struct al_src *s,
                           const struct rt_domain *d, const char *kc,
                           char (*t)[ADDR_MAX + 1], unsigned n, int force)
{
    int mbox, ext;
    if (s->catchall) {
        if (kc && admin_parse_bool(kc) == 1)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "a catch-all keeps no copy: there is no "
                               "mailbox %s", s->source);
    } else {
        if ((mbox = al_is_mailbox(db, s->source)) < 0)
            return ADMIN_EX_TEMPFAIL;
        if (mbox && !kc)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "%s is a mailbox: this alias would take its "
                               "mail away; to forward it say keep_copy=yes "
                               "(the mailbox keeps a copy) or keep_copy=no "
                               "(it receives nothing)", s->source);
        if (!mbox && kc && admin_parse_bool(kc) == 1)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "keep_copy=yes keeps a copy in the mailbox "
                               "%s, but there is no such mailbox",
                               s->source);
    }
    for (unsigned i = 0; i < n && !force; i++) {
        if ((ext = al_external(db, t[i])) < 0)
            return ADMIN_EX_TEMPFAIL;
        if (ext && s->catchall)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "catch-all %s -> %s would forward every "
                               "address of %s off-site, spam to made-up "
                               "addresses included (an open forwarder: the "
                               "other side rates %s by it); point it at a "
                               "local mailbox, or --force", s->source, t[i],
                               s->domain, s->domain);
        if (ext && strcmp(d->kind, "local"))
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "%s is a %s domain, not hosted here: an "
                               "alias there to the external %s forwards "
                               "mail of another server's users off-site "
                               "(an open forwarder); --force if that is "
                               "meant", s->domain, d->kind, t[i]);
    }
    return ADMIN_EX_OK;
}

/* the targets argv[0..nt) into t[], each once */
static int al_parse_targets(char **argv, int nt, const struct al_src *s,
                            char (*t)[ADDR_MAX + 1], const char **tp)
{
    int rc;
    for (int i = 0; i < nt; i++) {
        if ((rc = al_parse_target(argv[i], s, t[i])))
            return rc;
        tp[i] = t[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(t[i], t[j]))
                return admin_error(ADMIN_EX_USAGE, WHAT,
                                   "target %s given twice", t[i]);
    }
    return ADMIN_EX_OK;
}

/* each target names something, and no row source -> target exists yet */
static int al_check_targets(struct db *db, const struct al_src *s,
                            char (*t)[ADDR_MAX + 1], int nt, int force)
{
    int rc;
    for (int i = 0; i < nt; i++) {
        struct db_param p[2] = {DBP_S(s->source), DBP_S(t[i])};
        char v[8];
        if ((rc = al_check_target(db, t[i], force)))
            return rc;
        rc = admin_value(db, WHAT, "SELECT 1 FROM aliases WHERE source = ? "
                         "AND target = ?", p, 2, v, sizeof(v));
        if (rc < 0)
            return ADMIN_EX_TEMPFAIL;
        if (rc == LK_FOUND)
            return admin_error(ADMIN_EX_CANTCREAT, WHAT, "%s -> %s exists "
                               "already (postern alias show %s)", s->source,
                               t[i], s->source);
    }
    return ADMIN_EX_OK;
}

static int al_add_cmd(struct admin *a, int argc, char **argv)
{
    int force = a->flag; /* --force */
    char (*t)[ADDR_MAX + 1] = NULL;
    const char *tp[AL_TARGETS_MAX], *kc;
    struct al_src s;
    struct admin_kv kv;
    struct rt_domain d;
    struct al_add x;
    struct db *db;
    int nt = 0, rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern alias add SOURCE TARGET... "
                           "[keep_copy=yes|no] [comment=TEXT] [--force]");
    if ((rc = al_parse_source(argv[0], &s)))
        return rc;
    while (1 + nt < argc && !al_is_setting(argv[1 + nt]))
        nt++;
    if (nt == 0 || nt > AL_TARGETS_MAX)
        return admin_error(ADMIN_EX_USAGE, WHAT, "1 to %d targets for %s",
                           AL_TARGETS_MAX, s.source);
    if ((rc = admin_kv_parse(&kv, argc - 1 - nt, argv + 1 + nt, al_keys, WHAT)))
        return rc;
    kc = admin_kv_get(&kv, "keep_copy");
    if (kc && admin_parse_bool(kc) < 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "keep_copy '%s': yes or no", kc);
    t = xcalloc((size_t)nt, sizeof(*t));
    if ((rc = al_parse_targets(argv + 1, nt, &s, t, tp)))
        goto out;
    if (!(db = admin_db(a))) {
        rc = ADMIN_EX_TEMPFAIL;
        goto out;
    }
    if ((rc = al_check_source_domain(db, &s, &d, ADMIN_EX_DATAERR)) ||
        (rc = al_check_policy(db, &s, &d, kc, t, (unsigned)nt, force)) ||
        (rc = al_check_targets(db, &s, t, nt, force)) ||
        (rc = al_check_loop(db, &s, tp, (unsigned)nt)))
        goto out;
    x = (struct al_add){&s, t, (unsigned)nt, kc ? admin_parse_bool(kc) : 0,
                        rt_null(admin_kv_get(&kv, "comment")), 0};
    if ((rc = admin_transaction(a, al_add_tx, &x)) == ADMIN_EX_OK)
        admin_done(a, WHAT, "added", s.source, x.rows);
out:
    free(t);
    return rc;
}

/* --- the rows of an existing alias --- */

struct al_sel {
    struct al_src s;
    char target[ADDR_MAX + 1]; /* "" = every target */
};

/* SOURCE [TARGET]: exists, owner sql; 0 or the status (explained) */
static int al_select(struct admin *a, int argc, char **argv,
                     struct al_sel *sel, struct db **dbp)
{
    struct db_param p[3];
    char v[64], near[ADDR_MAX + 2];
    int rc;
    memset(sel, 0, sizeof(*sel));
    if ((rc = al_parse_source(argv[0], &sel->s)))
        return rc;
    if (argc > 1 && (rc = al_parse_target(argv[1], &sel->s, sel->target)))
        return rc;
    if (!(*dbp = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p[0] = DBP_S(sel->s.source);
    p[1] = DBP_S(sel->target);
    p[2] = DBP_S(sel->target);
    rc = admin_value(*dbp, WHAT,
                     "SELECT CONCAT(COUNT(*), ' ', SUM(owner = 'ldap')) FROM aliases "
                     "WHERE source = ? AND (? = '' OR target = ?) HAVING COUNT(*) > 0",
                     p, 3, v, sizeof(v));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND) {
        if (atoi(strchr(v, ' ') + 1) > 0)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "%s belongs to postern-dirsync (owner=ldap: "
                               "an address or forward from the directory); "
                               "change it in the directory", sel->s.source);
        return ADMIN_EX_OK;
    }
    if (sel->target[0])
        return admin_error(ADMIN_EX_NOINPUT, WHAT, "no alias %s -> %s",
                           sel->s.source, sel->target);
    if (admin_suggest(*dbp, "aliases", "source", sel->s.source, near,
                      sizeof(near)) == LK_FOUND)
        return admin_error(ADMIN_EX_NOINPUT, WHAT,
                           "no alias %s; did you mean %s?", sel->s.source,
                           near);
    return admin_error(ADMIN_EX_NOINPUT, WHAT, "no alias %s", sel->s.source);
}

/* the selection's three parameters at u->p[at..at+3) */
static void al_upd_where(struct rt_stmt *u, size_t at, const struct al_sel *sel)
{
    u->p[at] = DBP_S(sel->s.source);
    u->p[at + 1] = DBP_S(sel->target);
    u->p[at + 2] = DBP_S(sel->target);
    u->np = at + 3;
}

static int al_set_cmd(struct admin *a, int argc, char **argv)
{
    struct al_sel sel;
    struct admin_kv kv;
    struct rt_stmt u = {.np = 0};
    struct db *db;
    const char *kc, *cm;
    int nsel, rc, b = -1, mbox;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern alias set SOURCE [TARGET] "
                           "keep_copy=yes|no comment=TEXT");
    nsel = al_is_setting(argv[1]) ? 1 : 2;
    if ((rc = admin_kv_parse(&kv, argc - nsel, argv + nsel, al_keys, WHAT)))
        return rc;
    if (!kv.n)
        return admin_error(ADMIN_EX_USAGE, WHAT, "nothing to set");
    kc = admin_kv_get(&kv, "keep_copy");
    cm = admin_kv_get(&kv, "comment");
    if (kc && (b = admin_parse_bool(kc)) < 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "keep_copy '%s': yes or no", kc);
    if ((rc = al_select(a, nsel, argv, &sel, &db)))
        return rc;
    if (b == 1) {
        if (sel.s.catchall)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "a catch-all keeps no copy: there is no "
                               "mailbox %s", sel.s.source);
        if ((mbox = al_is_mailbox(db, sel.s.source)) < 0)
            return ADMIN_EX_TEMPFAIL;
        if (!mbox)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "keep_copy=yes keeps a copy in the mailbox "
                               "%s, but there is no such mailbox",
                               sel.s.source);
    }
    u.sql = "UPDATE aliases SET keep_copy = IFNULL(?, keep_copy), "
            "comment = IF(?, ?, comment) "
            "WHERE source = ? AND (? = '' OR target = ?)";
    u.p[0] = b < 0 ? DBP_NUL : DBP_I(b);
    u.p[1] = DBP_I(cm != NULL);
    u.p[2] = cm && rt_null(cm) ? DBP_S(cm) : DBP_NUL;
    al_upd_where(&u, 3, &sel);
    return rt_stmt_run(a, &u, WHAT, "changed", sel.s.source);
}

struct al_targets {
    char *t[AL_TARGETS_MAX];
    unsigned n;
};

static int al_targets_row(void *ctx, unsigned n, char **v,
                          const unsigned long *l)
{
    struct al_targets *x = ctx;
    (void)n;
    (void)l;
    if (x->n < AL_TARGETS_MAX && v[0])
        x->t[x->n++] = xstrdup(v[0]);
    return 0;
}

static int al_active(struct admin *a, int argc, char **argv)
{
    int on = a->verb[0] == 'e';
    struct al_sel sel;
    struct rt_stmt u = {.np = 0};
    struct db *db;
    int rc;
    if (argc < 1 || argc > 2)
        return admin_error(ADMIN_EX_USAGE, WHAT, "usage: postern alias %s "
                           "SOURCE [TARGET]", on ? "enable" : "disable");
    if ((rc = al_select(a, argc, argv, &sel, &db)))
        return rc;
    if (on) {
        /* enabling rows can close a loop as adding them can */
        struct al_targets x = {.n = 0};
        struct str err = {0};
        struct db_param p[3] = {DBP_S(sel.s.source), DBP_S(sel.target),
                                DBP_S(sel.target)};
        rc = db_query(db, "SELECT target FROM aliases WHERE source = ? AND "
                          "(? = '' OR target = ?) AND active = 0",
                      p, 3, al_targets_row, &x, &err);
        if (rc < 0)
            rc = admin_dbfail(WHAT, &err);
        else
            rc = al_check_loop(db, &sel.s, (const char *const *)x.t, x.n);
        str_free(&err);
        for (unsigned i = 0; i < x.n; i++)
            free(x.t[i]);
        if (rc)
            return rc;
    }
    u.sql = on ? "UPDATE aliases SET active = 1 WHERE source = ? AND "
                 "(? = '' OR target = ?)"
               : "UPDATE aliases SET active = 0 WHERE source = ? AND "
                 "(? = '' OR target = ?)";
    al_upd_where(&u, 0, &sel);
    return rt_stmt_run(a, &u, WHAT, on ? "enabled" : "disabled",
                       sel.s.source);
}

static int al_remove(struct admin *a, int argc, char **argv)
{
    struct al_sel sel;
    struct rt_stmt u = {.np = 0};
    struct db *db;
    int rc;
    if (argc < 1 || argc > 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern alias remove SOURCE [TARGET]");
    if ((rc = al_select(a, argc, argv, &sel, &db)))
        return rc;
    u.sql = "DELETE FROM aliases WHERE source = ? AND (? = '' OR target = ?)";
    al_upd_where(&u, 0, &sel);
    return rt_stmt_run(a, &u, WHAT, "removed", sel.s.source);
}

static const char *const al_cols[] = {"source", "target", "keep_copy",
                                      "active", "owner", "comment", NULL};
#define AL_SELECT "SELECT source, target, keep_copy, active, owner, comment " \
                  "FROM aliases "

static int al_list(struct admin *a, int argc, char **argv)
{
    struct db_param p[2];
    char dom[ADDR_DOMAIN_MAX + 1];
    struct rt_domain d;
    struct db *db;
    int rc;
    if (argc > 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern alias list [DOMAIN|ADDRESS]");
    if (argc == 0)
        return admin_list(a, al_cols, AL_SELECT "ORDER BY domain, source, target",
                          NULL, 0);
    if (strchr(argv[0], '@')) {
        struct addr ad;
        if ((rc = admin_parse_address(WHAT, argv[0], &ad)))
            return rc;
        p[0] = p[1] = DBP_S(ad.full);
        return admin_list(a, al_cols,
                          AL_SELECT "WHERE source = ? OR target = ? "
                          "ORDER BY source, target", p, 2);
    }
    if ((rc = admin_parse_domain(WHAT, argv[0], dom)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = rt_domain(db, WHAT, dom, &d, ADMIN_EX_NOINPUT)))
        return rc;
    p[0] = DBP_S(dom);
    return admin_list(a, al_cols,
                      AL_SELECT "WHERE domain = ? ORDER BY source, target",
                      p, 1);
}

static int al_show(struct admin *a, int argc, char **argv)
{
    struct al_sel sel;
    struct db_param p;
    struct db *db;
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern alias show SOURCE");
    memset(&sel, 0, sizeof(sel));
    if ((rc = al_parse_source(argv[0], &sel.s)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p = DBP_S(sel.s.source);
    rc = rt_exists(db, WHAT, "SELECT 1 FROM aliases WHERE source = ?",
                   sel.s.source);
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND) {
        char near[ADDR_MAX + 2];
        if (admin_suggest(db, "aliases", "source", sel.s.source, near,
                          sizeof(near)) == LK_FOUND)
            return admin_error(ADMIN_EX_NOINPUT, WHAT,
                               "no alias %s; did you mean %s?",
                               sel.s.source, near);
        return admin_error(ADMIN_EX_NOINPUT, WHAT, "no alias %s",
                           sel.s.source);
    }
    return admin_list(a, al_cols, AL_SELECT "WHERE source = ? ORDER BY target",
                      &p, 1);
}

const struct admin_verb alias_verbs[] = {
    {"list", al_list}, {"show", al_show}, {"add", al_add_cmd},
    {"set", al_set_cmd}, {"disable", al_active}, {"enable", al_active},
    {"remove", al_remove}, {NULL, NULL},
};
