/*
 * maildir - the crash-safe Maildir write.
 *
 *   1. open tmp/NAME with O_EXCL, NAME = "SECS.MUSECPPIDQN.HOST,S=SIZE,W=VSIZE"
 *      (S= the file size, W= the size with CRLF line ends, as Dovecot reads
 *      them; Q<n> counts deliveries of this process, so LMTP sessions in one
 *      process never collide);
 *   2. write the prefix (Return-Path, Delivered-To) and the spooled message;
 *   3. fsync and close the file (close errors count: NFS reports late);
 *   4. link tmp/NAME to new/NAME (never overwrites; on EEXIST a new name),
 *      or rename where the file system has no hard links, then unlink tmp;
 *      with IMAP flags (maildir_deliver_flags, for Sieve imap4flags) the
 *      target is cur/NAME:2,FLAGS instead, as a Maildir reader expects
 *      (keywords as Dovecot's letters a..z, see mailbox_meta.c);
 *   5. fsync new/ (or cur/) so the directory entry is on disk before we
 *      report 0.
 *
 * A crash before step 4 leaves at most a file in tmp/ (IMAP servers clean
 * those after 36 hours); after it, a whole message in new/ (or cur/).
 * Nothing partial is ever in new/ or cur/: tests/integration/lda-crash.sh
 * SIGKILLs the writer at random points to check that.  fsync can be turned off ([lda] fsync)
 * for tests and benchmarks only.
 *
 * Directories below the mail root are created on demand (mode 0700);
 * the mail root itself must exist, so an unmounted volume is a temporary
 * failure, not a new empty mailbox on the wrong disk.
 *
 * Diagnostics: every failure returns -1 with errno and a message naming
 * the path; the caller treats all of them as temporary (disk full,
 * read-only, permissions).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lda.h"

#define MAILDIR_NAME_TRIES 8

void maildir_hostname(const char *in, char *out, size_t outsize)
{
    size_t k = 0;

    for (; *in && k + 5 < outsize; in++) {
        if (*in == '/')
            k += (size_t)snprintf(out + k, outsize - k, "\\057");
        else if (*in == ':')
            k += (size_t)snprintf(out + k, outsize - k, "\\072");
        else
            out[k++] = *in;
    }
    out[k] = '\0';
}

static int mkdir_one(const char *path, struct str *err)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    str_appendf(err, "mkdir %s: %s", path, strerror(errno));
    return -1;
}

int maildir_mkdirs(const char *base, const char *rel, int is_folder,
                   struct str *err)
{
    struct str p = STR_INIT;
    size_t baselen;
    int rc = -1, e = 0;

    str_append_cstr(&p, base);
    baselen = p.len;
    for (const char *c = rel; *c;) {
        const char *s = strchr(c, '/');
        size_t n = s ? (size_t)(s - c) : strlen(c);
        if (n > 0) {
            str_append_char(&p, '/');
            str_append(&p, c, n);
            if (mkdir_one(str_cstr(&p), err) < 0)
                goto out;
        }
        c += n + (s != NULL);
    }
    if (p.len == baselen) {
        struct stat st;
        if (stat(base, &st) < 0)
            goto fail_errno;
    }
    static const char *const sub[] = {"/tmp", "/new", "/cur"};
    for (int i = 0; i < 3; i++) {
        size_t keep = p.len;
        str_append_cstr(&p, sub[i]);
        if (mkdir_one(str_cstr(&p), err) < 0)
            goto out;
        str_truncate(&p, keep);
    }
    if (is_folder) {
        int fd;
        str_append_cstr(&p, "/maildirfolder");
        if ((fd = open(str_cstr(&p), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
            goto fail_errno;
        close(fd);
    }
    rc = 0;
    goto out;
fail_errno:
    e = errno;
    str_appendf(err, "%s: %s", str_cstr(&p), strerror(e));
out:
    e = errno;
    str_free(&p);
    errno = e;
    return rc;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static void make_name(struct maildir_ctx *ctx, unsigned long long size,
                      unsigned long long vsize, char *out, size_t outsize)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    ctx->counter++;
    snprintf(out, outsize, "%lld.M%ldP%dQ%lu.%s,S=%llu,W=%llu",
             (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(),
             ctx->counter, ctx->hostname, size, vsize);
}

static unsigned long long count_lf(const struct str *s)
{
    unsigned long long n = 0;

    for (size_t i = 0; i < s->len; i++)
        n += s->data[i] == '\n';
    return n;
}

static int write_file(struct maildir_ctx *ctx, int fd,
                      const struct str *prefix, struct lda_msg *m)
{
    size_t off = 0;

    while (off < prefix->len) {
        ssize_t w = write(fd, prefix->data + off, prefix->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        off += (size_t)w;
    }
    if (lda_msg_write_to(m, fd) < 0)
        return -1;
    if (ctx->fsync && fsync(fd) < 0)
        return -1;
    return 0;
}

/*
 * info_suffix - ":2,FLAGS" for the Maildir flags in `flags`: the system
 * flags D F P R S T, then the keyword letters a..z (Dovecot's, mapped by
 * the folder's dovecot-keywords: mailbox_meta.c), in ASCII order, each
 * once; other characters are ignored; "" when there is no known flag.
 */
