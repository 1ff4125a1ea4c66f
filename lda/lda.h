/*
 * lda - shared declarations of postern-lda, the delivery agent.
 *
 * Structure (one module per file):
 *   main.c     command line: pipe mode (-f SENDER -a RECIPIENT) or --lmtp
 *   config.c   the [lda] and [database] configuration tables
 *   status.c   delivery outcomes -> exit code, SMTP code, enhanced status
 *              (the ONE switch; nothing else picks an exit code)
 *   msg.c      reading a message: CRLF -> LF, NUL -> 0x80, size bound,
 *              spooled in memory then in an unlinked temporary file
 *   header.c   looking at the kept header section (Delivered-To loops)
 *   (lib/mutf7.c  UTF-8 folder names <-> IMAP modified UTF-7, RFC 3501 5.1.3)
 *   folder.c   folder names -> Maildir++ directory names (".Sent")
 *   maildir.c  the crash-safe Maildir write (tmp/ -> fsync -> new/)
 *   quota.c    Maildir++ quota (maildirsize), Courier/Dovecot compatible
 *   mailbox_meta.c  Dovecot's files beside the messages: keywords
 *              (dovecot-keywords), subscriptions, mailbox GUIDs, special-use
 *              folders, the Sieve fcc copy (mailbox_meta.h)
 *   quota_warn.c  the usage row in SQL (mailbox_usage) and quota warnings
 *   lookup.c   the mailbox lookup in MariaDB (three outcomes)
 *   maps_lookup.c  the same through postern-maps' socketmap ([lda] lookup
 *              = maps: no libmariadb initialisation in pipe mode)
 *   deliver.c  one delivery: lookup result + message -> outcome
 *   lmtp.c     the LMTP server (RFC 2033) on lib/server.h, served by a
 *              pool of worker processes
 */
#ifndef POSTERN_LDA_H
#define POSTERN_LDA_H

#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "daemon.h"
#include "db.h"
#include "ldapc.h"
#include "lookup.h"
#include "metrics.h"
#include "str.h"

#define LDA_HDR_KEEP_MAX (1024 * 1024) /* header bytes kept for inspection */
#define LDA_PATH_MAX 4096
#define LDA_FOLDER_MAX 1024            /* encoded folder name, bytes */
#define LDA_TEXT_MAX 512               /* status text */
#define LDA_MAILDIR_MAX 400            /* the maildir column */

/* --- configuration (config.c) ---------------------------------------------- */

enum lda_quota_full { LDA_QFULL_BOUNCE, LDA_QFULL_DEFER };
enum lda_log_to { LDA_LOG_SYSLOG, LDA_LOG_STDERR };
enum lda_lookup_via { LDA_LOOKUP_SQL, LDA_LOOKUP_MAPS };

struct lda_config {
    struct server_config srv;      /* LMTP listener */
    char *mail_root;
    long long max_message_size;    /* bytes */
    long long default_quota;       /* bytes, 0 = unlimited */
    int quota_full;                /* enum lda_quota_full */
    char *recipient_delimiter;
    char *hostname;                /* "" = gethostname() */
    char *temp_dir;                /* spool for messages over spool_memory */
    long long spool_memory;        /* bytes kept in memory before spilling */
    int fsync;                     /* fsync files and directories */
    int log_to;                    /* pipe mode: enum lda_log_to */
    long long lmtp_max_recipients;
    int lmtp_extension_folder;     /* LMTP: user+ext@ -> folder ext */
    long long lmtp_max_processes;  /* LMTP: worker processes */
    char *sieve_before;            /* global Sieve scripts ("" = none) */
    char *sieve_after;
    char *sieve_global_dir;        /* include :global */
    char *sendmail_path;           /* Sieve redirect re-injection */
    int lookup;                    /* enum lda_lookup_via */
    char *maps_server;             /* lookup = maps: socketmap address */
    long long maps_timeout;        /* ms, connect + answer */
    long long vacation_min_period; /* ms: bounds of :days/:seconds */
    long long vacation_default_period;
    long long vacation_max_period;
    int vacation_envelope_sender;  /* 0 <>, 1 the recipient (mailbox) */
    long long sieve_duplicate_period; /* ms: duplicate default, redirects */
    long long sieve_duplicate_max_period;
    char *sieve_spam_score_header; /* spamtest: a score field */
    char *sieve_spam_score_max;    /* the score that maps to 10 */
    char *sieve_spam_flag_header;  /* spamtest: "Yes" = spam */
    char *sieve_virus_header;      /* virustest */
    long long sieve_max_memory;    /* bytes one Sieve run may hold */
    long long sieve_max_steps;     /* CPU budget of one delivery's scripts */
    long long sieve_send_max_per_message; /* mails the scripts may send */
    long long sieve_send_max_per_period;  /* per mailbox; 0 = no limit */
    long long sieve_send_period;   /* ms: the window of the above */
    long long sieve_send_timeout;  /* ms: all sends of one delivery */
    int quota_usage;               /* write mailbox_usage ([database]) */
    char *quota_warning;           /* "80%,95%"; "" = no warnings */
    long long quota_warning_reminder; /* ms, 0 = no reminders */
    char *quota_warning_from;      /* "" = postmaster@ the mailbox domain */
    int quota_warning_language;    /* enum lda_warn_lang */
    struct db_config db;
    int sieve_report_errors;       /* tell the user of a broken script
                                      (sieve_report.c) */
    /* special-use folders (RFC 8579, Sieve special-use and fcc):
       "\Junk=Junk \Sent=Sent", as the admin gives Dovecot */
    char *special_use;
    /* Sieve extlists: directory groups and ldap_group members are asked
       in LDAP ([ldap], lib/ldapgroup.h) when ldap_on (sieve_lists.c) */
    int ldap_on;
    struct ldapc_config ldap;
};

