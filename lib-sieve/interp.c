/*
 * interp - running a compiled script: sieve_execute(), the block walk
 * (if/elsif/else chains, stop, return), tests, and string evaluation
 * (variables expanded when the script uses "variables").
 *
 * Budgets (sieve.h): every command, test and comparison costs
 * SIEVE_STEP_COST steps and matching what it does (match.c,
 * ext_regex.c); all runs into one result draw on one count
 * (res->steps), so sieve_before, the user's script, sieve_after and every
 * included script share one CPU budget (host->max_steps, default
 * SIEVE_STEPS_MAX).  The bytes a run holds (sv_mem_used) are checked
 * at every step against host->max_memory (default SIEVE_MEMORY_MAX).
 * Either spent is a run-time error: the caller keeps the message.
 *
 * Diagnostics: the first run-time error is kept in res->error as
 * "NAME:LINE: error: ..." and ends the run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-int.h"

int sv_rerror(struct sv_run *r, const struct sv_node *n, const char *fmt, ...)
{
    va_list ap;

    r->res->failed = 1;
    if (r->res->error.len == 0) {
        str_appendf(&r->res->error, "%s:%d: error: ",
                    r->fr && r->fr->s ? r->fr->s->name : "script",
                    n ? n->line : 0);
        va_start(ap, fmt);
        str_vappendf(&r->res->error, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sv_charge(struct sv_run *r, const struct sv_node *n,
              unsigned long long steps)
{
    struct sieve_result *res = r->res;

    if (steps > r->max_steps || res->steps > r->max_steps - steps) {
        res->steps = r->max_steps + 1;
        return sv_rerror(r, n, "script takes too long (CPU budget of %llu "
                         "steps spent)", r->max_steps);
    }
    res->steps += steps;
    return 0;
}

unsigned long long sv_steps_left(const struct sv_run *r)
{
    return r->res->steps >= r->max_steps ? 0
                                         : r->max_steps - r->res->steps;
}

size_t sv_mem_used(const struct sv_run *r)
{
    size_t n = r->arena.used_total + r->res->arena.used_total +
               r->whole.len + r->regex_mem;

    if (r->res->new_header)
        n += r->res->new_header->len;
    if (r->res->new_message)         /* replace/enclose (ext_replace.c) */
        n += r->res->new_message->len;
    for (size_t i = 0; i < r->ninc; i++)
        if (r->inc[i].s)                /* NULL: the top script (ext_include.c) */
            n += r->inc[i].s->arena.used_total;
    return n;
}

int sv_mem_check(struct sv_run *r, const struct sv_node *n)
{
    if (sv_mem_used(r) > r->max_memory)
        return sv_rerror(r, n, "script uses too much memory (more than %zu "
                         "bytes)", r->max_memory);
    return 0;
}

int sv_step(struct sv_run *r, const struct sv_node *n)
{
    if (sv_charge(r, n, SIEVE_STEP_COST) < 0)
        return -1;
    return sv_mem_check(r, n);
}

struct sv_str sv_dup(struct sv_run *r, const char *s, size_t len)
{
    struct sv_str o;

    o.s = arena_strndup(r->a, s ? s : "", len);
    o.len = len;
    o.vars = 0;
    return o;
}

struct sv_str sv_eval(struct sv_run *r, const struct sv_str *s)
{
    if (!s->vars)
        return *s;
    return sv_expand(r, s);
}

void sv_eval_list(struct sv_run *r, const struct sv_strlist *in,
                  struct sv_strlist *out)
{
    out->n = in->n;
    out->v = arena_alloc(r->a, (in->n + 1) * sizeof(*out->v));
    for (size_t i = 0; i < in->n; i++)
        out->v[i] = sv_eval(r, &in->v[i]);
}

const char *sv_cstr(struct sv_run *r, const struct sv_str *s)
{
    struct sv_str e = sv_eval(r, s);

    return arena_strndup(r->a, e.s, e.len);
}

int sv_test(struct sv_run *r, struct sv_node *n)
{
    if (sv_step(r, n) < 0)
        return -1;
    return n->def->exec ? n->def->exec(r, n) : 0;
}

/* run an if / elsif / else chain starting at n */
static int run_chain(struct sv_run *r, struct sv_node *n)
{
    for (struct sv_node *c = n;; c = c->next) {
        int t = (c->def->flags & SV_F_ELSE) ? 1 : sv_test(r, c->tests[0]);
        if (t < 0)
            return -1;
        if (t)
            return c->skip ? 0 : sv_exec_block(r, c->block);
        if (c->next == NULL || !(c->next->def->flags & (SV_F_ELSIF |
                                                        SV_F_ELSE)))
            return 0;
    }
}

int sv_exec_block(struct sv_run *r, struct sv_node *list)
{
    for (struct sv_node *n = list; n; n = n->next) {
        if (r->stop || r->ret)
            return 0;
        if (n->def->flags & (SV_F_ELSIF | SV_F_ELSE))
            continue;
        if (sv_step(r, n) < 0)
            return -1;
        if (n->def->flags & SV_F_IF) {
            if (run_chain(r, n) < 0)
                return -1;
            continue;
        }
        if (n->def->exec && n->def->exec(r, n) < 0)
            return -1;
    }
    return 0;
}

int sv_run_script(struct sv_run *r, struct sieve_script *s)
{
    int rc;

    (void)s;
    r->ret = 0;
    rc = sv_exec_block(r, r->fr->s->root);
    r->ret = 0;
    return rc;
}

int sieve_execute(struct sieve_script *s, const struct sieve_message *msg,
                  const struct sieve_host *host, struct sieve_result *res)
{
    struct sv_run *r = xcalloc(1, sizeof(*r));
    struct sv_frame fr;
    int rc;

    memset(&fr, 0, sizeof(fr));
    fr.s = s;
    r->a = &r->arena;
    r->msg = msg;
    r->host = host;
    r->res = res;
    r->fr = &fr;
    r->max_steps = host && host->max_steps ? host->max_steps
                                           : SIEVE_STEPS_MAX;
    r->max_memory = host && host->max_memory ? host->max_memory
                                             : SIEVE_MEMORY_MAX;
    for (size_t i = 0; i < SIEVE_MATCH_VARS; i++)
        r->mvars[i] = (struct sv_str){"", 0, 0};
    rc = sv_run_script(r, s);
    sv_include_free(r);
    sv_regex_free(r);
    sv_body_free(r);
    str_free(&r->whole);
    arena_free(&r->arena);
    if (rc == 0 && r->stop)
        rc = 1;
    free(r);
    if (rc < 0)
        res->failed = 1;
    return rc;
}
