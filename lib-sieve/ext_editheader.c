/*
 * ext_editheader - "editheader" (RFC 5293):
 *
 *   addheader [:last] <field-name: string> <value: string>
 *   deleteheader [:index <fieldno: number> [:last]] [COMPARATOR]
 *                [MATCH-TYPE] <field-name: string>
 *                [<value-patterns: string-list>]
 *
 * The edited header section is kept in the result (res->new_header) and
 * every later test of this run and of the following scripts sees it;
 * postern-lda stores and redirects the message with it (lda/sieve_bridge.c).
 *
 * addheader puts the field on top (":last": at the end).  A line break in
 * the value is unfolded (dropped before white space, else a space), then
 * the value goes through sieve_encode_header(): other control
 * characters become spaces (Pigeonhole keeps them), CR and LF can
 * never start a new field,
 * non-ASCII text becomes RFC 2047 encoded words.  A field name must be
 * 1-997 printable ASCII characters without ':' (compile or run-time
 * error).  deleteheader removes the fields of that name (one with
 * :index, counted from the end with :last) whose value (decoded) matches
 * one of the patterns, or all of them without patterns.
 *
 * Protected (RFC 5293 4.7 / 6): "Received" and "Auto-Submitted" are
 * never added or deleted; such a command does nothing.
 *
 * Limits: the edited header stays within EDITHEADER_MAX bytes (run-time
 * error beyond); every edit costs one step per 64 bytes of the header
 * (the CPU budget), and what it holds counts against the run's memory
 * budget (sieve.h), so a script full of edits and tests after them
 * ends with "script uses too much memory" or "takes too long", and the
 * message is kept.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

#define EDITHEADER_MAX (1024 * 1024)

static int name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 997)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
            s[i] == ':')
            return 0;
    return 1;
}

static int is_protected(const char *s, size_t len)
{
    return (len == 8 && strncasecmp(s, "received", 8) == 0) ||
           (len == 14 && strncasecmp(s, "auto-submitted", 14) == 0);
}

static int edit_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_str *name = &sv_pos(n, 0)->list.v[0];

    if (sv_literal(name) && !name_ok(name->s, name->len)) {
        sv_verror(v, n->line, "%s: invalid field name \"%.80s\"", n->name,
                  name->s);
        return -1;
    }
    return 0;
}

/* the header the run sees now, as a string the result owns */
static struct str *edit_buffer(struct sv_run *r)
{
    struct sieve_result *res = r->res;

    if (res->new_header == NULL) {
        res->new_header = arena_alloc(&res->arena, sizeof(struct str));
        memset(res->new_header, 0, sizeof(struct str));
        str_append(res->new_header, r->msg->header ? r->msg->header : "",
                   r->msg->header_len);
    }
    return res->new_header;
}

/* a value with line breaks as the field will be read: a break before
   white space is unfolded away (RFC 5322 2.2.3), any other becomes a
   space */
static struct sv_str unfold(struct sv_run *r, struct sv_str v)
{
    char *out;
    size_t k = 0;

    if (memchr(v.s, '\n', v.len) == NULL && memchr(v.s, '\r', v.len) == NULL)
        return v;
    out = arena_alloc(r->a, v.len + 1);
    for (size_t i = 0; i < v.len; i++) {
        if (v.s[i] == '\r' && i + 1 < v.len && v.s[i + 1] == '\n')
            continue;
        if (v.s[i] == '\n' || v.s[i] == '\r') {
            if (!(i + 1 < v.len && (v.s[i + 1] == ' ' || v.s[i + 1] == '\t')))
                out[k++] = ' ';
            continue;
        }
        out[k++] = v.s[i];
    }
    out[k] = '\0';
    return (struct sv_str){out, k, 0};
}

