/*
 * address - addresses for the address and envelope tests.
 *
 * sv_address_list() reads an RFC 5322 address-list tolerantly: elements
 * are split at top-level commas; "display name:" ... ";" groups are
 * opened up; comments "(...)" and quoted strings are respected; for
 * "Name <addr>" the part in angle brackets counts (a source route
 * "@a,@b:" is dropped).  The addr-spec is split at its last '@' outside
 * quotes; a quoted local part is unquoted.  An element without '@' is
 * kept as not valid: :all compares its text, :localpart and :domain never
 * match it (RFC 5228 2.7.4).  Empty groups yield no address.
 *
 * Address parts: :all, :localpart, :domain, and from subaddress (RFC
 * 5233) :user (the local part up to the first separator) and :detail
 * (after it; no separator: no match).  The separators are the host's
 * delimiters, "+" by default.
 *
 * Limits: addresses are cut into at most 1000 elements per field.
 */
#include <ctype.h>
#include <string.h>

#include "sieve-int.h"

#define ADDRESS_LIST_MAX 1000

static const char *skip_comment(const char *p, const char *end)
{
    int depth = 0;

    for (; p < end; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0)
            return p + 1;
    }
    return end;
}

static const char *skip_quoted(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

/* parse one addr-spec text (comments already allowed inside) */
static void parse_spec(struct arena *a, const char *s, const char *e,
                       struct sv_address *ad)
{
    char *buf = arena_alloc(a, (size_t)(e - s) + 1);
    size_t k = 0, at = (size_t)-1;

    for (const char *p = s; p < e;) {
        if (*p == '(') {
            p = skip_comment(p, e);
        } else if (*p == '"') {
            const char *q = p + 1;
            while (q < e && *q != '"') {
                if (*q == '\\' && q + 1 < e)
                    q++;
                buf[k++] = *q++;
            }
            p = q < e ? q + 1 : e;
        } else if (*p == ' ' || *p == '\t') {
            p++;
        } else {
            if (*p == '@')
                at = k;
            buf[k++] = *p++;
        }
    }
    buf[k] = '\0';
    ad->raw = (struct sv_str){buf, k, 0};
    if (at != (size_t)-1 && at > 0 && at + 1 < k) {
        ad->valid = 1;
        ad->local = (struct sv_str){buf, at, 0};
        ad->domain = (struct sv_str){buf + at + 1, k - at - 1, 0};
    } else {
        ad->valid = 0;
        ad->local = ad->domain = (struct sv_str){"", 0, 0};
    }
}

static int element(struct arena *a, const char *s, const char *e,
                   struct sv_address *ad)
{
    const char *lt = NULL, *gt = NULL;

    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (s == e)
        return 0;
    for (const char *p = s; p < e;) {
        if (*p == '"')
            p = skip_quoted(p, e);
        else if (*p == '(')
            p = skip_comment(p, e);
        else if (*p == '<' && lt == NULL)
            lt = p++;
        else if (*p == '>' && lt && gt == NULL)
            gt = p++;
        else
            p++;
    }
    if (lt) {
        const char *in = lt + 1, *ie = gt ? gt : e, *colon;
        if (in < ie && *in == '@' &&
            (colon = memchr(in, ':', (size_t)(ie - in))) != NULL)
            in = colon + 1;
        if (in == ie)
            return 0; /* "<>" */
        parse_spec(a, in, ie, ad);
    } else {
        parse_spec(a, s, e, ad);
        if (ad->raw.len == 0)
            return 0;
    }
    return 1;
}

size_t sv_address_list(struct arena *a, const char *v, size_t len,
                       struct sv_address **out)
{
    const char *p = v, *end = v + len, *start = v;
    struct sv_address *list = NULL;
    size_t n = 0, cap = 0;
    int angle = 0;

    for (;;) {
        int sep = p >= end;
        if (!sep) {
            if (*p == '"') {
                p = skip_quoted(p, end);
                continue;
            }
            if (*p == '(') {
                p = skip_comment(p, end);
                continue;
            }
            if (*p == '<')
                angle = 1;
            else if (*p == '>')
                angle = 0;
            else if (!angle && *p == ':') {
                start = p + 1; /* group name */
                p++;
                continue;
            }
            sep = !angle && (*p == ',' || *p == ';');
        }
        if (sep) {
            struct sv_address ad;
            memset(&ad, 0, sizeof(ad));
            if (element(a, start, p < end ? p : end, &ad) &&
                n < ADDRESS_LIST_MAX) {
                if (n == cap) {
                    struct sv_address *nl;
                    cap = cap ? cap * 2 : 4;
                    nl = arena_alloc(a, cap * sizeof(*nl));
                    if (n)
                        memcpy(nl, list, n * sizeof(*nl));
                    list = nl;
                }
                list[n++] = ad;
            }
            if (p >= end)
                break;
            start = ++p;
            continue;
        }
        p++;
    }
    *out = list;
    return n;
}

/* a domain of a path: dot-separated labels of letters, digits and '-',
   or an address literal [...] */
static int path_domain(const char *s, size_t len)
{
    size_t i, label = 0;

    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        for (i = 1; i + 1 < len; i++)
            if (s[i] == '[' || s[i] == ']' || s[i] == '\\' ||
                (unsigned char)s[i] <= ' ')
                return 0;
        return len > 2;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_' || c >= 0x80) {
            label++;
        } else {
            return 0;
        }
    }
    return label > 0;
}

