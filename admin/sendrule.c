/*
 * sendrule.c - postern sendrule: who may send to whom.  Two tables, one
 * command, told apart by what the rule is named after:
 *
 *   a group ADDRESS (9a@bns.school.example): postern-milter's
 *   group_send_rules + group_send_allowed (docs/milter.md, "Who may send
 *   to a group") - "a class writable only by teachers":
 *     postern sendrule add 9a@bns.school.example allow=bns-teachers
 *     allow=anyone | authenticated | members | GROUP[,GROUP...]
 *     auth=yes|no (identify senders by SASL login; default yes)
 *     text=TEXT (after 550 5.7.1), description=TEXT
 *     moderators=ADDRESS|GROUP[,...] | none (group_moderators, migration
 *     0014: a refused sender's mail is held for them instead; an address
 *     may be an LDAP group's, GROUP a policy group that must exist;
 *     docs/milter.md "Moderated groups")
 *
 *   a rule NAME (parents-closed): postern-policyd's sender_rules
 *   (docs/policyd.md, "Sender rules") - evaluated by priority, the first
 *   matching rule decides:
 *     postern sendrule add NAME to=GROUP [from=GROUP] action=permit|reject|defer
 *         [priority=N] [auth=yes] [spf=yes] [text=TEXT] [comment=TEXT]
 *     (from/to '*' = anyone; at least one of them names a group)
 *
 *   postern sendrule close GROUP allow=G1[,G2...] [priority=N] [text=TEXT]
 *     "parents closed to the school": one permit rule GROUP-from-Gi per
 *     allowed group (require_auth: the SASL login must own the sender) at
 *     priority N, N+1, ..., then GROUP-closed rejecting everyone else.
 *
 *   postern sendrule list | show RULE | set RULE KEY=VALUE... |
 *     disable RULE | enable RULE | remove RULE
 *
 * Validation before SQL: groups must exist (did-you-mean), a group
 * address must be in a hosted domain (an alias domain is stored as its
 * target), names as the schema's CHECKs, texts without control
 * characters; an existing rule is 73, an unknown one 66.  Rows with
 * owner = 'ldap' (group rules postern-dirsync made from the directory)
 * are not changed.
 *
 * Limits: ADMIN_KV_MAX settings, SENDRULE_ALLOW_MAX allowed groups.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lookup.h"
#include "mem.h"
#include "util.h"

#define SENDRULE_ALLOW_MAX 32
#define SENDRULE_MODERATORS_MAX 32
#define SENDRULE_NAME_MAX ADMIN_NAME_MAX

enum sop { S_ADD, S_SET, S_DISABLE, S_ENABLE, S_REMOVE, S_CLOSE };
static const char *const sop_names[] = {"add", "set", "disable", "enable",
                                        "remove", "close", NULL};

struct sctx {
    enum sop op;
    int is_group;            /* the rule is a group address (milter) */
    const char *what;        /* "sendrule add" (in what_buf) */
    char what_buf[48];
    char rule[ADDR_MAX + 1]; /* rule name or group address */
    struct admin_kv kv;
    /* parsed settings (group_send_rules) */
    const char *may_send;    /* NULL = not given */
    char allow[SENDRULE_ALLOW_MAX][SENDRULE_NAME_MAX + 1];
    unsigned nallow;
    char mods[SENDRULE_MODERATORS_MAX][ADDR_MAX + 1]; /* moderators= */
    unsigned nmods;
    int mods_given;
    int auth, spf;           /* -1 = not given */
    const char *text, *comment;
    int text_given, comment_given;
    /* sender_rules */
    const char *from, *to, *action; /* from/to: NULL not given, "" = any */
    long long priority;
    int priority_given;
};

static int parse_allow(struct sctx *c, const char *v)
{
    const char *p = v;
    if (!strcmp(v, "anyone") || !strcmp(v, "authenticated") ||
        !strcmp(v, "members")) {
        c->may_send = v;
        return ADMIN_EX_OK;
    }
    c->may_send = "groups";
    while (*p) {
        size_t n = strcspn(p, ",");
        char name[SENDRULE_NAME_MAX + 1];
        if (n == 0 || n > SENDRULE_NAME_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "allow=%s: a list of policy group names "
                               "separated by ',' (or anyone, authenticated, "
                               "members)", v);
        if (c->nallow >= SENDRULE_ALLOW_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "allow: more than %d groups", SENDRULE_ALLOW_MAX);
        memcpy(name, p, n);
        name[n] = 0;
        if (admin_parse_name(c->what, name))
            return ADMIN_EX_DATAERR;
        strcpy(c->allow[c->nallow++], name);
        p += n;
        if (*p == ',')
            p++;
    }
    return ADMIN_EX_OK;
}

