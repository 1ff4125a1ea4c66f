/*
 * rights - who may send to a group address.  The rule of a group comes
 * from SQL (group_send_rules, when [milter] send_rules_sql = yes) or, when
 * there is no SQL row, from the group's LDAP attribute [milter]
 * send_rule_attribute; no rule means anyone may send.
 *
 *   anyone         everyone
 *   authenticated  any client that authenticated (SASL login)
 *   members        members of the group itself (nested groups included)
 *   groups         members of the allowed groups: for SQL the policy groups
 *                  of group_send_allowed (addresses, domains, LDAP groups,
 *                  nested policy groups); for LDAP the values
 *                  "group <DN or group address>" of the attribute
 *
 * Identity: an authenticated client is identified by its SASL login, which
 * is looked up in LDAP ([ldap] user_filter) to get its addresses, so a
 * forged envelope sender does not pass.  An unauthenticated client has no
 * identity when the rule requires authentication (require_auth = 1, and
 * always for LDAP rules); otherwise the envelope sender is trusted (this is
 * spoofable and documented as such).
 *
 * LDAP attribute values (one per value, case-insensitive): "anyone",
 * "authenticated", "members", "group <DN or address>" (several allowed).
 *
 * Outcomes: RIGHTS_ALLOW, RIGHTS_DENY (with the reply text), RIGHTS_TEMP
 * when SQL or LDAP cannot answer.  Nested policy groups are followed at
 * most RIGHTS_NESTING_MAX levels, each once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"

#define RIGHTS_NESTING_MAX 10

enum may_send { MAY_ANYONE, MAY_MEMBERS, MAY_GROUPS, MAY_AUTH, MAY_NONE };

struct rule {
    enum may_send may;
    int require_auth;
    long long id;           /* SQL row, 0 for an LDAP rule */
    struct str text;        /* reject text, "" = default */
    struct slist ldap_groups;
};

/* --- reading the rule ---------------------------------------------------- */

static enum may_send may_from_text(const char *s)
{
    if (!strcasecmp(s, "anyone"))
        return MAY_ANYONE;
    if (!strcasecmp(s, "members"))
        return MAY_MEMBERS;
    if (!strcasecmp(s, "groups"))
        return MAY_GROUPS;
    if (!strcasecmp(s, "authenticated"))
        return MAY_AUTH;
    return MAY_NONE;
}

static int rule_row(void *ctx, unsigned ncols, char **vals,
                    const unsigned long *lens)
{
    struct rule *rule = ctx;

    (void)lens;
    if (ncols < 4 || !vals[0] || !vals[1] || !vals[2])
        return 1;
    rule->id = atoll(vals[0]);
    rule->may = may_from_text(vals[1]);
    rule->require_auth = atoi(vals[2]) != 0;
    if (vals[3])
        str_set(&rule->text, vals[3], strlen(vals[3]));
    return 1;
}

/* sql_rule - 1 found, 0 none, RIGHTS_TEMP. */
static int sql_rule(struct mres *r, const char *group, struct rule *rule,
                    struct str *err)
{
    static const char sql[] =
        "SELECT id, may_send, require_auth, reject_text FROM group_send_rules"
        " WHERE group_address = ? AND active = 1";
    struct db_param p[] = {DBP_S(group)};
    int rc = db_query(r->db, sql, p, 1, rule_row, rule, err);

    if (rc == DB_TEMP)
        return RIGHTS_TEMP;
    return rc == DB_FOUND;
}

/* ldap_rule - the rule in the group's LDAP attribute; 1 found, 0 none. */
static int ldap_rule(const struct slist *vals, struct rule *rule)
{
    int found = 0;

    rule->require_auth = 1;
    for (size_t i = 0; i < vals->n; i++) {
        const char *v = vals->v[i];
        enum may_send may = may_from_text(v);
        if (!strncasecmp(v, "group ", 6)) {
            v += 6;
            while (*v == ' ')
                v++;
            if (*v && slist_add(&rule->ldap_groups, v) == 0) {
                rule->may = MAY_GROUPS;
                found = 1;
            }
        } else if (may != MAY_NONE && may != MAY_GROUPS) {
            if (!found || rule->may != MAY_GROUPS)
                rule->may = may;
            found = 1;
        } else {
            log_warn("ignoring unknown send rule value '%s' in LDAP",
                     log_safe_cstr(v));
        }
    }
    return found;
}

