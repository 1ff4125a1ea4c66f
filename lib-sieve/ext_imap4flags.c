/*
 * ext_imap4flags - IMAP flags (RFC 5232):
 *
 *   setflag    [<variablename: string>] <list-of-flags: string-list>
 *   addflag    [<variablename: string>] <list-of-flags: string-list>
 *   removeflag [<variablename: string>] <list-of-flags: string-list>
 *   hasflag [MATCH-TYPE] [COMPARATOR] [<variable-list: string-list>]
 *           <list-of-flags: string-list>
 *   keep / fileinto  :flags <list-of-flags>
 *
 * A flag list is a set of space-separated names; duplicates (compared
 * without case) are dropped.  Without a variable name the commands work
 * on the internal variable, whose value keep and fileinto (without
 * :flags) and the implicit keep use.  The variable-name forms need
 * "variables".  :flags on vacation and notify is an option of :fcc
 * (ext_fcc.c).  postern-lda maps \Seen \Answered \Flagged \Deleted
 * \Draft to Maildir info letters (S R F T D) and keywords ($Junk, NonJunk,
 * ...) to the letters a..z of the folder's dovecot-keywords file, as
 * Dovecot does (lda/mailbox_meta.c).
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

const char **sv_flags_split(struct arena *a, const char *s)
{
    size_t n = 0, k = 0;
    const char **v;

    for (const char *p = s; *p; p++)
        n += (*p != ' ' && (p == s || p[-1] == ' '));
    v = arena_alloc(a, (n + 1) * sizeof(*v));
    for (const char *p = s; *p;) {
        const char *e;
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        for (e = p; *e && *e != ' '; e++)
            ;
        v[k++] = arena_strndup(a, p, (size_t)(e - p));
        p = e;
    }
    v[k] = NULL;
    return v;
}

/* add the flags of text s[0..len) to out unless present; remove if rm */
static void merge(struct str *out, const char *s, size_t len, int rm)
{
    const char *p = s, *end = s + len;

    while (p < end) {
        const char *e, *q;
        int found = 0;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
            p++;
        for (e = p; e < end && *e != ' ' && *e != '\t' && *e != '\n'; e++)
            ;
        if (e == p)
            break;
        for (q = out->data ? out->data : ""; *q;) {
            const char *qe = strchr(q, ' ');
            size_t ql = qe ? (size_t)(qe - q) : strlen(q);
            if (ql == (size_t)(e - p) && strncasecmp(q, p, ql) == 0) {
                found = 1;
                if (rm) {
                    size_t off = (size_t)(q - out->data);
                    size_t cut = ql + (qe ? 1 : 0);
                    memmove(out->data + off, out->data + off + cut,
                            out->len - off - cut + 1);
                    out->len -= cut;
                    while (out->len && out->data[out->len - 1] == ' ')
                        out->data[--out->len] = '\0';
                }
                break;
            }
            q = qe ? qe + 1 : q + ql;
        }
        if (!found && !rm) {
            if (out->len)
                str_append_char(out, ' ');
            str_append(out, p, (size_t)(e - p));
        }
        p = e;
    }
}

static struct sv_str current(struct sv_run *r, const struct sv_str *var)
{
    struct sv_str v = {"", 0, 0};

    if (var) {
        sv_var_get(r, var->s, var->len, &v);
        return v;
    }
    if (r->res->flags)
        v = (struct sv_str){r->res->flags, strlen(r->res->flags), 0};
    return v;
}

static int flag_cmd(struct sv_run *r, struct sv_node *n, int op)
{
    struct sv_arg *va = sv_pos(n, 0);
    struct sv_str var = {NULL, 0, 0};
    struct sv_strlist fl;
    struct str out = STR_INIT;
    struct sv_str cur;

    if (va)
        var = sv_eval(r, &va->list.v[0]);
    sv_eval_list(r, &sv_pos(n, 1)->list, &fl);
    if (op != 0) {
        cur = current(r, va ? &var : NULL);
        merge(&out, cur.s, cur.len, 0);
    }
    for (size_t i = 0; i < fl.n; i++)
        merge(&out, fl.v[i].s, fl.v[i].len, op < 0);
    if (va) {
        int rc = sv_var_set(r, n, var.s, var.len, out.data ? out.data : "",
                            out.len);
        str_free(&out);
        return rc;
    }
    r->res->flags = arena_strndup(&r->res->arena, out.data ? out.data : "",
                                  out.len);
    str_free(&out);
    return 0;
}

static int setflag_exec(struct sv_run *r, struct sv_node *n)
{
    return flag_cmd(r, n, 0);
}

