/*
 * grant.c - postern grant: send-as grants (sender_grants).  A grant lets
 * a SASL login use an envelope sender and a From: it does not own (a
 * secretary sending as office@), for postern-maps' senderlogin map,
 * postern-policyd's sender rules (require_auth) and postern-milter's
 * From: check alike (lib/sendas.h).
 *
 *   postern grant list [LOGIN]
 *   postern grant add LOGIN ADDRESS|DOMAIN [comment=TEXT]
 *   postern grant set LOGIN ADDRESS|DOMAIN comment=TEXT
 *   postern grant disable LOGIN ADDRESS|DOMAIN
 *   postern grant enable LOGIN ADDRESS|DOMAIN
 *   postern grant remove LOGIN ADDRESS|DOMAIN
 *
 * ADDRESS (x@y) grants one address, DOMAIN (y, or @y) every address of
 * the domain.  The address or domain must be in a hosted domain (a grant
 * for someone else's domain would sign mail postern has no key for and
 * is a typo more often than not); an alias domain is stored as its target
 * (rules match canonical addresses), so is the login's domain.  A login
 * is stored lower-case (an address login canonical).
 *
 * Diagnostics: one line per problem; 65 invalid, 66 no such grant, 73
 * the grant exists already.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lookup.h"
#include "util.h"

enum grop { GR_ADD, GR_SET, GR_DISABLE, GR_ENABLE, GR_REMOVE };
static const char *const grop_names[] = {"add", "set", "disable", "enable",
                                         "remove", NULL};

struct grctx {
    enum grop op;
    const char *what;
    char login[ADDR_MAX + 1];
    int login_is_addr;
    char type[8]; /* address | domain */
    char pattern[ADDR_MAX + 1];
    const char *comment;
    int comment_given;
};

/* the domain part of an address or the domain itself, inside buf */
static char *domain_of(char *s)
{
    char *at = strrchr(s, '@');
    return at ? at + 1 : s;
}

/* replace the domain part of s (size ADDR_MAX + 1) by the canonical one */
static int canon_domain(struct db *db, const char *what, char *s, int *status)
{
    char dom[ADDR_DOMAIN_MAX + 1];
    char *d = domain_of(s);
    int rc;
    str_copy_bounded(dom, sizeof(dom), d, strlen(d));
    rc = admin_hosted_domain(db, what, dom);
    if (rc == ADMIN_EX_TEMPFAIL)
        return -1;
    if (rc) {
        *status = rc;
        return 1;
    }
    if ((size_t)(d - s) + strlen(dom) < ADDR_MAX + 1)
        strcpy(d, dom);
    return 0;
}

static int grant_tx(struct admin *a, struct db *db, void *vctx, int *status,
                    struct str *err)
{
    struct grctx *c = vctx;
    char buf[32];
    int rc;
    (void)a;
    if (c->op == GR_ADD) {
        if ((rc = canon_domain(db, c->what, c->pattern, status)))
            return rc < 0 ? -1 : 0;
        if (c->login_is_addr) {
            /* the login's domain need not be hosted (a login from
               elsewhere); an alias domain is still made canonical */
            char dom[ADDR_DOMAIN_MAX + 1];
            char *d = domain_of(c->login);
            struct db_param p = DBP_S(d);
            rc = admin_value(db, c->what, "SELECT alias_target FROM domains "
                                          "WHERE name = ? AND kind = 'alias'",
                             &p, 1, dom, sizeof(dom));
            if (rc < 0)
                return -1;
            if (rc == LK_FOUND && *dom &&
                (size_t)(d - c->login) + strlen(dom) < sizeof(c->login))
                strcpy(d, dom);
        }
    }
    {
        struct db_param p[3] = {DBP_S(c->login), DBP_S(c->type), DBP_S(c->pattern)};
        rc = admin_value(db, c->what, "SELECT id FROM sender_grants WHERE "
                                      "login = ? AND match_type = ? AND "
                                      "pattern = ?", p, 3, buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (c->op == GR_ADD && rc == LK_FOUND) {
            *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                                  "%s may send as %s %s already", c->login,
                                  c->type, c->pattern);
            return 0;
        }
        if (c->op != GR_ADD && rc == LK_NOTFOUND) {
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no grant for %s to send as %s %s", c->login,
                                  c->type, c->pattern);
            return 0;
        }
    }
    if (c->op == GR_ADD) {
        struct db_param p[4] = {DBP_S(c->login), DBP_S(c->type), DBP_S(c->pattern),
                                c->comment ? DBP_S(c->comment) : DBP_NUL};
        return db_exec(db, "INSERT INTO sender_grants (login, match_type, "
                           "pattern, comment) VALUES (?, ?, ?, ?)",
                       p, 4, NULL, err) < 0 ? -1 : 0;
    }
    {
        struct db_param id = DBP_I(strtoll(buf, NULL, 10));
        if (c->op == GR_REMOVE)
            return db_exec(db, "DELETE FROM sender_grants WHERE id = ?", &id, 1,
                           NULL, err) < 0 ? -1 : 0;
        if (c->op == GR_SET) {
            struct db_param p[2] = {c->comment ? DBP_S(c->comment) : DBP_NUL, id};
            return db_exec(db, "UPDATE sender_grants SET comment = ? WHERE id = ?",
                           p, 2, NULL, err) < 0 ? -1 : 0;
        }
        {
            struct db_param p[2] = {DBP_I(c->op == GR_ENABLE), id};
            return db_exec(db, "UPDATE sender_grants SET active = ? WHERE id = ?",
                           p, 2, NULL, err) < 0 ? -1 : 0;
        }
    }
}

