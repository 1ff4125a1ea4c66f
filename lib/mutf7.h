/*
 * mutf7 - IMAP modified UTF-7 (RFC 3501 section 5.1.3) both ways: the
 * on-disk form of non-ASCII Maildir++ folder names (postern-lda) and the
 * form old Sieve scripts (Cyrus, Dovecot 1.x) wrote folder names in
 * (postern-sieve convert).  Details and limits in mutf7.c.
 */
#ifndef POSTERN_MUTF7_H
#define POSTERN_MUTF7_H

#include <stddef.h>

#include "str.h"

/* mutf7_encode - append the modified UTF-7 form of UTF-8 in[0..len) to out;
   0, or -1 for invalid UTF-8. */
int mutf7_encode(const char *in, size_t len, struct str *out);
/* mutf7_decode - the reverse (canonical forms only); 0 or -1 for invalid
   modified UTF-7. */
int mutf7_decode(const char *in, size_t len, struct str *out);

#endif
