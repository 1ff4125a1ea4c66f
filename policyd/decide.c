/*
 * decide - the answer to one policy request.
 *
 * RCPT: the enabled checks run in a fixed order, spf, sender_rules,
 * greylist, ratelimit ([policyd] checks chooses which, policy_domain_checks
 * overrides that per recipient domain): the first that
 * objects gives the answer.  With no objection, a header a check asked for
 * (Received-SPF, X-Greylist) is returned as PREPEND, one per reply; what is
 * left goes out at the next RCPT or at DATA (list check_policy_service in
 * smtpd_data_restrictions too, see docs/policyd.md).  END-OF-MESSAGE:
 * byte rate limits.  Every other state: DUNNO.
 *
 * A dependency that is down (database, LDAP, DNS) makes a check follow its
 * fail mode ([policyd] sender_rules_fail, greylist_fail, ratelimit_fail;
 * for SPF, DNS trouble is the temperror result and spf_temperror): defer ("451 4.3.0": Postfix makes the client retry,
 * nothing is bounced) or pass (no objection from that check, with a logged
 * warning).  Defaults: sender rules and rate limits defer, greylisting
 * passes.  The rules themselves are kept in memory: when the database goes
 * away, the last snapshot keeps serving.  Before the first snapshot was
 * ever loaded, every check is in trouble.
 */
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

static void parse_addr(struct pd_eval *e, const char *in, struct addr *a,
                       int *ok)
{
    const char *why;

    *ok = addr_parse(in, strlen(in), e->w->cfg->recipient_delimiter,
                     ADDR_LOWER_LOCAL | ADDR_ALLOW_EMPTY, a, &why) == 0;
    if (!*ok) { /* keep the raw text, lower-cased, for logs and keys */
        memset(a, 0, sizeof(*a));
        str_copy_bounded(a->full, sizeof(a->full), in, strlen(in));
        str_lower(a->full, strlen(a->full));
    }
}

static int pop_header(struct pd_eval *e)
{
    struct pd_msgstate *ms = e->ms;

    if (ms->nheaders == 0)
        return 0;
    str_reset(&e->reply);
    str_appendf(&e->reply, "PREPEND %s", ms->headers[0]);
    ms->nheaders--;
    memmove(ms->headers[0], ms->headers[1],
            (size_t)ms->nheaders * PD_HEADER_MAX);
    return 1;
}

static int run(struct pd_eval *e, int (*check)(struct pd_eval *),
               const char *name, int fail)
{
    int v = e->rules || check == check_spf ? check(e) : PV_TEMP;

    if (v != PV_TEMP)
        return v;
    if (e->rules == NULL)
        str_append_cstr(&e->err, "policy tables not loaded yet (database "
                        "unreachable since the start)");
    if (fail == FAIL_PASS) {
        log_warn("%s: %s: temporary failure, passing (fail mode pass): %s",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), name,
                 str_cstr(&e->err));
        str_reset(&e->err);
        return PV_DUNNO;
    }
    log_error("%s: %s: temporary failure, deferring: %s",
              log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), name,
              str_cstr(&e->err));
    str_reset(&e->reply);
    str_appendf(&e->reply, "451 4.3.0 Policy service temporarily "
                "unavailable, try again later");
    return v;
}

static int ratelimit_rcpt(struct pd_eval *e)
{
    return check_ratelimit(e, 0);
}

static int ratelimit_eom(struct pd_eval *e)
{
    return check_ratelimit(e, 1);
}

void decide(struct pd_eval *e)
{
    const struct policyd_config *c = e->w->cfg;
    const char *state = preq_get(e->req, A_PROTOCOL_STATE);
    const char *request = preq_get(e->req, A_REQUEST);

    str_reset(&e->reply);
    str_append_cstr(&e->reply, "DUNNO");
    if (strcmp(request, "smtpd_access_policy") != 0) {
        log_warn("unknown request type '%s': DUNNO", log_safe_cstr(request));
        return;
    }
    parse_addr(e, preq_get(e->req, A_SENDER), &e->sender, &e->sender_ok);
    parse_addr(e, preq_get(e->req, A_RECIPIENT), &e->rcpt, &e->rcpt_ok);
    e->login = preq_get(e->req, A_SASL_USERNAME);
    if (!strcasecmp(state, "RCPT")) {
        const struct pd_domchecks *dc =
            e->rules ? rules_domchecks(e->rules, e->rcpt.domain) : NULL;
        int spf_on = dc && dc->spf >= 0 ? dc->spf : c->spf_on;
        int sr_on = dc && dc->sender_rules >= 0 ? dc->sender_rules
                                                : c->sender_rules_on;
        int gl_on = dc && dc->greylist >= 0 ? dc->greylist : c->greylist_on;
        int rl_on = dc && dc->ratelimit >= 0 ? dc->ratelimit : c->ratelimit_on;
        if ((spf_on &&
             run(e, check_spf, "spf", FAIL_DEFER) != PV_DUNNO) ||
            (sr_on && run(e, check_sender_rules, "sender rules",
                          c->sender_rules_fail) != PV_DUNNO) ||
            (gl_on && run(e, check_greylist, "greylist", c->greylist_fail) !=
                          PV_DUNNO) ||
            (rl_on && run(e, ratelimit_rcpt, "ratelimit", c->ratelimit_fail) !=
                          PV_DUNNO))
            return;
        pop_header(e);
    } else if (!strcasecmp(state, "DATA")) {
        pop_header(e);
    } else if (!strcasecmp(state, "END-OF-MESSAGE") && c->ratelimit_on) {
        run(e, ratelimit_eom, "ratelimit", c->ratelimit_fail);
    }
}