/* parse_moderators - moderators=A[,B...] (canonical addresses) or none */
static int parse_moderators(struct sctx *c, const char *v)
{
    const char *p = v;

    c->mods_given = 1;
    if (!strcmp(v, "none") || !*v)
        return ADMIN_EX_OK;
    while (*p) {
        size_t n = strcspn(p, ",");
        char one[ADDR_MAX + 1];
        struct addr ad;
        if (n == 0 || n > ADDR_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what, "moderators=%s: "
                               "addresses separated by ',', or none", v);
        if (c->nmods >= SENDRULE_MODERATORS_MAX)
            return admin_error(ADMIN_EX_DATAERR, c->what, "moderators: more "
                               "than %d addresses", SENDRULE_MODERATORS_MAX);
        memcpy(one, p, n);
        one[n] = 0;
        if (!strchr(one, '@')) { /* a policy group's name */
            if (admin_parse_name(c->what, one))
                return ADMIN_EX_DATAERR;
            snprintf(c->mods[c->nmods++], ADDR_MAX + 1, "%s", one);
        } else if (admin_parse_address(c->what, one, &ad)) {
            return ADMIN_EX_DATAERR;
        } else {
            snprintf(c->mods[c->nmods++], ADDR_MAX + 1, "%s@%s", ad.local,
                     ad.domain);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return ADMIN_EX_OK;
}

static int parse_flag(struct sctx *c, const char *key, int *out)
{
    const char *v = admin_kv_get(&c->kv, key);
    *out = -1;
    if (!v)
        return ADMIN_EX_OK;
    if ((*out = admin_parse_bool(v)) < 0)
        return admin_error(ADMIN_EX_DATAERR, c->what, "%s=%s: yes or no", key, v);
    return ADMIN_EX_OK;
}

static int parse_settings(struct sctx *c, int argc, char **argv)
{
    static const char *const gkeys[] = {"allow", "auth", "text", "description",
                                        "moderators", NULL};
    static const char *const pkeys[] = {"from", "to", "action", "priority",
                                        "auth", "spf", "text", "comment", NULL};
    static const char *const ckeys[] = {"allow", "priority", "text", NULL};
    const char *v;
    int rc;
    if ((rc = admin_kv_parse(&c->kv, argc, argv,
                             c->op == S_CLOSE ? ckeys : c->is_group ? gkeys : pkeys,
                             c->what)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "allow")) && (rc = parse_allow(c, v)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "moderators")) &&
        (rc = parse_moderators(c, v)))
        return rc;
    if (c->op == S_CLOSE && (!c->may_send || strcmp(c->may_send, "groups")))
        return admin_error(ADMIN_EX_USAGE, c->what,
                           "close needs allow=GROUP[,GROUP...]: the groups "
                           "that may still write");
    if ((rc = parse_flag(c, "auth", &c->auth)) || (rc = parse_flag(c, "spf", &c->spf)))
        return rc;
    if ((rc = admin_kv_text(&c->kv, c->what, "text", 255, &c->text,
                            &c->text_given)))
        return rc;
    v = admin_kv_get(&c->kv, "comment");
    if (!v)
        v = admin_kv_get(&c->kv, "description");
    c->comment_given = v != NULL;
    if ((rc = admin_parse_text(c->what, "comment", v, 255, &c->comment)))
        return rc;
    if ((rc = admin_kv_priority(&c->kv, c->what, &c->priority,
                                &c->priority_given)))
        return rc;
    if ((v = admin_kv_get(&c->kv, "action"))) {
        if (strcmp(v, "permit") && strcmp(v, "reject") && strcmp(v, "defer"))
            return admin_error(ADMIN_EX_DATAERR, c->what,
                               "action=%s: permit, reject or defer", v);
        c->action = v;
    }
    c->from = admin_kv_get(&c->kv, "from");
    c->to = admin_kv_get(&c->kv, "to");
    if (c->from && (!strcmp(c->from, "*") || !strcmp(c->from, "any")))
        c->from = "";
    if (c->to && (!strcmp(c->to, "*") || !strcmp(c->to, "any")))
        c->to = "";
    if ((c->from && *c->from && admin_parse_name(c->what, c->from)) ||
        (c->to && *c->to && admin_parse_name(c->what, c->to)))
        return ADMIN_EX_DATAERR;
    if (c->op == S_ADD && !c->is_group) {
        if (!c->action)
            return admin_error(ADMIN_EX_USAGE, c->what,
                               "action=permit|reject|defer is required");
        if ((!c->from || !*c->from) && (!c->to || !*c->to))
            return admin_error(ADMIN_EX_USAGE, c->what,
                               "name a group: from=GROUP and/or to=GROUP (a "
                               "rule for everyone to everyone is not a rule)");
    }
    if (c->op == S_ADD && c->is_group && !c->may_send)
        return admin_error(ADMIN_EX_USAGE, c->what,
                           "allow= is required: anyone, authenticated, "
                           "members, or policy groups");
    if (c->op == S_SET && c->kv.n == 0)
        return admin_error(ADMIN_EX_USAGE, c->what, "nothing to set");
    return ADMIN_EX_OK;
}

