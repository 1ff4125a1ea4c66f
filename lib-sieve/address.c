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

void sv_envelope_address(struct arena *a, const char *s,
                         struct sv_address *out)
{
    size_t len = strlen(s);

    memset(out, 0, sizeof(*out));
    if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
        s++;
        len -= 2;
    }
    if (len == 0) {
        /* the null sender: every part is "" */
        out->valid = 1;
        out->local = out->domain = out->raw = (struct sv_str){"", 0, 0};
        return;
    }
    parse_spec(a, s, s + len, out);
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
        if (!ad->valid || ad->local.len + ad->domain.len == 0) {
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
