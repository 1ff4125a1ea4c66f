/*
 * test_msghdr - lib/msghdr.c: header fields one by one (folded lines
 * belong to their field, blanks before ':' are not part of the name,
 * lines without a name are skipped, no line break at the end), and
 * unfolding with trimming; msghdr_mailbox: the one address of a From.
 */
#include <stdio.h>
#include <string.h>

#include "msghdr.h"
#include "unit.h"

/* mailbox - msghdr_mailbox of v, or "-" when it holds no single mailbox */
static const char *mailbox(const char *v)
{
    static char out[330];

    return msghdr_mailbox(v, strlen(v), out, sizeof(out)) ? out : "-";
}

static void test_mailbox(void)
{
    static const struct {
        const char *in, *want, *what;
    } cases[] = {
        {"head@school.example", "head@school.example", "addr-spec"},
        {" Schulleitung <head@school.example>", "head@school.example",
         "name-addr"},
        {"\"Doe, John (Head)\" <head@school.example>", "head@school.example",
         "quoted display name with ',' and '('"},
        {"=?utf-8?q?Gr=C3=BC=C3=9Fe?= <a@x.example> (comment)", "a@x.example",
         "encoded word, trailing comment"},
        {"head@school.example (Schulleitung)", "head@school.example",
         "addr-spec with a comment"},
        {"(c (nested)) <\"the head\"@school.example>",
         "\"the head\"@school.example", "quoted local part kept quoted"},
        {"Name\n\t<head@school.example>\n", "head@school.example", "folded"},
        {"<a@[192.0.2.1]>", "a@[192.0.2.1]", "domain literal"},
        {"<a@[IPv6:2001:db8::1]>", "a@[IPv6:2001:db8::1]", "v6 literal"},
        {"pupil@school.example, head@school.example", "-", "two mailboxes"},
        {"Pupil <pupil@school.example>, Head <head@school.example>", "-",
         "two name-addrs"},
        {"Pupil <pupil@school.example> <head@school.example>", "-",
         "two angle-addrs"},
        {"<pupil@school.example> head@school.example", "-", "text after >"},
        {"undisclosed:;", "-", "group"},
        {"team: a@x.example;", "-", "group with a member"},
        {"<@relay.example:head@school.example>", "-", "obsolete route"},
        {"head @school.example", "-", "blank inside the addr-spec"},
        {"John Doe head@school.example", "-", "words before a bare address"},
        {"<head@school.example", "-", "unclosed <"},
        {"(head@school.example", "-", "unclosed comment"},
        {"\"head@school.example", "-", "unclosed quote"},
        {"", "-", "empty"},
        {"  (only a comment) ", "-", "no address"},
        {"Name <>", "-", "empty angle-addr"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(mailbox(cases[i].in), cases[i].want, "mailbox: %s",
                  cases[i].what);
    CHECK(msghdr_mailbox("a\0b@x.example", 11, (char[64]){0}, 64) == 0,
          "mailbox: a NUL byte");
    CHECK(msghdr_mailbox("abcdef@x.example", 16, (char[8]){0}, 8) == 0,
          "mailbox: longer than the buffer");
}

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
    test_mailbox();
    return UNIT_END();
}
