/*
 * spfq - one SPF (RFC 7208) query through libspf2, with the result made
 * reliable: libspf2 1.2.10 leaves the result unset (INVALID) when the
 * record lookup itself failed or the record did not parse; that becomes
 * temperror for a DNS error and permerror otherwise (a syntax error in
 * the record, RFC 7208 4.6; no record at all is reported as none by
 * libspf2 itself).  Also builds the
 * Received-SPF header value (RFC 7208 9.1) when libspf2 gives none.
 *
 * The server handle is one SPF_server_t per thread (libspf2 servers are
 * not shared between threads); spfq_server_new() makes one with libspf2's
 * resolver and cache.
 */
#ifndef POSTERN_SPFQ_H
#define POSTERN_SPFQ_H

#include <stddef.h>

/* the results, equal to libspf2's SPF_RESULT_* values */
enum spfq_result { SPFQ_NEUTRAL = 1, SPFQ_PASS, SPFQ_FAIL, SPFQ_SOFTFAIL,
                   SPFQ_NONE, SPFQ_TEMPERROR, SPFQ_PERMERROR };

void *spfq_server_new(void);
void spfq_server_free(void *server);
/*
 * spfq_check - check MAIL FROM `from` ("" = the null sender: the HELO
 * identity postmaster@helo is checked) for client address ip.  Writes the
 * Received-SPF header value (without the name) into hdr when hdr is not
 * NULL.  Returns an enum spfq_result; a client address that does not parse
 * gives SPFQ_NONE.
 */
int spfq_check(void *server, const char *ip, const char *helo,
               const char *from, char *hdr, size_t hdrsize);
/* spfq_name - "pass", "fail", ... */
const char *spfq_name(int result);

#endif
