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
 * action list (lda/sieve_bridge.c does that for postern-lda, the tools
 * print it).  Extensions use sieve-ext.h; sieve-int.h is the engine's own.
 *
 * Limits are the SIEVE_* defines below; going over one is a compile error
 * (script size, nesting, string length, a :regex key) or a run-time error
 * (actions, redirects, include depth, the CPU and memory budgets).  A run-time error leaves the result
 * marked failed: the caller falls back to keeping the message.
 */
#ifndef POSTERN_SIEVE_H
#define POSTERN_SIEVE_H

#include <stddef.h>

#include "arena.h"
#include "lookup.h"
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
#define SIEVE_MATCH_VARS 100             /* ${0} .. ${99} (Pigeonhole too) */
/*
 * The CPU budget of one delivery: every script run into one result
 * (sieve_before, the user's, sieve_after and everything they include)
 * draws on one count of steps.  A command, test or comparison costs
 * SIEVE_STEP_COST steps; matching costs what it does: a :matches
 * backtracking step 1 step, :contains 1 per 4 positions tried and 1 per
 * character compared after a matching first one, :is and :value 1 per
 * 16 bytes, a :regex search its worst case (below); parsing the header
 * and finding and decoding body parts 1 per 64 bytes, each header field
 * scanned 1, each header value a test takes 1 per 8 bytes.
 * Spent: a run-time error ("script takes too long"), the message is kept.
 * SIEVE_STEPS_MAX steps are about 0.2 s of CPU; the host may lower it.
 */
#define SIEVE_STEPS_MAX 100000000ULL     /* steps per delivery */
#define SIEVE_STEP_COST 100              /* one command, test or comparison */
/*
 * The memory budget of one run (sieve_execute): the bytes the engine
 * holds for values, variables, match variables, parsed and edited
 * headers, included scripts, the loaded message and its body parts.
 * Spent: a run-time error ("script uses too much memory"), the message
 * is kept.  [lda] sieve_max_memory sets it (sieve_host.max_memory).
 */
#define SIEVE_MEMORY_MAX (64 * 1024 * 1024)
/*
 * :regex (POSIX ERE through libc regcomp/regexec): a key is at most
 * SIEVE_REGEX_SIZE_MAX bytes; back-references (\1..\9), a bound over
 * SIEVE_REGEX_REPEAT_MAX and a repetition of a group that itself holds a
 * repetition ("(a*)*", "(a+){2,}"; "(re: *)?" is allowed) are refused,
 * at compile time for a literal key (PUTSCRIPT, CHECKSCRIPT, the LDA)
 * and at run time for a key built from variables.  libc searches in
 * time quadratic in the value's length: a search is charged
 * (len+1)^2 * (1 + key/16) steps (len * (1 + key/16) when the key is
 * anchored with "^"), before it runs.
 */
#define SIEVE_REGEX_SIZE_MAX 1024
#define SIEVE_REGEX_REPEAT_MAX 255
/* bytes of literal :regex keys (with the copies their bounds make) one
   script may have compiled: bounds the CPU time of PUTSCRIPT */
#define SIEVE_REGEX_COMPILE_MAX (64 * 1024)
#define SIEVE_BODY_MAX (16 * 1024 * 1024)/* bytes of a message the body test reads */
#define SIEVE_MIME_DEPTH 10              /* nested multiparts the body test walks */
/* mime/foreverypart/extracttext (RFC 5703): parts of the MIME tree
   (more are not seen), and the bytes of one part extracttext decodes */
