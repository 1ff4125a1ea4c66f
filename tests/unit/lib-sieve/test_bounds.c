/*
 * test_bounds - the engine's CPU and memory budgets (sieve.h): one CPU
 * budget per delivery for :matches backtracking, :contains, :regex and
 * every comparison, shared by include and by several scripts run into
 * one result; the memory budget per run (values, includes, editheader);
 * the body test computing its parts once per run; :regex keys refused at
 * compile time when libc could not match them in bounded time.  Each
 * case checks the outcome (a run-time error, then one implicit keep in
 * INBOX), the CPU time (well under a second) and the peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sieve.h"
#include "unit.h"

/* ASAN's shadow memory and redzones cost about 3 times the RSS: the
   bounds stay far below the failures they guard against (GB) */
#ifdef __SANITIZE_ADDRESS__
#define RSS_KB(kb) (4 * (kb))
#else
#define RSS_KB(kb) (kb)
#endif

static char dir[256];

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void put(const char *name, const struct str *text)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    if ((f = fopen(p, "w")) == NULL)
        return;
    fwrite(text->data, 1, text->len, f);
    fclose(f);
}

struct outcome {
    int compiled, rc;
    double cpu;
    char error[300];
    char actions[300];
};

/* compile and run text on msg[0..len) with host h; the outcome */
static struct outcome run(const char *text, const char *msg, size_t len,
                          const struct sieve_host *h)
{
    struct outcome o;
    struct sieve_script *s = NULL;
    struct sieve_message m;
    struct sieve_result res;
    struct str errors = STR_INIT, out = STR_INIT;
    double t0 = cpu_now();

    memset(&o, 0, sizeof(o));
    sieve_message_text(&m, msg, len);
    if (sieve_compile("t", text, strlen(text), h, &s, &errors) < 0) {
        snprintf(o.error, sizeof(o.error), "%s", str_cstr(&errors));
        str_free(&errors);
        o.cpu = cpu_now() - t0;
        return o;
    }
    o.compiled = 1;
    sieve_result_init(&res, "INBOX");
    o.rc = sieve_execute(s, &m, h, &res);
    sieve_result_finish(&res);
    o.cpu = cpu_now() - t0;
    snprintf(o.error, sizeof(o.error), "%s", str_cstr(&res.error));
    sieve_result_print(&res, &out);
    snprintf(o.actions, sizeof(o.actions), "%s", str_cstr(&out));
    sieve_result_free(&res);
    sieve_script_free(s);
    str_free(&errors);
    str_free(&out);
    return o;
}

static void test_body_once(const struct sieve_host *h)
{
    struct str msg = STR_INIT, script = STR_INIT;
    struct outcome o;
    long before = peak_rss_kb();

    /* a 1 MB base64 text part: decoding it per test would hold 200
       copies (200 MB) */
    str_append_cstr(&msg, "From: a@example.org\nSubject: b\nMIME-Version: "
                    "1.0\nContent-Type: text/plain\nContent-Transfer-"
                    "Encoding: base64\n\n");
    for (int i = 0; i < 13000; i++)
        str_append_cstr(&msg, "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y"
                        "bGQgaGVsbG8gd29ybGQgaGVsbG8g\n");
    str_append_cstr(&msg, "bmVlZGxl\n");
    str_append_cstr(&script, "require [\"body\", \"fileinto\"];\n");
    for (int i = 0; i < 100; i++)
        str_appendf(&script, "if body :contains \"zz%d\" { discard; }\n"
                    "if body :content \"text\" :contains \"zz%d\" "
                    "{ discard; }\n", i, i);
    str_append_cstr(&script, "if body :raw :contains \"bmVlZGxl\" "
                    "{ fileinto \"Found\"; }\n");
    o = run(script.data, msg.data, msg.len, h);
    CHECK(o.compiled && o.rc == 0, "body: 201 body tests on a 1 MB "
          "message run (%s)", o.error);
    CHECK_STR(o.actions, "fileinto Found\n", "body: :raw finds the text");
    CHECK(peak_rss_kb() - before < 30 * 1024, "body: parts decoded once "
          "per run (peak RSS grew %ld KB)", peak_rss_kb() - before);
    CHECK(o.cpu < 1.0, "body: %.3f s of CPU", o.cpu);
    str_free(&msg);
    str_free(&script);
}

