/*
 * validate - the semantic pass over the syntax tree, and sieve_compile().
 *
 * For every command and test: find its definition among the enabled
 * extensions (registry.c), sort its arguments into tags (with their
 * parameters) and positional arguments, check both against the
 * definition, check the tests and the block, resolve the match type,
 * comparator, relational operator and address part, decode
 * encoded-character strings, then call the definition's own validate
 * hook (e.g. set checks its variable name).  "require" must come before
 * any other command; elsif/else must follow if/elsif.
 *
 * Recovery: an error never stops the pass.  The tree is validated even
 * after syntax errors (commands the parser marked broken are skipped; a
 * broken require allows every extension, so its commands do not cascade
 * into "requires" errors); bad arguments still let the tests and the
 * block be checked; the block of an unknown command is checked; an
 * elsif/else after a command with an error (broken, unknown, "else if")
 * is not reported again; a command without a block of its own that got
 * a command as its test ("keep" then "if" on the next line) is reported
 * once as a missing ';' and the rest is checked as the command it is;
 * "else if" is one error ("write 'elsif'"); a tag without its ':'
 * ("address matches ...") is reported once and put back as the tag it
 * is; a run of bad characters is one error (lexer.c).
 *
 * Limits: SIEVE_SCRIPT_MAX bytes of script; at most SIEVE_ERRORS_MAX
 * errors are reported, then "too many errors".
 *
 * Diagnostics: "NAME:LINE: error: unknown command 'foo'", "... command
 * 'fileinto' requires the "fileinto" extension", "... 'keep' expects 0
 * positional argument(s), but 1 were found", and so on, one per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sieve-int.h"

/* errors one compilation collects before sorting (bounds its memory) */
#define SV_ERRORS_COLLECT (SIEVE_ERRORS_MAX * 50)

void sv_verror(struct sv_valctx *v, int line, const char *fmt, ...)
{
    va_list ap;

    /* collected here, sorted by line and cut to SIEVE_ERRORS_MAX by
       sieve_compile() */
    if (++v->nerrors > SV_ERRORS_COLLECT)
        return;
    str_appendf(v->errors, "%s:%d: error: ", v->s->name, line);
    va_start(ap, fmt);
    str_vappendf(v->errors, fmt, ap);
    va_end(ap);
    str_append_char(v->errors, '\n');
}

void sv_vwarning(struct sv_valctx *v, int line, const char *fmt, ...)
{
    va_list ap;

    if (++v->nwarnings > SIEVE_ERRORS_MAX)
        return;
    str_appendf(&v->s->warnings, "%s:%d: warning: ", v->s->name, line);
    va_start(ap, fmt);
    str_vappendf(&v->s->warnings, fmt, ap);
    va_end(ap);
    str_append_char(&v->s->warnings, '\n');
}

int sv_literal(const struct sv_str *s)
{
    return !s->vars;
}

const struct sv_tagval *sv_tag(const struct sv_node *n, const char *name)
{
    for (size_t i = 0; i < n->ntags; i++)
        if (strcmp(n->tags[i].def->name, name) == 0)
            return &n->tags[i];
    return NULL;
}

const struct sv_tagval *sv_tag_group(const struct sv_node *n,
                                     enum sv_group g)
{
    for (size_t i = 0; i < n->ntags; i++)
        if (n->tags[i].def->group == g)
            return &n->tags[i];
    return NULL;
}

static int visible(const struct sv_valctx *v, int id)
{
    const struct sv_ext *e = sv_ext_get(id);

    return e && (!e->extra || (v->host && v->host->allow_extra));
}

int sv_enable(struct sv_valctx *v, const char *name, int line)
{
    int id = sv_ext_find(name);

    if (id < 0 || !visible(v, id)) {
        if (line > 0)
            sv_verror(v, line, "unsupported extension \"%s\"", name);
        return -1;
    }
    v->s->mask |= (sv_mask)1 << id;
    /* RFC 6131 2: vacation-seconds implies vacation */
    if (strcmp(name, "vacation-seconds") == 0)
        return sv_enable(v, "vacation", 0);
    return 0;
}

int sv_header_name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] <= 32 || (unsigned char)s[k] >= 127 ||
            s[k] == ':')
            return 0;
    return 1;
}

