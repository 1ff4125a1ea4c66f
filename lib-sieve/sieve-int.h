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
    int nl_string_line;     /* where the last quoted string holding a line
                               break began (a hint for "unterminated") */
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
    int broken;               /* a syntax error inside: reported by the
                                 parser, skipped by the validator */
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
extern const struct sv_ext sv_ext_specialuse;
extern const struct sv_ext sv_ext_mailboxid;
extern const struct sv_ext sv_ext_fcc;
extern const struct sv_ext sv_ext_extlists;
extern const struct sv_ext sv_ext_mime;
extern const struct sv_ext sv_ext_foreverypart;
extern const struct sv_ext sv_ext_extracttext;
extern const struct sv_ext sv_ext_cmp_unicode;
extern const struct sv_ext sv_ext_replace;
extern const struct sv_ext sv_ext_enclose;

/* --- compiled script ------------------------------------------------------------- */

struct sieve_script {
    struct arena arena;
    char *name;
    struct sv_node *root;
    sv_mask mask;           /* enabled extensions */
    char *path;             /* the file (sieve_compile_file), else NULL:
                               include knows the running top script */
    struct str warnings;    /* "NAME:LINE: warning: ..." lines */
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
    int nwarnings;
};

int sv_validate(struct sv_valctx *v, struct sv_node *list);
int sv_validate_block(struct sv_valctx *v, struct sv_node *list, int depth);
/* sv_enable - enable a capability by name; 0 or -1 (unknown) */
int sv_enable(struct sv_valctx *v, const char *name, int line);
/* sv_vwarning - a compile warning at `line` ("NAME:LINE: warning:
   ..."); the script still compiles (sieve_script_warnings) */
void sv_vwarning(struct sv_valctx *v, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* sv_header_name_ok - s[0..len) is a valid header field name (RFC 5322
   ftext: printable ASCII but ':'; "Subject:" is not) */
int sv_header_name_ok(const char *s, size_t len);
/* sv_check_header_names - a test's literal header names: an invalid one
   is a warning (the test never matches it at run time; Pigeonhole
   warns too, so scripts written for it still compile).  0 */
int sv_check_header_names(struct sv_valctx *v, const struct sv_arg *a);

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
    /* i;unicode-casemap (ext_cmp_unicode.c): the canonical form of s
       (RFC 5051) into out, 0; -1 when s is not UTF-8 (compared as
       octets); NULL: the comparator compares bytes itself */
    int (*fold)(const char *s, size_t len, struct str *out);
};

const struct sv_cmp *sv_cmp_find(const char *name);
extern const struct sv_cmp sv_cmp_casemap;
extern const struct sv_cmp sv_cmp_unicode;   /* ext_cmp_unicode.c */
/* sv_cmp_prepare - :contains/:matches under a folding comparator (fold
   set): value and key in canonical form (left as they are when either
   is not UTF-8) */
void sv_cmp_prepare(struct sv_run *r, const struct sv_node *n,
                    struct sv_str *v, struct sv_str *k);

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
    struct sieve_script *s;     /* NULL: the top script (ext_include.c) */
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
    /* extlists (ext_extlists.c): the run's (list, value) answers */
    void *extlists;
    /* mime/foreverypart (message.c): the MIME tree and the loop state */
    struct sv_mime *mime;
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
/* sv_envelope_address - parse an SMTP path ("a@b", "<a@b>", "<>" or "",
   a source route ignored); out->valid is 0 for a path that is not
   syntactically valid (the envelope test then matches nothing) */
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
/* fileinto (ext_fileinto.c): a usable folder name (UTF-8, no control
   characters, not empty) */
int sv_folder_valid(const char *s, size_t len);
/* special-use (ext_specialuse.c): "\Name", an atom after the backslash */
int sv_specialuse_valid(const char *s, size_t len);
/* mailboxid (ext_mailboxid.c): an objectid (RFC 8474): 1..255 of
   A-Z a-z 0-9 _ - */
int sv_mailboxid_valid(const char *s, size_t len);
/* fcc (ext_fcc.c): the :fcc tag and its options on vacation and notify;
   sv_fcc_validate 0 or -1 (compile error); sv_fcc_eval *out NULL
   without :fcc, else the options evaluated into the result's arena; 0,
   or -1 (a run-time error) */