/* the fuzzing finding: a 1.3 KiB :matches script and a ~760 KB message
   took 37 s of CPU with a budget per comparison */
static void test_matches(const struct sieve_host *h)
{
    struct str msg = STR_INIT, script = STR_INIT;
    struct outcome o;

    str_append_cstr(&msg, "From: x@example.org\nSubject: hi\n");
    for (int i = 0; i < 100; i++) {
        str_append_cstr(&msg, "X-A: ");
        for (int k = 0; k < 7500; k++)
            str_append_char(&msg, 'a');
        str_append_char(&msg, '\n');
    }
    str_append_cstr(&msg, "\nbody\n");
    str_append_cstr(&script, "require \"fileinto\";\nif header :matches "
                    "[\"x-a\", \"subject\"] [");
    for (int i = 0; i < 40; i++)
        str_appendf(&script, "%s\"*a*a*a*a*a*a*a*a*a*a*a*b%d\"",
                    i ? ", " : "", i);
    str_append_cstr(&script, "] { fileinto \"Junk\"; }\n");
    CHECK(script.len > 1200 && script.len < 1400 && msg.len > 700000,
          "matches: a %zu-byte script, a %zu-byte message", script.len,
          msg.len);
    o = run(script.data, msg.data, msg.len, h);
    CHECK(o.compiled && o.rc < 0, "matches: the run fails");
    CHECK(strstr(o.error, "script takes too long") != NULL,
          "matches: with a clear error: %s", o.error);
    CHECK_STR(o.actions, "keep\n", "matches: the message is kept");
    CHECK(o.cpu < 0.8, "matches: %.3f s of CPU (was 37 s)", o.cpu);
    str_free(&msg);
    str_free(&script);
}

/* one budget for the delivery: several scripts into one result */
static void test_shared_budget(const struct sieve_host *h)
{
    const char *text = "if header :contains \"x\" \"needle\" { discard; }\n";
    struct sieve_script *s = NULL;
    struct sieve_message m;
    struct sieve_result res;
    struct str errors = STR_INIT, msg = STR_INIT;
    struct sieve_host small = *h;
    unsigned long long one;
    int rcs[3];

    str_append_cstr(&msg, "X: ");
    for (int k = 0; k < 600000; k++)
        str_append_char(&msg, 'x');
    str_append_cstr(&msg, "\n\nb\n");
    sieve_message_text(&m, msg.data, msg.len);
    CHECK(sieve_compile("t", text, strlen(text), &small, &s, &errors) == 0,
          "shared: compiles");
    sieve_result_init(&res, "INBOX");
    sieve_execute(s, &m, &small, &res);
    one = res.steps;            /* what one run costs */
    sieve_result_reset(&res);
    small.max_steps = one * 2 + one / 2;   /* two runs fit, not three */
    for (int i = 0; i < 3; i++)
        rcs[i] = sieve_execute(s, &m, &small, &res);
    CHECK(one > 70000 && rcs[0] == 0 && rcs[1] == 0 && rcs[2] < 0,
          "shared: the budget spans the runs into one result (%llu steps "
          "a run; %d %d %d)", one, rcs[0], rcs[1], rcs[2]);
    sieve_result_free(&res);
    sieve_script_free(s);
    str_free(&errors);
    str_free(&msg);
}

