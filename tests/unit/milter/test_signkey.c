/*
 * test_signkey - when postern-milter may sign with the key file contents
 * it kept (milter/sign.c): only while the file is the same file with the
 * same contents (sign_key_same: device, inode, size, mtime, ctime), and
 * only contents of a regular file that has not been written or chmod'ed
 * in the last SIGN_KEY_SETTLE_S seconds are kept at all (sign_key_settled),
 * so a key rewritten within one timestamp tick is never mistaken for the
 * old one.  Real files in a temporary directory: a replaced, rewritten,
 * chmod'ed key differs from the one read.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "milter.h"
#include "unit.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static struct stat stat_of(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        perror(path);
        exit(1);
    }
    return st;
}

int main(void)
{
    char dir[] = "/tmp/test_signkey.XXXXXX", key[64], other[64];
    struct stat a, b;
    time_t now = time(NULL);

    if (mkdtemp(dir) == NULL)
        return perror("mkdtemp"), 1;
    snprintf(key, sizeof(key), "%s/k.pem", dir);
    snprintf(other, sizeof(other), "%s/new.pem", dir);

    write_file(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n");
    a = stat_of(key);
    b = stat_of(key);
    CHECK(sign_key_same(&a, &b), "an unchanged key file is the same");

    /* fresh: not kept, whatever the cache would say later */
    CHECK(!sign_key_settled(&a, now), "a key written just now is not kept");
    CHECK(sign_key_settled(&a, now + 60), "a key written a minute ago is kept");

    /* the same size and times, but another file (renamed into place) */
    write_file(other, "-----BEGIN PRIVATE KEY-----\nBBBB\n");
    b = stat_of(other);
    b.st_mtim = a.st_mtim;
    b.st_ctim = a.st_ctim;
    CHECK(!sign_key_same(&a, &b), "another inode is another key");

    /* rewritten in place within the same second, other size */
    b = a;
    b.st_size++;
    CHECK(!sign_key_same(&a, &b), "another size is another key");

    /* rewritten in place, same size: mtime and ctime move */
    b = a;
    b.st_mtim.tv_nsec = (b.st_mtim.tv_nsec + 1) % 1000000000L;
    CHECK(!sign_key_same(&a, &b), "another mtime is another key");

    /* chmod: only ctime moves (the milter may no longer read it) */
    b = a;
    b.st_ctim.tv_sec++;
    CHECK(!sign_key_same(&a, &b), "another ctime (chmod) is another key");

    /* a real chmod and a real rewrite, seen through stat */
    sleep(1);
    if (chmod(key, 0600) < 0)
        return perror("chmod"), 1;
    b = stat_of(key);
    CHECK(!sign_key_same(&a, &b), "a chmod'ed key file differs");
    a = b;
    write_file(key, "-----BEGIN PRIVATE KEY-----\nCCCC\n");
    b = stat_of(key);
    CHECK(!sign_key_same(&a, &b), "a key rewritten with the same size differs");

    /* not a regular file: never kept */
    a = stat_of(dir);
    CHECK(!sign_key_settled(&a, now + 60), "a directory is not kept");

    unlink(key);
    unlink(other);
    rmdir(dir);
    return UNIT_END();
}
