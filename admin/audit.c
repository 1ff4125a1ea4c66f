/*
 * audit.c - postern audit: read and prune the audit log (audit_log,
 * written by the triggers of sql/migrations/0007_audit.sql; docs/audit.md).
 *
 *   postern audit [ADDRESS|DOMAIN] [table=T] [since=TIME] [until=TIME]
 *                 [user=U] [limit=N]
 *   postern audit prune [older-than=DURATION]
 *
 * The listing prints the newest `limit` changes (default AUDIT_LIMIT_DEFAULT)
 * that match, oldest first: when (UTC), database user, postern user ("-" for
 * hand-written SQL), table, operation, row key and the change (an UPDATE as
 * "column: old -> new, ..."; an INSERT the new row, a DELETE the old row, as
 * JSON objects).  With --json one array of objects whose old/new members are
 * the JSON objects stored.  ADDRESS matches rows about that address
 * (audit_log.address), DOMAIN rows about that domain (audit_log.domain).
 * TIME is "YYYY-MM-DD[ HH:MM[:SS]]" (UTC; 'T' may stand for the space) or
 * a duration back from now ("90m", "12h", "7d").  user=U matches the
 * postern user, or the database account (db_user before its '@').
 *
 * prune deletes rows older than DURATION (default: [audit] retention of
 * the configuration; 0 = keep everything) in batches of AUDIT_PRUNE_BATCH
 * rows, each its own transaction (a Galera write set stays small).  With
 * --dry-run it only counts.
 *
 * Limits: limit at most AUDIT_LIMIT_MAX rows.
 * Diagnostics: one line per problem on stderr; exit statuses of admin.h
 * (64 usage, 65 invalid value, 75 database unavailable, 78 bad [audit]).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "lookup.h"
#include "util.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 100000
#define AUDIT_PRUNE_BATCH 5000
#define AUDIT_STR(x) #x
#define AUDIT_XSTR(x) AUDIT_STR(x)
#define AUDIT_PARAMS_MAX 8

/* the tables that have audit triggers (0007_audit.sql) */
static const char *const audit_tables[] = {
    "domains", "mailboxes", "aliases", "transports", "relayhosts",
    "sender_grants", "dkim_keys", "policy_groups", "policy_group_members",
    "sender_rules", "group_send_rules", "group_send_allowed",
    "greylist_settings", "greylist_whitelist", "ratelimit_rules",
    "ratelimit_windows", "ratelimit_overrides", "policy_domain_checks",
    "directory_groups",
    "mailbox_settings", "mailbox_forwards", /* 0012_sieve_settings.sql */
    "group_moderators", /* 0014_moderation.sql */
    NULL};

struct audit_config {
    long long retention; /* ms; 0 = keep forever */
};

/* [audit] of the configuration: read here, ignored by every daemon */
static int audit_load_config(struct admin *a, struct audit_config *ac)
{
    static const struct cfg_def defs[] = {
        {"retention", CFG_TIME, "365d", 0, 100LL * 366 * 86400 * 1000,
         offsetof(struct audit_config, retention), NULL},
        {NULL, 0, NULL, 0, 0, 0, NULL}};
    struct cfg_section sec = {"audit", defs, ac};
    const char *ignored[32];
    struct str err = {0};
    size_t n = 0;
    int rc;
    for (size_t i = 0; daemon_all_sections[i] && n < 31; i++)
        if (strcmp(daemon_all_sections[i], "audit") != 0)
            ignored[n++] = daemon_all_sections[i];
    ignored[n] = NULL;
    rc = cfg_load(a->config_path, &sec, 1, ignored, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_CONFIG, "audit", "%s", str_cstr(&err));
    cfg_free(&sec, 1);
    str_free(&err);
    return rc < 0 ? ADMIN_EX_CONFIG : ADMIN_EX_OK;
}