static void test_regex(const struct sieve_host *h)
{
    static const char *const refused[] = {
        "(a*)*b", "(a+)+$", "((a{1,50}){1,50}){1,20}", "(x+x+)+y",
        "a**", "(a{2,3})+", "((a{1,100}){,100}){,100}", "(a{,9}){,9}", "(a)\\\\1", "a{1000}"};
    static const char *const allowed[] = {
        "^(.*)@(.*)$", "^(re: *)?(.*)", "[[:alpha:]]+[*]", "a{2,5}b",
        "(ab|cd)*x", "^\\\\[list\\\\] (.*)"};
    struct str msg = STR_INIT;
    char text[600];
    struct outcome o;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        snprintf(text, sizeof(text), "require \"regex\";\nif header :regex "
                 "\"subject\" \"%s\" { discard; }\n", refused[i]);
        o = run(text, "Subject: x\n\n", 12, h);
        CHECK(!o.compiled && strstr(o.error, "too complex") != NULL &&
              o.cpu < 0.05, "regex: %s refused at compile time in %.4f s: "
              "%s", refused[i], o.cpu, o.error);
    }
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        snprintf(text, sizeof(text), "require \"regex\";\nif header :regex "
                 "\"subject\" \"%s\" { discard; }\n", allowed[i]);
        o = run(text, "Subject: x\n\n", 12, h);
        CHECK(o.compiled, "regex: %s compiles (%s)", allowed[i], o.error);
    }
    /* a key built from a variable: refused at run time */
    o = run("require [\"regex\", \"variables\"];\nset \"k\" \"(a*)*\";\n"
            "if header :regex \"subject\" \"${k}b\" { discard; }\n",
            "Subject: aaaa\n\n", 16, h);
    CHECK(o.compiled && o.rc < 0 && strstr(o.error, "too complex"),
          "regex: a variable key checked at run time: %s", o.error);
    CHECK_STR(o.actions, "keep\n", "regex: the message is kept");
    /* libc searches in quadratic time: "a.*b" on 100 KB values */
    str_append_cstr(&msg, "Subject: hi\n");
    for (int i = 0; i < 8; i++) {
        str_append_cstr(&msg, "X-A: ");
        for (int k = 0; k < 100000; k++)
            str_append_char(&msg, 'a');
        str_append_char(&msg, '\n');
    }
    str_append_cstr(&msg, "\nbody\n");
    o = run("require \"regex\";\nif header :regex \"x-a\" \"a.*b\" "
            "{ discard; }\n", msg.data, msg.len, h);
    CHECK(o.rc < 0 && strstr(o.error, "takes too long") && o.cpu < 0.5,
          "regex: a quadratic search is refused by the budget in %.3f s: "
          "%s", o.cpu, o.error);
    o = run("require [\"regex\", \"variables\"];\nif header :regex "
            "\"subject\" \"^(h)(.)$\" { set \"s\" \"${2}${1}\"; }\n"
            "if string \"${s}\" \"ih\" { discard; }\n", msg.data, msg.len,
            h);
    CHECK_STR(o.actions, "discard\n", "regex: match variables still set");
    str_free(&msg);
}

/* three scripts including each other again and again (2.6 GB) */
static void test_includes(const struct sieve_host *h)
{
    struct str t = STR_INIT;
    struct outcome o;
    long before = peak_rss_kb();

    str_append_cstr(&t, "require [\"include\", \"variables\"];\n");
    for (int i = 0; i < 100; i++)
        str_append_cstr(&t, "include \"c\";\n");
    put("b.sieve", &t);
    str_reset(&t);
    str_append_cstr(&t, "require \"variables\";\nset \"y\" \"");
    for (int i = 0; i < 4000; i++)
        str_append_char(&t, 'x');
    str_append_cstr(&t, "\";\n");
    for (int i = 0; i < 60; i++)
        str_append_cstr(&t, "set \"z\" \"${y}\";\n");
    put("c.sieve", &t);
    str_reset(&t);
    str_append_cstr(&t, "require [\"include\", \"variables\"];\n");
    for (int i = 0; i < 100; i++)
        str_append_cstr(&t, "include \"b\";\n");
    o = run(t.data, "From: a@b.example\n\nhi\n", 22, h);
    CHECK(o.compiled && o.rc < 0 &&
          strstr(o.error, "script uses too much memory") != NULL,
          "includes: the run fails: %s", o.error);
    CHECK_STR(o.actions, "keep\n", "includes: the message is kept");
    CHECK(peak_rss_kb() - before < RSS_KB(100 * 1024) &&
          peak_rss_kb() < RSS_KB(150 * 1024),
          "includes: peak RSS %ld KB (was 4.7 GB)", peak_rss_kb());
    CHECK(o.cpu < 1.0, "includes: %.3f s of CPU", o.cpu);
    str_free(&t);
}