/* status of admin_group_id as a tx body answer */
#define GROUP_OR_RETURN(db, name, idp)                                        \
    do {                                                                      \
        int grc_ = admin_group_id(db, c->what, name, ADMIN_EX_DATAERR, idp);  \
        if (grc_ == ADMIN_EX_TEMPFAIL)                                        \
            return -1;                                                        \
        if (grc_) {                                                           \
            *status = grc_;                                                   \
            return 0;                                                         \
        }                                                                     \
    } while (0)

static int insert_rule(struct db *db, const char *name, long long prio,
                       long long from, long long to, const char *action,
                       int auth, int spf, const char *text,
                       const char *comment, struct str *err)
{
    struct db_param p[9] = {DBP_I(prio), DBP_S(name),
                            from ? DBP_I(from) : DBP_NUL,
                            to ? DBP_I(to) : DBP_NUL, DBP_S(action),
                            DBP_I(auth > 0), DBP_I(spf > 0),
                            text ? DBP_S(text) : DBP_NUL,
                            comment ? DBP_S(comment) : DBP_NUL};
    return db_exec(db, "INSERT INTO sender_rules (priority, name, "
                       "sender_group_id, recipient_group_id, action, "
                       "require_auth, require_spf_pass, reject_text, comment) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   p, 9, NULL, err);
}

static int rule_exists(struct db *db, const char *what, const char *name)
{
    char buf[32];
    struct db_param p = DBP_S(name);
    return admin_value(db, what, "SELECT id FROM sender_rules WHERE name = ?",
                       &p, 1, buf, sizeof(buf));
}

static int policyd_tx(struct sctx *c, struct db *db, int *status,
                      struct str *err)
{
    long long from = 0, to = 0, id;
    char buf[32];
    struct db_param pn = DBP_S(c->rule);
    int rc;

    if (c->op == S_CLOSE) {
        long long gid, aid;
        char name[SENDRULE_NAME_MAX + 16];
        GROUP_OR_RETURN(db, c->rule, &gid);
        for (unsigned i = 0; i < c->nallow; i++)
            GROUP_OR_RETURN(db, c->allow[i], &aid);
        for (unsigned i = 0; i <= c->nallow; i++) {
            int n = i < c->nallow ? snprintf(name, sizeof(name), "%s-from-%s",
                                             c->rule, c->allow[i])
                                  : snprintf(name, sizeof(name), "%s-closed",
                                             c->rule);
            if (n < 0 || n > SENDRULE_NAME_MAX) { /* cut: name is a prefix */
                *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                      "rule name '%s' longer than %d octets; "
                                      "use shorter group names or sendrule "
                                      "add", name, SENDRULE_NAME_MAX);
                return 0;
            }
            if ((rc = rule_exists(db, c->what, name)) < 0)
                return -1;
            if (rc == LK_FOUND) {
                *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                                      "sender rule '%s' exists already", name);
                return 0;
            }
            aid = 0;
            if (i < c->nallow)
                GROUP_OR_RETURN(db, c->allow[i], &aid);
            if (insert_rule(db, name, c->priority + i, aid, gid,
                            i < c->nallow ? "permit" : "reject",
                            i < c->nallow, 0,
                            i < c->nallow ? NULL : c->text, NULL, err) < 0)
                return -1;
            if (!c->text && i == c->nallow)
                fprintf(stderr, "postern: %s: note: %s refuses with [policyd] "
                                "reject_text (text= sets the rule's own)\n",
                        c->what, name);
        }
        return 0;
    }
    if ((rc = admin_value(db, c->what, "SELECT id FROM sender_rules WHERE name = ?",
                          &pn, 1, buf, sizeof(buf))) < 0)
        return -1;
    if (c->op == S_ADD && rc == LK_FOUND) {
        *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                              "sender rule '%s' exists already", c->rule);
        return 0;
    }
    if (c->op != S_ADD && rc == LK_NOTFOUND) {
        char near[128];
        if (admin_suggest(db, "sender_rules", "name", c->rule, near,
                          sizeof(near)) == LK_FOUND)
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no sender rule '%s' (did you mean '%s'?)",
                                  c->rule, near);
        else
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no sender rule '%s'", c->rule);
        return 0;
    }
    id = strtoll(buf, NULL, 10);
    if (c->from && *c->from)
        GROUP_OR_RETURN(db, c->from, &from);
    if (c->to && *c->to)
        GROUP_OR_RETURN(db, c->to, &to);
    if (c->op == S_ADD)
        return insert_rule(db, c->rule, c->priority, from, to, c->action,
                           c->auth, c->spf, c->text, c->comment, err) < 0 ? -1 : 0;
    if (c->op == S_REMOVE) {
        struct db_param p = DBP_I(id);
        return db_exec(db, "DELETE FROM sender_rules WHERE id = ?", &p, 1, NULL,
                       err) < 0 ? -1 : 0;
    }
    if (c->op == S_DISABLE || c->op == S_ENABLE) {
        struct db_param p[2] = {DBP_I(c->op == S_ENABLE), DBP_I(id)};
        return db_exec(db, "UPDATE sender_rules SET active = ? WHERE id = ?", p,
                       2, NULL, err) < 0 ? -1 : 0;
    }
    {
        /* set: only the columns given; the rule as it will be must still
           name a group */
        struct db_param q = DBP_I(id);
        struct admin_update u;
        long long cur_from, cur_to;
        char *sp;
        if (admin_value(db, c->what,
                        "SELECT CONCAT(IFNULL(sender_group_id, 0), ' ', "
                        "IFNULL(recipient_group_id, 0)) FROM sender_rules "
                        "WHERE id = ?", &q, 1, buf, sizeof(buf)) < 0)
            return -1;
        cur_from = strtoll(buf, &sp, 10);
        cur_to = strtoll(sp, NULL, 10);
        if (!(c->from ? from : cur_from) && !(c->to ? to : cur_to)) {
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "the rule would name no group (from "
                                  "and to both anyone)");
            return 0;
        }
        admin_update_begin(&u, "sender_rules");
        if (c->from)
            admin_update_col(&u, "sender_group_id",
                             from ? DBP_I(from) : DBP_NUL);
        if (c->to)
            admin_update_col(&u, "recipient_group_id",
                             to ? DBP_I(to) : DBP_NUL);
        if (c->action)
            admin_update_str(&u, "action", c->action);
        if (c->priority_given)
            admin_update_col(&u, "priority", DBP_I(c->priority));
        if (c->auth >= 0)
            admin_update_col(&u, "require_auth", DBP_I(c->auth));
        if (c->spf >= 0)
            admin_update_col(&u, "require_spf_pass", DBP_I(c->spf));
        if (c->text_given)
            admin_update_str(&u, "reject_text", c->text);
        if (c->comment_given)
            admin_update_str(&u, "comment", c->comment);
        return admin_update_run(&u, db, id, err);
    }
}

