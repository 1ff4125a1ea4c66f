/*
 * dns - the DNS query service libopendkim uses to fetch DKIM keys in
 * postern-milter: glibc's stub resolver (the nameservers and options of
 * /etc/resolv.conf), one resolver state per thread, so verifications in
 * libmilter's threads never share or serialize on one state.
 *
 * Interface: dns_attach(lib) installs the service in a DKIM_LIB before the
 * threads start.  libopendkim then calls, per key, dns_start() (the query
 * is sent and answered synchronously, res_nmkquery + res_nsend), then
 * dns_wait() for the outcome, then dns_cancel() to free the query handle.
 *
 * Outcomes: any reply, NXDOMAIN included, is handed over as it came, so
 * libopendkim tells "no key" (NXDOMAIN, permerror) from "cannot look it up"
 * (no reply, SERVFAIL: DKIM_DNS_ERROR, temperror).  glibc retries over TCP
 * when a UDP reply is truncated (keys longer than 512 bytes).
 *
 * Limits: replies longer than libopendkim's buffer are cut to it (then
 * unparsable: permerror).  The resolver state of a thread reads
 * /etc/resolv.conf once, on the thread's first query.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <limits.h>
#include <pthread.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <dkim.h>

#include "mem.h"
#include "milter.h"

struct dns_query {
    int failed;
    size_t len;
};

static pthread_key_t dns_key;
static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static int dns_service_marker; /* libopendkim wants a non-NULL service */

static void dns_state_free(void *p)
{
    res_nclose(p);
    free(p);
}

static void dns_key_init(void)
{
    pthread_key_create(&dns_key, dns_state_free);
}

/* dns_state - this thread's resolver state (created on first use), or NULL */
static res_state dns_state(void)
{
    res_state st;

    pthread_once(&dns_once, dns_key_init);
    if ((st = pthread_getspecific(dns_key)) != NULL)
        return st;
    st = xcalloc(1, sizeof(*st));
    if (res_ninit(st) != 0) {
        free(st);
        return NULL;
    }
    pthread_setspecific(dns_key, st);
    return st;
}

static int dns_start(void *srv, int type, unsigned char *query,
                     unsigned char *buf, size_t buflen, void **qh)
{
    unsigned char q[NS_PACKETSZ];
    struct dns_query *dq = xcalloc(1, sizeof(*dq));
    res_state st = dns_state();
    int n = -1, r = -1;

    (void)srv;
    if (st != NULL)
        n = res_nmkquery(st, ns_o_query, (const char *)query, ns_c_in, type,
                         NULL, 0, NULL, q, sizeof(q));
    if (n > 0)
        r = res_nsend(st, q, n, buf, buflen > INT_MAX ? INT_MAX : (int)buflen);
    if (r < 0)
        dq->failed = 1;
    else
        dq->len = (size_t)r > buflen ? buflen : (size_t)r;
    *qh = dq;
    return 0;
}

static int dns_wait(void *srv, void *qh, struct timeval *to, size_t *bytes,
                    int *error, int *dnssec)
{
    struct dns_query *dq = qh;

    (void)srv;
    (void)to;
    if (bytes)
        *bytes = dq->len;
    if (error)
        *error = 0;
    if (dnssec)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    return dq->failed ? DKIM_DNS_ERROR : DKIM_DNS_SUCCESS;
}

static int dns_cancel(void *srv, void *qh)
{
    (void)srv;
    free(qh);
    return 0;
}

static int dns_init(void **srv)
{
    *srv = &dns_service_marker;
    return 0;
}

static void dns_close(void *srv)
{
    (void)srv;
}

void dns_attach(DKIM_LIB *lib)
{
    dkim_dns_set_query_service(lib, &dns_service_marker);
    dkim_dns_set_init(lib, dns_init);
    dkim_dns_set_close(lib, dns_close);
    dkim_dns_set_query_start(lib, dns_start);
    dkim_dns_set_query_waitreply(lib, dns_wait);
    dkim_dns_set_query_cancel(lib, dns_cancel);
}
