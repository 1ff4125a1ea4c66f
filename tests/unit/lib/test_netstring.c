/* test_netstring - netstring codec, including malformed and oversized input. */
#include "netstring.h"
#include "unit.h"

static enum netstring_status dec(const char *in, size_t max, const char **d,
                                 size_t *len, size_t *used)
{
    return netstring_decode(in, strlen(in), max, d, len, used);
}

int main(void)
{
    const char *d;
    size_t len, used;
    struct str s = STR_INIT;

    CHECK(dec("5:hello,", 100, &d, &len, &used) == NETSTRING_OK &&
              len == 5 && !memcmp(d, "hello", 5) && used == 8,
          "decodes a complete netstring");
    CHECK(dec("0:,", 100, &d, &len, &used) == NETSTRING_OK && len == 0 &&
              used == 3, "decodes the empty netstring");
    CHECK(dec("5:hello,3:abc,", 100, &d, &len, &used) == NETSTRING_OK &&
              used == 8, "stops after the first of two");
    CHECK(dec("5:hel", 100, &d, &len, &used) == NETSTRING_INCOMPLETE,
          "partial payload is incomplete");
    CHECK(dec("12", 100, &d, &len, &used) == NETSTRING_INCOMPLETE,
          "partial length is incomplete");
    CHECK(dec("5:hello", 100, &d, &len, &used) == NETSTRING_INCOMPLETE,
          "missing comma is incomplete");
    CHECK(dec("5:hello;", 100, &d, &len, &used) == NETSTRING_ERR_FORMAT,
          "wrong terminator is an error");
    CHECK(dec(":hello,", 100, &d, &len, &used) == NETSTRING_ERR_FORMAT,
          "missing length is an error");
    CHECK(dec("x:hello,", 100, &d, &len, &used) == NETSTRING_ERR_FORMAT,
          "non-digit length is an error");
    CHECK(dec("-1:a,", 100, &d, &len, &used) == NETSTRING_ERR_FORMAT,
          "negative length is an error");
    CHECK(dec("101:", 100, &d, &len, &used) == NETSTRING_ERR_SIZE,
          "length over the limit is refused before the payload arrives");
    CHECK(dec("99999999999999999999999:", (size_t)-1, &d, &len, &used) ==
              NETSTRING_ERR_FORMAT,
          "more than 10 digits is refused (no overflow)");
    CHECK(dec("18446744073709551616:", (size_t)-1, &d, &len, &used) < 0,
          "2^64 does not wrap around");
    CHECK(dec("\x00\x01", 100, &d, &len, &used) == NETSTRING_INCOMPLETE ||
              1, "binary input does not crash");
    CHECK(netstring_decode("3:\0\0\0,", 6, 10, &d, &len, &used) ==
              NETSTRING_OK && len == 3, "NUL bytes in the payload are data");
    CHECK(netstring_encode(&s, "OK a@b", 6) == 0 &&
              !strcmp(str_cstr(&s), "6:OK a@b,"), "encodes");
    str_reset(&s);
    CHECK(netstring_encode(&s, "", 0) == 0 && !strcmp(str_cstr(&s), "0:,"),
          "encodes the empty string");
    {   /* round trip of every length 0..300 */
        int ok = 1;
        char buf[300];
        memset(buf, 'x', sizeof(buf));
        for (size_t n = 0; n < sizeof(buf) && ok; n++) {
            str_reset(&s);
            netstring_encode(&s, buf, n);
            ok = netstring_decode(s.data, s.len, 1000, &d, &len, &used) ==
                     NETSTRING_OK && len == n && used == s.len;
        }
        CHECK(ok, "round trip of lengths 0..299");
    }
    str_free(&s);
    return UNIT_END();
}
