/*
 * sieve_mime - postern-lda's side of the Sieve "replace" and "enclose"
 * extensions (RFC 5703): the message a script changed, spooled like an
 * incoming one so that every store (keep, fileinto, the redirect copy)
 * takes it (sieve_mime.c).
 */
#ifndef POSTERN_SIEVE_MIME_H
#define POSTERN_SIEVE_MIME_H

#include "lda.h"
#include "str.h"

/*
 * sieve_mime_message - spool msg (the whole new message, LF line ends)
 * into out, bounded like the original m (its max_size plus the header
 * allowance); 0, or -1 (a spool error: the caller stores the original).
 */
int sieve_mime_message(const struct lda_config *cfg, const struct lda_msg *m,
                       const struct str *msg, struct lda_msg *out);

#endif
