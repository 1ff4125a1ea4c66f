/*
 * ext_fileinto - "fileinto" (RFC 5228 section 4.1):
 *
 *   fileinto [:copy] [:flags <list>] [:create] [:specialuse <flag>]
 *            [:mailboxid <id>] <folder: string>
 *
 * The folder name is UTF-8 (the delivery maps it to modified UTF-7 on
 * disk); an empty name or invalid UTF-8 is refused, at compile time for
 * a literal and at run time otherwise.  Without :copy it cancels the
 * implicit keep.  :copy (copy), :flags (imap4flags), :create (mailbox),
 * :specialuse (special-use, RFC 8579) and :mailboxid (mailboxid, RFC
 * 9042) belong to their extensions; the last two are recorded in the
 * action (the caller picks the folder that has the flag or the ID, and
 * the named folder when none has).
 */
#include <string.h>

#include "sieve-int.h"

int sv_folder_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                   : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > len || c < 0x20 || c == 0x7f)
            return 0;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)s[i + k] >> 6) != 2)
                return 0;
        i += n;
    }
    return len > 0;
}

static int fileinto_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    const struct sv_str *s = &a->list.v[0];

    const struct sv_tagval *su = sv_tag(n, "specialuse");
    const struct sv_tagval *id = sv_tag(n, "mailboxid");

    if (sv_literal(s) && !sv_folder_valid(s->s, s->len)) {
        sv_verror(v, a->line, "invalid folder name \"%.100s\"", s->s);
        return -1;
    }
    if (su && sv_literal(&su->param->list.v[0]) &&
        !sv_specialuse_valid(su->param->list.v[0].s,
                             su->param->list.v[0].len)) {
        sv_verror(v, su->param->line, "fileinto: invalid special-use flag "
                  "\"%.100s\"", su->param->list.v[0].s);
        return -1;
    }
    if (id && sv_literal(&id->param->list.v[0]) &&
        !sv_mailboxid_valid(id->param->list.v[0].s,
                            id->param->list.v[0].len)) {
        sv_verror(v, id->param->line, "fileinto: invalid mailbox id "
                  "\"%.100s\"", id->param->list.v[0].s);
        return -1;
    }
    return 0;
}

static int fileinto_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str s = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    const struct sv_tagval *t;
    struct sieve_action *a;

    if (!sv_folder_valid(s.s, s.len))
        return sv_rerror(r, n, "invalid folder name \"%.100s\"", s.s);
    if ((a = sv_result_add(r, n, SIEVE_ACT_FILEINTO, s.s, s.len)) == NULL)
        return -1;
    a->flags = sv_flags_for(r, n);
    a->create = a->create || sv_tag(n, "create") != NULL;
    if ((t = sv_tag(n, "specialuse")) != NULL) {
        const char *f = sv_cstr(r, &t->param->list.v[0]);
        if (!sv_specialuse_valid(f, strlen(f)))
            return sv_rerror(r, n, "fileinto: invalid special-use flag "
                             "\"%.100s\"", f);
        a->specialuse = arena_strdup(&r->res->arena, f);
    }
    if ((t = sv_tag(n, "mailboxid")) != NULL) {
        /* an unusable id matches no folder: the name is used (RFC 9042) */
        const char *id = sv_cstr(r, &t->param->list.v[0]);
        if (sv_mailboxid_valid(id, strlen(id)))
            a->mailboxid = arena_strdup(&r->res->arena, id);
    }
    if (sv_tag(n, "copy")) {
        a->copy = 1;
        return 0;
    }
    return sv_result_cancel_keep(r);
}

static const struct sv_cmddef cmds[] = {
    {"fileinto", 0, "S", 0, 0, 0, fileinto_validate, fileinto_exec},
};

const struct sv_ext sv_ext_fileinto = {"fileinto", cmds, 1, NULL, 0, 0, 0};
