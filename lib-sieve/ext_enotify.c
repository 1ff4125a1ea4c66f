/*
 * ext_enotify - "enotify" (RFC 5435) with the "mailto" method (RFC 5436):
 *
 *   notify [:from string] [:importance <"1" / "2" / "3">]
 *          [:options string-list] [:message string] <method: string>
 *   valid_notify_method <notification-uris: string-list>
 *   notify_method_capability [COMPARATOR] [MATCH-TYPE]
 *          <notification-uri: string> <notification-capability: string>
 *          <key-list: string-list>
 *
 * Only mailto: URIs are valid.  The notification (sieve_notify_compose)
 * goes to the URI's addresses and "to" fields; its subject is the URI's
 * "subject", else :message, else "Notification: " + the original subject;
 * its body the URI's "body", else :message, else a summary (From,
 * Subject).  Every other URI field is ignored (RFC 5436 2.2 lets a URI
 * set neither From nor arbitrary fields).  It carries Auto-Submitted:
 * auto-notified (RFC 5436 2.7); the caller does not notify on mail that
 * is itself auto-submitted.  Identical notifications in one run are sent
 * once (RFC 5435 3.10).  "online" capability: "maybe".
 *
 * With "variables", the set modifier :encodeurl (RFC 5435 4.1)
 * percent-encodes a value for a URI (ext_variables.c applies it).
 *
 * Limits: NOTIFY_RCPTS_MAX addresses per URI.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sieve-int.h"

#define NOTIFY_RCPTS_MAX 16

/* percent-decode s[0..n) into out; -1 on a bad escape or a control char */
static int pct_decode(const char *s, size_t n, struct str *out)
{
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= n)
                return -1;
            h = str_hexval((unsigned char)s[i + 1]);
            l = str_hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        str_append_char(out, (char)c);
    }
    return 0;
}

static int rcpt_ok(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);

    if (len == 0 || len > 320 || at == NULL || at == s || at == s + len - 1)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == '<' || s[i] == '>' ||
            s[i] == '"' || s[i] == ',' || s[i] == 0x7f)
            return 0;
    return 1;
}

/* add the comma-separated addresses of a decoded list to `to` */
static int add_rcpts(const char *s, size_t n, struct str *to, int *count)
{
    size_t i = 0;

    while (i < n) {
        const char *c = memchr(s + i, ',', n - i);
        size_t e = c ? (size_t)(c - s) : n, b = i;
        while (b < e && s[b] == ' ')
            b++;
        while (e > b && s[e - 1] == ' ')
            e--;
        if (e > b) {
            if (!rcpt_ok(s + b, e - b) || ++*count > NOTIFY_RCPTS_MAX)
                return -1;
            if (to->len)
                str_append_char(to, ',');
            str_append(to, s + b, e - b);
        }
        i = c ? (size_t)(c - s) + 1 : n;
    }
    return 0;
}

/* parse a mailto: URI; 0 or -1.  subject/body may be NULL. */
static int mailto_parse(const char *uri, struct str *to, struct str *subject,
                        struct str *body)
{
    const char *p, *q;
    struct str tmp = STR_INIT;
    int count = 0, rc = 0;

    if (strncasecmp(uri, "mailto:", 7) != 0)
        return -1;
    p = uri + 7;
    q = strchr(p, '?');
    if (pct_decode(p, q ? (size_t)(q - p) : strlen(p), &tmp) < 0 ||
        add_rcpts(str_cstr(&tmp), tmp.len, to, &count) < 0)
        rc = -1;
    while (rc == 0 && q && *q) {
        const char *f = q + 1, *amp = strchr(f, '&'), *eq;
        size_t flen = amp ? (size_t)(amp - f) : strlen(f);
        q = amp;
        eq = memchr(f, '=', flen);
        if (eq == NULL)
            continue;
        str_reset(&tmp);
        if (pct_decode(eq + 1, flen - (size_t)(eq + 1 - f), &tmp) < 0) {
            rc = -1;
            break;
        }
        if ((size_t)(eq - f) == 2 && strncasecmp(f, "to", 2) == 0)
            rc = add_rcpts(str_cstr(&tmp), tmp.len, to, &count);
        else if ((size_t)(eq - f) == 7 && strncasecmp(f, "subject", 7) == 0 &&
                 subject)
            str_set(subject, tmp.data ? tmp.data : "", tmp.len);
        else if ((size_t)(eq - f) == 4 && strncasecmp(f, "body", 4) == 0 &&
                 body)
            str_set(body, tmp.data ? tmp.data : "", tmp.len);
    }
    str_free(&tmp);
    return rc == 0 && count > 0 ? 0 : -1;
}