/* a duration ("7d", "12h", "90m", "30s") in seconds; 0 or -1 */
static int audit_duration(const char *what, const char *s, long long *secs)
{
    static const struct cfg_def def = {"duration", CFG_TIME, "0", 0,
                                       100LL * 366 * 86400 * 1000, 0, NULL};
    struct str err = {0};
    long long ms = 0;
    int rc = cfg_parse_value(&def, &ms, s, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_DATAERR, what,
                    "'%s' is not a duration such as 90m, 12h, 7d (%s)", s,
                    str_cstr(&err));
    str_free(&err);
    *secs = ms / 1000;
    return rc;
}

/* "YYYY-MM-DD[( |T)HH:MM[:SS]]": 1 when s has that shape */
static int audit_is_date(const char *s)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    size_t n = strlen(s);
    if (n != 10 && n != 16 && n != 19)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9')
                            : shape[i] == ' ' ? (c != ' ' && c != 'T')
                                              : c != shape[i])
            return 0;
    }
    return 1;
}

struct audit_query {
    struct str sql;
    struct db_param p[AUDIT_PARAMS_MAX];
    size_t np;
    char date[2][24];
};

/* since=/until=: a condition on `at` with its parameter */
static int audit_time(struct audit_query *q, const char *what,
                      const char *val, const char *op, int which)
{
    long long secs;
    if (audit_is_date(val)) {
        char *d = q->date[which];
        str_copy_bounded(d, sizeof(q->date[which]), val, strlen(val));
        if (d[10] == 'T')
            d[10] = ' ';
        str_appendf(&q->sql, " AND l.at %s CAST(? AS DATETIME)", op);
        q->p[q->np++] = DBP_S(d);
        return ADMIN_EX_OK;
    }
    if (audit_duration(what, val, &secs) < 0)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "give a time as YYYY-MM-DD[ HH:MM[:SS]] (UTC) or "
                           "a duration back from now");
    str_appendf(&q->sql, " AND l.at %s NOW(6) - INTERVAL ? SECOND", op);
    q->p[q->np++] = DBP_I(secs);
    return ADMIN_EX_OK;
}

static int audit_table_ok(const char *t)
{
    for (size_t i = 0; audit_tables[i]; i++)
        if (strcmp(audit_tables[i], t) == 0)
            return ADMIN_EX_OK;
    for (size_t i = 0; audit_tables[i]; i++)
        if (admin_edit_distance(audit_tables[i], t) <= ADMIN_SUGGEST_DISTANCE)
            return admin_error(ADMIN_EX_DATAERR, "audit",
                               "table '%s' is not audited (did you mean "
                               "'%s'?)", t, audit_tables[i]);
    return admin_error(ADMIN_EX_DATAERR, "audit",
                       "table '%s' is not audited (see docs/audit.md)", t);
}

/* the WHERE part for the subject (ADDRESS or DOMAIN) */
static int audit_subject(struct audit_query *q, const char *in, char *buf)
{
    if (strchr(in, '@')) {
        struct addr ad;
        int rc = admin_parse_address("audit", in, &ad);
        if (rc)
            return rc;
        snprintf(buf, ADDR_MAX + 1, "%s@%s", ad.local, ad.domain);
        str_append_cstr(&q->sql, " AND l.address = ?");
    } else {
        int rc = admin_parse_domain("audit", in, buf);
        if (rc)
            return rc;
        str_append_cstr(&q->sql, " AND l.domain = ?");
    }
    q->p[q->np++] = DBP_S(buf);
    return ADMIN_EX_OK;
}

/* columns: id at db_user admin_user table op key old new change */
static int audit_row_tsv(void *ctx, unsigned n, char **v,
                         const unsigned long *l)
{
    struct admin_out *o = ctx;
    char *vals[7] = {v[1], v[2], v[3], v[4], v[5], v[6], v[9]};
    (void)n;
    (void)l;
    admin_out_row(o, vals);
    return 0;
}

