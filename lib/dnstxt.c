/*
 * dnstxt - a synchronous DNS TXT lookup (interface, outcomes and limits in
 * dnstxt.h).
 *
 * The query is built and sent with res_nmkquery + res_nsend on this
 * thread's resolver state, and the whole reply (rcode included) is judged
 * by dnstxt_parse, so the rules that turn a reply into found / not found /
 * temporary failure are one pure function.  res_nsend itself gives up
 * (-1) when no nameserver answered within the timeout and tries, and when
 * every nameserver answered SERVFAIL, REFUSED or NOTIMP: a temporary
 * failure.
 *
 * Diagnostics: none logged here; the reason is returned in *error_r and the
 * caller decides.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <pthread.h>
#include <resolv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnstxt.h"
#include "lookup.h"
#include "mem.h"

#define DNSTXT_HDR 12           /* bytes of the DNS header */
#define DNSTXT_TYPE_TXT 16
#define DNSTXT_TYPE_A 1
#define DNSTXT_CLASS_IN 1
#define DNSTXT_RCODE_NXDOMAIN 3

static pthread_key_t dnstxt_key;
static pthread_once_t dnstxt_once = PTHREAD_ONCE_INIT;

static void dnstxt_state_free(void *p)
{
    res_nclose(p);
    free(p);
}

static void dnstxt_key_init(void)
{
    if (pthread_key_create(&dnstxt_key, dnstxt_state_free) != 0)
        abort(); /* no thread keys left at startup: a broken environment */
}

/* dnstxt_state - this thread's resolver state (made on first use), or NULL */
static res_state dnstxt_state(void)
{
    res_state st;

    pthread_once(&dnstxt_once, dnstxt_key_init);
    if ((st = pthread_getspecific(dnstxt_key)) != NULL)
        return st;
    st = xcalloc(1, sizeof(*st));
    if (res_ninit(st) != 0) {
        free(st);
        return NULL;
    }
    if (st->retrans <= 0 || st->retrans > DNSTXT_TIMEOUT_S)
        st->retrans = DNSTXT_TIMEOUT_S;
    if (st->retry <= 0 || st->retry > DNSTXT_TRIES)
        st->retry = DNSTXT_TRIES;
    pthread_setspecific(dnstxt_key, st);
    return st;
}

void dnstxt_free(struct dnstxt *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->rec[i]);
    t->n = 0;
}

/* dnstxt_skip_name - the offset after the (possibly compressed) name at
   off, or 0 when it runs past len or is malformed */
static size_t dnstxt_skip_name(const unsigned char *msg, size_t len, size_t off)
{
    while (off < len) {
        unsigned b = msg[off];

        if (b == 0)
            return off + 1;
        if ((b & 0xc0) == 0xc0)
            return off + 2 <= len ? off + 2 : 0;
        if ((b & 0xc0) != 0)
            return 0; /* the reserved label types */
        off += 1 + b;
    }
    return 0;
}

static unsigned dnstxt_u16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* dnstxt_record - join the character-strings of one TXT rdata into a new
   record of *out; LK_FOUND, or LK_TEMP (malformed), LK_LIMIT */
static int dnstxt_record(const unsigned char *rd, size_t rdlen,
                         struct dnstxt *out, const char **error_r)
{
    size_t i = 0, total = 0;
    char *rec;

    while (i < rdlen) { /* measure and check first */
        size_t l = rd[i];

        if (l > rdlen - i - 1) {
            *error_r = "malformed TXT string";
            return LK_TEMP;
        }
        total += l;
        i += 1 + l;
    }
    if (total > DNSTXT_MAX_RECORD) {
        *error_r = "TXT record longer than the limit";
        return LK_LIMIT;
    }
    if (out->n == DNSTXT_MAX_RECORDS) {
        *error_r = "more TXT records than the limit";
        return LK_LIMIT;
    }
    rec = xmalloc(total + 1);
    for (i = 0, total = 0; i < rdlen; i += 1 + rd[i]) {
        memcpy(rec + total, rd + i + 1, rd[i]);
        total += rd[i];
    }
    rec[total] = '\0';
    out->rec[out->n] = rec;
    out->len[out->n++] = total;
    return LK_FOUND;
}

static int dnstxt_answers(const unsigned char *msg, size_t len,
                          struct dnstxt *out, const char **error_r)
{
    unsigned qd = dnstxt_u16(msg + 4), an = dnstxt_u16(msg + 6);
    size_t off = DNSTXT_HDR;
    int rc;

    for (unsigned i = 0; i < qd; i++) {
        if ((off = dnstxt_skip_name(msg, len, off)) == 0 || len - off < 4) {
            *error_r = "malformed question section";
            return LK_TEMP;
        }
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        unsigned type, class;
        size_t rdlen;

        if ((off = dnstxt_skip_name(msg, len, off)) == 0 || len - off < 10) {
            *error_r = "malformed answer section";
            return LK_TEMP;
        }
        type = dnstxt_u16(msg + off);
        class = dnstxt_u16(msg + off + 2);
        rdlen = dnstxt_u16(msg + off + 8);
        off += 10;
        if (rdlen > len - off) {
            *error_r = "answer runs past the reply";
            return LK_TEMP;
        }
        if (type == DNSTXT_TYPE_TXT && class == DNSTXT_CLASS_IN
            && (rc = dnstxt_record(msg + off, rdlen, out, error_r)) != LK_FOUND)
            return rc;
        off += rdlen;
    }
    return out->n > 0 ? LK_FOUND : LK_NOTFOUND;
}

/* reply_status - the header of reply msg: LK_FOUND when its answers can
   be read, LK_NOTFOUND for NXDOMAIN, LK_TEMP for a short, truncated or
   failed reply, with *error_r set (both parsers' first step) */
