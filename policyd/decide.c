/*
 * decide - the answer to one policy request.
 *
 * The enabled checks run in a fixed order, spf, sender_rules, quota,
 * greylist, ratelimit, each at the protocol state [policyd] checks gives it (RCPT
 * unless "name:STATE"; policy_domain_checks switches them per recipient
 * domain): the first that objects gives the answer.  With no objection, a
 * header a check asked for (Received-SPF, X-Greylist) is returned as
 * PREPEND, one per reply; what is left goes out with the next reply at
 * MAIL, RCPT or DATA (list check_policy_service in smtpd_data_restrictions
 * too, see docs/policyd.md).  At END-OF-MESSAGE rate limits count bytes
 * (and messages/recipients when ratelimit runs there).  Other states: DUNNO.
 *
 * A dependency that is down (database, LDAP, DNS) makes a check follow its
 * fail mode ([policyd] sender_rules_fail, greylist_fail, ratelimit_fail;
 * for SPF, DNS trouble is the temperror result and spf_temperror):
 * defer ("451 4.3.0": Postfix makes the client retry,
 * nothing is bounced) or pass (no objection from that check, with a logged
 * warning).  Defaults: sender rules and rate limits defer, greylisting
 * passes; the quota check always passes (quota.c: never refuse on doubt).  A group question that hits a limit (LK_LIMIT: policy or LDAP
 * groups nested too deep, an LDAP group too large) is no outage: the check
 * defers (451 4.3.0) whatever its fail mode and logs "group over a limit";
 * it never counts as "not a member".
 * Addresses: the sender, the recipient and an address-shaped SASL login
 * are made canonical once, before any check (lib/addr.h addr_canonical:
 * case, quoting, +extension, trailing dot, alias domain from the rule
 * snapshot), so every rule, whitelist and rate-limit key sees one
 * spelling.  An authenticated null sender (MAIL FROM:<> with a SASL
 * login) is the login: its address (the login itself, or the first
 * address LDAP has for it) replaces <> for every check; a login without
 * any address is refused (550 5.7.1) when sender rules are on.
 *
 * Before the checks, an authenticated request of a login that a contain
 * rule made receive-only is refused or held (contain.c; [policyd]
 * contain_fail when its state cannot be read, default defer); this needs
 * the ratelimit check on.
 *
 * The rules themselves are kept in memory: when the database goes
 * away, the last snapshot keeps serving.  Before the first snapshot was
 * ever loaded, every check is in trouble.
 */
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

int pd_canonical(const struct policyd_config *cfg, const struct pd_rules *r,
                 const char *in, int flags, struct addr *out)
{
    const char *why;

    return addr_canonical(in, strlen(in), cfg->recipient_delimiter, flags,
                          r ? aliasdom_target : NULL,
                          r ? (void *)&r->alias : NULL, out, &why);
}

static void parse_addr(struct pd_eval *e, const char *in, struct addr *a,
                       int *ok)
{
    const char *why;

    *ok = pd_canonical(e->w->cfg, e->rules, in, ADDR_ALLOW_EMPTY, a) == 0;
    if (!*ok && addr_parse(in, strlen(in), NULL, ADDR_ALLOW_EMPTY, a,
                           &why) == 0)
        e->alias_loop = 1; /* valid, but its alias domains never end */
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

/* defer - log why (with the queue id) and answer 451 4.3.0. */
static int defer(struct pd_eval *e, const char *name, const char *why, int v)
{
    log_error("%s: %s: %s, deferring: %s",
              log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), name, why,
              str_cstr(&e->err));
    str_reset(&e->reply);
    str_appendf(&e->reply, "451 4.3.0 Policy service temporarily "
                "unavailable, try again later");
    return v;
}

static int contained_now(struct pd_eval *e);

