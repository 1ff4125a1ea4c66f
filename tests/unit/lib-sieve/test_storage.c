/*
 * test_storage - lib-sieve/storage.c, the on-disk layout of a mailbox's
 * Sieve scripts shared by postern-managesieve and postern-lda: paths,
 * script names, write/read (atomic, bounded, no temporary files left),
 * quotas, the active link (an atomic symlink replace, never a moment
 * without a link), delete and rename of the active script, an admin's
 * regular .postern.sieve left alone, listing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sieve.h"
#include "storage.h"
#include "unit.h"

static char root[256];

static void put_file(const char *rel, const char *text, size_t len)
{
    char p[512];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((f = fopen(p, "w")) == NULL)
        return;
    fwrite(text, 1, len, f);
    fclose(f);
}

static const char *link_target(void)
{
    static char t[512];
    char p[512];
    ssize_t n;

    snprintf(p, sizeof(p), "%s/.postern.sieve", root);
    n = readlink(p, t, sizeof(t) - 1);
    t[n < 0 ? 0 : n] = '\0';
    return t;
}

/* dir_entries - the names in root/rel, sorted, space-separated */
static const char *dir_entries(const char *rel)
{
    static char out[1024];
    char p[512], *names[64];
    struct dirent *de;
    size_t n = 0, k = 0;
    DIR *d;

    out[0] = '\0';
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if ((d = opendir(p)) == NULL)
        return out;
    while ((de = readdir(d)) != NULL && n < 64)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            names[n++] = strdup(de->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s", i ? " " : "",
                              names[i]);
        free(names[i]);
    }
    return out;
}

static void count_one(void *ctx, const char *name)
{
    struct str *s = ctx;

    str_appendf(s, "%s%s", s->len ? "," : "", name);
}

static void test_names_and_paths(void)
{
    static const struct { const char *name; int ok; } names[] = {
        {"vacation", 1}, {"Filter 2024", 1}, {"ümlaut", 1}, {"a.b", 1},
        {"", 0}, {".hidden", 0}, {"a/b", 0}, {"../x", 0}, {"tab\there", 0},
        {"del\x7f", 0},
    };
    struct sieve_storage st;
    char p[SIEVE_STORAGE_PATH_MAX], small[8], longname[200], longroot[5000];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(sieve_storage_name_valid(names[i].name,
                                       strlen(names[i].name)) == names[i].ok,
              "name '%s': %s", names[i].name,
              names[i].ok ? "valid" : "refused");
    CHECK(!sieve_storage_name_valid("a\0b", 3), "a NUL inside: refused");
    memset(longname, 'n', sizeof(longname));
    CHECK(sieve_storage_name_valid(longname, SIEVE_STORAGE_NAME_MAX),
          "%d bytes: valid", SIEVE_STORAGE_NAME_MAX);
    CHECK(!sieve_storage_name_valid(longname, SIEVE_STORAGE_NAME_MAX + 1),
          "%d bytes: refused", SIEVE_STORAGE_NAME_MAX + 1);

    CHECK(sieve_storage_init(&st, "", 10, 1000) < 0, "an empty root: -1");
    memset(longroot, 'r', sizeof(longroot) - 1);
    longroot[sizeof(longroot) - 1] = '\0';
    CHECK(sieve_storage_init(&st, longroot, 10, 1000) < 0,
          "a root over SIEVE_STORAGE_ROOT_MAX: -1");
    CHECK(sieve_storage_init(&st, "/m/box", 10, 1000) == 0, "init");
    CHECK(sieve_storage_script_path(&st, "x", p, sizeof(p)) == 0 &&
              strcmp(p, "/m/box/sieve/x.sieve") == 0,
          "script path: '%s'", p);
    CHECK(sieve_storage_dir_path(&st, p, sizeof(p)) == 0 &&
              strcmp(p, "/m/box/sieve") == 0, "script directory: '%s'", p);
    CHECK(sieve_storage_script_path(&st, NULL, p, sizeof(p)) == 0 &&
              strcmp(p, "/m/box/sieve") == 0, "NULL name: the directory");
    CHECK(sieve_storage_active_path(&st, p, sizeof(p)) == 0 &&
              strcmp(p, "/m/box/.postern.sieve") == 0, "active: '%s'", p);
    CHECK(sieve_storage_log_path(&st, p, sizeof(p)) == 0 &&
              strcmp(p, "/m/box/.postern.sieve.log") == 0, "log: '%s'", p);
    CHECK(sieve_storage_active_path(&st, small, sizeof(small)) < 0 &&
              errno == ENAMETOOLONG && small[0] == '\0',
          "a path that does not fit: -1, ENAMETOOLONG, never cut short");
}

