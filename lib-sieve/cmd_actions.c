/*
 * cmd_actions - the core actions of RFC 5228 section 4: keep, discard,
 * redirect.
 *
 *   keep [:flags <list>]                  file into the default folder
 *   discard                               cancel the implicit keep
 *   redirect [:copy] <address: string>    send the message on
 *
 * :flags comes from imap4flags, :copy from copy (their modules register
 * the tags).  A redirect address must be a plain local@domain address
 * (checked at compile time when it is a literal, else at run time);
 * a quoted local part that needs no quotes loses them (RFC 5321 4.1.2:
 * "Sirius"@example.net is sent to Sirius@example.net).  A
 * redirect to the user's own address or the envelope recipient is kept
 * instead (sv_result_add, result.c).
 */
#include <string.h>

#include "sieve-int.h"

static int keep_exec(struct sv_run *r, struct sv_node *n)
{
    struct sieve_action *a;

    a = sv_result_add(r, n, SIEVE_ACT_KEEP, r->res->default_folder,
                      strlen(r->res->default_folder));
    if (a == NULL)
        return -1;
    a->flags = sv_flags_for(r, n);
    return 0;
}

static int discard_exec(struct sv_run *r, struct sv_node *n)
{
    (void)n;
    r->res->discarded = 1;
    return sv_result_cancel_keep(r);
}

static int address_ok(const char *s, size_t len)
{
    const char *at = NULL;

    if (len == 0 || len > 320)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' ||
            c == '(' || c == ')')
            return 0;
        if (c == '@')
            at = s + i;
    }
    return at && at > s && at < s + len - 1;
}

/* the address itself: "Name <a@b>" -> "a@b" (as Pigeonhole accepts) */
static struct sv_str bare(struct sv_str s)
{
    const char *lt = memchr(s.s, '<', s.len), *gt;

    if (lt && (gt = memchr(lt, '>', s.len - (size_t)(lt - s.s))) != NULL)
        return (struct sv_str){lt + 1, (size_t)(gt - lt - 1), 0};
    while (s.len && (s.s[0] == ' ' || s.s[0] == '\t'))
        s.s++, s.len--;
    while (s.len && (s.s[s.len - 1] == ' ' || s.s[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* RFC 5321 4.1.2: the minimum quoting: a quoted local part that is a
   dot-atom loses its quotes ("Sirius"@b -> Sirius@b); one that needs
   them ("S[r]us"@b) keeps them */
static struct sv_str unquote_local(struct sv_run *r, struct sv_str s)
{
    const char *q;
    size_t n;
    char *out;

    if (s.len < 4 || s.s[0] != '"' ||
        (q = memchr(s.s + 1, '"', s.len - 1)) == NULL ||
        (size_t)(q - s.s) + 1 >= s.len || q[1] != '@')
        return s;
    n = (size_t)(q - s.s) - 1;
    if (n == 0 || s.s[1] == '.' || s.s[n] == '.')
        return s;
    for (size_t i = 1; i <= n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c >= 0x80 ||
              strchr("!#$%&'*+-/=?^_`{|}~.", c)) ||
            (c == '.' && s.s[i + 1] == '.'))
            return s;
    }
    out = arena_alloc(&r->res->arena, s.len - 1);
    memcpy(out, s.s + 1, n);
    memcpy(out + n, q + 1, s.len - n - 2);
    out[s.len - 2] = '\0';
    return (struct sv_str){out, s.len - 2, 0};
}

static int redirect_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    const struct sv_str *s = &a->list.v[0];
    struct sv_str b = bare(*s);

    if (sv_tag(n, "list"))              /* extlists: a list name */
        return sv_list_redirect_validate(v, n);
    if (sv_literal(s) && !address_ok(b.s, b.len)) {
        sv_verror(v, a->line, "invalid redirect address \"%.100s\"", s->s);
        return -1;
    }
    return 0;
}

static int redirect_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str s = bare(sv_eval(r, &sv_pos(n, 0)->list.v[0]));
    struct sieve_action *a;

    if (sv_tag(n, "list"))              /* extlists: every member */
        return sv_list_redirect(r, n);
    if (!address_ok(s.s, s.len))
        return sv_rerror(r, n, "invalid redirect address \"%.100s\"", s.s);
    s = unquote_local(r, s);
    if ((a = sv_result_add(r, n, SIEVE_ACT_REDIRECT, s.s, s.len)) == NULL)
        return -1;
    if (sv_tag(n, "copy")) {
        a->copy = a->kind == SIEVE_ACT_REDIRECT; /* not a keep (to self) */
        return 0;
    }
    return sv_result_cancel_keep(r);
}

static const struct sv_cmddef cmds[] = {
    {"keep", 0, "", 0, 0, 0, NULL, keep_exec},
    {"discard", 0, "", 0, 0, 0, NULL, discard_exec},
    {"redirect", 0, "S", 0, 0, 0, redirect_validate, redirect_exec},
};

const struct sv_ext sv_ext_core_actions = {
    "core-actions", cmds, sizeof(cmds) / sizeof(cmds[0]), NULL, 0, 0, 1};