/* set_moderators - moderators= given: the rule's group_moderators rows
   become the list; 0 or -1 */
static int set_moderators(struct sctx *c, struct db *db, long long id,
                          struct str *err)
{
    struct db_param q = DBP_I(id);

    if (!c->mods_given)
        return 0;
    if (db_exec(db, "DELETE FROM group_moderators WHERE rule_id = ?", &q, 1,
                NULL, err) < 0)
        return -1;
    for (unsigned i = 0; i < c->nmods; i++) {
        struct db_param p[2] = {DBP_I(id), DBP_S(c->mods[i])};
        if (db_exec(db, "INSERT IGNORE INTO group_moderators (rule_id, "
                        "moderator) VALUES (?, ?)", p, 2, NULL, err) < 0)
            return -1;
    }
    return 0;
}

static int milter_tx(struct sctx *c, struct db *db, int *status,
                     struct str *err)
{
    char buf[32], owner[16];
    struct db_param pa = DBP_S(c->rule);
    long long id = 0, gids[SENDRULE_ALLOW_MAX];
    int rc;

    if (c->op == S_ADD) {
        /* the domain of the group address must be ours */
        char dom[ADDR_DOMAIN_MAX + 1];
        char *at = strrchr(c->rule, '@');
        str_copy_bounded(dom, sizeof(dom), at + 1, strlen(at + 1));
        rc = admin_hosted_domain(db, c->what, dom);
        if (rc == ADMIN_EX_TEMPFAIL)
            return -1;
        if (rc) {
            *status = rc;
            return 0;
        }
        if (strcmp(dom, at + 1) && (size_t)(at + 1 - c->rule) + strlen(dom) < sizeof(c->rule))
            strcpy(at + 1, dom);
    }
    if ((rc = admin_value(db, c->what,
                          "SELECT CONCAT(id, ' ', owner) FROM group_send_rules "
                          "WHERE group_address = ?",
                          &pa, 1, buf, sizeof(buf))) < 0)
        return -1;
    if (rc == LK_FOUND) {
        id = strtoll(buf, NULL, 10);
        str_copy_bounded(owner, sizeof(owner), strchr(buf, ' ') + 1,
                         strlen(strchr(buf, ' ') + 1));
    }
    if (c->op == S_ADD && rc == LK_FOUND) {
        *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                              "%s has a send rule already%s (postern sendrule "
                              "show %s)", c->rule,
                              strcmp(owner, "ldap") ? "" : ", made by "
                              "postern-dirsync from the directory", c->rule);
        return 0;
    }
    if (c->op != S_ADD && rc == LK_NOTFOUND) {
        *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                              "no send rule for %s", c->rule);
        return 0;
    }
    if (c->op != S_ADD && !strcmp(owner, "ldap")) {
        char obj[ADDR_MAX + 40];
        snprintf(obj, sizeof(obj), "the send rule of %s", c->rule);
        *status = admin_ldap_owned(c->what, obj);
        return 0;
    }
    for (unsigned i = 0; i < c->nallow; i++)
        GROUP_OR_RETURN(db, c->allow[i], &gids[i]);
    for (unsigned i = 0; i < c->nmods; i++) {
        long long mgid;
        if (!strchr(c->mods[i], '@'))
            GROUP_OR_RETURN(db, c->mods[i], &mgid);
    }
    if (c->op == S_REMOVE) {
        struct db_param p = DBP_I(id);
        return db_exec(db, "DELETE FROM group_send_rules WHERE id = ?", &p, 1,
                       NULL, err) < 0 ? -1 : 0;
    }
    if (c->op == S_DISABLE || c->op == S_ENABLE) {
        struct db_param p[2] = {DBP_I(c->op == S_ENABLE), DBP_I(id)};
        if (c->op == S_DISABLE)
            fprintf(stderr, "postern: %s: note: without an active rule anyone "
                            "may send to %s (unless the directory has a rule)\n",
                    c->what, c->rule);
        return db_exec(db, "UPDATE group_send_rules SET active = ? WHERE id = ?",
                       p, 2, NULL, err) < 0 ? -1 : 0;
    }
    if (c->op == S_ADD) {
        struct db_param p[5] = {DBP_S(c->rule), DBP_S(c->may_send),
                                DBP_I(c->auth != 0),
                                c->text ? DBP_S(c->text) : DBP_NUL,
                                c->comment ? DBP_S(c->comment) : DBP_NUL};
        if (db_exec(db, "INSERT INTO group_send_rules (group_address, may_send, "
                        "require_auth, reject_text, description) VALUES "
                        "(?, ?, ?, ?, ?)", p, 5, NULL, err) < 0)
            return -1;
        if (admin_value(db, c->what, "SELECT id FROM group_send_rules WHERE "
                                     "group_address = ?", &pa, 1, buf,
                        sizeof(buf)) < 0)
            return -1;
        id = strtoll(buf, NULL, 10);
        if (set_moderators(c, db, id, err) < 0)
            return -1;
        if (c->auth == 0 && strcmp(c->may_send, "anyone"))
            fprintf(stderr, "postern: %s: warning: auth=no trusts the "
                            "envelope sender, which anyone can forge\n", c->what);
    } else {
        struct admin_update u;
        admin_update_begin(&u, "group_send_rules");
        if (c->may_send)
            admin_update_str(&u, "may_send", c->may_send);
        if (c->auth >= 0)
            admin_update_col(&u, "require_auth", DBP_I(c->auth));
        if (c->text_given)
            admin_update_str(&u, "reject_text", c->text);
        if (c->comment_given)
            admin_update_str(&u, "description", c->comment);
        if (admin_update_run(&u, db, id, err) < 0)
            return -1;
        if (set_moderators(c, db, id, err) < 0)
            return -1;
        if (!c->may_send)
            return 0;
        {
            struct db_param q = DBP_I(id);
            if (db_exec(db, "DELETE FROM group_send_allowed WHERE rule_id = ?",
                        &q, 1, NULL, err) < 0)
                return -1;
        }
    }
    for (unsigned i = 0; i < c->nallow; i++) {
        struct db_param p[2] = {DBP_I(id), DBP_I(gids[i])};
        if (db_exec(db, "INSERT IGNORE INTO group_send_allowed (rule_id, "
                        "policy_group_id) VALUES (?, ?)", p, 2, NULL, err) < 0)
            return -1;
    }
    return 0;
}

