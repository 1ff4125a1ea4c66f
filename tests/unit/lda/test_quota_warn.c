/*
 * test_quota_warn - the quota warning decision (quota_warning_step, a
 * pure function), the threshold list ([lda] quota_warning), the warning
 * text, the usage figures read from maildirsize (quota_usage) and the
 * quota in postern-maps' ldamailbox answer (lda_maps_reply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lda.h"
#include "unit.h"

#define DAY 86400LL
#define MB (1024ULL * 1024)

static const unsigned thr[] = {80, 95};
static const struct quota_warn_state none = {-1, -1};

/* step - the decision for usage (MB of a 10 MB limit) from state cur */
static int step(unsigned long long used, struct quota_warn_state cur,
                long long now, struct quota_warn_state *next)
{
    return quota_warning_step(used, 10 * MB, thr, 2, cur, now, 7 * DAY, next);
}

static void test_step(void)
{
    struct quota_warn_state n, s;
    long long t0 = 1700000000;

    CHECK(step(5 * MB, none, t0, &n) == 0 && n.percent == -1 && n.at == -1,
          "below every threshold: no warning, no state");
    CHECK(step(8 * MB - 1, none, t0, &n) == 0, "one byte below 80%%: none");
    CHECK(step(8 * MB, none, t0, &n) == 80 && n.percent == 80 && n.at == t0,
          "exactly 80%%: warn 80");
    s = n;
    CHECK(step(8 * MB + 100, s, t0 + 60, &n) == 0 && n.percent == 80 &&
              n.at == t0,
          "still above 80%% a minute later: no second warning");
    CHECK(step(9.6 * MB, s, t0 + 120, &n) == 95 && n.percent == 95 &&
              n.at == t0 + 120,
          "crossing 95%%: warn 95");
    s = n;
    CHECK(step(9.7 * MB, s, t0 + 180, &n) == 0 && n.percent == 95,
          "a further delivery: no third warning");
    CHECK(step(9.7 * MB, s, t0 + 120 + 7 * DAY, &n) == 95 &&
              n.at == t0 + 120 + 7 * DAY,
          "still above after the reminder interval: reminded");
    CHECK(step(9.7 * MB, s, t0 + 120 + 7 * DAY - 1, &n) == 0,
          "a second before the reminder interval: none");
    CHECK(quota_warning_step(9.7 * MB, 10 * MB, thr, 2, s,
                             t0 + 400 * DAY, 0, &n) == 0 && n.percent == 95,
          "reminder 0: never reminded");
    CHECK(step(8.5 * MB, s, t0 + 200, &n) == 0 && n.percent == 80 &&
              n.at == t0 + 120,
          "dropping below 95%% but above 80%%: no warning, 80 kept");
    s = n;
    CHECK(step(9.6 * MB, s, t0 + 300, &n) == 95,
          "crossing 95%% again after dropping below: warned again");
    CHECK(step(1 * MB, s, t0 + 300, &n) == 0 && n.percent == -1 &&
              n.at == -1,
          "dropping below every threshold resets the state");
    CHECK(step(12 * MB, none, t0, &n) == 95,
          "over the limit in one step: the highest threshold only");
    CHECK(quota_warning_step(9 * MB, 0, thr, 2, s, t0, 7 * DAY, &n) == 0 &&
              n.percent == -1,
          "unlimited (0): never, state reset");
    CHECK(quota_warning_step(9 * MB, 10 * MB, thr, 0, none, t0, 7 * DAY,
                             &n) == 0,
          "no thresholds: never");
    CHECK(quota_warning_step(~0ULL, 1ULL << 50, thr, 2, none, t0, 7 * DAY,
                             &n) == 95,
          "huge figures do not overflow");
    s = (struct quota_warn_state){80, -1};
    CHECK(step(8 * MB, s, t0, &n) == 80,
          "a warned percent without a time (hand-edited row): reminded");
}

