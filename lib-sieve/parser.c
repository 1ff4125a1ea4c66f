/*
 * parser - tokens to the syntax tree (RFC 5228 section 8.2 grammar):
 *
 *   commands  = *command
 *   command   = identifier arguments (";" / block)
 *   block     = "{" commands "}"
 *   arguments = *argument [ test / test-list ]
 *   argument  = string-list / number / tag
 *   test      = identifier arguments
 *   test-list = "(" test *("," test) ")"
 *
 * The parser knows no command names; validate.c checks them.  Nodes,
 * arguments and strings live in the script's arena.
 *
 * Recovery, as a compiler does: a syntax error is reported and the
 * parser skips to the next ';' or to the end of the current block at the
 * same nesting (a '{' ... '}' pair met on the way ends the command), then
 * goes on with the next command, so every later error is found in the
 * same pass.  The command holding the error stays in the tree marked
 * `broken` (the validator skips it, and an elsif after it is not an
 * error).  A command that only lacks its ';' before '}' or the end of
 * the script is kept whole.  Lexical errors met while skipping are
 * reported too; "found end of script" is reported once; a block not
 * closed at the end of the script is reported at its '{'.
 *
 * Limits: blocks and tests nest at most SIEVE_NEST_MAX deep; a string
 * list holds at most SIEVE_LIST_MAX strings; sv_verror() stops after
 * SIEVE_ERRORS_MAX errors.
 *
 * Diagnostics: "NAME:LINE: error: expected ';' or '{' after command
 * 'keep', found identifier 'x'", "... block opened here is not closed
 * (missing '}' before the end of the script)", the lexer's messages.
 */
#include <stdio.h>
#include <string.h>

#include "sieve-int.h"

struct parser {
    struct sv_valctx *v;
    struct sv_lexer lx;
    struct arena *a;
    int errors;             /* syntax errors seen */
    int eof_reported;       /* "found end of script" said once */
    int last_line;          /* where the last token consumed ended */
};

static void describe(struct parser *p, char *buf, size_t size)
{
    if (p->lx.tok == SV_T_IDENT)
        snprintf(buf, size, "identifier '%s'", p->lx.text);
    else if (p->lx.tok == SV_T_TAG)
        snprintf(buf, size, "tag ':%s'", p->lx.text);
    else
        snprintf(buf, size, "%s", sv_tok_name(p->lx.tok));
}

/* syntax - report the current token as unexpected (or the lexer's error) */
static void syntax(struct parser *p, const char *expected, const char *ctx)
{
    char found[300];

    p->errors++;
    if (p->lx.tok == SV_T_ERROR) {
        sv_verror(p->v, p->lx.tline, "%s", p->lx.err);
        return;
    }
    if (p->lx.tok == SV_T_EOF) {
        if (p->eof_reported)
            return;
        p->eof_reported = 1;
    }
    describe(p, found, sizeof(found));
    /* at the line of the token found (as Pigeonhole does); at the end
       of the script, the line of what is missing something */
    sv_verror(p->v, p->lx.tok == SV_T_EOF && p->last_line ? p->last_line
                                                         : p->lx.tline,
              "expected %s%s, found %s", expected, ctx, found);
}

static void next(struct parser *p)
{
    p->last_line = p->lx.line;
    sv_lex_next(&p->lx);
}

/*
 * recover - after a reported error at the current token: skip to the
 * next ';' at this nesting (consumed), past a '{' ... '}' pair, or up to
 * the '}' that closes the enclosing block (left for the block; at the
 * top level a stray '}' is consumed), or the end of the script.
 */
static void recover(struct parser *p, int in_block)
{
    int depth = 0, first = 1;

    for (;; first = 0, next(p)) {
        switch (p->lx.tok) {
        case SV_T_EOF:
            return;
        case SV_T_SEMI:
            if (depth == 0) {
                next(p);
                return;
            }
            break;
        case SV_T_LBRACE:
            depth++;
            break;
        case SV_T_RBRACE:
            if (depth == 0) {
                if (!in_block)
                    next(p);
                return;
            }
            if (--depth == 0) {
                next(p);
                return;
            }
            break;
        case SV_T_ERROR:
            if (!first) {
                p->errors++;
                sv_verror(p->v, p->lx.tline, "%s", p->lx.err);
            }
            break;
        default:
            break;
        }
    }
}

