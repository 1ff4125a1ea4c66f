/*
 * group.c - postern group: policy groups (policy_groups) and their
 * members (policy_group_members), which sender rules, rate limits and
 * group send rights name.
 *
 *   postern group list
 *   postern group show NAME                      the members
 *   postern group add NAME [description=TEXT]
 *   postern group set NAME description=TEXT
 *   postern group remove NAME                    refused while a rule uses it
 *   postern group add-member NAME MEMBER [comment=TEXT]
 *   postern group remove-member NAME MEMBER
 *
 * MEMBER is an address (x@y), a domain (y, .y = its subdomains), group:NAME
 * (a nested policy group) or ldap:DN-OR-GROUP-ADDRESS; the prefixes
 * address: and domain: may be written too.  Addresses and domains of an
 * alias domain are stored under its target (rules match canonical
 * addresses).  A nested group that would make a cycle is refused (the
 * daemons would end the walk, but the admin meant something else).
 * Members with owner = 'ldap' belong to postern-dirsync and are not
 * changed.
 *
 * Limits: names as the CHECKs of the schema allow (lower-case
 * [a-z0-9][a-z0-9._-]*, 64 octets); the cycle check walks at most
 * GROUP_WALK_MAX groups.
 * Diagnostics: one line per problem on stderr; exit statuses of admin.h
 * (65 invalid, 66 no such group or member, 73 exists already).
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lookup.h"
#include "mem.h"
#include "util.h"

#define GROUP_NAME_MAX ADMIN_NAME_MAX
#define GROUP_WALK_MAX 4096

enum gop { G_ADD, G_SET, G_REMOVE, G_MADD, G_MREMOVE };

struct gctx {
    enum gop op;
    const char *name;
    const char *description; /* NULL = not given */
    const char *comment;
    char mtype[16];
    char mvalue[ADDR_MAX + 1];
};

/* parse MEMBER into type and stored value (before SQL; the domain check
   and the group checks need the database and run in the transaction) */
static int parse_member(const char *what, const char *in, struct gctx *c)
{
    static const struct {
        const char *prefix, *type;
    } pfx[] = {{"group:", "group"}, {"ldap:", "ldap_group"},
               {"address:", "address"}, {"domain:", "domain"}};
    const char *v = in;
    strcpy(c->mtype, strchr(in, '@') ? "address" : "domain");
    for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
        if (!strncmp(in, pfx[i].prefix, strlen(pfx[i].prefix))) {
            strcpy(c->mtype, pfx[i].type);
            v = in + strlen(pfx[i].prefix);
        }
    if (!strcmp(c->mtype, "group")) {
        if (admin_parse_name(what, v))
            return ADMIN_EX_DATAERR;
        str_copy_bounded(c->mvalue, sizeof(c->mvalue), v, strlen(v));
    } else if (!strcmp(c->mtype, "ldap_group")) {
        if (!*v || strlen(v) > ADDR_MAX || strpbrk(v, "\r\n\t") ||
            (!strchr(v, '=') && !strchr(v, '@')))
            return admin_error(ADMIN_EX_DATAERR, what,
                               "'%s': an LDAP group is a DN or the group's "
                               "mail address", v);
        str_copy_bounded(c->mvalue, sizeof(c->mvalue), v, strlen(v));
    } else if (!strcmp(c->mtype, "address")) {
        struct addr ad;
        if (admin_parse_address(what, v, &ad))
            return ADMIN_EX_DATAERR;
        snprintf(c->mvalue, sizeof(c->mvalue), "%s@%s", ad.local, ad.domain);
    } else {
        char d[ADDR_DOMAIN_MAX + 1];
        int sub = v[0] == '.';
        if (admin_parse_domain(what, v + sub, d))
            return ADMIN_EX_DATAERR;
        snprintf(c->mvalue, sizeof(c->mvalue), "%s%s", sub ? "." : "", d);
    }
    return ADMIN_EX_OK;
}

/* 1 if group `from` reaches group `target` through nested group members
   (or is it); 0; LK_TEMP */
struct walk {
    char names[GROUP_WALK_MAX][GROUP_NAME_MAX + 1];
    unsigned n;
};

static int walk_row(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct walk *w = vctx;
    (void)n;
    for (unsigned i = 0; i < w->n; i++)
        if (!strcmp(w->names[i], v[0]))
            return 0;
    if (w->n < GROUP_WALK_MAX)
        str_copy_bounded(w->names[w->n++], GROUP_NAME_MAX + 1, v[0], l[0]);
    return 0;
}

