/*
 * test_dbtext - lib/dbtext.c: UTF-8 as utf8mb4 takes it, and values bound
 * to a column: kept when they fit, else canonicalised (leading part, '#',
 * 16 hex digits of a hash of the whole), deterministic and distinct.
 */
#include <string.h>

#include "dbtext.h"
#include "unit.h"

int main(void)
{
    char out[400], out2[400], long_ascii[300];
    const char *lost = "caf\xe9\xff@example.net";

    CHECK(dbtext_chars("abc", 3) == 3, "ASCII");
    CHECK(dbtext_chars("gr\xc3\xbc\xc3\x9f", 6) == 4, "2-byte UTF-8");
    CHECK(dbtext_chars("\xf0\x9f\x98\x80", 4) == 1, "4-byte UTF-8 (utf8mb4)");
    CHECK(dbtext_chars("\xe9", 1) == -1, "a Latin-1 byte is not UTF-8");
    CHECK(dbtext_chars("\xc0\xaf", 2) == -1, "an overlong form is refused");
    CHECK(dbtext_chars("\xed\xa0\x80", 3) == -1, "a surrogate is refused");
    CHECK(dbtext_chars("\xf4\x90\x80\x80", 4) == -1, "over U+10FFFF refused");
    CHECK(dbtext_chars("a\0b", 3) == -1, "NUL is refused");
    CHECK(dbtext_chars("\xe2\x82", 2) == -1, "a cut sequence is refused");

    CHECK(dbtext_bound(out, sizeof(out), "a@b.example", 11, 320) == 0 &&
              !strcmp(out, "a@b.example"), "a value that fits is kept");
    CHECK(dbtext_bound(out, sizeof(out), lost, strlen(lost), 320) == 1 &&
              !strncmp(out, "caf??@example.net#", 18) && strlen(out) == 18 + 16 &&
              dbtext_chars(out, strlen(out)) > 0,
          "bytes that are not UTF-8 become '?' and a hash is added (%s)", out);
    dbtext_bound(out2, sizeof(out2), lost, strlen(lost), 320);
    CHECK(!strcmp(out, out2), "the same input gives the same text");
    dbtext_bound(out2, sizeof(out2), "caf\xe9\xfe@example.net",
                 strlen(lost), 320);
    CHECK(strcmp(out, out2) != 0, "different inputs stay different");

    memset(long_ascii, 'a', 257);
    memcpy(long_ascii, "spf:", 4);
    CHECK(dbtext_bound(out, sizeof(out), long_ascii, 257, 255) == 1 &&
              strlen(out) == 255 && out[238] == '#',
          "a value longer than its column is cut to fit with the hash (%zu)",
          strlen(out));
    CHECK(dbtext_bound(out, 40, long_ascii, 257, 255) == 1 && strlen(out) == 39,
          "the output buffer bounds it too (%zu bytes)", strlen(out));
    CHECK(dbtext_bound(out, DBTEXT_SUFFIX_LEN + 4,
                       "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"
                       "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc", 24,
                       320) == 1 &&
              !strncmp(out, "\xc3\xbc#", 3),
          "a multi-byte character is never cut in the middle");
    CHECK(dbtext_bound(out, sizeof(out), long_ascii, 257, DBTEXT_SUFFIX_LEN) == -1,
          "a column too small for the canonical form: -1");
    return UNIT_END();
}
