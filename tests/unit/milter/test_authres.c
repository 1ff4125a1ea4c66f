/*
 * test_authres - the authserv-id of incoming Authentication-Results
 * values (milter/authres.c, RFC 8601 2.2: CFWS with nested comments and
 * quoted-pairs, token or quoted-string, case-insensitive comparison, an
 * optional version after it) and which of them claim ours.
 */
#include <string.h>

#include "milter.h"
#include "unit.h"

#define OURS "mx.school.example"

static int ours(const char *v)
{
    return ar_is_ours(v, OURS);
}

static void test_plain(void)
{
    char id[256];

    CHECK(ar_authserv_id("mx.school.example; spf=pass", id, sizeof(id)) == 0 &&
              !strcmp(id, "mx.school.example"), "token");
    CHECK(ar_authserv_id(" \"mx.school.example\" 1; none", id, sizeof(id)) ==
                  0 && !strcmp(id, "mx.school.example"), "quoted-string");
    CHECK(ours("mx.school.example; spf=pass smtp.mailfrom=a@b.example"),
          "plain");
    CHECK(ours(" mx.school.example; spf=pass"), "leading space (LEADSPC)");
    CHECK(ours("MX.School.EXAMPLE; dkim=pass"), "upper case");
    CHECK(ours("mx.school.example 1; dkim=pass"), "version after it");
    CHECK(ours("mx.school.example\n\t1 ; dkim=pass"), "folded before the "
          "version");
    CHECK(ours("mx.school.example; none"), "no-result");
    CHECK(ours("mx.school.example"), "nothing after it");
    CHECK(ours("mx.school.example(comment); dkim=pass"), "comment glued on");
}

static void test_cfws(void)
{
    CHECK(ours("(forged) mx.school.example; dkim=pass"), "a comment first");
    CHECK(ours("(a (b (c)) d) mx.school.example; dkim=pass"), "nested");
    CHECK(ours("(a \\) b) mx.school.example; dkim=pass"), "quoted-pair ) in "
          "a comment");
    CHECK(ours("(a \\( b) mx.school.example; dkim=pass"), "quoted-pair ( in "
          "a comment");
    CHECK(ours("(\"quote in a comment) mx.school.example; dkim=pass"),
          "a '\"' in a comment is no quote");
    CHECK(ours("\r\n\t(x)\r\n (y (z))\n\tmx.school.example; dkim=pass"),
          "folded CFWS");
    CHECK(ours("((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))"
               "))))mx.school.example; dkim=pass"),
          "comments nested 32 deep");
    CHECK(ours("\"MX.SCHOOL.EXAMPLE\"; dkim=pass"), "quoted, upper case");
    CHECK(ours("\"mx.school\\.example\" 1; dkim=pass"), "quoted with a "
          "quoted-pair");
    CHECK(ours("(((mx.school.example; dkim=pass"), "unterminated comment "
          "naming our id: removed");
    CHECK(ours("\"mx.school.example; dkim=pass"), "unterminated quote naming "
          "our id: removed");
    CHECK(ours("mx.school.example.; dkim=pass"), "trailing root dot");
    CHECK(ours("mx.school.example/x; dkim=pass"), "a token ends at a "
          "tspecial");
    CHECK(ours("mx.school.example:1; dkim=pass"), "... any tspecial");
}

static void test_not_ours(void)
{
    CHECK(!ours("other.example; dkim=pass (mx.school.example)"),
          "another id, ours in a comment");
    CHECK(!ours("(mx.school.example) other.example; dkim=pass"),
          "our id in a comment before another id");
    CHECK(!ours("mx.school.example.evil; dkim=pass"), "a longer id");
    CHECK(!ours("evil-mx.school.example; dkim=pass"), "a suffix of ours");
    CHECK(!ours("\"other mx.school.example\"; dkim=pass"), "a quoted id that "
          "contains ours");
    CHECK(!ours("other.example 1; spf=pass smtp.mailfrom=mx.school.example"),
          "ours as a property value");
    CHECK(!ours("(((other.example; dkim=pass"), "unreadable, not naming ours");
    CHECK(!ours(""), "empty");
}

int main(void)
{
    test_plain();
    test_cfws();
    test_not_ours();
    return UNIT_END();
}
