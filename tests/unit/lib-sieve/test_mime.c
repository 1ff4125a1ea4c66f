/*
 * test_mime - the bounds of the MIME extensions (RFC 5703) in the engine:
 * SIEVE_MIME_PARTS parts are seen and no more, SIEVE_MIME_DEPTH levels of
 * nesting are opened and no more, foreverypart draws on the CPU budget
 * (a script looping over many parts with a small max_steps ends with
 * "script takes too long" and the message is kept), extracttext cuts a
 * long part to the variable size, replace refuses to build a message
 * over the memory budget, and the whole run stays well under a second.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sieve.h"
#include "unit.h"

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* run script on the message; the printed actions (or "error: ...") */
static void run(const char *script, const struct str *msg,
                const struct sieve_host *h, struct str *out)
{
    struct sieve_script *s;
    struct sieve_message m;
    struct sieve_result res;
    struct str err = STR_INIT;

    str_reset(out);
    if (sieve_compile("t", script, strlen(script), h, &s, &err) < 0) {
        str_appendf(out, "compile: %s", err.data ? err.data : "");
        str_free(&err);
        return;
    }
    sieve_message_text(&m, msg->data, msg->len);
    sieve_result_init(&res, "INBOX");
    if (sieve_execute(s, &m, h, &res) < 0)
        str_appendf(out, "error: %s\n", res.error.data ? res.error.data : "");
    sieve_result_finish(&res);
    sieve_result_print(&res, out);
    sieve_result_free(&res);
    sieve_script_free(s);
    str_free(&err);
}

/* a multipart/mixed message with n text parts, each with X-N: i */
static void many_parts(struct str *m, int n)
{
    str_reset(m);
    str_append_cstr(m, "Subject: many\nContent-Type: multipart/mixed; "
                       "boundary=B\n\n");
    for (int i = 0; i < n; i++)
        str_appendf(m, "--B\nContent-Type: text/plain\nX-N: %d\n\npart %d\n",
                    i, i);
    str_append_cstr(m, "--B--\n");
}

/* multiparts nested `depth` deep, a text part with X-Deep at the bottom */
static void nested(struct str *m, int depth)
{
    str_reset(m);
    str_append_cstr(m, "Subject: deep\nContent-Type: multipart/mixed; "
                       "boundary=L0\n\n");
    for (int i = 1; i < depth; i++)
        str_appendf(m, "--L%d\nContent-Type: multipart/mixed; boundary=L%d\n\n",
                    i - 1, i);
    str_appendf(m, "--L%d\nContent-Type: text/plain\nX-Deep: yes\n\nbottom\n",
                depth - 1);
    for (int i = depth - 1; i >= 0; i--)
        str_appendf(m, "--L%d--\n", i);
}

int main(void)
{
    struct sieve_host h;
    struct str msg = STR_INIT, out = STR_INIT;
    double t0 = cpu_now();

    memset(&h, 0, sizeof(h));

    /* parts: 1 (the message) + 1200 text parts: 1000 seen in all */
    many_parts(&msg, 1200);
    run("require [\"foreverypart\", \"mime\", \"fileinto\", \"relational\","
        " \"comparator-i;ascii-numeric\"];\n"
        "if header :mime :anychild :count \"eq\" :comparator "
        "\"i;ascii-numeric\" \"X-N\" \"999\" { fileinto \"capped\"; }\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "fileinto capped\n",
              "SIEVE_MIME_PARTS: 999 of 1200 parts below the message seen");
    run("require [\"foreverypart\", \"mime\", \"fileinto\"];\n"
        "if header :mime :anychild \"X-N\" \"998\" { fileinto \"seen\"; }\n"
        "if header :mime :anychild \"X-N\" \"999\" { fileinto \"unseen\"; }\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "fileinto seen\n",
              "part 998 seen, part 999 (the 1001st) not");

    /* the CPU budget: 1000 rounds of 100+ steps over a budget of 20000 */
    h.max_steps = 20000;
    run("require [\"foreverypart\", \"mime\", \"fileinto\"];\n"
        "foreverypart { if header :mime \"X-N\" \"1199\" { fileinto \"x\"; } }\n",
        &msg, &h, &out);
    CHECK(strstr(str_cstr(&out), "script takes too long") != NULL,
          "foreverypart rounds draw on the CPU budget");
    CHECK(strstr(str_cstr(&out), "\nkeep\n") != NULL,
          "... and the message is kept");
    h.max_steps = 0;

    /* depth: SIEVE_MIME_DEPTH levels are opened, one more is not */
    nested(&msg, SIEVE_MIME_DEPTH);
    run("require [\"mime\", \"fileinto\"];\n"
        "if exists :mime :anychild \"X-Deep\" { fileinto \"found\"; }\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "fileinto found\n",
              "SIEVE_MIME_DEPTH levels of multipart are opened");
    nested(&msg, SIEVE_MIME_DEPTH + 1);
    run("require [\"mime\", \"fileinto\"];\n"
        "if exists :mime :anychild \"X-Deep\" { fileinto \"found\"; }\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "keep\n", "one level more is not");

    /* extracttext of a long part: cut to the variable size */
    str_reset(&msg);
    str_append_cstr(&msg, "Subject: long\n\n");
    for (int i = 0; i < 10000; i++)
        str_append_cstr(&msg, "0123456789");
    str_append_char(&msg, '\n');
    run("require [\"foreverypart\", \"extracttext\", \"variables\", "
        "\"fileinto\"];\n"
        "foreverypart { extracttext :length \"n\"; extracttext \"t\";\n"
        "  set :length \"l\" \"${t}\"; fileinto \"${n}-${l}\"; }\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "fileinto 100001-4096\n",
              "extracttext: 100001 characters, the variable cut to 4096");

    /* the new message counts against the memory budget: the loaded
       100 KB message and an enclosed copy are over 180,000 bytes */
    h.max_memory = 180000;
    run("require \"enclose\";\nenclose \"see the attachment\";\nkeep;\n",
        &msg, &h, &out);
    CHECK(strstr(str_cstr(&out), "uses too much memory") != NULL,
          "enclose: the new message counts against the memory budget");
    CHECK(strstr(str_cstr(&out), "\nkeep\n") != NULL,
          "... and the message is kept");
    h.max_memory = 400000;
    run("require \"enclose\";\nenclose \"see the attachment\";\nkeep;\n",
        &msg, &h, &out);
    CHECK_STR(str_cstr(&out), "keep\n", "enclose within the budget");
    h.max_memory = 0;

    CHECK(cpu_now() - t0 < 2.0, "all of it in under 2 s of CPU");
    str_free(&msg);
    str_free(&out);
    return UNIT_END();
}
