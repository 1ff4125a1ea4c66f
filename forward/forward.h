/*
 * postern-forward - the pipe(8) transport of forwarded copies: the
 * program's configuration and its one entry point.
 *
 *   config.c    [forward] and [database], plus the srs_* keys of [maps]
 *   forward.c   the forwarding rate limit, the SRS sender, re-submission
 */
#ifndef POSTERN_FORWARD_H
#define POSTERN_FORWARD_H

#include "addr.h"
#include "daemon.h"
#include "db.h"
#include "srs.h"
#include "str.h"

/* exit statuses (sysexits): anything but a clean re-submission is a
   temporary failure, so Postfix defers the copy and never drops it */
#define FWD_EX_OK 0
#define FWD_EX_TEMPFAIL 75

enum fwd_fail { FWD_FAIL_DEFER, FWD_FAIL_PASS };
enum fwd_log { FWD_LOG_SYSLOG, FWD_LOG_STDERR };

struct fwd_config {
    char *sendmail_path;        /* re-submission */
    long long sendmail_timeout; /* ms */
    int ratelimit_fail;         /* database away: defer | pass */
    char *ratelimit_text;       /* forwarder rules without text */
    char *recipient_delimiter;  /* for the canonical key */
    int log_to;
    struct db_config db;
    struct srs_config srs;      /* [maps] srs_* (read with cfg_load_keys) */
    struct srs *srs_state;      /* loaded from srs; NULL = SRS off */
};

/* the command line of one copy */
struct fwd_args {
    const char *sender;         /* "" = null sender */
    const char *orig_rcpt;      /* ${original_recipient}, may be NULL */
    const char *recipient;
    const char *queue_id;       /* for the logs, may be NULL */
    long long size;             /* ${size}, -1 unknown */
};

extern const struct daemon_app fwd_app;

/*
 * fwd_load_config - [forward], [database] and [maps] srs_* from path,
 * checked (the SRS secret file read).  NULL + *err on error.
 */
struct fwd_config *fwd_load_config(const char *path, struct str *err);
void fwd_free_config(struct fwd_config *cfg);

/*
 * fwd_run - forward one copy: stdin is the message.  Writes the status
 * text for pipe(8) into *text; returns FWD_EX_OK or FWD_EX_TEMPFAIL.
 */
int fwd_run(const struct fwd_config *cfg, const struct fwd_args *a,
            struct str *text);

/*
 * fwd_ratelimit_key - the forwarding account of a copy: the canonical
 * original recipient (alias domains resolved through alias/ctx), or ""
 * when there is none to count (no original recipient, or the same as the
 * recipient: a re-submitted Sieve redirect, which postern-lda counted).
 * 0, or -1 (a malformed original recipient: *why).
 */
int fwd_ratelimit_key(const char *orig_rcpt, const char *recipient,
                      const char *delims, addr_alias_fn alias, void *ctx,
                      char *key, size_t size, const char **why);

#endif
