/*
 * message - the message as tests see it.
 *
 * Header fields: parsed once per run from the header section (LF line
 * ends) by lib/msghdr.c, unfolded (line breaks before blanks removed),
 * leading and trailing blanks trimmed (RFC 5228 2.4.2.2).  Lines without
 * ':' are skipped.  At most SIEVE_HEADERS_MAX fields are looked at.
 *
 * RFC 2047 encoded words (=?charset?B|Q?...?=) are decoded for the header
 * test and display names; blanks between two encoded words are dropped.
 * UTF-8 and US-ASCII are taken as they are, ISO-8859-1 (latin1) is
 * converted to UTF-8; other charsets are passed through undecoded in
 * their bytes (docs/sieve.md says so).  A malformed word stays as it is.
 *
 * Body (RFC 5173): :raw is the body after the header, undecoded; :text
 * the "text/..." parts; :content "type" or "type/subtype" ("" = every leaf
 * part) the matching parts.  Parts are found by walking "multipart/..." (by
 * boundary) and message/rfc822, at most SIEVE_MIME_DEPTH deep; leaf parts
 * are decoded from base64 and quoted-printable.  Charsets are not
 * converted.  A header not followed by an empty line means no body:
 * every body test is false, even for "".  The message is read through
 * sieve_message.load, at most SIEVE_BODY_MAX bytes.
 *
 * The MIME tree (RFC 5703: mime, foreverypart, extracttext, replace,
 * enclose): one parse per run, shared with the body test.  Every entity
 * (the message, each multipart and its parts, each message/rfc822 and the
 * message inside it) is one struct sv_mpart in document order, its
 * descendants right after it (sieve-int.h), at most SIEVE_MIME_DEPTH deep
 * and SIEVE_MIME_PARTS in all; part headers are parsed when a test first
 * asks.  extracttext's text (sv_mime_text) is decoded from base64 or
 * quoted-printable, converted to UTF-8 with iconv (sv_to_utf8) and, for
 * text/html, stripped of markup; at most SIEVE_EXTRACT_MAX bytes of a
 * part.  When an earlier run of the delivery replaced the message
 * (res->new_message), later runs load that one.
 *
 * Cost: the message is loaded once per run, and the parts are found and
 * decoded once per run for :text and once for :content (every leaf part,
 * filtered by type per test), so a script with many body tests holds
 * the message at most about three times (loaded, decoded :text, decoded
 * :content), all counted against the run's memory budget.  Walking the
 * message costs one step per 64 bytes of the CPU budget.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "msghdr.h"
#include "sieve-int.h"

/* parse_fields - the fields of h[0..hl) (lib/msghdr.c), values unfolded
   and trimmed into a, at most SIEVE_HEADERS_MAX */
static size_t parse_fields(struct arena *a, const char *h, size_t hl,
                           struct sv_hdr **out)
{
    struct msghdr_field f;
    struct sv_hdr *v = NULL;
    size_t n = 0, cap = 0, pos = 0;

    while (n < SIEVE_HEADERS_MAX && msghdr_next(h, hl, &pos, &f)) {
        char *val = arena_alloc(a, f.vlen + 1);
        if (n == cap) {
            struct sv_hdr *nv;
            cap = cap ? cap * 2 : 32;
            nv = arena_alloc(a, cap * sizeof(*nv));
            if (n)
                memcpy(nv, v, n * sizeof(*nv));
            v = nv;
        }
        v[n].name = f.name;
        v[n].nlen = f.nlen;
        v[n].vlen = msghdr_unfold(f.value, f.vlen, val);
        v[n].value = val;
        n++;
    }
    *out = v;
    return n;
}

size_t sv_parse_fields(struct arena *a, const char *h, size_t hl,
                       struct sv_hdr **out)
{
    return parse_fields(a, h ? h : "", hl, out);
}