static int run(struct pd_eval *e, int (*check)(struct pd_eval *),
               const char *name, int fail)
{
    const char *rule0 = e->rule;
    int v;

    e->rule = NULL; /* set by the check when a rule of its fires */
    v = e->rules || check == check_spf || check == check_quota ? check(e)
                                                                : PV_TEMP;
    if (v != PV_DUNNO || e->rule) /* decided, or a rule permitted */
        e->check = check == check_spf             ? "spf"
                   : check == check_sender_rules ? "sender_rules"
                   : check == check_greylist     ? "greylist"
                   : check == check_quota        ? "quota"
                   : check == contained_now      ? "contain"
                                                 : "ratelimit";
    else
        e->rule = rule0;

    if (e->trace)
        str_appendf(e->trace, "%s: %s%s%s\n", name,
                    v == PV_DUNNO ? "no objection" : v > 0 ? "decided: " :
                    "temporary failure: ", v > 0 ? str_cstr(&e->reply) : "",
                    v < 0 ? str_cstr(&e->err) : "");
    if (v >= 0)
        return v;
    if (e->rules == NULL)
        str_append_cstr(&e->err, "policy tables not loaded yet (database "
                        "unreachable since the start)");
    if (e->limit) /* no outage: the fail mode does not apply */
        return defer(e, name, "group over a limit", v);
    if (fail == FAIL_PASS) {
        log_warn("%s: %s: temporary failure, passing (fail mode pass): %s",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), name,
                 str_cstr(&e->err));
        str_reset(&e->err);
        return PV_DUNNO;
    }
    return defer(e, name, "temporary failure", v);
}

/* the stage and main stage check_ratelimit gets through run(), per
   worker thread */
static __thread int tl_stage, tl_main;

static int ratelimit_now(struct pd_eval *e)
{
    return check_ratelimit(e, tl_stage, tl_main);
}

static int contained_now(struct pd_eval *e)
{
    return check_contained(e, tl_stage);
}

/* switch - the stage check runs at: its configuration, overridden per
   recipient domain (0 off; 1 on, at the configured stage or RCPT) */
static int which(int configured, int domain_flag)
{
    if (domain_flag == 0)
        return ST_NONE;
    if (domain_flag == 1 && configured == ST_NONE)
        return ST_RCPT;
    return configured;
}

/* canon_login - an address login in canonical form (MAX@alias-domain is
   the account max@domain); other logins as they are */
static void canon_login(struct pd_eval *e)
{
    struct addr a;

    e->login = preq_get(e->req, A_SASL_USERNAME);
    if (e->login[0] && strchr(e->login, '@') &&
        pd_canonical(e->w->cfg, e->rules, e->login, ADDR_NEED_DOMAIN, &a) ==
            0) {
        memcpy(e->login_buf, a.full, strlen(a.full) + 1);
        e->login = e->login_buf;
    }
}

/* null_sender - an authenticated MAIL FROM:<> is the login: every rule
   (sender rules, rate limits by sender) sees the login's address.  A login
   with no address at all is refused (it could pass no closed rule);
   LDAP trouble defers.  1 when the reply is decided. */
static int null_sender(struct pd_eval *e)
{
    struct strvec addrs = STRVEC_INIT;
    int rc;

    if (e->login[0] == '\0' || e->sender.full[0] || !e->sender_ok)
        return 0;
    rc = pd_login_addresses(e, &addrs);
    if (rc == LK_FOUND) {
        struct addr a;
        if (pd_canonical(e->w->cfg, e->rules, addrs.v[0], ADDR_NEED_DOMAIN,
                         &a) == 0) {
            e->sender = a;
            e->null_sender = 1;
        } else {
            rc = LK_NOTFOUND;
        }
    }
    strvec_free(&addrs);
    if (rc == LK_FOUND || (rc == LK_NOTFOUND && e->w->cfg->sender_rules_on ==
                                                    ST_NONE))
        return 0;
    str_reset(&e->reply);
    if (rc < 0) {
        log_error("%s: null sender of login %s: its addresses cannot be read, "
                  "deferring: %s",
                  log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                  log_safe_cstr(e->login), str_cstr(&e->err));
        str_append_cstr(&e->reply, "451 4.3.0 Policy service temporarily "
                        "unavailable, try again later");
    } else {
        log_info("%s: reject: null sender of login %s, which has no address",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                 log_safe_cstr(e->login));
        str_append_cstr(&e->reply, "550 5.7.1 The null sender is not "
                        "allowed for this login");
    }
    return 1;
}