int sv_check_header_names(struct sv_valctx *v, const struct sv_arg *a)
{
    for (size_t i = 0; a && i < a->list.n; i++) {
        const struct sv_str *s = &a->list.v[i];
        if (sv_literal(s) && !sv_header_name_ok(s->s, s->len))
            sv_vwarning(v, a->line, "invalid header name \"%.100s\" "
                        "(never matches)", s->s);
    }
    return 0;
}

static void enable_all(struct sv_valctx *v)
{
    for (int i = 0; i < sv_ext_count(); i++)
        if (visible(v, i))
            v->s->mask |= (sv_mask)1 << i;
}

static int enabled(const struct sv_valctx *v, int id)
{
    return (v->s->mask & ((sv_mask)1 << id)) != 0;
}

/* find_cmd - the definition of name; *ext_r the extension holding it */
static const struct sv_cmddef *find_cmd(const struct sv_valctx *v,
                                        const char *name, int want_enabled,
                                        int *ext_r)
{
    for (int i = 0; i < sv_ext_count(); i++) {
        const struct sv_ext *e = sv_ext_get(i);
        if (!visible(v, i) || enabled(v, i) != want_enabled)
            continue;
        for (size_t k = 0; k < e->ncmds; k++)
            if (strcmp(e->cmds[k].name, name) == 0) {
                *ext_r = i;
                return &e->cmds[k];
            }
    }
    return NULL;
}

static int tag_applies(const struct sv_tagdef *t, const struct sv_node *n)
{
    char word[80];

    if (strcmp(t->cmds, "*match") == 0)
        return (n->def->flags & SV_F_MATCH) != 0;
    if (strcmp(t->cmds, "*addr") == 0)
        return (n->def->flags & SV_F_ADDR) != 0;
    snprintf(word, sizeof(word), " %s ", n->name);
    return strstr(t->cmds, word) != NULL;
}

static const struct sv_tagdef *find_tag(const struct sv_valctx *v,
                                        const struct sv_node *n,
                                        const char *name, int want_enabled,
                                        int *ext_r)
{
    for (int i = 0; i < sv_ext_count(); i++) {
        const struct sv_ext *e = sv_ext_get(i);
        if (!visible(v, i) || enabled(v, i) != want_enabled)
            continue;
        for (size_t k = 0; k < e->ntags; k++)
            if (strcmp(e->tags[k].name, name) == 0 &&
                tag_applies(&e->tags[k], n)) {
                *ext_r = i;
                return &e->tags[k];
            }
    }
    return NULL;
}

static const char *group_name(enum sv_group g)
{
    switch (g) {
    case SV_G_MATCH: return "match types";
    case SV_G_CMP: return "comparators";
    case SV_G_ADDR: return "address parts";
    case SV_G_BODY: return "body transforms";
    case SV_G_SIZE: return ":over/:under tags";
    case SV_G_ZONE: return "time zones";
    case SV_G_LOCATION: return "script locations";
    default: return "tags";
    }
}

static const char *kind(const struct sv_node *n)
{
    return n->def && n->def->is_test ? "test" : "command";
}

/* prepare_strings - encoded-character and the variables flag */
static void prepare_strings(struct sv_valctx *v, struct sv_arg *a)
{
    int enc = sv_has(v->s, &sv_ext_encoded);
    int vars = sv_has(v->s, &sv_ext_variables);

    if (a->type != SV_A_STRING && a->type != SV_A_LIST)
        return;
    for (size_t i = 0; i < a->list.n; i++) {
        struct sv_str *s = &a->list.v[i];
        char err[200];
        if (enc && sv_decode_encoded(&v->s->arena, s, err, sizeof(err)) < 0)
            sv_verror(v, a->line, "%s", err);
        s->vars = vars && memmem(s->s, s->len, "${", 2) != NULL;
    }
}

static int sort_args(struct sv_valctx *v, struct sv_node *n,
                     struct sv_arg ***posv, size_t *npos)
{
    size_t np = 0;
    int rc = 0;