enum lda_warn_lang { LDA_WARN_EN, LDA_WARN_DE };

extern const struct daemon_app lda_lmtp_app;
/* the sections of struct lda_config (for daemon_load_config) */
size_t lda_config_sections(void *cfg, struct cfg_section *secs);

/* --- outcomes (status.c) ----------------------------------------------------- */

enum lda_status {
    LDA_OK,          /* delivered */
    LDA_TEMP,        /* any doubt: database down, disk full, I/O error */
    LDA_NOUSER,      /* no such (active) mailbox */
    LDA_QUOTA_BOUNCE,/* over quota, configured to bounce */
    LDA_QUOTA_DEFER, /* over quota, configured to defer */
    LDA_LOOP,        /* our Delivered-To is already in the header */
    LDA_TOOBIG,      /* over max_message_size */
    LDA_USAGE,       /* bad command line or envelope syntax */
    LDA_CONFIG,      /* configuration error at run time */
    LDA_REJECTED,    /* refused by a Sieve reject/ereject */
};

struct lda_result {
    enum lda_status status;
    char text[LDA_TEXT_MAX]; /* human readable, without the status code */
};

struct lda_status_info {
    int exit_code;    /* sysexits(3) */
    int smtp_code;    /* LMTP reply */
    const char *dsn;  /* RFC 3463 enhanced status code */
};

/* lda_status_info - THE mapping of an outcome to codes (one switch). */
struct lda_status_info lda_status_info(enum lda_status st);
void lda_result_set(struct lda_result *r, enum lda_status st, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));
/* "5.2.2 text" for pipe(8) output */
void lda_result_format(const struct lda_result *r, struct str *out);

/* --- the message (msg.c, header.c) ----------------------------------------- */

struct lda_msg {
    char *mem;                /* spool while in memory */
    size_t memlen, memcap, memmax;
    int fd;                   /* spool file once spilled, else -1 */
    const char *temp_dir;
    unsigned long long size;  /* bytes spooled (normalized) */
    unsigned long long lines; /* LF count (for the W= virtual size) */
    unsigned long long max_size;
    int too_big;
    int io_error;             /* errno of a spool failure, 0 if none */
    /* parser state */
    int started;              /* From_ decision made */
    char lead[5];             /* first bytes, held until that decision */
    size_t leadlen;
    int skipping_from;        /* dropping a leading "From " line */
    int pending_cr;
    int at_bol;               /* at the beginning of a line */
    int in_header;
    struct str header;        /* the header section (<= LDA_HDR_KEEP_MAX) */
    int header_truncated;
    char out[65536];          /* staging buffer */
    size_t outlen;
};

void lda_msg_init(struct lda_msg *m, unsigned long long max_size,
                  size_t memmax, const char *temp_dir);
