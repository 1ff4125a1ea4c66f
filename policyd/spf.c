/*
 * spf - SPF (RFC 7208) through libspf2 for the HELO and MAIL FROM
 * identities, once per message, with per-result actions.
 *
 * The HELO name is checked first (as postmaster@HELO, when it is a domain
 * name); a HELO "fail" takes [policyd] spf_helo_fail.  Then MAIL FROM, or
 * for the null sender the HELO result stands.  The result maps to
 * spf_fail / spf_softfail / spf_neutral / spf_none / spf_permerror /
 * spf_temperror: reject (550 5.7.23), defer (451 4.7.24), prepend (only the
 * Received-SPF header) or off.  A "pass" is never refused.  Received-SPF
 * is prepended once per message when spf_header = yes.
 *
 * Skipped: SASL-authenticated clients, clients in spf_skip_networks (your
 * own relays), clients without an IP address.  DNS runs in the worker
 * thread through libspf2's resolver with its cache; one SPF server per
 * worker (libspf2 servers are not shared between threads).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <spf2/spf.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policyd.h"

void *spf_server_new(void)
{
    return SPF_server_new(SPF_DNS_CACHE, 0);
}

void spf_server_free(void *s)
{
    if (s)
        SPF_server_free(s);
}

static int skipped(const struct pd_eval *e)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    struct cidr n;

    return e->login[0] || cidr_parse(client, &n) < 0 ||
           cidr_list_contains(e->w->cfg->spf_skip_networks, client);
}

/* one query: result and Received-SPF value */
static int query(struct pd_eval *e, const char *from, char *hdr, size_t size)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *helo = preq_get(e->req, A_HELO_NAME);
    SPF_request_t *rq = SPF_request_new(e->w->spf);
    SPF_response_t *rp = NULL;
    int res;

    if (rq == NULL)
        return -1;
    if ((strchr(client, ':') ? SPF_request_set_ipv6_str(rq, client)
                             : SPF_request_set_ipv4_str(rq, client)) !=
        SPF_E_SUCCESS) {
        SPF_request_free(rq);
        return SPF_RESULT_NONE;
    }
    if (helo[0])
        SPF_request_set_helo_dom(rq, helo);
    SPF_request_set_env_from(rq, from);
    SPF_request_query_mailfrom(rq, &rp);
    res = rp ? (int)SPF_response_result(rp) : SPF_RESULT_TEMPERROR;
    if (hdr && rp && SPF_response_get_received_spf_value(rp))
        snprintf(hdr, size, "Received-SPF: %s",
                 SPF_response_get_received_spf_value(rp));
    if (rp)
        SPF_response_free(rp);
    SPF_request_free(rq);
    return res;
}

static int helo_is_name(const char *h)
{
    return h[0] && h[0] != '[' && strchr(h, '.') && !strchr(h, ':');
}

int spf_result(struct pd_eval *e)
{
    struct pd_msgstate *ms = e->ms;
    const char *helo = preq_get(e->req, A_HELO_NAME);
    char from[ADDR_MAX + 16];
    int r;

    if (ms->spf_done)
        return ms->spf_result;
    if (skipped(e))
        return SPF_RESULT_NONE; /* not cached: nothing to look up */
    if (e->sender.full[0]) {
        r = query(e, e->sender.full, ms->spf_header, sizeof(ms->spf_header));
    } else if (helo_is_name(helo)) {
        snprintf(from, sizeof(from), "postmaster@%s", helo);
        r = query(e, from, ms->spf_header, sizeof(ms->spf_header));
    } else {
        r = SPF_RESULT_NONE;
    }
    if (r < 0)
        return -1;
    ms->spf_done = 1;
    ms->spf_result = r;
    return r;
}

static int action_for(const struct policyd_config *c, int r)
{
    switch (r) {
    case SPF_RESULT_FAIL: return c->spf_fail;
    case SPF_RESULT_SOFTFAIL: return c->spf_softfail;
    case SPF_RESULT_NEUTRAL: return c->spf_neutral;
    case SPF_RESULT_NONE: return c->spf_none;
    case SPF_RESULT_PERMERROR: return c->spf_permerror;
    case SPF_RESULT_TEMPERROR: return c->spf_temperror;
    default: return SPF_ACT_PREPEND;
    }
}

static int refuse(struct pd_eval *e, int act, const char *what, int r)
{
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));

    log_info("%s: SPF %s %s: client=%s from=<%s> helo=%s: %s", qid, what,
             SPF_strresult(r), log_safe_cstr(preq_get(e->req, A_CLIENT_ADDRESS)),
             log_safe_cstr(e->sender.full),
             log_safe_cstr(preq_get(e->req, A_HELO_NAME)),
             act == SPF_ACT_REJECT ? "reject" : "defer");
    str_reset(&e->reply);
    if (act == SPF_ACT_REJECT)
        str_appendf(&e->reply, "550 5.7.23 SPF %s: %s is not allowed to send "
                    "mail for %s", SPF_strresult(r),
                    preq_get(e->req, A_CLIENT_ADDRESS),
                    what[0] == 'H' ? "this HELO name" : "this sender");
    else
        str_appendf(&e->reply, "451 4.7.24 SPF %s for %s, try again later",
                    SPF_strresult(r), what);
    return PV_DECIDED;
}

int check_spf(struct pd_eval *e)
{
    const struct policyd_config *c = e->w->cfg;
    struct pd_msgstate *ms = e->ms;
    const char *helo = preq_get(e->req, A_HELO_NAME);
    int first = !ms->spf_done, r, act;

    if (skipped(e))
        return PV_DUNNO;
    if (first && e->sender.full[0] && helo_is_name(helo) &&
        c->spf_helo_fail >= SPF_ACT_DEFER) {
        char from[ADDR_MAX + 16];
        snprintf(from, sizeof(from), "postmaster@%s", helo);
        r = query(e, from, NULL, 0);
        if (r == SPF_RESULT_FAIL)
            return refuse(e, c->spf_helo_fail, "HELO", r);
    }
    if ((r = spf_result(e)) < 0)
        return PV_TEMP;
    act = action_for(c, r);
    if (act >= SPF_ACT_DEFER)
        return refuse(e, act, "MAIL FROM", r);
    if (first && act == SPF_ACT_PREPEND && c->spf_header &&
        ms->spf_header[0] && ms->nheaders < PD_HEADERS_MAX) {
        memmove(ms->headers[1], ms->headers[0],
                (size_t)ms->nheaders * PD_HEADER_MAX);
        snprintf(ms->headers[0], PD_HEADER_MAX, "%s", ms->spf_header);
        ms->nheaders++;
    }
    return PV_DUNNO;
}