int sv_fcc_validate(struct sv_valctx *v, struct sv_node *n);
/* sv_store_print - result.c: " specialuse=F mailboxid=I" of a fileinto,
   or " fcc=\"FOLDER\" [FLAGS] create specialuse=F mailboxid=I" (f) */
void sv_store_print(const struct sieve_action *a, const struct sieve_fcc *f,
                    struct str *out);
int sv_fcc_eval(struct sv_run *r, const struct sv_node *n,
                const struct sieve_fcc **out);
/* include (ext_include.c) */
void sv_include_free(struct sv_run *r);
/* extlists (ext_extlists.c): :list against one value and one list name
   (1, 0, -1); redirect :list (validate: 0 or -1; exec: 0 or -1) */
int sv_list_match(struct sv_run *r, const struct sv_node *n,
                  const struct sv_str *val, const struct sv_str *list);
int sv_list_redirect_validate(struct sv_valctx *v, struct sv_node *n);
int sv_list_validate(struct sv_valctx *v, struct sv_node *n);
int sv_list_redirect(struct sv_run *r, struct sv_node *n);
/* vacation.c: a UTF-8 text/plain body with its Content-Type and
   Content-Transfer-Encoding fields (quoted-printable when not 7bit) */
void sv_put_text_body(struct str *out, const char *text, size_t len);

/* --- MIME parts (message.c; mime, foreverypart, extracttext) ----------------------- */

struct sv_mpart {
    const char *hdr;         /* the part's header section */
    size_t hlen;
    const char *body;        /* its body, undecoded */
    size_t blen;
    char type[64], sub[64], charset[64];   /* lower-cased */
    int b64, qp;             /* Content-Transfer-Encoding */
    int kids;                /* its children were parsed (multipart/...,
                                message/rfc822 above SIEVE_MIME_DEPTH) */
    int depth;
    size_t end;              /* the index after its last descendant */
    struct sv_hdr *hdrs;     /* parsed on first use */
    size_t nhdrs;
    int hdrs_ready;
};

/* the message's parts in document order (depth first): p[0] is the
   message, the descendants of p[i] are p[i+1 .. p[i].end) */
struct sv_mime {
    struct sv_mpart *p;
    size_t n, cap;
    int truncated;           /* more than SIEVE_MIME_PARTS parts */
    size_t cur;              /* the part foreverypart is at (0: message) */
    int loops;               /* foreverypart loops running */
    const void *brk;         /* the loop a break leaves (NULL: none) */
    void *edit;              /* replace/enclose of this run (ext_replace.c) */
};

/* sv_mime_tree - the MIME tree of the message, parsed once per run; NULL
   when the message cannot be read (a run-time error is set) */
struct sv_mime *sv_mime_tree(struct sv_run *r, const struct sv_node *n);
/* sv_mime_headers - the header fields of part i (part 0: the message's,
   as editheader left them) */
size_t sv_mime_headers(struct sv_run *r, size_t i, struct sv_hdr **out);
/* sv_mime_text - the text of part i for extracttext: a text/... part
   decoded and converted to UTF-8 (HTML without tags), message/rfc822 the
   text parts of the enclosed message, others ""; 0 or -1 */
int sv_mime_text(struct sv_run *r, const struct sv_node *n, size_t i,
                 struct str *out);
/* sv_to_utf8 - in[0..len) in charset cs (lower case) as UTF-8 (iconv;
   an unknown charset passes the bytes through) */
void sv_to_utf8(const char *cs, const char *in, size_t len, struct str *out);
/* ext_mime.c: header/address/exists with :mime */
size_t sv_mime_header_values(struct sv_run *r, const struct sv_node *n,
                             const char *name, size_t nlen, int decode,
                             struct sv_str **out);
int sv_mime_validate(struct sv_valctx *v, struct sv_node *n);
/* ext_variables.c: the modifier tags on n (set, extracttext) applied to
   s by precedence; the precedence of one modifier (0: not one) */
void sv_var_modifiers(const struct sv_node *n, struct str *s);
int sv_var_modifier_rank(const char *name);

#endif