/* lda_msg_feed - raw bytes (LF or CRLF lines); 0, or -1 on a spool error. */
int lda_msg_feed(struct lda_msg *m, const char *buf, size_t len);
/* lda_msg_finish - flush; 0 or -1 on a spool error (m->io_error). */
int lda_msg_finish(struct lda_msg *m);
/* lda_msg_write_to - copy the spooled message to fd; 0 or -1 (errno). */
int lda_msg_write_to(struct lda_msg *m, int fd);
void lda_msg_free(struct lda_msg *m);

/* lda_header_has_fields - 1 if the message begins with a header field. */
int lda_header_has_fields(const struct lda_msg *m);
/* lda_header_has_value - 1 if a field `name` has the value (trimmed,
   case-insensitive), e.g. Delivered-To loops. */
int lda_header_has_value(const struct lda_msg *m, const char *name,
                         const char *value);

/* --- folders (mutf7.c, folder.c) ---------------------------------------------- */

/* mutf7_encode / mutf7_decode: lib/mutf7.h (shared with postern-sieve) */
#include "mutf7.h"

/*
 * folder_to_maildir - a folder name as a user gives it (UTF-8, hierarchy
 * separator '/' or '.', optional "INBOX" prefix) -> the Maildir++ directory
 * name (".Archive.2024", "" for INBOX).  0, or -1 with *err.
 */
int folder_to_maildir(const char *name, struct str *out, const char **err);

/* --- Maildir (maildir.c) ------------------------------------------------------ */

struct maildir_ctx {
    const char *hostname;     /* sanitized for file names */
    int fsync;
    unsigned long counter;    /* Q<n>: deliveries by this process */
};

/*
 * maildir_deliver - write prefix + message into the Maildir base/rel (the
 * mailbox; rel relative to base) or its Maildir++ folder (".Sent", "" for
 * INBOX), via tmp/ then new/.  Directories below base are created when
 * missing (folders with a maildirfolder file); base itself must exist.
 * *size_r gets the file size.  0, or -1 with *err and errno (every failure
 * is temporary).
 */
int maildir_deliver(struct maildir_ctx *ctx, const char *base,
                    const char *rel, const char *folder,
                    const struct str *prefix, struct lda_msg *m,
                    unsigned long long *size_r, struct str *err);

/*
 * maildir_deliver_flags - the same with IMAP flags (Sieve imap4flags):
 * flags holds Maildir flag letters, any of "DFPRST" (D draft, F flagged,
 * P passed, R replied/answered, S seen, T trashed/deleted) and keyword
 * letters a..z (the folder's dovecot-keywords, lda/mailbox_meta.c);
 * other characters are ignored.  With at least one flag the message is
 * published as cur/NAME:2,FLAGS (letters sorted), else as new/NAME;
 * NULL or "" is maildir_deliver().
 */
int maildir_deliver_flags(struct maildir_ctx *ctx, const char *base,
                          const char *rel, const char *folder,
                          const char *flags, const struct str *prefix,
                          struct lda_msg *m, unsigned long long *size_r,
                          struct str *err);

/* maildir_mkdirs - create base/rel (below base), then tmp, new, cur (and
   maildirfolder when is_folder); 0 or -1 with *err. */
int maildir_mkdirs(const char *base, const char *rel, int is_folder,
                   struct str *err);
/* maildir_hostname - the host part of unique names ('/' ':' escaped). */
void maildir_hostname(const char *in, char *out, size_t outsize);

/* --- quota (quota.c) --------------------------------------------------------------- */

/* negative = temporary, as everywhere (lookup.h) */
enum quota_check { QUOTA_TEMP = -1, QUOTA_OK = 0, QUOTA_OVER = 1 };

/*
 * quota_check - would adding `size` bytes (one message) exceed `limit`
 * bytes for the Maildir++ at root?  Reads maildirsize, recalculating it when
 * missing, when the limit changed, when it grew over 5120 bytes, or when it
 * says "over" and is older than 15 minutes.  limit 0: QUOTA_OK; an I/O
 * error: QUOTA_TEMP (+ *err).
 */
enum quota_check quota_check(const char *root, unsigned long long limit,
                             unsigned long long size, struct str *err);
/* quota_parse_usage - the maildirsize text buf (NUL-terminated, changed by
   the parse): 1 and the summed *bytes when its first line is "<limit>S",
   0 when it must be recalculated (other limit, damaged line). */
int quota_parse_usage(char *buf, unsigned long long limit, long long *bytes);
/* quota_parse_usage_count - the same, with the summed message count too
   (a line without a count adds 0). */
