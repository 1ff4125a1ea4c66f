/*
 * sieve - the public interface of postern's Sieve engine (RFC 5228 and the
 * extensions listed in docs/sieve.md).
 *
 *   sieve_compile()  script text -> compiled script (lexer.c, parser.c,
 *                    validate.c); errors as "NAME:LINE: error: ..." lines
 *   sieve_execute()  compiled script + message + environment -> an action
 *                    list (interp.c, result.c); several scripts can add to
 *                    one result (sieve_before, the user's, sieve_after)
 *   sieve_result_finish()  adds the implicit keep when nothing cancelled it
 *
 * The engine knows nothing of Maildirs or sendmail: the caller executes the
 * action list (bridge.c does that for postern-lda, the tools print it).
 *
 * Limits are the SIEVE_* defines below; going over one is a compile error
 * (script size, nesting, string length) or a run-time error (actions,
 * redirects, include depth, steps).  A run-time error leaves the result
 * marked failed: the caller falls back to keeping the message.
 */
#ifndef POSTERN_SIEVE_H
#define POSTERN_SIEVE_H

#include <stddef.h>

#include "arena.h"
#include "str.h"

#define SIEVE_SCRIPT_MAX (1024 * 1024)   /* bytes of one script */
#define SIEVE_NEST_MAX 32                /* blocks and tests inside each other */
#define SIEVE_STRING_MAX (256 * 1024)    /* bytes of one string literal */
#define SIEVE_LIST_MAX 1024              /* strings in one string list */
#define SIEVE_ERRORS_MAX 20              /* compile errors reported */
#define SIEVE_ACTIONS_MAX 64             /* actions in one result */
#define SIEVE_REDIRECT_MAX 4             /* redirect actions in one result */
#define SIEVE_INCLUDE_DEPTH 10           /* include nesting */
#define SIEVE_INCLUDES_MAX 32            /* distinct scripts included per run */
#define SIEVE_VARIABLES_MAX 255          /* variables per scope */
#define SIEVE_VARIABLE_SIZE 4096         /* bytes of one variable's value */
#define SIEVE_MATCH_VARS 10              /* ${0} .. ${9} */
#define SIEVE_STEPS_MAX 1000000          /* commands, tests and comparisons per run */
#define SIEVE_BODY_MAX (16 * 1024 * 1024)/* bytes of a message the body test reads */
#define SIEVE_MIME_DEPTH 10              /* nested multiparts the body test walks */
#define SIEVE_HEADERS_MAX 10000          /* header fields looked at */

struct sieve_script;

/* The message as the engine sees it. */
struct sieve_message {
    const char *header;      /* the header section, LF line ends */
    size_t header_len;
    unsigned long long size; /* the size test */
    /* load - the whole message (header + body) into out, at most
       SIEVE_BODY_MAX bytes; 0, or -1 with errno. NULL: the header only. */
    int (*load)(void *ctx, struct str *out);
    void *ctx;
    const char *env_from;    /* "" for the null sender, NULL if unknown */
    const char *env_to;
    const char *env_orig_to; /* NULL: same as env_to */
    const char *env_auth;    /* NULL: not authenticated */
};

/* The delivery environment: where include finds scripts, etc. */
struct sieve_host {
    const char *personal_dir;   /* include :personal (NAME.sieve) */
    const char *global_dir;     /* include :global */
    const char *delimiters;     /* subaddress separators, "+" if NULL */
    const char *default_folder; /* where keep files, "INBOX" if NULL */
    const char *domain;         /* environment "domain" */
    const char *hostname;       /* environment "host" */
    const char *remote_host, *remote_ip;
    const char *phase;          /* "during" if NULL */
    /* mailbox_exists - 1, 0, or -1 (unknown); NULL: every name exists */
    int (*mailbox_exists)(void *ctx, const char *folder);
    void *ctx;
    /* extensions registered with sieve_ext_register() that scripts may
       require (the testsuite); 0 = none */
    int allow_extra;
};

enum sieve_action_kind {
    SIEVE_ACT_KEEP,
    SIEVE_ACT_FILEINTO,
    SIEVE_ACT_REDIRECT,
    SIEVE_ACT_REJECT,
    SIEVE_ACT_EREJECT,
    SIEVE_ACT_DISCARD,
};

struct sieve_action {
    enum sieve_action_kind kind;
    const char *arg;     /* folder (keep: the default folder), address, reason */
    const char **flags;  /* imap4flags, NULL-terminated, or NULL */
    int copy;            /* :copy */
    int create;          /* :create (mailbox) */
    int implicit;        /* the implicit keep */
    const char *script;  /* where it came from */
    int line;
};

struct sieve_result {
    struct arena arena;          /* everything the result holds */
    struct sieve_action *acts;
    size_t n, cap;
    int keep_cancelled;          /* by fileinto, redirect, reject, discard */
    int discarded;               /* discard was executed */
    int failed;                  /* a run-time error happened */
    struct str error;            /* "NAME:LINE: error: ..." */
    const char *flags;           /* imap4flags internal variable */
    const char *default_folder;
    int finished;
};

void sieve_result_init(struct sieve_result *r, const char *default_folder);
void sieve_result_reset(struct sieve_result *r);
void sieve_result_free(struct sieve_result *r);
/* sieve_result_finish - add the implicit keep if nothing cancelled it; a
   failed result becomes one keep.  Idempotent. */
void sieve_result_finish(struct sieve_result *r);
/* sieve_result_print - one line per action, the postern-sieve format
   (docs/sieve.md): "keep", "fileinto FOLDER [\Seen]", "redirect ADDR", ... */
void sieve_result_print(const struct sieve_result *r, struct str *out);
const char *sieve_action_name(enum sieve_action_kind k);

/*
 * sieve_compile - compile text[0..len) named `name` (for messages).  0 with
 * *out, or -1 with the error lines appended to *errors.
 */
int sieve_compile(const char *name, const char *text, size_t len,
                  const struct sieve_host *host, struct sieve_script **out,
                  struct str *errors);
/* sieve_compile_file - the same from a file; a missing file is -1 with
   errno ENOENT and a message. */
int sieve_compile_file(const char *path, const char *name,
                       const struct sieve_host *host,
                       struct sieve_script **out, struct str *errors);
void sieve_script_free(struct sieve_script *s);
const char *sieve_script_name(const struct sieve_script *s);

/*
 * sieve_execute - run s on msg, adding actions to res.  1 when the script
 * executed "stop", 0 when it ran to its end, -1 on a run-time error (the
 * message in res->error, res->failed set).
 */
int sieve_execute(struct sieve_script *s, const struct sieve_message *msg,
                  const struct sieve_host *host, struct sieve_result *res);

/* sieve_message_text - a sieve_message over a whole message in memory
   (LF line ends); text must outlive m. */
void sieve_message_text(struct sieve_message *m, const char *text,
                        size_t len);

/* sieve_capabilities - the space-separated list of supported extensions. */
void sieve_capabilities(struct str *out);

#endif