static int audit_row_json(void *ctx, unsigned n, char **v,
                          const unsigned long *l)
{
    static const char *const names[] = {"id", "at", "db_user", "admin_user",
                                        "table", "op", "key", "old", "new"};
    unsigned *count = ctx;
    struct str out = {0};
    (void)n;
    (void)l;
    str_append_cstr(&out, (*count)++ ? ",\n {" : "\n {");
    for (unsigned i = 0; i < 9; i++) {
        if (i)
            str_append_cstr(&out, ", ");
        admin_json_str(&out, names[i]);
        str_append_cstr(&out, ": ");
        if (!v[i])
            str_append_cstr(&out, "null");
        else if (i == 0 || i >= 7) /* a number, or JSON from the database */
            str_append_cstr(&out, v[i]);
        else
            admin_json_str(&out, v[i]);
    }
    str_append_char(&out, '}');
    fwrite(out.data, 1, out.len, stdout);
    str_free(&out);
    return 0;
}

/* UPDATE: "col: old -> new, ..."; INSERT/DELETE: the row as JSON */
#define AUDIT_CHANGE_SQL                                                       \
    "CASE l.op WHEN 'INSERT' THEN l.new_values WHEN 'DELETE' THEN "           \
    "l.old_values ELSE (SELECT GROUP_CONCAT(CONCAT(k.name, ': ', "            \
    "IFNULL(JSON_EXTRACT(l.old_values, CONCAT('$.', k.name)), '-'), ' -> ', " \
    "IFNULL(JSON_EXTRACT(l.new_values, CONCAT('$.', k.name)), '-')) "         \
    "SEPARATOR ', ') FROM JSON_TABLE(JSON_KEYS(l.new_values), '$[*]' "        \
    "COLUMNS (name VARCHAR(64) PATH '$')) k) END"

static int audit_list(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"table", "since", "until", "user",
                                       "limit", NULL};
    static const char *const cols[] = {"at", "db_user", "admin_user", "table",
                                       "op", "key", "change", NULL};
    struct audit_query q = {0};
    struct admin_kv kv;
    struct str err = {0};
    char subject[ADDR_MAX + 1];
    const char *v;
    long long limit = AUDIT_LIMIT_DEFAULT;
    struct db *db;
    int rc, first = 1;

    if (argc > 1 && !strchr(argv[1], '='))
        first = 2;
    rc = admin_kv_parse(&kv, argc - first, argv + first, keys, "audit");
    if (rc)
        return rc;
    str_append_cstr(&q.sql,
                    "SELECT * FROM (SELECT l.id, DATE_FORMAT(l.at, "
                    "'%Y-%m-%d %H:%i:%s'), l.db_user, l.admin_user, "
                    "l.table_name, l.op, l.row_key, l.old_values, "
                    "l.new_values, " AUDIT_CHANGE_SQL
                    " FROM audit_log l WHERE 1");
    if (first == 2 && (rc = audit_subject(&q, argv[1], subject)))
        goto out;
    if ((v = admin_kv_get(&kv, "table"))) {
        if ((rc = audit_table_ok(v)))
            goto out;
        str_append_cstr(&q.sql, " AND l.table_name = ?");
        q.p[q.np++] = DBP_S(v);
    }
    if ((v = admin_kv_get(&kv, "since")) &&
        (rc = audit_time(&q, "audit: since", v, ">=", 0)))
        goto out;
    if ((v = admin_kv_get(&kv, "until")) &&
        (rc = audit_time(&q, "audit: until", v, "<", 1)))
        goto out;
    if ((v = admin_kv_get(&kv, "user"))) {
        str_append_cstr(&q.sql, " AND (l.admin_user = ? OR "
                                "SUBSTRING_INDEX(l.db_user, '@', 1) = ?)");
        q.p[q.np++] = DBP_S(v);
        q.p[q.np++] = DBP_S(v);
    }
    if ((v = admin_kv_get(&kv, "limit"))) {
        char *end;
        limit = strtoll(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || limit < 1 ||
            limit > AUDIT_LIMIT_MAX) {
            rc = admin_error(ADMIN_EX_DATAERR, "audit",
                             "limit '%s': a number from 1 to %d", v,
                             AUDIT_LIMIT_MAX);
            goto out;
        }
    }
    str_append_cstr(&q.sql, " ORDER BY l.id DESC LIMIT ?) x ORDER BY 1");
    q.p[q.np++] = DBP_I(limit);

    if (!(db = admin_db(a))) {
        rc = ADMIN_EX_TEMPFAIL;
        goto out;
    }
    /* times are shown, and since/until read, in UTC */
    if (db_exec(db, "SET time_zone = '+00:00'", NULL, 0, NULL, &err) < 0) {
        rc = admin_error(ADMIN_EX_TEMPFAIL, "database", "%s",
                         str_cstr(&err));
        goto out;
    }
    if (a->json) {
        unsigned count = 0;
        fputs("[", stdout);
        rc = db_query(db, str_cstr(&q.sql), q.p, q.np, audit_row_json,
                      &count, &err);
        fputs(count ? "\n]\n" : "]\n", stdout);
    } else {
        struct admin_out o;
        admin_out_begin(&o, a, cols);
        rc = db_query(db, str_cstr(&q.sql), q.p, q.np, audit_row_tsv, &o,
                      &err);
        admin_out_end(&o);
    }
    if (rc < 0)
        rc = admin_error(ADMIN_EX_TEMPFAIL, "database", "%s",
                         str_cstr(&err));
    else
        rc = ADMIN_EX_OK;
