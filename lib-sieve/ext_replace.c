/*
 * ext_replace - the "replace" and "enclose" extensions (RFC 5703
 * sections 5 and 6): actions that change the message that is stored.
 *
 *   replace [":mime"] [":subject" string] [":from" string] <replacement>
 *   enclose [":subject" string] [":headers" string-list] <text>
 *
 * replace outside foreverypart replaces the body of the message: the
 * header keeps every field but Content-* and MIME-Version (and Subject
 * and From when :subject / :from are given), and the body becomes the
 * replacement as text/plain in UTF-8, or with :mime the replacement is a
 * MIME entity (its own Content-* fields, a blank line, its body).  Inside
 * foreverypart it replaces the current part the same way (:subject and
 * :from apply to the message only).  A later replace of a part inside an
 * already replaced one has no effect; a replace of a part that holds
 * replaced parts supersedes them.
 *
 * enclose wraps the message (with its replacements) as a message/rfc822
 * part of a new multipart/mixed message whose first part is <text>; the
 * new header is the :headers fields, Subject (:subject, else the
 * original one), and From, To, Cc, Date and Message-ID copied from the
 * original unless :headers has them.  It is applied last, whatever
 * comes after it (RFC 5703 6); a second enclose replaces the first.
 *
 * The result carries the new message (sieve_result.new_message), built
 * again after each change from the message this run loaded; it takes
 * the place of editheader's header, so an editheader after replace or
 * enclose in the same delivery is not applied.  Tests go on seeing the
 * message as it was loaded (later scripts of the same delivery see the
 * new one).  Limits: the new message is at most SIEVE_BODY_MAX bytes
 * (more: a run-time error, the message is kept as it came); building it
 * costs one step per 64 bytes.
 *
 * Diagnostics: "the new message would be larger than N bytes", "enclose:
 * :headers entry "..." is not a header field".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

#define EDITS_MAX 64

struct edit {
    size_t start, end;           /* bytes of the loaded message replaced */
    char *text;                  /* the new entity (header + body) */
    size_t len;
};

struct editstate {
    struct edit e[EDITS_MAX];
    size_t n;
    int enclosed;
    const char *enc_subject;     /* NULL: the original Subject */
    struct sv_strlist enc_headers;
    struct sv_str enc_text;
};

static struct editstate *state(struct sv_run *r, struct sv_mime *m)
{
    if (m->edit == NULL) {
        m->edit = arena_alloc(r->a, sizeof(struct editstate));
        memset(m->edit, 0, sizeof(struct editstate));
    }
    return m->edit;
}

/* 1 if the field line at h (name up to ':') is one of names (NULL-ended);
   "content-" matches every Content-* field */
static int field_is(const char *h, size_t len, const char *const *names)
{
    const char *colon = memchr(h, ':', len);
    size_t nl;

    if (colon == NULL)
        return 0;
    nl = (size_t)(colon - h);
    while (nl > 0 && (h[nl - 1] == ' ' || h[nl - 1] == '\t'))
        nl--;
    for (size_t i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);
        if (names[i][k - 1] == '-' ? nl >= k && strncasecmp(h, names[i], k) == 0
                                   : nl == k && strncasecmp(h, names[i], k) == 0)
            return 1;
    }
    return 0;
}

/* copy_fields - the fields of h[0..hl) that are (keep) or are not (!keep)
   among names, folded lines included */
static void copy_fields(struct str *out, const char *h, size_t hl,
                        const char *const *names, int keep)
{
    const char *p = h, *end = h + hl;
    int on = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl + 1 : end;
        if (*p != ' ' && *p != '\t')
            on = field_is(p, (size_t)(le - p), names) == keep;
        if (on && le - p > 1)
            str_append(out, p, (size_t)(le - p));
        p = le;
    }
    if (out->len && out->data[out->len - 1] != '\n')
        str_append_char(out, '\n');
}

static void put_entity(struct str *out, const char *text, size_t len,
                       int mime)
{
    if (!mime)
        str_append_cstr(out, "Content-Type: text/plain; charset=utf-8\n"
                             "Content-Transfer-Encoding: 8bit\n\n");
    else if (len == 0 || text[0] == '\n')
        ;                        /* no fields of its own */
    else if (memmem(text, len, "\n\n", 2) == NULL)
        str_append_char(out, '\n');   /* fields only */
    str_append(out, text, len);
    if (len && text[len - 1] != '\n')
        str_append_char(out, '\n');
}

