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
 *                  nested policy groups: lib/pgroup.h over the snapshot of
 *                  groups.c, the same answers postern-policyd gives); for
 *                  LDAP the values "group <DN or group address>" of the
 *                  attribute
 *
 * Identity: an authenticated client is identified by its SASL login, which
 * is looked up in LDAP ([ldap] user_filter) to get its addresses, so a
 * forged envelope sender, another spelling of it or the null sender
 * <> changes nothing: the rule sees the login.  Every address is compared
 * in canonical form (lib/addr.h addr_canonical: case, quoting, +extension,
 * trailing dot, alias domain).  An unauthenticated client has no
 * identity when the rule requires authentication (require_auth = 1, and
 * always for LDAP rules); otherwise the envelope sender is trusted (this is
 * spoofable and documented as such).
 *
 * LDAP attribute values (one per value, case-insensitive): "anyone",
 * "authenticated", "members", "group <DN or address>" (several allowed).
 *
 * Nesting: a group's rule protects its members wherever the group is
 * reached.  rights_check_nested applies the rule of every LDAP group
 * nested below the group written to (at any depth, lib/ldapgroup.h
 * ldapgroup_subgroups; SQL rule by the nested group's address, else its
 * LDAP attribute): the sender must pass every rule on the way, the top
 * group's and each nested group's, or the whole recipient is refused with
 * the refusing group's text (550 5.7.1).  A nested group without a rule
 * adds no condition.
 *
 * Moderation: an SQL rule with group_moderators rows (0014_moderation)
 * turns its refusal into RIGHTS_HOLD (and names itself in
 * rights_query.hold_rule): the message is held for the moderators
 * (moderate.c).  A refusal by another group on the way still refuses.
 *
 * Outcomes: RIGHTS_ALLOW, RIGHTS_DENY (with the reply text), LK_TEMP
 * when SQL or LDAP cannot answer, LK_LIMIT when a group passes a limit
 * (LDAP groups: [ldap] max_nesting, LDAPGROUP_MEMBERS_MAX; policy groups:
 * PGROUP_NEST_MAX levels).  A definite "allowed" through one group wins
 * over trouble with another; otherwise trouble is never "denied".
 * Per RCPT of a group address: one SQL query (the rule and its allowed
 * groups); policy groups come from the snapshot, LDAP member sets from the
 * cache.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "milter.h"

#define RIGHTS_ALLOWED_MAX 256 /* allowed policy groups of one rule */

enum may_send { MAY_ANYONE, MAY_MEMBERS, MAY_GROUPS, MAY_AUTH, MAY_NONE };

struct rule {
    enum may_send may;
    int require_auth;
    long long id;                /* SQL row, 0 for an LDAP rule */
    struct str text;             /* reject text, "" = default */
    struct strvec ldap_groups;
    unsigned long allowed[RIGHTS_ALLOWED_MAX]; /* policy group ids */
    size_t nallowed;
    int too_many;                /* more allowed groups than that */
    int moderated;               /* SQL rule with moderators: hold */
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

/* rule_row - the rule's columns (the same on every row) and one allowed
   policy group id per row (NULL: none) */
static int rule_row(void *ctx, unsigned ncols, char **vals,
                    const unsigned long *lens)
{
    struct rule *rule = ctx;

    (void)lens;
    if (ncols < 6 || !vals[0] || !vals[1] || !vals[2])
        return 1;
    rule->moderated = vals[5] && atoi(vals[5]) != 0;
    rule->id = atoll(vals[0]);
    rule->may = may_from_text(vals[1]);
    rule->require_auth = atoi(vals[2]) != 0;
    if (vals[3] && rule->text.len == 0)
        str_set(&rule->text, vals[3], strlen(vals[3]));
    if (vals[4] && rule->nallowed == RIGHTS_ALLOWED_MAX)
        rule->too_many = 1;
    else if (vals[4])
        rule->allowed[rule->nallowed++] = strtoul(vals[4], NULL, 10);
    return 0;
}

/* sql_rule - LK_FOUND, LK_NOTFOUND (no rule for the group), LK_TEMP. */
static int sql_rule(struct mres *r, const char *group, struct rule *rule,
                    struct str *err)
{
    static const char sql[] =
        "SELECT r.id, r.may_send, r.require_auth, r.reject_text,"
        " a.policy_group_id, EXISTS (SELECT 1 FROM group_moderators m"
        " WHERE m.rule_id = r.id) FROM group_send_rules r"
        " LEFT JOIN group_send_allowed a ON a.rule_id = r.id"
        " WHERE r.group_address = ? AND r.active = 1";
    struct db_param p[] = {DBP_S(group)};
    int rc = db_query(r->db, sql, p, 1, rule_row, rule, err);

