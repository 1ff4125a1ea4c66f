/*
 * greylist.c - postern greylist: greylisting settings (greylist_settings)
 * and exceptions (greylist_whitelist) of postern-policyd
 * (docs/policyd.md, "Greylisting").
 *
 *   postern greylist show                 every settings row (- = inherit)
 *   postern greylist show DOMAIN          the values in effect for DOMAIN
 *   postern greylist set [DOMAIN] KEY=VALUE...
 *       enabled=yes|no delay=5m retry_window=2d expiry=35d
 *       auto_whitelist_after=N ipv4_prefix=N ipv6_prefix=N add_header=yes|no
 *       spf_pool=yes|no; for a DOMAIN, VALUE "inherit" takes the default's
 *   postern greylist remove DOMAIN        the domain inherits everything
 *   postern greylist whitelist list
 *   postern greylist whitelist add KIND VALUE [comment=TEXT]
 *   postern greylist whitelist disable|enable|remove KIND VALUE
 *   postern greylist pools check [FILE]   validate a provider pools file
 *       (policyd/greypool.c; default: the file postern-policyd reads
 *       without [policyd] greylist_pools); prints the entries per provider
 *       and warns about entries last checked more than a year ago; 65 when
 *       it does not parse (FILE:LINE: reason), 66 when there is none
 *
 * KIND: network (client_network: IP or CIDR), hostname (client_hostname),
 * sender_domain, sender (sender_address), recipient, recipient_domain;
 * names may start with '.' (their subdomains too).
 *
 * Validation before SQL: settings are checked against the values that
 * will be in effect (a domain's delay against the default retry window
 * it inherits): the delay at most a day, the retry window 1 minute to 30
 * days and longer than the delay, the expiry 1 hour to 365 days and not
 * shorter than the retry window, prefixes 8..32 and 16..128.  Whitelist
 * values are checked by kind; a duplicate is 73, a missing entry 66.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "file.h"
#include "lookup.h"
#include "policyd.h"
#include "util.h"

#define GL_NKEYS 9

/* setting name, column, kind: 'b' bool, 'd' duration, 'n' number */
static const struct gl_key {
    const char *name, *col;
    char kind;
    long long min, max;
} gl_keys[GL_NKEYS] = {
    {"enabled", "enabled", 'b', 0, 1},
    {"delay", "delay_seconds", 'd', 0, 86400},
    {"retry_window", "retry_window_seconds", 'd', 60, 2592000},
    {"expiry", "expiry_seconds", 'd', 3600, 31536000},
    {"auto_whitelist_after", "auto_whitelist_after", 'n', 0, 1000000},
    {"ipv4_prefix", "ipv4_prefix", 'n', 8, 32},
    {"ipv6_prefix", "ipv6_prefix", 'n', 16, 128},
    {"add_header", "add_header", 'b', 0, 1},
    {"spf_pool", "spf_pool", 'b', 0, 1},
};

enum glop { GL_SET, GL_REMOVE, GW_ADD, GW_DISABLE, GW_ENABLE, GW_REMOVE };
/* the whitelist verbs, from GW_ADD on */
static const char *const gw_names[] = {"add", "disable", "enable", "remove",
                                       NULL};

struct glctx {
    enum glop op;
    const char *what; /* "greylist set" (in what_buf) */
    char what_buf[48];
    char domain[ADDR_DOMAIN_MAX + 1]; /* "" = the default row */
    int given[GL_NKEYS];              /* 0 no, 1 value, 2 inherit */
    long long val[GL_NKEYS];
    const char *kind;
    char value[ADDR_MAX + 1];
    const char *comment;
};

static const char *wl_kind(const char *k)
{
    static const char *const kinds[][2] = {
        {"network", "client_network"}, {"client_network", "client_network"},
        {"hostname", "client_hostname"}, {"client_hostname", "client_hostname"},
        {"sender_domain", "sender_domain"}, {"sender", "sender_address"},
        {"sender_address", "sender_address"}, {"recipient", "recipient"},
        {"recipient_domain", "recipient_domain"}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(k, kinds[i][0]))
            return kinds[i][1];
    return NULL;
}

