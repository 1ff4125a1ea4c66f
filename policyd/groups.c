/*
 * groups - is an address a member of a policy group?  postern-policyd's
 * side of lib/pgroup.h (the groups and their members come from the rule
 * snapshot, rules.c) and lib/ldapgroup.h (ldap_group members, through the
 * worker's own LDAP connection and the cache all workers share: one worker
 * reads a group while the others wait for it or keep the cached answer,
 * and [ldap] group_check_interval brings LDAP changes in within seconds).
 *
 * Outcomes: LK_FOUND, LK_NOTFOUND, LK_TEMP (LDAP cannot answer), LK_LIMIT
 * (policy groups nested deeper than PGROUP_NEST_MAX, LDAP groups deeper
 * than [ldap] max_nesting or over LDAPGROUP_MEMBERS_MAX addresses).  The
 * reason is in e->err; LK_LIMIT also sets e->limit so that decide.c defers
 * and logs it apart (never "not a member", whatever the fail mode).
 *
 * With [policyd] ldap = no, an ldap_group member counts as no member and
 * a warning is logged each time (the group cannot be read at all).
 */
#include "log.h"
#include "lookup.h"
#include "policyd.h"

struct ldapgroup *pd_ldgroups_new(const struct policyd_config *cfg,
                                  struct str *err)
{
    if (!cfg->ldap_on)
        return NULL;
    return ldapgroup_new(&cfg->ldap, "", err);
}

static int ldap_has(void *ctx, const char *group, const char *addr,
                    struct str *err)
{
    struct pd_worker *w = ctx;
    struct ldapgroup_backend be;

    if (w->ldap == NULL || w->ldgroups == NULL) {
        log_warn("policy group member ldap_group '%s' ignored: [policyd] "
                 "ldap = no", log_safe_cstr(group));
        return LK_NOTFOUND;
    }
    be = ldapgroup_backend_ldapc(w->ldap);
    return ldapgroup_has(w->ldgroups, &be, group, addr, err);
}

int pd_group_has(struct pd_eval *e, const struct pgroup *g, const char *addr)
{
    struct pgroup_ldap ldap = {ldap_has, e->w};
    int rc = pgroup_has(e->rules->groups, g, addr, &ldap, &e->err);

    if (rc == LK_LIMIT)
        e->limit = 1;
    return rc;
}
