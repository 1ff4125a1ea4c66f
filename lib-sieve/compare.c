/*
 * compare - the comparators (RFC 4790, RFC 5228 section 2.7.3):
 *
 *   i;octet          bytes as they are; ordering by unsigned bytes
 *   i;ascii-casemap  a-z and A-Z equal, other bytes as they are (default)
 *   i;ascii-numeric  the leading decimal digits as a number of any length;
 *                    a string without leading digit is "positive
 *                    infinity" (equal to any other such string).  No
 *                    substring operations (:contains, :matches refused)
 *
 * i;unicode-casemap (RFC 5051) is in ext_cmp_unicode.c and needs
 * "comparator-i;unicode-casemap".
 *
 * i;octet and i;ascii-casemap need no "require"; "comparator-i;octet" and
 * "comparator-i;ascii-casemap" may still be required.  i;ascii-numeric
 * needs "comparator-i;ascii-numeric".
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int octet_ceq(unsigned char a, unsigned char b)
{
    return a == b;
}

static int casemap_ceq(unsigned char a, unsigned char b)
{
    return lower(a) == lower(b);
}

static int octet_order(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = memcmp(a, b, n);

    if (c)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static int octet_eq(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && memcmp(a, b, al) == 0;
}

static int casemap_order(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;

    for (size_t i = 0; i < n; i++) {
        int x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return al < bl ? -1 : al > bl;
}

static int casemap_eq(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && casemap_order(a, al, b, bl) == 0;
}

/* the digits of a numeric string without leading zeros; -1: infinity */
static long digits(const char *s, size_t len, const char **start)
{
    size_t i = 0, n;

    if (len == 0 || s[0] < '0' || s[0] > '9')
        return -1;
    while (i + 1 < len && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
        i++;
    *start = s + i;
    for (n = 0; i + n < len && s[i + n] >= '0' && s[i + n] <= '9'; n++)
        ;
    return (long)n;
}

static int numeric_order(const char *a, size_t al, const char *b, size_t bl)
{
    const char *as = NULL, *bs = NULL;
    long an = digits(a, al, &as), bn = digits(b, bl, &bs);
    int c;

    if (an < 0 || bn < 0)
        return an < 0 ? (bn < 0 ? 0 : 1) : -1;
    if (an != bn)
        return an < bn ? -1 : 1;
    c = memcmp(as, bs, (size_t)an);
    return c < 0 ? -1 : c > 0;
}

static int numeric_eq(const char *a, size_t al, const char *b, size_t bl)
{
    return numeric_order(a, al, b, bl) == 0;
}

const struct sv_ext sv_ext_cmp_octet = {"comparator-i;octet", NULL, 0, NULL,
                                        0, 0, 0};
const struct sv_ext sv_ext_cmp_casemap = {"comparator-i;ascii-casemap", NULL,
                                          0, NULL, 0, 0, 0};
const struct sv_ext sv_ext_cmp_numeric = {"comparator-i;ascii-numeric", NULL,
                                          0, NULL, 0, 0, 0};

static const struct sv_cmp cmp_octet = {"i;octet", &sv_ext_core, 1, octet_eq,
                                        octet_order, octet_ceq, NULL};
const struct sv_cmp sv_cmp_casemap = {"i;ascii-casemap", &sv_ext_core, 1,
                                      casemap_eq, casemap_order,
                                      casemap_ceq, NULL};
static const struct sv_cmp cmp_numeric = {"i;ascii-numeric",
                                          &sv_ext_cmp_numeric, 0,
                                          numeric_eq, numeric_order, NULL,
                                          NULL};

const struct sv_cmp *sv_cmp_find(const char *name)
{
    if (strcasecmp(name, "i;octet") == 0)
        return &cmp_octet;
    if (strcasecmp(name, "i;ascii-casemap") == 0)
        return &sv_cmp_casemap;
    if (strcasecmp(name, "i;ascii-numeric") == 0)
        return &cmp_numeric;
    if (strcasecmp(name, "i;unicode-casemap") == 0)
        return &sv_cmp_unicode;
    return NULL;
}