    n->tags = arena_alloc(&v->s->arena, (n->nargs + 1) * sizeof(*n->tags));
    *posv = arena_alloc(&v->s->arena, (n->nargs + 1) * sizeof(**posv));
    for (size_t i = 0; i < n->nargs; i++) {
        struct sv_arg *a = &n->args[i];
        const struct sv_tagdef *t;
        int ext;
        prepare_strings(v, a);
        if (a->type != SV_A_TAG) {
            (*posv)[np++] = a;
            continue;
        }
        if (np > 0) {
            sv_verror(v, a->line, "tagged argument ':%s' must come before "
                      "the positional arguments of '%s'", a->tag, n->name);
            rc = -1;
            continue;
        }
        if ((t = find_tag(v, n, a->tag, 1, &ext)) == NULL) {
            if ((t = find_tag(v, n, a->tag, 0, &ext)) != NULL)
                sv_verror(v, a->line, "tag ':%s' requires the \"%s\" "
                          "extension", a->tag, sv_ext_get(ext)->name);
            else
                sv_verror(v, a->line, "unknown tagged argument ':%s' for "
                          "%s '%s'", a->tag, kind(n), n->name);
            rc = -1;
            continue;
        }
        for (size_t k = 0; k < n->ntags; k++) {
            if (n->tags[k].def == t) {
                sv_verror(v, a->line, "tag ':%s' given twice", a->tag);
                rc = -1;
            } else if (t->group != SV_G_NONE && t->group != SV_G_OTHER &&
                       n->tags[k].def->group == t->group) {
                sv_verror(v, a->line, "more than one of the %s given to "
                          "'%s'", group_name(t->group), n->name);
                rc = -1;
            }
        }
        struct sv_tagval *tv = &n->tags[n->ntags++];
        tv->def = t;
        tv->param = NULL;
        if (t->param) {
            struct sv_arg *p = i + 1 < n->nargs ? &n->args[i + 1] : NULL;
            int ok = p && ((t->param == 'S' && p->type == SV_A_STRING) ||
                           (t->param == 'L' && (p->type == SV_A_STRING ||
                                                p->type == SV_A_LIST)) ||
                           (t->param == 'N' && p->type == SV_A_NUMBER));
            if (!ok) {
                sv_verror(v, a->line, "tag ':%s' needs a %s argument",
                          a->tag, t->param == 'S' ? "string" :
                          t->param == 'L' ? "string list" : "number");
                rc = -1;
                continue;
            }
            prepare_strings(v, p);
            tv->param = p;
            i++;
        }
    }
    *npos = np;
    return rc;
}

static int map_positional(struct sv_valctx *v, struct sv_node *n,
                          struct sv_arg **given, size_t ng)
{
    const char *spec = n->def->pos ? n->def->pos : "";
    size_t req = 0, opt = 0, slots = strlen(spec), k = 0;
    int use_opt;

    for (const char *c = spec; *c; c++)
        (*c >= 'a' && *c <= 'z') ? opt++ : req++;
    if (ng != req && ng != req + opt) {
        if (opt)
            sv_verror(v, n->line, "'%s' expects %zu or %zu positional "
                      "argument(s), but %zu were found", n->name, req,
                      req + opt, ng);
        else
            sv_verror(v, n->line, "'%s' expects %zu positional argument(s),"
                      " but %zu were found", n->name, req, ng);
        return -1;
    }
    use_opt = ng == req + opt;
    n->pos = arena_alloc(&v->s->arena, (slots + 1) * sizeof(*n->pos));
    n->npos = slots;
    for (size_t i = 0; i < slots; i++) {
        char c = spec[i];
        struct sv_arg *a;
        if (c >= 'a' && c <= 'z' && !use_opt) {
            n->pos[i] = NULL;
            continue;
        }
        a = given[k++];
        n->pos[i] = a;
        c = (char)(c & ~0x20);
        if ((c == 'S' && a->type != SV_A_STRING) ||
            (c == 'L' && a->type != SV_A_STRING && a->type != SV_A_LIST) ||
            (c == 'N' && a->type != SV_A_NUMBER)) {
            sv_verror(v, a->line, "argument %zu of '%s' must be a %s", k,
                      n->name, c == 'S' ? "string" :
                      c == 'L' ? "string or string list" : "number");
            return -1;
        }
    }
    return 0;
}