static void test_scripts(void)
{
    struct sieve_storage st;
    struct str err = STR_INIT, out = STR_INIT, names = STR_INIT;
    char act[SIEVE_STORAGE_NAME_MAX + 1], p[600];
    struct stat sb;
    int rc;

    CHECK(sieve_storage_init(&st, root, 2, 100) == 0, "init %s", root);
    CHECK(sieve_storage_list(&st, NULL, NULL) == 0,
          "no script directory yet: 0 scripts");
    CHECK(sieve_storage_active(&st, act) == 0, "no active script");

    rc = sieve_storage_write(&st, "one", "keep;\n", 6, &err);
    CHECK(rc == SIEVE_STORAGE_OK, "write one: %s", str_cstr(&err));
    snprintf(p, sizeof(p), "%s/sieve/one.sieve", root);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600,
          "sieve/one.sieve, mode 0600");
    snprintf(p, sizeof(p), "%s/sieve", root);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0700,
          "the script directory is created with mode 0700");
    CHECK_STR(dir_entries("sieve"), "one.sieve",
              "no temporary file left behind");
    CHECK(sieve_storage_read(&st, "one", &out, &err) == SIEVE_STORAGE_OK &&
              strcmp(str_cstr(&out), "keep;\n") == 0, "read it back");

    str_reset(&err);
    CHECK(sieve_storage_read(&st, "none", &out, &err) ==
              SIEVE_STORAGE_NOTFOUND &&
              strcmp(str_cstr(&err), "There is no such script") == 0,
          "read a missing script: NOTFOUND");
    str_reset(&err);
    CHECK(sieve_storage_write(&st, "../evil", "x", 1, &err) ==
              SIEVE_STORAGE_BAD_NAME, "write ../evil: BAD_NAME");
    str_reset(&err);
    CHECK(sieve_storage_read(&st, ".tmp", &out, &err) ==
              SIEVE_STORAGE_BAD_NAME, "read .tmp: BAD_NAME");

    /* quotas */
    str_reset(&err);
    CHECK(sieve_storage_write(&st, "big", "x", 101, &err) ==
              SIEVE_STORAGE_TOO_BIG, "101 bytes over max_size 100: TOO_BIG");
    CHECK(sieve_storage_write(&st, "two", "discard;\n", 9, &err) == 0,
          "write two");
    str_reset(&err);
    CHECK(sieve_storage_write(&st, "three", "keep;\n", 6, &err) ==
              SIEVE_STORAGE_TOO_MANY, "a third script: TOO_MANY");
    CHECK(sieve_storage_space(&st, "one", 50, &err) == SIEVE_STORAGE_OK,
          "replacing an existing script is not one more");
    CHECK(sieve_storage_write(&st, "one", "stop;\n", 6, &err) == 0,
          "overwrite one");
    str_reset(&out);
    CHECK(sieve_storage_read(&st, "one", &out, &err) == 0 &&
              strcmp(str_cstr(&out), "stop;\n") == 0, "the new text");
    CHECK(sieve_storage_list(&st, count_one, &names) == 2,
          "list: 2 scripts (%s)", str_cstr(&names));

    /* the active link */
    str_reset(&err);
    CHECK(sieve_storage_activate(&st, "nope", &err) ==
              SIEVE_STORAGE_NOTFOUND, "activate a missing script: NOTFOUND");
    CHECK(sieve_storage_activate(&st, "one", &err) == 0, "activate one");
    CHECK_STR(link_target(), "sieve/one.sieve", "the link ManageSieve and "
              "the LDA agree on");
    CHECK(sieve_storage_active(&st, act) == 1 && strcmp(act, "one") == 0,
          "active: one");
    CHECK(sieve_storage_activate(&st, "two", &err) == 0, "activate two");
    CHECK_STR(link_target(), "sieve/two.sieve", "replaced by rename");
    CHECK_STR(dir_entries(""), ".postern.sieve sieve",
              "no temporary link left behind");
    str_reset(&err);
    CHECK(sieve_storage_delete(&st, "two", &err) ==
              SIEVE_STORAGE_IS_ACTIVE, "delete the active script: IS_ACTIVE");

    /* rename of the active script re-points the link */
    CHECK(sieve_storage_rename(&st, "two", "zwei", &err) == 0,
          "rename two -> zwei");
    CHECK_STR(link_target(), "sieve/zwei.sieve", "the link follows");
    CHECK_STR(dir_entries("sieve"), "one.sieve zwei.sieve",
              "the old name is gone");
    str_reset(&err);
    CHECK(sieve_storage_rename(&st, "zwei", "one", &err) ==
              SIEVE_STORAGE_EXISTS, "rename onto an existing name: EXISTS");
    str_reset(&err);
    CHECK(sieve_storage_rename(&st, "gone", "x", &err) ==
              SIEVE_STORAGE_NOTFOUND, "rename a missing script: NOTFOUND");

    CHECK(sieve_storage_delete(&st, "one", &err) == 0, "delete one");
    CHECK(sieve_storage_activate(&st, "", &err) == 0, "deactivate");
    CHECK(sieve_storage_active(&st, act) == 0, "no active script");
    snprintf(p, sizeof(p), "%s/.postern.sieve", root);
    CHECK(lstat(p, &sb) < 0 && errno == ENOENT, "the link is gone");
    CHECK(sieve_storage_activate(&st, NULL, &err) == 0,
          "deactivate again: nothing to do");

    /* an admin's regular file is not ours */
    put_file(".postern.sieve", "keep;\n", 6);
    str_reset(&err);
    CHECK(sieve_storage_active(&st, act) == -1, "a regular file: -1");
    CHECK(sieve_storage_activate(&st, "zwei", &err) ==
              SIEVE_STORAGE_NOT_OURS, "activate over it: NOT_OURS");
    CHECK(lstat(p, &sb) == 0 && S_ISREG(sb.st_mode), "the file is kept");
    unlink(p);

    /* bounded reads */
    {
        size_t n = SIEVE_SCRIPT_MAX + 1;
        char *big = malloc(n);
        memset(big, '#', n);
        put_file("sieve/huge.sieve", big, n);
        free(big);
        str_reset(&out);
        str_append_cstr(&out, "before");
        str_reset(&err);
        CHECK(sieve_storage_read(&st, "huge", &out, &err) ==
                  SIEVE_STORAGE_TOO_BIG &&
                  strcmp(str_cstr(&out), "before") == 0,
              "a script over SIEVE_SCRIPT_MAX: TOO_BIG, out unchanged");
    }
    /* a symlink in the script directory is not followed */
    snprintf(p, sizeof(p), "%s/sieve/link.sieve", root);
    CHECK(symlink("/etc/passwd", p) == 0, "a symlinked script");
    str_reset(&err);
    CHECK(sieve_storage_read(&st, "link", &out, &err) == SIEVE_STORAGE_TEMP,
          "is not read: %s", str_cstr(&err));

    str_free(&err);
    str_free(&out);
    str_free(&names);
}

int main(void)
{
    char cmd[600];

    snprintf(root, sizeof(root), "/tmp/test_storage.%d/mbox", (int)getpid());
    test_names_and_paths();
    test_scripts();
    snprintf(cmd, sizeof(cmd), "rm -rf '/tmp/test_storage.%d'", (int)getpid());
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
    return UNIT_END();
}
