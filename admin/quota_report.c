/*
 * quota_report - postern quota report: the admin's daily list of
 * mailboxes at or above a share of their quota.
 *
 *   postern quota report [--over PERCENT] [--mail [ADDRESS]]
 *
 * Reads mailbox_usage (issue 17: written by postern-lda after every
 * delivery, by `postern quota recount`, by Dovecot's quota_clone) with
 * each mailbox's limit as the RCPT check of postern-policyd sees it
 * (policyd/quota.c): the larger of the limit written with the row and the
 * mailbox's limit now (mailboxes.quota_bytes, else the domain's
 * default_quota_bytes); 0 on either side is unlimited and never listed,
 * and a mailbox with no known limit is not listed.  Only active mailboxes
 * of active domains.  PERCENT defaults to [quota] report_over (90);
 * mailboxes are listed fullest first.
 *
 * Output: address, percent, bytes, quota, messages, updated, source as
 * TSV rows (or --json).  With --mail the list goes as a text mail to
 * ADDRESS (default [quota] report_to) through [quota] sendmail, from
 * [quota] report_from (default: the null sender); no mail is sent when
 * no mailbox is listed.  conf/systemd/
 * postern-quota-report.timer runs `postern quota report --mail` daily.
 *
 * Limits: QR_ROWS_MAX mailboxes in one mail (the rest are counted, not
 * listed: the command line lists them all); sendmail is killed after
 * QR_SENDMAIL_TIMEOUT_MS.
 * Exit: 0; 64 usage; 65 a bad PERCENT or ADDRESS; 75 the database or
 * sendmail failed (the timer's next run tries again); 78 [quota] wrong.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "sendmail.h"
#include "util.h"

#define QR_ROWS_MAX 5000
#define QR_SENDMAIL_TIMEOUT_MS 60000
#define QR_OVER_MAX 1000 /* percent */

static const char WHAT[] = "quota report";

struct qr_config {
    char *report_to;
    long long report_over;
    char *report_from;
    char *sendmail;
};