static int check_match(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_tagval *t;

    n->mtype = SV_MT_IS;
    n->cmp = &sv_cmp_casemap;
    n->addrpart = SV_AP_ALL;
    if ((t = sv_tag_group(n, SV_G_ADDR)) != NULL)
        n->addrpart = t->def->id;
    if ((t = sv_tag_group(n, SV_G_MATCH)) != NULL) {
        n->mtype = t->def->id;
        if (t->param) {
            const struct sv_str *s = &t->param->list.v[0];
            n->relop = sv_relop_parse(s->s, s->len);
            if (n->relop == 0 || s->vars) {
                sv_verror(v, t->param->line, "invalid relational operator "
                          "\"%.20s\"", s->s);
                return -1;
            }
        }
    }
    if ((t = sv_tag_group(n, SV_G_CMP)) != NULL) {
        const struct sv_str *s = &t->param->list.v[0];
        const struct sv_cmp *c = sv_cmp_find(s->s);
        if (c == NULL || s->vars) {
            sv_verror(v, t->param->line, "unknown comparator \"%.60s\"",
                      s->s);
            return -1;
        }
        if (!sv_has(v->s, c->ext)) {
            sv_verror(v, t->param->line, "comparator \"%s\" requires the "
                      "\"%s\" extension", c->name, c->ext->name);
            return -1;
        }
        n->cmp = c;
    }
    if (n->mtype == SV_MT_LIST && sv_list_validate(v, n) < 0)
        return -1;                      /* extlists: the list names */
    if (n->mtype == SV_MT_REGEX && n->npos > 0 && n->pos[n->npos - 1]) {
        const struct sv_arg *k = n->pos[n->npos - 1];
        char err[200];
        if (n->cmp != &sv_cmp_casemap && strcmp(n->cmp->name, "i;octet")) {
            sv_verror(v, n->line, "comparator \"%s\" cannot be used with "
                      ":regex", n->cmp->name);
            return -1;
        }
        for (size_t i = 0; i < k->list.n; i++) {
            size_t cost = 0;
            if (!sv_literal(&k->list.v[i]))
                continue;
            if (v->regex_cost > SIEVE_REGEX_COMPILE_MAX) {
                sv_verror(v, k->line, "too many regular expressions (more "
                          "than %d bytes to compile in one script)",
                          SIEVE_REGEX_COMPILE_MAX);
                return -1;
            }
            if (sv_regex_check(k->list.v[i].s, k->list.v[i].len,
                               n->cmp == &sv_cmp_casemap, &cost, err,
                               sizeof(err)) < 0) {
                sv_verror(v, k->line, "invalid regular expression "
                          "\"%.60s\": %s", k->list.v[i].s, err);
                return -1;
            }
            v->regex_cost += cost;
        }
    }
    if (!n->cmp->substring && (n->mtype == SV_MT_CONTAINS ||
                               n->mtype == SV_MT_MATCHES ||
                               n->mtype == SV_MT_REGEX)) {
        sv_verror(v, n->line, "comparator \"%s\" cannot be used with this "
                  "match type", n->cmp->name);
        return -1;
    }
    return 0;
}

static int check_index(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_tagval *t = sv_tag(n, "index");

    if (t) {
        n->index = t->param->num;
        if (n->index == 0) {
            sv_verror(v, t->param->line, ":index must be at least 1");
            return -1;
        }
    }
    /* :last alone is addheader's (RFC 5293) and duplicate's (RFC 7352) */
    if (sv_tag(n, "last") && strcmp(n->name, "addheader") != 0 &&
        strcmp(n->name, "duplicate") != 0) {
        if (!t) {
            sv_verror(v, n->line, ":last requires :index");
            return -1;
        }
        n->last = 1;
    }
    return 0;
}

static int validate_node(struct sv_valctx *v, struct sv_node *n, int depth,
                         int is_test);

/*
 * missing_colon - "address matches "from" "x"" parses as address with the
 * test "matches": a command or test that takes no test got one named like
 * a tag, with arguments.  One error; the tag and its arguments are put
 * back where they belong, so the rest is checked as meant.
 */