static int parse_strlist(struct parser *p, struct sv_arg *arg)
{
    struct sv_str *v = NULL;
    size_t n = 0, cap = 0;

    next(p); /* '[' */
    for (;;) {
        if (p->lx.tok != SV_T_STRING)
            return syntax(p, "a string", " in a string list"), -1;
        if (n == SIEVE_LIST_MAX) {
            p->errors++;
            sv_verror(p->v, p->lx.tline, "string list too long (max %d)",
                      SIEVE_LIST_MAX);
            return -1;
        }
        if (n == cap) {
            struct sv_str *nv;
            cap = cap ? cap * 2 : 4;
            nv = arena_alloc(p->a, cap * sizeof(*nv));
            if (n)
                memcpy(nv, v, n * sizeof(*nv));
            v = nv;
        }
        v[n++] = (struct sv_str){p->lx.text, p->lx.len, 0};
        next(p);
        if (p->lx.tok == SV_T_RBRACKET)
            break;
        if (p->lx.tok != SV_T_COMMA)
            return syntax(p, "',' or ']'", " in a string list"), -1;
        next(p);
    }
    next(p);
    arg->type = SV_A_LIST;
    arg->list.v = v;
    arg->list.n = n;
    return 0;
}

static struct sv_node *parse_test(struct parser *p, int depth);

static void add_test(struct parser *p, struct sv_node *nd, struct sv_node *t,
                     size_t *cap)
{
    if (nd->ntests == *cap) {
        struct sv_node **nt;
        *cap = *cap ? *cap * 2 : 4;
        nt = arena_alloc(p->a, *cap * sizeof(*nt));
        if (nd->ntests)
            memcpy(nt, nd->tests, nd->ntests * sizeof(*nt));
        nd->tests = nt;
    }
    nd->tests[nd->ntests++] = t;
}

static int parse_test_list(struct parser *p, struct sv_node *nd, int depth)
{
    size_t tcap = 0;

    nd->test_list = 1;
    next(p);
    for (;;) {
        struct sv_node *t;
        if (p->lx.tok != SV_T_IDENT)
            return syntax(p, "a test", " in a test list"), -1;
        if ((t = parse_test(p, depth + 1)) == NULL)
            return -1;
        add_test(p, nd, t, &tcap);
        if (p->lx.tok == SV_T_RPAREN)
            break;
        if (p->lx.tok != SV_T_COMMA)
            return syntax(p, "',' or ')'", " in a test list"), -1;
        next(p);
    }
    next(p);
    return 0;
}

/* arguments and the optional test / test list of node nd; -1 after a
   reported error */
static int parse_arguments(struct parser *p, struct sv_node *nd, int depth)
{
    size_t cap = 0;

    for (;;) {
        struct sv_arg arg;
        memset(&arg, 0, sizeof(arg));
        arg.line = p->lx.tline;
        if (p->lx.tok == SV_T_STRING) {
            struct sv_str *v = arena_alloc(p->a, sizeof(*v));
            *v = (struct sv_str){p->lx.text, p->lx.len, 0};
            arg.type = SV_A_STRING;
            arg.list.v = v;
            arg.list.n = 1;
            next(p);
        } else if (p->lx.tok == SV_T_LBRACKET) {
            if (parse_strlist(p, &arg) < 0)
                return -1;
        } else if (p->lx.tok == SV_T_NUMBER) {
            arg.type = SV_A_NUMBER;
            arg.num = p->lx.num;
            next(p);
        } else if (p->lx.tok == SV_T_TAG) {
            arg.type = SV_A_TAG;
            arg.tag = p->lx.text;
            next(p);
        } else {
            break;
        }
        if (nd->nargs == cap) {
            struct sv_arg *na;
            cap = cap ? cap * 2 : 4;
            na = arena_alloc(p->a, cap * sizeof(*na));
            if (nd->nargs)
                memcpy(na, nd->args, nd->nargs * sizeof(*na));
            nd->args = na;
        }
        nd->args[nd->nargs++] = arg;
    }
    if (p->lx.tok == SV_T_ERROR)
        return syntax(p, "", ""), -1;
    if (p->lx.tok == SV_T_IDENT) {
        struct sv_node *t = parse_test(p, depth + 1);
        size_t tcap = 0;
        if (t == NULL)
            return -1;
        add_test(p, nd, t, &tcap);
    } else if (p->lx.tok == SV_T_LPAREN) {
        return parse_test_list(p, nd, depth);
    }
    return 0;
}

