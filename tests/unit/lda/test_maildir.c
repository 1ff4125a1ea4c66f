/*
 * test_lda_maildir - delivery into a Maildir on disk without a database:
 * the tmp -> new protocol, names, headers, folders, quota (maildirsize),
 * loops, and failures that must be temporary and leave nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lda.h"
#include "log.h"
#include "unit.h"

static char root[256];
static struct lda_config cfg;
static struct lda_ctx ctx;

static int count_files(const char *rel)
{
    char p[1024];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((d = opendir(p)) == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* first_file - the content of the only file in rel (malloc'd) and its name */
static char *first_file(const char *rel, char *name, size_t namesize)
{
    char p[2048];
    struct dirent *de;
    DIR *d;
    char *buf = NULL;

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((d = opendir(p)) == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        FILE *fp;
        snprintf(name, namesize, "%s", de->d_name);
        snprintf(p, sizeof(p), "%s/%s/%s", root, rel, de->d_name);
        if ((fp = fopen(p, "r")) != NULL) {
            buf = calloc(1, 1 << 20);
            fread(buf, 1, (1 << 20) - 1, fp);
            fclose(fp);
        }
        break;
    }
    closedir(d);
    return buf;
}

static void deliver(const char *text, const char *mailbox, const char *md,
                    unsigned long long quota, const char *folder,
                    struct lda_result *res)
{
    struct lda_msg m;
    struct lda_mailbox mb;
    struct lda_envelope env = {"sender@example.net", mailbox, folder, NULL};

    memset(&mb, 0, sizeof(mb));
    snprintf(mb.address, sizeof(mb.address), "%s", mailbox);
    snprintf(mb.maildir, sizeof(mb.maildir), "%s", md);
    mb.quota = quota;
    lda_msg_init(&m, 1 << 20, 64, "/tmp"); /* spills after 64 bytes */
    lda_msg_feed(&m, text, strlen(text));
    lda_msg_finish(&m);
    lda_deliver(&ctx, &env, &mb, &m, res);
    lda_msg_free(&m);
}

static void clear_dir(const char *rel)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", root, rel);
    system(cmd);
}

