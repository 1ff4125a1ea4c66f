/*
 * msieve - shared declarations of postern-managesieve, the ManageSieve
 * server (RFC 5804) for the scripts postern-lda runs.
 *
 * Structure: proto.c (the daemon_app, configuration, connections and the
 * command loop), parse.c (the ManageSieve command syntax: atoms, quoted
 * strings, literals), tls.c (STARTTLS over OpenSSL memory BIOs, so TLS
 * runs inside the shared event loop), auth.c (SASL PLAIN against LDAP or
 * SQL, and the mailbox directory from the mailboxes table), store.c (the
 * scripts on disk through lib-sieve/storage.c, the layout postern-lda
 * reads: <mail_root>/<maildir>/sieve/NAME.sieve and the symlink
 * <mail_root>/<maildir>/.postern.sieve to the active one, with quotas).
 *
 * Authentication and file operations block the event loop for their
 * duration (LDAP/SQL timeouts bound it); the load of a ManageSieve server
 * is a few logins per minute.
 */
#ifndef POSTERN_MSIEVE_H
#define POSTERN_MSIEVE_H

#include <stddef.h>

#include "daemon.h"
#include "db.h"
#include "ldapc.h"
#include "storage.h"
#include "str.h"

#define MS_LINE_MAX 8192        /* a command line without its literals */
#define MS_NAME_MAX SIEVE_STORAGE_NAME_MAX /* bytes of a script name */
#define MS_ARGS_MAX 4           /* arguments of one command */
#define MS_AUTH_FAILS_MAX 3     /* failed logins before the connection ends */
#define MS_PATH_MAX SIEVE_STORAGE_ROOT_MAX /* the mailbox directory */

enum ms_backend { MS_AUTH_LDAP, MS_AUTH_SQL };

struct ms_config {
    struct server_config srv;
    char *tls_cert_file, *tls_key_file;  /* "" = no STARTTLS */
    int require_tls;                     /* no AUTHENTICATE before STARTTLS */
    long long max_scripts;
    long long max_script_size;           /* bytes */
    int auth;                            /* enum ms_backend */
    char *mail_root;
    long long auth_penalty_initial;      /* ms; 0 = no login throttle */
    long long auth_penalty_max;          /* ms */
    long long auth_penalty_forget;       /* ms */
    char *spam_score_max;  /* as [lda] sieve_spam_score_max (settings script) */
    struct db_config db;
    struct ldapc_config ldap;
};

/* --- parse.c ------------------------------------------------------------ */

struct ms_cmd {
    char name[32];                 /* upper-cased command word */
    size_t nargs;
    struct str arg[MS_ARGS_MAX];   /* strings and atoms, unquoted */
    int is_atom[MS_ARGS_MAX];
};

enum ms_parse { MS_P_OK, MS_P_MORE, MS_P_BAD, MS_P_TOOBIG };

/*
 * ms_parse_cmd - parse one command from buf[0..len).  MS_P_OK with *used
 * bytes consumed and *cmd filled; MS_P_MORE (incomplete); MS_P_BAD (syntax
 * error: *used is the length through the end of the line, or 0 if no line
 * end was seen yet); MS_P_TOOBIG (a literal over max_literal: *big is its
 * announced size and *used the bytes before the literal data).
 */
enum ms_parse ms_parse_cmd(const char *buf, size_t len, size_t max_literal,
                           struct ms_cmd *cmd, size_t *used,
                           unsigned long long *big);
void ms_cmd_free(struct ms_cmd *cmd);
/* ms_quote - append s as a quoted string, or a literal if it needs one. */
void ms_quote(struct str *out, const char *s, size_t len);

/* --- tls.c ---------------------------------------------------------------- */

struct ms_tls;
struct ms_tls_ctx;

struct ms_tls_ctx *ms_tls_ctx_new(const char *cert, const char *key,
                                  struct str *err);
void ms_tls_ctx_free(struct ms_tls_ctx *t);
struct ms_tls *ms_tls_new(struct ms_tls_ctx *t);
void ms_tls_free(struct ms_tls *t);
/*
 * ms_tls_input - feed received ciphertext; decrypted bytes are appended
 * to *plain, handshake records to send are appended to *out.  Returns 1
 * when the handshake completed during this call, 0 otherwise, -1 on a TLS
 * error (close the connection).
 */
