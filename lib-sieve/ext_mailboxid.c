/*
 * ext_mailboxid - "mailboxid" (RFC 9042):
 *
 *   mailboxidexists <mailbox-objectids: string-list>
 *   fileinto :mailboxid <mailboxid: string> <mailbox: string>
 *   :fcc ... :mailboxid <mailboxid> (with "fcc", RFC 8580)
 *
 * A mailbox id is the folder's MAILBOXID as IMAP OBJECTID (RFC 8474)
 * reports it: 1 to 255 of A-Z a-z 0-9 "_" "-".  mailboxidexists is true
 * when every id names an existing folder; the host answers
 * (sieve_host.mailboxid_exists: postern-lda reads the GUID Dovecot keeps
 * for each Maildir folder), without it no id exists.  An id that is not
 * valid exists nowhere.
 *
 * fileinto :mailboxid records the id in the action: the caller stores
 * into the folder with that id, and into the named folder when there is
 * none (RFC 9042 section 4.1).
 *
 * Errors: a literal id that is not an objectid (compile time); a host
 * that cannot answer (LK_TEMP) is a run-time error, the message is kept.
 */
#include <string.h>

#include "sieve-int.h"

int sv_mailboxid_valid(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int exists_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *ids = sv_pos(n, 0);

    for (size_t i = 0; i < ids->list.n; i++)
        if (sv_literal(&ids->list.v[i]) &&
            !sv_mailboxid_valid(ids->list.v[i].s, ids->list.v[i].len)) {
            sv_verror(v, ids->line, "mailboxidexists: invalid mailbox id "
                      "\"%.100s\"", ids->list.v[i].s);
            return -1;
        }
    return 0;
}

static int exists_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist ids;

    sv_eval_list(r, &sv_pos(n, 0)->list, &ids);
    if (r->host == NULL || r->host->mailboxid_exists == NULL)
        return 0;
    for (size_t i = 0; i < ids.n; i++) {
        const char *id = arena_strndup(r->a, ids.v[i].s, ids.v[i].len);
        int rc;
        if (!sv_mailboxid_valid(id, ids.v[i].len))
            return 0;
        rc = r->host->mailboxid_exists(r->host->store_ctx, id);
        if (rc < 0)
            return sv_rerror(r, n, "mailboxidexists: the mailbox ids "
                             "cannot be looked up now");
        if (rc != LK_FOUND)
            return 0;
    }
    return 1;
}

static const struct sv_cmddef cmds[] = {
    {"mailboxidexists", 1, "L", 0, 0, 0, exists_validate, exists_exec},
};

static const struct sv_tagdef tags[] = {
    {"mailboxid", SV_G_NONE, 0, 'S', " fileinto vacation notify "},
};

const struct sv_ext sv_ext_mailboxid = {"mailboxid", cmds, 1, tags, 1, 0, 0};
