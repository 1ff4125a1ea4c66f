// needs: mariadb (run by tests/integration/dirsync-lifecycle.sh)
/*
 * test_lifecycle - dirsync/lifecycle.c against the harness MariaDB (schema
 * applied by sql/migrate) and a real Postfix that delivers the notices
 * through postern-lda into the Maildirs below LC_MAIL_ROOT.
 *
 * Covered: the leaving notice is sent once (a second run sends nothing)
 * and arrives in the INBOX with the null sender and the right headers; a
 * failing sendmail leaves the account unmarked and the next run sends it;
 * a notice inside the reminder window counts as the reminder; the
 * reminder; leaving -> closed after the grace period; a returner (made
 * active again by SQL, as the sync does) and sql-owned rows are never
 * touched; an expired ldap transition alias is removed, an unexpired one
 * and an sql alias of the same shape are kept; purge refuses active, sql,
 * unknown and too recently closed accounts, a symlinked Maildir and an
 * archive on another filesystem, and changes nothing then; purge --force
 * archives the Maildir and removes the account's ldap rows (sql rows
 * stay); purge after the retention removes the Maildir (purge_action
 * remove); a move that fails after the commit is reported with the
 * Maildir left in place; directory_log records every step.
 *
 * Environment (from the script): H_DB_PORT, H_DB_PASSWORD_FILE,
 * LC_MAIL_ROOT, LC_ARCHIVE, LC_SENDMAIL (a wrapper around Postfix's
 * sendmail that appends a line to LC_SENDMAIL_LOG), LC_SENDMAIL_FAIL (the
 * same, exiting 75), LC_OTHER_FS (optional: a directory on another
 * filesystem than LC_MAIL_ROOT).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dirsync.h"
#include "log.h"
#include "unit.h"

#define DAY 86400LL
#define U(n) "00000000-0000-4000-8000-00000000000" #n

static struct db *db;
static struct db_config dc;
static char got[4096];

/* lib/db caches prepared statements by the address of the SQL text: a
   text built in a buffer gets a connection of its own */
static struct db *adhoc(void)
{
    struct str err = STR_INIT;
    struct db *d = db_open(&dc, &err);

    if (d == NULL)
        printf("# db_open: %s\n", str_cstr(&err));
    str_free(&err);
    return d;
}

static int first_col(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    (void)ctx;
    (void)lens;
    snprintf(got, sizeof(got), "%s", ncols && vals[0] ? vals[0] : "NULL");
    return 1;
}

/* sql - run one statement; 0 or -1 (printed) */
static int sql(const char *fmt, ...)
{
    char q[2048];
    struct str err = STR_INIT;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    struct db *d = adhoc();
    rc = d ? db_exec(d, q, NULL, 0, NULL, &err) : -1;
    if (d)
        db_close(d);
    if (rc < 0)
        printf("# sql failed: %s: %s\n", q, str_cstr(&err));
    str_free(&err);
    return rc < 0 ? -1 : 0;
}

/* val - the first column of the first row, "NULL" or "(none)" */
static const char *val(const char *fmt, ...)
{
    char q[2048];
    struct str err = STR_INIT;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    snprintf(got, sizeof(got), "(none)");
    struct db *d = adhoc();
    rc = d ? db_query(d, q, NULL, 0, first_col, NULL, &err) : -1;
    if (d)
        db_close(d);
    if (rc < 0)
        snprintf(got, sizeof(got), "(error: %s)", str_cstr(&err));
    str_free(&err);
    return got;
}

static long long num(const char *fmt, const char *uuid)
{
    return atoll(val(fmt, uuid));
}

/* sendmail runs so far (lines the wrappers wrote) */
static int calls(void)
{
    FILE *f = fopen(getenv("LC_SENDMAIL_LOG"), "r");
    int n = 0, c;

    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void maildir_of(const char *uuid, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", getenv("LC_MAIL_ROOT"),
             val("SELECT maildir FROM mailboxes WHERE dir_uuid = '%s'", uuid));
}

