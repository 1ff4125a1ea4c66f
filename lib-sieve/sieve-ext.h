/*
 * sieve-ext - the extension interface of postern's Sieve engine: what a
 * file that adds commands, tests and tags needs, inside the engine
 * (ext_*.c) or outside it (postern-sieve-test's vnd.dovecot.testsuite).
 * Like Pigeonhole's sieve-extensions.h / sieve-commands.h, apart from the
 * public API (sieve.h) and the engine's private declarations
 * (sieve-int.h, which no file outside lib-sieve/ includes).
 *
 *   registration  an extension is a struct sv_ext: its capability name,
 *                 a table of commands/tests (struct sv_cmddef) and of
 *                 tags (struct sv_tagdef).  The engine's own are listed
 *                 in registry.c; others are added with
 *                 sieve_ext_register() and can be required only by a
 *                 host with allow_extra set.
 *   arguments     the validator checks positional arguments against
 *                 sv_cmddef.pos and tags against the tag table before a
 *                 command runs: sv_pos() and sv_tag() then only look.
 *   evaluation    sv_eval()/sv_eval_list()/sv_cstr() expand variables;
 *                 sv_match() applies the node's comparator and match
 *                 type (SV_F_MATCH commands).
 *   errors        sv_verror() at compile time (the script does not
 *                 compile), sv_rerror() at run time (the result fails and
 *                 the caller keeps the message).
 *
 * Syntax-tree nodes (struct sv_node), the run (struct sv_run) and the
 * validator (struct sv_valctx) are opaque here: an extension outside the
 * engine uses the accessors below.
 */
#ifndef POSTERN_SIEVE_EXT_H
#define POSTERN_SIEVE_EXT_H

#include <stddef.h>

#include "sieve.h"

/* --- values --------------------------------------------------------------- */

struct sv_str {
    const char *s;
    size_t len;
    int vars;               /* contains "${" and variables are enabled */
};

struct sv_strlist {
    struct sv_str *v;
    size_t n;
};

enum sv_arg_type { SV_A_STRING, SV_A_LIST, SV_A_NUMBER, SV_A_TAG };

/* one argument as written in the script */
struct sv_arg {
    enum sv_arg_type type;
    int line;
    unsigned long long num;
    const char *tag;        /* lower-cased, without ':' */
    struct sv_strlist list; /* STRING: n == 1 */
};

struct sv_node;             /* a command or test in the syntax tree */
struct sv_run;              /* one execution */
struct sv_valctx;           /* one compilation's validator */
struct sv_cmddef;
struct sv_tagdef;

/* a tag given on a node, with its parameter (NULL if it takes none) */
struct sv_tagval {
    const struct sv_tagdef *def;
    struct sv_arg *param;
};

/* --- tables --------------------------------------------------------------- */

#define SV_F_MATCH 0x01     /* takes COMPARATOR and MATCH-TYPE */
#define SV_F_ADDR 0x02      /* takes ADDRESS-PART */
#define SV_F_IF 0x04
#define SV_F_ELSIF 0x08
#define SV_F_ELSE 0x10
#define SV_F_TOPLEVEL 0x20  /* require: only at the start of the script */
#define SV_F_EITHER 0x40    /* usable as a command and as a test */

struct sv_cmddef {
    const char *name;
    int is_test;
    /* positional arguments: 'S' string, 'L' string list, 'N' number;
       lower case: an optional leading argument (present only when all
       arguments are given) */
    const char *pos;
    int ntests;             /* 0; 1 (if, not); -1 (a test list) */
    int block;              /* a block is required */
    unsigned flags;
    int (*validate)(struct sv_valctx *v, struct sv_node *n);
    /* commands: 0, or -1 (error in the result); tests: 1, 0, -1 */
    int (*exec)(struct sv_run *r, struct sv_node *n);
};

enum sv_group { SV_G_NONE, SV_G_MATCH, SV_G_CMP, SV_G_ADDR, SV_G_BODY,
                SV_G_SIZE, SV_G_ZONE, SV_G_LOCATION, SV_G_OTHER };

struct sv_tagdef {
    const char *name;       /* without ':' */
    enum sv_group group;
    int id;
    char param;             /* 0, 'S', 'L', 'N' */
    const char *cmds;       /* "*match", "*addr", or " cmd1 cmd2 " */
};

