/*
 * spfq - one SPF query through libspf2 (see spfq.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <spf2/spf.h>
#include <stdio.h>
#include <string.h>

#include "spfq.h"

void *spfq_server_new(void)
{
    return SPF_server_new(SPF_DNS_CACHE, 0);
}

void spfq_server_free(void *server)
{
    if (server)
        SPF_server_free(server);
}

const char *spfq_name(int r)
{
    switch (r) {
    case SPFQ_NEUTRAL: return "neutral";
    case SPFQ_PASS: return "pass";
    case SPFQ_FAIL: return "fail";
    case SPFQ_SOFTFAIL: return "softfail";
    case SPFQ_NONE: return "none";
    case SPFQ_TEMPERROR: return "temperror";
    default: return "permerror";
    }
}

int spfq_check(void *server, const char *ip, const char *helo,
               const char *from, char *hdr, size_t hdrsize)
{
    SPF_request_t *rq;
    SPF_response_t *rp = NULL;
    SPF_errcode_t e;
    int r = SPFQ_PERMERROR;

    if (hdr && hdrsize)
        hdr[0] = '\0';
    if ((rq = SPF_request_new(server)) == NULL)
        return SPFQ_TEMPERROR;
    e = strchr(ip, ':') ? SPF_request_set_ipv6_str(rq, ip)
                        : SPF_request_set_ipv4_str(rq, ip);
    if (e != SPF_E_SUCCESS) {
        SPF_request_free(rq);
        return SPFQ_NONE;
    }
    if (helo && helo[0])
        SPF_request_set_helo_dom(rq, helo);
    if (from[0] == '\0' && !(helo && helo[0])) {
        SPF_request_free(rq);
        return SPFQ_NONE; /* no identity to check */
    }
    SPF_request_set_env_from(rq, from);
    e = SPF_request_query_mailfrom(rq, &rp);
    if (rp && SPF_response_result(rp) != SPF_RESULT_INVALID)
        r = (int)SPF_response_result(rp);
    else if (e == SPF_E_DNS_ERROR)
        r = SPFQ_TEMPERROR;
    /* else: a result left unset with SPF_E_NOT_SPF means a "v=spf1" record
       was found but did not parse (no record at all gives NONE with the
       result set): RFC 7208 4.6 makes that permerror */
    if (hdr && hdrsize) {
        const char *v = rp ? SPF_response_get_received_spf_value(rp) : NULL;
        if (v && (int)SPF_response_result(rp) == r)
            snprintf(hdr, hdrsize, "%s", v);
        else
            snprintf(hdr, hdrsize, "%s (postern: SPF check) client-ip=%s; "
                     "envelope-from=\"%s\"; helo=%s;", spfq_name(r), ip,
                     from, helo && helo[0] ? helo : "unknown");
    }
    if (rp)
        SPF_response_free(rp);
    SPF_request_free(rq);
    return r;
}