static int missing_colon(struct sv_valctx *v, struct sv_node *n)
{
    struct sv_node *t;
    struct sv_arg *na;
    int ext;

    if (n->def->ntests != 0 || n->ntests != 1 || n->test_list)
        return 0;
    t = n->tests[0];
    if (t->nargs == 0 || (find_tag(v, n, t->name, 1, &ext) == NULL &&
                          find_tag(v, n, t->name, 0, &ext) == NULL))
        return 0;
    sv_verror(v, t->line, "missing ':' before tag '%s' of '%s'?", t->name,
              n->name);
    na = arena_alloc(&v->s->arena, (n->nargs + 1 + t->nargs) * sizeof(*na));
    if (n->nargs)
        memcpy(na, n->args, n->nargs * sizeof(*na));
    memset(&na[n->nargs], 0, sizeof(*na));
    na[n->nargs].type = SV_A_TAG;
    na[n->nargs].line = t->line;
    na[n->nargs].tag = t->name;
    memcpy(na + n->nargs + 1, t->args, t->nargs * sizeof(*na));
    n->args = na;
    n->nargs += 1 + t->nargs;
    n->tests = t->tests;
    n->ntests = t->ntests;
    n->test_list = t->test_list;
    return -1;
}

static int validate_tests(struct sv_valctx *v, struct sv_node *n, int depth)
{
    int want = n->def->ntests, rc = 0;

    if (want == 0 && n->ntests == 1 && !n->test_list &&
        (n->def->flags & SV_F_ELSE) && strcmp(n->tests[0]->name, "if") == 0) {
        sv_verror(v, n->line, "'else if' is not Sieve: write 'elsif'");
        return -1;
    }
    if (want == 0 && n->ntests > 0) {
        sv_verror(v, n->line, "'%s' takes no test%s%s%s", n->name,
                  n->test_list ? "" : " (missing ';' before '",
                  n->test_list ? "" : n->tests[0]->name,
                  n->test_list ? "" : "'?)");
        return -1;
    }
    if (want == 1 && (n->ntests != 1 || n->test_list)) {
        sv_verror(v, n->line, "'%s' needs exactly one test%s", n->name,
                  n->test_list ? " (not a test list)" : "");
        return -1;
    }
    if (want < 0 && !n->test_list) {
        sv_verror(v, n->line, "'%s' needs a test list in parentheses",
                  n->name);
        return -1;
    }
    for (size_t i = 0; i < n->ntests; i++)
        if (validate_node(v, n->tests[i], depth + 1, 1) < 0)
            rc = -1;
    return rc;
}

/*
 * missing_semicolon - "keep\nif true {...}" parses as keep with the test
 * "if": a command that takes no test but got one (not a test list) whose
 * name is a command lost its ';'.  One error; the command is cut there
 * and the rest (with the block) becomes the next command, so it is
 * checked as what it is.
 */
static int missing_semicolon(struct sv_valctx *v, struct sv_node *n)
{
    struct sv_node *t;
    int ext;
    const struct sv_cmddef *d;

    /* a command with a block of its own ("else if ...") keeps it */
    if (n->def->ntests != 0 || n->ntests != 1 || n->test_list ||
        n->def->block)
        return 0;
    t = n->tests[0];
    if ((d = find_cmd(v, t->name, 1, &ext)) == NULL)
        d = find_cmd(v, t->name, 0, &ext);
    if (d == NULL || d->is_test)
        return 0;
    sv_verror(v, n->line, "'%s' takes no test (missing ';' before '%s'?)",
              n->name, t->name);
    t->has_block = n->has_block;
    t->block = n->block;
    t->next = n->next;
    n->next = t;
    n->has_block = 0;
    n->block = NULL;
    n->ntests = 0;
    return -1;
}