static int method_valid(const char *uri)
{
    struct str to = STR_INIT;
    int rc = mailto_parse(uri, &to, NULL, NULL);

    str_free(&to);
    return rc == 0;
}

/* a header value of the original message, RFC 2047 words decoded */
static void append_decoded(struct str *out, const struct str *v)
{
    struct arena a = {0};
    struct sv_str d;

    sv_decode_2047(&a, v->data ? v->data : "", v->len, &d);
    str_append(out, d.s, d.len);
    arena_free(&a);
}

int sieve_notify_compose(const struct sieve_message *m,
                         const struct sieve_notify *n, const char *from,
                         const char *hostname, struct str *out,
                         struct str *to_r)
{
    struct str subject = STR_INIT, body = STR_INIT, orig = STR_INIT;
    int have_subject, have_body;

    str_reset(to_r);
    if (mailto_parse(n->method, to_r, &subject, &body) < 0) {
        str_free(&subject);
        str_free(&body);
        return -1;
    }
    have_subject = subject.len > 0;
    have_body = body.len > 0;
    sieve_put_address(out, "From", n->from ? n->from : from);
    str_append_cstr(out, "To: ");
    sieve_encode_header(out, to_r->data, to_r->len, 4);
    str_append_cstr(out, "\nSubject: ");
    if (!have_subject) {
        if (n->message)
            str_append_cstr(&subject, n->message);
        else {
            str_append_cstr(&subject, "Notification: ");
            if (sieve_header_first(m, "Subject", &orig))
                append_decoded(&subject, &orig);
        }
    }
    sieve_encode_header(out, subject.data ? subject.data : "", subject.len,
                        9);
    str_appendf(out, "\nMessage-ID: <notify.%lld.%d.%llu@%s>\n",
                (long long)time(NULL), (int)getpid(), m->size,
                hostname && *hostname ? hostname : "localhost");
    str_append_cstr(out, "Auto-Submitted: auto-notified\n");
    if (n->importance[0] == '1')
        str_append_cstr(out, "X-Priority: 1 (Highest)\nImportance: High\n");
    else if (n->importance[0] == '3')
        str_append_cstr(out, "X-Priority: 5 (Lowest)\nImportance: Low\n");
    str_append_cstr(out, "MIME-Version: 1.0\n");
    if (!have_body) {
        if (n->message)
            str_appendf(&body, "%s\n", n->message);
        else {
            str_append_cstr(&body, "New mail");
            if (sieve_header_first(m, "From", &orig)) {
                str_append_cstr(&body, " from ");
                append_decoded(&body, &orig);
            }
            if (sieve_header_first(m, "Subject", &orig)) {
                str_append_cstr(&body, "\nSubject: ");
                append_decoded(&body, &orig);
            }
            str_append_char(&body, '\n');
        }
    }
    /* UTF-8 text/plain, quoted-printable when not plain ASCII */
    sv_put_text_body(out, body.data ? body.data : "", body.len);
    str_free(&subject);
    str_free(&body);
    str_free(&orig);
    return 0;
}

