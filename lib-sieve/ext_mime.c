/*
 * ext_mime - the "mime" extension (RFC 5703 section 4): tags of the
 * header, address and exists tests that look at MIME parts.
 *
 *   header  [:mime] [:anychild] [MIMEOPTS] [COMPARATOR] [MATCH-TYPE]
 *           <header-names> <key-list>
 *   address [:mime] [:anychild] [COMPARATOR] [ADDRESS-PART] [MATCH-TYPE]
 *           <header-list> <key-list>
 *   exists  [:mime] [:anychild] <header-names>
 *   MIMEOPTS = :type / :subtype / :contenttype / :param <names>
 *
 * With :mime the test looks at the header of the part a foreverypart
 * loop is at (outside a loop: the message's header); with :anychild at
 * that part and every part below it.  MIMEOPTS take a structured value
 * apart ("text/html; charset=utf-8"): :type "text", :subtype "html",
 * :contenttype "text/html", :param ["charset"] "utf-8" (RFC 2231
 * continuations and charsets decoded, one value per name found).  A
 * value without "/" (Content-Disposition "inline") has that as its type
 * and an empty subtype.  The parts come from message.c's MIME tree
 * (SIEVE_MIME_DEPTH, SIEVE_MIME_PARTS), parsed once per run.
 *
 * Diagnostics (compile time): ":anychild requires :mime", ":type
 * requires :mime", "only one of :type, :subtype, :contenttype and :param
 * may be given".
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

enum { OPT_TYPE = 1, OPT_SUBTYPE, OPT_CONTENTTYPE, OPT_PARAM };

static const struct sv_tagdef tags[] = {
    {"mime", SV_G_NONE, 0, 0, " header address exists "},
    {"anychild", SV_G_NONE, 0, 0, " header address exists "},
    {"type", SV_G_NONE, OPT_TYPE, 0, " header "},
    {"subtype", SV_G_NONE, OPT_SUBTYPE, 0, " header "},
    {"contenttype", SV_G_NONE, OPT_CONTENTTYPE, 0, " header "},
    {"param", SV_G_NONE, OPT_PARAM, 'L', " header "},
};

const struct sv_ext sv_ext_mime = {"mime", NULL, 0, tags,
                                   sizeof(tags) / sizeof(tags[0]), 0, 0};

static const struct sv_tagval *mime_opt(const struct sv_node *n)
{
    for (size_t i = 0; i < n->ntags; i++)
        if (n->tags[i].def >= tags + 2 &&
            n->tags[i].def < tags + sizeof(tags) / sizeof(tags[0]))
            return &n->tags[i];
    return NULL;
}

int sv_mime_validate(struct sv_valctx *v, struct sv_node *n)
{
    int mime = 0, opts = 0;
    const char *first = NULL;

    for (size_t i = 0; i < n->ntags; i++) {
        const struct sv_tagdef *t = n->tags[i].def;
        if (t == &tags[0])
            mime = 1;
        else if (t == &tags[1] && first == NULL)
            first = "anychild";
        else if (t >= tags + 2 && t < tags + 6) {
            opts++;
            if (first == NULL || strcmp(first, "anychild") == 0)
                first = t->name;
        }
    }
    if (first && !mime) {
        sv_verror(v, n->line, ":%s requires :mime", first);
        return -1;
    }
    if (opts > 1) {
        sv_verror(v, n->line, "only one of :type, :subtype, :contenttype "
                  "and :param may be given");
        return -1;
    }
    return 0;
}

/* --- structured values ---------------------------------------------------- */

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* one parameter segment of name (RFC 2231): plain "name=", "name*=",
   or "name*N" / "name*N*" continuations */
struct seg {
    long idx;                /* -1: not a continuation */
    int enc;                 /* "*": charset'lang'%XX */
    const char *v;
    size_t len;
};

