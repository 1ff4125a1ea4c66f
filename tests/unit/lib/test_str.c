/* test_str - counted strings and log sanitizing. */
#include "log.h"
#include "str.h"
#include "unit.h"

int main(void)
{
    struct str s = STR_INIT;
    char buf[64], big[2000];

    CHECK(!strcmp(str_cstr(&s), ""), "empty string reads as \"\"");
    CHECK(str_append(&s, "ab\0c", 4) == 0 && s.len == 4, "NUL bytes are data");
    CHECK(str_appendf(&s, "%d-%s", 42, "x") == 0 && s.len == 8, "appendf");
    str_consume(&s, 3);
    CHECK(s.len == 5 && s.data[0] == 'c', "consume");
    str_truncate(&s, 1);
    CHECK(s.len == 1 && s.data[1] == '\0', "truncate");
    CHECK(str_reserve(&s, STR_MAX_SIZE + 1) < 0, "growth past the cap refused");
    CHECK(s.len == 1, "a refused append leaves the string alone");
    for (int i = 0; i < 10000; i++)
        str_append_char(&s, 'x');
    CHECK(s.len == 10001, "grows");
    str_free(&s);
    CHECK(str_copy_bounded(buf, 4, "abcd", 4) < 0 && buf[0] == '\0',
          "bounded copy reports truncation");
    CHECK(str_copy_bounded(buf, 5, "abcd", 4) == 0 && !strcmp(buf, "abcd"),
          "bounded copy that fits");
    log_sanitize(buf, sizeof(buf), "a\nb\x1b[31m\xff", 9);
    CHECK_STR(buf, "a?b?[31m?", "control and 8-bit bytes become '?'");
    memset(big, 'z', sizeof(big));
    log_sanitize(buf, sizeof(buf), big, sizeof(big));
    CHECK(strlen(buf) == 63 && !strcmp(buf + 60, "..."), "cut with a marker");
    CHECK(strlen(log_safe(big, sizeof(big))) == LOG_UNTRUSTED_MAX,
          "log_safe caps at LOG_UNTRUSTED_MAX");
    {
        struct str empty = STR_INIT, secret = STR_INIT;
        str_wipe(&empty); /* an empty file read into a str: no buffer */
        str_append_cstr(&secret, "hunter2");
        str_wipe(&secret);
        CHECK(empty.data == NULL && secret.data == NULL && secret.len == 0,
              "str_wipe frees a string with or without a buffer");
    }
    return UNIT_END();
}