#define SIEVE_MIME_PARTS 1000
#define SIEVE_EXTRACT_MAX (1024 * 1024)
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
    /* mailbox_exists - LK_FOUND, LK_NOTFOUND, or < 0 (unknown: treated as
       not existing); NULL: every name exists */
    int (*mailbox_exists)(void *ctx, const char *folder);
    void *ctx;
    /* extensions registered with sieve_ext_register() that scripts may
       require (the testsuite); 0 = none */
    int allow_extra;
    /* duplicate (RFC 7352): was id seen within `seconds`?  LK_FOUND,
       LK_NOTFOUND, or < 0 (LK_TEMP: the test fails with a run-time
       error); NULL: never seen.  The result records what to store. */
    int (*duplicate)(void *ctx, const char *id, size_t len,
                     long long seconds, int last);
    void *dup_ctx;
    long long duplicate_default, duplicate_max; /* seconds; 0: 7d, 30d */
    /* spamtest / virustest (RFC 5235): the scanner's fields */
    const char *spam_score_header;  /* a number, e.g. "X-Spam-Score" */
    double spam_score_max;          /* the score that is 10 (0: 10) */
    const char *spam_flag_header;   /* "Yes ..." = spam, e.g. X-Spam-Flag */
    const char *virus_header;       /* e.g. "X-Virus-Status" */
    /* budgets; 0: the default (SIEVE_STEPS_MAX, SIEVE_MEMORY_MAX) */
    unsigned long long max_steps;   /* steps per delivery (one result) */
    size_t max_memory;              /* bytes per run */
    /* special-use (RFC 8579): does `folder` carry the special-use flag
       (e.g. "\Junk")?  folder NULL: does any folder carry it?
       LK_FOUND, LK_NOTFOUND, or < 0 (the test fails with a run-time
       error); NULL: no folder has a special use */
    int (*specialuse_exists)(void *ctx, const char *folder,
                             const char *flag);
    /* mailboxid (RFC 9042): is there a folder whose MAILBOXID is id?
       LK_FOUND, LK_NOTFOUND, or < 0 (run-time error); NULL: none */
    int (*mailboxid_exists)(void *ctx, const char *id);
    void *store_ctx;                /* ctx of the two above */
    /* extlists (RFC 6134, ext_extlists.c): lists named "tag:NAME".
       list_member - is value a member of list?  LK_FOUND, LK_NOTFOUND
       (also: no such list), LK_TEMP / LK_LIMIT (a run-time error: the
       message is kept).  list_valid - does the list exist?  LK_*.
       list_members - the list's addresses, one per line, into out (at
       most max; more is LK_LIMIT), for redirect :list.  NULL: no list
       exists (valid_ext_list is false, :list never matches). */
    int (*list_member)(void *ctx, const char *list, const char *value);
    int (*list_valid)(void *ctx, const char *list);
    int (*list_members)(void *ctx, const char *list, struct str *out,
                        size_t max);
    void *list_ctx;
    /* the user's own address (postern-lda: the mailbox address); a
       redirect to it, to the envelope recipient or to the original
       recipient (canonical form: case, +detail) is not done: the
       message is kept instead, with a note (cmd_actions.c).  NULL: the
       envelope recipients only */
    const char *user_email;
    /* spamtest / virustest configured as Pigeonhole does it
       (ext_spamtest.c): a POSIX ERE on the status field's value whose
       group 1 is the status (NULL: the whole value); the status type
       SIEVE_STATUS_SCORE (a number), _STRLEN (the length of the value),
       _TEXT (compared with text_values[i], i = the result); for spamtest
       the maximum may come from a field (spam_max_header, with its ERE) */
    const char *spam_status_regex;
    int spam_status_type;
    const char *spam_max_header, *spam_max_regex;
    const char *spam_text_values[11];   /* spamtest values 0..10 */
    const char *virus_status_regex;
    int virus_status_type;
    double virus_score_max;             /* score type: the score that is 5 */
    const char *virus_text_values[6];   /* virustest values 0..5 */
    /* ${NS.NAME} of a namespace other than "global" (postern-sieve-test:
       "tst.path"): the value into out, 1; 0: unknown (the empty string).
       NULL: every such variable is empty (ext_variables.c) */
    int (*var_namespace)(void *ctx, const char *name, size_t len,
                         struct str *out);
};

enum { SIEVE_STATUS_DEFAULT, SIEVE_STATUS_SCORE, SIEVE_STATUS_STRLEN,
       SIEVE_STATUS_TEXT };

#define SIEVE_DUPLICATES_MAX 16          /* duplicate tests per run */

