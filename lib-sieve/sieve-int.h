/*
 * sieve-int - the engine's private declarations: tokens, the syntax tree,
 * the validator and run-time state, and the helpers modules share.  Only
 * files in lib-sieve/ include it; the public API is sieve.h, the
 * extension API (tables, argument access, evaluation, errors) is
 * sieve-ext.h, included from here.
 *
 * Module map (one per file):
 *   lexer.c      text -> tokens (strings, numbers, tags, comments)
 *   parser.c     tokens -> syntax tree (struct sv_node)
 *   registry.c   the table of extensions (capabilities)
 *   validate.c   require, argument and tag checking per command/test
 *   compare.c    comparators i;octet, i;ascii-casemap, i;ascii-numeric
 *   match.c      match types :is :contains :matches (+ :count :value
 *                :regex hooks), match variables
 *   message.c    header fields, RFC 2047 decoding, MIME body parts
 *   address.c    RFC 5322 address lists -> addr-specs, address parts
 *   interp.c     running the tree, evaluating strings
 *   result.c     the action list, conflicts, implicit keep, printing
 *   cmd_control.c  require if elsif else stop
 *   cmd_actions.c  keep discard redirect
 *   tst_core.c   address header exists size allof anyof not true false
 *   ext_*.c      one extension each
 *   vacation.c   vacation/notify replies and their RFC 3834 rules
 *   storage.c    a mailbox's scripts on disk (storage.h)
 * postern-lda executes a result itself (lda/sieve_bridge.c).
 */
#ifndef POSTERN_SIEVE_INT_H
#define POSTERN_SIEVE_INT_H

#include <stdint.h>

#include "mem.h"
#include "sieve-ext.h"

/* --- lexer ------------------------------------------------------------------ */

enum sv_tok {
    SV_T_EOF, SV_T_IDENT, SV_T_TAG, SV_T_NUMBER, SV_T_STRING,
    SV_T_LBRACKET, SV_T_RBRACKET, SV_T_LPAREN, SV_T_RPAREN,
    SV_T_LBRACE, SV_T_RBRACE, SV_T_COMMA, SV_T_SEMI, SV_T_ERROR
};

struct sv_lexer {
    const char *p, *end;
    int line;
    struct arena *a;
    /* the current token */
    enum sv_tok tok;
    int tline;
    const char *text;       /* identifier / tag (without ':'), string */
    size_t len;
    unsigned long long num;
    char err[256];
};

void sv_lex_init(struct sv_lexer *lx, const char *text, size_t len,
                 struct arena *a);
enum sv_tok sv_lex_next(struct sv_lexer *lx);
const char *sv_tok_name(enum sv_tok t);

/* --- syntax tree ---------------------------------------------------------------- */

struct sv_node {
    const char *name;       /* lower-cased */
    int line;
    struct sv_arg *args;
    size_t nargs;
    struct sv_node **tests;
    size_t ntests;
    int test_list;          /* tests were given in parentheses */
    int has_block;
    struct sv_node *block;  /* first command of the block */
    struct sv_node *next;   /* next command in the same block */
    /* filled by the validator */
    const struct sv_cmddef *def;
    struct sv_arg **pos;    /* positional arguments by slot (NULL: omitted) */
    size_t npos;
    struct sv_tagval *tags;
    size_t ntags;
    int mtype, relop, addrpart, transform;
    const struct sv_cmp *cmp;
    unsigned long long index; /* :index (0: none) */
    int last;                 /* :last */
    int skip;                 /* ihave of an unknown extension: block not compiled */
    void *data;               /* command-specific */
};

/* --- tables ---------------------------------------------------------------------- */

#define SV_EXT_MAX 64
typedef uint64_t sv_mask;

/* registry.c */
int sv_ext_count(void);
const struct sv_ext *sv_ext_get(int i);
int sv_ext_find(const char *name);
int sv_ext_id(const struct sv_ext *e);

/* the engine's extensions, one line each (registry.c lists them) */
extern const struct sv_ext sv_ext_core;
extern const struct sv_ext sv_ext_core_actions;
extern const struct sv_ext sv_ext_core_tests;
extern const struct sv_ext sv_ext_fileinto;
extern const struct sv_ext sv_ext_envelope;
extern const struct sv_ext sv_ext_copy;
extern const struct sv_ext sv_ext_reject;
extern const struct sv_ext sv_ext_ereject;
extern const struct sv_ext sv_ext_imap4flags;
extern const struct sv_ext sv_ext_subaddress;
extern const struct sv_ext sv_ext_relational;
extern const struct sv_ext sv_ext_mailbox;
extern const struct sv_ext sv_ext_body;
extern const struct sv_ext sv_ext_variables;
extern const struct sv_ext sv_ext_include;
extern const struct sv_ext sv_ext_regex;
extern const struct sv_ext sv_ext_date;
extern const struct sv_ext sv_ext_index;
extern const struct sv_ext sv_ext_environment;
extern const struct sv_ext sv_ext_ihave;
extern const struct sv_ext sv_ext_encoded;
extern const struct sv_ext sv_ext_cmp_numeric;
extern const struct sv_ext sv_ext_cmp_octet;
extern const struct sv_ext sv_ext_cmp_casemap;
extern const struct sv_ext sv_ext_vacation;
extern const struct sv_ext sv_ext_vacation_seconds;
extern const struct sv_ext sv_ext_spamtest;
extern const struct sv_ext sv_ext_spamtestplus;
extern const struct sv_ext sv_ext_virustest;
extern const struct sv_ext sv_ext_duplicate;
extern const struct sv_ext sv_ext_enotify;
extern const struct sv_ext sv_ext_editheader;