/* --- checking membership ------------------------------------------------- */

struct check {
    struct mctx *m;
    struct mres *r;
    const struct slist *who;  /* the sender's addresses */
    struct slist visited;     /* policy group names */
    struct str *err;
};

static int who_in_list(const struct slist *who, const struct slist *list)
{
    for (size_t i = 0; i < who->n; i++)
        if (slist_has(list, who->v[i]))
            return 1;
    return 0;
}

/* in_ldap_group - group is a DN or a group address; RIGHTS_*. */
static int in_ldap_group(struct check *c, const char *group)
{
    struct slist dn = {0}, rules = {0}, members = {0};
    int rc = RIGHTS_DENY;

    if (strchr(group, '=') == NULL) {
        int found = group_lookup(c->m, c->r, group, &dn, &rules, c->err);
        if (found == GROUP_TEMP)
            rc = RIGHTS_TEMP;
        else if (found == 0)
            log_warn("send rule names %s, which is not a group in LDAP",
                     log_safe_cstr(group));
    } else if (slist_add(&dn, group) < 0) {
        rc = RIGHTS_TEMP;
    }
    if (rc == RIGHTS_DENY && dn.n > 0) {
        int x = group_expand(c->m, c->r, dn.v[0], &members, c->err);
        if (x == GROUP_OK)
            rc = who_in_list(c->who, &members) ? RIGHTS_ALLOW : RIGHTS_DENY;
        else
            rc = RIGHTS_TEMP;
    }
    slist_free(&dn);
    slist_free(&rules);
    slist_free(&members);
    return rc;
}

static int domain_match(const char *pattern, const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t dl, pl = strlen(pattern);

    if (at == NULL)
        return 0;
    dl = strlen(++at);
    if (pattern[0] == '.')
        return dl > pl && !strcasecmp(at + dl - pl, pattern);
    return !strcasecmp(at, pattern);
}

/* member rows: type and value pairs */
struct rows {
    struct slist type, value;
    int oom;
};

static int member_row(void *ctx, unsigned ncols, char **vals,
                      const unsigned long *lens)
{
    struct rows *rows = ctx;

    (void)lens;
    if (ncols >= 2 && vals[0] && vals[1])
        rows->oom |= slist_add(&rows->type, vals[0]) |
                     slist_add(&rows->value, vals[1]);
    return 0;
}

static int in_rows(struct check *c, const struct rows *rows, int depth);

/* in_policy_group - members of the policy group named name; RIGHTS_*. */
static int in_policy_group(struct check *c, const char *name, int depth)
{
    static const char sql[] =
        "SELECT m.member_type, m.value FROM policy_groups g"
        " JOIN policy_group_members m ON m.group_id = g.id WHERE g.name = ?";
    struct db_param p[] = {DBP_S(name)};
    struct rows rows = {{0}, {0}, 0};
    int rc;

    if (slist_has(&c->visited, name))
        return RIGHTS_DENY;
    if (depth >= RIGHTS_NESTING_MAX || slist_add(&c->visited, name) < 0) {
        str_appendf(c->err, "policy groups nested deeper than %d levels",
                    RIGHTS_NESTING_MAX);
        return RIGHTS_TEMP;
    }
    rc = db_query(c->r->db, sql, p, 1, member_row, &rows, c->err);
    rc = rc == DB_TEMP || rows.oom ? RIGHTS_TEMP : in_rows(c, &rows, depth + 1);
    slist_free(&rows.type);
    slist_free(&rows.value);
    return rc;
}

static int in_rows(struct check *c, const struct rows *rows, int depth)
{
    int rc = RIGHTS_DENY;

    for (size_t i = 0; i < rows->type.n && rc == RIGHTS_DENY; i++) {
        const char *type = rows->type.v[i], *value = rows->value.v[i];
        if (!strcmp(type, "address")) {
            rc = slist_has(c->who, value) ? RIGHTS_ALLOW : RIGHTS_DENY;
        } else if (!strcmp(type, "domain")) {
            for (size_t j = 0; j < c->who->n && rc == RIGHTS_DENY; j++)
                rc = domain_match(value, c->who->v[j]) ? RIGHTS_ALLOW
                                                       : RIGHTS_DENY;
        } else if (!strcmp(type, "ldap_group")) {
            rc = in_ldap_group(c, value);
        } else if (!strcmp(type, "group")) {
            rc = in_policy_group(c, value, depth);
        }
    }
    return rc;
}

