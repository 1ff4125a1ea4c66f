/*
 * spf - SPF (RFC 7208) for inbound mail in postern-milter, with libspf2.
 *
 * spf_check() evaluates the MAIL FROM identity of a client address, or the
 * HELO identity when MAIL FROM is <> (libspf2 checks postmaster@HELO), and
 * returns the RFC 8601 result word: pass, fail, softfail, neutral, none,
 * temperror, permerror; NULL when SPF does not apply (no client address,
 * a loopback client: libspf2 would answer "pass" without looking, which
 * would be a lie in the header).
 *
 * DNS: libspf2's resolver layer (glibc's stub resolver, /etc/resolv.conf,
 * one state per thread), no cache of its own: put a caching resolver on
 * the host.  A DNS failure (no answer, SERVFAIL) is temperror, never a
 * reason to refuse mail here.
 *
 * The SPF_server_t is created once before libmilter starts its threads and
 * only read afterwards; requests and responses are per call.  libspf2's
 * warnings go to our log; its "error" handler (a bug in libspf2) aborts.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <string.h>

#include <spf2/spf.h>

#include "log.h"
#include "milter.h"

static SPF_server_t *spf_server; /* set once in spf_global_init */

static void spf_log_warning(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    log_warn("libspf2: %s", log_safe_cstr(msg));
}

int spf_global_init(struct str *err)
{
    SPF_warning_handler = spf_log_warning;
    SPF_info_handler = NULL;
    SPF_debug_handler = NULL;
    if ((spf_server = SPF_server_new(SPF_DNS_RESOLV, 0)) == NULL) {
        str_appendf(err, "libspf2: cannot create the SPF server");
        return -1;
    }
    return 0;
}

void spf_global_end(void)
{
    if (spf_server)
        SPF_server_free(spf_server);
    spf_server = NULL;
}

static const char *result_word(SPF_result_t r)
{
    switch (r) {
    case SPF_RESULT_PASS: return "pass";
    case SPF_RESULT_FAIL: return "fail";
    case SPF_RESULT_SOFTFAIL: return "softfail";
    case SPF_RESULT_NEUTRAL: return "neutral";
    case SPF_RESULT_NONE: return "none";
    case SPF_RESULT_TEMPERROR: return "temperror";
    case SPF_RESULT_PERMERROR: return "permerror";
    default: return "permerror";
    }
}

const char *spf_check(const char *ip, const char *helo, const char *sender)
{
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    const char *word = "permerror";
    SPF_errcode_t e;

    if (spf_server == NULL || ip == NULL || *ip == '\0')
        return NULL;
    if ((req = SPF_request_new(spf_server)) == NULL)
        return "temperror";
    e = strchr(ip, ':') ? SPF_request_set_ipv6_str(req, ip)
                        : SPF_request_set_ipv4_str(req, ip);
    if (e != SPF_E_SUCCESS || SPF_request_is_loopback(req)) {
        SPF_request_free(req);
        return NULL;
    }
    /* HELO first: an empty MAIL FROM then becomes postmaster@HELO */
    if (helo && *helo)
        SPF_request_set_helo_dom(req, helo);
    if ((*sender || (helo && *helo)) &&
        SPF_request_set_env_from(req, sender) == 0) {
        e = SPF_request_query_mailfrom(req, &resp);
        /* libspf2 1.2.10 leaves the result unset (INVALID) when the
           record lookup itself failed */
        if (resp && SPF_response_result(resp) != SPF_RESULT_INVALID)
            word = result_word(SPF_response_result(resp));
        else if (e == SPF_E_DNS_ERROR)
            word = "temperror";
        else if (e == SPF_E_NOT_SPF)
            word = "none";
    } else if (!*sender) {
        word = "none"; /* <> without a HELO name: no identity to check */
    }
    if (resp)
        SPF_response_free(resp);
    SPF_request_free(req);
    return word;
}
