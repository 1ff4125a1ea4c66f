/*
 * test_signfallback - the pure parts of DKIM fallback signing
 * (milter/sign.c): the parent domains tried for dkim_fallback = parent,
 * nearest first and never above the organizational domain, and the
 * values [milter] dkim_fallback accepts.
 */
#include <string.h>

#include "milter.h"
#include "unit.h"

static const char *joined(const char *domain, const char *org)
{
    static char buf[512];
    struct strvec v = STRVEC_INIT;
    size_t n = sign_parent_domains(domain, org, &v);

    buf[0] = '\0';
    for (size_t i = 0; i < v.n; i++) {
        strcat(buf, i ? " " : "");
        strcat(buf, v.v[i]);
    }
    if (n != v.n)
        strcpy(buf, "count differs");
    strvec_free(&v);
    return buf;
}

static int check(const char *value)
{
    char buf[300];
    struct str err = STR_INIT;
    int rc;

    strcpy(buf, value);
    rc = sign_fallback_check(buf, &err);
    str_free(&err);
    return rc;
}

int main(void)
{
    CHECK_STR(joined("sub.example.org", "example.org"), "example.org",
              "one level below the organizational domain");
    CHECK_STR(joined("a.b.c.example.org", "example.org"),
              "b.c.example.org c.example.org example.org",
              "nearest parent first, down to the organizational domain");
    CHECK_STR(joined("example.org", "example.org"), "",
              "the organizational domain has no parent to fall back to");
    CHECK_STR(joined("shop.co.uk", "shop.co.uk"), "",
              "never up to a public suffix");
    CHECK_STR(joined("x.shop.co.uk", "shop.co.uk"), "shop.co.uk",
              "below a registrable domain under a two-label suffix");
    CHECK_STR(joined("sub.example.org", NULL), "", "no list: no parent");
    CHECK_STR(joined("sub.example.org", ""), "", "no org domain: no parent");
    CHECK_STR(joined("sub.example.org", "other.org"), "",
              "an org domain that is no suffix is ignored");
    CHECK_STR(joined("subexample.org", "example.org"), "",
              "a suffix not at a label boundary is ignored");

    CHECK(check("none") == 0, "none");
    CHECK(check("parent") == 0, "parent");
    CHECK(check("Provider.Example") == 0, "a domain (any case)");
    CHECK(check("provider") < 0, "a single label is refused");
    CHECK(check("bad domain.example") < 0, "a blank is refused");
    CHECK(check("-x.example") < 0, "a bad label is refused");
    return UNIT_END();
}