int sv_msg_headers(struct sv_run *r)
{
    const struct str *nh = r->res ? r->res->new_header : NULL;

    /* re-read after an edit, and when the edited header went away (a
       result reset by the testsuite) */
    if (!r->hdrs_ready || r->hdrs_edited != (nh != NULL)) {
        r->hdrs_edited = nh != NULL;
        (void)sv_charge(r, NULL, (nh ? nh->len : r->msg->header_len) / 64);
        if (nh)   /* edited by editheader */
            r->nhdrs = parse_fields(r->a, nh->data ? nh->data : "", nh->len,
                                    &r->hdrs);
        else
            r->nhdrs = parse_fields(r->a, r->msg->header ? r->msg->header
                                                         : "",
                                    r->msg->header_len, &r->hdrs);
        r->hdrs_ready = 1;
    }
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

static void b64_decode(const char *s, size_t len, struct str *out)
{
    unsigned acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)s[i]);
        if (s[i] == '=')
            break;
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            str_append_char(out, (char)((acc >> bits) & 0xff));
        }
    }
}

static void qp_decode(const char *s, size_t len, int header, struct str *out)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_' && header) {
            str_append_char(out, ' ');
        } else if (s[i] == '=' && i + 2 < len &&
                   str_hexval((unsigned char)s[i + 1]) >= 0 &&
                   str_hexval((unsigned char)s[i + 2]) >= 0) {
            str_append_char(out, (char)(str_hexval((unsigned char)s[i + 1]) * 16 +
                                        str_hexval((unsigned char)s[i + 2])));
            i += 2;
        } else if (s[i] == '=' && !header) {
            /* soft line break: "=" [blanks] LF */
            size_t j = i + 1;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r'))
                j++;
            if (j >= len || s[j] == '\n')
                i = j;
            else
                str_append_char(out, '=');
        } else {
            str_append_char(out, s[i]);
        }
    }
}

static void latin1_to_utf8(const char *s, size_t len, struct str *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            str_append_char(out, (char)c);
        } else {
            str_append_char(out, (char)(0xc0 | (c >> 6)));
            str_append_char(out, (char)(0x80 | (c & 0x3f)));
        }
    }
}

/* one encoded word at p; its end in *endp; 0 or -1 (not a word) */
static int encoded_word(const char *p, const char *end, const char **endp,
                        struct str *out)
{
    const char *cs = p + 2, *q1, *q2, *fin;
    char enc;
    struct str raw = STR_INIT;

    if (end - p < 8 || p[0] != '=' || p[1] != '?')
        return -1;
    if ((q1 = memchr(cs, '?', (size_t)(end - cs))) == NULL || q1 + 3 > end)
        return -1;
    enc = (char)toupper((unsigned char)q1[1]);
    if ((enc != 'B' && enc != 'Q') || q1[2] != '?')
        return -1;
    q2 = q1 + 3;
    for (fin = q2; fin + 1 < end; fin++)
        if (fin[0] == '?' && fin[1] == '=')
            break;
    if (fin + 1 >= end)
        return -1;
    if (enc == 'B')
        b64_decode(q2, (size_t)(fin - q2), &raw);
    else
        qp_decode(q2, (size_t)(fin - q2), 1, &raw);
    {
        size_t cl = (size_t)(q1 - cs);
        const char *star = memchr(cs, '*', cl); /* RFC 2231 language */
        if (star)
            cl = (size_t)(star - cs);
        if ((cl == 10 && strncasecmp(cs, "iso-8859-1", 10) == 0) ||
            (cl == 6 && strncasecmp(cs, "latin1", 6) == 0))
            latin1_to_utf8(raw.data ? raw.data : "", raw.len, out);
        else
            str_append(out, raw.data ? raw.data : "", raw.len);
    }
    str_free(&raw);
    *endp = fin + 2;
    return 0;
}

int sv_decode_2047(struct arena *a, const char *in, size_t len,
                   struct sv_str *out)
{
    struct str o = STR_INIT;
    const char *p = in, *end = in + len;
    int prev_word = 0;

    if (memmem(in, len, "=?", 2) == NULL) {
        *out = (struct sv_str){in, len, 0};
        return 0;
    }
    while (p < end) {
        const char *we;
        if (p[0] == '=' && encoded_word(p, end, &we, &o) == 0) {
            p = we;
            prev_word = 1;
            continue;
        }
        if (prev_word && (*p == ' ' || *p == '\t')) {
            const char *q = p, *we2;
            struct str tmp = STR_INIT;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && encoded_word(q, end, &we2, &tmp) == 0) {
                str_append(&o, tmp.data ? tmp.data : "", tmp.len);
                str_free(&tmp);
                p = we2;
                continue;
            }
            str_free(&tmp);
        }
        prev_word = 0;
        str_append_char(&o, *p++);
    }
    out->s = arena_strndup(a, o.data ? o.data : "", o.len);
    out->len = o.len;
    out->vars = 0;
    str_free(&o);
    return 0;
}

