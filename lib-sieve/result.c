/*
 * result - the action list a run builds, with the rules of RFC 5228
 * section 4 and the extensions:
 *
 *   - keep, fileinto into the same folder, and redirect to the same
 *     address are done once (the later flags win);
 *   - fileinto and redirect (without :copy), reject, ereject and discard
 *     cancel the implicit keep; an explicit keep still keeps;
 *   - reject/ereject conflict with keep, fileinto and redirect, in either
 *     order (run-time error, RFC 5429 2.1.1); a second reject or ereject
 *     is a run-time error too ("duplicate reject action not allowed");
 *   - at most SIEVE_ACTIONS_MAX actions and SIEVE_REDIRECT_MAX redirects:
 *     one more is a run-time error, "too many actions (limit 64)", "too
 *     many redirects (limit 4)" (the message is kept);
 *   - a redirect to the user's own address (sieve_host.user_email), the
 *     envelope recipient or the original recipient, in canonical form, is
 *     not done: it becomes a keep with a note for the caller's log, as
 *     Pigeonhole does (it would only loop back).
 *
 * sieve_result_finish() adds the implicit keep (with the imap4flags
 * internal flags) when nothing cancelled it; a failed run is replaced by
 * one keep, so a broken script never loses a message.
 *
 * Output format of sieve_result_print() (stable, docs/sieve.md): one line
 * per action, "keep", "fileinto FOLDER", "redirect ADDRESS", "reject
 * TEXT", "ereject TEXT", each followed by " [FLAG FLAG]" when flags are
 * set; "discard" alone when nothing is kept or sent.  Control characters
 * in arguments are written \n, \t or \xHH, and backslashes as "\\".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "sieve-int.h"

void sieve_result_init(struct sieve_result *r, const char *default_folder)
{
    memset(r, 0, sizeof(*r));
    r->default_folder = default_folder ? default_folder : "INBOX";
}

void sieve_result_free(struct sieve_result *r)
{
    if (r->new_header)
        str_free(r->new_header);
    r->new_header = NULL;
    if (r->new_message)              /* replace/enclose (ext_replace.c) */
        str_free(r->new_message);
    r->new_message = NULL;
    arena_free(&r->arena);
    str_free(&r->error);
    r->acts = NULL;
    r->n = r->cap = 0;
}

void sieve_result_reset(struct sieve_result *r)
{
    const char *df = r->default_folder;

    sieve_result_free(r);
    sieve_result_init(r, df);
}

const char *sieve_action_name(enum sieve_action_kind k)
{
    switch (k) {
    case SIEVE_ACT_KEEP: return "keep";
    case SIEVE_ACT_FILEINTO: return "fileinto";
    case SIEVE_ACT_REDIRECT: return "redirect";
    case SIEVE_ACT_REJECT: return "reject";
    case SIEVE_ACT_EREJECT: return "ereject";
    case SIEVE_ACT_DISCARD: return "discard";
    case SIEVE_ACT_VACATION: return "vacation";
    case SIEVE_ACT_NOTIFY: return "notify";
    }
    return "?";
}

static int is_store(enum sieve_action_kind k)
{
    return k == SIEVE_ACT_KEEP || k == SIEVE_ACT_FILEINTO;
}

static int is_reject(enum sieve_action_kind k)
{
    return k == SIEVE_ACT_REJECT || k == SIEVE_ACT_EREJECT;
}

static int same_folder(const char *a, const char *b)
{
    if (strcasecmp(a, "INBOX") == 0 || strcasecmp(b, "INBOX") == 0)
        return strcasecmp(a, b) == 0;
    return strcmp(a, b) == 0;
}

static struct sieve_action *append(struct sieve_result *res)
{
    if (res->n == res->cap) {
        struct sieve_action *na;
        res->cap = res->cap ? res->cap * 2 : 8;
        na = arena_alloc(&res->arena, res->cap * sizeof(*na));
        if (res->n)
            memcpy(na, res->acts, res->n * sizeof(*na));
        res->acts = na;
    }
    memset(&res->acts[res->n], 0, sizeof(res->acts[0]));
    return &res->acts[res->n++];
}