static int reaches(struct db *db, const char *from, const char *target,
                   struct str *err)
{
    struct walk *w = xcalloc(1, sizeof(*w));
    int found = 0;
    str_copy_bounded(w->names[0], GROUP_NAME_MAX + 1, from, strlen(from));
    w->n = 1;
    for (unsigned i = 0; i < w->n && !found; i++) {
        struct db_param p = DBP_S(w->names[i]);
        if (!strcmp(w->names[i], target)) {
            found = 1;
            break;
        }
        if (db_query(db,
                     "SELECT m.value FROM policy_group_members m JOIN "
                     "policy_groups g ON g.id = m.group_id WHERE g.name = ? "
                     "AND m.member_type = 'group'",
                     &p, 1, walk_row, w, err) < 0) {
            free(w);
            return LK_TEMP;
        }
    }
    free(w);
    return found;
}

static int group_tx(struct admin *a, struct db *db, void *vctx, int *status,
                    struct str *err)
{
    struct gctx *c = vctx;
    long long id = 0, n;
    unsigned long long aff = 0;
    int rc;
    (void)a;

    if (c->op == G_ADD) {
        struct db_param p[2] = {DBP_S(c->name),
                                c->description ? DBP_S(c->description) : DBP_NUL};
        char buf[32];
        rc = admin_value(db, "group add", "SELECT id FROM policy_groups WHERE name = ?",
                         p, 1, buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (rc == LK_FOUND) {
            *status = admin_error(ADMIN_EX_CANTCREAT, "group add",
                                  "policy group '%s' exists already", c->name);
            return 0;
        }
        return db_exec(db, "INSERT INTO policy_groups (name, description) "
                           "VALUES (?, ?)", p, 2, NULL, err) < 0 ? -1 : 0;
    }
    rc = admin_group_id(db, "group", c->name, ADMIN_EX_NOINPUT, &id);
    if (rc) {
        if (rc == ADMIN_EX_TEMPFAIL)
            return -1;
        *status = rc;
        return 0;
    }
    if (c->op == G_SET) {
        struct db_param p[2] = {c->description ? DBP_S(c->description) : DBP_NUL,
                                DBP_I(id)};
        return db_exec(db, "UPDATE policy_groups SET description = ? WHERE id = ?",
                       p, 2, NULL, err) < 0 ? -1 : 0;
    }
    if (c->op == G_REMOVE) {
        static const struct {
            const char *sql, *what;
            size_t np;
        } uses[] = {
            {"SELECT COUNT(*) FROM sender_rules WHERE sender_group_id = ? OR "
             "recipient_group_id = ?", "sender rule(s) (postern sendrule list)", 2},
            {"SELECT COUNT(*) FROM ratelimit_rules WHERE group_id = ?",
             "rate-limit rule(s) (postern ratelimit list)", 1},
            {"SELECT COUNT(*) FROM group_send_allowed WHERE policy_group_id = ?",
             "group send rule(s) (postern sendrule list)", 1},
            {"SELECT COUNT(*) FROM policy_group_members m JOIN policy_groups g "
             "ON g.name = m.member_group WHERE g.id = ?",
             "other group(s) as a nested member", 1},
            {"SELECT COUNT(*) FROM policy_group_members WHERE group_id = ? AND "
             "owner = 'ldap'", NULL, 1},
        };
        for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
            char buf[32];
            struct db_param p[2] = {DBP_I(id), DBP_I(id)};
            if (admin_value(db, "group remove", uses[i].sql, p, uses[i].np, buf,
                            sizeof(buf)) < 0)
                return -1;
            n = strtoll(buf, NULL, 10);
            if (n && uses[i].what) {
                *status = admin_error(ADMIN_EX_DATAERR, "group remove",
                                      "policy group '%s' is used by %lld %s; "
                                      "remove those first", c->name, n,
                                      uses[i].what);
                return 0;
            }
            if (n) {
                char obj[160];
                snprintf(obj, sizeof(obj), "policy group '%s' (%lld of its "
                         "members)", c->name, n);
                *status = admin_ldap_owned("group remove", obj);
                return 0;
            }
        }
        {
            struct db_param p = DBP_I(id);
            return db_exec(db, "DELETE FROM policy_groups WHERE id = ?", &p, 1,
                           NULL, err) < 0 ? -1 : 0;
        }
    }
    /* members */
    if (!strcmp(c->mtype, "group") && c->op == G_MADD) {
        long long nid;
        rc = admin_group_id(db, "group add-member", c->mvalue, ADMIN_EX_DATAERR, &nid);
        if (rc) {
            if (rc == ADMIN_EX_TEMPFAIL)
                return -1;
            *status = rc;
            return 0;
        }
        rc = reaches(db, c->mvalue, c->name, err);
        if (rc < 0)
            return -1;
        if (rc) {
            *status = admin_error(ADMIN_EX_DATAERR, "group add-member",
                                  "'%s' in '%s' would make a cycle ('%s' %s "
                                  "'%s')", c->mvalue, c->name, c->mvalue,
                                  strcmp(c->mvalue, c->name) ? "already contains"
                                                             : "is",
                                  c->name);
            return 0;
        }
    }
    if ((!strcmp(c->mtype, "address") || !strcmp(c->mtype, "domain")) &&
        c->op == G_MADD) {
        /* an alias domain: store under its target (only a known alias
           domain is rewritten; other domains are members as given) */
        char *at = strchr(c->mvalue, '@');
        char *dom = at ? at + 1 : c->mvalue + (c->mvalue[0] == '.');
        char target[ADDR_DOMAIN_MAX + 1];
        struct db_param p = DBP_S(dom);
        rc = admin_value(db, "group add-member",
                         "SELECT alias_target FROM domains WHERE name = ? AND "
                         "kind = 'alias'", &p, 1, target, sizeof(target));
        if (rc < 0)
            return -1;
        if (rc == LK_FOUND && *target) {
            fprintf(stderr, "postern: group add-member: note: %s is an alias "
                            "domain of %s; stored as %s\n", dom, target, target);
            if (strlen(c->mvalue) - strlen(dom) + strlen(target) < sizeof(c->mvalue))
                strcpy(dom, target);
        }
    }
    {
        struct db_param p[3] = {DBP_I(id), DBP_S(c->mtype), DBP_S(c->mvalue)};
        char owner[16];
        rc = admin_value(db, "group", "SELECT owner FROM policy_group_members "
                                      "WHERE group_id = ? AND member_type = ? "
                                      "AND value = ?",
                         p, 3, owner, sizeof(owner));
        if (rc < 0)
            return -1;
        if (c->op == G_MADD) {
            struct db_param q[4] = {DBP_I(id), DBP_S(c->mtype), DBP_S(c->mvalue),
                                    c->comment ? DBP_S(c->comment) : DBP_NUL};
            if (rc == LK_FOUND) {
                *status = admin_error(ADMIN_EX_CANTCREAT, "group add-member",
                                      "%s %s is a member of '%s' already",
                                      c->mtype, c->mvalue, c->name);
                return 0;
            }
            return db_exec(db, "INSERT INTO policy_group_members (group_id, "
                               "member_type, value, comment) VALUES (?, ?, ?, ?)",
                           q, 4, NULL, err) < 0 ? -1 : 0;
        }
        if (rc == LK_NOTFOUND) {
            *status = admin_error(ADMIN_EX_NOINPUT, "group remove-member",
                                  "%s %s is no member of '%s'", c->mtype,
                                  c->mvalue, c->name);
            return 0;
        }
        if (!strcmp(owner, "ldap")) {
            *status = admin_ldap_owned("group remove-member", "this member");
            return 0;
        }
        if (db_exec(db, "DELETE FROM policy_group_members WHERE group_id = ? "
                        "AND member_type = ? AND value = ? AND owner = 'sql'",
                    p, 3, &aff, err) < 0)
            return -1;
        return 0;
    }
}