static int parse_wl_value(struct glctx *c, const char *in)
{
    size_t n = strlen(in);
    if (n == 0 || n > ADDR_MAX)
        return admin_error(ADMIN_EX_DATAERR, c->what, "empty or too long value");
    memcpy(c->value, in, n + 1);
    str_lower(c->value, n);
    if (!strcmp(c->kind, "client_network")) {
        if (!admin_network_ok(c->value))
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "'%s' is no IP address or network "
                               "(192.0.2.0/24, 2001:db8::/32)", in);
    } else if (!strcmp(c->kind, "sender_address") || !strcmp(c->kind, "recipient")) {
        struct addr ad;
        if (admin_parse_address(c->what, in, &ad))
            return ADMIN_EX_DATAERR;
        snprintf(c->value, sizeof(c->value), "%s@%s", ad.local, ad.domain);
    } else {
        const char *d = c->value + (c->value[0] == '.');
        if (!addr_domain_valid(d, strlen(d)) || strchr(d, '_'))
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "'%s' is no host or domain name (.name = its "
                               "subdomains too)", in);
        if (c->value[strlen(c->value) - 1] == '.')
            c->value[strlen(c->value) - 1] = 0;
    }
    return ADMIN_EX_OK;
}

struct eff_ctx {
    long long v[GL_NKEYS];
    int null[GL_NKEYS];
};

static int eff_row(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct eff_ctx *e = vctx;
    (void)l;
    for (unsigned i = 0; i < n && i < GL_NKEYS; i++) {
        e->null[i] = v[i] == NULL;
        e->v[i] = v[i] ? strtoll(v[i], NULL, 10) : 0;
    }
    return 1;
}

#define GL_COLS                                                              \
    "enabled, delay_seconds, retry_window_seconds, expiry_seconds, "         \
    "auto_whitelist_after, ipv4_prefix, ipv6_prefix, add_header, spf_pool"

static int greylist_tx(struct admin *a, struct db *db, void *vctx, int *status,
                       struct str *err)
{
    struct glctx *c = vctx;
    char buf[32];
    int rc;
    (void)a;
    if (c->op == GL_REMOVE) {
        struct db_param p = DBP_S(c->domain);
        unsigned long long aff = 0;
        if (db_exec(db, "DELETE FROM greylist_settings WHERE domain = ?", &p, 1,
                    &aff, err) < 0)
            return -1;
        if (!aff)
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "%s has no greylisting settings of its own",
                                  c->domain);
        return 0;
    }
    if (c->op == GL_SET) {
        struct eff_ctx def = {0}, row = {0};
        long long eff[GL_NKEYS];
        struct db_param pd = DBP_S(c->domain);
        struct str sql = {0};
        struct db_param p[GL_NKEYS + 1];
        size_t n = 0;
        int exists = 1;
        if (*c->domain) {
            rc = admin_hosted_domain(db, c->what, c->domain);
            if (rc == ADMIN_EX_TEMPFAIL)
                return -1;
            if (rc) {
                *status = rc;
                return 0;
            }
            pd = DBP_S(c->domain);
        }
        if (db_query(db, "SELECT " GL_COLS " FROM greylist_settings WHERE "
                         "domain IS NULL", NULL, 0, eff_row, &def, err) < 0)
            return -1;
        if (*c->domain) {
            for (unsigned i = 0; i < GL_NKEYS; i++)
                row.null[i] = 1;
            rc = db_query(db, "SELECT " GL_COLS " FROM greylist_settings "
                              "WHERE domain = ?", &pd, 1, eff_row, &row, err);
            if (rc < 0)
                return -1;
            exists = rc == LK_FOUND;
        }
        for (unsigned i = 0; i < GL_NKEYS; i++) {
            if (c->given[i] == 1)
                eff[i] = c->val[i];
            else if (c->given[i] == 0 && *c->domain && !row.null[i])
                eff[i] = row.v[i];
            else
                eff[i] = def.v[i];
        }
        /* 1 delay, 2 window, 3 expiry */
        if (eff[2] <= eff[1]) {
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "the retry window (%llds) must be longer "
                                  "than the delay (%llds): no retry could pass",
                                  eff[2], eff[1]);
            return 0;
        }
        if (eff[3] < eff[2]) {
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "the expiry (%llds) must not be shorter "
                                  "than the retry window (%llds)", eff[3],
                                  eff[2]);
            return 0;
        }
        if (!exists) {
            if (db_exec(db, "INSERT INTO greylist_settings (domain) VALUES (?)",
                        &pd, 1, NULL, err) < 0)
                return -1;
        }
        str_append_cstr(&sql, "UPDATE greylist_settings SET id = id");
        for (unsigned i = 0; i < GL_NKEYS; i++) {
            if (!c->given[i])
                continue;
            str_appendf(&sql, ", %s = ?", gl_keys[i].col);
            p[n++] = c->given[i] == 1 ? DBP_I(c->val[i]) : DBP_NUL;
        }
        if (*c->domain) {
            str_append_cstr(&sql, " WHERE domain = ?");
            p[n++] = pd;
        } else
            str_append_cstr(&sql, " WHERE domain IS NULL");
        rc = db_exec(db, str_cstr(&sql), p, n, NULL, err);
        str_free(&sql);
        return rc < 0 ? -1 : 0;
    }
    {
        struct db_param p[3] = {DBP_S(c->kind), DBP_S(c->value),
                                c->comment ? DBP_S(c->comment) : DBP_NUL};
        rc = admin_value(db, c->what, "SELECT id FROM greylist_whitelist WHERE "
                                      "kind = ? AND value = ?", p, 2, buf,
                         sizeof(buf));
        if (rc < 0)
            return -1;
        if (c->op == GW_ADD) {
            if (rc == LK_FOUND) {
                *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                                      "%s %s is whitelisted already", c->kind,
                                      c->value);
                return 0;
            }
            return db_exec(db, "INSERT INTO greylist_whitelist (kind, value, "
                               "comment) VALUES (?, ?, ?)", p, 3, NULL,
                           err) < 0 ? -1 : 0;
        }
        if (rc == LK_NOTFOUND) {
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "%s %s is not in the whitelist", c->kind,
                                  c->value);
            return 0;
        }
        {
            struct db_param q[2] = {DBP_I(c->op == GW_ENABLE),
                                    DBP_I(strtoll(buf, NULL, 10))};
            if (c->op == GW_REMOVE)
                return db_exec(db, "DELETE FROM greylist_whitelist WHERE id = ?",
                               q + 1, 1, NULL, err) < 0 ? -1 : 0;
            return db_exec(db, "UPDATE greylist_whitelist SET active = ? WHERE "
                               "id = ?", q, 2, NULL, err) < 0 ? -1 : 0;
        }
    }
}

