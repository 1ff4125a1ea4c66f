/*
 * sieve_mime - the message changed by the Sieve "replace" and "enclose"
 * actions (RFC 5703 sections 5 and 6) as postern-lda stores it.
 *
 * The engine hands the whole new message over in the result
 * (sieve_result.new_message); it is spooled here through the same
 * lda_msg path as the incoming message (memory up to [lda]
 * spool_memory, then a file in temp_dir), so quota, Maildir writing and
 * redirect copies see it as they see any message.  The engine bounds
 * it (SIEVE_BODY_MAX); here it is bounded again by the original's
 * max_size plus the header allowance.
 *
 * Diagnostics: none here; a spool error returns -1 and the caller logs
 * it and stores the original message (mail is never lost).
 */
#include "sieve_mime.h"

int sieve_mime_message(const struct lda_config *cfg, const struct lda_msg *m,
                       const struct str *msg, struct lda_msg *out)
{
    lda_msg_init(out, m->max_size + LDA_HDR_KEEP_MAX,
                 (size_t)cfg->spool_memory, cfg->temp_dir);
    if (lda_msg_feed(out, msg->data ? msg->data : "", msg->len) < 0)
        return -1;
    return lda_msg_finish(out) < 0 || out->io_error ? -1 : 0;
}
