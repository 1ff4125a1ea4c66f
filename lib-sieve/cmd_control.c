/*
 * cmd_control - the control commands of RFC 5228 section 3: require,
 * if, elsif, else, stop.
 *
 *   require <capabilities: string-list>   only at the start of a script,
 *                                         each capability must be known
 *   if <test> <block>, elsif <test> <block>, else <block>
 *   stop                                  ends all script processing
 *
 * The if/elsif/else chain itself is run by interp.c (sv_exec_block); the
 * validator checks that elsif/else follow an if.
 *
 * Diagnostics: "unsupported extension "foo"", "require must come before
 * any other command and outside of blocks".
 */
#include "sieve-int.h"

static int require_validate(struct sv_valctx *v, struct sv_node *n)
{
    struct sv_arg *a = sv_pos(n, 0);
    int rc = 0;

    for (size_t i = 0; i < a->list.n; i++)
        if (sv_enable(v, a->list.v[i].s, a->line) < 0)
            rc = -1;
    return rc;
}

static int stop_exec(struct sv_run *r, struct sv_node *n)
{
    (void)n;
    r->stop = 1;
    return 0;
}

static const struct sv_cmddef cmds[] = {
    {"require", 0, "L", 0, 0, SV_F_TOPLEVEL, require_validate, NULL},
    {"if", 0, "", 1, 1, SV_F_IF, NULL, NULL},
    {"elsif", 0, "", 1, 1, SV_F_ELSIF, NULL, NULL},
    {"else", 0, "", 0, 1, SV_F_ELSE, NULL, NULL},
    {"stop", 0, "", 0, 0, 0, NULL, stop_exec},
};

const struct sv_ext sv_ext_core = {"core", cmds, sizeof(cmds) / sizeof(cmds[0]),
                                   NULL, 0, 0, 1};