static int sendrule_tx(struct admin *a, struct db *db, void *vctx, int *status,
                       struct str *err)
{
    struct sctx *c = vctx;
    (void)a;
    return c->is_group ? milter_tx(c, db, status, err)
                       : policyd_tx(c, db, status, err);
}

static int sendrule_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "sendrule",
                       "usage: sendrule list | show RULE | add GROUP-ADDRESS "
                       "allow=anyone|authenticated|members|GROUP[,GROUP] "
                       "[moderators=ADDRESS[,...]] | add "
                       "NAME to=GROUP [from=GROUP] action=permit|reject|defer "
                       "[priority=N] [auth=yes] | close GROUP allow=GROUP[,...] "
                       "| set RULE KEY=VALUE... | disable RULE | enable RULE | "
                       "remove RULE");
}

#define SENDRULE_SELECT                                                       \
    "SELECT * FROM ("                                                         \
    "SELECT 'policyd' AS kind, r.name AS rule, r.priority, "                  \
    "IFNULL(s.name, '*') AS senders, IFNULL(g.name, '*') AS recipients, "     \
    "r.action, r.require_auth, r.require_spf_pass, r.reject_text, r.active, " \
    "'sql' AS owner, NULL AS moderators FROM sender_rules r "                 \
    "LEFT JOIN policy_groups s ON "                                           \
    "s.id = r.sender_group_id LEFT JOIN policy_groups g ON "                  \
    "g.id = r.recipient_group_id "                                            \
    "UNION ALL SELECT 'group', gr.group_address, NULL, "                      \
    "IF(gr.may_send = 'groups', IFNULL((SELECT GROUP_CONCAT(p.name ORDER BY " \
    "p.name) FROM group_send_allowed a JOIN policy_groups p ON "              \
    "p.id = a.policy_group_id WHERE a.rule_id = gr.id), ''), gr.may_send), "  \
    "gr.group_address, 'allow', gr.require_auth, 0, gr.reject_text, "         \
    "gr.active, gr.owner, (SELECT GROUP_CONCAT(m.moderator ORDER BY "       \
    "m.moderator) FROM group_moderators m WHERE m.rule_id = gr.id) "          \
    "FROM group_send_rules gr) x "