/* the transaction, then what it did (admin_done) */
static int greylist_run(struct admin *a, struct glctx *c)
{
    static const char *const done[] = {"changed", "removed", "added",
                                       "disabled", "enabled", "removed"};
    char key[ADDR_MAX + 32];
    int rc = admin_transaction(a, greylist_tx, c);
    if (rc != ADMIN_EX_OK)
        return rc;
    if (c->op == GL_SET || c->op == GL_REMOVE)
        snprintf(key, sizeof(key), "%s", *c->domain ? c->domain : "(default)");
    else
        snprintf(key, sizeof(key), "%s %s", c->kind, c->value);
    admin_done(a, c->op == GL_SET || c->op == GL_REMOVE ? "greylist"
                                                         : "greylist whitelist",
               done[c->op], key, 1);
    return rc;
}

static int greylist_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "greylist",
                       "usage: greylist show [DOMAIN] | set [DOMAIN] "
                       "KEY=VALUE... | remove DOMAIN | whitelist list | "
                       "whitelist add KIND VALUE [comment=TEXT] | whitelist "
                       "disable|enable|remove KIND VALUE | pools check "
                       "[FILE]");
}

static int parse_set(struct glctx *c, int argc, char **argv)
{
    static const char *keys[GL_NKEYS + 1];
    struct admin_kv kv;
    int rc;
    for (unsigned i = 0; i < GL_NKEYS; i++)
        keys[i] = gl_keys[i].name;
    keys[GL_NKEYS] = NULL;
    if ((rc = admin_kv_parse(&kv, argc, argv, keys, c->what)))
        return rc;
    if (kv.n == 0)
        return admin_error(ADMIN_EX_USAGE, c->what, "nothing to set");
    for (unsigned i = 0; i < GL_NKEYS; i++) {
        const struct gl_key *k = &gl_keys[i];
        const char *v = admin_kv_get(&kv, k->name);
        unsigned long long d;
        int b;
        if (!v)
            continue;
        if (!strcmp(v, "inherit")) {
            if (!*c->domain)
                return admin_error(ADMIN_EX_DATAERR, c->what,
                                   "%s=inherit: the default row inherits from "
                                   "nothing; give a value", k->name);
            c->given[i] = 2;
            continue;
        }
        c->given[i] = 1;
        if (k->kind == 'b') {
            if ((b = admin_parse_bool(v)) < 0)
                return admin_error(ADMIN_EX_DATAERR, c->what, "%s=%s: yes or no",
                                   k->name, v);
            c->val[i] = b;
        } else if (k->kind == 'd') {
            if (admin_parse_duration(v, &d) < 0 || d < (unsigned long long)k->min ||
                d > (unsigned long long)k->max)
                return admin_error(ADMIN_EX_DATAERR, c->what,
                                   "%s=%s: a duration from %llds to %llds "
                                   "(e.g. 5m, 2d)", k->name, v, k->min, k->max);
            c->val[i] = (long long)d;
        } else if ((rc = admin_parse_int(c->what, k->name, v, k->min, k->max,
                                         &c->val[i])))
            return rc;
    }
    return ADMIN_EX_OK;
}

