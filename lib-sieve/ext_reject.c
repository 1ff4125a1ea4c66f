/*
 * ext_reject - "reject" and "ereject" (RFC 5429), two capabilities:
 *
 *   reject <reason: string>     refuse the message (postern-lda: 77 and
 *   ereject <reason: string>    "5.7.1 reason"; Postfix bounces it)
 *
 * Both cancel the implicit keep and conflict with keep, fileinto and
 * redirect (result.c).  One reject per delivery: a second reject or
 * ereject is a run-time error, "duplicate reject action not allowed"
 * (RFC 5429 2.1.1; result.c), not merged into the first.  postern-lda
 * refuses at delivery time for both, so their effect is the same; the
 * action list keeps them apart.
 */
#include "sieve-int.h"

static int do_reject(struct sv_run *r, struct sv_node *n,
                     enum sieve_action_kind k)
{
    struct sv_str s = sv_eval(r, &sv_pos(n, 0)->list.v[0]);

    if (sv_result_add(r, n, k, s.s, s.len) == NULL)
        return -1;
    return sv_result_cancel_keep(r);
}

static int reject_exec(struct sv_run *r, struct sv_node *n)
{
    return do_reject(r, n, SIEVE_ACT_REJECT);
}

static int ereject_exec(struct sv_run *r, struct sv_node *n)
{
    return do_reject(r, n, SIEVE_ACT_EREJECT);
}

static const struct sv_cmddef reject_cmds[] = {
    {"reject", 0, "S", 0, 0, 0, NULL, reject_exec},
};
static const struct sv_cmddef ereject_cmds[] = {
    {"ereject", 0, "S", 0, 0, 0, NULL, ereject_exec},
};

const struct sv_ext sv_ext_reject = {"reject", reject_cmds, 1, NULL, 0, 0, 0};
const struct sv_ext sv_ext_ereject = {"ereject", ereject_cmds, 1, NULL, 0, 0,
                                      0};
