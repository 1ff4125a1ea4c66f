/*
 * ext_cmp_unicode - the comparator i;unicode-casemap (RFC 5051), enabled
 * by "comparator-i;unicode-casemap":
 *
 *   the canonical form of a UTF-8 string is each character mapped
 *   through its Unicode titlecase mapping (the simple, one-character
 *   mapping of UnicodeData.txt), then the whole string normalized to
 *   NFKD; two strings are equal when their canonical forms are equal
 *   octet by octet, and ordered by those octets.
 *
 * libunistring does the Unicode work (uc_totitle, u8_normalize with
 * UNINORM_NFKD; docs/dependencies.md says why).  For :contains and
 * :matches the canonical forms are composed again (NFC) so that "?"
 * takes a letter with its accents as one character.  A string that is not
 * valid UTF-8 is compared as octets (RFC 5051 section 2).  :is and
 * :value compare canonical forms; for :contains and :matches match.c
 * puts value and key in canonical form first (sv_cmp_prepare), so
 * ${1}.. of a :matches hold canonical text (upper case, decomposed), a
 * deliberate difference from Pigeonhole listed in docs/sieve.md.
 * Folding costs one step per 16 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "sieve-int.h"

const struct sv_ext sv_ext_cmp_unicode = {"comparator-i;unicode-casemap",
                                          NULL, 0, NULL, 0, 0, 0};

/* titlecase every code point of u8[0..len) in place into a new string */
static uint8_t *titlecase(const uint8_t *u8, size_t len, size_t *outlen)
{
    const uint8_t *p = u8, *end = u8 + len;
    uint32_t *cps = xmalloc((len + 1) * sizeof(*cps));
    size_t n = 0;
    uint8_t *r;

    while (p < end) {
        ucs4_t uc;
        int l = u8_mbtouc(&uc, p, (size_t)(end - p));
        cps[n++] = uc_totitle(uc);
        p += l > 0 ? l : 1;
    }
    r = u32_to_u8(cps, n, NULL, outlen);
    free(cps);
    return r;
}

/* the canonical form of s into out: 0, or -1 (not UTF-8).  Titlecase,
   NFKD, and titlecase again: a compatibility decomposition may bring
   out letters that have a titlecase of their own (U+FB01 "fi" -> "FI"),
   as RFC 5051 applies both steps to the decomposed characters too */
static int unicode_fold(const char *s, size_t len, struct str *out)
{
    uint8_t *a, *b, *c;
    size_t al = 0, bl = 0, cl = 0;

    str_reset(out);
    if (u8_check((const uint8_t *)s, len) != NULL)
        return -1;
    if ((a = titlecase((const uint8_t *)s, len, &al)) == NULL)
        return -1;
    b = u8_normalize(UNINORM_NFKD, a, al, NULL, &bl);
    free(a);
    if (b == NULL)
        return -1;
    c = titlecase(b, bl, &cl);
    free(b);
    if (c == NULL)
        return -1;
    str_append(out, (const char *)c, cl);
    free(c);
    return 0;
}

static int unicode_order(const char *a, size_t al, const char *b, size_t bl)
{
    struct str fa = STR_INIT, fb = STR_INIT;
    const char *x = a, *y = b;
    size_t xl = al, yl = bl, m;
    int c;

    if (unicode_fold(a, al, &fa) == 0 && unicode_fold(b, bl, &fb) == 0) {
        x = fa.data ? fa.data : "";
        xl = fa.len;
        y = fb.data ? fb.data : "";
        yl = fb.len;
    }
    m = xl < yl ? xl : yl;
    c = memcmp(x, y, m);
    if (c == 0)
        c = xl < yl ? -1 : xl > yl;
    str_free(&fa);
    str_free(&fb);
    return c < 0 ? -1 : c > 0;
}

static int unicode_eq(const char *a, size_t al, const char *b, size_t bl)
{
    return unicode_order(a, al, b, bl) == 0;
}

static int unicode_ceq(unsigned char a, unsigned char b)
{
    return a == b;      /* on canonical forms (sv_cmp_prepare) */
}

const struct sv_cmp sv_cmp_unicode = {"i;unicode-casemap",
                                      &sv_ext_cmp_unicode, 1, unicode_eq,
                                      unicode_order, unicode_ceq,
                                      unicode_fold};

void sv_cmp_prepare(struct sv_run *r, const struct sv_node *n,
                    struct sv_str *v, struct sv_str *k)
{
    struct str fv = STR_INIT, fk = STR_INIT;

    (void)sv_charge(r, n, (v->len + k->len) / 16);
    if (n->cmp->fold(v->s, v->len, &fv) == 0 &&
        n->cmp->fold(k->s, k->len, &fk) == 0) {
        /* composed again (NFC of the canonical forms), so that "?"
           matches a letter with its accents as one character */
        size_t vl = 0, kl = 0;
        uint8_t *cv = u8_normalize(UNINORM_NFC, (const uint8_t *)fv.data,
                                   fv.len, NULL, &vl);
        uint8_t *ck = u8_normalize(UNINORM_NFC, (const uint8_t *)fk.data,
                                   fk.len, NULL, &kl);
        if (cv && ck) {
            *v = sv_dup(r, (const char *)cv, vl);
            *k = sv_dup(r, (const char *)ck, kl);
        }
        free(cv);
        free(ck);
    }
    str_free(&fv);
    str_free(&fk);
}
