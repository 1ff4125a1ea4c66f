/*
 * ratelimit.c - postern ratelimit: rate-limit rules of postern-policyd
 * (ratelimit_rules, their windows ratelimit_windows, per-key exceptions
 * ratelimit_overrides; docs/policyd.md, "Rate limits").
 *
 *   postern ratelimit list
 *   postern ratelimit show NAME
 *   postern ratelimit add NAME key=TYPE limit=N/WINDOW[,N/WINDOW...]
 *       [counts=messages|recipients|bytes] [action=defer|reject|hold|warn]
 *       [match=VALUE] [group=GROUP] [text=TEXT] [priority=N]
 *       [ipv4_prefix=N] [ipv6_prefix=N] [comment=TEXT] [contain=yes|no]
 *   postern ratelimit set NAME KEY=VALUE...     (limit= replaces the windows)
 *   postern ratelimit disable|enable|remove NAME
 *   postern ratelimit override NAME KEY window=WINDOW max=N|unlimited [comment=TEXT]
 *   postern ratelimit override-remove NAME KEY [window=WINDOW]
 *
 * TYPE is sasl_login (login), sender, sender_domain, client_address
 * (client), recipient or forwarder (forwarded copies and Sieve
 * redirect/notify/vacation per forwarding account, counted by
 * postern-forward and postern-lda, not by postern-policyd; no group).  WINDOW is a duration: 90s, 10m, 1h, 1d, 1w or
 * seconds; "100/1h,300/1d" = at most 100 in any hour and 300 in any day.
 * A window of 0 or longer than 31 days, the same window twice, a group
 * with client_address keys, prefixes for other keys, or a match value of
 * the wrong shape are refused before SQL; so is a group that does not
 * exist (did-you-mean).  A rule that exists is 73, an unknown one 66.
 * An override names a window the rule has.
 *
 * counts=networks (key sasl_login only) counts the distinct client
 * networks of a login (ipv4_prefix/ipv6_prefix: their size, 24 and 64 by
 * default); contain=yes makes a login over the limit receive-only
 * (docs/policyd.md "Containing a hijacked account"; postern contain).
 *
 * Limits: RL_WINDOWS_MAX windows per rule.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lookup.h"
#include "mem.h"
#include "util.h"

#define RL_WINDOWS_MAX 8
#define RL_WINDOW_MAX 2678400ULL /* ratelimit_windows_length: 31 days */

enum rop { R_ADD, R_SET, R_DISABLE, R_ENABLE, R_REMOVE, R_OVERRIDE, R_OVREMOVE };
static const char *const rop_names[] = {"add", "set", "disable", "enable",
                                        "remove", "override",
                                        "override-remove", NULL};

struct rctx {
    enum rop op;
    const char *what; /* "ratelimit add" (in what_buf) */
    char what_buf[40];
    const char *name;
    struct admin_kv kv;
    const char *key_type, *counts, *action, *match, *group, *text, *comment;
    int text_given, comment_given, match_given, group_given;
    long long priority, v4, v6;
    int priority_given, v4_given, v6_given;
    int contain, contain_given;
    unsigned long long win[RL_WINDOWS_MAX], max[RL_WINDOWS_MAX];
    unsigned nwin;
    /* override */
    char okey[ADDR_MAX + 1];
    unsigned long long owin, omax;
    int owin_given, unlimited;
};