static struct sieve_action *add(struct sv_run *r, const struct sv_node *n,
                                enum sieve_action_kind k, const char *arg,
                                size_t arglen)
{
    struct sieve_result *res = r->res;
    struct sieve_action *a;
    size_t redirects = 0;

    for (size_t i = 0; i < res->n; i++) {
        struct sieve_action *o = &res->acts[i];
        if (is_reject(k) && (is_store(o->kind) ||
                             o->kind == SIEVE_ACT_REDIRECT)) {
            sv_rerror(r, n, "%s action conflicts with the earlier %s "
                      "action (%s:%d)", sieve_action_name(k),
                      sieve_action_name(o->kind), o->script, o->line);
            return NULL;
        }
        if (is_reject(o->kind) && (is_store(k) ||
                                   k == SIEVE_ACT_REDIRECT)) {
            sv_rerror(r, n, "%s action conflicts with the earlier %s "
                      "action (%s:%d)", sieve_action_name(k),
                      sieve_action_name(o->kind), o->script, o->line);
            return NULL;
        }
        if (is_reject(k) && o->kind == SIEVE_ACT_VACATION) {
            sv_rerror(r, n, "%s action conflicts with the earlier vacation "
                      "action (%s:%d)", sieve_action_name(k), o->script,
                      o->line);
            return NULL;
        }
        if (is_reject(k) && is_reject(o->kind)) {
            /* RFC 5429 2.1.1: one reject; a second is an error */
            sv_rerror(r, n, "duplicate %s action not allowed (the earlier "
                      "%s action: %s:%d)", sieve_action_name(k),
                      sieve_action_name(o->kind), o->script, o->line);
            return NULL;
        }
        if (is_store(k) && is_store(o->kind) &&
            same_folder(o->arg, arg)) {
            if (k == SIEVE_ACT_FILEINTO && o->kind == SIEVE_ACT_FILEINTO)
                o->copy = o->copy && n && sv_tag(n, "copy");
            return o;
        }
        if (k == SIEVE_ACT_REDIRECT && o->kind == SIEVE_ACT_REDIRECT &&
            strlen(o->arg) == arglen &&
            strncasecmp(o->arg, arg, arglen) == 0)
            return o;
        redirects += o->kind == SIEVE_ACT_REDIRECT;
    }
    if (res->n >= SIEVE_ACTIONS_MAX) {
        sv_rerror(r, n, "too many actions (limit %d)", SIEVE_ACTIONS_MAX);
        return NULL;
    }
    if (k == SIEVE_ACT_REDIRECT && redirects >= SIEVE_REDIRECT_MAX) {
        sv_rerror(r, n, "too many redirects (limit %d)", SIEVE_REDIRECT_MAX);
        return NULL;
    }
    a = append(res);
    a->kind = k;
    a->arg = arena_strndup(&res->arena, arg ? arg : "", arg ? arglen : 0);
    a->script = r->fr && r->fr->s ? r->fr->s->name : "script";
    a->line = n ? n->line : 0;
    return a;
}

/* is `to` the user's own address, the envelope recipient or the original
   recipient?  Compared in canonical form (lib/addr.h: case, +detail with
   the host's delimiters); an address that does not parse is not */
static int to_self(const struct sv_run *r, const char *to, size_t len)
{
    const char *delims = r->host && r->host->delimiters ? r->host->delimiters
                                                        : "+";
    const char *own[3] = {r->host ? r->host->user_email : NULL,
                          r->msg ? r->msg->env_to : NULL,
                          r->msg ? r->msg->env_orig_to : NULL};
    struct addr t, o;
    const char *err;

    if (addr_canonical(to, len, delims, ADDR_NEED_DOMAIN, NULL, NULL, &t,
                       &err) < 0)
        return 0;
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (own[i] && own[i][0] &&
            addr_canonical(own[i], strlen(own[i]), delims, ADDR_NEED_DOMAIN,
                           NULL, NULL, &o, &err) == 0 &&
            strcmp(t.full, o.full) == 0)
            return 1;
    return 0;
}

struct sieve_action *sv_result_add(struct sv_run *r, const struct sv_node *n,
                                   enum sieve_action_kind k,
                                   const char *arg, size_t arglen)
{
    struct sieve_action *a;
    char note[400];

    if (k != SIEVE_ACT_REDIRECT || !to_self(r, arg, arglen))
        return add(r, n, k, arg, arglen);
    /* a redirect to oneself would loop: the message is kept instead */
    a = add(r, n, SIEVE_ACT_KEEP, r->res->default_folder,
            strlen(r->res->default_folder));
    if (a == NULL)
        return NULL;
    snprintf(note, sizeof(note), "redirect to <%.*s> (%s:%d) is to the "
             "user's own address: kept instead", (int)(arglen > 320 ? 320
                                                       : arglen),
             arg, a->script, n ? n->line : 0);
    if (a->note == NULL)
        a->note = arena_strdup(&r->res->arena, note);
    if (a->flags == NULL && n)
        a->flags = sv_flags_for(r, n);
    return a;
}

