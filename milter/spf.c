/*
 * spf - SPF (RFC 7208) for inbound mail in postern-milter, with libspf2.
 *
 * milter_spf_check() evaluates the MAIL FROM identity of a client address, or the
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
#include "cidr.h"
#include "milter.h"
#include "spfq.h"

static SPF_server_t *spf_server; /* set once in milter_spf_global_init */

static void spf_log_warning(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    log_warn("libspf2: %s", log_safe_cstr(msg));
}

int milter_spf_global_init(struct str *err)
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

void milter_spf_global_end(void)
{
    if (spf_server)
        SPF_server_free(spf_server);
    spf_server = NULL;
}

const char *milter_spf_check(const char *ip, const char *helo, const char *sender)
{
    struct cidr n;

    if (spf_server == NULL || ip == NULL || *ip == '\0' ||
        cidr_parse(ip, &n) < 0)
        return NULL;
    /* libspf2 answers "pass" for loopback without looking: not a result */
    if (cidr_list_contains("127.0.0.0/8, ::1/128", ip))
        return NULL;
    if (*sender == '\0' && !(helo && *helo))
        return "none"; /* <> without a HELO name: no identity to check */
    /* lib/spfq.c makes libspf2's unset results reliable (temperror for
       DNS trouble, permerror for a broken record), as postern-policyd */
    return spfq_name(spfq_check(spf_server, ip, helo ? helo : "", sender,
                                NULL, 0));
}