static const char *const sendrule_cols[] = {
    "kind", "rule", "priority", "senders", "recipients", "action", "auth",
    "spf", "text", "active", "owner", "moderators", NULL};

static int sr_list(struct admin *a, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return sendrule_usage();
    return admin_list(a, sendrule_cols,
                      SENDRULE_SELECT "ORDER BY kind DESC, priority, rule",
                      NULL, 0);
}

/*
 * sendrule_open - the RULE every verb but list names (argv[0]): a group
 * address or a policyd rule name, checked, in a new context (*cp, freed
 * by the caller).  0, or a status with the reason printed (*cp NULL).
 */
static int sendrule_open(struct admin *a, int argc, char **argv,
                         struct sctx **cp)
{
    struct sctx *c;
    int rc = ADMIN_EX_OK;
    *cp = NULL;
    if (argc < 1)
        return sendrule_usage();
    c = xcalloc(1, sizeof(*c));
    snprintf(c->what_buf, sizeof(c->what_buf), "sendrule %s", a->verb);
    c->what = c->what_buf;
    c->auth = c->spf = -1;
    c->is_group = strchr(argv[0], '@') != NULL;
    if (c->is_group) {
        struct addr ad;
        if (!(rc = admin_parse_address(c->what, argv[0], &ad)))
            snprintf(c->rule, sizeof(c->rule), "%s@%s", ad.local, ad.domain);
    } else if (!(rc = admin_parse_name(c->what, argv[0])))
        str_copy_bounded(c->rule, sizeof(c->rule), argv[0], strlen(argv[0]));
    if (rc)
        free(c);
    else
        *cp = c;
    return rc;
}

