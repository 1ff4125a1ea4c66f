/*
 * transport.c - postern transport: the transports table (Postfix
 * transport_maps through postern-maps).
 *
 *   postern transport list
 *   postern transport show PATTERN [purpose=P]
 *   postern transport add PATTERN TRANSPORT [purpose=P] [comment=TEXT]
 *   postern transport set PATTERN [purpose=P] [transport=T] [comment=TEXT]
 *   postern transport disable|enable|remove PATTERN [purpose=P]
 *
 * PATTERN: default, a recipient address, a domain, or .domain (its
 * subdomains).  purpose: delivery (the route for the pattern; the default
 * row is the smarthost for everything external; the default when none is
 * given to add), local (how mailboxes of local domains are delivered,
 * e.g. postern-lda:), legacy (where mailboxes with
 * migration_state=legacy go).  Where a pattern has rows for several
 * purposes, the others name one with purpose=.
 *
 * Which mailboxes are legacy or migrated is set per mailbox: postern
 * mailbox set ADDRESS migration_state=migrated.
 *
 * Before SQL is touched: the pattern, the transport:nexthop syntax, an
 * address row with a purpose other than delivery (not looked up), a row
 * that exists (73); remove of the last legacy route while legacy
 * mailboxes still use it is refused (their mail would wait).
 *
 * Exit: 0; 64 usage; 65 refused; 66 no such row; 73 exists; 75 database.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "routing.h"

#define WHAT "transport"

static const char *const tr_add_keys[] = {"purpose", "comment", NULL};
static const char *const tr_set_keys[] = {"purpose", "transport", "comment",
                                          NULL};
static const char *const tr_sel_keys[] = {"purpose", NULL};

struct tr_key {
    const char *type;
    char pattern[RT_NAME_MAX + 1];
    const char *purpose; /* NULL: any (must be one row) */
    char found[64];      /* the purpose of the row selected */
};

static int tr_check_purpose(const char *p)
{
    if (!p || !strcmp(p, "delivery") || !strcmp(p, "local") ||
        !strcmp(p, "legacy"))
        return ADMIN_EX_OK;
    return admin_error(ADMIN_EX_DATAERR, WHAT,
                       "purpose '%s': delivery, local or legacy", p);
}

/* the one row PATTERN [purpose=] names: 0, 66 or another status */
static int tr_select(struct db *db, struct tr_key *k)
{
    struct db_param p[4] = {DBP_S(k->type), DBP_S(k->pattern),
                            DBP_S(k->purpose ? k->purpose : ""),
                            DBP_S(k->purpose ? k->purpose : "")};
    char v[64];
    int rc = admin_value(db, WHAT,
                         "SELECT GROUP_CONCAT(purpose ORDER BY purpose) FROM transports "
                         "WHERE match_type = ? AND pattern = ? AND (? = '' OR purpose = ?) "
                         "HAVING COUNT(*) > 0",
                         p, 4, v, sizeof(v));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, WHAT, "no transport row for %s%s%s",
                           k->type[0] == 'd' && !k->pattern[0] ? "default"
                                                               : k->pattern,
                           k->purpose ? " purpose=" : "",
                           k->purpose ? k->purpose : "");
    if (strchr(v, ','))
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "%s has rows for several purposes (%s): say "
                           "purpose=...", k->pattern[0] ? k->pattern
                                                        : "default", v);
    snprintf(k->found, sizeof(k->found), "%s", v);
    return ADMIN_EX_OK;
}

static int tr_key_parse(const char *in, const char *purpose, struct tr_key *k)
{
    int rc;
    memset(k, 0, sizeof(*k));
    if ((rc = rt_parse_pattern(WHAT, in, &k->type, k->pattern)) ||
        (rc = tr_check_purpose(purpose)))
        return rc;
    k->purpose = purpose;
    return ADMIN_EX_OK;
}