out:
    str_free(&q.sql);
    str_free(&err);
    return rc;
}

static int audit_count_row(void *ctx, unsigned n, char **v,
                           const unsigned long *l)
{
    (void)n;
    (void)l;
    *(long long *)ctx = v[0] ? atoll(v[0]) : 0;
    return 1;
}

static int audit_prune(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"older-than", NULL};
    struct audit_config ac = {0};
    struct admin_kv kv;
    struct str err = {0};
    struct db_param p;
    const char *v;
    long long secs, total = 0;
    unsigned long long n;
    struct db *db;
    int rc;

    if ((rc = admin_kv_parse(&kv, argc - 2, argv + 2, keys, "audit prune")))
        return rc;
    if ((v = admin_kv_get(&kv, "older-than"))) {
        if (audit_duration("audit prune", v, &secs) < 0)
            return ADMIN_EX_DATAERR;
        if (secs == 0)
            return admin_error(ADMIN_EX_DATAERR, "audit prune",
                               "older-than=0 would delete the whole log");
    } else {
        if ((rc = audit_load_config(a, &ac)))
            return rc;
        secs = ac.retention / 1000;
        if (secs == 0) {
            printf("audit log kept forever ([audit] retention = 0)\n");
            return ADMIN_EX_OK;
        }
    }
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p = DBP_I(secs);
    if (a->dry_run) {
        rc = db_query(db, "SELECT COUNT(*) FROM audit_log WHERE at < NOW(6) "
                          "- INTERVAL ? SECOND", &p, 1, audit_count_row,
                      &total, &err);
        if (rc >= 0)
            printf("would prune %lld rows older than %lld s\n", total, secs);
    } else {
        do {
            n = 0;
            rc = db_exec(db, "DELETE FROM audit_log WHERE at < NOW(6) - "
                             "INTERVAL ? SECOND ORDER BY id LIMIT "
                             AUDIT_XSTR(AUDIT_PRUNE_BATCH),
                         &p, 1, &n, &err);
            total += (long long)n;
        } while (rc >= 0 && n == AUDIT_PRUNE_BATCH);
        if (rc >= 0)
            printf("pruned %lld rows older than %lld s\n", total, secs);
    }
    if (rc < 0)
        rc = admin_error(ADMIN_EX_TEMPFAIL, "database",
                         "%s (%lld rows pruned before)", str_cstr(&err),
                         total);
    else
        rc = ADMIN_EX_OK;
    str_free(&err);
    return rc;
}

int cmd_audit(struct admin *a, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "prune") == 0)
        return audit_prune(a, argc, argv);
    return audit_list(a, argc, argv);
}