int main(void)
{
    struct lda_result res;
    char name[512], *body, path[1024];
    static const char msg[] = "Subject: hi\r\nFrom: a@b\r\n\r\nhello\r\n";

    log_open("test", LOG_TO_STDERR, 0);
    snprintf(root, sizeof(root), "/tmp/test_lda_maildir.%d", (int)getpid());
    mkdir(root, 0700);
    cfg.mail_root = root;
    cfg.hostname = "host/with:odd";
    cfg.recipient_delimiter = "+";
    cfg.fsync = 1;
    cfg.quota_full = LDA_QFULL_BOUNCE;
    cfg.sieve_before = cfg.sieve_after = ""; /* no scripts: plain delivery */
    cfg.sieve_global_dir = "";
    cfg.sendmail_path = "/bin/false";
    lda_ctx_init(&ctx, &cfg, NULL);
    CHECK_STR(ctx.hostname, "host\\057with\\072odd", "hostname escaped");

    deliver(msg, "u@example.org", "vol01/ab/abcd/u@example.org/", 0, NULL,
            &res);
    CHECK(res.status == LDA_OK, "delivered: %s", res.text);
    CHECK(count_files("vol01/ab/abcd/u@example.org/new") == 1, "one in new/");
    CHECK(count_files("vol01/ab/abcd/u@example.org/tmp") == 0, "tmp/ empty");
    CHECK(count_files("vol01/ab/abcd/u@example.org/cur") == 0, "cur/ exists");
    body = first_file("vol01/ab/abcd/u@example.org/new", name, sizeof(name));
    CHECK_STR(body, "Return-Path: <sender@example.net>\n"
                    "Delivered-To: u@example.org\n"
                    "Subject: hi\nFrom: a@b\n\nhello\n",
              "headers prepended, LF line ends");
    {
        char want[64];
        snprintf(want, sizeof(want), ",S=%zu,W=%zu", strlen(body),
                 strlen(body) + 6);
        CHECK(strstr(name, want) != NULL, "name %s has %s", name, want);
        CHECK(strstr(name, ".host\\057with\\072odd,") != NULL &&
                  strchr(name, ':') == NULL, "host in the name, no ':'");
        CHECK(strstr(name, ".M") && strstr(name, "P") && strstr(name, "Q"),
              "time.MusecPpidQn form");
    }
    free(body);

    /* a second delivery gets a different name */
    deliver(msg, "u@example.org", "vol01/ab/abcd/u@example.org", 0, "INBOX",
            &res);
    CHECK(count_files("vol01/ab/abcd/u@example.org/new") == 2,
          "second message, unique name");

    /* folders */
    deliver(msg, "u@example.org", "vol01/ab/abcd/u@example.org", 0,
            "Entwürfe/2024", &res);
    CHECK(res.status == LDA_OK, "folder delivery: %s", res.text);
    CHECK(count_files("vol01/ab/abcd/u@example.org/.Entw&APw-rfe.2024/new") ==
              1, "folder created in modified UTF-7");
    snprintf(path, sizeof(path),
             "%s/vol01/ab/abcd/u@example.org/.Entw&APw-rfe.2024/maildirfolder",
             root);
    CHECK(access(path, F_OK) == 0, "maildirfolder marker");
    deliver(msg, "u@example.org", "vol01/ab/abcd/u@example.org", 0, "a//b",
            &res);
    CHECK(res.status == LDA_OK &&
              count_files("vol01/ab/abcd/u@example.org/new") == 3,
          "bad folder name -> INBOX");

    /* no header section */
    deliver("no header here\nsecond\n", "n@example.org", "n", 0, NULL, &res);
    body = first_file("n/new", name, sizeof(name));
    CHECK_STR(body, "Return-Path: <sender@example.net>\n"
                    "Delivered-To: n@example.org\n\n"
                    "no header here\nsecond\n",
              "headerless message: empty line after our headers");
    free(body);

    /* loop */
    deliver("Delivered-To: n@example.org\nSubject: x\n\nb\n", "n@example.org",
            "n", 0, NULL, &res);
    CHECK(res.status == LDA_LOOP && count_files("n/new") == 1,
          "loop detected, nothing written: %s", res.text);
    deliver("Delivered-To: other@example.org\nSubject: x\n\nb\n",
            "n@example.org", "n", 0, NULL, &res);
    CHECK(res.status == LDA_OK, "other Delivered-To is no loop");

    /* quota: a message here is 91 bytes with our two headers */
    deliver(msg, "q@example.org", "q", 200, NULL, &res);
    CHECK(res.status == LDA_OK, "under quota");
    snprintf(path, sizeof(path), "%s/q/maildirsize", root);
    CHECK(access(path, F_OK) < 0, "new mailbox: maildirsize comes later");
    deliver(msg, "q@example.org", "q", 200, NULL, &res);
    CHECK(res.status == LDA_OK, "second under quota (182 <= 200)");
    {
        FILE *fp = fopen(path, "r");
        char all[256] = "";
        if (fp) {
            fread(all, 1, sizeof(all) - 1, fp);
            fclose(fp);
        }
        CHECK_STR(all, "200S\n91 1\n91 1\n",
                  "maildirsize: limit, recalculation, appended delivery");
    }
    deliver(msg, "q@example.org", "q", 200, NULL, &res);
    CHECK(res.status == LDA_QUOTA_BOUNCE && count_files("q/new") == 2,
          "over quota bounces, nothing written: %s", res.text);
    cfg.quota_full = LDA_QFULL_DEFER;
    deliver(msg, "q@example.org", "q", 200, NULL, &res);
    CHECK(res.status == LDA_QUOTA_DEFER, "over quota defers when configured");
    cfg.quota_full = LDA_QFULL_BOUNCE;
    deliver(msg, "q@example.org", "q", 1000, NULL, &res);
    CHECK(res.status == LDA_OK, "raised limit: recalculated, accepted");
    {
        unsigned long long b, c;
        struct str err = STR_INIT;
        CHECK(quota_recalc(path[0] ? "/nonexistent-x" : "", 1, &b, &c, &err)
                  == 0 && b == 0, "missing mailbox counts as empty");
        snprintf(path, sizeof(path), "%s/q", root);
        CHECK(quota_recalc(path, 1000, &b, &c, &err) == 0 && b == 273 &&
                  c == 3, "recalc counts %llu bytes %llu msgs", b, c);
        CHECK(quota_check(path, 1000, 727, &err) == QUOTA_OK &&
                  quota_check(path, 1000, 728, &err) == QUOTA_OVER,
              "limit is inclusive");
        CHECK(quota_check(path, 0, 1ULL << 40, &err) == QUOTA_OK,
              "0 = unlimited");
        {
            static char longroot[LDA_PATH_MAX + 2];
            memset(longroot, 'a', LDA_PATH_MAX);
            str_reset(&err);
            CHECK(quota_check(longroot, 1000, 1, &err) < 0 && err.len > 0,
                  "a quota that cannot be checked is negative "
                  "(temporary), as every outcome: %s", str_cstr(&err));
        }
        str_free(&err);
    }

    /* failures: temporary, and nothing left in tmp/ or new/ */
    clear_dir("f");
    mkdir(strcat(strcpy(path, root), "/f"), 0700);
    mkdir(strcat(strcpy(path, root), "/f/tmp"), 0700);
    mkdir(strcat(strcpy(path, root), "/f/cur"), 0700);
    close(open(strcat(strcpy(path, root), "/f/new"), O_CREAT | O_WRONLY, 0600));
    deliver(msg, "f@example.org", "f", 0, NULL, &res);
    CHECK(res.status == LDA_TEMP, "unusable new/ -> temporary: %s", res.text);
    CHECK(count_files("f/tmp") == 0, "tmp/ cleaned after a failure");

    cfg.mail_root = "/nonexistent-mail-root";
    deliver(msg, "g@example.org", "g", 0, NULL, &res);
    CHECK(res.status == LDA_TEMP && access("/nonexistent-mail-root", F_OK) < 0,
          "missing mail_root -> temporary, not created");
    cfg.mail_root = root;

    {
        struct lda_msg m;
        struct lda_mailbox mb = {"t@example.org", "t", 0};
        struct lda_envelope env = {"", "t@example.org", NULL, NULL};
        lda_msg_init(&m, 10, 64, "/tmp");
        lda_msg_feed(&m, msg, strlen(msg));
        lda_msg_finish(&m);
        lda_deliver(&ctx, &env, &mb, &m, &res);
        CHECK(res.status == LDA_TOOBIG, "too big: %s", res.text);
        lda_msg_free(&m);
        lda_msg_init(&m, 1000, 64, "/tmp");
        m.io_error = ENOSPC;
        lda_deliver(&ctx, &env, &mb, &m, &res);
        CHECK(res.status == LDA_TEMP, "spool error -> temporary");
        lda_msg_free(&m);
    }
    {
        struct lda_mailbox mb;
        lda_resolve(&ctx, "x@example.org", &mb, &res);
        CHECK(res.status == LDA_TEMP, "no database -> temporary, never 67");
        lda_resolve(&ctx, "not an address", &mb, &res);
        CHECK(res.status == LDA_NOUSER, "bad address -> 5.1.1");
    }
    clear_dir("");
    rmdir(root);
    return UNIT_END();
}