static int validate_node(struct sv_valctx *v, struct sv_node *n, int depth,
                         int is_test)
{
    struct sv_arg **given;
    size_t ng;
    int ext, rc = 0, args_ok = 1;

    if ((n->def = find_cmd(v, n->name, 1, &ext)) == NULL) {
        if (find_cmd(v, n->name, 0, &ext))
            sv_verror(v, n->line, "%s '%s' requires the \"%s\" extension",
                      is_test ? "test" : "command", n->name,
                      sv_ext_get(ext)->name);
        else
            sv_verror(v, n->line, "unknown %s '%s'",
                      is_test ? "test" : "command", n->name);
        /* the commands in its block are checked all the same */
        if (n->has_block)
            sv_validate_block(v, n->block, depth + 1);
        return -1;
    }
    if (n->def->is_test != is_test && !(n->def->flags & SV_F_EITHER)) {
        sv_verror(v, n->line, "'%s' is a %s, not a %s", n->name,
                  n->def->is_test ? "test" : "command",
                  is_test ? "test" : "command");
        if (n->has_block)       /* "header ... { ... }" without "if" */
            sv_validate_block(v, n->block, depth + 1);
        return -1;
    }
    if (n->def->flags & SV_F_TOPLEVEL) {
        if (depth > 0 || v->seen_command) {
            sv_verror(v, n->line, "'%s' must come before any other command "
                      "and outside of blocks", n->name);
            rc = -1;
        }
    } else if (!is_test) {
        v->seen_command = 1;
    }
    if (missing_colon(v, n) < 0)
        rc = -1;
    else if (!is_test && missing_semicolon(v, n) < 0)
        rc = -1;
    /* bad arguments: the tests and the block are still checked */
    if (sort_args(v, n, &given, &ng) < 0 ||
        map_positional(v, n, given, ng) < 0)
        args_ok = 0, rc = -1;
    if (n->def->block && !n->has_block) {
        sv_verror(v, n->line, "'%s' needs a block", n->name);
        rc = -1;
    } else if (!n->def->block && n->has_block) {
        sv_verror(v, n->line, "'%s' takes no block", n->name);
        rc = -1;
    }
    if (args_ok && (n->def->flags & (SV_F_MATCH | SV_F_ADDR)) &&
        check_match(v, n) < 0)
        rc = -1;
    if (args_ok && check_index(v, n) < 0)
        rc = -1;
    if (rc == 0 && n->def->validate && n->def->validate(v, n) < 0)
        rc = -1;
    if (validate_tests(v, n, depth) < 0)
        rc = -1;
    if ((n->def->flags & (SV_F_IF | SV_F_ELSIF)) && n->ntests == 1 &&
        n->tests[0]->skip && strcmp(n->tests[0]->name, "ihave") == 0)
        n->skip = 1;
    if (n->has_block && !n->skip &&
        sv_validate_block(v, n->block, depth + 1) < 0)
        rc = -1;
    return rc;
}

/* may an elsif/else follow prev?  After if/elsif; also after a command
   whose error was reported already (broken, unknown, a test used as a
   command, "else if"): not a new error */
static int chain_ok(const struct sv_node *prev)
{
    if (prev == NULL)
        return 0;
    if (prev->broken || prev->def == NULL || prev->def->is_test ||
        (prev->def->flags & (SV_F_IF | SV_F_ELSIF)))
        return 1;
    return (prev->def->flags & SV_F_ELSE) && prev->ntests == 1 &&
           !prev->test_list && strcmp(prev->tests[0]->name, "if") == 0;
}

int sv_validate_block(struct sv_valctx *v, struct sv_node *list, int depth)
{
    const struct sv_node *prev = NULL;
    int rc = 0;

    if (depth > SIEVE_NEST_MAX) {
        sv_verror(v, list ? list->line : 0, "nesting too deep (max %d)",
                  SIEVE_NEST_MAX);
        return -1;
    }
    for (struct sv_node *n = list; n; n = n->next) {
        if (n->broken) {
            /* the parser reported it; a broken require may have named
               any extension: allow them all, so its commands do not
               each report a missing require */
            if (strcmp(n->name, "require") == 0)
                enable_all(v);
            rc = -1;
        } else if (validate_node(v, n, depth, 0) < 0) {
            rc = -1;
        } else if ((n->def->flags & (SV_F_ELSIF | SV_F_ELSE)) &&
                   !chain_ok(prev)) {
            sv_verror(v, n->line, "'%s' without a preceding 'if'", n->name);
            rc = -1;
        }
        prev = n;
    }
    return rc;
}

int sv_validate(struct sv_valctx *v, struct sv_node *list)
{
    return sv_validate_block(v, list, 0);
}

static struct sieve_script *script_new(const char *name)
{
    struct sieve_script *s = xcalloc(1, sizeof(*s));