size_t sv_header_values(struct sv_run *r, const struct sv_node *n,
                        const char *name, size_t nlen, int decode,
                        struct sv_str **out)
{
    struct sv_str *v;
    size_t k = 0, total = 0, want;

    if (n && n->ntags && sv_tag(n, "mime") &&     /* RFC 5703 (ext_mime.c) */
        sv_tag(n, "mime")->def == sv_ext_mime.tags)
        return sv_mime_header_values(r, n, name, nlen, decode, out);
    sv_msg_headers(r);
    (void)sv_charge(r, n, r->nhdrs);   /* two scans, 1/2 step a field */
    for (size_t i = 0; i < r->nhdrs; i++)
        if (r->hdrs[i].nlen == nlen &&
            strncasecmp(r->hdrs[i].name, name, nlen) == 0)
            total++;
    v = arena_alloc(r->a, (total + 1) * sizeof(*v));
    want = n && n->index ? (n->last ? (n->index <= total
                                           ? total - n->index + 1 : 0)
                                    : n->index)
                         : 0;
    if (n && n->index && (want == 0 || want > total)) {
        *out = v;
        return 0;
    }
    for (size_t i = 0, seen = 0; i < r->nhdrs; i++) {
        const struct sv_hdr *h = &r->hdrs[i];
        if (h->nlen != nlen || strncasecmp(h->name, name, nlen) != 0)
            continue;
        seen++;
        if (want && seen != want)
            continue;
        /* what the caller does with it (decode, parse addresses) */
        (void)sv_charge(r, n, h->vlen / 8);
        if (decode)
            sv_decode_2047(r->a, h->value, h->vlen, &v[k]);
        else
            v[k] = (struct sv_str){h->value, h->vlen, 0};
        k++;
    }
    *out = v;
    return k;
}

int sv_load_whole(struct sv_run *r)
{
    if (r->whole_ready)
        return 0;
    r->whole_ready = 1;
    if (r->res && r->res->new_message) {  /* replaced by an earlier run */
        str_reset(&r->whole);
        str_append(&r->whole, r->res->new_message->data
                                  ? r->res->new_message->data : "",
                   r->res->new_message->len);
        return 0;
    }
    if (r->msg->load == NULL || r->msg->load(r->msg->ctx, &r->whole) < 0) {
        str_reset(&r->whole);
        str_append(&r->whole, r->msg->header ? r->msg->header : "",
                   r->msg->header_len);
        str_append_char(&r->whole, '\n');
        if (r->msg->load)
            return -1;
    }
    return 0;
}

/* split an entity into header and body */
static void split_entity(const char *e, size_t len, size_t *hlen,
                         const char **body, size_t *blen)
{
    const char *sep;

    if (len > 0 && e[0] == '\n') {
        *hlen = 0;
        *body = e + 1;
        *blen = len - 1;
        return;
    }
    sep = memmem(e, len, "\n\n", 2);
    if (sep == NULL) {
        *hlen = len;
        *body = e + len;
        *blen = 0;
        return;
    }
    *hlen = (size_t)(sep - e) + 1;
    *body = sep + 2;
    *blen = len - (size_t)(sep + 2 - e);
}

struct ctype {
    char type[64], sub[64], boundary[128], charset[64];
    int b64, qp;
};

static void copy_token(const char *s, size_t n, char *out, size_t size)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < size; i++)
        out[k++] = (char)tolower((unsigned char)s[i]);
    out[k] = '\0';
}

/* the value of parameter `name` (len nl) in a Content-Type value, quotes
   removed, into out (size bytes); 1 found, 0 not */