struct sv_ext {
    const char *name;       /* the capability */
    const struct sv_cmddef *cmds;
    size_t ncmds;
    const struct sv_tagdef *tags;
    size_t ntags;
    int extra;              /* registered at run time (testsuite) */
    int core;               /* always enabled, cannot be required */
};

/* match types */
enum { SV_MT_IS = 1, SV_MT_CONTAINS, SV_MT_MATCHES, SV_MT_REGEX,
       SV_MT_COUNT, SV_MT_VALUE,
       SV_MT_LIST /* extlists (ext_extlists.c) */ };
/* relational operators */
enum { SV_REL_GT = 1, SV_REL_GE, SV_REL_LT, SV_REL_LE, SV_REL_EQ,
       SV_REL_NE };
/* address parts */
enum { SV_AP_ALL = 1, SV_AP_LOCAL, SV_AP_DOMAIN, SV_AP_USER, SV_AP_DETAIL };
/* body transforms */
enum { SV_BT_TEXT = 1, SV_BT_RAW, SV_BT_CONTENT };

/* sieve_ext_register - add an extension (e.g. a testsuite); 0, or -1 when
   SV_EXT_MAX extensions are registered.  Registering twice is a no-op. */
int sieve_ext_register(const struct sv_ext *e);

/* --- the node: arguments as validated ------------------------------------- */

/* sv_pos - positional argument i of n (NULL: an omitted optional one) */
struct sv_arg *sv_pos(const struct sv_node *n, size_t i);
/* sv_tag - the tag `name` given on n, or NULL */
const struct sv_tagval *sv_tag(const struct sv_node *n, const char *name);
const struct sv_tagval *sv_tag_group(const struct sv_node *n,
                                     enum sv_group g);
/* sv_node_line - the line n starts on */
int sv_node_line(const struct sv_node *n);
/* sv_node_index - :index N given on n (0: none) */
unsigned long long sv_node_index(const struct sv_node *n);
/* sv_node_match_type - n's match type (SV_MT_*; SV_MT_IS by default on
   an SV_F_MATCH command, 0 on others) */
int sv_node_match_type(const struct sv_node *n);
/* sv_literal - 1 if the string has no variables (known at compile time) */
int sv_literal(const struct sv_str *s);

/* --- compile time --------------------------------------------------------- */

/* sv_verror - a compile error at `line` ("NAME:LINE: error: ..."); the
   script does not compile */
void sv_verror(struct sv_valctx *v, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- run time ------------------------------------------------------------- */

/* sv_rerror - a run-time error at n: the result fails; returns -1 */
int sv_rerror(struct sv_run *r, const struct sv_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* evaluation of strings (variables expanded when enabled); the results
   live in the run's arena */
struct sv_str sv_eval(struct sv_run *r, const struct sv_str *s);
void sv_eval_list(struct sv_run *r, const struct sv_strlist *in,
                  struct sv_strlist *out);
/* sv_cstr - evaluated and NUL-terminated */
const char *sv_cstr(struct sv_run *r, const struct sv_str *s);
struct sv_str sv_dup(struct sv_run *r, const char *s, size_t len);
/*
 * sv_match - do any of vals[0..n) match any key under n's match type and
 * comparator?  :count compares n itself.  Sets match variables on a
 * :matches or :regex success.  1, 0, or -1 (error).
 */
int sv_match(struct sv_run *r, const struct sv_node *n,
             const struct sv_str *vals, size_t nvals,
             const struct sv_strlist *keys);
/* sv_exec_body - run the block of n (a command with a block); 0, or -1
   (a run-time error).  A stop or return ends it early with 0. */
int sv_exec_body(struct sv_run *r, const struct sv_node *n);

/* the run's result and arena */
struct sieve_result *sv_run_result(struct sv_run *r);
struct arena *sv_run_arena(struct sv_run *r);
/* sv_run_message_changed - the host changed the message under test in
   place: forget the parsed header and the loaded body */
void sv_run_message_changed(struct sv_run *r);
/* sv_run_includes_reset - every script may be included :once again */
void sv_run_includes_reset(struct sv_run *r);
/* sv_run_return - leave the blocks being run, as "return" does */
void sv_run_return(struct sv_run *r);
/* sv_run_resume - clear a stop or return, so the caller's block goes on */
void sv_run_resume(struct sv_run *r);

/* sv_flags_split - a space-separated imap4flags list into its flags
   (NULL-terminated, in a) */
const char **sv_flags_split(struct arena *a, const char *s);

#endif
