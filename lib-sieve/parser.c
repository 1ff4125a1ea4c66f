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
 * Limits: blocks and tests nest at most SIEVE_NEST_MAX deep; a string
 * list holds at most SIEVE_LIST_MAX strings.
 *
 * Diagnostics: the first syntax error ends parsing, reported as
 * "NAME:LINE: error: expected ';' or '{' after command 'keep', found
 * identifier 'x'" and the like.
 */
#include <stdio.h>
#include <string.h>

#include "sieve-int.h"

struct parser {
    struct sv_valctx *v;
    struct sv_lexer lx;
    struct arena *a;
    int failed;
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

static void syntax(struct parser *p, const char *expected, const char *ctx)
{
    char found[300];

    if (p->failed)
        return;
    p->failed = 1;
    if (p->lx.tok == SV_T_ERROR) {
        sv_verror(p->v, p->lx.tline, "%s", p->lx.err);
        return;
    }
    describe(p, found, sizeof(found));
    sv_verror(p->v, p->lx.tline, "expected %s%s, found %s", expected, ctx,
              found);
}

static void next(struct parser *p)
{
    sv_lex_next(&p->lx);
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
            p->failed = 1;
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

/* arguments and the optional test / test list of node nd */
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
        if (t == NULL)
            return -1;
        nd->tests = arena_alloc(p->a, sizeof(*nd->tests));
        nd->tests[0] = t;
        nd->ntests = 1;
    } else if (p->lx.tok == SV_T_LPAREN) {
        size_t tcap = 0;
        nd->test_list = 1;
        next(p);
        for (;;) {
            struct sv_node *t;
            if (p->lx.tok != SV_T_IDENT)
                return syntax(p, "a test", " in a test list"), -1;
            if ((t = parse_test(p, depth + 1)) == NULL)
                return -1;
            if (nd->ntests == tcap) {
                struct sv_node **nt;
                tcap = tcap ? tcap * 2 : 4;
                nt = arena_alloc(p->a, tcap * sizeof(*nt));
                if (nd->ntests)
                    memcpy(nt, nd->tests, nd->ntests * sizeof(*nt));
                nd->tests = nt;
            }
            nd->tests[nd->ntests++] = t;
            if (p->lx.tok == SV_T_RPAREN)
                break;
            if (p->lx.tok != SV_T_COMMA)
                return syntax(p, "',' or ')'", " in a test list"), -1;
            next(p);
        }
        next(p);
    }
    return 0;
}

static struct sv_node *new_node(struct parser *p, int depth)
{
    struct sv_node *nd;

    if (depth > SIEVE_NEST_MAX) {
        if (!p->failed)
            sv_verror(p->v, p->lx.tline, "nesting too deep (max %d)",
                      SIEVE_NEST_MAX);
        p->failed = 1;
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

static int parse_commands(struct parser *p, struct sv_node **out, int depth,
                          int in_block);

static struct sv_node *parse_command(struct parser *p, int depth)
{
    struct sv_node *nd = new_node(p, depth);
    char ctx[128];

    if (nd == NULL || parse_arguments(p, nd, depth) < 0)
        return NULL;
    snprintf(ctx, sizeof(ctx), " after command '%.60s'", nd->name);
    if (p->lx.tok == SV_T_SEMI) {
        next(p);
        return nd;
    }
    if (p->lx.tok != SV_T_LBRACE)
        return syntax(p, "';' or '{'", ctx), NULL;
    next(p);
    nd->has_block = 1;
    if (parse_commands(p, &nd->block, depth + 1, 1) < 0)
        return NULL;
    if (p->lx.tok != SV_T_RBRACE)
        return syntax(p, "'}'", " at the end of a block"), NULL;
    next(p);
    return nd;
}

static int parse_commands(struct parser *p, struct sv_node **out, int depth,
                          int in_block)
{
    struct sv_node **tail = out;

    *out = NULL;
    for (;;) {
        struct sv_node *nd;
        if (p->lx.tok == SV_T_EOF || (in_block && p->lx.tok == SV_T_RBRACE))
            return 0;
        if (p->lx.tok != SV_T_IDENT)
            return syntax(p, "a command", ""), -1;
        if ((nd = parse_command(p, depth)) == NULL)
            return -1;
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
    if (parse_commands(&p, out, 0, 0) < 0 || p.failed)
        return -1;
    if (p.lx.tok != SV_T_EOF) {
        syntax(&p, "a command", "");
        return -1;
    }
    return 0;
}
