/*
 * dnstxt - a synchronous DNS TXT lookup through glibc's stub resolver (the
 * nameservers and options of /etc/resolv.conf), for DKIM keys (RFC 6376
 * 3.6.2.2), DMARC records (RFC 7489 6.1), SPF-like policies and anything
 * else that lives in TXT.
 *
 * Interface:
 *   dnstxt_lookup(name, &txt, &error)  one query for NAME IN TXT (the name
 *       is taken as fully qualified: no search domains are applied)
 *   dnstxt_parse(msg, len, &txt, &error)  the decision on one DNS reply
 *       as it came from the wire (a pure function: unit-tested on
 *       hand-built replies)
 *   dnstxt_free(&txt)                 frees the records
 *
 * Outcome (lib/lookup.h):
 *   LK_FOUND     txt.n >= 1 records; each record's character-strings are
 *                concatenated without separator (RFC 7208 3.3, RFC 6376
 *                3.6.2.2), NUL-terminated, and may contain NUL bytes
 *                (txt.len[i] counts them); records keep the order of the
 *                answer section; TXT records of every owner name in the
 *                answer are taken (a CNAME chain the server followed)
 *   LK_NOTFOUND  NXDOMAIN, or NOERROR without a TXT record (NODATA)
 *   LK_TEMP      SERVFAIL, REFUSED or any other error rcode, no reply
 *                within the timeout and retries, a truncated or malformed
 *                reply, a resolver that cannot be initialized
 *   LK_LIMIT     more than DNSTXT_MAX_RECORDS TXT records, or a record
 *                longer than DNSTXT_MAX_RECORD bytes, or a name longer
 *                than DNSTXT_NAME_MAX
 * On every outcome other than LK_FOUND, txt.n is 0 and nothing needs
 * freeing (dnstxt_free is harmless anyway); *error_r (when error_r is not
 * NULL) is a static text naming the reason.
 *
 * Threads: each thread has its own resolver state (created on its first
 * lookup, reading /etc/resolv.conf then; freed when the thread exits), so
 * lookups in different threads never share or serialize on one state.
 * The timeout and retries of the state are bounded by DNSTXT_TIMEOUT_S and
 * DNSTXT_TRIES whatever resolv.conf says (smaller values in resolv.conf
 * are kept).  A reply truncated over UDP is retried over TCP by glibc.
 */
#ifndef POSTERN_DNSTXT_H
#define POSTERN_DNSTXT_H

#include <stddef.h>

#define DNSTXT_NAME_MAX 253       /* a domain name, without the final dot */
#define DNSTXT_MAX_RECORDS 32     /* TXT records kept from one answer */
#define DNSTXT_MAX_RECORD 16384   /* bytes of one record, strings joined */
#define DNSTXT_MAX_REPLY 65535    /* bytes of one DNS reply (TCP maximum) */
#define DNSTXT_TIMEOUT_S 5        /* seconds per try, at most */
#define DNSTXT_TRIES 2            /* tries per nameserver, at most */

struct dnstxt {
    size_t n;                         /* records found */
    char *rec[DNSTXT_MAX_RECORDS];    /* each NUL-terminated */
    size_t len[DNSTXT_MAX_RECORDS];   /* bytes of each, without the NUL */
};

/* dnstxt_lookup - query NAME IN TXT; fills *out (see above). */
int dnstxt_lookup(const char *name, struct dnstxt *out, const char **error_r);
/* dnstxt_parse - the outcome of one reply of len bytes (see above). */
int dnstxt_parse(const unsigned char *msg, size_t len, struct dnstxt *out,
                 const char **error_r);
/* dnstxt_a_exists - query NAME IN A through the same per-thread resolver
   state (the same timeout and tries), for DNS blocklists: LK_FOUND when the
   answer holds an A record, LK_NOTFOUND for NXDOMAIN or none, LK_TEMP and
   LK_LIMIT as above.  A reply longer than 512 bytes (NS_PACKETSZ) counts
   as truncated (LK_TEMP). */
int dnstxt_a_exists(const char *name, const char **error_r);
/* dnstxt_parse_a - the outcome of one reply to an A query (pure). */
int dnstxt_parse_a(const unsigned char *msg, size_t len,
                   const char **error_r);
/* dnstxt_free - free the records of *t and set t->n to 0. */
void dnstxt_free(struct dnstxt *t);

#endif