    return rc < 0 ? LK_TEMP : rc > 0 ? LK_FOUND : LK_NOTFOUND;
}

/* ldap_rule - the rule in the group's LDAP attribute; 1 found, 0 none. */
static int ldap_rule(const struct strvec *vals, struct rule *rule)
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
            if (*v) {
                strvec_add(&rule->ldap_groups, v);
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

/* --- the decision -------------------------------------------------------- */

/* identity - the sender's addresses, canonical; 0, or LK_TEMP.  With a
   login: the login's addresses (whatever the envelope sender, the null
   sender included); without: the envelope sender where the rule trusts
   it (the caller made it canonical). */
static int identity(struct mctx *m, struct mres *r, const struct rule *rule,
                    const struct rights_query *q, struct strvec *who,
                    struct str *err)
{
    struct strvec raw = STRVEC_INIT;
    struct addr a;

    if (!q->login) {
        if (!rule->require_auth && q->sender[0])
            strvec_add(who, q->sender);
        return 0; /* nobody, or the envelope sender */
    }
    if (q->login_addrs && q->login_addrs->n > 0) {
        strvec_copy(who, q->login_addrs);
        return 0;
    }
    if (milter_user_addresses(m, r, q->login, &raw, err) < 0) {
        strvec_free(&raw);
        return LK_TEMP;
    }
    for (size_t i = 0; i < raw.n; i++) {
        const char *c = milter_canonical(m, raw.v[i], ADDR_NEED_DOMAIN, &a)
                            == 0 ? a.full : raw.v[i];
        if (!strvec_has(who, c))
            strvec_add(who, c);
    }
    strvec_free(&raw);
    if (q->login_addrs)
        strvec_copy(q->login_addrs, who);
    return 0;
}

/* any_group - is who in one of the allowed groups?  A hit wins over
   trouble elsewhere; else the first trouble; else denied. */
static int any_group(struct mctx *m, struct mres *r, const struct rule *rule,
                     const struct strvec *who, struct str *err)
{
    size_t n = rule->id ? rule->nallowed : rule->ldap_groups.n;
    int first_neg = 0, rc;

    if (rule->too_many) {
        str_appendf(err, "send rule %lld: more than %d allowed groups",
                    rule->id, RIGHTS_ALLOWED_MAX);
        return LK_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        rc = rule->id ? milter_pgroups_has(m, r, rule->allowed[i], who, err)
                      : milter_group_has(m, r, rule->ldap_groups.v[i], who,
                                         err);
        if (rc == LK_FOUND)
            return RIGHTS_ALLOW;
        if (rc < 0 && first_neg == 0)
            first_neg = rc;
    }
    return first_neg ? first_neg : RIGHTS_DENY;
}

static int rights_decide(struct mctx *m, struct mres *r,
                         const struct rule *rule, const struct rights_query *q,
                         struct str *err)
{
    struct strvec who = STRVEC_INIT;
    int rc;

    if (rule->may == MAY_ANYONE)
        return RIGHTS_ALLOW;
    if (rule->may == MAY_AUTH)
        return q->login ? RIGHTS_ALLOW : RIGHTS_DENY;
    if (rule->may == MAY_NONE)
        return RIGHTS_DENY;
    if ((rc = identity(m, r, rule, q, &who, err)) < 0 || who.n == 0) {
        strvec_free(&who);
        return rc < 0 ? LK_TEMP : RIGHTS_DENY;
    }
    if (rule->may == MAY_MEMBERS)
        rc = milter_group_has(m, r, q->group_dn, &who, err);
    else
        rc = any_group(m, r, rule, &who, err);
    strvec_free(&who);
    return rc;
}

int rights_check(struct mctx *m, struct mres *r, const struct rights_query *q,
                 struct str *text, struct str *err)
{
    struct rule rule = {.may = MAY_ANYONE, .require_auth = 1};
    int found = 0, rc;

    if (m->cfg->send_rules_sql && q->group_addr &&
        (found = sql_rule(r, q->group_addr, &rule, err)) < 0) {
        str_free(&rule.text);
        return LK_TEMP;
    }
    if (!found && q->ldap_rules->n > 0)
        found = ldap_rule(q->ldap_rules, &rule);
    rc = found ? rights_decide(m, r, &rule, q, err) : RIGHTS_ALLOW;
    if (rc == RIGHTS_DENY && rule.moderated) {
        rc = RIGHTS_HOLD; /* held for the moderators, not refused */
        if (q->hold_rule && *q->hold_rule == 0)
            *q->hold_rule = rule.id;
    }
    if (rc == RIGHTS_DENY)
        str_append_cstr(text, rule.text.len ? str_cstr(&rule.text)
                                            : m->cfg->reject_text);
    str_free(&rule.text);
    strvec_free(&rule.ldap_groups);
    return rc;
}

int rights_check_nested(struct mctx *m, struct mres *r,
                        const struct rights_query *q, struct str *text,
                        struct str *which, struct str *err)
{
    struct ldapgroup_subs subs = {NULL, 0};
    struct strvec login_addrs = STRVEC_INIT; /* read once for all groups */
    int first_neg = 0, held = 0, rc;

    if (!m->cfg->send_rules_sql && !m->cfg->send_rule_attribute[0])
        return RIGHTS_ALLOW; /* no group can have a rule */
    rc = milter_subgroups(m, r, q->group_dn, &subs, err);

    for (size_t i = 0; rc == LK_FOUND && i < subs.n; i++) {
        const struct ldapgroup_sub *sub = &subs.v[i];
        struct addr a;
        const char *ga = sub->mail && milter_canonical(m, sub->mail,
                                                       ADDR_NEED_DOMAIN,
                                                       &a) == 0
                             ? a.full : NULL;
        struct rights_query sq = {ga, sub->dn, &sub->values, q->login,
                                  q->sender,
                                  q->login_addrs ? q->login_addrs
                                                 : &login_addrs,
                                  q->hold_rule};
        int one = rights_check(m, r, &sq, text, err);
        if (one == RIGHTS_DENY) {
            str_append_cstr(which, ga ? ga : sub->dn);
            rc = RIGHTS_DENY; /* a definite refusal wins over trouble */
        } else if (one == RIGHTS_HOLD) {
            held = 1;
        } else if (one < 0 && first_neg == 0) {
            first_neg = one;
        }
    }
    ldapgroup_subs_free(&subs);
    strvec_free(&login_addrs);
    if (rc == LK_FOUND)
        rc = first_neg ? first_neg : held ? RIGHTS_HOLD : RIGHTS_ALLOW;
    return rc;
}

void rights_rcpt(struct mctx *m, struct mres *r, const char *addr,
                 const char *login, const char *sender,
                 struct rights_rcpt *v)
{
    struct strvec login_addrs = STRVEC_INIT; /* read once per RCPT */
    int rc;

    *v = (struct rights_rcpt){0, LK_TEMP, {NULL, STRVEC_INIT}, STR_INIT,
                              STR_INIT, STR_INIT, 0};
    if (r == NULL) {
        str_append_cstr(&v->err, "no LDAP/database handle");
        return;
    }
    rc = milter_group_lookup(m, r, addr, &v->info, &v->err);
    if (rc != LK_FOUND) {
        v->rc = rc;
        return;
    }
    v->group = 1;
    {
        struct rights_query q = {addr, v->info.dn, &v->info.values, login,
                                 sender, &login_addrs, &v->hold_rule};
        rc = rights_check(m, r, &q, &v->text, &v->err);
        if (rc == RIGHTS_ALLOW || rc == RIGHTS_HOLD) { /* nested ones too */
            int nested = rights_check_nested(m, r, &q, &v->text, &v->nested,
                                             &v->err);
            if (nested != RIGHTS_ALLOW) /* refusal, trouble or a hold */
                rc = nested;
        }
    }
    v->rc = rc;
    strvec_free(&login_addrs);
}

void rights_rcpt_free(struct rights_rcpt *v)
{
    ldapgroup_info_free(&v->info);
    str_free(&v->text);
    str_free(&v->nested);
    str_free(&v->err);
}