static void decide(struct pd_eval *e);

struct pd_metrics pd_metrics;

void pd_metrics_register(void)
{
    pd_metrics.decisions = metrics_register(
        METRICS_COUNTER, "postern_policy_decisions_total",
        "Policy answers by the check that decided (\"-\": none objected), "
        "the action and the rule.", "check,action,rule");
    pd_metrics.greylist = metrics_register(
        METRICS_COUNTER, "postern_greylist_total",
        "Greylisting results: defer, pass (first pass after the delay), "
        "whitelist, autowhitelist, pool, selective, reply, domain_awl.",
        "result");
    pd_metrics.ratelimit = metrics_register(
        METRICS_COUNTER, "postern_ratelimit_hits_total",
        "Rate-limit rules over their limit, by rule and action (defer, "
        "reject, hold, warn).", "rule,action");
    pd_metrics.spf = metrics_register(
        METRICS_COUNTER, "postern_spf_results_total",
        "SPF results of policy checks by identity (mail_from, helo).",
        "identity,result");
    pd_metrics.quota = metrics_register(
        METRICS_COUNTER, "postern_quota_checks_total",
        "Quota checks at RCPT by result: full (refused), room, no_row, "
        "unknown (database trouble: passed).", "result");
}

void pd_count(const struct pd_eval *e, struct metrics_family *f,
              const char *const *values)
{
    if (!e->dry)
        metrics_inc(f, values);
}

/* action_of - the action word of a reply for logs and metrics */
static const char *action_of(const char *reply)
{
    if (!strncmp(reply, "DUNNO", 5))
        return "dunno";
    if (!strncmp(reply, "PREPEND", 7))
        return "prepend";
    if (!strncmp(reply, "DEFER_IF_PERMIT", 15))
        return "defer_if_permit";
    if (!strncmp(reply, "HOLD", 4))
        return "hold";
    if (reply[0] == '4')
        return "defer";
    if (reply[0] == '5')
        return "reject";
    return "other";
}

/* log_decision - one greppable line per answer (docs/logging.md), at every
   protocol state the checks run at: the RCPT answers of the first
   recipient come before Postfix has a queue id (NOQUEUE), DATA and
   END-OF-MESSAGE carry it */
static void log_decision(struct pd_eval *e)
{
    const char *state = preq_get(e->req, A_PROTOCOL_STATE);
    const char *qid = preq_get(e->req, A_QUEUE_ID);
    const char *action = action_of(str_cstr(&e->reply));
    int stage = pd_stage_of(state);

    pd_count(e, pd_metrics.decisions,
             METRICS_L(e->check ? e->check : "-", action,
                       e->rule ? e->rule : "-"));
    if (e->dry || stage == ST_NONE)
        return;
    struct str line = STR_INIT; /* one field at a time: log_safe_cstr
                                   has only a few buffers */
    str_appendf(&line, "%s: action=%s check=%s rule=",
                qid[0] ? log_safe_cstr(qid) : "NOQUEUE", action,
                e->check ? e->check : "-");
    str_append_cstr(&line, e->rule ? log_safe_cstr(e->rule) : "-");
    str_appendf(&line, " state=%s", log_safe_cstr(state));
    str_appendf(&line, " client=%s",
                log_safe_cstr(preq_get(e->req, A_CLIENT_NAME)));
    str_appendf(&line, "[%s]",
                log_safe_cstr(preq_get(e->req, A_CLIENT_ADDRESS)));
    str_appendf(&line, " sasl_username=%s",
                e->login[0] ? log_safe_cstr(e->login) : "-");
    str_appendf(&line, " from=<%s>", log_safe_cstr(e->sender.full));
    str_appendf(&line, " to=<%s>", log_safe_cstr(e->rcpt.full));
    log_info("%s", str_cstr(&line));
    str_free(&line);
}