static int notify_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_str *m = &sv_pos(n, 0)->list.v[0];
    const struct sv_tagval *t = sv_tag(n, "importance");

    if (sv_literal(m) && !method_valid(m->s)) {
        sv_verror(v, n->line, "notify: invalid or unsupported method "
                  "\"%.100s\" (only mailto: is supported)", m->s);
        return -1;
    }
    if (sv_fcc_validate(v, n) < 0)   /* fcc (RFC 8580), ext_fcc.c */
        return -1;
    if (t && sv_literal(&t->param->list.v[0]) &&
        !(t->param->list.v[0].len == 1 && t->param->list.v[0].s[0] >= '1' &&
          t->param->list.v[0].s[0] <= '3')) {
        sv_verror(v, n->line, "notify: :importance must be \"1\", \"2\" or "
                  "\"3\"");
        return -1;
    }
    return 0;
}

static const char *tag_str(struct sv_run *r, const struct sv_node *n,
                           const char *name)
{
    const struct sv_tagval *t = sv_tag(n, name);

    return t ? sv_cstr(r, &t->param->list.v[0]) : NULL;
}

static int notify_exec(struct sv_run *r, struct sv_node *n)
{
    struct arena *ra = &r->res->arena;
    const char *method = sv_cstr(r, &sv_pos(n, 0)->list.v[0]), *s;
    struct sieve_notify *no;
    struct sieve_action *a;

    if (!method_valid(method))
        return sv_rerror(r, n, "notify: invalid method \"%.100s\"", method);
    for (size_t i = 0; i < r->res->n; i++)
        if (r->res->acts[i].kind == SIEVE_ACT_NOTIFY &&
            strcmp(r->res->acts[i].notify->method, method) == 0)
            return 0;
    no = arena_alloc(ra, sizeof(*no));
    memset(no, 0, sizeof(*no));
    no->method = arena_strdup(ra, method);
    if ((s = tag_str(r, n, "from")) != NULL)
        no->from = arena_strdup(ra, s);
    s = tag_str(r, n, "importance");
    no->importance = arena_strdup(ra, s && s[0] >= '1' && s[0] <= '3' &&
                                          !s[1] ? s : "2");
    if ((s = tag_str(r, n, "message")) != NULL)
        no->message = arena_strdup(ra, s);
    if (sv_fcc_eval(r, n, &no->fcc) < 0)   /* fcc (RFC 8580) */
        return -1;
    if ((a = sv_result_add(r, n, SIEVE_ACT_NOTIFY, "", 0)) == NULL)
        return -1;
    a->notify = no;
    return 0;
}

static int valid_method_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist l;

    sv_eval_list(r, &sv_pos(n, 0)->list, &l);
    for (size_t i = 0; i < l.n; i++)
        if (!method_valid(arena_strndup(r->a, l.v[i].s, l.v[i].len)))
            return 0;
    return 1;
}

static int capability_exec(struct sv_run *r, struct sv_node *n)
{
    const char *uri = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    struct sv_str cap = sv_eval(r, &sv_pos(n, 1)->list.v[0]);
    struct sv_str val = {"maybe", 5, 0};
    struct sv_strlist keys;

    if (!method_valid(uri) || cap.len != 6 ||
        strncasecmp(cap.s, "online", 6) != 0)
        return 0;
    sv_eval_list(r, &sv_pos(n, 2)->list, &keys);
    return sv_match(r, n, &val, 1, &keys);
}

static const struct sv_cmddef cmds[] = {
    {"notify", 0, "S", 0, 0, 0, notify_validate, notify_exec},
    {"valid_notify_method", 1, "L", 0, 0, 0, NULL, valid_method_exec},
    {"notify_method_capability", 1, "SSL", 0, 0, SV_F_MATCH, NULL,
     capability_exec},
};

static const struct sv_tagdef tags[] = {
    {"from", SV_G_NONE, 0, 'S', " notify "},
    {"importance", SV_G_NONE, 0, 'S', " notify "},
    {"options", SV_G_NONE, 0, 'L', " notify "},
    {"message", SV_G_NONE, 0, 'S', " notify "},
    {"encodeurl", SV_G_OTHER, 0, 0, " set "}, /* ext_variables.c applies it */
};

const struct sv_ext sv_ext_enotify = {
    "enotify", cmds, sizeof(cmds) / sizeof(cmds[0]), tags,
    sizeof(tags) / sizeof(tags[0]), 0, 0};