int ms_tls_input(struct ms_tls *t, const char *buf, size_t len,
                 struct str *plain, struct str *out);
/* ms_tls_write - encrypt data into *out.  0 or -1. */
int ms_tls_write(struct ms_tls *t, const char *data, size_t len,
                 struct str *out);
int ms_tls_up(const struct ms_tls *t);

/* --- auth.c --------------------------------------------------------------- */

struct ms_auth;

struct ms_auth *ms_auth_open(const struct ms_config *cfg, struct str *err);
void ms_auth_close(struct ms_auth *a);
/*
 * ms_auth_plain - check a SASL PLAIN response (already base64-decoded:
 * authzid NUL authcid NUL password).  1 with the mailbox address and its
 * maildir (relative to mail_root) in *address and *maildir; 0 wrong
 * credentials (or no active mailbox); -1 temporary failure (+ *err).
 */
int ms_auth_plain(struct ms_auth *a, const char *resp, size_t len,
                  struct str *address, struct str *maildir, struct str *err);
/* ms_auth_plain_login - the login (authcid) of a SASL PLAIN response,
   lower-cased, in buf (size bytes); 0, or -1 if there is none or it does
   not fit (the response is then refused by ms_auth_plain too). */
int ms_auth_plain_login(const char *resp, size_t len, char *buf, size_t size);
/* ms_password_ok - does password match a {SCHEME} or crypt(3) hash?
   {SHA512-CRYPT}, {SHA256-CRYPT}, {BLF-CRYPT}, {MD5-CRYPT}, {CRYPT} and
   bare $id$ hashes go through crypt(3); other schemes are refused. */
int ms_password_ok(const char *hash, const char *password);
/* ms_auth_db - the database connection of a (settings script) */
struct db *ms_auth_db(struct ms_auth *a);

/* --- store.c ---------------------------------------------------------------- */

struct ms_store {
    char dir[MS_PATH_MAX];     /* the mailbox directory */
    long long max_scripts, max_size;
    /* the settings script (lib-sieve/settings.h), read-only: the
       database and the mailbox address (NULL: none shown) */
    struct db *db;
    const char *user;
    double spam_score_max;     /* [managesieve] spam_score_max */
};

/* Replies of the store functions: 0 OK, or a ManageSieve response code. */
#define MS_NONEXISTENT "NONEXISTENT"
#define MS_ALREADYEXISTS "ALREADYEXISTS"
#define MS_ACTIVE "ACTIVE"
#define MS_QUOTA_SCRIPTS "QUOTA/MAXSCRIPTS"
#define MS_QUOTA_SIZE "QUOTA/MAXSIZE"

/* ms_name_ok - sieve_storage_name_valid() */
int ms_name_ok(const char *name, size_t len);
/* ms_store_personal_dir - the script directory (include :personal); ""
   if there is none */
void ms_store_personal_dir(const struct ms_store *st, char *out, size_t size);
/* ms_store_list - "NAME" [ACTIVE] lines (CRLF) into out; 0 or -1 + *err */
int ms_store_list(const struct ms_store *st, struct str *out, struct str *err);
/* the functions below return 0, or -1 with *code (a response code or
   NULL) and a text in *err */
int ms_store_get(const struct ms_store *st, const char *name, struct str *out,
                 const char **code, struct str *err);
int ms_store_put(const struct ms_store *st, const char *name, const char *text,
                 size_t len, const char **code, struct str *err);
int ms_store_space(const struct ms_store *st, const char *name,
                   unsigned long long size, const char **code, struct str *err);
int ms_store_activate(const struct ms_store *st, const char *name,
                      const char **code, struct str *err);
int ms_store_delete(const struct ms_store *st, const char *name,
                    const char **code, struct str *err);
int ms_store_rename(const struct ms_store *st, const char *from, const char *to,
                    const char **code, struct str *err);

extern const struct daemon_app ms_app;

#endif
