/*
 * quota - Maildir++ quota through the maildirsize file, in the format
 * Courier and Dovecot share:
 *
 *   1048576S            line 1: the limit (bytes; ",NC" for a message
 *   52131 14                     count limit is read but not enforced)
 *   2048 1              then one "bytes count" line per change (+/-)
 *
 * The usage is the sum of all lines after the first.  The file is
 * recalculated (every message in new/ and cur/ of INBOX and every
 * ".folder", sizes from ",S=" in the name or stat) and rewritten through
 * tmp/ + rename when it is missing, when its limit differs from ours, when
 * it has grown past 5120 bytes, when a line is damaged or the sum leaves
 * the range of a 64-bit count (the mailbox owner can write the file), or
 * when it says "over quota" and is older
 * than 15 minutes (the rules of the Maildir++ specification).  Like
 * Dovecot, every folder counts, Trash included.
 *
 * quota_usage gives the absolute figures (bytes and messages) for the
 * mailbox_usage row (quota_warn.c), read or recalculated the same way.
 *
 * Concurrency: appends are single O_APPEND writes; two deliveries racing
 * near the limit may both pass (the usual Maildir++ softness).
 *
 * Diagnostics: I/O errors other than "missing" give QUOTA_TEMP / -1 with a
 * message in *err.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lda.h"

#define QUOTA_FILE_MAX 5120        /* recalculate above this size */
#define QUOTA_OVER_RECALC_SECS 900 /* ... or over quota and this old */

static int path_join(char *out, size_t size, const char *a, const char *b)
{
    return (size_t)snprintf(out, size, "%s/%s", a, b) >= size ? -1 : 0;
}

/* add_dir - sum the messages of one new/ or cur/ directory. */
static int add_dir(const char *dir, unsigned long long *bytes,
                   unsigned long long *count, struct str *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        str_appendf(err, "opendir %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *s;
        char path[LDA_PATH_MAX];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if ((s = strstr(de->d_name, ",S=")) != NULL) {
            *bytes += strtoull(s + 3, NULL, 10);
        } else if (path_join(path, sizeof(path), dir, de->d_name) == 0 &&
                   stat(path, &st) == 0) {
            *bytes += (unsigned long long)st.st_size;
        } else {
            continue; /* expunged meanwhile */
        }
        (*count)++;
    }
    closedir(d);
    return 0;
}

static int add_maildir(const char *md, unsigned long long *bytes,
                       unsigned long long *count, struct str *err)
{
    char p[LDA_PATH_MAX];

    if (path_join(p, sizeof(p), md, "new") < 0 ||
        add_dir(p, bytes, count, err) < 0 ||
        path_join(p, sizeof(p), md, "cur") < 0 ||
        add_dir(p, bytes, count, err) < 0)
        return -1;
    return 0;
}

int quota_count(const char *root, unsigned long long *bytes_r,
                unsigned long long *count_r, struct str *err)
{
    unsigned long long bytes = 0, count = 0;
    char p[LDA_PATH_MAX];
    struct dirent *de;
    DIR *d;

    *bytes_r = *count_r = 0;
    if ((d = opendir(root)) == NULL) {
        if (errno == ENOENT) /* no mailbox yet: empty */
            return 1;
        str_appendf(err, "opendir %s: %s", root, strerror(errno));
        return -1;
    }
    if (add_maildir(root, &bytes, &count, err) < 0)
        goto fail;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") ||
            !strcmp(de->d_name, ".."))
            continue;
        if (path_join(p, sizeof(p), root, de->d_name) < 0)
            goto fail;
        /* Maildir++ folders are directories; other dot-entries (the
           .postern.sieve symlink, a .postern.sieve.log) are not mail */
        if (lstat(p, &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (add_maildir(p, &bytes, &count, err) < 0)
            goto fail;
    }
    closedir(d);
    *bytes_r = bytes;
    *count_r = count;
    return 0;
fail:
    closedir(d);
    return -1;
}

int quota_recalc(const char *root, unsigned long long limit,
                 unsigned long long *bytes_r, unsigned long long *count_r,
                 struct str *err)
{
    char p[LDA_PATH_MAX], tmp[LDA_PATH_MAX], line[96];
    struct stat rst;
    int fd, n, r;

