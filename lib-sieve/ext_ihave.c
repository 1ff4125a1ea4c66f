/*
 * ext_ihave - "ihave" (RFC 5463):
 *
 *   ihave <capabilities: string-list>   true if every capability is here
 *   error <message: string>             a run-time error with that text
 *
 * A capability named in a literal ihave is enabled when it is known, so
 * the block of "if ihave "fileinto" { fileinto ...; }" compiles; when it
 * is not known the test is false and the block of its if/elsif is not
 * compiled at all (it may use commands postern does not have).
 * "encoded-character" and "variables" change how strings already parsed
 * are read: ihave is always false for them (as in Pigeonhole); a script
 * uses them with require.
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int ihave_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);

    for (size_t i = 0; i < a->list.n; i++) {
        const struct sv_str *s = &a->list.v[i];
        if (!sv_literal(s) || strcasecmp(s->s, "encoded-character") == 0 ||
            strcasecmp(s->s, "variables") == 0 || sv_enable(v, s->s, 0) < 0)
            n->skip = 1;
    }
    return 0;
}

static int ihave_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    return !n->skip;
}

static int error_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str s = sv_eval(r, &sv_pos(n, 0)->list.v[0]);

    return sv_rerror(r, n, "%.*s", (int)(s.len > 500 ? 500 : s.len), s.s);
}

static const struct sv_cmddef cmds[] = {
    {"ihave", 1, "L", 0, 0, 0, ihave_validate, ihave_exec},
    {"error", 0, "S", 0, 0, 0, NULL, error_exec},
};

const struct sv_ext sv_ext_ihave = {"ihave", cmds, 2, NULL, 0, 0, 0};