static int ctype_param(const char *v, size_t vl, const char *name, size_t nl,
                       char *out, size_t size)
{
    for (const char *b = v; b + nl + 1 <= v + vl; b++) {
        const char *bs, *be;
        if (strncasecmp(b, name, nl) != 0 || b[nl] != '=' ||
            (b > v && b[-1] != ';' && b[-1] != ' ' && b[-1] != '\t'))
            continue;
        bs = b + nl + 1;
        if (bs < v + vl && *bs == '"') {
            bs++;
            be = memchr(bs, '"', (size_t)(v + vl - bs));
            if (be == NULL)
                be = v + vl;
        } else {
            for (be = bs; be < v + vl && *be != ';' && *be != ' ' &&
                          *be != '\t'; be++)
                ;
        }
        if ((size_t)(be - bs) >= size)
            return 0;
        memcpy(out, bs, (size_t)(be - bs));
        out[be - bs] = '\0';
        return 1;
    }
    return 0;
}

static void parse_ctype(struct arena *a, const char *h, size_t hl,
                        const char *deftype, struct ctype *ct)
{
    struct sv_hdr *f;
    size_t n = parse_fields(a, h, hl, &f);
    const char *slash = strchr(deftype, '/');

    memset(ct, 0, sizeof(*ct));
    copy_token(deftype, (size_t)(slash - deftype), ct->type, sizeof(ct->type));
    copy_token(slash + 1, strlen(slash + 1), ct->sub, sizeof(ct->sub));
    for (size_t i = 0; i < n; i++) {
        const char *v = f[i].value;
        size_t vl = f[i].vlen;
        if (f[i].nlen == 25 &&
            strncasecmp(f[i].name, "content-transfer-encoding", 25) == 0) {
            ct->b64 = vl >= 6 && strncasecmp(v, "base64", 6) == 0;
            ct->qp = vl >= 16 && strncasecmp(v, "quoted-printable", 16) == 0;
        } else if (f[i].nlen == 12 &&
                   strncasecmp(f[i].name, "content-type", 12) == 0) {
            const char *sl = memchr(v, '/', vl), *se;
            char cs[64];
            if (sl == NULL)
                continue;
            copy_token(v, (size_t)(sl - v), ct->type, sizeof(ct->type));
            for (se = sl + 1; se < v + vl && *se != ';' && *se != ' ' &&
                              *se != '\t'; se++)
                ;
            copy_token(sl + 1, (size_t)(se - sl - 1), ct->sub,
                       sizeof(ct->sub));
            if (!ctype_param(se, (size_t)(v + vl - se), "boundary", 8,
                             ct->boundary, sizeof(ct->boundary)))
                ct->boundary[0] = '\0';
            if (ctype_param(se, (size_t)(v + vl - se), "charset", 7, cs,
                            sizeof(cs)))
                copy_token(cs, strlen(cs), ct->charset, sizeof(ct->charset));
        }
    }
}

/* --- the MIME tree ------------------------------------------------------------ */

/* delim_rest - what follows the boundary on a delimiter line (RFC 2046
   5.1.1): 1 "--" (the close), 0 nothing, each then only blanks; -1 any
   other text (a longer boundary that starts with this one) */