static int sr_show(struct admin *a, int argc, char **argv)
{
    struct sctx *c;
    struct db_param p;
    char buf[32];
    struct db *db;
    int rc;
    if ((rc = sendrule_open(a, argc, argv, &c)))
        return rc;
    p = DBP_S(c->rule);
    rc = ADMIN_EX_TEMPFAIL;
    if (!(db = admin_db(a)))
        goto out;
    rc = admin_value(db, c->what, SENDRULE_SELECT "WHERE rule = ?", &p, 1,
                     buf, sizeof(buf));
    if (rc == LK_NOTFOUND)
        rc = admin_error(ADMIN_EX_NOINPUT, c->what, "no rule '%s'", c->rule);
    else if (rc < 0)
        rc = ADMIN_EX_TEMPFAIL;
    else
        rc = admin_list(a, sendrule_cols, SENDRULE_SELECT "WHERE rule = ?",
                        &p, 1);
out:
    free(c);
    return rc;
}

/* sendrule add|set|disable|enable|remove|close RULE [KEY=VALUE...] */
static int sr_change(struct admin *a, int argc, char **argv)
{
    static const char *const done[] = {"added", "changed", "disabled",
                                       "enabled", "removed", "closed"};
    struct sctx *c;
    int rc;
    if ((rc = sendrule_open(a, argc, argv, &c)))
        return rc;
    c->op = (enum sop)admin_index(a->verb, sop_names);
    if (c->op == S_CLOSE && c->is_group) {
        rc = admin_error(ADMIN_EX_USAGE, c->what,
                         "close takes a policy group name; for a group "
                         "address use: sendrule add ADDRESS allow=GROUPS");
        goto out;
    }
    if ((c->op == S_DISABLE || c->op == S_ENABLE || c->op == S_REMOVE) &&
        argc != 1) {
        rc = sendrule_usage();
        goto out;
    }
    if ((rc = parse_settings(c, argc - 1, argv + 1)))
        goto out;
    rc = admin_transaction(a, sendrule_tx, c);
    if (rc == ADMIN_EX_OK)
        admin_done(a, "sendrule", done[c->op], c->rule,
                   c->op == S_CLOSE ? c->nallow + 1 : 1);
out:
    free(c);
    return rc;
}

static const struct admin_verb sendrule_verbs[] = {
    {"list", sr_list},     {"show", sr_show},       {"add", sr_change},
    {"set", sr_change},    {"close", sr_change},    {"disable", sr_change},
    {"enable", sr_change}, {"remove", sr_change},   {NULL, NULL}};

int cmd_sendrule(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return sendrule_usage();
    return admin_dispatch(a, "sendrule", sendrule_verbs, NULL, argc, argv);
}