    if ((r = quota_count(root, bytes_r, count_r, err)) != 0)
        return r < 0 ? -1 : 0; /* no mailbox yet: nothing to write */
    n = snprintf(line, sizeof(line), "%lluS\n%llu %llu\n", limit, *bytes_r,
                 *count_r);
    snprintf(tmp, sizeof(tmp), "%s/tmp/%ld.%d.maildirsize", root,
             (long)time(NULL), (int)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        if (errno == ENOENT) /* no tmp/ yet */
            return 0;
        str_appendf(err, "open %s: %s", tmp, strerror(errno));
        return -1;
    }
    /* written by root (postern quota recount): the mailbox owner keeps it */
    if (geteuid() == 0 && stat(root, &rst) == 0 && rst.st_uid != 0 &&
        fchown(fd, rst.st_uid, rst.st_gid) < 0) {
        str_appendf(err, "chown %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (write(fd, line, (size_t)n) != n || close(fd) < 0) {
        str_appendf(err, "write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    path_join(p, sizeof(p), root, "maildirsize");
    if (rename(tmp, p) < 0) {
        str_appendf(err, "rename %s: %s", p, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int quota_parse_usage(char *buf, unsigned long long limit, long long *bytes)
{
    long long count;

    return quota_parse_usage_count(buf, limit, bytes, &count);
}

int quota_parse_usage_count(char *buf, unsigned long long limit,
                            long long *bytes, long long *count)
{
    char *line, *save;

    if ((line = strtok_r(buf, "\n", &save)) == NULL)
        return 0;
    {
        char *end;
        unsigned long long def = strtoull(line, &end, 10);
        if (end == line || *end != 'S' || def != limit)
            return 0;
    }
    *bytes = *count = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *end, *cend;
        long long b = strtoll(line, &end, 10), c;
        if (end == line || __builtin_add_overflow(*bytes, b, bytes))
            return 0; /* damaged, or a sum past 2^63: recalculate */
        c = strtoll(end, &cend, 10); /* the count (absent: 0) */
        if (__builtin_add_overflow(*count, c, count))
            return 0;
    }
    return 1;
}

/* read_usage - 1 parsed, 0 must recalculate, -1 error. */
static int read_usage(const char *path, unsigned long long limit,
                      long long *bytes, long long *count, time_t *mtime,
                      struct str *err)
{
    char buf[QUOTA_FILE_MAX + 2];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        str_appendf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0 || fstat(fd, &st) < 0) {
        str_appendf(err, "read %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    if (n > QUOTA_FILE_MAX)
        return 0;
    buf[n] = '\0';
    *mtime = st.st_mtime;
    return quota_parse_usage_count(buf, limit, bytes, count);
}

enum quota_check quota_check(const char *root, unsigned long long limit,
                             unsigned long long size, struct str *err)
{
    char path[LDA_PATH_MAX];
    unsigned long long b, c;
    long long used = 0, n = 0;
    time_t mtime = 0;
    int r;

    if (limit == 0)
        return QUOTA_OK;
    if (path_join(path, sizeof(path), root, "maildirsize") < 0)
        return str_appendf(err, "path too long"), QUOTA_TEMP;
    if ((r = read_usage(path, limit, &used, &n, &mtime, err)) < 0)
        return QUOTA_TEMP;
    if (r == 1 && used >= 0 && (unsigned long long)used + size <= limit)
        return QUOTA_OK;
    if (r == 1 && time(NULL) - mtime < QUOTA_OVER_RECALC_SECS)
        return QUOTA_OVER;
    if (quota_recalc(root, limit, &b, &c, err) < 0)
        return QUOTA_TEMP;
    return b + size <= limit ? QUOTA_OK : QUOTA_OVER;
}

int quota_add(const char *root, long long bytes, long long count,
              struct str *err)
{
    char path[LDA_PATH_MAX], line[64];
    int fd, n;

    if (path_join(path, sizeof(path), root, "maildirsize") < 0)
        return str_appendf(err, "path too long"), -1;
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0
                               : (str_appendf(err, "open %s: %s", path,
                                              strerror(errno)), -1);
    n = snprintf(line, sizeof(line), "%lld %lld\n", bytes, count);
    if (write(fd, line, (size_t)n) != n) {
        str_appendf(err, "write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return close(fd) < 0 ? -1 : 0;
}

int quota_usage(const char *root, unsigned long long limit,
                unsigned long long *bytes_r, unsigned long long *count_r,
                struct str *err)
{
    char path[LDA_PATH_MAX];
    long long used = 0, n = 0;
    time_t mtime = 0;
    int r;

    if (path_join(path, sizeof(path), root, "maildirsize") < 0)
        return str_appendf(err, "path too long"), -1;
    if ((r = read_usage(path, limit, &used, &n, &mtime, err)) < 0)
        return -1;
    if (r == 1 && used >= 0 && n >= 0) {
        *bytes_r = (unsigned long long)used;
        *count_r = (unsigned long long)n;
        return 0;
    }
    return quota_recalc(root, limit, bytes_r, count_r, err);
}
