/*
 * senderrules - closed groups: which sender groups may reach which
 * recipient groups (sql: sender_rules).  Rules are tried in priority order;
 * the first that matches decides: permit (no objection, the other checks
 * still run), reject (550 5.7.1) or defer (450 4.7.1), with the rule's text
 * or [policyd] reject_text / defer_text.  A rule matches when the sender is
 * in its sender group (NULL = anyone), the recipient in its recipient group
 * (NULL = anyone) and, where the rule asks for it, the client authenticated
 * with a SASL login that owns the sender address and/or SPF passed for
 * MAIL FROM.  No matching rule: no objection.  Every decision is logged
 * with the rule's name.
 *
 * Many rules: only the rules whose recipient group can hold the recipient
 * are tried (rules.c rules_srule_cands: an index by address, domain and
 * parent domain of the groups without LDAP members; the other rules are
 * tried for every recipient), in the same order, so the answer is that of
 * trying them all and 1,500 per-class rules cost a request one or two.
 *
 * Addresses are canonical (decide.c: case, quoting, +extension, trailing
 * dot, alias domain), so every spelling of a protected address meets its
 * rule.
 *
 * The sender: without a SASL login, the envelope sender (spoofable: a rule
 * that trusts it should ask for require_auth or SPF).  With a login, the
 * rules key on the login: the sender is in a group when one of the login's
 * addresses is (pd_login_addresses: the login itself when it is an
 * address, and the addresses LDAP has for it, read once per request and
 * only when a rule needs them), or when the envelope sender is and either
 * the rule refuses (reject/defer: any identity counts) or the login owns
 * it (permit: only what the login owns counts; the envelope alone when the
 * login's addresses are unknown, [policyd] ldap = no and a uid login).  So a login that may only write inside the
 * school meets its rule with MAIL FROM:<> (decide.c makes that the login's
 * address), with another spelling of its address, or with someone else's.
 *
 * "Owns": the sender is one of the login's addresses, or sender_grants
 * grants the login that address or its whole domain.  A forged internal
 * sender from the internet has no login, so a rule with require_auth does
 * not match it and a later reject rule does.
 *
 * Nesting: a recipient group's rules protect its members wherever the
 * group is reached.  When the first matching rule is a permit for
 * recipient group G, every policy group R nested in G (at any depth) that
 * holds the recipient must pass too: the first matching rule among R's own
 * rules (recipient group R, in priority order) decides for R, and a reject
 * or defer there is the answer.  A permit for "anyone" (no recipient group)
 * is not narrowed.
 *
 * Groups the milter expands: when the recipient is an LDAP group address
 * ([policyd] ldap = yes, [ldap] group_filter finds it) and some rule names
 * a recipient group, every member of the group (lib/ldapgroup.h, nested
 * groups included, the cache the workers share) meets the rules as if it
 * were the recipient, and the first member refused or deferred decides for
 * the whole address (550 5.7.1 / 450 4.7.1, logged with the member).  So a
 * protected pupil is protected when reached through a class, a club or a
 * school-wide group, whatever rule postern-milter has for that group.
 * Members are canonical like every address; permits of members are not
 * logged (a 9,000-member group would write 9,000 lines).  LDAP trouble is
 * a temporary failure; a group over LDAPGROUP_MEMBERS_MAX or [ldap]
 * max_nesting is a limit (deferred).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

#define SR_SETTLED_MAX 64 /* nested recipient groups settled per request */

int pd_login_addresses(struct pd_eval *e, struct strvec *out)
{
    struct strvec raw = STRVEC_INIT;
    struct ldapgroup_backend be;
    int rc = LK_NOTFOUND;

    if (e->login[0] == '\0')
        return LK_NOTFOUND;
    if (strchr(e->login, '@'))
        strvec_add(&raw, e->login);
    if (e->w->ldap && e->w->ldgroups) {
        be = ldapgroup_backend_ldapc(e->w->ldap);
        rc = ldapgroup_user_addresses(e->w->ldgroups, &be, e->login, &raw,
                                      &e->err);
    }
    if (rc >= 0) {
        for (size_t i = 0; i < raw.n; i++) {
            struct addr a;
            if (pd_canonical(e->w->cfg, e->rules, raw.v[i], ADDR_NEED_DOMAIN,
                             &a) == 0 && !strvec_has(out, a.full))
                strvec_add(out, a.full);
        }
        rc = out->n > 0 ? LK_FOUND : LK_NOTFOUND;
    }
    strvec_free(&raw);
    return rc;
}