static const char *key_type_of(const char *v)
{
    static const char *const names[][2] = {
        {"sasl_login", "sasl_login"}, {"login", "sasl_login"},
        {"sender", "sender"}, {"sender_domain", "sender_domain"},
        {"client_address", "client_address"}, {"client", "client_address"},
        {"recipient", "recipient"}, {"forwarder", "forwarder"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(v, names[i][0]))
            return names[i][1];
    return NULL;
}

/* "100/1h,300/1d" */
static int parse_limits(struct rctx *c, const char *v)
{
    const char *p = v;
    c->nwin = 0;
    while (*p) {
        char item[64], *slash, *end;
        size_t n = strcspn(p, ",");
        unsigned long long w, m;
        if (n == 0 || n >= sizeof(item))
            goto bad;
        memcpy(item, p, n);
        item[n] = 0;
        slash = strchr(item, '/');
        if (!slash)
            goto bad;
        *slash = 0;
        m = strtoull(item, &end, 10);
        if (!*item || *end || item[0] == '-')
            goto bad;
        if (admin_parse_duration(slash + 1, &w) < 0)
            goto bad;
        if (w == 0 || w > RL_WINDOW_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "limit %s/%s: impossible window (1 second to "
                               "31 days)", item, slash + 1);
        for (unsigned i = 0; i < c->nwin; i++)
            if (c->win[i] == w)
                return admin_error(ADMIN_EX_DATAERR, c->what,
                                   "limit=%s: the window of %llu seconds is "
                                   "given twice", v, w);
        if (c->nwin >= RL_WINDOWS_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "more than %d windows", RL_WINDOWS_MAX);
        c->win[c->nwin] = w;
        c->max[c->nwin++] = m;
        p += n;
        if (*p == ',')
            p++;
    }
    if (c->nwin)
        return ADMIN_EX_OK;
bad:
    return admin_error(ADMIN_EX_DATAERR, c->what,
                       "limit=%s: COUNT/WINDOW[,COUNT/WINDOW...], e.g. "
                       "100/1h,300/1d", v);
}

static int parse_settings(struct rctx *c, int argc, char **argv)
{
    static const char *const keys[] = {"key", "limit", "counts", "action",
                                       "match", "group", "text", "priority",
                                       "ipv4_prefix", "ipv6_prefix", "comment",
                                       "contain", NULL};
    static const char *const counts[] = {"messages", "recipients", "bytes",
                                         "networks", NULL};
    static const char *const actions[] = {"defer", "reject", "hold", "warn", NULL};
    const char *v;
    int rc;
    if ((rc = admin_kv_parse(&c->kv, argc, argv, keys, c->what)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "key")) && !(c->key_type = key_type_of(v)))
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "key=%s: sasl_login, sender, sender_domain, "
                           "client_address, recipient or forwarder", v);
    if ((v = admin_kv_get(&c->kv, "limit")) && (rc = parse_limits(c, v)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "counts"))) {
        if (admin_index(v, counts) < 0)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "counts=%s: messages, recipients, bytes or "
                               "networks", v);
        c->counts = v;
    }
    if ((v = admin_kv_get(&c->kv, "contain"))) {
        if ((c->contain = admin_parse_bool(v)) < 0)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "contain=%s: yes or no", v);
        c->contain_given = 1;
    }
    if ((v = admin_kv_get(&c->kv, "action"))) {
        if (admin_index(v, actions) < 0)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "action=%s: defer, reject, hold or warn", v);
        c->action = v;
    }
    if ((rc = admin_kv_text(&c->kv, c->what, "text", 255, &c->text,
                            &c->text_given)) ||
        (rc = admin_kv_text(&c->kv, c->what, "comment", 255, &c->comment,
                            &c->comment_given)) ||
        (rc = admin_kv_priority(&c->kv, c->what, &c->priority,
                                &c->priority_given)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "ipv4_prefix"))) {
        if (*v && (rc = admin_parse_int(c->what, "ipv4_prefix", v, 8, 32, &c->v4)))
            return rc;
        c->v4_given = 1 + (*v != 0);
    }
    if ((v = admin_kv_get(&c->kv, "ipv6_prefix"))) {
        if (*v && (rc = admin_parse_int(c->what, "ipv6_prefix", v, 16, 128, &c->v6)))
            return rc;
        c->v6_given = 1 + (*v != 0);
    }
    if ((v = admin_kv_get(&c->kv, "group"))) {
        c->group_given = 1;
        c->group = *v && strcmp(v, "*") ? v : NULL;
        if (c->group && admin_parse_name(c->what, c->group))
            return ADMIN_EX_DATAERR;
    }
    if ((v = admin_kv_get(&c->kv, "match"))) {
        c->match_given = 1;
        c->match = *v && strcmp(v, "*") ? v : NULL;
    }
    if (c->op == R_ADD) {
        if (!c->key_type)
            return admin_error(ADMIN_EX_USAGE, c->what,
                               "key=TYPE is required (sasl_login, sender, "
                               "sender_domain, client_address, recipient, "
                               "forwarder)");
        if (!c->nwin)
            return admin_error(ADMIN_EX_USAGE, c->what,
                               "limit=COUNT/WINDOW is required, e.g. "
                               "limit=100/1h,300/1d");
    }
    if (c->op == R_SET && c->kv.n == 0)
        return admin_error(ADMIN_EX_USAGE, c->what, "nothing to set");
    return ADMIN_EX_OK;
}

