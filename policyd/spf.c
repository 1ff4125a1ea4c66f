/*
 * spf - SPF (RFC 7208) through libspf2 (lib/spfq.c) for the HELO and MAIL FROM
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
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "policyd.h"
#include "spfq.h"

void *pd_spf_server_new(void)
{
    return spfq_server_new();
}

void pd_spf_server_free(void *s)
{
    spfq_server_free(s);
}

static int skipped(const struct pd_eval *e)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    struct cidr n;

    return e->login[0] || cidr_parse(client, &n) < 0 ||
           cidr_list_contains(e->w->cfg->spf_skip_networks, client);
}

/* one query: result and the Received-SPF header */
static int query(struct pd_eval *e, const char *from, char *hdr, size_t size)
{
    static const char name[] = "Received-SPF: ";
    int r;

    if (hdr && size <= sizeof(name))
        hdr = NULL;
    r = spfq_check(e->w->spf, preq_get(e->req, A_CLIENT_ADDRESS),
                   preq_get(e->req, A_HELO_NAME), from,
                   hdr ? hdr + sizeof(name) - 1 : NULL,
                   hdr ? size - sizeof(name) + 1 : 0);
    if (hdr)
        memcpy(hdr, name, sizeof(name) - 1);
    return r;
}

static int helo_is_name(const char *h)
{
    return h[0] && h[0] != '[' && strchr(h, '.') && !strchr(h, ':');
}

int pd_spf_result(struct pd_eval *e)
{
    struct pd_msgstate *ms = e->ms;
    const char *helo = preq_get(e->req, A_HELO_NAME);
    char from[ADDR_MAX + 16];
    int r;

    if (ms->spf_done)
        return ms->spf_result;
    if (skipped(e))
        return SPFQ_NONE; /* not cached: nothing to look up */
    if (e->sender.full[0]) {
        r = query(e, e->sender.full, ms->spf_header, sizeof(ms->spf_header));
    } else if (helo_is_name(helo)) {
        snprintf(from, sizeof(from), "postmaster@%s", helo);
        r = query(e, from, ms->spf_header, sizeof(ms->spf_header));
    } else {
        r = SPFQ_NONE;
    }
    if (r < 0) {
        pd_count(e, pd_metrics.spf, METRICS_L("mail_from", "temperror"));
        return -1;
    }
    pd_count(e, pd_metrics.spf, METRICS_L("mail_from", spfq_name(r)));
    ms->spf_done = 1;
    ms->spf_result = r;
    return r;
}

static int action_for(const struct policyd_config *c, int r)
{
    switch (r) {
    case SPFQ_FAIL: return c->spf_fail;
    case SPFQ_SOFTFAIL: return c->spf_softfail;
    case SPFQ_NEUTRAL: return c->spf_neutral;
    case SPFQ_NONE: return c->spf_none;
    case SPFQ_PERMERROR: return c->spf_permerror;
    case SPFQ_TEMPERROR: return c->spf_temperror;
    default: return SPF_ACT_PREPEND;
    }
}

static int refuse(struct pd_eval *e, int act, const char *what, int r)
{
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));

    log_info("%s: SPF %s %s: client=%s from=<%s> helo=%s: %s", qid, what,
             spfq_name(r), log_safe_cstr(preq_get(e->req, A_CLIENT_ADDRESS)),
             log_safe_cstr(e->sender.full),
             log_safe_cstr(preq_get(e->req, A_HELO_NAME)),
             act == SPF_ACT_REJECT ? "reject" : "defer");
    str_reset(&e->reply);
    if (act == SPF_ACT_REJECT)
        str_appendf(&e->reply, "550 5.7.23 SPF %s: %s is not allowed to send "
                    "mail for %s", spfq_name(r),
                    preq_get(e->req, A_CLIENT_ADDRESS),
                    what[0] == 'H' ? "this HELO name" : "this sender");
    else
        str_appendf(&e->reply, "451 4.7.24 SPF %s for %s, try again later",
                    spfq_name(r), what);
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
        pd_count(e, pd_metrics.spf, METRICS_L("helo", r < 0 ? "temperror"
                                                            : spfq_name(r)));
        if (r == SPFQ_FAIL)
            return refuse(e, c->spf_helo_fail, "HELO", r);
    }
    if ((r = pd_spf_result(e)) < 0)
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