static int tr_add(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct tr_key k;
    struct rt_stmt t;
    struct db *db;
    const char *purpose, *comment;
    char v[8];
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern transport add PATTERN TRANSPORT "
                           "[purpose=delivery|local|legacy] [comment=TEXT]");
    if ((rc = admin_kv_parse(&kv, argc - 2, argv + 2, tr_add_keys, WHAT)))
        return rc;
    purpose = admin_kv_get(&kv, "purpose");
    comment = rt_null(admin_kv_get(&kv, "comment"));
    if ((rc = tr_key_parse(argv[0], purpose ? purpose : "delivery", &k)) ||
        (rc = rt_check_transport(WHAT, "transport", argv[1])))
        return rc;
    if (!strcmp(k.type, "address") && strcmp(k.purpose, "delivery"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "an address row is a delivery route only (local "
                           "and legacy routes are per domain or default; "
                           "for one mailbox use postern mailbox set %s "
                           "transport=...)", k.pattern);
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    {
        struct db_param p[3] = {DBP_S(k.type), DBP_S(k.pattern),
                                DBP_S(k.purpose)};
        rc = admin_value(db, WHAT, "SELECT 1 FROM transports WHERE "
                         "match_type = ? AND pattern = ? AND purpose = ?",
                         p, 3, v, sizeof(v));
    }
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND)
        return admin_error(ADMIN_EX_CANTCREAT, WHAT,
                           "%s purpose=%s exists already (postern transport "
                           "set %s purpose=%s transport=... changes it)",
                           argv[0], k.purpose, argv[0], k.purpose);
    t = (struct rt_stmt){"INSERT INTO transports (match_type, pattern, purpose, "
                       "transport, comment) VALUES (?, ?, ?, ?, ?)",
                       {DBP_S(k.type), DBP_S(k.pattern), DBP_S(k.purpose),
                        DBP_S(argv[1]), comment ? DBP_S(comment) : DBP_NUL},
                       5, 0};
    return rt_stmt_run(a, &t, WHAT, "added", argv[0]);
}

static int tr_set(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct tr_key k;
    struct rt_stmt t;
    struct db *db;
    const char *tr, *cm;
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern transport set PATTERN [purpose=P] "
                           "transport=T|comment=TEXT");
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, tr_set_keys, WHAT)) ||
        (rc = tr_key_parse(argv[0], admin_kv_get(&kv, "purpose"), &k)))
        return rc;
    tr = admin_kv_get(&kv, "transport");
    cm = admin_kv_get(&kv, "comment");
    if (!tr && !cm)
        return admin_error(ADMIN_EX_USAGE, WHAT, "nothing to set (transport= "
                           "or comment=)");
    if (tr && (rc = rt_check_transport(WHAT, "transport", tr)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = tr_select(db, &k)))
        return rc;
    t = (struct rt_stmt){"UPDATE transports SET transport = IFNULL(?, transport), "
                       "comment = IF(?, ?, comment) WHERE match_type = ? AND "
                       "pattern = ? AND purpose = ?",
                       {tr ? DBP_S(tr) : DBP_NUL, DBP_I(cm != NULL),
                        cm && rt_null(cm) ? DBP_S(cm) : DBP_NUL,
                        DBP_S(k.type), DBP_S(k.pattern), DBP_S(k.found)},
                       6, 0};
    return rt_stmt_run(a, &t, WHAT, "changed", argv[0]);
}