/* an id the duplicate test looked at, stored after a good delivery */
struct sieve_dupmark {
    char *id;
    size_t len;
    long long seconds;
    int last;                /* :last: the period restarts every time */
    int seen;                /* the test found it */
};

enum sieve_action_kind {
    SIEVE_ACT_KEEP,
    SIEVE_ACT_FILEINTO,
    SIEVE_ACT_REDIRECT,
    SIEVE_ACT_REJECT,
    SIEVE_ACT_EREJECT,
    SIEVE_ACT_DISCARD,
    SIEVE_ACT_VACATION,  /* vacation (RFC 5230, 6131) */
    SIEVE_ACT_NOTIFY,    /* enotify (RFC 5435), mailto method only */
};

/* fcc (RFC 8580): the folder that gets a copy of a reply or
   notification that was really sent; the caller stores it */
struct sieve_fcc {
    const char *folder;      /* :fcc FOLDER (UTF-8) */
    const char **flags;      /* :flags, NULL-terminated; NULL: \Seen */
    int create;              /* :create */
    const char *specialuse;  /* :specialuse, NULL: none */
    const char *mailboxid;   /* :mailboxid, NULL: none */
};

/* vacation - what the script asked for; the caller applies the RFC 3834
   rules (sieve_vacation_check) and the per-sender period. */
struct sieve_vacation {
    const char *reason;      /* text, or a MIME entity with :mime */
    const char *subject;     /* :subject, NULL: "Auto: " + the original */
    const char *from;        /* :from (an address), NULL: the recipient */
    const char **addresses;  /* :addresses, NULL-terminated */
    int mime;                /* :mime */
    long long period;        /* seconds from :days/:seconds, -1 = default */
    const char *handle;      /* :handle, or the implicit one (4.2) */
    /* set by the caller before printing or sending */
    const char *suppressed;  /* the rule that stops the reply, NULL: reply */
    long long effective;     /* the period after the configured bounds */
    /* set by sieve_vacation_check: the user's address that the message
       names in To, Cc, Bcc or Resent-* (one of the strings it was given:
       valid as long as they are), NULL: none; the reply's From when
       there is no :from (RFC 5230 5.4 with erratum 2035) */
    const char *reply_from;
    size_t max_subject;      /* code points of the reply's Subject, 0: 256 */
    int to_header_any;       /* To: the first of Sender, Resent-From,
                                From even when it is not the envelope
                                sender (the reply still goes there) */
    const struct sieve_fcc *fcc; /* :fcc (RFC 8580), NULL: none */
};

