/*
 * ext_foreverypart - the "foreverypart" extension (RFC 5703 section 3):
 *
 *   foreverypart [":name" <name: string>] <block>
 *   break [":name" <name: string>]
 *
 * foreverypart runs its block once for every MIME part, in document
 * order (depth first): at the top, the message itself and every part
 * below it; inside another loop, the parts below the outer loop's
 * current part.  header/address/exists :mime (ext_mime.c) and
 * extracttext (ext_extracttext.c) look at the current part.  break
 * leaves the innermost loop, or with :name the enclosing loop of that
 * name.  The parts come from message.c's MIME tree (at most
 * SIEVE_MIME_DEPTH deep, SIEVE_MIME_PARTS parts), parsed once per run;
 * every round of a loop costs SIEVE_STEP_COST steps of the CPU budget.
 *
 * Compile time: each foreverypart marks the break, extracttext and
 * foreverypart commands of its block with its own record (node data),
 * so that a command can tell which loop holds it.
 *
 * Diagnostics: "break used outside foreverypart", "break :name "X"
 * matches no enclosing foreverypart", "the :name of foreverypart must be
 * a constant string".
 */
#include <string.h>

#include "sieve-int.h"

/* one foreverypart loop of the script */
struct sv_fep {
    const char *name;            /* :name, NULL if none */
    const struct sv_fep *parent; /* the loop around it */
};

/* mark - the commands of a block that look for their loop */
static void mark(struct sv_node *list, struct sv_fep *f)
{
    for (struct sv_node *n = list; n; n = n->next) {
        if (strcmp(n->name, "break") == 0 ||
            strcmp(n->name, "extracttext") == 0 ||
            strcmp(n->name, "foreverypart") == 0)
            n->data = f;
        if (n->has_block)
            mark(n->block, f);
    }
}

static const char *name_of(struct sv_valctx *v, const struct sv_node *n)
{
    const struct sv_tagval *t = sv_tag(n, "name");
    const struct sv_str *s;

    if (t == NULL)
        return NULL;
    s = &t->param->list.v[0];
    if (!sv_literal(s)) {
        sv_verror(v, t->param->line, "the :name of %s must be a constant "
                  "string", n->name);
        return "";
    }
    return s->s;
}

static int fep_validate(struct sv_valctx *v, struct sv_node *n)
{
    struct sv_fep *f = arena_alloc(&v->s->arena, sizeof(*f));

    f->parent = n->data;   /* set by the loop around it, if any */
    f->name = name_of(v, n);
    n->data = f;
    mark(n->block, f);
    return 0;
}

static int break_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_fep *f = n->data;
    const char *name = name_of(v, n);

    if (f == NULL) {
        sv_verror(v, n->line, "break used outside foreverypart");
        return -1;
    }
    if (name) {
        while (f && !(f->name && strcmp(f->name, name) == 0))
            f = f->parent;
        if (f == NULL) {
            sv_verror(v, n->line, "break :name \"%.60s\" matches no "
                      "enclosing foreverypart", name);
            return -1;
        }
        n->data = (void *)(uintptr_t)f;
    }
    return 0;
}

static int fep_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_mime *m = sv_mime_tree(r, n);
    size_t saved, first, end;
    int rc = 0;

    if (m == NULL)
        return -1;
    saved = m->cur;
    first = m->loops ? m->cur + 1 : 0;
    end = m->loops ? m->p[m->cur].end : m->n;
    m->loops++;
    for (size_t i = first; i < end && i < m->n; i++) {
        if (sv_step(r, n) < 0) {
            rc = -1;
            break;
        }
        m->cur = i;
        if (sv_exec_body(r, n) < 0) {
            rc = -1;
            break;
        }
        if (m->brk) {
            if (m->brk == n->data) {   /* this loop is left */
                m->brk = NULL;
                r->ret = 0;
            }
            break;
        }
        if (r->stop || r->ret)
            break;
    }
    m->loops--;
    m->cur = saved < m->n ? saved : 0;
    return rc;
}

static int break_exec(struct sv_run *r, struct sv_node *n)
{
    if (r->mime == NULL)
        return 0;
    r->mime->brk = n->data;
    r->ret = 1;          /* unwinds the blocks up to the loop */
    return 0;
}

static const struct sv_cmddef cmds[] = {
    {"foreverypart", 0, "", 0, 1, 0, fep_validate, fep_exec},
    {"break", 0, "", 0, 0, 0, break_validate, break_exec},
};

static const struct sv_tagdef tags[] = {
    {"name", SV_G_NONE, 0, 'S', " foreverypart break "},
};

const struct sv_ext sv_ext_foreverypart = {"foreverypart", cmds, 2, tags, 1,
                                           0, 0};
