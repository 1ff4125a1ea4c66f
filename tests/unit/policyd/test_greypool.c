/*
 * test_greypool - the provider pools file (policyd/greypool.c): parsing
 * with file:line errors, matching by verified host name suffix and by
 * network; the shipped conf/greylist-pools.conf parses; the dynamic host
 * name patterns of selective greylisting (pd_grey_dynamic).
 */
#include <stdio.h>
#include <string.h>

#include "file.h"
#include "policyd.h"
#include "unit.h"

static const char GOOD[] =
    "# comment\n"
    "\n"
    "google suffix google.com 2026-12-05  # trailing comment\n"
    "microsoft suffix .outbound.protection.outlook.com 2026-12-05\n"
    "microsoft net 40.107.0.0/16 2026-12-05\n"
    "google net 2a00:1450:4000::/36 2026-12-05\n";

static void bad(const char *text, const char *want, const char *what)
{
    struct pd_pools *p = NULL;
    struct str err = STR_INIT;
    int rc = pd_pools_parse("f", text, strlen(text), &p, &err);

    CHECK(rc == -1 && p == NULL, "%s: refused", what);
    CHECK(strstr(str_cstr(&err), want) != NULL, "%s: '%s' in '%s'", what,
          want, str_cstr(&err));
    str_free(&err);
}

int main(void)
{
    struct pd_pools *p = NULL;
    struct str err = STR_INIT, text = STR_INIT;

    CHECK(pd_pools_parse("f", GOOD, strlen(GOOD), &p, &err) == 0,
          "a good file parses (%s)", str_cstr(&err));
    CHECK(pd_pools_count(p) == 4, "four entries");
    CHECK_STR(pd_pools_match(p, "mail-ed1-f41.google.com", "192.0.2.1"),
              "google", "a subdomain of a suffix matches");
    CHECK_STR(pd_pools_match(p, "GOOGLE.COM", "192.0.2.1"), "google",
              "the suffix itself matches, case-insensitively");
    CHECK(pd_pools_match(p, "evilgoogle.com", "192.0.2.1") == NULL,
          "a suffix matches at a label boundary only");
    CHECK(pd_pools_match(p, "google.com.evil.test", "192.0.2.1") == NULL,
          "a name containing the suffix does not match");
    CHECK(pd_pools_match(p, "unknown", "192.0.2.1") == NULL,
          "an unverified name matches no suffix");
    CHECK_STR(pd_pools_match(p, "x.eur05.outbound.protection.outlook.com",
                             "192.0.2.1"), "microsoft",
              "a leading dot in the file is the same suffix");
    CHECK_STR(pd_pools_match(p, "unknown", "40.107.3.4"), "microsoft",
              "an address in a network matches without a name");
    CHECK_STR(pd_pools_match(p, "unknown", "2a00:1450:4864:20::41"), "google",
              "an IPv6 network");
    CHECK(pd_pools_match(p, "unknown", "40.108.0.1") == NULL,
          "an address outside the networks");
    CHECK(pd_pools_match(NULL, "google.com", "40.107.3.4") == NULL,
          "no list: nothing matches");
    pd_pools_free(p);

    bad("x suffix nodot 2026-12-05\n", "f:1: not a host name suffix",
        "a suffix without a dot");
    bad("\n\nx net 10.0.0.0/33 2026-12-05\n", "f:3: not an IP address",
        "a bad network, with its line number");
    bad("x net 10.0.0.0/8 05.12.2026\n", "YYYY-MM-DD", "a bad date");
    bad("x net 10.0.0.0/8\n", "expected", "a missing field");
    bad("x host a.example 2026-12-05\n", "neither suffix nor net",
        "an unknown kind");
    bad("x suffix a_b.example 2026-12-05\n", "not a host name suffix",
        "a character that is not in host names");

    CHECK(file_read("pools", "conf/greylist-pools.conf", PD_POOL_FILE_MAX, 0,
                    &text, &err) == 0, "the shipped file is readable (%s)",
          str_cstr(&err));
    CHECK(pd_pools_parse("conf/greylist-pools.conf", str_cstr(&text),
                         text.len, &p, &err) == 0,
          "the shipped file parses (%s)", str_cstr(&err));
    CHECK_STR(pd_pools_match(p, "mail-wm1-f41.google.com", "192.0.2.1"),
              "google", "shipped: Gmail's host names");
    CHECK_STR(pd_pools_match(p, "unknown", "209.85.128.5"), "google",
              "shipped: Google's networks");
    CHECK(pd_pools_match(p, "unknown", "192.0.2.1") == NULL,
          "shipped: a documentation address is in no pool");
    pd_pools_free(p);
    str_free(&text);
    str_free(&err);

    CHECK(pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT,
                          "dsl-192-0-2-52.isp.example"), "dsl");
    CHECK(pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT,
                          "ip-10-1-2-3.eu-west-1.compute.example"),
          "ip-digits");
    CHECK(pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT,
                          "host52.dynamic.isp.example"), "dynamic");
    CHECK(pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT,
                          "52.2.0.192.cable.example"), "dotted address");
    CHECK(pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT, "DHCP-7.ISP.EXAMPLE"),
          "case-insensitive");
    CHECK(!pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT, "mx1.school.example"),
          "a mail server's name is not dynamic");
    CHECK(!pd_grey_dynamic(PD_GREY_DYNAMIC_DEFAULT,
                           "mail-ed1-f41.google.com"),
          "a provider's numbered name is not dynamic");
    CHECK(!pd_grey_dynamic("", "dsl-1-2-3-4.example"), "no patterns");
    CHECK(pd_grey_dynamic("#x#", "ab12x3.example") &&
              !pd_grey_dynamic("#x#", "abx3.example"),
          "# is one or more digits");
    return UNIT_END();
}
