/*
 * ext_fcc - "fcc" (RFC 8580): a copy of a message the script sends, filed
 * into a folder of the user.
 *
 *   vacation :fcc <mailbox: string> [FCC-OPTS] ... <reason>
 *   notify   :fcc <mailbox: string> [FCC-OPTS] ... <method>
 *   FCC-OPTS = [:create] [:flags <list>] [:specialuse <flag>]
 *              [:mailboxid <id>]
 *
 * :fcc is this extension's tag; the options are the tags of "mailbox",
 * "imap4flags", "special-use" and "mailboxid" (each needs its own
 * require) and mean what they mean on fileinto.  The commands record the
 * options in their action (struct sieve_fcc on sieve_vacation /
 * sieve_notify); the caller files the reply or notification it really
 * sent, and nothing when it sent nothing (a suppressed vacation reply, a
 * refused notification).  Without :flags the copy is stored \Seen.
 *
 * Errors (compile time): an option without :fcc, a literal :fcc folder
 * that is not a folder name, a literal :specialuse flag or :mailboxid
 * that is not valid.  At run time an unusable folder name is an error
 * (the message is kept), an unusable id is ignored (the name is used).
 */
#include <string.h>

#include "sieve-int.h"

static const char *const options[] = {"create", "flags", "specialuse",
                                      "mailboxid"};

static int literal_bad(const struct sv_tagval *t,
                       int (*ok)(const char *, size_t))
{
    const struct sv_str *s;

    if (t == NULL)
        return 0;
    s = &t->param->list.v[0];
    return sv_literal(s) && !ok(s->s, s->len);
}

int sv_fcc_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_tagval *fcc = sv_tag(n, "fcc");

    if (fcc == NULL) {
        for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
            if (sv_tag(n, options[i])) {
                sv_verror(v, n->line, "%s: ':%s' is an option of ':fcc' "
                          "and needs it", n->name, options[i]);
                return -1;
            }
        return 0;
    }
    if (literal_bad(fcc, sv_folder_valid)) {
        sv_verror(v, fcc->param->line, "%s: invalid :fcc folder name "
                  "\"%.100s\"", n->name, fcc->param->list.v[0].s);
        return -1;
    }
    if (literal_bad(sv_tag(n, "specialuse"), sv_specialuse_valid)) {
        sv_verror(v, n->line, "%s: invalid special-use flag \"%.100s\"",
                  n->name, sv_tag(n, "specialuse")->param->list.v[0].s);
        return -1;
    }
    if (literal_bad(sv_tag(n, "mailboxid"), sv_mailboxid_valid)) {
        sv_verror(v, n->line, "%s: invalid mailbox id \"%.100s\"", n->name,
                  sv_tag(n, "mailboxid")->param->list.v[0].s);
        return -1;
    }
    return 0;
}

static const char *tag_cstr(struct sv_run *r, const struct sv_node *n,
                            const char *name)
{
    const struct sv_tagval *t = sv_tag(n, name);

    return t ? sv_cstr(r, &t->param->list.v[0]) : NULL;
}

int sv_fcc_eval(struct sv_run *r, const struct sv_node *n,
                const struct sieve_fcc **out)
{
    struct arena *ra = &r->res->arena;
    const char *folder = tag_cstr(r, n, "fcc"), *s;
    struct sieve_fcc *f;

    *out = NULL;
    if (folder == NULL)
        return 0;
    if (!sv_folder_valid(folder, strlen(folder)))
        return sv_rerror(r, n, "%s: invalid :fcc folder name \"%.100s\"",
                         n->name, folder);
    f = arena_alloc(ra, sizeof(*f));
    memset(f, 0, sizeof(*f));
    f->folder = arena_strdup(ra, folder);
    f->create = sv_tag(n, "create") != NULL;
    if (sv_tag(n, "flags"))
        f->flags = sv_flags_for(r, n);
    if ((s = tag_cstr(r, n, "specialuse")) != NULL) {
        if (!sv_specialuse_valid(s, strlen(s)))
            return sv_rerror(r, n, "%s: invalid special-use flag "
                             "\"%.100s\"", n->name, s);
        f->specialuse = arena_strdup(ra, s);
    }
    if ((s = tag_cstr(r, n, "mailboxid")) != NULL &&
        sv_mailboxid_valid(s, strlen(s)))
        f->mailboxid = arena_strdup(ra, s);
    *out = f;
    return 0;
}

void sv_store_print(const struct sieve_action *a, const struct sieve_fcc *f,
                    struct str *out)
{
    const char *su = f ? f->specialuse : a ? a->specialuse : NULL;
    const char *id = f ? f->mailboxid : a ? a->mailboxid : NULL;

    if (f) {
        str_append_cstr(out, " fcc=\"");
        for (const char *p = f->folder; *p; p++) {
            if (*p == '"' || *p == '\\')
                str_append_char(out, '\\');
            str_append_char(out, *p);
        }
        str_append_char(out, '"');
        for (size_t i = 0; f->flags && f->flags[i]; i++)
            str_appendf(out, "%s%s%s", i ? " " : " [", f->flags[i],
                        f->flags[i + 1] ? "" : "]");
        if (f->create)
            str_append_cstr(out, " create");
    }
    if (su)
        str_appendf(out, " specialuse=%s", su);
    if (id)
        str_appendf(out, " mailboxid=%s", id);
}

static const struct sv_tagdef tags[] = {
    {"fcc", SV_G_NONE, 0, 'S', " vacation notify "},
};

const struct sv_ext sv_ext_fcc = {"fcc", NULL, 0, tags, 1, 0, 0};