static void test_parse(void)
{
    struct str err = STR_INIT;
    unsigned p[QUOTA_WARN_MAX];

    CHECK(quota_warning_parse("80%,95%", p, QUOTA_WARN_MAX, &err) == 2 &&
              p[0] == 80 && p[1] == 95,
          "the default list");
    CHECK(quota_warning_parse("50 75, 90%", p, QUOTA_WARN_MAX, &err) == 3 &&
              p[2] == 90,
          "blanks and commas, %% optional");
    CHECK(quota_warning_parse("", p, QUOTA_WARN_MAX, &err) == 0,
          "empty: no warnings");
    CHECK(quota_warning_parse("95%,80%", p, QUOTA_WARN_MAX, &err) < 0,
          "descending refused");
    CHECK(quota_warning_parse("0%", p, QUOTA_WARN_MAX, &err) < 0 &&
              quota_warning_parse("101%", p, QUOTA_WARN_MAX, &err) < 0 &&
              quota_warning_parse("8o%", p, QUOTA_WARN_MAX, &err) < 0,
          "out of range or not a number refused");
    CHECK(quota_warning_parse("1,2,3,4,5,6,7,8,9", p, QUOTA_WARN_MAX, &err) <
              0,
          "more than QUOTA_WARN_MAX refused");
    str_free(&err);
}

static void test_text(void)
{
    struct str t = STR_INIT;

    quota_warning_text(&t, LDA_WARN_EN, "postmaster@example.org",
                       "anna@example.org", 8 * MB + 400 * 1024, 42, 10 * MB,
                       "mx1", 1700000000);
    CHECK(strstr(str_cstr(&t), "Subject: Your mailbox is 83% full\n") &&
              strstr(str_cstr(&t), "8.4 MB of 10.0 MB used (42 messages)") &&
              strstr(str_cstr(&t), "Auto-Submitted: auto-generated\n") &&
              strstr(str_cstr(&t), "From: postmaster@example.org\n") &&
              strstr(str_cstr(&t), "Date: Tue, 14 Nov 2023 22:13:20 +0000"),
          "English text with the figures");
    str_reset(&t);
    quota_warning_text(&t, LDA_WARN_DE, "postmaster@example.org",
                       "anna@example.org", 8 * MB + 400 * 1024, 42, 10 * MB,
                       "mx1", 1700000000);
    CHECK(strstr(str_cstr(&t), "Subject: Ihr Postfach ist zu 83 % voll\n") &&
              strstr(str_cstr(&t), "8,4 MB von 10,0 MB belegt (42 Nachrichten)"),
          "German text with decimal commas");
    CHECK(t.len < 2048, "the warning is small");
    str_free(&t);
}

static void test_usage(void)
{
    char dir[] = "/tmp/test_quota_warn.XXXXXX", p[256];
    struct str err = STR_INIT;
    unsigned long long b = 0, c = 0;
    FILE *fp;

    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    snprintf(p, sizeof(p), "%s/maildirsize", dir);
    fp = fopen(p, "w");
    fputs("1000S\n300 3\n200 1\n-100 -1\n", fp);
    fclose(fp);
    CHECK(quota_usage(dir, 1000, &b, &c, &err) == 0 && b == 400 && c == 3,
          "maildirsize summed: bytes and messages");
    CHECK(quota_usage(dir, 2000, &b, &c, &err) == 0 && b == 0 && c == 0,
          "another limit: recalculated (an empty Maildir)");
    unlink(p);
    rmdir(dir);
    str_free(&err);
}

static void test_maps_reply(void)
{
    struct lda_mailbox mb;
    struct str r = STR_INIT, err = STR_INIT;
    struct addr a;
    const char *e;

    addr_parse("anna@example.org", 16, "+", ADDR_NEED_DOMAIN, &a, &e);
    str_set(&r, "OK quota=2048 vol01/ab/abcd/anna@example.org/", 45);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_FOUND &&
              mb.quota == 2048 &&
              !strcmp(mb.maildir, "vol01/ab/abcd/anna@example.org/"),
          "ldamailbox: quota and maildir");
    str_set(&r, "OK quota=0 vol01/x/", 19);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_FOUND && mb.quota == 0,
          "quota=0: unlimited, not the default");
    str_set(&r, "OK vol01/x/", 11);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_FOUND &&
              mb.quota == 777 && !strcmp(mb.maildir, "vol01/x/"),
          "no quota= (none in SQL, or the maildir map): the default");
    str_set(&r, "OK quota=-5 vol01/x/", 20);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_TEMP,
          "a negative quota: temporary");
    str_set(&r, "OK quota=12x vol01/x/", 21);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_TEMP,
          "a damaged quota: temporary");
    str_set(&r, "OK quota=99999999999999999999999 vol01/x/", 41);
    CHECK(lda_maps_reply(&r, &a, 777, &mb, &err) == LK_TEMP,
          "a quota past 2^64: temporary");
    str_free(&r);
    str_free(&err);
}

int main(void)
{
    test_step();
    test_parse();
    test_text();
    test_usage();
    test_maps_reply();
    return UNIT_END();
}
