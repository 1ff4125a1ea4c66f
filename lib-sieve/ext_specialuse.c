/*
 * ext_specialuse - "special-use" (RFC 8579):
 *
 *   specialuse_exists [<mailbox: string>] <special-use-attrs: string-list>
 *   fileinto :specialuse <special-use-attr: string> <mailbox: string>
 *   :fcc ... :specialuse <special-use-attr> (with "fcc", RFC 8580)
 *
 * A special-use flag is "\" followed by an atom (RFC 3501: no space,
 * control character, "(", ")", "{", "%", "*", '"', "\" or "]"), e.g.
 * "\Junk" "\Sent"; the names are compared without case.
 *
 * specialuse_exists without a mailbox is true when, for every flag, some
 * folder carries it; with a mailbox, when that folder exists and carries
 * every flag.  The host answers (sieve_host.specialuse_exists;
 * postern-lda reads [lda] special_use); without it no folder has a
 * special use.  A host that cannot answer (LK_TEMP) makes it a run-time
 * error: the message is kept.
 *
 * fileinto :specialuse only records the flag in the action: the caller
 * stores into the folder that carries it, and into the named folder when
 * none does (RFC 8579 section 4).
 *
 * Errors: a literal flag that is not "\atom", a literal mailbox name
 * that is not a folder name (compile time); a flag built from variables
 * that is not valid makes the test false.
 */
#include <string.h>

#include "sieve-int.h"

int sv_specialuse_valid(const char *s, size_t len)
{
    if (len < 2 || len > 255 || s[0] != '\\')
        return 0;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
            return 0;
    }
    return 1;
}

static int exists_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *box = sv_pos(n, 0), *flags = sv_pos(n, 1);

    if (box && sv_literal(&box->list.v[0]) &&
        !sv_folder_valid(box->list.v[0].s, box->list.v[0].len)) {
        sv_verror(v, box->line, "specialuse_exists: invalid mailbox name "
                  "\"%.100s\"", box->list.v[0].s);
        return -1;
    }
    for (size_t i = 0; i < flags->list.n; i++)
        if (sv_literal(&flags->list.v[i]) &&
            !sv_specialuse_valid(flags->list.v[i].s, flags->list.v[i].len)) {
            sv_verror(v, flags->line, "specialuse_exists: invalid "
                      "special-use flag \"%.100s\"", flags->list.v[i].s);
            return -1;
        }
    return 0;
}

static int exists_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_arg *box = sv_pos(n, 0);
    const char *folder = NULL;
    struct sv_strlist flags;

    sv_eval_list(r, &sv_pos(n, 1)->list, &flags);
    if (box) {
        folder = sv_cstr(r, &box->list.v[0]);
        if (!sv_folder_valid(folder, strlen(folder)))
            return 0;
        if (r->host && r->host->mailbox_exists &&
            r->host->mailbox_exists(r->host->ctx, folder) != LK_FOUND)
            return 0;
    }
    if (r->host == NULL || r->host->specialuse_exists == NULL)
        return 0;
    for (size_t i = 0; i < flags.n; i++) {
        const char *f = arena_strndup(r->a, flags.v[i].s, flags.v[i].len);
        int rc;
        if (!sv_specialuse_valid(f, flags.v[i].len))
            return 0;
        rc = r->host->specialuse_exists(r->host->store_ctx, folder, f);
        if (rc < 0)
            return sv_rerror(r, n, "specialuse_exists: the special-use "
                             "folders cannot be looked up now");
        if (rc != LK_FOUND)
            return 0;
    }
    return 1;
}

static const struct sv_cmddef cmds[] = {
    {"specialuse_exists", 1, "sL", 0, 0, 0, exists_validate, exists_exec},
};

static const struct sv_tagdef tags[] = {
    {"specialuse", SV_G_NONE, 0, 'S', " fileinto vacation notify "},
};

const struct sv_ext sv_ext_specialuse = {"special-use", cmds, 1, tags, 1, 0,
                                         0};