static int group_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "group",
                       "usage: group list | show NAME | add NAME "
                       "[description=TEXT] | set NAME description=TEXT | "
                       "remove NAME | add-member NAME MEMBER [comment=TEXT] | "
                       "remove-member NAME MEMBER");
}

/* the NAME every verb but list starts with (argv[0]), checked */
static int group_name(int argc, char **argv, struct gctx *c)
{
    if (argc < 1)
        return group_usage();
    c->name = argv[0];
    return admin_parse_name("group", c->name) ? ADMIN_EX_DATAERR : ADMIN_EX_OK;
}

/* run the change c describes and say what it did */
static int group_change(struct admin *a, struct gctx *c)
{
    static const char *const done[] = {"added", "changed", "removed",
                                       "member added", "member removed"};
    char key[ADMIN_NAME_MAX + ADDR_MAX + 24];
    int rc = admin_transaction(a, group_tx, c);
    if (rc != ADMIN_EX_OK)
        return rc;
    if (c->op == G_MADD || c->op == G_MREMOVE)
        snprintf(key, sizeof(key), "%s %s:%s", c->name, c->mtype, c->mvalue);
    else
        snprintf(key, sizeof(key), "%s", c->name);
    admin_done(a, "group", done[c->op], key, 1);
    return rc;
}