/* new_node - a node for the identifier at hand (consumed); NULL (the
   error reported) when nested too deep */
static struct sv_node *new_node(struct parser *p, int depth)
{
    struct sv_node *nd;

    if (depth > SIEVE_NEST_MAX) {
        p->errors++;
        sv_verror(p->v, p->lx.tline, "nesting too deep (max %d)",
                  SIEVE_NEST_MAX);
        return NULL;
    }
    nd = arena_alloc(p->a, sizeof(*nd));
    memset(nd, 0, sizeof(*nd));
    nd->name = p->lx.text;
    nd->line = p->lx.tline;
    next(p);
    return nd;
}

static struct sv_node *parse_test(struct parser *p, int depth)
{
    struct sv_node *nd = new_node(p, depth);

    if (nd == NULL || parse_arguments(p, nd, depth) < 0)
        return NULL;
    return nd;
}

static void parse_commands(struct parser *p, struct sv_node **out, int depth,
                           int in_block);

/* a broken command: kept in the tree so the validator knows a command
   was there */
static struct sv_node *broken(struct parser *p, struct sv_node *nd,
                              const char *name, int line, int in_block)
{
    if (nd == NULL) {
        nd = arena_alloc(p->a, sizeof(*nd));
        memset(nd, 0, sizeof(*nd));
        nd->name = name;
        nd->line = line;
    }
    nd->broken = 1;
    recover(p, in_block);
    return nd;
}

/* parse_command - one command; never NULL (a broken node after errors) */
static struct sv_node *parse_command(struct parser *p, int depth,
                                     int in_block)
{
    const char *name = p->lx.text;
    int line = p->lx.tline, bline;
    struct sv_node *nd = new_node(p, depth);
    char ctx[128];

    if (nd == NULL || parse_arguments(p, nd, depth) < 0)
        return broken(p, nd, name, line, in_block);
    snprintf(ctx, sizeof(ctx), " after command '%.60s'", nd->name);
    if (p->lx.tok == SV_T_SEMI) {
        next(p);
        return nd;
    }
    if (p->lx.tok != SV_T_LBRACE) {
        syntax(p, "';' or '{'", ctx);
        /* only the ';' is missing: the command itself is whole */
        if (p->lx.tok == SV_T_EOF || (in_block && p->lx.tok == SV_T_RBRACE))
            return nd;
        return broken(p, nd, name, line, in_block);
    }
    bline = p->lx.tline;
    next(p);
    nd->has_block = 1;
    parse_commands(p, &nd->block, depth + 1, 1);
    if (p->lx.tok != SV_T_RBRACE) {
        /* parse_commands returns at '}' or the end of the script only */
        p->errors++;
        sv_verror(p->v, bline, "block opened here is not closed (missing "
                  "'}' before the end of the script)");
        return nd;
    }
    next(p);
    return nd;
}

static void parse_commands(struct parser *p, struct sv_node **out, int depth,
                           int in_block)
{
    struct sv_node **tail = out;

    *out = NULL;
    for (;;) {
        struct sv_node *nd;
        if (p->lx.tok == SV_T_EOF || (in_block && p->lx.tok == SV_T_RBRACE))
            return;
        if (p->lx.tok != SV_T_IDENT) {
            syntax(p, "a command", "");
            recover(p, in_block);
            continue;
        }
        nd = parse_command(p, depth, in_block);
        *tail = nd;
        tail = &nd->next;
    }
}

int sv_parse(struct sv_valctx *v, const char *text, size_t len,
             struct sv_node **out)
{
    struct parser p;

    memset(&p, 0, sizeof(p));
    p.v = v;
    p.a = &v->s->arena;
    sv_lex_init(&p.lx, text, len, p.a);
    next(&p);
    parse_commands(&p, out, 0, 0);
    return p.errors ? -1 : 0;
}