/* legacy mailboxes that would lose their only legacy route */
static int tr_check_legacy_users(struct db *db, const struct tr_key *k)
{
    char n[32];
    struct db_param p[2] = {DBP_S(k->type), DBP_S(k->pattern)};
    int rc;
    if (strcmp(k->found, "legacy") != 0)
        return ADMIN_EX_OK;
    rc = admin_value(db, WHAT,
                     "SELECT COUNT(*) FROM mailboxes m JOIN domains d ON d.name = m.domain "
                     "WHERE m.migration_state = 'legacy' AND m.active = 1 "
                     "AND m.transport IS NULL AND d.legacy_transport IS NULL "
                     "AND NOT EXISTS (SELECT 1 FROM transports t WHERE t.purpose = 'legacy' "
                     "AND t.active = 1 AND NOT (t.match_type = ? AND t.pattern = ?) "
                     "AND (t.match_type = 'default' OR (t.match_type = 'domain' AND t.pattern = m.domain)))",
                     p, 2, n, sizeof(n));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (atoll(n) > 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s legacy mailboxes have no other legacy route: "
                           "their mail would wait in the queue; migrate them "
                           "first (postern mailbox set ADDRESS "
                           "migration_state=migrated) or add another route",
                           n);
    return ADMIN_EX_OK;
}

static int tr_simple(struct admin *a, int argc, char **argv)
{
    const char *verb = a->verb; /* disable, enable, remove */
    struct admin_kv kv;
    struct tr_key k;
    struct rt_stmt t;
    struct db *db;
    int rc;
    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern transport %s PATTERN [purpose=P]",
                           verb);
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, tr_sel_keys, WHAT)) ||
        (rc = tr_key_parse(argv[0], admin_kv_get(&kv, "purpose"), &k)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = tr_select(db, &k)))
        return rc;
    if (strcmp(verb, "enable") && (rc = tr_check_legacy_users(db, &k)))
        return rc;
    t = (struct rt_stmt){
        !strcmp(verb, "remove")
            ? "DELETE FROM transports WHERE match_type = ? AND pattern = ? AND purpose = ?"
        : !strcmp(verb, "enable")
            ? "UPDATE transports SET active = 1 WHERE match_type = ? AND pattern = ? AND purpose = ?"
            : "UPDATE transports SET active = 0 WHERE match_type = ? AND pattern = ? AND purpose = ?",
        {DBP_S(k.type), DBP_S(k.pattern), DBP_S(k.found)}, 3, 0};
    return rt_stmt_run(a, &t, WHAT, rt_done(verb), argv[0]);
}

static const char *const tr_cols[] = {"match_type", "pattern", "purpose",
                                      "transport", "active", "comment", NULL};

static int tr_show(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct tr_key k;
    struct db *db;
    int rc;
    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern transport show PATTERN [purpose=P]");
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, tr_sel_keys, WHAT)) ||
        (rc = tr_key_parse(argv[0], admin_kv_get(&kv, "purpose"), &k)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    {
        struct db_param p[4] = {DBP_S(k.type), DBP_S(k.pattern),
                                DBP_S(k.purpose ? k.purpose : ""),
                                DBP_S(k.purpose ? k.purpose : "")};
        char v[8];
        rc = admin_value(db, WHAT, "SELECT 1 FROM transports WHERE "
                         "match_type = ? AND pattern = ? AND (? = '' OR purpose = ?)",
                         p, 4, v, sizeof(v));
        if (rc < 0)
            return ADMIN_EX_TEMPFAIL;
        if (rc == LK_NOTFOUND)
            return tr_select(db, &k); /* explains */
        return admin_list(a, tr_cols,
                          "SELECT match_type, pattern, purpose, transport, "
                          "active, comment FROM transports WHERE match_type = ? "
                          "AND pattern = ? AND (? = '' OR purpose = ?) "
                          "ORDER BY purpose", p, 4);
    }
}

static int tr_list(struct admin *a, int argc, char **argv)
{
    (void)argv;
    return rt_list(a, WHAT, argc, tr_cols,
                   "SELECT match_type, pattern, purpose, transport, active, "
                   "comment FROM transports ORDER BY FIELD(match_type, "
                   "'address', 'domain', 'default'), pattern, purpose");
}

const struct admin_verb transport_verbs[] = {
    {"list", tr_list}, {"show", tr_show}, {"add", tr_add},
    {"set", tr_set}, {"disable", tr_simple}, {"enable", tr_simple},
    {"remove", tr_simple}, {NULL, NULL},
};
