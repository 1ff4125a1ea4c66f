/*
 * relayhost.c - postern relayhost: the relayhosts table (Postfix
 * sender_dependent_relayhost_maps through postern-maps).
 *
 *   postern relayhost list
 *   postern relayhost show PATTERN
 *   postern relayhost add PATTERN NEXTHOP [credential_ref=KEY] [comment=TEXT]
 *   postern relayhost set PATTERN [nexthop=H] [credential_ref=KEY] [comment=TEXT]
 *   postern relayhost disable|enable|remove PATTERN
 *
 * PATTERN: default, a sender address, a sender domain, or .domain (its
 * subdomains).  NEXTHOP: [host]:port (no MX lookup) or host:port.
 * credential_ref names the smtp_sasl_password_maps entry with the login:
 * never a password (postern stores none).  The relayhost columns of a
 * domain or a mailbox are set with postern domain/mailbox set ...
 * relayhost=...; a row here wins over them.
 *
 * Before SQL is touched: the pattern, the next hop's syntax, a
 * credential_ref with spaces, a row that exists (73).
 *
 * Exit: 0; 64 usage; 65 refused; 66 no such row; 73 exists; 75 database.
 */
#include <string.h>

#include "commands.h"
#include "routing.h"

#define WHAT "relayhost"

static const char *const rh_add_keys[] = {"credential_ref", "comment", NULL};
static const char *const rh_set_keys[] = {"nexthop", "credential_ref",
                                          "comment", NULL};

static int rh_check_cref(const char *v)
{
    if (!v)
        return ADMIN_EX_OK;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "credential_ref '%s': the key of an "
                               "smtp_sasl_password_maps entry, without "
                               "spaces (never the password itself)", v);
    if (strlen(v) > 255)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "credential_ref longer than 255 characters");
    return ADMIN_EX_OK;
}

/* PATTERN into type/pattern; with must_exist the row's existence checked */
static int rh_key(struct admin *a, const char *in, const char **type,
                  char *pattern, struct db **dbp, int must_exist)
{
    struct db_param p[2];
    char v[8];
    int rc;
    if ((rc = rt_parse_pattern(WHAT, in, type, pattern)))
        return rc;
    if (!(*dbp = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p[0] = DBP_S(*type);
    p[1] = DBP_S(pattern);
    rc = admin_value(*dbp, WHAT, "SELECT 1 FROM relayhosts WHERE "
                     "match_type = ? AND pattern = ?", p, 2, v, sizeof(v));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (must_exist && rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, WHAT,
                           "no relayhost row for %s (postern relayhost list "
                           "shows them)", in);
    if (!must_exist && rc == LK_FOUND)
        return admin_error(ADMIN_EX_CANTCREAT, WHAT,
                           "%s exists already (postern relayhost set %s "
                           "nexthop=... changes it)", in, in);
    return ADMIN_EX_OK;
}

static int rh_add(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct rt_stmt t;
    struct db *db;
    const char *type, *cref, *cm;
    char pattern[RT_NAME_MAX + 1];
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern relayhost add PATTERN NEXTHOP "
                           "[credential_ref=KEY] [comment=TEXT]");
    if ((rc = admin_kv_parse(&kv, argc - 2, argv + 2, rh_add_keys, WHAT)))
        return rc;
    cref = rt_null(admin_kv_get(&kv, "credential_ref"));
    cm = rt_null(admin_kv_get(&kv, "comment"));
    if ((rc = rt_check_relayhost(WHAT, "nexthop", argv[1])) ||
        (rc = rh_check_cref(cref)) ||
        (rc = rh_key(a, argv[0], &type, pattern, &db, 0)))
        return rc;
    t = (struct rt_stmt){"INSERT INTO relayhosts (match_type, pattern, nexthop, "
                       "credential_ref, comment) VALUES (?, ?, ?, ?, ?)",
                       {DBP_S(type), DBP_S(pattern), DBP_S(argv[1]),
                        cref ? DBP_S(cref) : DBP_NUL,
                        cm ? DBP_S(cm) : DBP_NUL},
                       5, 0};
    return rt_stmt_run(a, &t, WHAT, "added", argv[0]);
}

static int rh_set(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct rt_stmt t;
    struct db *db;
    const char *type, *nh, *cref, *cm;
    char pattern[RT_NAME_MAX + 1];
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern relayhost set PATTERN KEY=VALUE...");
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, rh_set_keys, WHAT)))
        return rc;
    nh = admin_kv_get(&kv, "nexthop");
    cref = admin_kv_get(&kv, "credential_ref");
    cm = admin_kv_get(&kv, "comment");
    if (nh && (rc = rt_check_relayhost(WHAT, "nexthop", nh)))
        return rc;
    if ((rc = rh_check_cref(rt_null(cref))) ||
        (rc = rh_key(a, argv[0], &type, pattern, &db, 1)))
        return rc;
    t = (struct rt_stmt){"UPDATE relayhosts SET nexthop = IFNULL(?, nexthop), "
                       "credential_ref = IF(?, ?, credential_ref), "
                       "comment = IF(?, ?, comment) "
                       "WHERE match_type = ? AND pattern = ?",
                       {nh ? DBP_S(nh) : DBP_NUL, DBP_I(cref != NULL),
                        rt_null(cref) ? DBP_S(cref) : DBP_NUL,
                        DBP_I(cm != NULL), rt_null(cm) ? DBP_S(cm) : DBP_NUL,
                        DBP_S(type), DBP_S(pattern)},
                       7, 0};
    return rt_stmt_run(a, &t, WHAT, "changed", argv[0]);
}