/* checks that need the rule's key type (given, or of the row for set) */
static int check_with_type(struct rctx *c, const char *type)
{
    char m[ADDR_MAX + 1];
    int client = !strcmp(type, "client_address");
    if (c->group && client)
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "group= cannot restrict client_address keys "
                           "(clients are no group members); use match=NETWORK");
    if (c->group && !strcmp(type, "forwarder"))
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "group= cannot restrict forwarder keys; use "
                           "match=ADDRESS");
    int networks = c->counts && !strcmp(c->counts, "networks");
    if (networks && strcmp(type, "sasl_login"))
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "counts=networks is for key=sasl_login");
    if ((c->v4_given == 2 || c->v6_given == 2) && !client && !networks)
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "ipv4_prefix/ipv6_prefix are for key=client_address "
                           "or counts=networks");
    if (!c->match)
        return ADMIN_EX_OK;
    if (strlen(c->match) > ADDR_MAX)
        return admin_error(ADMIN_EX_DATAERR, c->what, "match: too long");
    str_copy_bounded(m, sizeof(m), c->match, strlen(c->match));
    str_lower(m, strlen(m));
    if (client ? !admin_network_ok(m)
        : !strcmp(type, "sender_domain") ? (!addr_domain_valid(m, strlen(m)) || !strchr(m, '.'))
        : !strcmp(type, "sasl_login") ? strpbrk(m, " \t\r\n") != NULL
        : (strchr(m, '@') == NULL || strpbrk(m, " \t\r\n") != NULL))
        return admin_error(ADMIN_EX_DATAERR, c->what,
                           "match=%s is no %s", c->match,
                           client ? "IP address or network (192.0.2.0/24)"
                           : !strcmp(type, "sender_domain") ? "domain"
                           : !strcmp(type, "sasl_login") ? "login" : "address");
    return ADMIN_EX_OK;
}

static int set_windows(struct rctx *c, struct db *db, long long id,
                       struct str *err)
{
    struct str sql = {0};
    struct db_param p[RL_WINDOWS_MAX + 1];
    unsigned long long n = 0;
    char buf[32];
    p[0] = DBP_I(id);
    str_append_cstr(&sql, "SELECT COUNT(*) FROM ratelimit_overrides WHERE "
                          "rule_id = ? AND window_seconds NOT IN (0");
    for (unsigned i = 0; i < c->nwin; i++) {
        str_append_cstr(&sql, ", ?");
        p[i + 1] = DBP_I(c->win[i]);
    }
    str_append_cstr(&sql, ")");
    if (admin_value(db, c->what, str_cstr(&sql), p, c->nwin + 1, buf,
                    sizeof(buf)) < 0) {
        str_free(&sql);
        return -1;
    }
    if (strcmp(buf, "0"))
        fprintf(stderr, "postern: %s: note: %s override(s) of windows that "
                        "are gone are removed with them\n", c->what, buf);
    str_free(&sql);
    str_append_cstr(&sql, "DELETE FROM ratelimit_windows WHERE rule_id = ? AND "
                          "window_seconds NOT IN (0");
    for (unsigned i = 0; i < c->nwin; i++)
        str_append_cstr(&sql, ", ?");
    str_append_cstr(&sql, ")");
    if (db_exec(db, str_cstr(&sql), p, c->nwin + 1, &n, err) < 0) {
        str_free(&sql);
        return -1;
    }
    str_free(&sql);
    for (unsigned i = 0; i < c->nwin; i++) {
        struct db_param q[3] = {DBP_I(id), DBP_I(c->win[i]), DBP_I(c->max[i])};
        if (db_exec(db, "INSERT INTO ratelimit_windows (rule_id, window_seconds, "
                        "max_count) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "
                        "max_count = VALUES(max_count)", q, 3, NULL, err) < 0)
            return -1;
    }
    return 0;
}