static int delim_rest(const char *p, const char *le)
{
    int closing = 0;

    if (le - p >= 2 && p[0] == '-' && p[1] == '-') {
        closing = 1;
        p += 2;
    }
    for (; p < le; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return -1;
    return closing;
}

/* mime_add - the entity e[0..len) and its descendants, in document order;
   the index of the entity, or SIZE_MAX when SIEVE_MIME_PARTS are full */
static size_t mime_add(struct sv_run *r, struct sv_mime *m, const char *e,
                       size_t len, const char *deftype, int depth)
{
    struct ctype ct;
    struct sv_mpart *p;
    size_t hl, bl, me;
    const char *b;

    if (m->n >= SIEVE_MIME_PARTS) {
        m->truncated = 1;
        return SIZE_MAX;
    }
    split_entity(e, len, &hl, &b, &bl);
    parse_ctype(r->a, e, hl, deftype, &ct);
    if (m->n == m->cap) {
        struct sv_mpart *nv;
        m->cap = m->cap ? m->cap * 2 : 8;
        nv = arena_alloc(r->a, m->cap * sizeof(*nv));
        if (m->n)
            memcpy(nv, m->p, m->n * sizeof(*nv));
        m->p = nv;
    }
    me = m->n++;
    p = &m->p[me];
    memset(p, 0, sizeof(*p));
    p->hdr = e;
    p->hlen = hl;
    p->body = b;
    p->blen = bl;
    memcpy(p->type, ct.type, sizeof(p->type));
    memcpy(p->sub, ct.sub, sizeof(p->sub));
    memcpy(p->charset, ct.charset, sizeof(p->charset));
    p->b64 = ct.b64;
    p->qp = ct.qp;
    p->depth = depth;
    if (strcmp(ct.type, "multipart") == 0 && ct.boundary[0] &&
        depth < SIEVE_MIME_DEPTH) {
        size_t bnd = strlen(ct.boundary);
        const char *q = b, *end = b + bl, *part = NULL;
        const char *child = strcmp(ct.sub, "digest") == 0 ? "message/rfc822"
                                                           : "text/plain";
        m->p[me].kids = 1;
        while (q < end) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            const char *le = nl ? nl : end;
            if ((size_t)(le - q) >= bnd + 2 && q[0] == '-' && q[1] == '-' &&
                memcmp(q + 2, ct.boundary, bnd) == 0 &&
                delim_rest(q + 2 + bnd, le) >= 0) {
                int closing = delim_rest(q + 2 + bnd, le);
                if (part) {
                    const char *pe = q > part && q[-1] == '\n' ? q - 1 : q;
                    if (mime_add(r, m, part, (size_t)(pe - part), child,
                                 depth + 1) == SIZE_MAX)
                        break;
                }
                part = nl ? nl + 1 : end;
                if (closing)
                    break;
            }
            q = nl ? nl + 1 : end;
        }
    } else if (strcmp(ct.type, "message") == 0 &&
               strcmp(ct.sub, "rfc822") == 0 && depth < SIEVE_MIME_DEPTH) {
        m->p[me].kids = 1;
        (void)mime_add(r, m, b, bl, "text/plain", depth + 1);
    }
    m->p[me].end = m->n;
    return me;
}

struct sv_mime *sv_mime_tree(struct sv_run *r, const struct sv_node *n)
{
    if (r->mime && r->mime->n)
        return r->mime;
    if (sv_load_whole(r) < 0) {
        (void)sv_rerror(r, n, "cannot read the message body");
        return NULL;
    }
    if (r->mime == NULL) {
        r->mime = arena_alloc(r->a, sizeof(*r->mime));
        memset(r->mime, 0, sizeof(*r->mime));
    }
    if (sv_charge(r, n, r->whole.len / 64) < 0)
        return NULL;
    (void)mime_add(r, r->mime, r->whole.data ? r->whole.data : "",
                   r->whole.len, "text/plain", 0);
    if (r->mime->cur >= r->mime->n)
        r->mime->cur = 0;
    return r->mime;
}

size_t sv_mime_headers(struct sv_run *r, size_t i, struct sv_hdr **out)
{
    struct sv_mpart *p;

    if (i == 0 || r->mime == NULL || i >= r->mime->n) {
        sv_msg_headers(r);
        *out = r->hdrs;
        return r->nhdrs;
    }
    p = &r->mime->p[i];
    if (!p->hdrs_ready) {
        (void)sv_charge(r, NULL, p->hlen / 64);
        p->nhdrs = parse_fields(r->a, p->hdr, p->hlen, &p->hdrs);
        p->hdrs_ready = 1;
    }
    *out = p->hdrs;
    return p->nhdrs;
}

/* the body of p without its Content-Transfer-Encoding, at most max bytes */
static void part_decode(const struct sv_mpart *p, size_t max, struct str *out)
{
    size_t bl = p->blen;

    if (p->b64) {
        if (bl / 4 * 3 > max)
            bl = max / 3 * 4;
        b64_decode(p->body, bl, out);
    } else if (p->qp) {
        qp_decode(p->body, bl > max ? max : bl, 0, out);
    } else {
        str_append(out, p->body, bl > max ? max : bl);
    }
}

/* --- charsets and HTML for extracttext ----------------------------------------- */

static int is_utf8_name(const char *cs)
{
    return cs[0] == '\0' || strcmp(cs, "utf-8") == 0 ||
           strcmp(cs, "utf8") == 0 || strcmp(cs, "us-ascii") == 0 ||
           strcmp(cs, "ascii") == 0;
}