/* grant - does sender_grants give the login "what" (address or domain)? */
static int grant(const struct pd_eval *e, const char *what)
{
    char key[ADDR_MAX * 2 + 2];
    int n = snprintf(key, sizeof(key), "%s %s", e->login, what);

    if (n <= 0 || (size_t)n >= sizeof(key))
        return 0;
    str_lower(key, (size_t)n);
    return strmap_get(&e->rules->grants, key) != NULL;
}

/* identity - the login's addresses into e->who, once per request; 0 or
   PV_TEMP */
static int identity(struct pd_eval *e)
{
    int rc;

    if (e->who_done || e->login[0] == '\0')
        return 0;
    rc = pd_login_addresses(e, &e->who);
    if (rc < 0)
        return PV_TEMP;
    e->who_done = 1;
    return 0;
}

static int login_owns(struct pd_eval *e)
{
    const char *s = e->sender.full;

    if (e->login[0] == '\0' || s[0] == '\0')
        return 0;
    if (!strcasecmp(e->login, s) || strvec_has(&e->who, s))
        return 1;
    return grant(e, s) || (e->sender.has_domain && grant(e, e->sender.domain));
}

/* sender_in - is the sender in g (see the top)?  For a rule that refuses
   (strict) the envelope sender counts too, owned or not, so no spelling
   and no forged envelope escapes it; for a permit only what the login
   owns counts (or the envelope alone when the login's addresses are
   unknown).  LK_* */
static int sender_in(struct pd_eval *e, const struct pgroup *g, int strict)
{
    int first_neg = 0, rc;

    if (e->login[0] == '\0')
        return pd_group_has(e, g, e->sender.full);
    if (identity(e) < 0)
        return LK_TEMP;
    for (size_t i = 0; i < e->who.n; i++) {
        if ((rc = pd_group_has(e, g, e->who.v[i])) == LK_FOUND)
            return LK_FOUND;
        if (rc < 0 && first_neg == 0)
            first_neg = rc;
    }
    if (e->sender.full[0] && !strvec_has(&e->who, e->sender.full) &&
        (strict || e->who.n == 0 || login_owns(e))) {
        if ((rc = pd_group_has(e, g, e->sender.full)) == LK_FOUND)
            return LK_FOUND;
        if (rc < 0 && first_neg == 0)
            first_neg = rc;
    }
    return first_neg ? first_neg : LK_NOTFOUND;
}

/* rule_matches - LK_FOUND, LK_NOTFOUND, or < 0 (e->err) */
static int rule_matches(struct pd_eval *e, const struct pd_sender_rule *sr)
{
    int m;

    if (sr->recipient &&
        (m = pd_group_has(e, sr->recipient, e->rcpt.full)) != LK_FOUND)
        return m;
    if (sr->sender && (m = sender_in(e, sr->sender,
                                     sr->action != RA_PERMIT)) != LK_FOUND)
        return m;
    if (sr->require_auth && identity(e) < 0)
        return LK_TEMP;
    if (sr->require_auth && !login_owns(e))
        return LK_NOTFOUND;
    if (sr->require_spf) {
        int spf = pd_spf_result(e);
        if (spf < 0)
            return LK_TEMP;
        if (spf != SPFQ_PASS)
            return LK_NOTFOUND;
    }
    return LK_FOUND;
}

static int settled(const struct pgroup *const *v, size_t n,
                   const struct pgroup *g)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == g)
            return 1;
    return 0;
}

/* nested_rule - after a permit by rule c->v[k] for recipient group G: the
   first rule of a group nested in G that refuses, or NULL; < 0 in *rc on
   trouble.  Only the candidates after it: a rule of a group that cannot
   hold the recipient does not match. */
static const struct pd_sender_rule *nested_rule(struct pd_eval *e,
                                                const struct pd_cands *c,
                                                size_t k, int *rc)
{
    const struct pd_rules *r = e->rules;
    const struct pgroup *outer = r->srules[c->v[k]].recipient;
    const struct pgroup *done[SR_SETTLED_MAX];
    size_t ndone = 0;

    *rc = 0;
    for (size_t j = k + 1; outer && j < c->n; j++) {
        const struct pd_sender_rule *sr = &r->srules[c->v[j]];
        int m;
        if (!sr->recipient || settled(done, ndone, sr->recipient) ||
            !pgroup_nested_in(r->groups, outer, sr->recipient))
            continue;
        if ((m = rule_matches(e, sr)) < 0) {
            *rc = m;
            return NULL;
        }
        if (m != LK_FOUND)
            continue;
        if (sr->action != RA_PERMIT)
            return sr;
        if (ndone == SR_SETTLED_MAX) {
            str_appendf(&e->err, "more than %d nested recipient groups",
                        SR_SETTLED_MAX);
            e->limit = 1;
            *rc = LK_LIMIT;
            return NULL;
        }
        done[ndone++] = sr->recipient;
    }
    return NULL;
}