static int pools_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "greylist pools check",
                       "usage: greylist pools check [FILE]");
}

/* pools_check - postern greylist pools check [FILE] */
static int pools_check(struct admin *a, int argc, char **argv)
{
    const char *what = "greylist pools check";
    const char *path;
    struct pd_pools *p = NULL;
    struct str err = STR_INIT, text = STR_INIT;
    char old[16];
    time_t now = time(NULL);
    struct tm tm;
    int rc;

    (void)a;
    if (argc > 1)
        return pools_usage();
    path = argc == 1 ? argv[0] : pd_pools_path("");
    if (path == NULL)
        return admin_error(ADMIN_EX_NOINPUT, what, "no pools file (%s, %s "
                           "or %s)", PD_POOLS_ETC, PD_POOLS_SHARE,
                           PD_POOLS_LOCAL);
    if (file_read("pools file", path, PD_POOL_FILE_MAX, 0, &text, &err) < 0) {
        rc = admin_error(ADMIN_EX_NOINPUT, what, "%s", str_cstr(&err));
        str_free(&err);
        return rc;
    }
    rc = pd_pools_parse(path, text.data ? text.data : "", text.len, &p, &err);
    str_free(&text);
    if (rc < 0) {
        rc = admin_error(ADMIN_EX_DATAERR, what, "%s", str_cstr(&err));
        str_free(&err);
        return rc;
    }
    now -= 365 * 86400;
    gmtime_r(&now, &tm);
    strftime(old, sizeof(old), "%Y-%m-%d", &tm);
    pd_pools_report(p, old, stdout);
    printf("%s: %zu entries: ok\n", path, pd_pools_count(p));
    pd_pools_free(p);
    return ADMIN_EX_OK;
}

/* c->what: "greylist VERB" (level: "" or "whitelist ") */
static void greylist_what(struct admin *a, struct glctx *c, const char *level)
{
    snprintf(c->what_buf, sizeof(c->what_buf), "greylist %s%s", level,
             a->verb);
    c->what = c->what_buf;
}

static int gl_show(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"domain", "enabled", "delay",
                                       "retry_window", "expiry",
                                       "auto_whitelist_after",
                                       "ipv4_prefix", "ipv6_prefix",
                                       "add_header", "spf_pool", NULL};
    struct glctx c = {0};
    struct db_param p[2];
    int rc;
    if (argc == 0)
        return admin_list(a, cols,
                          "SELECT IFNULL(domain, '(default)'), " GL_COLS
                          " FROM greylist_settings ORDER BY domain IS NOT "
                          "NULL, domain", NULL, 0);
    if (argc != 1)
        return greylist_usage();
    greylist_what(a, &c, "");
    if ((rc = admin_parse_domain(c.what, argv[0], c.domain)))
        return rc;
    p[0] = p[1] = DBP_S(c.domain);
    return admin_list(a, cols,
                      "SELECT ?, IFNULL(s.enabled, d.enabled), "
                      "IFNULL(s.delay_seconds, d.delay_seconds), "
                      "IFNULL(s.retry_window_seconds, d.retry_window_seconds), "
                      "IFNULL(s.expiry_seconds, d.expiry_seconds), "
                      "IFNULL(s.auto_whitelist_after, d.auto_whitelist_after), "
                      "IFNULL(s.ipv4_prefix, d.ipv4_prefix), "
                      "IFNULL(s.ipv6_prefix, d.ipv6_prefix), "
                      "IFNULL(s.add_header, d.add_header), "
                      "IFNULL(s.spf_pool, d.spf_pool) FROM "
                      "greylist_settings d LEFT JOIN greylist_settings "
                      "s ON s.domain = ? WHERE d.domain IS NULL",
                      p, 2);
}