/* the local part of a path: a dot-atom or a quoted string */
static int path_local(const char *s, size_t len)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    size_t i, word = 0;

    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        for (i = 1; i + 1 < len; i++) {
            if (s[i] == '\\' && i + 2 < len)
                i++;
            else if (s[i] == '"' || s[i] == '\\')
                return 0;
        }
        return 1;
    }
    /* dots anywhere: Japanese mobile carriers hand out "a..b.@" */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' || isalnum(c) || c >= 0x80 || strchr(atext, c))
            word++;
        else
            return 0;
    }
    return word > 0;
}

void sv_envelope_address(struct arena *a, const char *s,
                         struct sv_address *out)
{
    size_t len = strlen(s), at;
    const char *q;

    memset(out, 0, sizeof(*out));
    out->local = out->domain = out->raw = (struct sv_str){"", 0, 0};
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    if (len == 0) {
        /* the null sender: every part is "" */
        out->valid = 1;
        return;
    }
    if (memchr(s, '<', len) || memchr(s, '>', len))
        return;
    /* a source route "@a,@b:" is ignored (RFC 5321 4.1.2) */
    if (s[0] == '@') {
        const char *colon = memchr(s, ':', len), *p = s;
        if (colon == NULL)
            return;
        while (p < colon) {
            const char *e = memchr(p, ',', (size_t)(colon - p));
            if (e == NULL)
                e = colon;
            if (*p != '@' || !path_domain(p + 1, (size_t)(e - p - 1)))
                return;
            p = e + (e < colon);
        }
        len -= (size_t)(colon + 1 - s);
        s = colon + 1;
    }
    /* the last '@' outside a quoted local part */
    q = s;
    if (len > 0 && s[0] == '"') {
        for (q = s + 1; q < s + len && *q != '"'; q++)
            if (*q == '\\' && q + 1 < s + len)
                q++;
    }
    q = memchr(q, '@', len - (size_t)(q - s));
    if (q == NULL) {
        /* a local part only ("<MAILER-DAEMON>"): :all is the local part,
           :domain is "" */
        if (!path_local(s, len))
            return;
        out->valid = 1;
        out->raw = out->local = (struct sv_str){arena_strndup(a, s, len),
                                                len, 0};
        return;
    }
    at = (size_t)(q - s);
    if (!path_local(s, at) || !path_domain(q + 1, len - at - 1))
        return;
    {
        char *buf = arena_strndup(a, s, len);
        out->valid = 1;
        out->raw = (struct sv_str){buf, len, 0};
        out->local = (struct sv_str){buf, at, 0};
        out->domain = (struct sv_str){buf + at + 1, len - at - 1, 0};
    }
}

int sv_address_part(struct sv_run *r, int part, const struct sv_address *ad,
                    struct sv_str *out)
{
    const char *delims = r->host && r->host->delimiters &&
                                 r->host->delimiters[0]
                             ? r->host->delimiters : "+";
    size_t i;

    switch (part) {
    case SV_AP_LOCAL:
        if (!ad->valid)
            return 0;
        *out = ad->local;
        return 1;
    case SV_AP_DOMAIN:
        if (!ad->valid)
            return 0;
        *out = ad->domain;
        return 1;
    case SV_AP_USER:
    case SV_AP_DETAIL:
        if (!ad->valid)
            return 0;
        for (i = 0; i < ad->local.len; i++)
            if (strchr(delims, ad->local.s[i]))
                break;
        if (part == SV_AP_USER) {
            *out = (struct sv_str){ad->local.s, i, 0};
            return 1;
        }
        if (i == ad->local.len)
            return 0;
        *out = (struct sv_str){ad->local.s + i + 1, ad->local.len - i - 1, 0};
        return 1;
    default:
        if (!ad->valid || ad->domain.len == 0) {
            *out = ad->raw;
            return 1;
        }
        {
            size_t l = ad->local.len + 1 + ad->domain.len;
            char *b = arena_alloc(r->a, l + 1);
            memcpy(b, ad->local.s, ad->local.len);
            b[ad->local.len] = '@';
            memcpy(b + ad->local.len + 1, ad->domain.s, ad->domain.len);
            b[l] = '\0';
            *out = (struct sv_str){b, l, 0};
        }
        return 1;
    }
}
