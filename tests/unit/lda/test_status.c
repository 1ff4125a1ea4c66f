/*
 * test_status - lda_status_info(), the one mapping of a delivery outcome
 * to a sysexits(3) exit code (pipe mode), an LMTP reply code and an RFC
 * 3463 enhanced status code: every status against the table in
 * lda/status.c, the rules that must hold for all of them (75 <-> 4xx,
 * the DSN class = the reply's first digit, never 71 or an unlisted exit
 * code), an out-of-range value (deferred, never bounced) and the
 * "DSN text" line lda_result_format() writes for pipe(8).
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "lda.h"
#include "unit.h"

static const struct {
    enum lda_status st;
    const char *name;
    int exit_code, smtp;
    const char *dsn;
} want[] = {
    {LDA_OK, "delivered", EX_OK, 250, "2.0.0"},
    {LDA_TEMP, "temporary", EX_TEMPFAIL, 451, "4.3.0"},
    {LDA_NOUSER, "no mailbox", EX_NOUSER, 550, "5.1.1"},
    {LDA_QUOTA_BOUNCE, "quota bounce", EX_NOPERM, 552, "5.2.2"},
    {LDA_QUOTA_DEFER, "quota defer", EX_TEMPFAIL, 452, "4.2.2"},
    {LDA_LOOP, "loop", EX_NOPERM, 554, "5.4.6"},
    {LDA_TOOBIG, "too big", EX_NOPERM, 552, "5.3.4"},
    {LDA_USAGE, "usage", EX_TEMPFAIL, 451, "4.3.5"},
    {LDA_CONFIG, "config", EX_TEMPFAIL, 451, "4.3.5"},
    {LDA_REJECTED, "sieve reject", EX_NOPERM, 550, "5.7.1"},
};
#define NWANT (sizeof(want) / sizeof(want[0]))

int main(void)
{
    int seen[NWANT] = {0};

    for (size_t i = 0; i < NWANT; i++) {
        struct lda_status_info in = lda_status_info(want[i].st);
        CHECK(in.exit_code == want[i].exit_code, "%s: exit %d (want %d)",
              want[i].name, in.exit_code, want[i].exit_code);
        CHECK(in.smtp_code == want[i].smtp, "%s: LMTP %d (want %d)",
              want[i].name, in.smtp_code, want[i].smtp);
        CHECK_STR(in.dsn, want[i].dsn, "%s: DSN", want[i].name);
        if ((size_t)want[i].st < NWANT)
            seen[want[i].st]++;
    }

    /* the table covers every status, each once: LDA_OK is the first and
       LDA_REJECTED the last value of the enum */
    CHECK((size_t)LDA_REJECTED + 1 == NWANT, "the table has one row per "
          "status (%d statuses)", (int)LDA_REJECTED + 1);
    for (size_t i = 0; i < NWANT; i++)
        CHECK(seen[i] == 1, "status %zu listed once", i);

    /* rules for every status */
    for (int st = LDA_OK; st <= LDA_REJECTED; st++) {
        struct lda_status_info in = lda_status_info((enum lda_status)st);
        int cls = in.smtp_code / 100;
        CHECK(in.exit_code == EX_OK || in.exit_code == EX_TEMPFAIL ||
                  in.exit_code == EX_NOUSER || in.exit_code == EX_NOPERM,
              "status %d: exit %d is 0, 67, 75 or 77", st, in.exit_code);
        CHECK((in.exit_code == EX_TEMPFAIL) == (cls == 4),
              "status %d: 75 exactly when the reply is 4xx (%d)", st,
              in.smtp_code);
        CHECK((in.exit_code == EX_OK) == (cls == 2),
              "status %d: 0 exactly when the reply is 2xx", st);
        CHECK(in.dsn && in.dsn[0] == '0' + cls && in.dsn[1] == '.',
              "status %d: DSN %s in the class of %d", st,
              in.dsn ? in.dsn : "(null)", in.smtp_code);
    }

    /* a value outside the enum is a bug: defer, never bounce */
    {
        struct lda_status_info in = lda_status_info((enum lda_status)99);
        CHECK(in.exit_code == EX_TEMPFAIL && in.smtp_code == 451 &&
                  strcmp(in.dsn, "4.3.0") == 0,
              "unknown status: 75, 451 4.3.0");
    }

    /* the pipe(8) line and the text */
    for (size_t i = 0; i < NWANT; i++) {
        struct lda_result r;
        struct str out = STR_INIT;
        char line[LDA_TEXT_MAX + 16];
        lda_result_set(&r, want[i].st, "<%s>: %s", "a@b.example",
                       want[i].name);
        lda_result_format(&r, &out);
        snprintf(line, sizeof(line), "%s <a@b.example>: %s", want[i].dsn,
                 want[i].name);
        CHECK(r.status == want[i].st, "%s: lda_result_set keeps the status",
              want[i].name);
        CHECK_STR(str_cstr(&out), line, "%s: \"DSN text\"", want[i].name);
        str_free(&out);
    }
    {
        struct lda_result r;
        char big[LDA_TEXT_MAX * 2];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        lda_result_set(&r, LDA_TEMP, "%s", big);
        CHECK(strlen(r.text) == LDA_TEXT_MAX - 1,
              "a long text is cut to LDA_TEXT_MAX - 1 bytes");
    }
    return UNIT_END();
}