/* one 56 KiB editheader script (1.2 GB) */
static void test_editheader(const struct sieve_host *h)
{
    struct str t = STR_INIT;
    struct outcome o;

    str_append_cstr(&t, "require [\"editheader\", \"variables\"];\n"
                    "set \"v\" \"");
    for (int i = 0; i < 3900; i++)
        str_append_char(&t, 'v');
    str_append_cstr(&t, "\";\n");
    for (int i = 0; i < 140; i++)
        str_append_cstr(&t, "addheader \"X-F\" \"${v}\";\n");
    while (t.len < 56 * 1024)
        str_append_cstr(&t, "deleteheader :index 1 \"x-f\"; addheader :last "
                        "\"X-F\" \"${v}\"; if exists \"y\" {}\n");
    o = run(t.data, "From: a@b.example\n\nhi\n", 22, h);
    CHECK(o.compiled && o.rc < 0 &&
          (strstr(o.error, "too much memory") ||
           strstr(o.error, "takes too long")),
          "editheader: the run fails: %s", o.error);
    CHECK_STR(o.actions, "keep\n", "editheader: the message is kept");
    CHECK(peak_rss_kb() < RSS_KB(150 * 1024),
          "editheader: peak RSS %ld KB (was "
          "600 MB)", peak_rss_kb());
    CHECK(o.cpu < 1.0, "editheader: %.3f s of CPU", o.cpu);
    str_free(&t);
}

/* the host's lower memory limit ([lda] sieve_max_memory) */
static void test_memory_setting(const struct sieve_host *h)
{
    struct sieve_host small = *h;
    struct outcome o;
    struct str t = STR_INIT;

    small.max_memory = 1024 * 1024;
    str_append_cstr(&t, "require \"variables\";\nset \"y\" \"");
    for (int i = 0; i < 4000; i++)
        str_append_char(&t, 'x');
    str_append_cstr(&t, "\";\n");
    for (int i = 0; i < 400; i++)
        str_append_cstr(&t, "set \"z\" \"${y}\";\n");
    o = run(t.data, "From: a@b.example\n\nhi\n", 22, &small);
    CHECK(o.rc < 0 && strstr(o.error, "more than 1048576 bytes"),
          "memory: host.max_memory applies: %s", o.error);
    o = run(t.data, "From: a@b.example\n\nhi\n", 22, h);
    CHECK(o.rc == 0, "memory: the default lets 1.6 MB of values pass (%s)",
          o.error);
    str_free(&t);
}

/* :contains after its rewrite (memchr/memmem): the same answers */
static void test_contains(const struct sieve_host *h)
{
    static const struct {
        const char *cmp, *key, *want;
    } c[] = {
        {"i;ascii-casemap", "HeLLo", "discard\n"},
        {"i;ascii-casemap", "o W", "discard\n"},
        {"i;ascii-casemap", "xyz", "keep\n"},
        {"i;ascii-casemap", "", "discard\n"},
        {"i;ascii-casemap", "WORLD!", "discard\n"},
        {"i;ascii-casemap", "world!!", "keep\n"},
        {"i;ascii-casemap", "1", "keep\n"},
        {"i;octet", "Hello", "keep\n"},
        {"i;octet", "hello", "discard\n"},
        {"i;octet", "d!", "discard\n"},
        {"i;octet", "hello world! and more", "keep\n"},
    };
    const char *msg = "Subject: xxhello World!\n\nb\n";
    char text[300];

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct outcome o;
        snprintf(text, sizeof(text), "require \"comparator-i;octet\";\n"
                 "if header :comparator \"%s\" :contains \"subject\" "
                 "\"%s\" { discard; }\n", c[i].cmp, c[i].key);
        o = run(text, msg, strlen(msg), h);
        CHECK_STR(o.actions, c[i].want, "contains: %s \"%s\"", c[i].cmp,
                  c[i].key);
    }
}

int main(void)
{
    struct sieve_host h;

    snprintf(dir, sizeof(dir), "/tmp/test_bounds.%d", (int)getpid());
    mkdir(dir, 0700);
    memset(&h, 0, sizeof(h));
    h.personal_dir = dir;
    h.default_folder = "INBOX";
    test_contains(&h);
    test_body_once(&h);
    test_matches(&h);
    test_shared_budget(&h);
    test_regex(&h);
    test_memory_setting(&h);
    test_includes(&h);
    test_editheader(&h);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", dir);
    }
    return UNIT_END();
}