static const char *boundary(const struct str *a, const struct sv_str *b,
                            char *buf, size_t size)
{
    for (unsigned i = 0;; i++) {
        snprintf(buf, size, "postern-enclose-%u-%zx", i, a->len);
        if (memmem(a->data ? a->data : "", a->len, buf, strlen(buf)) ==
                NULL &&
            memmem(b->s, b->len, buf, strlen(buf)) == NULL)
            return buf;
    }
}

/* rebuild - res->new_message from the loaded message, the edits and the
   enclose; 0 or -1 (too large) */
static int rebuild(struct sv_run *r, const struct sv_node *n,
                   struct editstate *es)
{
    struct sieve_result *res = r->res;
    const char *w = r->whole.data ? r->whole.data : "";
    struct str msg = STR_INIT;
    size_t pos = 0;

    for (size_t i = 0; i < es->n; i++) {
        str_append(&msg, w + pos, es->e[i].start - pos);
        str_append(&msg, es->e[i].text, es->e[i].len);
        pos = es->e[i].end;
    }
    str_append(&msg, w + pos, r->whole.len - pos);
    if (es->enclosed) {
        static const char *const copied[] = {"from", "to", "cc", "date",
                                             "message-id", NULL};
        struct str out = STR_INIT;
        const struct sv_mpart *root = &r->mime->p[0];
        char bnd[64];
        const char *b = boundary(&msg, &es->enc_text, bnd, sizeof(bnd));
        for (size_t i = 0; i < es->enc_headers.n; i++) {
            str_append(&out, es->enc_headers.v[i].s, es->enc_headers.v[i].len);
            str_append_char(&out, '\n');
        }
        for (size_t i = 0; copied[i]; i++) {
            const char *one[] = {copied[i], NULL};
            int given = 0;
            for (size_t k = 0; k < es->enc_headers.n; k++)
                given |= field_is(es->enc_headers.v[k].s,
                                  es->enc_headers.v[k].len, one);
            if (!given)
                copy_fields(&out, root->hdr, root->hlen, one, 1);
        }
        if (es->enc_subject) {
            str_append_cstr(&out, "Subject: ");
            sieve_encode_header(&out, es->enc_subject,
                                strlen(es->enc_subject), 9);
            str_append_char(&out, '\n');
        } else {
            static const char *const subj[] = {"subject", NULL};
            copy_fields(&out, root->hdr, root->hlen, subj, 1);
        }
        str_appendf(&out, "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
                    "boundary=\"%s\"\n\nThis is a MIME message.\n--%s\n", b, b);
        put_entity(&out, es->enc_text.s, es->enc_text.len, 0);
        str_appendf(&out, "--%s\nContent-Type: message/rfc822\n\n", b);
        str_append(&out, msg.data ? msg.data : "", msg.len);
        if (msg.len && msg.data[msg.len - 1] != '\n')
            str_append_char(&out, '\n');
        str_appendf(&out, "--%s--\n", b);
        str_free(&msg);
        msg = out;
    }
    if (sv_charge(r, n, msg.len / 64) < 0) {
        str_free(&msg);
        return -1;
    }
    if (msg.len > SIEVE_BODY_MAX) {
        str_free(&msg);
        return sv_rerror(r, n, "the new message would be larger than %d "
                         "bytes", SIEVE_BODY_MAX);
    }
    if (res->new_message == NULL) {
        res->new_message = arena_alloc(&res->arena, sizeof(struct str));
        memset(res->new_message, 0, sizeof(struct str));
    }
    str_free(res->new_message);
    *res->new_message = msg;
    return 0;
}

/* add an edit of [start, end): drop the edits it holds, ignore it when
   an edit holds it; the list stays sorted */
static void add_edit(struct sv_run *r, struct editstate *es, size_t start,
                     size_t end, const struct str *text)
{
    size_t k = 0, at;

    for (size_t i = 0; i < es->n; i++)
        if (es->e[i].start <= start && end <= es->e[i].end)
            return;
    for (size_t i = 0; i < es->n; i++)
        if (!(start <= es->e[i].start && es->e[i].end <= end))
            es->e[k++] = es->e[i];
    es->n = k;
    if (es->n == EDITS_MAX)
        return;
    for (at = 0; at < es->n && es->e[at].start < start; at++)
        ;
    memmove(&es->e[at + 1], &es->e[at], (es->n - at) * sizeof(es->e[0]));
    es->e[at].start = start;
    es->e[at].end = end;
    es->e[at].text = arena_strndup(r->a, text->data ? text->data : "",
                                   text->len);
    es->e[at].len = text->len;
    es->n++;
}

