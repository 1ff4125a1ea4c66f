/*
 * test_mailbox_meta - the Dovecot files beside a Maildir++ mailbox
 * (lda/mailbox_meta.c): keyword letters and dovecot-keywords (new
 * keywords added, existing ones reused without case, 26 at most, atoms
 * only, the dot-lock: stale removed, held = new keywords dropped), the
 * subscriptions file (version 2 as Dovecot 2.3 writes it, a version 1
 * file kept), the mailbox GUID from dovecot-uidlist and the folder found
 * by it, the [lda] special_use mapping, and cur/NAME:2,LETTERS.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "file.h"
#include "mailbox_meta.h"
#include "unit.h"

static char root[256];

static const char *slurp(const char *rel)
{
    static struct str s = STR_INIT;
    struct str err = STR_INIT;
    char p[600];

    str_reset(&s);
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if (file_read("", p, 1 << 20, 0, &s, &err) < 0)
        str_append_cstr(&s, "(missing)");
    str_free(&err);
    return str_cstr(&s);
}

static void put_file(const char *rel, const char *text)
{
    char p[600];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((f = fopen(p, "w")) != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void letters(const char *rel, const char *const *flags, char *out,
                    struct str *warn)
{
    char p[600];

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    str_reset(warn);
    mbmeta_letters(p, flags, 0, out, MBMETA_LETTERS_MAX, warn);
}

static void test_keywords(void)
{
    static const char *const f1[] = {"\\Seen", "$Junk", "NonJunk",
                                     "\\Recent", "bad(kw", "$junk", NULL};
    static const char *const f2[] = {"nonjunk", "$Label1", NULL};
    static const char *const sys[] = {"\\Flagged", "\\Seen", NULL};
    struct str warn = STR_INIT;
    char out[MBMETA_LETTERS_MAX];
    const char *many[MBMETA_KEYWORDS_MAX + 2];
    char kw[MBMETA_KEYWORDS_MAX + 2][16];
    struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
    char lock[600];

    mkdir(root, 0700);
    snprintf(lock, sizeof(lock), "%s/dovecot-keywords.lock", root);
    letters("", sys, out, &warn);
    CHECK_STR(out, "FS", "system flags only: letters");
    CHECK_STR(slurp("dovecot-keywords"), "(missing)",
              "system flags only: no dovecot-keywords");

    letters("", f1, out, &warn);
    CHECK_STR(out, "Sab", "keywords get a and b after the system flag");
    CHECK_STR(slurp("dovecot-keywords"), "0 $Junk\n1 NonJunk\n",
              "dovecot-keywords as Dovecot writes it");
    CHECK(strstr(str_cstr(&warn), "\\Recent") != NULL,
          "\\Recent dropped and named");
    CHECK(strstr(str_cstr(&warn), "bad(kw") != NULL,
          "a keyword that is not an atom dropped and named");
    CHECK(access(lock, F_OK) != 0, "no lock left");

    letters("", f2, out, &warn);
    CHECK_STR(out, "bc", "existing keyword reused without case, new one c");
    CHECK_STR(slurp("dovecot-keywords"), "0 $Junk\n1 NonJunk\n2 $Label1\n",
              "new keyword appended");
    CHECK_STR(str_cstr(&warn), "", "no warning");

    /* a file written by Dovecot with gaps */
    put_file("dovecot-keywords", "0 Foo\n3 $Junk\nnonsense\n");
    letters("", f2, out, &warn);
    CHECK_STR(out, "bc", "gaps filled: NonJunk b, $Label1 c");
    CHECK_STR(slurp("dovecot-keywords"),
              "0 Foo\n1 nonjunk\n2 $Label1\n3 $Junk\n",
              "gaps filled in the file, known names kept");

    /* 26 at most */
    unlink(lock);
    put_file("dovecot-keywords", "");
    for (int i = 0; i < MBMETA_KEYWORDS_MAX + 1; i++) {
        snprintf(kw[i], sizeof(kw[i]), "k%02d", i);
        many[i] = kw[i];
    }
    many[MBMETA_KEYWORDS_MAX + 1] = NULL;
    letters("", many, out, &warn);
    CHECK(strlen(out) == MBMETA_KEYWORDS_MAX && out[0] == 'a' &&
              out[MBMETA_KEYWORDS_MAX - 1] == 'z',
          "26 keywords: a..z");
    CHECK(strstr(str_cstr(&warn), "k26 dropped") != NULL,
          "the 27th keyword dropped and named");

    /* the dot-lock: stale is removed, held drops new keywords only */
    put_file("dovecot-keywords", "0 $Junk\n");
    put_file("dovecot-keywords.lock", "");
    utimes(lock, old);
    letters("", f1, out, &warn);
    CHECK_STR(out, "Sab", "a stale lock is removed");
    CHECK(access(lock, F_OK) != 0, "stale lock gone");
    put_file("dovecot-keywords.lock", "");
    letters("", f2, out, &warn);
    CHECK_STR(out, "b", "lock held: the known keyword is kept");
    CHECK(strstr(str_cstr(&warn), "not stored") != NULL,
          "lock held: new keyword dropped with a warning");
    CHECK_STR(slurp("dovecot-keywords"), "0 $Junk\n1 NonJunk\n",
              "lock held: file unchanged");
    unlink(lock);
    str_free(&warn);
}