static int ratelimit_tx(struct admin *a, struct db *db, void *vctx, int *status,
                        struct str *err)
{
    struct rctx *c = vctx;
    char buf[ADDR_MAX + 64], type[32] = "";
    long long id = 0, gid = 0, cur_gid = 0, cur_prefix = 0;
    struct db_param pn = DBP_S(c->name);
    int rc;
    (void)a;

    rc = admin_value(db, c->what, "SELECT CONCAT(id, ' ', IFNULL(group_id, 0), "
                                  "' ', (ipv4_prefix IS NOT NULL) + 2 * "
                                  "(ipv6_prefix IS NOT NULL), ' ', key_type) "
                                  "FROM ratelimit_rules WHERE name = ?",
                     &pn, 1, buf, sizeof(buf));
    if (rc < 0)
        return -1;
    if (rc == LK_FOUND) {
        char *p = buf;
        id = strtoll(p, &p, 10);
        cur_gid = strtoll(p, &p, 10);
        cur_prefix = strtoll(p, &p, 10);
        p += *p == ' ';
        str_copy_bounded(type, sizeof(type), p, strlen(p));
    }
    if (c->op == R_ADD && rc == LK_FOUND) {
        *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                              "rate-limit rule '%s' exists already", c->name);
        return 0;
    }
    if (c->op != R_ADD && rc == LK_NOTFOUND) {
        char near[128];
        if (admin_suggest(db, "ratelimit_rules", "name", c->name, near,
                          sizeof(near)) == LK_FOUND)
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no rate-limit rule '%s' (did you mean "
                                  "'%s'?)", c->name, near);
        else
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no rate-limit rule '%s'", c->name);
        return 0;
    }
    if (c->op == R_REMOVE || c->op == R_DISABLE || c->op == R_ENABLE) {
        struct db_param p[2] = {DBP_I(c->op == R_ENABLE), DBP_I(id)};
        if (c->op == R_REMOVE)
            return db_exec(db, "DELETE FROM ratelimit_rules WHERE id = ?", p + 1,
                           1, NULL, err) < 0 ? -1 : 0;
        return db_exec(db, "UPDATE ratelimit_rules SET active = ? WHERE id = ?",
                       p, 2, NULL, err) < 0 ? -1 : 0;
    }
    if (c->op == R_OVERRIDE || c->op == R_OVREMOVE) {
        struct db_param p[5] = {DBP_I(id), DBP_S(c->okey), DBP_I(c->owin),
                                c->unlimited ? DBP_NUL : DBP_I(c->omax),
                                c->comment ? DBP_S(c->comment) : DBP_NUL};
        unsigned long long aff = 0;
        if (c->op == R_OVREMOVE) {
            if (db_exec(db, c->owin_given
                                ? "DELETE FROM ratelimit_overrides WHERE rule_id "
                                  "= ? AND key_value = ? AND window_seconds = ?"
                                : "DELETE FROM ratelimit_overrides WHERE rule_id "
                                  "= ? AND key_value = ?",
                        p, c->owin_given ? 3 : 2, &aff, err) < 0)
                return -1;
            if (!aff)
                *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                      "rule '%s' has no override for %s",
                                      c->name, c->okey);
            return 0;
        }
        rc = admin_value(db, c->what, "SELECT window_seconds FROM "
                                      "ratelimit_windows WHERE rule_id = ? AND "
                                      "window_seconds = ?",
                         (struct db_param[]){p[0], p[2]}, 2, buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (rc == LK_NOTFOUND) {
            char wins[256];
            if (admin_value(db, c->what, "SELECT GROUP_CONCAT(window_seconds "
                                         "ORDER BY window_seconds) FROM "
                                         "ratelimit_windows WHERE rule_id = ?",
                            p, 1, wins, sizeof(wins)) < 0)
                return -1;
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "rule '%s' has no window of %llu seconds "
                                  "(its windows: %s)", c->name, c->owin, wins);
            return 0;
        }
        return db_exec(db, "INSERT INTO ratelimit_overrides (rule_id, key_value, "
                           "window_seconds, max_count, comment) VALUES "
                           "(?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE max_count = "
                           "VALUES(max_count), comment = VALUES(comment)",
                       p, 5, NULL, err) < 0 ? -1 : 0;
    }
    /* add / set: the rule as it will be */
    if ((rc = check_with_type(c, c->key_type ? c->key_type : type))) {
        *status = rc;
        return 0;
    }
    if (c->op == R_SET && c->key_type && strcmp(c->key_type, "client_address")) {
        if (((cur_prefix & 1) && c->v4_given != 1) ||
            ((cur_prefix & 2) && c->v6_given != 1)) {
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "the rule has client prefixes; clear them "
                                  "with ipv4_prefix= ipv6_prefix= to change "
                                  "its key type");
            return 0;
        }
    }
    if (c->op == R_SET && c->key_type && !strcmp(c->key_type, "client_address") &&
        !c->group_given && cur_gid) {
        *status = admin_error(ADMIN_EX_DATAERR, c->what,
                              "the rule is restricted to a group, which "
                              "client_address keys cannot be; clear it with "
                              "group= to change its key type");
        return 0;
    }
    if (c->group) {
        rc = admin_group_id(db, c->what, c->group, ADMIN_EX_DATAERR, &gid);
        if (rc == ADMIN_EX_TEMPFAIL)
            return -1;
        if (rc) {
            *status = rc;
            return 0;
        }
    }
    if (c->op == R_ADD) {
        char m[ADDR_MAX + 1] = "";
        struct db_param p[12];
        if (c->match) {
            str_copy_bounded(m, sizeof(m), c->match, strlen(c->match));
            str_lower(m, strlen(m));
        }
        p[0] = DBP_S(c->name);
        p[1] = DBP_S(c->key_type);
        p[2] = c->match ? DBP_S(m) : DBP_NUL;
        p[3] = gid ? DBP_I(gid) : DBP_NUL;
        p[4] = DBP_S(c->counts ? c->counts : "messages");
        p[5] = DBP_S(c->action ? c->action : "defer");
        p[6] = c->text ? DBP_S(c->text) : DBP_NUL;
        p[7] = DBP_I(c->priority);
        p[8] = c->v4_given == 2 ? DBP_I(c->v4) : DBP_NUL;
        p[9] = c->v6_given == 2 ? DBP_I(c->v6) : DBP_NUL;
        p[10] = c->comment ? DBP_S(c->comment) : DBP_NUL;
        p[11] = DBP_I(c->contain_given && c->contain);
        if (db_exec(db, "INSERT INTO ratelimit_rules (name, key_type, "
                        "match_value, group_id, counts, action, text, priority, "
                        "ipv4_prefix, ipv6_prefix, comment, contain) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", p, 12, NULL,
                    err) < 0)
            return -1;
        if (admin_value(db, c->what, "SELECT id FROM ratelimit_rules WHERE "
                                     "name = ?", &pn, 1, buf, sizeof(buf)) < 0)
            return -1;
        return set_windows(c, db, strtoll(buf, NULL, 10), err);
    }
    {
        struct admin_update u;
        char m[ADDR_MAX + 1] = "";
        admin_update_begin(&u, "ratelimit_rules");
        if (c->key_type) {
            admin_update_str(&u, "key_type", c->key_type);
            if (strcmp(c->key_type, type) && !c->match_given) {
                str_append_cstr(&u.sql, ", match_value = NULL");
                fprintf(stderr, "postern: %s: note: the key type changed; "
                                "match= was cleared\n", c->what);
            }
        }
        if (c->match_given) {
            if (c->match) {
                str_copy_bounded(m, sizeof(m), c->match, strlen(c->match));
                str_lower(m, strlen(m));
            }
            admin_update_str(&u, "match_value", c->match ? m : NULL);
        }
        if (c->group_given)
            admin_update_col(&u, "group_id", gid ? DBP_I(gid) : DBP_NUL);
        if (c->counts)
            admin_update_str(&u, "counts", c->counts);
        if (c->action)
            admin_update_str(&u, "action", c->action);
        if (c->text_given)
            admin_update_str(&u, "text", c->text);
        if (c->priority_given)
            admin_update_col(&u, "priority", DBP_I(c->priority));
        if (c->v4_given)
            admin_update_col(&u, "ipv4_prefix",
                             c->v4_given == 2 ? DBP_I(c->v4) : DBP_NUL);
        if (c->v6_given)
            admin_update_col(&u, "ipv6_prefix",
                             c->v6_given == 2 ? DBP_I(c->v6) : DBP_NUL);
        if (c->comment_given)
            admin_update_str(&u, "comment", c->comment);
        if (c->contain_given)
            admin_update_col(&u, "contain", DBP_I(c->contain));
        if (admin_update_run(&u, db, id, err) < 0)
            return -1;
        return c->nwin ? set_windows(c, db, id, err) : 0;
    }
}

