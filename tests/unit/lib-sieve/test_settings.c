/*
 * test_settings - the script generated from a mailbox's settings
 * (lib-sieve/settings.h): it compiles with the engine and does what the
 * settings say on real messages: spam at or over the threshold filed and
 * stopped (a negative or lower score, or no score, not); the vacation
 * reply inside its window only; forwards with and without a kept copy;
 * values that try to end a string or add a command stay text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "settings.h"
#include "sieve.h"
#include "unit.h"

static const char msg_head[] =
    "From: alice@example.org\nTo: bob@example.com\nSubject: hi\n"
    "Message-ID: <1@example.org>\n";

/* run the generated script of s on a message with extra header lines;
   the printed result (after finish) into out; the run's rc, or -9 when
   it does not compile */
static int run(const struct sieve_settings *s, const char *extra,
               struct str *out)
{
    struct str text = STR_INIT, errors = STR_INIT, m = STR_INIT;
    struct sieve_script *sc;
    struct sieve_message sm;
    struct sieve_result res;
    struct sieve_host host;
    int rc;

    str_reset(out);
    sieve_settings_script(s, 10.0, &text);
    memset(&host, 0, sizeof(host));
    host.spam_score_header = "X-Spam-Score";
    host.spam_score_max = 10.0;
    if (sieve_compile(SIEVE_SETTINGS_NAME, str_cstr(&text), text.len, &host,
                      &sc, &errors) < 0) {
        printf("# %s\n# %s\n", str_cstr(&text), str_cstr(&errors));
        str_free(&text);
        str_free(&errors);
        return -9;
    }
    str_appendf(&m, "%s%s\nbody\n", msg_head, extra);
    sieve_message_text(&sm, m.data, m.len);
    sm.env_from = "alice@example.org";
    sm.env_to = "bob@example.com";
    sieve_result_init(&res, "INBOX");
    rc = sieve_execute(sc, &sm, &host, &res);
    sieve_result_finish(&res);
    sieve_result_print(&res, out);
    sieve_result_free(&res);
    sieve_script_free(sc);
    str_free(&text);
    str_free(&errors);
    str_free(&m);
    return rc;
}

static void iso(time_t t, char out[32])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void test_empty(void)
{
    struct sieve_settings s;
    struct str text = STR_INIT;

    sieve_settings_init(&s);
    sieve_settings_script(&s, 10.0, &text);
    CHECK(text.len == 0, "no settings: no script");
    str_free(&text);
    sieve_settings_free(&s);
}

static void test_spam(void)
{
    struct sieve_settings s;
    struct str out = STR_INIT;
    int rc;

    sieve_settings_init(&s);
    s.spam = 1;
    s.spam_threshold = 5.0;
    str_append_cstr(&s.spam_folder, "Junk");
    rc = run(&s, "X-Spam-Score: 6.1\n", &out);
    CHECK(rc == 1, "spam over the threshold: the script stops (rc %d)", rc);
    CHECK_STR(str_cstr(&out), "fileinto Junk\n", "spam 6.1 >= 5: Junk only");
    rc = run(&s, "X-Spam-Score: 5.0\n", &out);
    CHECK_STR(str_cstr(&out), "fileinto Junk\n", "spam 5.0 = 5: Junk");
    rc = run(&s, "X-Spam-Score: 3.2\n", &out);
    CHECK(rc == 0, "spam under the threshold: runs on (rc %d)", rc);
    CHECK_STR(str_cstr(&out), "keep\n", "spam 3.2 < 5: kept");
    run(&s, "X-Spam-Score: -4.0\n", &out);
    CHECK_STR(str_cstr(&out), "keep\n", "negative score: kept");
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "keep\n", "no score (not tested): kept");
    s.spam_threshold = 0;
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "keep\n", "threshold 0, no score: kept");
    str_set(&s.spam_folder, "Spam/Ge\"prüft", strlen("Spam/Ge\"prüft"));
    s.spam_threshold = 7.5;
    run(&s, "X-Spam-Score: 9\n", &out);
    CHECK_STR(str_cstr(&out), "fileinto Spam/Ge\"prüft\n",
              "a folder name with a quote and UTF-8");
    str_free(&out);
    sieve_settings_free(&s);
}

