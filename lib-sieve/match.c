/*
 * match - match types: :is, :contains, :matches (RFC 5228 2.7.1), the
 * relational :count and :value (RFC 5231, with the operators gt ge lt le
 * eq ne) and the hook to :regex (ext_regex.c).  A test matches when any
 * value matches any key.
 *
 * :matches: "*" any sequence, "?" one UTF-8 character, "\" quotes the
 * next character.  Wildcards match as few characters as possible from the
 * left, so "[*] *" on "[a] [b] c" gives ${1} = "a" (RFC 5229 3.2).  On a
 * success the match variables ${0} (the whole value) and ${1}..${9} (each
 * wildcard in order) are set when the script uses "variables".
 *
 * Limits: every value/key pair costs SIEVE_STEP_COST steps of the
 * delivery's CPU budget (sieve.h), and the matching itself what it does:
 * one step per :matches backtracking step, one per 4 bytes :contains
 * searches (memchr/memmem find the candidates) and per character it
 * compares after a first one that matched, one per 16 bytes of :is and
 * :value.  The budget is one per
 * delivery, not per comparison, so a pattern like "*a*a*a*a*b" against
 * many long values ends the run with "script takes too long" (the
 * message is kept) instead of holding the delivery.  A pattern with more
 * than GLOB_WILDCARDS_MAX "*" never matches (recursion depth).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

#define GLOB_WILDCARDS_MAX 1000

int sv_relop_parse(const char *s, size_t len)
{
    static const char *const ops[] = {"gt", "ge", "lt", "le", "eq", "ne"};

    if (len != 2)
        return 0;
    for (int i = 0; i < 6; i++)
        if (strncasecmp(s, ops[i], 2) == 0)
            return i + 1;
    return 0;
}

int sv_relop_holds(int relop, int c)
{
    switch (relop) {
    case SV_REL_GT: return c > 0;
    case SV_REL_GE: return c >= 0;
    case SV_REL_LT: return c < 0;
    case SV_REL_LE: return c <= 0;
    case SV_REL_EQ: return c == 0;
    case SV_REL_NE: return c != 0;
    }
    return 0;
}

static size_t utf8_len(unsigned char c)
{
    if (c >= 0xf0 && c < 0xf8)
        return 4;
    if (c >= 0xe0)
        return c < 0xf0 ? 3 : 1;
    if (c >= 0xc0)
        return 2;
    return 1;
}

struct glob {
    const struct sv_cmp *c;
    struct sv_str *caps;
    long long budget;
};

static int glob_at(struct glob *g, const char *p, const char *pe,
                   const char *s, const char *se, size_t ci)
{
    while (p < pe) {
        if (--g->budget < 0)
            return 0;
        if (*p == '*') {
            for (const char *t = s; t <= se; t++) {
                if (glob_at(g, p + 1, pe, t, se, ci + 1)) {
                    if (g->caps && ci < SIEVE_MATCH_VARS)
                        g->caps[ci] = (struct sv_str){s, (size_t)(t - s), 0};
                    return 1;
                }
                if (--g->budget < 0)
                    return 0;
            }
            return 0;
        }
        if (*p == '?') {
            size_t l;
            if (s >= se)
                return 0;
            l = utf8_len((unsigned char)*s);
            if (l > (size_t)(se - s))
                l = 1;
            if (g->caps && ci < SIEVE_MATCH_VARS)
                g->caps[ci] = (struct sv_str){s, l, 0};
            ci++;
            s += l;
            p++;
            continue;
        }
        if (*p == '\\' && p + 1 < pe)
            p++;
        if (s >= se || !g->c->ceq((unsigned char)*p, (unsigned char)*s))
            return 0;
        p++;
        s++;
    }
    return s == se;
}

int sv_glob(const struct sv_cmp *c, const char *pat, size_t plen,
            const char *s, size_t slen, struct sv_str *caps, size_t *ncaps,
            long long *budget)
{
    struct glob g = {c, caps, *budget};
    size_t nw = 0, stars = 0;
    int m;

    for (size_t i = 0; i < plen; i++) {
        if (pat[i] == '\\')
            i++;
        else if (pat[i] == '*' || pat[i] == '?') {
            nw++;
            stars += pat[i] == '*';
        }
    }
    if (ncaps)
        *ncaps = nw + 1 < SIEVE_MATCH_VARS ? nw + 1 : SIEVE_MATCH_VARS;
    if (caps)
        caps[0] = (struct sv_str){s, slen, 0};
    if (stars > GLOB_WILDCARDS_MAX) /* bounds the recursion */
        return 0;
    m = glob_at(&g, pat, pat + plen, s, s + slen, 1);
    *budget = g.budget;
    return g.budget < 0 ? 0 : m;
}