static void info_suffix(const char *flags, char *out, size_t outsize)
{
    static const char order[] = "DFPRSTabcdefghijklmnopqrstuvwxyz";
    size_t k;

    out[0] = '\0';
    if (flags == NULL || *flags == '\0' || outsize < sizeof(order) + 3)
        return;
    memcpy(out, ":2,", 4);
    k = 3;
    for (const char *o = order; *o; o++)
        if (strchr(flags, *o) != NULL)
            out[k++] = *o;
    out[k > 3 ? k : 0] = '\0'; /* no known flag: an unflagged new/ message */
}

/* publish - link tmp into sub/ ("new" or "cur") under a name nobody uses,
   with the info suffix; 0 or -1. */
static int publish(struct maildir_ctx *ctx, const char *dir, const char *sub,
                   const char *info, const char *tmppath, char *name,
                   size_t namesize, unsigned long long size,
                   unsigned long long vsize, struct str *err)
{
    char newpath[LDA_PATH_MAX];

    for (int i = 0; i < MAILDIR_NAME_TRIES; i++) {
        struct stat st;
        if (i > 0)
            make_name(ctx, size, vsize, name, namesize);
        if ((size_t)snprintf(newpath, sizeof(newpath), "%s/%s/%s%s", dir,
                             sub, name, info) >= sizeof(newpath))
            return errno = ENAMETOOLONG,
                   str_appendf(err, "%s/%s: name too long", dir, sub), -1;
        if (link(tmppath, newpath) == 0)
            return 0;
        if (errno == EEXIST)
            continue;
        if (errno != EPERM && errno != ENOSYS && errno != EOPNOTSUPP &&
            errno != EMLINK)
            break;
        /* no hard links here: rename, after making sure nothing is there */
        if (lstat(newpath, &st) == 0)
            continue;
        if (rename(tmppath, newpath) == 0)
            return 0;
        break;
    }
    str_appendf(err, "link %s -> %s: %s", tmppath, newpath, strerror(errno));
    return -1;
}

int maildir_deliver(struct maildir_ctx *ctx, const char *base,
                    const char *rel, const char *folder,
                    const struct str *prefix, struct lda_msg *m,
                    unsigned long long *size_r, struct str *err)
{
    return maildir_deliver_flags(ctx, base, rel, folder, NULL, prefix, m,
                                 size_r, err);
}

int maildir_deliver_flags(struct maildir_ctx *ctx, const char *base,
                          const char *rel, const char *folder,
                          const char *flags, const struct str *prefix,
                          struct lda_msg *m, unsigned long long *size_r,
                          struct str *err)
{
    char dir[LDA_PATH_MAX], tmppath[LDA_PATH_MAX], name[512], info[40];
    const char *sub;
    unsigned long long size = prefix->len + m->size;
    unsigned long long vsize = size + count_lf(prefix) + m->lines;
    int fd = -1, e, created = 0;
    size_t rl = strlen(rel);

    info_suffix(flags, info, sizeof(info));
    sub = info[0] ? "cur" : "new";
    while (rl > 0 && rel[rl - 1] == '/')
        rl--;
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%.*s%s%s", base, (int)rl, rel,
                         *folder ? "/" : "", folder) >= sizeof(dir))
        return errno = ENAMETOOLONG,
               str_appendf(err, "maildir path too long"), -1;
    for (int i = 0; fd < 0 && i < MAILDIR_NAME_TRIES; i++) {
        make_name(ctx, size, vsize, name, sizeof(name));
        if ((size_t)snprintf(tmppath, sizeof(tmppath), "%s/tmp/%s", dir,
                             name) >= sizeof(tmppath))
            return errno = ENAMETOOLONG,
                   str_appendf(err, "maildir path too long"), -1;
        fd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno == EEXIST)
            continue;
        if (errno != ENOENT || created)
            break;
        /* first delivery to this mailbox or folder */
        created = 1;
        if (maildir_mkdirs(base, rel, 0, err) < 0)
            return -1;
        if (*folder) {
            char frel[LDA_PATH_MAX];
            if ((size_t)snprintf(frel, sizeof(frel), "%.*s/%s", (int)rl, rel,
                                 folder) >= sizeof(frel))
                return errno = ENAMETOOLONG,
                       str_appendf(err, "maildir path too long"), -1;
            if (maildir_mkdirs(base, frel, 1, err) < 0)
                return -1;
        }
    }
    if (fd < 0) {
        e = errno;
        str_appendf(err, "open %s: %s", tmppath, strerror(e));
        return errno = e, -1;
    }
    if (write_file(ctx, fd, prefix, m) < 0) {
        e = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) < 0) {
        e = errno;
        goto fail;
    }
    if (publish(ctx, dir, sub, info, tmppath, name, sizeof(name), size,
                vsize, err) < 0) {
        e = errno;
        unlink(tmppath);
        return errno = e, -1;
    }
    unlink(tmppath); /* after a rename there is nothing left: ENOENT */
    if (ctx->fsync) {
        char newdir[LDA_PATH_MAX + 8];
        snprintf(newdir, sizeof(newdir), "%s/%s", dir, sub);
        if (fsync_dir(newdir) < 0) {
            /* the message is in new/ but perhaps not on disk: say
               "temporary" and accept a possible duplicate over a loss */
            e = errno;
            str_appendf(err, "fsync %s: %s", newdir, strerror(e));
            return errno = e, -1;
        }
    }
    *size_r = size;
    return 0;
fail:
    str_appendf(err, "write %s: %s", tmppath, strerror(e));
    unlink(tmppath);
    return errno = e, -1;
}