int quota_parse_usage_count(char *buf, unsigned long long limit,
                            long long *bytes, long long *count);
/* quota_usage - the usage maildirsize records for limit (absolute bytes
   and messages), recalculated when quota_check would recalculate it
   (missing, other limit, damaged, too long); 0, or -1 + *err. */
int quota_usage(const char *root, unsigned long long limit,
                unsigned long long *bytes_r, unsigned long long *count_r,
                struct str *err);
/* quota_add - append "bytes count" to maildirsize (if it exists). */
int quota_add(const char *root, long long bytes, long long count,
              struct str *err);
/* quota_count - count every message of the Maildir++ at root (every
   folder); 0, 1 when root does not exist (all 0), or -1 + *err. */
int quota_count(const char *root, unsigned long long *bytes_r,
                unsigned long long *count_r, struct str *err);
/* quota_recalc - quota_count, then rewrite maildirsize (through tmp/;
   when run as root, owned by the owner of root); 0 or -1. */
int quota_recalc(const char *root, unsigned long long limit,
                 unsigned long long *bytes_r, unsigned long long *count_r,
                 struct str *err);

/* --- lookup (lookup.c) --------------------------------------------------------------- */

struct lda_mailbox {
    char address[ADDR_MAX + 1];      /* the mailbox, local@domain */
    char maildir[LDA_MAILDIR_MAX + 1];/* relative to mail_root */
    unsigned long long quota;        /* bytes, 0 = unlimited */
};

/*
 * lda_lookup - the active mailbox for recipient a (extension already
 * stripped); alias domains are followed up to ADDR_ALIAS_DOMAIN_DEPTH
 * levels (a longer chain is LK_NOTFOUND).  LK_FOUND, LK_NOTFOUND or LK_TEMP
 * (+ *err); a bad maildir value from the database is LK_TEMP.
 */
int lda_lookup(struct db *db, const struct lda_config *cfg,
               const struct addr *a, struct lda_mailbox *mb, struct str *err);
/* lda_maildir_valid - 1 if p is a safe relative maildir path. */
int lda_maildir_valid(const char *p);

/*
 * lda_maps_lookup - the same through postern-maps' socketmap "ldamailbox"
 * map ([lda] maps_server), which also answers the quota (else [lda]
 * default_quota; an older postern-maps is asked "maildir").  LK_FOUND,
 * LK_NOTFOUND or LK_TEMP (+ *err): any failure to get a clear answer is
 * LK_TEMP.
 */
int lda_maps_lookup(const struct lda_config *cfg, const struct addr *a,
                    struct lda_mailbox *mb, struct str *err);
#define LDA_MAPS_REPLY_MAX 4096 /* one postern-maps reply netstring */
/* lda_maps_reply - the payload of postern-maps' reply netstring for a:
   "OK [quota=BYTES ]<maildir>" LK_FOUND (*mb filled; the quota given
   there, else `quota`), "NOTFOUND"
   LK_NOTFOUND, anything else (or a maildir lda_maildir_valid refuses)
   LK_TEMP + *err.  Pure: lda_maps_lookup's reading of the answer. */
int lda_maps_reply(const struct str *reply, const struct addr *a,
                   unsigned long long quota, struct lda_mailbox *mb,
                   struct str *err);

/* --- one delivery (deliver.c) --------------------------------------------------------- */

struct lda_envelope {
    const char *sender;    /* "" for <> */
    const char *recipient; /* as given (-a / RCPT TO) */
    const char *folder;    /* -m, or NULL */
    const char *queue_id;  /* Postfix's queue id (pipe: -q ${queue_id}),
                              or NULL (LMTP: Postfix does not send it) */
};

/* metrics (lib/metrics.h; LMTP mode only: a pipe delivery is one process
   and exports nothing), registered by lda_lmtp_init */
struct lda_metrics {
    struct metrics_family *deliveries; /* outcome */
    struct metrics_family *sieve;      /* action */
};
extern struct lda_metrics lda_metrics;
void lda_metrics_register(void);
/* lda_count - one delivery attempt of a recipient by its outcome */
void lda_count(enum lda_status st);

struct lda_ctx {
    const struct lda_config *cfg;
    struct db *db;
    struct maildir_ctx md;
    char hostname[256];
};

void lda_ctx_init(struct lda_ctx *ctx, const struct lda_config *cfg,
                  struct db *db);

