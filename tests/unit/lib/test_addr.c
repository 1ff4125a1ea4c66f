/* test_addr - address parsing, normalization, extension stripping, limits. */
#include "addr.h"
#include "unit.h"

static int parse(const char *in, const char *delims, int flags, struct addr *a)
{
    const char *err;

    return addr_parse(in, strlen(in), delims, flags, a, &err);
}

static const char *alias_of(void *ctx, const char *d)
{
    (void)ctx;
    if (!strcmp(d, "bns-schule.example"))
        return "bns.school.example";
    if (!strcmp(d, "loop-a.example"))
        return "loop-b.example";
    if (!strcmp(d, "loop-b.example"))
        return "loop-a.example";
    return NULL;
}

static const char *canon(const char *in)
{
    static struct addr c;
    const char *err;

    if (addr_canonical(in, strlen(in), "+", ADDR_ALLOW_EMPTY, alias_of, NULL,
                       &c, &err) < 0)
        return "(error)";
    return c.full;
}

static void test_canonical(void)
{
    const char *spellings[] = {
        "pupil@bns.school.example", "Pupil@BNS.School.Example",
        "pupil+x@bns.school.example", "pupil@bns-schule.example",
        "\"pupil\"@bns.school.example", "\"Pu\\pil\"@bns.school.example",
        "pupil@bns.school.example.", "\"pupil+tag\"@BNS-Schule.example.",
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
        CHECK_STR(canon(spellings[i]), "pupil@bns.school.example", "%s", spellings[i]);
    CHECK_STR(canon("\"a b\"@x.example"), "\"a b\"@x.example",
              "a quoted local part that needs its quotes keeps them");
    CHECK_STR(canon(""), "", "the null sender stays empty");
    CHECK_STR(canon("u@loop-a.example"), "(error)",
              "an alias domain cycle is an error, not a loop");
    CHECK_STR(canon("user@[127.0.0.1]"), "user@[127.0.0.1]",
              "an address literal is kept");
}

int main(void)
{
    struct addr a;
    char longlocal[100], longdom[300];

    test_canonical();
    CHECK(parse("User@Example.ORG", "+", 0, &a) == 0, "parses a plain address");
    CHECK_STR(a.local, "User", "keeps the local part's case by default");
    CHECK_STR(a.domain, "example.org", "lower-cases the domain");
    CHECK(parse("User+Tag@Example.ORG", "+", ADDR_LOWER_LOCAL, &a) == 0,
          "parses with extension");
    CHECK_STR(a.local, "user", "strips the extension, lower-cases on request");
    CHECK_STR(a.ext, "tag", "keeps the extension");
    CHECK_STR(a.full, "user@example.org", "full address without extension");
    CHECK(a.delim == '+', "remembers the delimiter");
    CHECK(parse("a-b+c@x.example", "+-", 0, &a) == 0 && !strcmp(a.local, "a") &&
              !strcmp(a.ext, "b+c"), "several delimiters: the first wins");
    CHECK(parse("+foo@x.example", "+", 0, &a) == 0 && !strcmp(a.local, "+foo"),
          "a leading delimiter is not an extension");
    CHECK(parse("a+b@x.example", "", 0, &a) == 0 && !strcmp(a.local, "a+b"),
          "no delimiter configured: nothing stripped");
    CHECK(parse("a@b@x.example", "", 0, &a) < 0, "an '@' in an unquoted local "
          "part is refused");
    CHECK(parse("\"a@b\"@x.example", "+", 0, &a) == 0 &&
              !strcmp(a.domain, "x.example"), "quoted local part, split at the last @");
    CHECK(parse("user@x.example.", "", 0, &a) == 0 &&
              !strcmp(a.domain, "x.example"), "trailing root dot dropped");
    CHECK(parse("user", "", 0, &a) == 0 && !a.has_domain, "bare local part");
    CHECK(parse("user", "", ADDR_NEED_DOMAIN, &a) < 0, "bare local part refused "
          "when a domain is needed");
    CHECK(parse("", "", 0, &a) < 0, "empty refused");
    CHECK(parse("", "", ADDR_ALLOW_EMPTY, &a) == 0, "empty allowed for <>");
    CHECK(parse("us er@x.example", "", 0, &a) < 0, "space refused");
    CHECK(parse("user@x..example", "", 0, &a) < 0, "empty label refused");
    CHECK(parse("user@-x.example", "", 0, &a) < 0, "leading hyphen refused");
    CHECK(parse("user@x-.example", "", 0, &a) < 0, "trailing hyphen refused");
    CHECK(parse("a..b@x.example", "", 0, &a) < 0, "double dot refused");
    CHECK(parse(".a@x.example", "", 0, &a) < 0, "leading dot refused");
    CHECK(parse("user@[127.0.0.1]", "", 0, &a) == 0, "address literal");
    CHECK(parse("user@[IPv6:::1]", "", 0, &a) == 0, "IPv6 literal");
    CHECK(parse("j\xc3\xbcrgen@m\xc3\xbcller.example", "", 0, &a) == 0,
          "UTF-8 local part and domain");
    CHECK(parse("j\xc3@x.example", "", 0, &a) < 0, "broken UTF-8 refused");
    CHECK(parse("a\x01@x.example", "", 0, &a) < 0, "control character refused");
    CHECK(addr_parse("a\0b@x.example", 11, "", 0, &a, &(const char *){0}) < 0,
          "NUL byte refused");
    memset(longlocal, 'a', 65);
    strcpy(longlocal + 65, "@x.example");
    CHECK(parse(longlocal, "", 0, &a) < 0, "65-octet local part refused");
    longlocal[64] = '@';
    strcpy(longlocal + 65, "x.example");
    memmove(longlocal + 1, longlocal + 2, strlen(longlocal + 2) + 1);
    CHECK(parse(longlocal, "", 0, &a) == 0, "64-octet local part accepted");
    memset(longdom, 'a', 64);
    strcpy(longdom + 64, ".example");
    CHECK(!addr_domain_valid(longdom, strlen(longdom)), "64-octet label refused");
    for (int i = 0; i < 260; i++)
        longdom[i] = (i % 2) ? '.' : 'a';
    longdom[259] = 'a';
    longdom[260] = '\0';
    CHECK(!addr_domain_valid(longdom, strlen(longdom)), "260-octet domain refused");
    return UNIT_END();
}