static int grant_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "grant",
                       "usage: grant list [LOGIN] | add LOGIN ADDRESS|DOMAIN "
                       "[comment=TEXT] | set LOGIN ADDRESS|DOMAIN comment=TEXT "
                       "| disable|enable|remove LOGIN ADDRESS|DOMAIN");
}

static int gt_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"login", "type", "pattern", "active",
                                       "comment", NULL};
    char login[ADDR_MAX + 1];
    struct db_param p;
    if (argc > 1)
        return grant_usage();
    if (argc == 0)
        return admin_list(a, cols,
                          "SELECT login, match_type, pattern, active, comment "
                          "FROM sender_grants ORDER BY login, pattern", NULL, 0);
    str_copy_bounded(login, sizeof(login), argv[0], strlen(argv[0]));
    str_lower(login, strlen(login));
    p = DBP_S(login);
    return admin_list(a, cols,
                      "SELECT login, match_type, pattern, active, "
                      "comment FROM sender_grants WHERE login = ? "
                      "ORDER BY pattern", &p, 1);
}

/* the login: an address (canonical) or a plain user name */
static int parse_login(struct grctx *c, const char *in)
{
    size_t n = strlen(in);
    if (strchr(in, '@')) {
        struct addr ad;
        int rc;
        if ((rc = admin_parse_address(c->what, in, &ad)))
            return rc;
        snprintf(c->login, sizeof(c->login), "%s@%s", ad.local, ad.domain);
        c->login_is_addr = 1;
        return ADMIN_EX_OK;
    }
    if (!n || n > ADDR_MAX || strpbrk(in, " \t\r\n"))
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "'%s' is not a SASL login (no spaces, at most "
                           "%d octets)", in, ADDR_MAX);
    memcpy(c->login, in, n + 1);
    str_lower(c->login, n);
    return ADMIN_EX_OK;
}

/* the pattern: x@y = address, y or @y = domain */
static int parse_pattern(struct grctx *c, const char *in)
{
    int rc;
    if (strchr(in, '@') && in[0] != '@') {
        struct addr ad;
        if ((rc = admin_parse_address(c->what, in, &ad)))
            return rc;
        snprintf(c->pattern, sizeof(c->pattern), "%s@%s", ad.local, ad.domain);
        strcpy(c->type, "address");
    } else {
        char d[ADDR_DOMAIN_MAX + 1];
        if ((rc = admin_parse_domain(c->what, in + (in[0] == '@'), d)))
            return rc;
        strcpy(c->pattern, d);
        strcpy(c->type, "domain");
    }
    return ADMIN_EX_OK;
}

/* grant add|set|disable|enable|remove LOGIN ADDRESS|DOMAIN [comment=TEXT] */
static int gt_change(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"comment", NULL};
    static const char *const done[] = {"added", "changed", "disabled",
                                       "enabled", "removed"};
    struct grctx c = {0};
    struct admin_kv kv;
    char what[32], key[2 * ADDR_MAX + 2];
    int rc;

    snprintf(what, sizeof(what), "grant %s", a->verb);
    c.what = what;
    c.op = (enum grop)admin_index(a->verb, grop_names);
    if (argc < 2)
        return grant_usage();
    if ((rc = parse_login(&c, argv[0])) || (rc = parse_pattern(&c, argv[1])))
        return rc;
    if ((rc = admin_kv_parse(&kv, argc - 2, argv + 2,
                             c.op == GR_ADD || c.op == GR_SET ? keys : keys + 1,
                             what)))
        return rc;
    if ((rc = admin_kv_text(&kv, what, "comment", 255, &c.comment,
                            &c.comment_given)))
        return rc;
    if (c.op == GR_SET && !c.comment_given)
        return admin_error(ADMIN_EX_USAGE, what, "nothing to set (comment=TEXT)");
    if ((rc = admin_transaction(a, grant_tx, &c)) != ADMIN_EX_OK)
        return rc;
    snprintf(key, sizeof(key), "%s %s", c.login, c.pattern);
    admin_done(a, "grant", done[c.op], key, 1);
    return rc;
}

static const struct admin_verb grant_verbs[] = {
    {"list", gt_list},       {"add", gt_change},    {"set", gt_change},
    {"disable", gt_change},  {"enable", gt_change}, {"remove", gt_change},
    {NULL, NULL}};

int cmd_grant(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return grant_usage();
    return admin_dispatch(a, "grant", grant_verbs, NULL, argc, argv);
}