/* files in dir/new whose text contains needle; copy of the last in last */
static int count_with(const char *dir, const char *needle, char *last,
                      size_t lastsize)
{
    char nd[4200], path[4600], buf[16384];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(nd, sizeof(nd), "%s/new", dir);
    if ((d = opendir(nd)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        FILE *f;
        size_t len;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", nd, e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        buf[len] = '\0';
        fclose(f);
        if (strstr(buf, needle)) {
            n++;
            if (last)
                snprintf(last, lastsize, "%s", buf);
        }
    }
    closedir(d);
    return n;
}

static int wait_mail(const char *dir, const char *needle, int want,
                     char *last, size_t lastsize)
{
    for (int i = 0; i < 200; i++) {
        int n = count_with(dir, needle, last, lastsize);

        if (n >= want)
            return n;
        usleep(100000);
    }
    return count_with(dir, needle, last, lastsize);
}

static int is_dir(const char *p)
{
    struct stat st;

    return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int run(const struct ds_config *cfg, long long now)
{
    struct str err = STR_INIT;
    int rc = ds_lifecycle_run(db, cfg, (time_t)now, &err);

    if (rc < 0)
        printf("# ds_lifecycle_run: %s\n", str_cstr(&err));
    str_free(&err);
    return rc;
}

static int purge(const struct ds_config *cfg, const char *addr, int force,
                 char *msg, size_t msgsize)
{
    struct str err = STR_INIT;
    int rc = ds_purge(db, cfg, addr, force, &err);

    snprintf(msg, msgsize, "%s", str_cstr(&err));
    if (rc < 0)
        printf("# ds_purge %s: %s\n", addr, str_cstr(&err));
    str_free(&err);
    return rc;
}

static void mailbox(const char *local, const char *uuid, const char *state,
                    const char *grace_sql, const char *since_sql)
{
    sql("INSERT INTO mailboxes (local_part, domain, owner, dir_uuid, state, "
        "state_since, state_reason, grace_until) VALUES ('%s', "
        "'school.example', 'ldap', '%s', '%s', %s, 'test', %s)", local, uuid,
        state, since_sql, grace_sql);
}

static void dir_log_has(const char *uuid, const char *want, const char *what)
{
    val("SELECT GROUP_CONCAT(CONCAT(IFNULL(old_state, '-'), '>', new_state) "
        "ORDER BY id SEPARATOR ',') FROM directory_log WHERE dir_uuid = '%s'",
        uuid);
    CHECK_STR(got, want, "directory_log: %s", what);
}

int main(void)
{
    char pw[512], hosts[64], md1[4200], md2[4200], md3[4200], md4[4200];
    char md5[4200], md8[4200], mail[16384], msg[8192], path[20000];
    struct str err = STR_INIT;
    struct ds_config cfg;
    long long now = (long long)time(NULL), g1, g3, t;
    int n0, rc;
    const char *other = getenv("LC_OTHER_FS");

    log_open("test_lifecycle", LOG_TO_STDERR, 0);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", getenv("H_DB_PORT"));
    snprintf(pw, sizeof(pw), "%s", getenv("H_DB_PASSWORD_FILE"));
    dc = (struct db_config){hosts, "postern", "postern", pw, 1000, 5000, 500};
    db_global_init();
    db = db_open(&dc, &err);
    CHECK(db != NULL, "db_open %s", str_cstr(&err));
    if (db == NULL)
        return UNIT_END();

    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_period = 56 * DAY * 1000;
    cfg.reminder_before = 7 * DAY * 1000;
    cfg.closed_retention = 180 * DAY * 1000;
    cfg.notice_from = "";
    cfg.sendmail = getenv("LC_SENDMAIL_FAIL");
    cfg.mail_root = getenv("LC_MAIL_ROOT");
    cfg.purge_action = DS_PURGE_ARCHIVE;
    cfg.archive_dir = getenv("LC_ARCHIVE");

    sql("INSERT INTO domains (name, kind) VALUES ('school.example', "
        "'local')");
    /* 1: leaving, 20 days left; 2: the returner-to-be; 3: 2 days left */
    mailbox("leaver", U(1), "leaving", "NOW() + INTERVAL 20 DAY", "NOW()");
    mailbox("returner", U(2), "leaving", "NOW() + INTERVAL 20 DAY", "NOW()");
    mailbox("short", U(3), "leaving", "NOW() + INTERVAL 2 DAY", "NOW()");
    sql("INSERT INTO mailboxes (local_part, domain, state, grace_until) "
        "VALUES ('sqlleaving', 'school.example', 'leaving', NOW() + "
        "INTERVAL 20 DAY), ('sqlclosed', 'school.example', 'closed', NULL)");
    mailbox("active", U(6), "active", "NULL", "NULL");
    g1 = num("SELECT UNIX_TIMESTAMP(grace_until) FROM mailboxes WHERE "
             "dir_uuid = '%s'", U(1));
    g3 = num("SELECT UNIX_TIMESTAMP(grace_until) FROM mailboxes WHERE "
             "dir_uuid = '%s'", U(3));
    maildir_of(U(1), md1, sizeof(md1));
    maildir_of(U(2), md2, sizeof(md2));
    maildir_of(U(3), md3, sizeof(md3));

    /* --- sendmail failing: nothing marked ------------------------------ */
    n0 = calls();
    CHECK(run(&cfg, now) == 0, "sendmail failing: no account changed");
    CHECK(calls() - n0 == 3, "sendmail was tried for the three leavers "
          "(%d)", calls() - n0);
    CHECK_STR(val("SELECT COUNT(*) FROM mailboxes WHERE notice_sent_at IS "
                  "NOT NULL"), "0", "no notice marked as sent");

    /* --- sendmail working: each leaver told once ------------------------ */
    cfg.sendmail = getenv("LC_SENDMAIL");
    n0 = calls();
    rc = run(&cfg, now);
    CHECK(rc == 3, "next run: three notices sent (%d)", rc);
    CHECK(calls() - n0 == 3, "three sendmail runs (%d)", calls() - n0);
    CHECK_STR(val("SELECT notice_sent_at IS NOT NULL AND reminder_sent_at "
                  "IS NULL FROM mailboxes WHERE dir_uuid = '%s'", U(1)), "1",
              "leaver: notice_sent_at set, reminder_sent_at not");
    CHECK_STR(val("SELECT notice_sent_at IS NOT NULL AND reminder_sent_at "
                  "IS NOT NULL FROM mailboxes WHERE dir_uuid = '%s'", U(3)),
              "1", "2 days left: the notice counts as the reminder");
    CHECK_STR(val("SELECT CONCAT(state, ' ', IFNULL(notice_sent_at, 'none')) "
                  "FROM mailboxes WHERE address = 'sqlleaving@school.example'"),
              "leaving none", "sql-owned leaving row: no notice");
    CHECK_STR(val("SELECT CONCAT(state, ' ', IFNULL(notice_sent_at, 'none')) "
                  "FROM mailboxes WHERE dir_uuid = '%s'", U(6)),
              "active none", "active account: no notice");
    n0 = calls();
    CHECK(run(&cfg, now) == 0, "second run: nothing to do");
    CHECK(calls() == n0, "second run: no sendmail");

    CHECK(wait_mail(md1, "Auto-Submitted: auto-generated", 1, mail,
                    sizeof(mail)) == 1, "the notice is in the leaver's "
          "INBOX (once)");
    CHECK(strncmp(mail, "Return-Path: <>\n", 16) == 0,
          "delivered with the null envelope sender");
    CHECK(strstr(mail, "\nFrom: postmaster@school.example\n") != NULL,
          "From: postmaster@ the mailbox's domain");
    CHECK(strstr(mail, "\nTo: <leaver@school.example>\n") != NULL, "To:");
    CHECK(strstr(mail, "\nSubject: Ihr Mailkonto wird geschlossen / Your mail "
                 "account will be closed\n") != NULL, "Subject");
    CHECK(strstr(mail, "\nMessage-ID: <dirsync.notice.") != NULL &&
          strstr(mail, "\nDate: ") != NULL, "Message-ID and Date");
    CHECK(strstr(mail, "\nContent-Type: text/plain; charset=UTF-8\n") &&
          strstr(mail, "Sie können") != NULL, "UTF-8 German text");
    {
        char de[32], en[32];
        time_t g = (time_t)g1;
        struct tm tm;

        localtime_r(&g, &tm);
        strftime(de, sizeof(de), "%d.%m.%Y", &tm);
        strftime(en, sizeof(en), "%Y-%m-%d", &tm);
        CHECK(strstr(mail, de) && strstr(mail, en) &&
              strstr(mail, "still delivered until") != NULL,
              "the closing day in both languages (%s, %s)", de, en);
    }
    CHECK(wait_mail(md3, "Auto-Submitted: auto-generated", 1, NULL, 0) == 1,
          "2 days left: one mail, not two");
    CHECK(wait_mail(md2, "Auto-Submitted: auto-generated", 1, NULL, 0) == 1,
          "the returner-to-be got the notice too");

    /* the sync sees the person again (lead's code, simulated) */
    sql("UPDATE mailboxes SET state = 'active', state_since = NOW(), "
        "state_reason = 'back in the directory', grace_until = NULL, "
        "notice_sent_at = NULL, reminder_sent_at = NULL WHERE dir_uuid = "
        "'%s'", U(2));

    /* --- 2 days later: the short one closes ---------------------------- */
    n0 = calls();
    rc = run(&cfg, g3);
    CHECK(rc == 1, "at grace_until of the short one: one change (%d)", rc);
    CHECK_STR(val("SELECT CONCAT(state, ' ', state_reason, ' ', "
                  "UNIX_TIMESTAMP(state_since) = %lld) FROM mailboxes WHERE "
                  "dir_uuid = '%s'", g3, U(3)),
              "closed grace period over 1", "leaving -> closed, reason, "
              "state_since = now");
    CHECK(calls() == n0, "no mail to a closing account");

    /* --- the reminder, 7 days before the end ----------------------------- */
    t = g1 - 7 * DAY + 60;
    rc = run(&cfg, t);
    CHECK(rc == 1, "reminder run: one change (%d)", rc);
    CHECK(calls() == n0 + 1, "one sendmail run for the reminder");
    CHECK_STR(val("SELECT reminder_sent_at IS NOT NULL FROM mailboxes WHERE "
                  "dir_uuid = '%s'", U(1)), "1", "reminder_sent_at set");
    CHECK(run(&cfg, t + 60) == 0 && calls() == n0 + 1,
          "the reminder is sent once");
    CHECK(wait_mail(md1, "Subject: Erinnerung: Ihr Mailkonto wird am ", 1,
                    mail, sizeof(mail)) == 1, "the reminder is in the INBOX");
    CHECK(strstr(mail, "this is a reminder") != NULL, "reminder text");
    CHECK(wait_mail(md2, "Erinnerung", 0, NULL, 0) == 0,
          "the returner got no reminder");

    /* --- the end of the grace period ------------------------------------ */
    CHECK(run(&cfg, g1 - 1) == 0, "one second before grace_until: open");
    CHECK(run(&cfg, g1) == 1, "at grace_until: closed");
    CHECK_STR(val("SELECT CONCAT(state, ' ', state_reason) FROM mailboxes "
                  "WHERE dir_uuid = '%s'", U(1)), "closed grace period over",
              "leaver closed");
    CHECK_STR(val("SELECT CONCAT(state, ' ', state_reason, ' ', "
                  "IFNULL(grace_until, '-')) FROM mailboxes WHERE dir_uuid = "
                  "'%s'", U(2)), "active back in the directory -",
              "the returner is untouched");
    CHECK_STR(val("SELECT state FROM mailboxes WHERE address = "
                  "'sqlleaving@school.example'"), "leaving",
              "the sql-owned leaving row is never closed");
    CHECK(calls() == n0 + 1, "no more mail");

    /* --- transition aliases --------------------------------------------- */
    sql("INSERT INTO aliases (domain, local_part, target, owner, dir_uuid, "
        "expires_at) VALUES "
        "('school.example', 'old.active', 'active@school.example', 'ldap', "
        "'%s', NOW() - INTERVAL 1 HOUR), "
        "('school.example', 'older.active', 'active@school.example', 'ldap', "
        "'%s', NOW() + INTERVAL 1 DAY), "
        "('school.example', 'alt.active', 'active@school.example', 'ldap', "
        "'%s', NULL), "
        "('school.example', 'sql.active', 'active@school.example', 'sql', "
        "NULL, NOW() - INTERVAL 1 HOUR)", U(6), U(6), U(6));
    rc = run(&cfg, now + 60);
    CHECK(rc == 1, "alias run: one change (%d)", rc);
    CHECK_STR(val("SELECT GROUP_CONCAT(local_part ORDER BY local_part) FROM "
                  "aliases WHERE target = 'active@school.example'"),
              "alt.active,older.active,sql.active",
              "the expired ldap alias is gone; unexpired, permanent and sql "
              "aliases are kept");

    /* --- purge: refusals ------------------------------------------------- */
    CHECK(purge(&cfg, "active@school.example", 1, msg, sizeof(msg)) < 0 &&
          strstr(msg, "is active"), "purge of an active account refused");
    CHECK(purge(&cfg, "sqlclosed@school.example", 1, msg, sizeof(msg)) < 0 &&
          strstr(msg, "owned by 'sql'"), "purge of an sql account refused");
    CHECK(purge(&cfg, "nobody@school.example", 1, msg, sizeof(msg)) < 0 &&
          strstr(msg, "no mailbox"), "purge of an unknown address refused");
    CHECK(purge(&cfg, "leaver@school.example", 0, msg, sizeof(msg)) < 0 &&
          strstr(msg, "closed_retention"),
          "purge inside closed_retention refused without force");
    CHECK_STR(val("SELECT state FROM mailboxes WHERE dir_uuid = '%s'", U(1)),
              "closed", "refused purge: the row is still there");
    if (other && other[0]) {
        struct stat a, b;

        if (stat(other, &a) == 0 && stat(md1, &b) == 0 &&
            a.st_dev != b.st_dev) {
            cfg.archive_dir = (char *)other;
            CHECK(purge(&cfg, "leaver@school.example", 1, msg,
                        sizeof(msg)) < 0 &&
                  strstr(msg, "another filesystem"),
                  "archive_dir on another filesystem refused");
            CHECK_STR(val("SELECT state FROM mailboxes WHERE dir_uuid = "
                          "'%s'", U(1)), "closed", "... the row stays");
            CHECK(is_dir(md1), "... the Maildir stays");
            cfg.archive_dir = getenv("LC_ARCHIVE");
        } else
            printf("# LC_OTHER_FS is on the same filesystem; skipped\n");
    }
    mailbox("link", U(5), "closed", "NULL", "NOW() - INTERVAL 1 YEAR");
    maildir_of(U(5), md5, sizeof(md5));
    /* the maildir column ends with '/': strip it for the link */
    md5[strlen(md5) - 1] = '\0';
    snprintf(path, sizeof(path), "mkdir -p \"$(dirname '%s')\" '%s.real' && "
             "ln -s '%s.real' '%s'", md5, md5, md5, md5);
    CHECK(system(path) == 0, "symlinked Maildir made");
    CHECK(purge(&cfg, "link@school.example", 1, msg, sizeof(msg)) < 0 &&
          strstr(msg, "symbolic link"), "a symlinked Maildir is refused");
    CHECK_STR(val("SELECT state FROM mailboxes WHERE dir_uuid = '%s'", U(5)),
              "closed", "... and the row stays");

    /* --- purge --force: archived, the account's ldap rows gone ---------- */
    sql("INSERT INTO policy_groups (name) VALUES ('parents')");
    sql("INSERT INTO policy_group_members (group_id, member_type, value, "
        "owner, dir_uuid) SELECT id, 'address', 'leaver@school.example', "
        "'ldap', '%s' FROM policy_groups WHERE name = 'parents'", U(1));
    sql("INSERT INTO policy_group_members (group_id, member_type, value) "
        "SELECT id, 'domain', 'school.example' FROM policy_groups WHERE "
        "name = 'parents'");
    sql("INSERT INTO aliases (domain, local_part, target, owner, dir_uuid) "
        "VALUES ('school.example', 'l.alt', 'leaver@school.example', 'ldap', "
        "'%s'), ('school.example', 'handmade', 'leaver@school.example', "
        "'sql', NULL)", U(1));
    sql("INSERT INTO vacation_responses (recipient, handle, sender, sent_at, "
        "expires_at) VALUES ('leaver@school.example', REPEAT('a', 64), "
        "'x@ext.example', 1, 2)");
    rc = purge(&cfg, "leaver@school.example", 1, msg, sizeof(msg));
    CHECK(rc == 0, "purge --force of a closed account");
    CHECK_STR(val("SELECT COUNT(*) FROM mailboxes WHERE dir_uuid = '%s'",
                  U(1)), "0", "mailbox row removed");
    CHECK_STR(val("SELECT GROUP_CONCAT(local_part) FROM aliases WHERE "
                  "target = 'leaver@school.example'"), "handmade",
              "its ldap alias removed, the sql alias kept");
    CHECK_STR(val("SELECT GROUP_CONCAT(member_type) FROM "
                  "policy_group_members"), "domain",
              "its ldap policy-group member removed, the sql one kept");
    CHECK_STR(val("SELECT COUNT(*) FROM vacation_responses"), "0",
              "its vacation_responses removed");
    CHECK(!is_dir(md1), "the Maildir is gone from mail_root");
    {
        char cmd[8400], line[4200] = "";
        FILE *p;

        snprintf(cmd, sizeof(cmd), "ls -d '%s'/leaver@school.example-"
                 "[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9]"
                 "[0-9][0-9][0-9] 2>/dev/null", getenv("LC_ARCHIVE"));
        p = popen(cmd, "r");
        if (p && fgets(line, sizeof(line), p))
            line[strcspn(line, "\n")] = '\0';
        if (p)
            pclose(p);
        CHECK(line[0] != '\0', "archived as ADDRESS-YYYYmmdd-HHMMSS (%s)",
              line);
        CHECK(count_with(line, "Subject: Erinnerung", NULL, 0) == 1 &&
              count_with(line, "Subject: Ihr Mailkonto", NULL, 0) == 1,
              "the archive holds the mail");
        val("SELECT reason FROM directory_log WHERE dir_uuid = '%s' AND "
            "new_state = 'purged'", U(1));
        CHECK(strstr(got, "archived to ") && strstr(got, "forced"),
              "directory_log: purged, forced, archived (%s)", got);
    }
    dir_log_has(U(1), "leaving>leaving,leaving>leaving,leaving>closed,"
                "closed>purged", "notice, reminder, closed, purged");
    dir_log_has(U(3), "leaving>leaving,leaving>closed", "notice, closed");
    dir_log_has(U(2), "leaving>leaving", "the returner: only the notice");
    CHECK(purge(&cfg, "leaver@school.example", 1, msg, sizeof(msg)) < 0 &&
          strstr(msg, "no mailbox"), "a second purge finds nothing");

    /* --- after closed_retention, purge_action remove ------------------- */
    mailbox("old", U(4), "closed", "NULL", "NOW() - INTERVAL 200 DAY");
    maildir_of(U(4), md4, sizeof(md4));
    snprintf(path, sizeof(path), "mkdir -p '%s/new' '%s/cur' '%s/tmp' && "
             "echo x > '%s/cur/1'", md4, md4, md4, md4);
    CHECK(system(path) == 0, "Maildir of the old account made");
    cfg.purge_action = DS_PURGE_REMOVE;
    CHECK(purge(&cfg, "old@school.example", 0, msg, sizeof(msg)) == 0,
          "purge past closed_retention without force");
    CHECK(!is_dir(md4), "purge_action remove: the Maildir is removed");
    CHECK_STR(val("SELECT COUNT(*) FROM mailboxes WHERE dir_uuid = '%s'",
                  U(4)), "0", "... and the row");
    dir_log_has(U(4), "closed>purged", "purged");
    cfg.purge_action = DS_PURGE_ARCHIVE;

    /* --- a move that fails after the commit ----------------------------- */
    mailbox("stuck", U(8), "closed", "NULL", "NOW() - INTERVAL 200 DAY");
    maildir_of(U(8), md8, sizeof(md8));
    snprintf(path, sizeof(path), "mkdir -p '%s/new' && d=$(date -u +%%s) && "
             "for i in 0 1 2 3 4 5; do mkdir -p \"%s/stuck@school.example-"
             "$(date -u -d @$((d + i)) +%%Y%%m%%d-%%H%%M%%S)/x\"; done",
             md8, getenv("LC_ARCHIVE"));
    CHECK(system(path) == 0, "archive target taken in advance");
    rc = purge(&cfg, "stuck@school.example", 0, msg, sizeof(msg));
    CHECK(rc < 0 && strstr(msg, "rows are removed") &&
          strstr(msg, "still at"), "failed move reported: %s", msg);
    CHECK(is_dir(md8), "... the Maildir stays where it was");
    CHECK_STR(val("SELECT COUNT(*) FROM mailboxes WHERE dir_uuid = '%s'",
                  U(8)), "0", "... the row is gone");
    dir_log_has(U(8), "closed>purged,purged>purged",
                "purged, then the failed move");

    db_close(db);
    return UNIT_END();
}