static const struct cfg_def qr_defs[] = {
    {"report_to", CFG_STR, "", 0, 320, offsetof(struct qr_config, report_to),
     NULL},
    {"report_over", CFG_INT, "90", 1, QR_OVER_MAX,
     offsetof(struct qr_config, report_over), NULL},
    {"report_from", CFG_STR, "", 0, 320,
     offsetof(struct qr_config, report_from), NULL},
    {"sendmail", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     offsetof(struct qr_config, sendmail), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

/* the [quota] section; the others belong to the daemons */
static int qr_load_config(struct admin *a, struct qr_config *qc,
                          struct cfg_section *sec)
{
    const char *ignored[32];
    struct str err = {0};
    size_t n = 0;
    int rc;

    *sec = (struct cfg_section){"quota", qr_defs, qc};
    for (size_t i = 0; daemon_all_sections[i] && n < 31; i++)
        if (strcmp(daemon_all_sections[i], "quota") != 0)
            ignored[n++] = daemon_all_sections[i];
    ignored[n] = NULL;
    rc = cfg_load(a->config_path, sec, 1, ignored, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_CONFIG, WHAT, "%s", str_cstr(&err));
    str_free(&err);
    return rc < 0 ? ADMIN_EX_CONFIG : ADMIN_EX_OK;
}

/* the limit as policyd/quota.c pd_quota_limit: 0 = none */
#define QR_CUR "COALESCE(m.quota_bytes, d.default_quota_bytes)"
static const char SQL_REPORT[] =
    "SELECT address, ROUND(bytes / lim * 100, 1), bytes, lim, messages,"
    " DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s'), source FROM ("
    " SELECT u.address, u.bytes, u.messages, u.updated_at, u.source,"
    " CASE WHEN u.quota_bytes = 0 OR " QR_CUR " = 0 THEN 0"
    " ELSE GREATEST(COALESCE(u.quota_bytes, 0), COALESCE(" QR_CUR ", 0))"
    " END AS lim"
    " FROM mailbox_usage u JOIN mailboxes m ON m.address = u.address"
    " JOIN domains d ON d.name = m.domain"
    " WHERE m.active = 1 AND d.active = 1) t"
    " WHERE lim > 0 AND bytes / lim * 100 >= ?"
    " ORDER BY bytes / lim DESC, address";

static const char *const qr_cols[] = {"address", "percent", "bytes", "quota",
                                      "messages", "updated", "source", NULL};

/* human - 1536 -> "1.5 KiB" */
static void human(struct str *out, const char *bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB",
                                       "PiB"};
    double v = strtod(bytes ? bytes : "0", NULL);
    int u = 0;

    while (v >= 1024 && u < 5)
        v /= 1024, u++;
    if (u == 0)
        str_appendf(out, "%.0f %s", v, unit[u]);
    else
        str_appendf(out, "%.1f %s", v, unit[u]);
}

/* the mail body: one line per mailbox */
struct qr_body {
    struct str text;
    unsigned rows, listed;
};

static int qr_mail_row(void *ctx, unsigned n, char **v,
                       const unsigned long *l)
{
    struct qr_body *b = ctx;
    struct str used = {0}, quota = {0};

    (void)l;
    b->rows++;
    if (n != 7 || b->listed >= QR_ROWS_MAX)
        return 0;
    b->listed++;
    human(&used, v[2]);
    human(&quota, v[3]);
    str_appendf(&b->text, "%6s %%  %12s of %-12s %8s msgs  %s  %s\n",
                v[1] ? v[1] : "-", str_cstr(&used), str_cstr(&quota),
                v[4] ? v[4] : "-", v[0] ? v[0] : "-", v[5] ? v[5] : "-");
    str_free(&used);
    str_free(&quota);
    return 0;
}

/* qr_address - a mail address fit for sendmail's argument and a header
   line: user@domain (an extension is fine), no control characters, not
   starting with '-'; ADMIN_EX_OK or ADMIN_EX_DATAERR */
static int qr_address(const char *what, const char *s)
{
    const char *why = NULL;
    struct addr ad;

    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            why = "control characters";
    if (!why && s[0] == '-')
        why = "starts with '-'";
    if (!why && addr_parse(s, strlen(s), NULL, ADDR_NEED_DOMAIN, &ad,
                           &why) == 0)
        return ADMIN_EX_OK;
    return admin_error(ADMIN_EX_DATAERR, WHAT, "%s '%s': not a mail address "
                       "(%s)", what, s, why);
}

static int qr_mail(struct admin *a, const struct qr_config *qc,
                   const char *to, long long over)
{
    struct db *db = admin_db(a);
    struct db_param p[] = {DBP_I(over)};
    struct qr_body b = {0};
    struct str msg = {0}, err = {0};
    char date[64], host[256];
    time_t now = time(NULL);
    struct tm tm;
    int rc;

    if (!db)
        return ADMIN_EX_TEMPFAIL;
    rc = db_query(db, SQL_REPORT, p, 1, qr_mail_row, &b, &err);
    if (rc < 0) {
        rc = admin_error(ADMIN_EX_TEMPFAIL, WHAT, "%s", str_cstr(&err));
        goto out;
    }
    if (b.rows == 0) {
        if (a->verbose)
            fprintf(stderr, "postern: %s: no mailbox at or above %lld %%: "
                    "no mail sent\n", WHAT, over);
        rc = ADMIN_EX_OK;
        goto out;
    }
    if (gethostname(host, sizeof(host) - 1) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    str_appendf(&msg, "From: %s\nTo: %s\nDate: %s\n",
                qc->report_from[0] ? qc->report_from : "MAILER-DAEMON", to,
                date);
    str_appendf(&msg, "Subject: postern: %u mailbox%s at or above %lld %% "
                "of the quota\n", b.rows, b.rows == 1 ? "" : "es", over);
    str_append_cstr(&msg, "Auto-Submitted: auto-generated\nMIME-Version: 1.0"
                    "\nContent-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: 8bit\n\n");
    str_appendf(&msg, "Mailboxes on %s at or above %lld %% of their quota, "
                "fullest first (postern quota report --over %lld):\n\n",
                host, over, over);
    str_append_cstr(&msg, " share  used            quota          "
                    "messages       mailbox  updated (UTC)\n");
    str_append(&msg, b.text.data, b.text.len);
    if (b.listed < b.rows)
        str_appendf(&msg, "\n... and %u more: postern quota report --over "
                    "%lld lists them all.\n", b.rows - b.listed, over);
    str_append_cstr(&msg, "\nA mailbox at 100 % is refused at RCPT time "
                    "(552 5.2.2) by postern-policyd\nwhen [policyd] checks "
                    "has quota; see docs/policyd.md.\n");
    if (a->dry_run) {
        fwrite(msg.data, 1, msg.len, stdout);
        rc = ADMIN_EX_OK;
        goto out;
    }
    if (sendmail_send(qc->sendmail, qc->report_from, to, msg.data, msg.len,
                      QR_SENDMAIL_TIMEOUT_MS, &err) < 0) {
        rc = admin_error(ADMIN_EX_TEMPFAIL, WHAT, "mail to %s not sent: %s",
                         to, str_cstr(&err));
        goto out;
    }
    if (a->verbose)
        fprintf(stderr, "postern: %s: %u mailbox%s sent to %s\n", WHAT,
                b.rows, b.rows == 1 ? "" : "es", to);
    rc = ADMIN_EX_OK;
out:
    str_free(&b.text);
    str_free(&msg);
    str_free(&err);
    return rc;
}

static int qr_list(struct admin *a, long long over)
{
    struct db *db = admin_db(a);
    struct db_param p[] = {DBP_I(over)};
    struct admin_out o;
    struct str err = {0};
    int rc;

    if (!db)
        return ADMIN_EX_TEMPFAIL;
    admin_out_begin(&o, a, qr_cols);
    rc = db_query(db, SQL_REPORT, p, 1, admin_out_dbrow, &o, &err);
    admin_out_end(&o);
    if (rc < 0)
        rc = admin_error(ADMIN_EX_TEMPFAIL, WHAT, "%s", str_cstr(&err));
    else
        rc = ADMIN_EX_OK;
    str_free(&err);
    return rc;
}

/* qr_percent - "90" -> 90; 0 or ADMIN_EX_DATAERR */
static int qr_percent(const char *s, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || (*end && strcmp(end, "%") != 0) || v < 1 ||
        v > QR_OVER_MAX)
        return admin_error(ADMIN_EX_DATAERR, WHAT, "--over '%s': give a "
                           "percentage from 1 to %d", s, QR_OVER_MAX);
    *out = v;
    return ADMIN_EX_OK;
}

int admin_quota_report(struct admin *a, int argc, char **argv)
{
    struct qr_config qc = {0};
    struct cfg_section sec;
    const char *over_s = NULL, *to = NULL;
    int mail = 0, rc;
    long long over;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--over") && i + 1 < argc)
            over_s = argv[++i];
        else if (!strncmp(argv[i], "--over=", 7))
            over_s = argv[i] + 7;
        else if (!strcmp(argv[i], "--mail")) {
            mail = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-' &&
                strchr(argv[i + 1], '@'))
                to = argv[++i];
        } else
            return admin_error(ADMIN_EX_USAGE, WHAT, "unknown operand '%s' "
                               "(usage: postern quota report [--over "
                               "PERCENT] [--mail [ADDRESS]])", argv[i]);
    }
    if ((rc = qr_load_config(a, &qc, &sec)) != ADMIN_EX_OK)
        goto out;
    over = qc.report_over;
    if (over_s && (rc = qr_percent(over_s, &over)) != ADMIN_EX_OK)
        goto out;
    if (!mail) {
        rc = qr_list(a, over);
        goto out;
    }
    if (to == NULL && qc.report_to[0] == '\0') {
        rc = admin_error(ADMIN_EX_USAGE, WHAT, "--mail without ADDRESS and "
                         "no [quota] report_to in %s", a->config_path);
        goto out;
    }
    if (to == NULL)
        to = qc.report_to;
    if ((rc = qr_address("--mail", to)) != ADMIN_EX_OK ||
        (qc.report_from[0] &&
         (rc = qr_address("[quota] report_from", qc.report_from)) !=
             ADMIN_EX_OK))
        goto out;
    rc = qr_mail(a, &qc, to, over);
out:
    cfg_free(&sec, 1);
    return rc;
}