/* --- compiled script ------------------------------------------------------------- */

struct sieve_script {
    struct arena arena;
    char *name;
    struct sv_node *root;
    sv_mask mask;           /* enabled extensions */
};

int sv_has(const struct sieve_script *s, const struct sv_ext *e);

/* --- validation (validate.c) ------------------------------------------------------ */

struct sv_valctx {
    struct sieve_script *s;
    const struct sieve_host *host;
    struct str *errors;
    int nerrors;
    int seen_command;       /* a command other than require was seen */
    size_t regex_cost;      /* bytes of :regex keys compiled so far */
};

int sv_validate(struct sv_valctx *v, struct sv_node *list);
int sv_validate_block(struct sv_valctx *v, struct sv_node *list, int depth);
/* sv_enable - enable a capability by name; 0 or -1 (unknown) */
int sv_enable(struct sv_valctx *v, const char *name, int line);

/* parser.c */
int sv_parse(struct sv_valctx *v, const char *text, size_t len,
             struct sv_node **out);

/* --- comparators (compare.c) -------------------------------------------------------- */

struct sv_cmp {
    const char *name;
    const struct sv_ext *ext;   /* its capability */
    int substring;              /* supports :contains and :matches */
    int (*eq)(const char *a, size_t al, const char *b, size_t bl);
    int (*order)(const char *a, size_t al, const char *b, size_t bl);
    int (*ceq)(unsigned char a, unsigned char b);
};

const struct sv_cmp *sv_cmp_find(const char *name);
extern const struct sv_cmp sv_cmp_casemap;

/* --- run time (interp.c) ---------------------------------------------------------------- */

struct sv_hdr {
    const char *name;
    size_t nlen;
    const char *value;      /* unfolded, trimmed */
    size_t vlen;
};

struct sv_var {
    const char *name;       /* lower-cased */
    struct sv_str val;
};

struct sv_scope {
    struct sv_var *v;
    size_t n, cap;
};

struct sv_frame {
    struct sieve_script *s;
    struct sv_scope local;
    const char **globals;   /* names declared with "global" */
    size_t nglobals, gcap;
};

struct sv_included {
    char *path;
    struct sieve_script *s;
    int done;               /* included once already */
    int active;             /* running now (loop check) */
};

struct sv_bodycache;                    /* message.c */

struct sv_run {
    struct arena arena;                 /* run-time data, freed after the run */
    struct arena *a;                    /* = &arena */
    const struct sieve_message *msg;
    const struct sieve_host *host;
    struct sieve_result *res;
    struct sv_frame *fr;                /* the script running now */
    struct sv_scope globals;
    struct sv_str mvars[SIEVE_MATCH_VARS];
    size_t nmvars;
    unsigned long long max_steps;       /* budgets (res->steps counts) */
    size_t max_memory;
    int stop;                           /* stop executed */
    int ret;                            /* return executed */
    int depth;                          /* include depth */
    /* message caches */
    struct sv_hdr *hdrs;
    size_t nhdrs;
    int hdrs_ready;
    int hdrs_edited;                    /* hdrs came from res->new_header */
    struct str whole;                   /* the loaded message */
    int whole_ready;
    /* the body test's parts, computed once per run (message.c) */
    struct sv_bodycache *body[3];       /* :text, :content (every leaf), :raw */
    /* compiled :regex keys (ext_regex.c), their malloc'd bytes counted */
    void *regex_cache;
    size_t regex_mem;
    /* includes */
    struct sv_included inc[SIEVE_INCLUDES_MAX];
    size_t ninc;
    /* extension state (testsuite etc.) */
    void *ext_state;
};

int sv_exec_block(struct sv_run *r, struct sv_node *list);
int sv_test(struct sv_run *r, struct sv_node *n);
/* sv_step - one command, test or comparison: SIEVE_STEP_COST steps, and
   the memory budget checked; 0 or -1 (a run-time error) */
int sv_step(struct sv_run *r, const struct sv_node *n);
/* sv_charge - `steps` more of the CPU budget; 0 or -1 (spent) */
int sv_charge(struct sv_run *r, const struct sv_node *n,
              unsigned long long steps);
