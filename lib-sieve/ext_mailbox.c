/*
 * ext_mailbox - "mailbox" (RFC 5490 section 3):
 *
 *   mailboxexists <mailbox-names: string-list>   true if every folder exists
 *   fileinto :create <folder>                    create the folder if needed
 *
 * Existence is asked of the host (postern-lda looks for the Maildir++
 * directory; INBOX always exists); without a host callback every folder
 * exists.  postern-lda creates folders on demand anyway, so :create is
 * accepted and recorded in the action; a folder created on delivery is
 * added to the mailbox's subscriptions (lda/mailbox_meta.c).  :create on
 * vacation and notify is an option of :fcc (ext_fcc.c).
 */
#include "sieve-int.h"

static int mailboxexists_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist names;

    sv_eval_list(r, &sv_pos(n, 0)->list, &names);
    if (r->host == NULL || r->host->mailbox_exists == NULL)
        return 1;
    for (size_t i = 0; i < names.n; i++) {
        const char *name = arena_strndup(r->a, names.v[i].s, names.v[i].len);
        if (r->host->mailbox_exists(r->host->ctx, name) != LK_FOUND)
            return 0;
    }
    return 1;
}

static const struct sv_cmddef cmds[] = {
    {"mailboxexists", 1, "L", 0, 0, 0, NULL, mailboxexists_exec},
};

static const struct sv_tagdef tags[] = {
    {"create", SV_G_NONE, 0, 0, " fileinto vacation notify "},
};

const struct sv_ext sv_ext_mailbox = {"mailbox", cmds, 1, tags, 1, 0, 0};