static int ratelimit_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "ratelimit",
                       "usage: ratelimit list | show NAME | add NAME key=TYPE "
                       "limit=N/WINDOW[,...] [counts=..] [action=..] [match=..] "
                       "[group=..] [text=..] [priority=N] | set NAME KEY=VALUE.. "
                       "| disable|enable|remove NAME | override NAME KEY "
                       "window=W max=N|unlimited | override-remove NAME KEY "
                       "[window=W]");
}

#define RL_SELECT                                                             \
    "SELECT r.name, r.key_type, r.match_value, g.name, r.counts, "            \
    "(SELECT GROUP_CONCAT(CONCAT(w.max_count, '/', w.window_seconds, 's') "   \
    "ORDER BY w.window_seconds) FROM ratelimit_windows w WHERE "              \
    "w.rule_id = r.id), r.action, r.priority, r.active, "                     \
    "(SELECT GROUP_CONCAT(CONCAT(o.key_value, '=', IFNULL(o.max_count, "      \
    "'unlimited'), '/', o.window_seconds, 's') ORDER BY o.key_value SEPARATOR " \
    "' ') FROM ratelimit_overrides o WHERE o.rule_id = r.id), r.text, "      \
    "IF(r.contain, 'yes', 'no') FROM ratelimit_rules r LEFT JOIN policy_groups g ON g.id = r.group_id "