/* sv_steps_left - what is left of the CPU budget */
unsigned long long sv_steps_left(const struct sv_run *r);
/* sv_mem_used - bytes the run holds now; sv_mem_check: 0, or -1 (a
   run-time error) when over the memory budget */
size_t sv_mem_used(const struct sv_run *r);
int sv_mem_check(struct sv_run *r, const struct sv_node *n);
int sv_run_script(struct sv_run *r, struct sieve_script *s);

/* --- matching (match.c) ------------------------------------------------------------------ */

/* sv_match_keys - the evaluated key list of positional argument i */
int sv_relop_parse(const char *s, size_t len);
int sv_relop_holds(int relop, int cmp);
/* sv_glob - wildcard match of :matches, with captures into caps (may be
   NULL); 1 or 0.  Each backtracking step takes one from *budget; when it
   runs out, 0 with *budget < 0 (the caller reports it). */
int sv_glob(const struct sv_cmp *c, const char *pat, size_t plen,
            const char *s, size_t slen, struct sv_str *caps, size_t *ncaps,
            long long *budget);
void sv_set_match_vars(struct sv_run *r, const struct sv_str *caps,
                       size_t n);

/* regex hook (ext_regex.c) */
int sv_regex_match(struct sv_run *r, const struct sv_node *n,
                   const struct sv_str *val, const struct sv_str *key,
                   struct sv_str *caps, size_t *ncaps);
/* sv_regex_check - a literal key: the limits of sieve.h, then regcomp;
   0, or -1 with err.  *cost: bytes regcomp works on (the compile
   budget SIEVE_REGEX_COMPILE_MAX of one script counts them). */
int sv_regex_check(const char *key, size_t len, int icase, size_t *cost,
                   char *err, size_t errsize);
/* sv_regex_free - the run's compiled keys */
void sv_regex_free(struct sv_run *r);

/* --- the message (message.c) ---------------------------------------------------------------- */

int sv_msg_headers(struct sv_run *r);
/* sv_parse_fields - the fields of a header section (unfolded values) */
size_t sv_parse_fields(struct arena *a, const char *h, size_t hl,
                       struct sv_hdr **out);
/* sv_header_values - values of fields named name (case-insensitive),
   decoded (RFC 2047) if decode; honours n->index/last when n != NULL */
size_t sv_header_values(struct sv_run *r, const struct sv_node *n,
                        const char *name, size_t nlen, int decode,
                        struct sv_str **out);
int sv_decode_2047(struct arena *a, const char *in, size_t len,
                   struct sv_str *out);
/* sv_body_parts - the body as the body test sees it; 0 or -1 */
int sv_body_parts(struct sv_run *r, int transform,
                  const struct sv_strlist *types, struct sv_str **out,
                  size_t *n);
int sv_load_whole(struct sv_run *r);
/* sv_body_free - the body test's cache (message changed or run over) */
void sv_body_free(struct sv_run *r);

/* --- addresses (address.c) ---------------------------------------------------------------------- */

struct sv_address {
    struct sv_str local, domain;
    int valid;               /* parsed as local@domain */
    struct sv_str raw;       /* the text, for :all when not valid */
};

/* sv_address_list - parse an address-list header value */
size_t sv_address_list(struct arena *a, const char *v, size_t len,
                       struct sv_address **out);
/* sv_address_part - the part of an address; 0 if it has none (:detail
   without separator) */
int sv_address_part(struct sv_run *r, int part, const struct sv_address *ad,
                     struct sv_str *out);
/* sv_envelope_address - parse a bare envelope address */
void sv_envelope_address(struct arena *a, const char *s,
                         struct sv_address *out);

/* --- results (result.c) -------------------------------------------------------------------------- */

struct sieve_action *sv_result_add(struct sv_run *r, const struct sv_node *n,
                                   enum sieve_action_kind k,
                                   const char *arg, size_t arglen);
int sv_result_cancel_keep(struct sv_run *r);

/* --- shared helpers from extensions ---------------------------------------------------------------- */

/* variables (ext_variables.c) */
int sv_var_name_valid(const char *s, size_t len, int allow_ns);
struct sv_str sv_expand(struct sv_run *r, const struct sv_str *s);
int sv_var_set(struct sv_run *r, const struct sv_node *n, const char *name,
               size_t nlen, const char *val, size_t vlen);
int sv_var_get(struct sv_run *r, const char *name, size_t nlen,
               struct sv_str *out);
/* imap4flags (ext_imap4flags.c): the flags for keep/fileinto */
const char **sv_flags_for(struct sv_run *r, const struct sv_node *n);
/* encoded-character (ext_encoded.c) */
int sv_decode_encoded(struct arena *a, struct sv_str *s, char *err,
                      size_t errsize);
/* vacation.c: an address field "Field: Name <a@b>" (name encoded) */
void sieve_put_address(struct str *out, const char *field, const char *v);
/* include (ext_include.c) */
void sv_include_free(struct sv_run *r);

#endif