static int answer(struct pd_eval *e, const struct pd_sender_rule *sr,
                  const struct pd_sender_rule *via)
{
    const struct policyd_config *cfg = e->w->cfg;

    if (e->via_group && sr->action == RA_PERMIT)
        return PV_DUNNO;
    e->rule = sr->name;
    log_info("%s: sender rule %s: %s from=<%s>%s to=<%s>%s%s%s login=%s%s%s%s",
             log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), sr->name,
             sr->action == RA_PERMIT   ? "permit"
             : sr->action == RA_REJECT ? "reject"
                                       : "defer",
             log_safe_cstr(e->sender.full),
             e->null_sender ? " (null sender)" : "",
             log_safe_cstr(e->rcpt.full),
             e->via_group ? " (member of group " : "",
             e->via_group ? log_safe_cstr(e->via_group) : "",
             e->via_group ? ")" : "",
             e->login[0] ? log_safe_cstr(e->login) : "-",
             via ? " (nested in the group of rule " : "",
             via ? via->name : "", via ? ")" : "");
    if (sr->action == RA_PERMIT)
        return PV_DUNNO;
    str_reset(&e->reply);
    str_appendf(&e->reply, "%s %s",
                sr->action == RA_REJECT ? "550 5.7.1" : "450 4.7.1",
                sr->text                  ? sr->text
                : sr->action == RA_REJECT ? cfg->reject_text
                                          : cfg->defer_text);
    return PV_DECIDED;
}

/* check_address - the rules for the recipient e->rcpt: those its
   address, domain and parent domains can meet (rules_srule_cands), in
   priority order, as if every rule were tried */
static int check_address(struct pd_eval *e)
{
    const struct pd_rules *r = e->rules;
    struct pd_cands c;
    int v = PV_DUNNO;

    rules_srule_cands(r, e->rcpt.full, &c);
    for (size_t k = 0; k < c.n; k++) {
        const struct pd_sender_rule *sr = &r->srules[c.v[k]], *inner;
        int m = rule_matches(e, sr);
        if (m < 0) {
            v = PV_TEMP;
            break;
        }
        if (m != LK_FOUND)
            continue;
        if (sr->action == RA_PERMIT && sr->recipient) {
            inner = nested_rule(e, &c, k, &m);
            if (m < 0) {
                v = PV_TEMP;
                break;
            }
            if (inner) {
                v = answer(e, inner, sr);
                break;
            }
        }
        v = answer(e, sr, NULL);
        break;
    }
    pd_cands_free(&c);
    return v;
}

/* group_members - the member addresses of the recipient when it is an
   LDAP group address; LK_* (LK_NOTFOUND: no group, or no LDAP) */
static int group_members(struct pd_eval *e, struct strvec *out)
{
    struct ldapgroup_info info = {0};
    struct ldapgroup_backend be;
    int rc;

    if (e->w->ldap == NULL || e->w->ldgroups == NULL)
        return LK_NOTFOUND;
    be = ldapgroup_backend_ldapc(e->w->ldap);
    rc = ldapgroup_find(e->w->ldgroups, &be, e->rcpt.full, &info, &e->err);
    if (rc == LK_FOUND)
        rc = ldapgroup_expand(e->w->ldgroups, &be, info.dn, out, &e->err);
    ldapgroup_info_free(&info);
    return rc;
}

int check_sender_rules(struct pd_eval *e)
{
    struct strvec members = STRVEC_INIT;
    struct addr group;
    int v = check_address(e), rc;

    if (v != PV_DUNNO || !e->rcpt_ok || e->rcpt.full[0] == '\0' ||
        !e->rules->srules_protect)
        return v;
    rc = group_members(e, &members);
    if (rc == LK_LIMIT)
        e->limit = 1;
    if (rc < 0) {
        strvec_free(&members);
        return PV_TEMP;
    }
    group = e->rcpt;
    e->via_group = group.full;
    for (size_t i = 0; i < members.n && v == PV_DUNNO; i++) {
        if (pd_canonical(e->w->cfg, e->rules, members.v[i], ADDR_NEED_DOMAIN,
                         &e->rcpt) < 0)
            continue; /* no address: it can be in no recipient group */
        v = check_address(e);
    }
    e->rcpt = group;
    e->via_group = NULL;
    strvec_free(&members);
    return v;
}