static void test_vacation(void)
{
    struct sieve_settings s;
    struct str out = STR_INIT;
    time_t now = time(NULL);
    int rc;

    sieve_settings_init(&s);
    s.vacation = 1;
    str_append_cstr(&s.subject, "Away \"now\" \\ back soon");
    str_append_cstr(&s.body, "I am away.\";\nredirect \"evil@example.net\";"
                    "\n# not a comment\n");
    rc = run(&s, "", &out);
    CHECK(rc == 0, "vacation without a window compiles and runs (rc %d)", rc);
    CHECK(strstr(str_cstr(&out), "vacation") != NULL,
          "vacation without a window: a reply");
    CHECK(strncmp(str_cstr(&out), "redirect", 8) != 0 &&
              strstr(str_cstr(&out), "\nredirect") == NULL,
          "a reply text with quotes stays text (no redirect)");
    CHECK(strstr(str_cstr(&out), "keep") != NULL,
          "vacation keeps the message");
    iso(now - 86400, s.from);
    iso(now + 86400, s.until);
    s.days = 3;
    str_append_cstr(&s.addresses, "bob@example.org, b.b@example.com");
    run(&s, "", &out);
    CHECK(strstr(str_cstr(&out), "vacation") != NULL,
          "inside the window: a reply (%s)", str_cstr(&out));
    CHECK(strstr(str_cstr(&out), "period=259200") != NULL ||
              strstr(str_cstr(&out), "days") != NULL ||
              strstr(str_cstr(&out), "vacation") != NULL,
          ":days 3 given");
    iso(now + 3600, s.from);
    iso(now + 7200, s.until);
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "keep\n", "before the window: no reply");
    iso(now - 7200, s.from);
    iso(now - 3600, s.until);
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "keep\n", "after the window: no reply");
    s.from[0] = '\0';
    iso(now + 3600, s.until);
    run(&s, "", &out);
    CHECK(strstr(str_cstr(&out), "vacation") != NULL,
          "only an end in the future: a reply");
    s.vacation = 0;
    run(&s, "", &out);
    CHECK(out.len == 0 || strcmp(str_cstr(&out), "keep\n") == 0,
          "vacation off: nothing");
    str_free(&out);
    sieve_settings_free(&s);
}

static void test_forward(void)
{
    struct sieve_settings s;
    struct str out = STR_INIT;

    sieve_settings_init(&s);
    str_append_cstr(&s.forwards, "a@example.net b+x@example.org");
    s.keep = 1;
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "redirect a@example.net\nredirect "
              "b+x@example.org\nkeep\n", "forward with a copy kept");
    s.keep = 0;
    run(&s, "", &out);
    CHECK_STR(str_cstr(&out), "redirect a@example.net\nredirect "
              "b+x@example.org\n", "forward without a copy: no keep");
    s.spam = 1;
    s.spam_threshold = 5;
    s.vacation = 1;
    str_append_cstr(&s.body, "away");
    run(&s, "X-Spam-Score: 8\n", &out);
    CHECK_STR(str_cstr(&out), "fileinto Junk\n",
              "spam is neither forwarded nor answered");
    run(&s, "X-Spam-Score: 1\n", &out);
    CHECK(strstr(str_cstr(&out), "vacation") &&
              strstr(str_cstr(&out), "redirect a@example.net"),
          "all three together compile; ham answered and forwarded");
    str_free(&out);
    sieve_settings_free(&s);
}

int main(void)
{
    test_empty();
    test_spam();
    test_vacation();
    test_forward();
    return UNIT_END();
}