static int g_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"name", "members", "description",
                                       NULL};
    (void)argv;
    if (argc != 0)
        return group_usage();
    return admin_list(a, cols,
                      "SELECT g.name, COUNT(m.id), g.description FROM "
                      "policy_groups g LEFT JOIN policy_group_members m ON "
                      "m.group_id = g.id GROUP BY g.id ORDER BY g.name",
                      NULL, 0);
}

static int g_show(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"group", "type", "value", "owner",
                                       "comment", NULL};
    struct gctx c = {0};
    struct db_param p;
    struct db *db;
    long long id;
    int rc;
    if ((rc = group_name(argc, argv, &c)))
        return rc;
    if (argc != 1)
        return group_usage();
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = admin_group_id(db, "group show", c.name, ADMIN_EX_NOINPUT, &id)))
        return rc;
    p = DBP_S(c.name);
    return admin_list(a, cols,
                      "SELECT g.name, m.member_type, m.value, m.owner, "
                      "m.comment FROM policy_groups g JOIN "
                      "policy_group_members m ON m.group_id = g.id WHERE "
                      "g.name = ? ORDER BY m.member_type, m.value",
                      &p, 1);
}

/* group add|set NAME [description=TEXT] */
static int g_describe(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"description", NULL};
    enum gop op = strcmp(a->verb, "add") ? G_SET : G_ADD;
    struct gctx c = {.op = op};
    struct admin_kv kv;
    int rc;
    if ((rc = group_name(argc, argv, &c)))
        return rc;
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, keys,
                             op == G_ADD ? "group add" : "group set")))
        return rc;
    c.description = admin_kv_get(&kv, "description");
    if (op == G_SET && !c.description)
        return admin_error(ADMIN_EX_USAGE, "group set",
                           "nothing to set (description=TEXT)");
    if (c.description && !*c.description)
        c.description = NULL;
    if (c.description && strlen(c.description) > 255)
        return admin_error(ADMIN_EX_DATAERR, "group", "description longer "
                           "than 255 characters");
    return group_change(a, &c);
}

static int g_remove(struct admin *a, int argc, char **argv)
{
    struct gctx c = {.op = G_REMOVE};
    int rc;
    if ((rc = group_name(argc, argv, &c)))
        return rc;
    if (argc != 1)
        return group_usage();
    return group_change(a, &c);
}

/* group add-member|remove-member NAME MEMBER [comment=TEXT] */
static int g_member(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"comment", NULL};
    enum gop op = strcmp(a->verb, "add-member") ? G_MREMOVE : G_MADD;
    struct gctx c = {.op = op};
    struct admin_kv kv;
    int rc;
    if ((rc = group_name(argc, argv, &c)))
        return rc;
    if (argc < 2)
        return group_usage();
    if ((rc = parse_member(a->verb, argv[1], &c)))
        return rc;
    if ((rc = admin_kv_parse(&kv, argc - 2, argv + 2,
                             op == G_MADD ? keys : keys + 1, a->verb)))
        return rc;
    c.comment = admin_kv_get(&kv, "comment");
    if (c.comment && strlen(c.comment) > 255)
        return admin_error(ADMIN_EX_DATAERR, "group", "comment longer "
                           "than 255 characters");
    return group_change(a, &c);
}

static const struct admin_verb group_verbs[] = {
    {"list", g_list},
    {"show", g_show},
    {"add", g_describe},
    {"set", g_describe},
    {"remove", g_remove},
    {"add-member", g_member},
    {"remove-member", g_member},
    {NULL, NULL}};

int cmd_group(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return group_usage();
    return admin_dispatch(a, "group", group_verbs, NULL, argc, argv);
}