static int reply_status(const unsigned char *msg, size_t len,
                        const char **error_r)
{
    unsigned rcode;

    if (len < DNSTXT_HDR || !(msg[2] & 0x80)) {
        *error_r = len < DNSTXT_HDR ? "short reply" : "not a reply";
        return LK_TEMP;
    }
    rcode = msg[3] & 0x0f;
    if (rcode == DNSTXT_RCODE_NXDOMAIN) {
        *error_r = "no such domain (NXDOMAIN)";
        return LK_NOTFOUND;
    }
    if (rcode != 0 || (msg[2] & 0x02)) {
        *error_r = rcode == 2 ? "server failure (SERVFAIL)"
                   : rcode == 5 ? "query refused (REFUSED)"
                   : rcode ? "DNS error" : "truncated reply";
        return LK_TEMP;
    }
    return LK_FOUND;
}

int dnstxt_parse(const unsigned char *msg, size_t len, struct dnstxt *out,
                 const char **error_r)
{
    const char *dummy;
    int rc;

    if (error_r == NULL)
        error_r = &dummy;
    out->n = 0;
    *error_r = NULL;
    if ((rc = reply_status(msg, len, error_r)) != LK_FOUND)
        return rc;
    rc = dnstxt_answers(msg, len, out, error_r);
    if (rc != LK_FOUND)
        dnstxt_free(out);
    if (rc == LK_NOTFOUND)
        *error_r = "no TXT record";
    return rc;
}

/* dnstxt_query - one query of `type` for name through this thread's
   resolver (its timeout and tries): LK_FOUND with the reply in
   buf[0..*len), else LK_NOTFOUND (a name no server could hold), LK_LIMIT
   (a name over DNSTXT_NAME_MAX) or LK_TEMP, with *error_r set */
static int dnstxt_query(const char *name, int type, unsigned char *buf,
                        size_t size, size_t *len, const char **error_r)
{
    unsigned char q[NS_PACKETSZ];
    size_t nlen = strlen(name);
    res_state st;
    int n, r;

    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    if (nlen == 0 || nlen > DNSTXT_NAME_MAX) {
        *error_r = nlen == 0 ? "empty name" : "name longer than the limit";
        return nlen == 0 ? LK_NOTFOUND : LK_LIMIT;
    }
    if ((st = dnstxt_state()) == NULL) {
        *error_r = "cannot initialize the resolver";
        return LK_TEMP;
    }
    n = res_nmkquery(st, ns_o_query, name, ns_c_in, type, NULL, 0, NULL,
                     q, sizeof(q));
    if (n <= 0) {
        *error_r = "cannot build the query";
        return LK_NOTFOUND;
    }
    r = res_nsend(st, q, n, buf, (int)size);
    if (r < 0) {
        *error_r = "no usable reply (timeout or server failure)";
        return LK_TEMP;
    }
    *len = (size_t)r > size ? size : (size_t)r;
    return LK_FOUND;
}

int dnstxt_lookup(const char *name, struct dnstxt *out, const char **error_r)
{
    const char *dummy;
    unsigned char *buf;
    size_t len;
    int rc;

    if (error_r == NULL)
        error_r = &dummy;
    out->n = 0;
    buf = xmalloc(DNSTXT_MAX_REPLY);
    rc = dnstxt_query(name, ns_t_txt, buf, DNSTXT_MAX_REPLY, &len, error_r);
    if (rc == LK_FOUND)
        rc = dnstxt_parse(buf, len, out, error_r);
    free(buf);
    return rc;
}

/* dnstxt_count_a - A records (class IN) in the answer section; -1 when the
   reply is malformed */
static int dnstxt_count_a(const unsigned char *msg, size_t len)
{
    unsigned qd = dnstxt_u16(msg + 4), an = dnstxt_u16(msg + 6);
    size_t off = DNSTXT_HDR;
    int n = 0;

    for (unsigned i = 0; i < qd; i++) {
        if ((off = dnstxt_skip_name(msg, len, off)) == 0 || len - off < 4)
            return -1;
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        size_t rdlen;

        if ((off = dnstxt_skip_name(msg, len, off)) == 0 || len - off < 10)
            return -1;
        rdlen = dnstxt_u16(msg + off + 8);
        if (dnstxt_u16(msg + off) == DNSTXT_TYPE_A &&
            dnstxt_u16(msg + off + 2) == DNSTXT_CLASS_IN && rdlen == 4)
            n++;
        off += 10;
        if (rdlen > len - off)
            return -1;
        off += rdlen;
    }
    return n;
}

int dnstxt_parse_a(const unsigned char *msg, size_t len,
                   const char **error_r)
{
    const char *dummy;
    int n;

    if (error_r == NULL)
        error_r = &dummy;
    *error_r = NULL;
    if ((n = reply_status(msg, len, error_r)) != LK_FOUND)
        return n;
    if ((n = dnstxt_count_a(msg, len)) < 0) {
        *error_r = "malformed reply";
        return LK_TEMP;
    }
    if (n == 0)
        *error_r = "no A record";
    return n > 0 ? LK_FOUND : LK_NOTFOUND;
}

int dnstxt_a_exists(const char *name, const char **error_r)
{
    unsigned char buf[NS_PACKETSZ];
    const char *dummy;
    size_t len;
    int rc;

    if (error_r == NULL)
        error_r = &dummy;
    rc = dnstxt_query(name, ns_t_a, buf, sizeof(buf), &len, error_r);
    return rc == LK_FOUND ? dnstxt_parse_a(buf, len, error_r) : rc;
}