static const char *const ratelimit_cols[] = {
    "name", "key", "match", "group", "counts", "limits", "action",
    "priority", "active", "overrides", "text", "contain", NULL};

static int rl_list(struct admin *a, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return ratelimit_usage();
    return admin_list(a, ratelimit_cols,
                      RL_SELECT "ORDER BY r.priority, r.name", NULL, 0);
}

/* the NAME every verb but list starts with (argv[0]), checked, into c
   (c->what: "ratelimit VERB") */
static int ratelimit_name(struct admin *a, int argc, char **argv,
                          struct rctx *c)
{
    snprintf(c->what_buf, sizeof(c->what_buf), "ratelimit %s", a->verb);
    c->what = c->what_buf;
    if (argc < 1)
        return ratelimit_usage();
    c->name = argv[0];
    if (admin_parse_name(c->what, c->name))
        return ADMIN_EX_DATAERR;
    return ADMIN_EX_OK;
}

/* run the change c describes and say what it did */
static int ratelimit_run(struct admin *a, struct rctx *c)
{
    static const char *const done[] = {"added", "changed", "disabled",
                                       "enabled", "removed",
                                       "override set", "override removed"};
    char key[ADMIN_NAME_MAX + ADDR_MAX + 2];
    int rc = admin_transaction(a, ratelimit_tx, c);
    if (rc != ADMIN_EX_OK)
        return rc;
    if (c->op == R_OVERRIDE || c->op == R_OVREMOVE)
        snprintf(key, sizeof(key), "%s %s", c->name, c->okey);
    else
        snprintf(key, sizeof(key), "%s", c->name);
    admin_done(a, "ratelimit", done[c->op], key, 1);
    return rc;
}