int sv_result_cancel_keep(struct sv_run *r)
{
    r->res->keep_cancelled = 1;
    return 0;
}

void sieve_result_finish(struct sieve_result *res)
{
    struct sieve_action *a;

    if (res->finished)
        return;
    res->finished = 1;
    if (res->failed) {
        res->n = 0;
        a = append(res);
        a->kind = SIEVE_ACT_KEEP;
        a->arg = res->default_folder;
        a->implicit = 1;
        a->script = "";
        return;
    }
    if (res->keep_cancelled)
        return;
    for (size_t i = 0; i < res->n; i++)
        if (is_store(res->acts[i].kind) &&
            same_folder(res->acts[i].arg, res->default_folder))
            return;
    a = append(res);
    a->kind = SIEVE_ACT_KEEP;
    a->arg = res->default_folder;
    a->implicit = 1;
    a->flags = res->flags ? sv_flags_split(&res->arena, res->flags) : NULL;
    a->script = "";
}

static void print_text(struct str *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n')
            str_append_cstr(out, "\\n");
        else if (c == '\t')
            str_append_cstr(out, "\\t");
        else if (c == '\\')
            str_append_cstr(out, "\\\\");
        else if (c < 0x20 || c == 0x7f)
            str_appendf(out, "\\x%02x", c);
        else
            str_append_char(out, (char)c);
    }
}

static void print_quoted(struct str *out, const char *key, const char *s)
{
    str_appendf(out, " %s=\"", key);
    for (; *s; s++) {
        if (*s == '"')
            str_append_cstr(out, "\\\"");
        else {
            char c[2] = {*s, 0};
            print_text(out, c);
        }
    }
    str_append_char(out, '"');
}

/* vacation to=ADDR period=N [from="F"] [mime] [handle="H"] subject="S"
   reason="R", or "vacation suppressed: RULE" */
static void print_vacation(const struct sieve_vacation *v, const char *to,
                           struct str *out)
{
    str_append_cstr(out, "vacation");
    if (v->suppressed) {
        str_appendf(out, " suppressed: %s\n", v->suppressed);
        return;
    }
    str_append_cstr(out, " to=");
    print_text(out, to ? to : "");
    str_appendf(out, " period=%lld", v->effective >= 0 ? v->effective
                                                        : v->period);
    if (v->from)
        print_quoted(out, "from", v->from);
    if (v->mime)
        str_append_cstr(out, " mime");
    print_quoted(out, "subject", v->subject ? v->subject : "");
    print_quoted(out, "reason", v->reason);
    if (v->fcc)     /* fcc (RFC 8580): ext_fcc.c */
        sv_store_print(NULL, v->fcc, out);
    str_append_char(out, '\n');
}

static void print_notify(const struct sieve_notify *n, struct str *out)
{
    str_append_cstr(out, "notify ");
    print_text(out, n->method);
    str_appendf(out, " importance=%s", n->importance);
    if (n->message)
        print_quoted(out, "message", n->message);
    if (n->fcc)     /* fcc (RFC 8580): ext_fcc.c */
        sv_store_print(NULL, n->fcc, out);
    str_append_char(out, '\n');
}

void sieve_result_print_to(const struct sieve_result *res, const char *to,
                           struct str *out)
{
    size_t shown = 0;

    for (size_t i = 0; i < res->n; i++) {
        const struct sieve_action *a = &res->acts[i];
        if (a->kind == SIEVE_ACT_VACATION) {
            print_vacation(a->vac, to, out);
            continue;
        }
        if (a->kind == SIEVE_ACT_NOTIFY) {
            print_notify(a->notify, out);
            continue;
        }
        str_append_cstr(out, sieve_action_name(a->kind));
        if (a->kind != SIEVE_ACT_KEEP && a->kind != SIEVE_ACT_DISCARD) {
            str_append_char(out, ' ');
            print_text(out, a->arg);
        }
        if (a->flags && a->flags[0]) {
            str_append_cstr(out, " [");
            for (size_t f = 0; a->flags[f]; f++) {
                if (f)
                    str_append_char(out, ' ');
                str_append_cstr(out, a->flags[f]);
            }
            str_append_char(out, ']');
        }
        sv_store_print(a, NULL, out);   /* :specialuse, :mailboxid */
        str_append_char(out, '\n');
        shown++;
    }
    if (shown == 0)
        str_append_cstr(out, "discard\n");
}

void sieve_result_print(const struct sieve_result *res, struct str *out)
{
    sieve_result_print_to(res, NULL, out);
}
