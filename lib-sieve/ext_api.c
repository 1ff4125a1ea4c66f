/*
 * ext_api - the accessors of sieve-ext.h: what an extension outside the
 * engine (postern-sieve-test's testsuite) may know about a syntax-tree
 * node and a run, without the layouts in sieve-int.h.  Each is a plain
 * read or a reset of one field; none fails.
 */
#include "sieve-int.h"

struct sv_arg *sv_pos(const struct sv_node *n, size_t i)
{
    return i < n->npos ? n->pos[i] : NULL;
}

int sv_node_line(const struct sv_node *n)
{
    return n->line;
}

unsigned long long sv_node_index(const struct sv_node *n)
{
    return n->index;
}

int sv_node_match_type(const struct sv_node *n)
{
    return n->mtype;
}

int sv_exec_body(struct sv_run *r, const struct sv_node *n)
{
    return sv_exec_block(r, n->block);
}

struct sieve_result *sv_run_result(struct sv_run *r)
{
    return r->res;
}

struct arena *sv_run_arena(struct sv_run *r)
{
    return r->a;
}

void sv_run_message_changed(struct sv_run *r)
{
    r->hdrs_ready = 0;
    r->whole_ready = 0;
    str_reset(&r->whole);
    sv_body_free(r);
}

void sv_run_includes_reset(struct sv_run *r)
{
    for (size_t i = 0; i < r->ninc; i++)
        r->inc[i].done = 0;
}

void sv_run_return(struct sv_run *r)
{
    r->ret = 1;
}

void sv_run_resume(struct sv_run *r)
{
    r->ret = 0;
    r->stop = 0;
}