static int addheader_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str name = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    struct sv_str value = sv_eval(r, &sv_pos(n, 1)->list.v[0]);
    struct str field = STR_INIT, *h;

    if (!name_ok(name.s, name.len))
        return sv_rerror(r, n, "addheader: invalid field name \"%.80s\"",
                         name.s);
    if (is_protected(name.s, name.len))
        return 0;
    str_append(&field, name.s, name.len);
    str_append_cstr(&field, ": ");
    value = unfold(r, value);
    sieve_encode_header(&field, value.s, value.len, name.len + 2);
    str_append_char(&field, '\n');
    h = edit_buffer(r);
    if (sv_charge(r, n, (h->len + field.len) / 64) < 0) {
        str_free(&field);
        return -1;
    }
    if (h->len + field.len > EDITHEADER_MAX) {
        str_free(&field);
        return sv_rerror(r, n, "addheader: the header grew too large");
    }
    if (sv_tag(n, "last"))
        str_append(h, field.data, field.len);
    else {
        struct str nh = STR_INIT;
        str_append(&nh, field.data, field.len);
        str_append(&nh, h->data ? h->data : "", h->len);
        str_free(h);
        *h = nh;
    }
    str_free(&field);
    r->hdrs_ready = 0;
    return sv_mem_check(r, n);
}

/* the extent [start, end) of each field in text */
static size_t field_spans(const char *t, size_t len, size_t *starts,
                          size_t max)
{
    size_t n = 0, i = 0;

    while (i < len && n < max) {
        starts[n++] = i;
        for (;;) {
            const char *nl = memchr(t + i, '\n', len - i);
            i = nl ? (size_t)(nl - t) + 1 : len;
            if (i >= len || (t[i] != ' ' && t[i] != '\t'))
                break;
        }
    }
    return n;
}

static int deleteheader_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str name = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    const struct sv_arg *pats = sv_pos(n, 1);
    struct str *h, out = STR_INIT;
    struct sv_strlist keys;
    size_t *starts, nf, total = 0, seen = 0, want = 0;

    if (!name_ok(name.s, name.len))
        return sv_rerror(r, n, "deleteheader: invalid field name \"%.80s\"",
                         name.s);
    if (is_protected(name.s, name.len))
        return 0;
    if (pats)
        sv_eval_list(r, &pats->list, &keys);
    h = edit_buffer(r);
    if (sv_charge(r, n, h->len / 64) < 0)
        return -1;
    starts = xmalloc((SIEVE_HEADERS_MAX + 1) * sizeof(size_t));
    nf = field_spans(h->data ? h->data : "", h->len, starts,
                     SIEVE_HEADERS_MAX);
    starts[nf] = h->len;
    for (size_t i = 0; i < nf; i++) {
        const char *f = h->data + starts[i];
        total += starts[i + 1] - starts[i] > name.len &&
                 f[name.len] == ':' && strncasecmp(f, name.s, name.len) == 0;
    }
    if (n->index)
        want = n->last ? (n->index <= total ? total - n->index + 1 : 0)
                       : n->index;
    for (size_t i = 0; i < nf; i++) {
        const char *f = h->data + starts[i];
        size_t flen = starts[i + 1] - starts[i];
        int del = 0;
        if (flen > name.len && f[name.len] == ':' &&
            strncasecmp(f, name.s, name.len) == 0) {
            seen++;
            del = !n->index || seen == want;
            if (del && pats) {
                struct sv_hdr *one;
                struct sv_str val;
                sv_parse_fields(r->a, f, flen, &one);
                sv_decode_2047(r->a, one[0].value, one[0].vlen, &val);
                if ((del = sv_match(r, n, &val, 1, &keys)) < 0) {
                    free(starts);
                    str_free(&out);
                    return -1;
                }
            }
        }
        if (!del)
            str_append(&out, f, flen);
    }
    free(starts);
    str_free(h);
    *h = out;
    r->hdrs_ready = 0;
    return sv_mem_check(r, n);
}

static const struct sv_cmddef cmds[] = {
    {"addheader", 0, "SS", 0, 0, 0, edit_validate, addheader_exec},
    {"deleteheader", 0, "Sl", 0, 0, SV_F_MATCH, edit_validate,
     deleteheader_exec},
};

static const struct sv_tagdef tags[] = {
    {"last", SV_G_NONE, 0, 0, " addheader deleteheader "},
    {"index", SV_G_NONE, 0, 'N', " deleteheader "},
};

const struct sv_ext sv_ext_editheader = {
    "editheader", cmds, 2, tags, 2, 0, 0};