static int in_sql_groups(struct check *c, long long rule_id)
{
    static const char sql[] =
        "SELECT m.member_type, m.value FROM group_send_allowed a"
        " JOIN policy_group_members m ON m.group_id = a.policy_group_id"
        " WHERE a.rule_id = ?";
    struct db_param p[] = {DBP_I(rule_id)};
    struct rows rows = {{0}, {0}, 0};
    int rc = db_query(c->r->db, sql, p, 1, member_row, &rows, c->err);

    rc = rc == DB_TEMP || rows.oom ? RIGHTS_TEMP : in_rows(c, &rows, 0);
    slist_free(&rows.type);
    slist_free(&rows.value);
    return rc;
}

/* --- the decision -------------------------------------------------------- */

/* identity - the sender's addresses; 0, or RIGHTS_TEMP. */
static int identity(struct mctx *m, struct mres *r, const struct rule *rule,
                    const struct rights_query *q, struct slist *who,
                    struct str *err)
{
    if (q->login)
        return user_addresses(m, r, q->login, who, err) == GROUP_OK
                   ? 0 : RIGHTS_TEMP;
    if (!rule->require_auth && q->sender[0])
        return slist_add(who, q->sender) < 0 ? RIGHTS_TEMP : 0;
    return 0; /* nobody */
}

static int decide(struct mctx *m, struct mres *r, const struct rule *rule,
                  const struct rights_query *q, struct str *err)
{
    struct check c = {m, r, NULL, {0}, err};
    struct slist who = {0}, members = {0};
    int rc;

    if (rule->may == MAY_ANYONE)
        return RIGHTS_ALLOW;
    if (rule->may == MAY_AUTH)
        return q->login ? RIGHTS_ALLOW : RIGHTS_DENY;
    if (rule->may == MAY_NONE)
        return RIGHTS_DENY;
    if ((rc = identity(m, r, rule, q, &who, err)) < 0 || who.n == 0) {
        slist_free(&who);
        return rc < 0 ? RIGHTS_TEMP : RIGHTS_DENY;
    }
    c.who = &who;
    if (rule->may == MAY_MEMBERS) {
        rc = group_expand(m, r, q->group_dn, &members, err);
        rc = rc != GROUP_OK ? RIGHTS_TEMP
             : who_in_list(&who, &members) ? RIGHTS_ALLOW : RIGHTS_DENY;
    } else if (rule->id) {
        rc = in_sql_groups(&c, rule->id);
    } else {
        rc = RIGHTS_DENY;
        for (size_t i = 0; i < rule->ldap_groups.n && rc == RIGHTS_DENY; i++)
            rc = in_ldap_group(&c, rule->ldap_groups.v[i]);
    }
    slist_free(&who);
    slist_free(&members);
    slist_free(&c.visited);
    return rc;
}

int rights_check(struct mctx *m, struct mres *r, const struct rights_query *q,
                 struct str *text, struct str *err)
{
    struct rule rule = {MAY_ANYONE, 1, 0, STR_INIT, {0}};
    int found = 0, rc;

    if (m->cfg->send_rules_sql &&
        (found = sql_rule(r, q->group_addr, &rule, err)) == RIGHTS_TEMP) {
        str_free(&rule.text);
        return RIGHTS_TEMP;
    }
    if (!found && q->ldap_rules->n > 0)
        found = ldap_rule(q->ldap_rules, &rule);
    rc = found ? decide(m, r, &rule, q, err) : RIGHTS_ALLOW;
    if (rc == RIGHTS_DENY)
        str_append_cstr(text, rule.text.len ? str_cstr(&rule.text)
                                            : m->cfg->reject_text);
    str_free(&rule.text);
    slist_free(&rule.ldap_groups);
    return rc;
}