/* sv_to_utf8 - in[0..len) in charset cs as UTF-8 into out: iconv(3);
   ISO-8859-1 by hand; an unknown charset passes the bytes through */
void sv_to_utf8(const char *cs, const char *in, size_t len,
                struct str *out)
{
    iconv_t cd;
    char buf[4096];
    char *ip = (char *)(uintptr_t)in;
    size_t il = len;

    if (is_utf8_name(cs)) {
        str_append(out, in, len);
        return;
    }
    if (strcmp(cs, "iso-8859-1") == 0 || strcmp(cs, "latin1") == 0) {
        latin1_to_utf8(in, len, out);
        return;
    }
    if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1) {
        str_append(out, in, len);
        return;
    }
    while (il > 0) {
        char *op = buf;
        size_t ol = sizeof(buf);
        size_t rc = iconv(cd, &ip, &il, &op, &ol);
        str_append(out, buf, (size_t)(op - buf));
        if (rc == (size_t)-1 && errno != E2BIG) {
            if (il == 0)
                break;
            str_append_char(out, '?');   /* a byte not in cs */
            ip++;
            il--;
        }
    }
    iconv_close(cd);
}

/* an HTML character reference at s (after '&'): its UTF-8 into out and
   the bytes it took, or 0 */
static size_t html_entity(const char *s, size_t len, struct str *out)
{
    static const struct { const char *name; const char *text; } ents[] = {
        {"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""},
        {"apos;", "'"}, {"nbsp;", " "},
    };
    unsigned long cp = 0;
    size_t i = 1;

    for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
        size_t l = strlen(ents[k].name);
        if (len >= l && strncasecmp(s, ents[k].name, l) == 0) {
            str_append_cstr(out, ents[k].text);
            return l;
        }
    }
    if (len < 3 || s[0] != '#')
        return 0;
    if (s[1] == 'x' || s[1] == 'X') {
        for (i = 2; i < len && i < 10 && isxdigit((unsigned char)s[i]); i++)
            cp = cp * 16 + (unsigned long)str_hexval((unsigned char)s[i]);
    } else {
        for (; i < len && i < 9 && isdigit((unsigned char)s[i]); i++)
            cp = cp * 10 + (unsigned long)(s[i] - '0');
    }
    if (i >= len || s[i] != ';' || cp == 0 || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (cp < 0x80) {
        str_append_char(out, (char)cp);
    } else if (cp < 0x800) {
        str_append_char(out, (char)(0xc0 | (cp >> 6)));
        str_append_char(out, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        str_append_char(out, (char)(0xe0 | (cp >> 12)));
        str_append_char(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        str_append_char(out, (char)(0x80 | (cp & 0x3f)));
    } else {
        str_append_char(out, (char)(0xf0 | (cp >> 18)));
        str_append_char(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
        str_append_char(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
        str_append_char(out, (char)(0x80 | (cp & 0x3f)));
    }
    return i + 1;
}

/* html_text - the text of an HTML document: tags and comments removed,
   the content of <script> and <style> dropped, character references
   decoded, blanks between words kept */
static void html_text(const char *s, size_t len, struct str *out)
{
    size_t i = 0;

    while (i < len) {
        if (s[i] == '<') {
            const char *gt;
            int skip_to = 0;   /* 1: </script>, 2: </style> */
            if (len - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
                const char *ce = memmem(s + i + 4, len - i - 4, "-->", 3);
                i = ce ? (size_t)(ce - s) + 3 : len;
                continue;
            }
            if (len - i >= 7 && strncasecmp(s + i, "<script", 7) == 0)
                skip_to = 1;
            else if (len - i >= 6 && strncasecmp(s + i, "<style", 6) == 0)
                skip_to = 2;
            gt = memchr(s + i, '>', len - i);
            i = gt ? (size_t)(gt - s) + 1 : len;
            if (skip_to) {
                const char *endtag = skip_to == 1 ? "</script" : "</style";
                size_t el = strlen(endtag);
                while (i + el <= len && strncasecmp(s + i, endtag, el) != 0)
                    i++;
                if (i + el > len)
                    i = len;
            }
            continue;
        }
        if (s[i] == '&') {
            size_t k = html_entity(s + i + 1, len - i - 1, out);
            if (k) {
                i += k + 1;
                continue;
            }
        }
        str_append_char(out, s[i++]);
    }
}

/* the text of one text/... leaf into out */
static void leaf_text(const struct sv_mpart *p, struct str *out)
{
    struct str d = STR_INIT, u = STR_INIT;

    part_decode(p, SIEVE_EXTRACT_MAX, &d);
    sv_to_utf8(p->charset, d.data ? d.data : "", d.len, &u);
    if (strcmp(p->sub, "html") == 0)
        html_text(u.data ? u.data : "", u.len, out);
    else
        str_append(out, u.data ? u.data : "", u.len);
    str_free(&d);
    str_free(&u);
}

int sv_mime_text(struct sv_run *r, const struct sv_node *n, size_t i,
                 struct str *out)
{
    struct sv_mime *m = sv_mime_tree(r, n);
    const struct sv_mpart *p;

    if (m == NULL)
        return -1;
    if (i >= m->n)
        return 0;
    p = &m->p[i];
    if (strcmp(p->type, "text") == 0 && !p->kids) {
        if (sv_charge(r, n, p->blen / 64) < 0)
            return -1;
        leaf_text(p, out);
        return 0;
    }
    if (strcmp(p->type, "message") == 0 && p->kids) {
        /* the text parts of the enclosed message, one after another */
        for (size_t k = i + 1; k < p->end && out->len < SIEVE_EXTRACT_MAX;
             k++) {
            const struct sv_mpart *c = &m->p[k];
            if (strcmp(c->type, "text") != 0 || c->kids)
                continue;
            if (sv_charge(r, n, c->blen / 64) < 0)
                return -1;
            if (out->len && out->data[out->len - 1] != '\n')
                str_append_char(out, '\n');
            leaf_text(c, out);
        }
    }
    return 0;
}

/* --- the body test ------------------------------------------------------------ */

/* a leaf part as the body test sees it, decoded */
struct sv_bpart {
    struct sv_str v;
    char type[64], sub[64];
};

/* the parts of one transform (:text, :content), found once per run */
struct sv_bodycache {
    struct sv_bpart *p;
    size_t n, cap;
};

struct body_walk {
    struct sv_run *r;
    int transform;
    struct sv_bodycache *c;
};

static int type_wanted(const struct sv_strlist *types, const char *type,
                       const char *sub)
{
    for (size_t i = 0; i < types->n; i++) {
        const struct sv_str *t = &types->v[i];
        const char *sl = memchr(t->s, '/', t->len);
        if (t->len == 0)
            return 1;
        if (sl && memchr(sl + 1, '/', t->len - (size_t)(sl + 1 - t->s)))
            continue;           /* RFC 5173 5: two slashes match nothing */
        if (sl == NULL) {
            if (strlen(type) == t->len &&
                strncasecmp(type, t->s, t->len) == 0)
                return 1;
        } else {
            size_t tl = (size_t)(sl - t->s), sl2 = t->len - tl - 1;
            if (strlen(type) == tl && strncasecmp(type, t->s, tl) == 0 &&
                strlen(sub) == sl2 && strncasecmp(sub, sl + 1, sl2) == 0)
                return 1;
        }
    }
    return 0;
}

static void add_part(struct body_walk *w, const struct sv_mpart *mp)
{
    struct sv_bodycache *c = w->c;
    struct sv_bpart *p;
    struct str d = STR_INIT;

    if (c->n == c->cap) {
        struct sv_bpart *nv;
        c->cap = c->cap ? c->cap * 2 : 8;
        nv = arena_alloc(w->r->a, c->cap * sizeof(*nv));
        if (c->n)
            memcpy(nv, c->p, c->n * sizeof(*nv));
        c->p = nv;
    }
    p = &c->p[c->n++];
    memcpy(p->type, mp->type, sizeof(p->type));
    memcpy(p->sub, mp->sub, sizeof(p->sub));
    if (!mp->b64 && !mp->qp) {
        p->v = (struct sv_str){mp->body, mp->blen, 0};
        return;
    }
    part_decode(mp, SIEVE_BODY_MAX, &d);
    p->v = sv_dup(w->r, d.data ? d.data : "", d.len);
    str_free(&d);
}

/* walk - the leaves under part i of the tree: multiparts are walked,
   message/rfc822 only for :text (for :content it is a leaf) */
static void walk(struct body_walk *w, const struct sv_mime *m, size_t i)
{
    const struct sv_mpart *p = &m->p[i];

    if (p->kids && (strcmp(p->type, "multipart") == 0 ||
                    w->transform == SV_BT_TEXT)) {
        for (size_t c = i + 1; c < p->end; c = m->p[c].end)
            walk(w, m, c);
        return;
    }
    if (w->transform != SV_BT_TEXT || strcmp(p->type, "text") == 0)
        add_part(w, p);
}

/* the parts of transform, found once per run: SV_BT_TEXT, SV_BT_CONTENT
   (every leaf part), SV_BT_RAW (the body after the header, one part) */
static struct sv_bodycache *body_cache(struct sv_run *r, int transform,
                                       const struct sv_node *n)
{
    int i = transform == SV_BT_TEXT ? 0 : transform == SV_BT_CONTENT ? 1 : 2;
    struct body_walk w;

    if (r->body[i])
        return r->body[i];
    memset(&w, 0, sizeof(w));
    w.r = r;
    w.transform = transform;
    w.c = r->body[i] = arena_alloc(r->a, sizeof(*w.c));
    memset(w.c, 0, sizeof(*w.c));
    {   /* RFC 5173: a header not followed by an empty line has no body:
           every body test is false, even for "" */
        const char *b;
        size_t hl, bl;
        split_entity(r->whole.data, r->whole.len, &hl, &b, &bl);
        if (hl == r->whole.len)
            return w.c;
    }
    if (transform == SV_BT_RAW) {
        const char *b;
        size_t hl, bl;
        split_entity(r->whole.data, r->whole.len, &hl, &b, &bl);
        w.c->p = arena_alloc(r->a, sizeof(*w.c->p));
        memset(w.c->p, 0, sizeof(*w.c->p));
        w.c->p[0].v = (struct sv_str){b, bl, 0};
        w.c->n = w.c->cap = 1;
    } else {
        const struct sv_mime *m = sv_mime_tree(r, n);
        if (m)
            walk(&w, m, 0);
    }
    return w.c;
}

void sv_body_free(struct sv_run *r)
{
    /* the parts and the tree live in the run's arena */
    r->body[0] = r->body[1] = r->body[2] = NULL;
    if (r->mime) {
        r->mime->p = NULL;
        r->mime->n = r->mime->cap = 0;
        r->mime->truncated = 0;
    }
}

int sv_body_parts(struct sv_run *r, int transform,
                  const struct sv_strlist *types, struct sv_str **out,
                  size_t *n)
{
    struct sv_bodycache *c;
    struct sv_str *v;
    size_t k = 0;

    if (sv_load_whole(r) < 0)
        return -1;
    c = body_cache(r, transform, NULL);
    v = arena_alloc(r->a, (c->n + 1) * sizeof(*v));
    for (size_t i = 0; i < c->n; i++)
        if (transform != SV_BT_CONTENT ||
            type_wanted(types, c->p[i].type, c->p[i].sub))
            v[k++] = c->p[i].v;
    *out = v;
    *n = k;
    return 0;
}

static int text_load(void *ctx, struct str *out)
{
    const struct sieve_message *m = ctx;
    const char *text = m->header; /* header points at the whole text */
    size_t len = (size_t)m->size;

    str_reset(out);
    return str_append(out, text, len > SIEVE_BODY_MAX ? SIEVE_BODY_MAX : len);
}

void sieve_message_text(struct sieve_message *m, const char *text,
                        size_t len)
{
    const char *sep;

    memset(m, 0, sizeof(*m));
    m->header = text;
    m->size = len;
    if (len > 0 && text[0] == '\n')
        m->header_len = 0;
    else if ((sep = memmem(text, len, "\n\n", 2)) != NULL)
        m->header_len = (size_t)(sep - text) + 1;
    else
        m->header_len = len;
    m->load = text_load;
    m->ctx = m;
}