static int seg_cmp(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;

    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

#define PARAM_SEGS_MAX 64

/* param - the value of parameter name[0..nl) in the parameters ps..pe;
   1 found (into out), 0 not */
static int param(const char *ps, const char *pe, const char *name, size_t nl,
                 struct str *out)
{
    struct seg segs[PARAM_SEGS_MAX];
    size_t ns = 0;
    const char *p = ps;
    char charset[64] = "";

    while (p < pe && ns < PARAM_SEGS_MAX) {
        const char *ns_ = p, *eq, *ne, *vs, *ve;
        struct seg sg = {-1, 0, NULL, 0};
        while (ns_ < pe && (*ns_ == ';' || *ns_ == ' ' || *ns_ == '\t'))
            ns_++;
        eq = memchr(ns_, '=', (size_t)(pe - ns_));
        if (eq == NULL)
            break;
        ne = eq;
        trim(&ns_, &ne);
        vs = eq + 1;
        while (vs < pe && (*vs == ' ' || *vs == '\t'))
            vs++;
        if (vs < pe && *vs == '"') {
            vs++;
            for (ve = vs; ve < pe && *ve != '"'; ve++)
                if (*ve == '\\' && ve + 1 < pe)
                    ve++;
            p = ve < pe ? ve + 1 : pe;
        } else {
            ve = memchr(vs, ';', (size_t)(pe - vs));
            if (ve == NULL)
                ve = pe;
            p = ve;
            trim(&vs, &ve);
        }
        if ((p = memchr(p, ';', (size_t)(pe - p))) == NULL)
            p = pe;
        if ((size_t)(ne - ns_) < nl || strncasecmp(ns_, name, nl) != 0)
            continue;
        if ((size_t)(ne - ns_) == nl) {
            sg.idx = -1;
        } else if (ns_[nl] == '*') {
            const char *q = ns_ + nl + 1;
            if (q == ne) {
                sg.enc = 1;
            } else {
                char *end;
                sg.idx = strtol(q, &end, 10);
                if (end == q || sg.idx < 0 || sg.idx > 999)
                    continue;
                if (end < ne && *end == '*')
                    sg.enc = 1, end++;
                if (end != ne)
                    continue;
            }
        } else {
            continue;
        }
        sg.v = vs;
        sg.len = (size_t)(ve - vs);
        segs[ns++] = sg;
    }
    if (ns == 0)
        return 0;
    /* a plain or "name*=" value wins; else the continuations in order */
    for (size_t i = 0; i < ns; i++)
        if (segs[i].idx < 0 && !segs[i].enc) {
            for (size_t k = 0; k < segs[i].len; k++) {
                if (segs[i].v[k] == '\\' && k + 1 < segs[i].len)
                    k++;
                str_append_char(out, segs[i].v[k]);
            }
            return 1;
        }
    qsort(segs, ns, sizeof(segs[0]), seg_cmp);
    {
        struct str raw = STR_INIT;
        for (size_t i = 0; i < ns; i++) {
            const char *v = segs[i].v;
            size_t len = segs[i].len;
            if (segs[i].enc && i == 0) {  /* charset'language'value */
                const char *q1 = memchr(v, '\'', len), *q2;
                if (q1 && (q2 = memchr(q1 + 1, '\'',
                                       len - (size_t)(q1 + 1 - v))) != NULL) {
                    size_t cl = (size_t)(q1 - v);
                    if (cl < sizeof(charset)) {
                        for (size_t k = 0; k < cl; k++)
                            charset[k] = (char)(v[k] >= 'A' && v[k] <= 'Z'
                                                    ? v[k] + 32 : v[k]);
                        charset[cl] = '\0';
                    }
                    len -= (size_t)(q2 + 1 - v);
                    v = q2 + 1;
                }
            }
            for (size_t k = 0; k < len; k++) {
                if (segs[i].enc && v[k] == '%' && k + 2 < len &&
                    str_hexval(v[k + 1]) >= 0 && str_hexval(v[k + 2]) >= 0) {
                    str_append_char(&raw, (char)(str_hexval(v[k + 1]) * 16 +
                                                 str_hexval(v[k + 2])));
                    k += 2;
                } else if (!segs[i].enc && v[k] == '\\' && k + 1 < len) {
                    str_append_char(&raw, v[++k]);
                } else {
                    str_append_char(&raw, v[k]);
                }
            }
        }
        sv_to_utf8(charset, raw.data ? raw.data : "", raw.len, out);
        str_free(&raw);
    }
    return 1;
}

static void push(struct sv_run *r, struct sv_str **v, size_t *n, size_t *cap,
                 const char *s, size_t len, int copy)
{
    if (*n == *cap) {
        struct sv_str *nv;
        *cap = *cap ? *cap * 2 : 16;
        nv = arena_alloc(r->a, *cap * sizeof(*nv));
        if (*n)
            memcpy(nv, *v, *n * sizeof(*nv));
        *v = nv;
    }
    (*v)[(*n)++] = copy ? sv_dup(r, s, len) : (struct sv_str){s, len, 0};
}

/* the values MIMEOPTS take from one header value */
static void take_apart(struct sv_run *r, const struct sv_tagval *opt,
                       const struct sv_strlist *names, const struct sv_str *hv,
                       struct sv_str **v, size_t *n, size_t *cap)
{
    const char *s = hv->s, *end = hv->s + hv->len;
    const char *semi = memchr(s, ';', hv->len);
    const char *te = semi ? semi : end, *slash;

    trim(&s, &te);
    slash = memchr(s, '/', (size_t)(te - s));
    switch (opt->def->id) {
    case OPT_TYPE: {
        const char *ts = s, *tend = slash ? slash : te;
        trim(&ts, &tend);
        push(r, v, n, cap, ts, (size_t)(tend - ts), 0);
        break;
    }
    case OPT_SUBTYPE:
        if (slash) {
            const char *ss = slash + 1, *se = te;
            trim(&ss, &se);
            push(r, v, n, cap, ss, (size_t)(se - ss), 0);
        } else {
            push(r, v, n, cap, "", 0, 0);
        }
        break;
    case OPT_CONTENTTYPE:
        push(r, v, n, cap, s, (size_t)(te - s), 0);
        break;
    default:
        for (size_t i = 0; semi && i < names->n; i++) {
            struct str o = STR_INIT;
            if (param(semi, end, names->v[i].s, names->v[i].len, &o))
                push(r, v, n, cap, o.data ? o.data : "", o.len, 1);
            str_free(&o);
        }
    }
}

size_t sv_mime_header_values(struct sv_run *r, const struct sv_node *n,
                             const char *name, size_t nlen, int decode,
                             struct sv_str **out)
{
    struct sv_mime *m = sv_mime_tree(r, n);
    const struct sv_tagval *opt = mime_opt(n);
    struct sv_strlist names = {NULL, 0};
    struct sv_str *v = NULL;
    size_t k = 0, cap = 0, first, last;

    *out = arena_alloc(r->a, sizeof(**out));
    if (m == NULL)
        return 0;
    if (opt && opt->param)
        sv_eval_list(r, &opt->param->list, &names);
    first = m->loops && m->cur < m->n ? m->cur : 0;
    last = sv_tag(n, "anychild") ? m->p[first].end : first + 1;
    for (size_t i = first; i < last; i++) {
        struct sv_hdr *h;
        size_t nh = sv_mime_headers(r, i, &h);
        (void)sv_charge(r, n, nh / 2);
        for (size_t f = 0; f < nh; f++) {
            struct sv_str hv;
            if (h[f].nlen != nlen || strncasecmp(h[f].name, name, nlen) != 0)
                continue;
            (void)sv_charge(r, n, h[f].vlen / 8);
            if (decode)
                sv_decode_2047(r->a, h[f].value, h[f].vlen, &hv);
            else
                hv = (struct sv_str){h[f].value, h[f].vlen, 0};
            if (opt)
                take_apart(r, opt, &names, &hv, &v, &k, &cap);
            else
                push(r, &v, &k, &cap, hv.s, hv.len, 0);
        }
    }
    if (v)
        *out = v;
    return k;
}