void pd_decide(struct pd_eval *e)
{
    decide(e);
    if (strcmp(preq_get(e->req, A_REQUEST), "smtpd_access_policy") == 0)
        log_decision(e);
    strvec_free(&e->who);
}

static void decide(struct pd_eval *e)
{
    const struct policyd_config *c = e->w->cfg;
    const char *state = preq_get(e->req, A_PROTOCOL_STATE);
    const char *request = preq_get(e->req, A_REQUEST);
    const struct pd_domchecks *dc;
    int stage, spf, sr, gl, rl, qt;

    str_reset(&e->reply);
    str_append_cstr(&e->reply, "DUNNO");
    if (strcmp(request, "smtpd_access_policy") != 0) {
        log_warn("unknown request type '%s': DUNNO", log_safe_cstr(request));
        return;
    }
    parse_addr(e, preq_get(e->req, A_SENDER), &e->sender, &e->sender_ok);
    parse_addr(e, preq_get(e->req, A_RECIPIENT), &e->rcpt, &e->rcpt_ok);
    canon_login(e);
    stage = pd_stage_of(state);
    if (stage == ST_NONE)
        return;
    if (e->alias_loop) {
        log_error("%s: from=<%s> to=<%s>: alias domain chain longer than %d "
                  "(the domains table), deferring",
                  log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                  log_safe_cstr(preq_get(e->req, A_SENDER)),
                  log_safe_cstr(preq_get(e->req, A_RECIPIENT)),
                  ADDR_ALIAS_DOMAIN_DEPTH);
        e->check = "alias_domain";
        str_reset(&e->reply);
        str_append_cstr(&e->reply, "451 4.3.0 Policy service temporarily "
                        "unavailable, try again later");
        return;
    }
    if (null_sender(e)) {
        e->check = "null_sender";
        return;
    }
    dc = e->rules && e->rcpt.domain[0]
             ? rules_domchecks(e->rules, e->rcpt.domain) : NULL;
    spf = which(c->spf_on, dc ? dc->spf : -1);
    sr = which(c->sender_rules_on, dc ? dc->sender_rules : -1);
    gl = which(c->greylist_on, dc ? dc->greylist : -1);
    rl = which(c->ratelimit_on, dc ? dc->ratelimit : -1);
    qt = c->quota_on; /* not switched per domain */
    tl_stage = stage;
    tl_main = rl;
    /* a contained login (contain.c) is answered before any other check,
       at every state, whatever the recipient domain switches */
    if (e->login[0] && c->ratelimit_on != ST_NONE &&
        run(e, contained_now, "contain", c->contain_fail) != PV_DUNNO)
        return;
    if ((spf == stage && run(e, check_spf, "spf", FAIL_DEFER) != PV_DUNNO) ||
        (sr == stage && run(e, check_sender_rules, "sender rules",
                            c->sender_rules_fail) != PV_DUNNO) ||
        (qt == stage && run(e, check_quota, "quota", FAIL_PASS) != PV_DUNNO) ||
        (gl == stage &&
         run(e, check_greylist, "greylist", c->greylist_fail) != PV_DUNNO) ||
        ((rl == stage || (rl != ST_NONE && stage == ST_EOM)) &&
         run(e, ratelimit_now, "ratelimit", c->ratelimit_fail) != PV_DUNNO))
        return;
    if (stage != ST_EOM) /* PREPEND is not possible at END-OF-MESSAGE */
        pop_header(e);
}