/* lda_resolve - parse the recipient and look its mailbox up. */
void lda_resolve(struct lda_ctx *ctx, const char *recipient,
                 struct lda_mailbox *mb, struct lda_result *res);

/* lda_deliver - deliver m to mb (after lda_resolve said LDA_OK). */
void lda_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                 const struct lda_mailbox *mb, struct lda_msg *m,
                 struct lda_result *res);

/* --- usage in SQL and quota warnings (quota_warn.c) ----------------------------- */

#define QUOTA_WARN_MAX 8 /* thresholds in [lda] quota_warning */

/* the warning state of a mailbox (mailbox_usage.warned_percent/_at) */
struct quota_warn_state {
    int percent;  /* the last threshold warned about; -1 = none (NULL) */
    long long at; /* when (Unix seconds); -1 = NULL */
};

/* quota_warning_parse - "80%,95%" (blanks or commas; the % optional) into
   ascending distinct percents 1..100; the count (0 for ""), or -1 + *err */
int quota_warning_parse(const char *spec, unsigned *pct, size_t max,
                        struct str *err);

/*
 * quota_warning_step - the warning decision, pure: usage and limit
 * (bytes; limit 0 = unlimited), the thresholds (ascending percents), the
 * state kept so far, the time now and the reminder interval (seconds, 0 =
 * never).  Returns the threshold to warn about now, or 0; *next is the
 * state to keep.  The highest threshold reached counts: above one not
 * warned about yet -> warn (once per crossing); at the one warned about
 * -> again when the reminder interval has passed; below every threshold
 * -> none, state reset (a later crossing warns again); below the one
 * warned about but above a lower one -> no warning, the lower one kept
 * (so crossing the higher one again warns again).
 */
int quota_warning_step(unsigned long long usage, unsigned long long limit,
                       const unsigned *pct, size_t n,
                       struct quota_warn_state cur, long long now,
                       long long reminder, struct quota_warn_state *next);

/* quota_warning_text - the warning message (header and body, LF lines)
   for the mailbox in language lang (enum lda_warn_lang). */
void quota_warning_text(struct str *out, int lang, const char *from,
                        const char *address, unsigned long long usage,
                        unsigned long long count, unsigned long long limit,
                        const char *hostname, long long now);

/* lda_usage_write - the mailbox_usage row of address (INSERT ... ON
   DUPLICATE KEY UPDATE): absolute figures, the limit in force and the
   source ("lda", "recount"); 0 or LK_TEMP + *err. */
int lda_usage_write(struct db *db, const char *address,
                    unsigned long long bytes, unsigned long long count,
                    unsigned long long quota, const char *source,
                    struct str *err);

struct lda_ctx;
/*
 * lda_usage_update - after a store into mb (or an over-quota refusal):
 * write the usage row ([lda] quota_usage) and deliver a quota warning into
 * the INBOX when a threshold was crossed.  Never fails the delivery: a
 * database that cannot be reached is logged once until it answers again.
 */
void lda_usage_update(struct lda_ctx *ctx, const struct lda_mailbox *mb,
                      const char *root);

/* --- Sieve (sieve_bridge.c) ------------------------------------------------------------ */

/* one store into a folder ("" = INBOX) with Maildir flag letters ("" or
   NULL: none; see maildir_deliver_flags): deliver.c's checked delivery */
typedef void lda_store_fn(struct lda_ctx *ctx, const struct lda_envelope *env,
                          const struct lda_mailbox *mb, struct lda_msg *m,
                          struct lda_result *res, const char *folder,
                          const char *flags, const char *root);

/*
 * lda_sieve_deliver - run [lda] sieve_before, the mailbox's active script
 * (root/.postern.sieve) and sieve_after on m and carry out the actions
 * (store via `store`, redirect via sendmail, reject).  0 if there is no
 * script at all (the caller delivers as usual), 1 with *res set.
 */
int lda_sieve_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                      const struct lda_mailbox *mb, struct lda_msg *m,
                      const char *root, lda_store_fn *store,
                      struct lda_result *res);

/* --- LMTP (lmtp.c) -------------------------------------------------------------------- */

extern const struct server_ops lda_lmtp_ops;
void *lda_lmtp_init(void *cfg, struct server *srv, struct str *err);
int lda_lmtp_start(void *app, struct str *err);
void lda_lmtp_fini(void *app);
void *lda_lmtp_reconfigure(void *app, void *newcfg);

#endif
