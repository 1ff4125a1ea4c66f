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
 * "Owns": the login is the sender address itself, or sender_grants grants
 * the login that address or its whole domain.  A forged internal sender
 * from the internet has no login, so a rule with require_auth does not
 * match it and a later reject rule does.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

static int login_owns(const struct pd_eval *e)
{
    const char *s = e->sender.full;
    const char *at = strrchr(s, '@');
    char key[ADDR_MAX * 2 + 2];
    int n;

    if (e->login[0] == '\0' || s[0] == '\0')
        return 0;
    if (!strcasecmp(e->login, s))
        return 1;
    n = snprintf(key, sizeof(key), "%s %s", e->login, s);
    if (n > 0 && (size_t)n < sizeof(key)) {
        str_lower(key, (size_t)n);
        if (strmap_get(&e->rules->grants, key))
            return 1;
    }
    n = snprintf(key, sizeof(key), "%s %s", e->login, at ? at + 1 : "");
    if (at && n > 0 && (size_t)n < sizeof(key)) {
        str_lower(key, (size_t)n);
        if (strmap_get(&e->rules->grants, key))
            return 1;
    }
    return 0;
}

int check_sender_rules(struct pd_eval *e)
{
    const struct pd_rules *r = e->rules;
    const struct policyd_config *cfg = e->w->cfg;

    for (size_t i = 0; i < r->nsrules; i++) {
        const struct pd_sender_rule *sr = &r->srules[i];
        int m;
        if (sr->recipient) {
            if ((m = pd_group_has(e, sr->recipient, e->rcpt.full)) < 0)
                return PV_TEMP;
            if (!m)
                continue;
        }
        if (sr->sender) {
            if ((m = pd_group_has(e, sr->sender, e->sender.full)) < 0)
                return PV_TEMP;
            if (!m)
                continue;
        }
        if (sr->require_auth && !login_owns(e))
            continue;
        if (sr->require_spf) {
            int spf = pd_spf_result(e);
            if (spf < 0)
                return PV_TEMP;
            if (spf != SPFQ_PASS)
                continue;
        }
        log_info("%s: sender rule %s: %s from=<%s> to=<%s> login=%s",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), sr->name,
                 sr->action == RA_PERMIT   ? "permit"
                 : sr->action == RA_REJECT ? "reject"
                                           : "defer",
                 log_safe_cstr(e->sender.full), log_safe_cstr(e->rcpt.full),
                 e->login[0] ? log_safe_cstr(e->login) : "-");
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
    return PV_DUNNO;
}