/* notify :method "mailto:..." (RFC 5435/5436) */
struct sieve_notify {
    const char *method;      /* the mailto: URI */
    const char *from;        /* :from, NULL: the recipient */
    const char *importance;  /* "1" "2" "3" */
    const char *message;     /* :message, NULL: the default text */
    const char **options;    /* :options, NULL-terminated */
    const struct sieve_fcc *fcc; /* :fcc (RFC 8580), NULL: none */
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
    struct sieve_vacation *vac;    /* SIEVE_ACT_VACATION */
    struct sieve_notify *notify;   /* SIEVE_ACT_NOTIFY */
    /* fileinto :specialuse (RFC 8579) / :mailboxid (RFC 9042): the
       caller stores into the folder that has this flag / ID if there is
       one, else into arg; NULL: not given */
    const char *specialuse;
    const char *mailboxid;
    /* why the engine changed an action, for the caller's log (e.g. a
       redirect to the user's own address became this keep); NULL: none */
    const char *note;
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
    struct sieve_dupmark dups[SIEVE_DUPLICATES_MAX];
    size_t ndups;
    /* editheader (RFC 5293): the header section as the script left it,
       NULL if unchanged; the caller stores the message with it */
    struct str *new_header;
    /* steps spent by every run into this result (the CPU budget) */
    unsigned long long steps;
    /* replace/enclose (RFC 5703 5, 6): the whole message (header and
       body, LF line ends) as the script left it, NULL if unchanged; it
       takes the place of new_header; the caller stores it */
    struct str *new_message;
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
/* the same, with `to` (the envelope sender) named in vacation lines:
   "vacation to=ADDR period=SECONDS [from="F"] [mime] subject="S"
   reason="R"", or "vacation suppressed: RULE"; "notify METHOD
   importance=N [message="M"]" */
void sieve_result_print_to(const struct sieve_result *r, const char *to,
                           struct str *out);
const char *sieve_action_name(enum sieve_action_kind k);

/*
 * sieve_compile - compile text[0..len) named `name` (for messages).  0 with
 * *out, or -1 with the error lines appended to *errors: every error of the
 * script found in one pass (the parser recovers, the validator goes on),
 * "NAME:LINE: error: ..." in line order, at most SIEVE_ERRORS_MAX, then
 * "NAME: error: too many errors" (docs/sieve.md, "Errors").
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
/* sieve_script_warnings - the compiler's warnings for s, one
   "NAME:LINE: warning: ..." line each (at most SIEVE_ERRORS_MAX), or "";
   e.g. a test on a header name that is not valid ("Subject:"), which
   never matches.  ManageSieve answers OK (WARNINGS) with them. */
const char *sieve_script_warnings(const struct sieve_script *s);

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

/* --- vacation (vacation.c) ----------------------------------------------- */

/* configured bounds of the period, seconds */
struct sieve_vacation_policy {
    long long min_period, default_period, max_period;
};

/* sieve_vacation_period - the period asked for, clamped to the bounds. */
long long sieve_vacation_period(const struct sieve_vacation *v,
                                const struct sieve_vacation_policy *p);
/*
 * sieve_vacation_check - the rules of RFC 3834 and RFC 5230 on the message
 * (null or system sender, the user's own address, Auto-Submitted,
 * Precedence, List-*, X-Auto-Response-Suppress, explicit recipient).
 * own[0..nown): the user's addresses (recipient, original recipient,
 * aliases); :addresses and the envelope recipients are added here.
 * NULL: a reply is due; else the rule that suppresses it (static text).
 * Sets v->reply_from.
 */
const char *sieve_vacation_check(const struct sieve_message *m,
                                 struct sieve_vacation *v,
                                 const char *const *own, size_t nown);
/*
 * sieve_vacation_compose - the reply (LF line ends) to the envelope
 * sender: From (:from, v->reply_from or `from`), To (the sender with
 * the display name the message gave it), Subject (RFC 2047, at most
 * v->max_subject code points), Date, Message-ID, In-Reply-To,
 * References, Auto-Submitted: auto-replied, MIME-Version and a UTF-8
 * text body, or the :mime entity.  0 or -1.
 */
int sieve_vacation_compose(const struct sieve_message *m,
                           const struct sieve_vacation *v, const char *from,
                           const char *hostname, struct str *out);
/* sieve_notify_compose - the enotify mailto message; *to_r gets the
   recipients (comma-separated, from the URI).  0, or -1 (bad URI). */
int sieve_notify_compose(const struct sieve_message *m,
                         const struct sieve_notify *n, const char *from,
                         const char *hostname, struct str *out,
                         struct str *to_r);
/* sieve_header_first - the unfolded value of the first field `name`
   in the message's header (copied into out); 1 found, 0 not. */
int sieve_header_first(const struct sieve_message *m, const char *name,
                       struct str *out);
/* sieve_encode_header - append text as a header value safe to put on
   one field: control characters become spaces, non-ASCII text becomes
   RFC 2047 encoded words, long values are folded. */
void sieve_encode_header(struct str *out, const char *text, size_t len,
                         size_t used);

/* sieve_lists_dir - extlists from files (postern-sieve-test, dry runs):
   "tag:NAME" is the file dir/NAME, one address per line ('#' comments);
   members compare case-insensitively; a NAME that cannot be read (a
   directory, no permission) answers LK_TEMP.  Sets h's list callbacks;
   dir must outlive h. */
void sieve_lists_dir(struct sieve_host *h, const char *dir);

/* sieve_capabilities - the space-separated list of supported extensions. */
void sieve_capabilities(struct str *out);

#endif