static int rl_show(struct admin *a, int argc, char **argv)
{
    struct rctx c = {0};
    struct db_param p;
    char buf[8];
    struct db *db;
    int rc;
    if ((rc = ratelimit_name(a, argc, argv, &c)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p = DBP_S(c.name);
    rc = admin_value(db, c.what, "SELECT 1 FROM ratelimit_rules WHERE name = ?",
                     &p, 1, buf, sizeof(buf));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, c.what,
                           "no rate-limit rule '%s'", c.name);
    return admin_list(a, ratelimit_cols, RL_SELECT "WHERE r.name = ?", &p, 1);
}

/* the KEY and settings of override and override-remove */
static int parse_override(struct rctx *c, int argc, char **argv)
{
    static const char *const keys[] = {"window", "max", "comment", NULL};
    const char *what = c->what, *v;
    long long m;
    size_t n;
    int rc;
    if (argc < 1)
        return ratelimit_usage();
    n = strlen(argv[0]);
    if (!n || n > ADDR_MAX || strpbrk(argv[0], " \t\r\n"))
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s' is not a key (a login, address, domain "
                           "or network address)", argv[0]);
    memcpy(c->okey, argv[0], n + 1);
    str_lower(c->okey, n);
    if ((rc = admin_kv_parse(&c->kv, argc - 1, argv + 1, keys, what)))
        return rc;
    if (c->op == R_OVREMOVE && (admin_kv_get(&c->kv, "max") ||
                                admin_kv_get(&c->kv, "comment")))
        return admin_error(ADMIN_EX_USAGE, what, "only window= may be given");
    if ((v = admin_kv_get(&c->kv, "window"))) {
        if (admin_parse_duration(v, &c->owin) < 0 || c->owin == 0 ||
            c->owin > RL_WINDOW_MAX)
            return admin_error(ADMIN_EX_DATAERR, what,
                               "window=%s: impossible window (1 second to "
                               "31 days, e.g. 1h)", v);
        c->owin_given = 1;
    } else if (c->op == R_OVERRIDE)
        return admin_error(ADMIN_EX_USAGE, what, "window=WINDOW is required");
    if (c->op != R_OVERRIDE)
        return ADMIN_EX_OK;
    if (!(v = admin_kv_get(&c->kv, "max")))
        return admin_error(ADMIN_EX_USAGE, what,
                           "max=N or max=unlimited is required");
    if (!strcmp(v, "unlimited"))
        c->unlimited = 1;
    else if ((rc = admin_parse_int(what, "max", v, 0, (long long)1 << 62, &m)))
        return rc;
    else
        c->omax = (unsigned long long)m;
    return admin_parse_text(what, "comment", admin_kv_get(&c->kv, "comment"),
                            255, &c->comment);
}

/* ratelimit add|set NAME KEY=VALUE... | disable|enable|remove NAME |
   override NAME KEY window=W max=N|unlimited [comment=TEXT] |
   override-remove NAME KEY [window=W] */
static int rl_change(struct admin *a, int argc, char **argv)
{
    struct rctx c = {0};
    int rc;
    if ((rc = ratelimit_name(a, argc, argv, &c)))
        return rc;
    c.op = (enum rop)admin_index(a->verb, rop_names);
    if (c.op == R_ADD || c.op == R_SET)
        rc = parse_settings(&c, argc - 1, argv + 1);
    else if (c.op == R_OVERRIDE || c.op == R_OVREMOVE)
        rc = parse_override(&c, argc - 1, argv + 1);
    else if (argc != 1)
        rc = ratelimit_usage();
    return rc ? rc : ratelimit_run(a, &c);
}

static const struct admin_verb ratelimit_verbs[] = {
    {"list", rl_list},
    {"show", rl_show},
    {"add", rl_change},
    {"set", rl_change},
    {"disable", rl_change},
    {"enable", rl_change},
    {"remove", rl_change},
    {"override", rl_change},
    {"override-remove", rl_change},
    {NULL, NULL}};

int cmd_ratelimit(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return ratelimit_usage();
    return admin_dispatch(a, "ratelimit", ratelimit_verbs, NULL, argc, argv);
}