static const unsigned char *casemap_table(void)
{
    static unsigned char t[256];

    if (t['A'] == 0)
        for (int c = 0; c < 256; c++)
            t[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return t;
}

/* the next i (>= from, < lim) where s[i] is a or b, or lim */
static size_t next_of(const char *s, size_t from, size_t lim, unsigned char a,
                      unsigned char b)
{
    const char *pa = memchr(s + from, a, lim - from);
    const char *pb = a == b ? NULL : memchr(s + from, b, lim - from);

    if (pa == NULL)
        pa = s + lim;
    if (pb != NULL && pb < pa)
        pa = pb;
    return (size_t)(pa - s);
}

/* contains - 1 or 0; a position tried takes 1/4 from *budget, each
   character compared after a matching first one 1 more (0 with
   *budget < 0 when it runs out).  i;octet searches with memmem,
   i;ascii-casemap finds candidate positions with memchr (both cases of
   the first character). */
static int contains(const struct sv_cmp *c, const char *s, size_t sl,
                    const char *k, size_t kl, long long *budget)
{
    const unsigned char *t = casemap_table();
    unsigned char lo, up;
    size_t i = 0, lim;

    if (kl == 0)
        return 1;
    if (kl > sl)
        return 0;
    if (c != &sv_cmp_casemap) {         /* i;octet: linear */
        const char *f = memmem(s, sl, k, kl);
        *budget -= (long long)((f ? (size_t)(f - s) : sl) / 4 + kl);
        return f != NULL;
    }
    lo = t[(unsigned char)k[0]];
    up = lo >= 'a' && lo <= 'z' ? (unsigned char)(lo - 32) : lo;
    lim = sl - kl + 1;
    while ((i = next_of(s, i, lim, lo, up)) < lim) {
        size_t j;
        for (j = 1; j < kl && t[(unsigned char)s[i + j]] ==
                                  t[(unsigned char)k[j]]; j++)
            ;
        if ((*budget -= (long long)j) < 0)
            return 0;
        if (j == kl) {
            *budget -= (long long)(i / 4);
            return 1;
        }
        i++;
    }
    *budget -= (long long)(sl / 4);
    return 0;
}

/* the budget left, as a signed count for the loops above */
static long long budget_of(const struct sv_run *r)
{
    unsigned long long left = sv_steps_left(r);

    return left > LLONG_MAX ? LLONG_MAX : (long long)left;
}

/* charge what a loop took from its budget; -1 when it ran out */
static int settle(struct sv_run *r, const struct sv_node *n, long long had,
                  long long left)
{
    if (left < 0)
        return sv_charge(r, n, (unsigned long long)had + 1);
    return sv_charge(r, n, (unsigned long long)(had - left));
}

void sv_set_match_vars(struct sv_run *r, const struct sv_str *caps,
                       size_t n)
{
    if (!sv_has(r->fr->s, &sv_ext_variables))
        return;
    for (size_t i = 0; i < SIEVE_MATCH_VARS; i++)
        r->mvars[i] = i < n ? sv_dup(r, caps[i].s, caps[i].len)
                            : (struct sv_str){"", 0, 0};
    r->nmvars = n;
}

static int one(struct sv_run *r, const struct sv_node *n,
               const struct sv_str *v, const struct sv_str *k)
{
    struct sv_str caps[SIEVE_MATCH_VARS], fv, fk;
    size_t nc = 0;
    long long had, left;
    int m;

    if (n->cmp && n->cmp->fold && (n->mtype == SV_MT_CONTAINS ||
                                   n->mtype == SV_MT_MATCHES)) {
        fv = *v;        /* i;unicode-casemap: canonical forms */
        fk = *k;
        sv_cmp_prepare(r, n, &fv, &fk);
        v = &fv;
        k = &fk;
    }
    had = left = budget_of(r);
    switch (n->mtype) {
    case SV_MT_CONTAINS:
        m = contains(n->cmp, v->s, v->len, k->s, k->len, &left);
        return settle(r, n, had, left) < 0 ? -1 : m;
    case SV_MT_MATCHES:
        memset(caps, 0, sizeof(caps));
        m = sv_glob(n->cmp, k->s, k->len, v->s, v->len, caps, &nc, &left);
        if (settle(r, n, had, left) < 0)
            return -1;
        if (m)
            sv_set_match_vars(r, caps, nc);
        return m;
    case SV_MT_REGEX:
        memset(caps, 0, sizeof(caps));
        m = sv_regex_match(r, n, v, k, caps, &nc);
        if (m > 0)
            sv_set_match_vars(r, caps, nc);
        return m;
    case SV_MT_LIST:                    /* extlists: the host answers */
        return sv_list_match(r, n, v, k);
    case SV_MT_VALUE:
        if (sv_charge(r, n, (v->len < k->len ? v->len : k->len) / 16) < 0)
            return -1;
        return sv_relop_holds(n->relop, n->cmp->order(v->s, v->len, k->s,
                                                      k->len));
    default:
        if (sv_charge(r, n, (v->len < k->len ? v->len : k->len) / 16) < 0)
            return -1;
        return n->cmp->eq(v->s, v->len, k->s, k->len);
    }
}

int sv_match(struct sv_run *r, const struct sv_node *n,
             const struct sv_str *vals, size_t nvals,
             const struct sv_strlist *keys)
{
    if (n->mtype == SV_MT_COUNT) {
        char buf[32];
        int l = snprintf(buf, sizeof(buf), "%zu", nvals);
        for (size_t k = 0; k < keys->n; k++) {
            if (sv_step(r, n) < 0)
                return -1;
            if (sv_relop_holds(n->relop,
                               n->cmp->order(buf, (size_t)l, keys->v[k].s,
                                             keys->v[k].len)))
                return 1;
        }
        return 0;
    }
    for (size_t i = 0; i < nvals; i++) {
        for (size_t k = 0; k < keys->n; k++) {
            int m;
            if (sv_step(r, n) < 0)
                return -1;
            if ((m = one(r, n, &vals[i], &keys->v[k])) != 0)
                return m;
        }
    }
    return 0;
}