static int replace_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_mime *m = sv_mime_tree(r, n);
    struct sv_str text = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    const struct sv_tagval *subj = sv_tag(n, "subject");
    const struct sv_tagval *from = sv_tag(n, "from");
    int mime = sv_tag(n, "mime") != NULL;
    const char *w;
    const struct sv_mpart *p;
    struct str ent = STR_INIT;
    size_t i, start, end;
    int rc;

    if (m == NULL)
        return -1;
    w = r->whole.data ? r->whole.data : "";
    i = m->loops && m->cur < m->n ? m->cur : 0;
    p = &m->p[i];
    start = (size_t)(p->hdr - w);
    end = (size_t)(p->body + p->blen - w);
    if (i == 0) {               /* the message: its header stays */
        static const char *const drop_both[] = {"content-", "mime-version",
                                                "subject", "from", NULL};
        static const char *const drop_subj[] = {"content-", "mime-version",
                                                "subject", NULL};
        static const char *const drop_from[] = {"content-", "mime-version",
                                                "from", NULL};
        static const char *const drop_mime[] = {"content-", "mime-version",
                                                NULL};
        const char *const *drop = subj && from ? drop_both
                                  : subj       ? drop_subj
                                  : from       ? drop_from
                                               : drop_mime;
        copy_fields(&ent, p->hdr, p->hlen, drop, 0);
        if (from) {
            const char *f = sv_cstr(r, &from->param->list.v[0]);
            sieve_put_address(&ent, "From", f);
            if (ent.len && ent.data[ent.len - 1] != '\n')
                str_append_char(&ent, '\n');
        }
        if (subj) {
            const char *s = sv_cstr(r, &subj->param->list.v[0]);
            str_append_cstr(&ent, "Subject: ");
            sieve_encode_header(&ent, s, strlen(s), 9);
            str_append_char(&ent, '\n');
        }
        str_append_cstr(&ent, "MIME-Version: 1.0\n");
        end = r->whole.len;
    }
    put_entity(&ent, text.s, text.len, mime);
    add_edit(r, state(r, m), start, end, &ent);
    str_free(&ent);
    rc = rebuild(r, n, state(r, m));
    return rc < 0 ? -1 : 0;
}

static int enclose_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_mime *m = sv_mime_tree(r, n);
    const struct sv_tagval *subj = sv_tag(n, "subject");
    const struct sv_tagval *hdrs = sv_tag(n, "headers");
    struct editstate *es;

    if (m == NULL)
        return -1;
    es = state(r, m);
    es->enclosed = 1;
    es->enc_text = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    es->enc_subject = subj ? sv_cstr(r, &subj->param->list.v[0]) : NULL;
    es->enc_headers.n = 0;
    if (hdrs) {
        sv_eval_list(r, &hdrs->param->list, &es->enc_headers);
        for (size_t i = 0; i < es->enc_headers.n; i++) {
            const struct sv_str *h = &es->enc_headers.v[i];
            const char *c = memchr(h->s, ':', h->len);
            if (c == NULL || c == h->s || memchr(h->s, '\n', h->len))
                return sv_rerror(r, n, "enclose: :headers entry \"%.60s\" "
                                 "is not a header field", h->s);
        }
    }
    return rebuild(r, n, es) < 0 ? -1 : 0;
}

static const struct sv_cmddef replace_cmds[] = {
    {"replace", 0, "S", 0, 0, 0, NULL, replace_exec},
};

static const struct sv_tagdef replace_tags[] = {
    {"mime", SV_G_NONE, 0, 0, " replace "},
    {"subject", SV_G_NONE, 0, 'S', " replace "},
    {"from", SV_G_NONE, 0, 'S', " replace "},
};

const struct sv_ext sv_ext_replace = {"replace", replace_cmds, 1,
                                      replace_tags, 3, 0, 0};

static const struct sv_cmddef enclose_cmds[] = {
    {"enclose", 0, "S", 0, 0, 0, NULL, enclose_exec},
};

static const struct sv_tagdef enclose_tags[] = {
    {"subject", SV_G_NONE, 0, 'S', " enclose "},
    {"headers", SV_G_NONE, 0, 'L', " enclose "},
};

const struct sv_ext sv_ext_enclose = {"enclose", enclose_cmds, 1,
                                      enclose_tags, 2, 0, 0};