static int rh_simple(struct admin *a, int argc, char **argv)
{
    const char *verb = a->verb; /* disable, enable, remove */
    struct rt_stmt t;
    struct db *db;
    const char *type;
    char pattern[RT_NAME_MAX + 1];
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern relayhost %s PATTERN", verb);
    if ((rc = rh_key(a, argv[0], &type, pattern, &db, 1)))
        return rc;
    t = (struct rt_stmt){
        !strcmp(verb, "remove")
            ? "DELETE FROM relayhosts WHERE match_type = ? AND pattern = ?"
        : !strcmp(verb, "enable")
            ? "UPDATE relayhosts SET active = 1 WHERE match_type = ? AND pattern = ?"
            : "UPDATE relayhosts SET active = 0 WHERE match_type = ? AND pattern = ?",
        {DBP_S(type), DBP_S(pattern)}, 2, 0};
    return rt_stmt_run(a, &t, WHAT, rt_done(verb), argv[0]);
}

static const char *const rh_cols[] = {"match_type", "pattern", "nexthop",
                                      "credential_ref", "active", "comment",
                                      NULL};

static int rh_show(struct admin *a, int argc, char **argv)
{
    struct db *db;
    const char *type;
    char pattern[RT_NAME_MAX + 1];
    struct db_param p[2];
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern relayhost show PATTERN");
    if ((rc = rh_key(a, argv[0], &type, pattern, &db, 1)))
        return rc;
    p[0] = DBP_S(type);
    p[1] = DBP_S(pattern);
    rc = admin_show(a, WHAT, rh_cols,
                    "SELECT match_type, pattern, nexthop, credential_ref, "
                    "active, comment FROM relayhosts WHERE match_type = ? "
                    "AND pattern = ?", p, 2);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

static int rh_list(struct admin *a, int argc, char **argv)
{
    (void)argv;
    return rt_list(a, WHAT, argc, rh_cols,
                   "SELECT match_type, pattern, nexthop, credential_ref, "
                   "active, comment FROM relayhosts ORDER BY "
                   "FIELD(match_type, 'address', 'domain', 'default'), "
                   "pattern");
}

const struct admin_verb relayhost_verbs[] = {
    {"list", rh_list}, {"show", rh_show}, {"add", rh_add},
    {"set", rh_set}, {"disable", rh_simple}, {"enable", rh_simple},
    {"remove", rh_simple}, {NULL, NULL},
};