static void test_subscriptions(void)
{
    struct str err = STR_INIT;
    char p[600];

    snprintf(p, sizeof(p), "%s/subscriptions", root);
    unlink(p);
    CHECK(mbmeta_subscribe(root, ".Foo.Bar", 0, &err) == 0, "subscribe");
    CHECK_STR(slurp("subscriptions"), "V\t2\n\nFoo\tBar\n",
              "version 2 file, levels separated by a tab");
    CHECK(mbmeta_subscribe(root, ".Foo.Bar", 0, &err) == 0, "again");
    CHECK(mbmeta_subscribe(root, ".Entw&APw-rfe", 0, &err) == 0, "second");
    CHECK_STR(slurp("subscriptions"), "V\t2\n\nFoo\tBar\nEntw&APw-rfe\n",
              "once each, names as on disk");
    CHECK(mbmeta_subscribe(root, "", 0, &err) == 0 &&
              strcmp(slurp("subscriptions"),
                     "V\t2\n\nFoo\tBar\nEntw&APw-rfe\n") == 0,
          "INBOX is not added");
    put_file("subscriptions", "INBOX\nOld.One");
    CHECK(mbmeta_subscribe(root, ".New.One", 0, &err) == 0, "version 1");
    CHECK_STR(slurp("subscriptions"), "INBOX\nOld.One\nNew.One\n",
              "a version 1 file stays version 1");
    str_free(&err);
}

static void test_guid(void)
{
    struct str dir = STR_INIT;
    char g[40], p[600];

    snprintf(p, sizeof(p), "%s/.Proj", root);
    mkdir(p, 0700);
    CHECK(mbmeta_guid(p, g, sizeof(g)) == LK_NOTFOUND, "no uidlist: no id");
    put_file(".Proj/dovecot-uidlist",
             "3 V1796456304 N1 Ga83a421070bf136bf579000083ecc375\n"
             "1 1.M1.host:2,\n");
    CHECK(mbmeta_guid(p, g, sizeof(g)) == LK_FOUND &&
              strcmp(g, "a83a421070bf136bf579000083ecc375") == 0,
          "GUID from the header");
    CHECK(mbmeta_find_id(root, "a83a421070bf136bf579000083ecc375", &dir) ==
                  LK_FOUND &&
              strcmp(str_cstr(&dir), ".Proj") == 0,
          "folder found by its id");
    CHECK(mbmeta_find_id(root, "b83a421070bf136bf579000083ecc375", &dir) ==
              LK_NOTFOUND,
          "unknown id");
    put_file("dovecot-uidlist", "3 V1 N5 Gaa3a421070bf136bf579000083ecc375\n");
    CHECK(mbmeta_find_id(root, "aa3a421070bf136bf579000083ecc375", &dir) ==
                  LK_FOUND && dir.len == 0,
          "INBOX found by its id");
    put_file(".Proj/dovecot-uidlist", "1 1796456304 5\n");
    CHECK(mbmeta_guid(p, g, sizeof(g)) == LK_NOTFOUND,
          "version 1 uidlist: no id");
    str_free(&dir);
}

static void test_special(void)
{
    const char *conf = "\\Junk=Junk  \\Sent=\"Sent Items\" bogus \\Trash=";
    struct str f = STR_INIT;

    CHECK(mbmeta_special_folder(conf, "\\junk", &f) == LK_FOUND &&
              strcmp(str_cstr(&f), "Junk") == 0,
          "\\Junk=Junk, flag without case");
    CHECK(mbmeta_special_folder(conf, "\\Sent", &f) == LK_FOUND &&
              strcmp(str_cstr(&f), "Sent Items") == 0,
          "a quoted folder name");
    CHECK(mbmeta_special_folder(conf, "\\Trash", &f) == LK_NOTFOUND,
          "an empty folder is no mapping");
    CHECK(mbmeta_special_folder(conf, "\\Drafts", &f) == LK_NOTFOUND,
          "unmapped flag");
    CHECK(mbmeta_special_folder("", "\\Junk", &f) == LK_NOTFOUND,
          "no configuration");
    str_free(&f);
}

static void test_deliver_letters(void)
{
    struct maildir_ctx md;
    struct str prefix = STR_INIT, err = STR_INIT;
    unsigned long long size = 0;
    struct lda_msg m;
    struct dirent *de;
    char p[600];
    DIR *d;
    int found = 0;

    memset(&md, 0, sizeof(md));
    md.hostname = "host";
    lda_msg_init(&m, 1 << 20, 1 << 16, "/tmp");
    lda_msg_feed(&m, "Subject: k\n\nbody\n", 17);
    lda_msg_finish(&m);
    CHECK(maildir_deliver_flags(&md, root, "box", "", "bSa", &prefix, &m,
                                &size, &err) == 0,
          "deliver with keyword letters");
    snprintf(p, sizeof(p), "%s/box/cur", root);
    if ((d = opendir(p)) != NULL) {
        while ((de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            found |= n > 6 && strcmp(de->d_name + n - 6, ":2,Sab") == 0;
        }
        closedir(d);
    }
    CHECK(found, "cur/NAME:2,Sab (system flags, then keywords, sorted)");
    lda_msg_free(&m);
    str_free(&prefix);
    str_free(&err);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/test_mailbox_meta.%d", (int)getpid());
    test_keywords();
    test_subscriptions();
    test_guid();
    test_special();
    test_deliver_letters();
    if (strncmp(root, "/tmp/test_mailbox_meta.", 23) == 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "cleanup failed\n");
    }
    return UNIT_END();
}