    s->name = arena_strdup(&s->arena, name);
    s->mask = ((sv_mask)1 << sv_ext_id(&sv_ext_core)) |
              ((sv_mask)1 << sv_ext_id(&sv_ext_core_actions)) |
              ((sv_mask)1 << sv_ext_id(&sv_ext_core_tests));
    return s;
}

struct err_line {
    const char *p;
    size_t len;
    long line;
    size_t seq;
};

static int err_cmp(const void *a, const void *b)
{
    const struct err_line *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * put_errors - the collected lines "NAME:LINE: error: ..." into out, in
 * line order (reported order within a line), at most SIEVE_ERRORS_MAX,
 * then "NAME: error: too many errors".
 */
static void put_errors(const struct sv_valctx *v, const struct str *all,
                       struct str *out)
{
    size_t nl = (size_t)(v->nerrors < SV_ERRORS_COLLECT ? v->nerrors
                                                         : SV_ERRORS_COLLECT);
    size_t n = 0, skip = strlen(v->s->name) + 1;
    struct err_line *e = xcalloc(nl + 1, sizeof(*e));
    const char *p = all->data, *end = all->data + all->len;

    while (p && p < end && n < nl) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        size_t len = q ? (size_t)(q - p) + 1 : (size_t)(end - p);
        e[n] = (struct err_line){p, len, 0, n};
        if (len > skip)
            e[n].line = strtol(p + skip, NULL, 10);
        n++;
        p += len;
    }
    qsort(e, n, sizeof(*e), err_cmp);
    for (size_t i = 0; i < n && i < SIEVE_ERRORS_MAX; i++)
        str_append(out, e[i].p, e[i].len);
    if (v->nerrors > SIEVE_ERRORS_MAX)
        str_appendf(out, "%s: error: too many errors\n", v->s->name);
    free(e);
}

int sieve_compile(const char *name, const char *text, size_t len,
                  const struct sieve_host *host, struct sieve_script **out,
                  struct str *errors)
{
    struct sieve_script *s = script_new(name);
    struct sv_valctx v;
    struct str all = STR_INIT;

    *out = NULL;
    memset(&v, 0, sizeof(v));
    v.s = s;
    v.host = host;
    v.errors = &all;
    if (len > SIEVE_SCRIPT_MAX) {
        sv_verror(&v, 1, "script too large (%zu bytes, max %d)", len,
                  SIEVE_SCRIPT_MAX);
    } else {
        /* the tree holds what parsed, syntax errors and all: its
           semantic errors are reported in the same pass */
        sv_parse(&v, text, len, &s->root);
        sv_validate(&v, s->root);
    }
    if (v.nerrors) {
        put_errors(&v, &all, errors);
        str_free(&all);
        sieve_script_free(s);
        return -1;
    }
    str_free(&all);
    *out = s;
    return 0;
}

int sieve_compile_file(const char *path, const char *name,
                       const struct sieve_host *host,
                       struct sieve_script **out, struct str *errors)
{
    struct str text = STR_INIT;
    char buf[65536];
    int fd, rc, e;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        e = errno;
        str_appendf(errors, "%s: error: cannot open %s: %s\n", name, path,
                    strerror(e));
        errno = e;
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            str_free(&text);
            str_appendf(errors, "%s: error: reading %s: %s\n", name, path,
                        strerror(e));
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        if (text.len + (size_t)n > SIEVE_SCRIPT_MAX + 1)
            n = (ssize_t)(SIEVE_SCRIPT_MAX + 1 - text.len);
        str_append(&text, buf, (size_t)n);
        if (text.len > SIEVE_SCRIPT_MAX)
            break;
    }
    close(fd);
    rc = sieve_compile(name, text.data ? text.data : "", text.len, host, out,
                       errors);
    str_free(&text);
    if (rc < 0)
        errno = EINVAL;
    else                                /* include: the running script */
        (*out)->path = arena_strdup(&(*out)->arena, path);
    return rc;
}

void sieve_script_free(struct sieve_script *s)
{
    if (s == NULL)
        return;
    arena_free(&s->arena);
    str_free(&s->warnings);
    free(s);
}

const char *sieve_script_name(const struct sieve_script *s)
{
    return s->name;
}

const char *sieve_script_warnings(const struct sieve_script *s)
{
    return str_cstr(&s->warnings);
}
