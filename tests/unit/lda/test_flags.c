/*
 * test_lda_flags - maildir_deliver_flags(): a message with IMAP system flags
 * is published as cur/NAME:2,FLAGS (flags sorted, each once, keyword letters
 * a..z after the system flags, unknown characters ignored), without flags in
 * new/; the quota recalculation reads S= from flagged names too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lda.h"
#include "log.h"
#include "unit.h"

static char root[256];

/* only_name - the name of the only file in root/rel ("" if not exactly one) */
static const char *only_name(const char *rel)
{
    static char name[512];
    char p[600];
    struct dirent *de;
    DIR *d;
    int n = 0;

    name[0] = '\0';
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((d = opendir(p)) == NULL)
        return "";
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(name, sizeof(name), "%s", de->d_name);
        n++;
    }
    closedir(d);
    if (n != 1)
        name[0] = '\0';
    return name;
}

static int put(struct maildir_ctx *md, const char *rel, const char *flags)
{
    struct str prefix = STR_INIT, err = STR_INIT;
    unsigned long long size = 0;
    struct lda_msg m;
    int rc;

    str_append_cstr(&prefix, "Return-Path: <a@b>\n");
    lda_msg_init(&m, 1 << 20, 1 << 16, "/tmp");
    lda_msg_feed(&m, "Subject: f\n\nbody\n", 17);
    lda_msg_finish(&m);
    rc = maildir_deliver_flags(md, root, rel, "", flags, &prefix, &m, &size,
                               &err);
    if (rc < 0)
        fprintf(stderr, "deliver: %s\n", str_cstr(&err));
    lda_msg_free(&m);
    str_free(&prefix);
    str_free(&err);
    return rc;
}

int main(void)
{
    struct maildir_ctx md = {"host", 1, 0};
    const char *n;
    char cmd[600];

    log_open("test", LOG_TO_STDERR, 0);
    snprintf(root, sizeof(root), "/tmp/test_lda_flags.%d", (int)getpid());
    mkdir(root, 0700);

    CHECK(put(&md, "a", "SF") == 0, "flagged delivery");
    n = only_name("a/cur");
    CHECK(strlen(n) > 5 && strcmp(n + strlen(n) - 5, ":2,FS") == 0,
          "cur/NAME:2,FS (sorted): '%s'", n);
    CHECK(strstr(n, ",S=36,") != NULL, "S= before the info: '%s'", n);
    CHECK(only_name("a/new")[0] == '\0', "nothing in new/");

    CHECK(put(&md, "b", "TSRPFDSS") == 0, "all flags, duplicates");
    n = only_name("b/cur");
    CHECK(strlen(n) > 9 && strcmp(n + strlen(n) - 9, ":2,DFPRST") == 0,
          "every flag once, in order: '%s'", n);

    CHECK(put(&md, "c", "X$9!") == 0 && only_name("c/new")[0] &&
              only_name("c/cur")[0] == '\0',
          "no known flag: new/");
    CHECK(put(&md, "e", "cSa") == 0, "keyword letters (dovecot-keywords)");
    n = only_name("e/cur");
    CHECK(strlen(n) > 6 && strcmp(n + strlen(n) - 6, ":2,Sac") == 0,
          "system flags, then keyword letters, sorted: '%s'", n);
    CHECK(put(&md, "d", NULL) == 0 && only_name("d/new")[0],
          "NULL flags: new/");
    CHECK(put(&md, "d", "") == 0, "empty flags");

    {
        unsigned long long b = 0, c = 0;
        struct str err = STR_INIT;
        char p[600];
        CHECK(put(&md, "a", NULL) == 0, "one more, unflagged");
        snprintf(p, sizeof(p), "%s/a", root);
        CHECK(quota_recalc(p, 1000, &b, &c, &err) == 0 && b == 72 && c == 2,
              "quota counts new/ and flagged cur/: %llu bytes %llu", b, c);
        str_free(&err);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return UNIT_END();
}
