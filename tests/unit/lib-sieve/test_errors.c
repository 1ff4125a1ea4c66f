/*
 * test_errors - sieve_compile() as a compiler (issue 18): every error in
 * one pass, sorted by line, at most SIEVE_ERRORS_MAX plus "too many
 * errors"; recovery after syntax errors (no endless loop on a stray '}',
 * an error token, an unterminated string or comment); a script with
 * thousands of errors stays bounded; errors are appended after what the
 * caller's buffer already holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "unit.h"

/* compile text; the error lines into out (reset first); -1 or 0 */
static int compile(const char *text, struct str *out)
{
    struct sieve_script *s = NULL;
    int rc;

    str_reset(out);
    rc = sieve_compile("t", text, strlen(text), NULL, &s, out);
    sieve_script_free(s);
    return rc;
}

static size_t lines(const struct str *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->len; i++)
        n += s->data[i] == '\n';
    return n;
}

int main(void)
{
    struct str e = STR_INIT, big = STR_INIT;
    int rc;

    rc = compile("keep;\nfrob1;\n}\n}\nfrob2;\n", &e);
    CHECK(rc < 0, "stray braces at the top level: an error");
    CHECK_STR(str_cstr(&e),
              "t:2: error: unknown command 'frob1'\n"
              "t:3: error: expected a command, found '}'\n"
              "t:4: error: expected a command, found '}'\n"
              "t:5: error: unknown command 'frob2'\n",
              "stray braces: each reported, the rest checked, in line order");

    rc = compile("if true {\n  keep &\n  frob;\n}\ndiscard\n", &e);
    CHECK_STR(str_cstr(&e),
              "t:2: error: unexpected character '&'\n"
              "t:5: error: expected ';' or '{' after command 'discard', "
              "found end of script\n",
              "an error token inside a block: skipped to ';'");

    rc = compile("keep;\n/* open\ncomment\n", &e);
    CHECK_STR(str_cstr(&e), "t:2: error: unterminated comment\n",
              "unterminated comment: one error, no loop");

    rc = compile("keep \"a\" [\"b\",\n", &e);
    CHECK_STR(str_cstr(&e),
              "t:1: error: expected a string in a string list, found end "
              "of script\n",
              "end of script inside a string list: one error");

    rc = compile("if anyof (true,\n", &e);
    CHECK(rc < 0 && lines(&e) == 1, "end of script in a test list: one error");

    /* validation errors come sorted between the parser's */
    rc = compile("frob0;\nkeep &;\nfrob2;\n", &e);
    CHECK_STR(str_cstr(&e),
              "t:1: error: unknown command 'frob0'\n"
              "t:2: error: unexpected character '&'\n"
              "t:3: error: unknown command 'frob2'\n",
              "parser and validator errors in line order");

    /* thousands of errors: 20 lines and one more, memory bounded */
    for (int i = 0; i < 5000; i++)
        str_appendf(&big, "frob%d; ) ", i);
    rc = compile(str_cstr(&big), &e);
    CHECK(rc < 0 && lines(&e) == SIEVE_ERRORS_MAX + 1,
          "10,000 errors: %d lines and 'too many errors'",
          SIEVE_ERRORS_MAX);
    CHECK(strstr(str_cstr(&e), "t: error: too many errors\n") != NULL,
          "... the last line");

    /* errors are appended to what the buffer holds */
    str_reset(&e);
    str_append_cstr(&e, "earlier\n");
    {
        struct sieve_script *s = NULL;
        sieve_compile("t", "frob;", 5, NULL, &s, &e);
        sieve_script_free(s);
    }
    CHECK_STR(str_cstr(&e), "earlier\nt:1: error: unknown command 'frob'\n",
              "appended after the caller's text");

    rc = compile("require \"fileinto\";\nfileinto \"A\";\n", &e);
    CHECK(rc == 0 && e.len == 0, "a good script: no errors");

    str_free(&e);
    str_free(&big);
    return UNIT_END();
}
