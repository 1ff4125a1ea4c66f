/*
 * test_msghdr - lib/msghdr.c: header fields one by one (folded lines
 * belong to their field, blanks before ':' are not part of the name,
 * lines without a name are skipped, no line break at the end), and
 * unfolding with trimming.
 */
#include <stdio.h>
#include <string.h>

#include "msghdr.h"
#include "unit.h"

/* fields - "name=[unfolded value]" for each field, joined by '|' */
static const char *fields(const char *h, size_t len)
{
    static char out[1024];
    struct msghdr_field f;
    size_t pos = 0, k = 0;
    char v[256];

    out[0] = '\0';
    while (msghdr_next(h, len, &pos, &f) && k < sizeof(out) - 1) {
        size_t n = f.vlen < sizeof(v) ? f.vlen : sizeof(v) - 1;
        msghdr_unfold(f.value, n, v);
        k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%.*s=[%s]",
                              k ? "|" : "", (int)f.nlen, f.name, v);
    }
    return out;
}

int main(void)
{
    static const struct { const char *in, *want, *what; } cases[] = {
        {"Subject: hi\nTo: a@b\n", "Subject=[hi]|To=[a@b]", "two fields"},
        {"Subject: one\n two\n\tthree\nX: y\n",
         "Subject=[one two\tthree]|X=[y]", "folded lines joined"},
        {"Subject :  spaced  \n", "Subject=[spaced]",
         "blanks before ':' and around the value"},
        {"no colon here\nA: 1\n", "A=[1]", "a line without ':' skipped"},
        {": empty name\nB: 2\n", "B=[2]", "an empty name skipped"},
        {"Bad\n name: x\nC: 3", "C=[3]",
         "a name with a line break skipped; no final newline"},
        {"D:\n", "D=[]", "an empty value"},
        {"E: a\r\n b\r\n", "E=[a b]", "CRLF folding"},
        {"", "", "an empty section"},
    };
    struct msghdr_field f;
    char buf[64];
    size_t pos = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(fields(cases[i].in, strlen(cases[i].in)), cases[i].want,
                  "%s", cases[i].what);

    CHECK(msghdr_unfold("  a \n\t b  ", 10, buf) == 5 &&
              strcmp(buf, "a \t b") == 0, "unfold: '%s'", buf);
    CHECK(msghdr_unfold(" \n ", 3, buf) == 0 && buf[0] == '\0',
          "unfold: only blanks");

    CHECK(msghdr_next("Delivered-To: x\n", 16, &pos, &f) == 1 &&
              msghdr_name_is(&f, "delivered-to") &&
              !msghdr_name_is(&f, "Delivered") &&
              !msghdr_name_is(&f, "Delivered-To-X"),
          "names compare whole and case-insensitively");
    CHECK(msghdr_next("Delivered-To: x\n", 16, &pos, &f) == 0,
          "then the end");
    pos = 0;
    CHECK(msghdr_next("A: x\0y\nB: z\n", 12, &pos, &f) == 1 && f.vlen == 5,
          "a NUL byte inside a value is kept");
    return UNIT_END();
}