/* greylist set [DOMAIN] KEY=VALUE... */
static int gl_set(struct admin *a, int argc, char **argv)
{
    struct glctx c = {.op = GL_SET};
    int first = 0, rc;
    greylist_what(a, &c, "");
    if (argc > 0 && !strchr(argv[0], '=')) {
        if ((rc = admin_parse_domain(c.what, argv[0], c.domain)))
            return rc;
        first = 1;
    }
    if ((rc = parse_set(&c, argc - first, argv + first)))
        return rc;
    return greylist_run(a, &c);
}

static int gl_remove(struct admin *a, int argc, char **argv)
{
    struct glctx c = {.op = GL_REMOVE};
    int rc;
    if (argc != 1)
        return greylist_usage();
    greylist_what(a, &c, "");
    if ((rc = admin_parse_domain(c.what, argv[0], c.domain)))
        return rc;
    return greylist_run(a, &c);
}

static int wl_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"kind", "value", "active", "comment",
                                       NULL};
    (void)argv;
    if (argc != 0)
        return greylist_usage();
    return admin_list(a, cols,
                      "SELECT kind, value, active, comment FROM "
                      "greylist_whitelist ORDER BY kind, value", NULL, 0);
}

/* greylist whitelist add|disable|enable|remove KIND VALUE [comment=TEXT] */
static int wl_change(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"comment", NULL};
    struct glctx c = {0};
    struct admin_kv kv;
    int rc;
    greylist_what(a, &c, "whitelist ");
    c.op = (enum glop)(GW_ADD + admin_index(a->verb, gw_names));
    if (argc < 2)
        return greylist_usage();
    if (!(c.kind = wl_kind(argv[0])))
        return admin_error(ADMIN_EX_DATAERR, c.what,
                           "'%s' is no kind: network, hostname, sender_domain, "
                           "sender, recipient or recipient_domain", argv[0]);
    if ((rc = parse_wl_value(&c, argv[1])) ||
        (rc = admin_kv_parse(&kv, argc - 2, argv + 2,
                             c.op == GW_ADD ? keys : keys + 1, c.what)) ||
        (rc = admin_parse_text(c.what, "comment", admin_kv_get(&kv, "comment"),
                               255, &c.comment)))
        return rc;
    return greylist_run(a, &c);
}

static const struct admin_verb whitelist_verbs[] = {
    {"list", wl_list},      {"add", wl_change},    {"disable", wl_change},
    {"enable", wl_change},  {"remove", wl_change}, {NULL, NULL}};

static const struct admin_verb pools_verbs[] = {{"check", pools_check},
                                                {NULL, NULL}};

/* greylist whitelist VERB ...: argv[0] is the verb of the level below,
   argv[-1] this level's name (admin_dispatch's argv[0]) */
static int gl_whitelist(struct admin *a, int argc, char **argv)
{
    if (argc < 1)
        return greylist_usage();
    return admin_dispatch(a, "greylist whitelist", whitelist_verbs, NULL,
                          argc + 1, argv - 1);
}

static int gl_pools(struct admin *a, int argc, char **argv)
{
    if (argc < 1)
        return pools_usage();
    return admin_dispatch(a, "greylist pools", pools_verbs, NULL, argc + 1,
                          argv - 1);
}

static const struct admin_verb greylist_verbs[] = {
    {"show", gl_show},           {"set", gl_set},
    {"remove", gl_remove},       {"whitelist", gl_whitelist},
    {"pools", gl_pools},         {NULL, NULL}};

int cmd_greylist(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return greylist_usage();
    return admin_dispatch(a, "greylist", greylist_verbs, NULL, argc, argv);
}