static int addflag_exec(struct sv_run *r, struct sv_node *n)
{
    return flag_cmd(r, n, 1);
}

static int removeflag_exec(struct sv_run *r, struct sv_node *n)
{
    return flag_cmd(r, n, -1);
}

static int var_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);

    if (a == NULL)
        return 0;
    if (!sv_has(v->s, &sv_ext_variables)) {
        sv_verror(v, a->line, "'%s' with a variable name requires the "
                  "\"variables\" extension", n->name);
        return -1;
    }
    for (size_t i = 0; i < a->list.n; i++)
        if (sv_literal(&a->list.v[i]) &&
            !sv_var_name_valid(a->list.v[i].s, a->list.v[i].len, 1)) {
            sv_verror(v, a->line, "invalid variable name \"%.60s\"",
                      a->list.v[i].s);
            return -1;
        }
    return 0;
}

static void split_into(struct sv_run *r, const struct sv_str *s,
                       struct sv_str **v, size_t *n, size_t *cap)
{
    const char *p = s->s, *end = s->s + s->len;

    while (p < end) {
        const char *e;
        while (p < end && *p == ' ')
            p++;
        for (e = p; e < end && *e != ' '; e++)
            ;
        if (e == p)
            break;
        /* a flag given twice counts once (flags are a set, compared
           case-insensitively as IMAP does; hasflag :count sees each once) */
        size_t k = 0;
        while (k < *n && !((*v)[k].len == (size_t)(e - p) &&
                           strncasecmp((*v)[k].s, p, (size_t)(e - p)) == 0))
            k++;
        if (k < *n) {
            p = e;
            continue;
        }
        if (*n == *cap) {
            struct sv_str *nv;
            *cap = *cap ? *cap * 2 : 8;
            nv = arena_alloc(r->a, *cap * sizeof(*nv));
            if (*n)
                memcpy(nv, *v, *n * sizeof(*nv));
            *v = nv;
        }
        (*v)[(*n)++] = (struct sv_str){p, (size_t)(e - p), 0};
        p = e;
    }
}

static int hasflag_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_arg *va = sv_pos(n, 0);
    struct sv_strlist keys, vars;
    struct sv_str *vals = NULL, *kv = NULL;
    size_t nv = 0, cap = 0, nk = 0, kcap = 0;

    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    if (va) {
        sv_eval_list(r, &va->list, &vars);
        for (size_t i = 0; i < vars.n; i++) {
            struct sv_str c = current(r, &vars.v[i]);
            split_into(r, &c, &vals, &nv, &cap);
        }
    } else {
        struct sv_str c = current(r, NULL);
        split_into(r, &c, &vals, &nv, &cap);
    }
    if (n->mtype == SV_MT_COUNT || n->mtype == SV_MT_VALUE)
        return sv_match(r, n, vals, nv, &keys);
    for (size_t i = 0; i < keys.n; i++)
        split_into(r, &keys.v[i], &kv, &nk, &kcap);
    keys.v = kv;
    keys.n = nk;
    return sv_match(r, n, vals, nv, &keys);
}

const char **sv_flags_for(struct sv_run *r, const struct sv_node *n)
{
    const struct sv_tagval *t = sv_tag(n, "flags");
    struct str out = STR_INIT;
    const char **v;

    if (t) {
        struct sv_strlist fl;
        sv_eval_list(r, &t->param->list, &fl);
        for (size_t i = 0; i < fl.n; i++)
            merge(&out, fl.v[i].s, fl.v[i].len, 0);
        v = sv_flags_split(&r->res->arena, out.data ? out.data : "");
        str_free(&out);
        return v;
    }
    if (!sv_has(r->fr->s, &sv_ext_imap4flags) || r->res->flags == NULL)
        return NULL;
    return sv_flags_split(&r->res->arena, r->res->flags);
}

static const struct sv_cmddef cmds[] = {
    {"setflag", 0, "sL", 0, 0, 0, var_validate, setflag_exec},
    {"addflag", 0, "sL", 0, 0, 0, var_validate, addflag_exec},
    {"removeflag", 0, "sL", 0, 0, 0, var_validate, removeflag_exec},
    {"hasflag", 1, "lL", 0, 0, SV_F_MATCH, var_validate, hasflag_exec},
};

static const struct sv_tagdef tags[] = {
    {"flags", SV_G_NONE, 0, 'L', " keep fileinto vacation notify "},
};

const struct sv_ext sv_ext_imap4flags = {
    "imap4flags", cmds, sizeof(cmds) / sizeof(cmds[0]), tags, 1, 0, 0};
