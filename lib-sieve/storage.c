/*
 * storage - a mailbox's Sieve scripts on disk (the layout and its rules
 * are in storage.h).  Used by postern-managesieve (every operation) and
 * postern-lda (the paths of the active script, the personal directory and
 * the error log).
 *
 * Atomicity: a script is written to SIEVE_STORAGE_DIR/.tmp.PID.sieve,
 * fsync'ed and renamed over NAME.sieve; the active link is made as
 * .postern.sieve.tmpPID and renamed over .postern.sieve.  The temporary
 * names start with '.' and so are never listed as scripts.
 *
 * Limits: names SIEVE_STORAGE_NAME_MAX bytes, the mailbox directory
 * SIEVE_STORAGE_ROOT_MAX, a script read SIEVE_SCRIPT_MAX bytes (larger is
 * SIEVE_STORAGE_TOO_BIG, never cut short).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "sieve.h"
#include "storage.h"

#define LINK_TARGET_PREFIX SIEVE_STORAGE_DIR "/"

static int put_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int put_path(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            out[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int sieve_storage_init(struct sieve_storage *st, const char *root,
                       long long max_scripts, long long max_size)
{
    memset(st, 0, sizeof(*st));
    st->max_scripts = max_scripts;
    st->max_size = max_size;
    if (root[0] == '\0')
        return -1;
    return put_path(st->root, sizeof(st->root), "%s", root);
}

int sieve_storage_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > SIEVE_STORAGE_NAME_MAX || name[0] == '.' ||
        strnlen(name, len) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f ||
            name[i] == '/')
            return 0;
    return 1;
}

int sieve_storage_script_path(const struct sieve_storage *st,
                              const char *name, char *out, size_t size)
{
    if (name == NULL)
        return sieve_storage_dir_path(st, out, size);
    return put_path(out, size, "%s/" SIEVE_STORAGE_DIR "/%s"
                    SIEVE_STORAGE_SUFFIX, st->root, name);
}

int sieve_storage_dir_path(const struct sieve_storage *st, char *out,
                           size_t size)
{
    return put_path(out, size, "%s/" SIEVE_STORAGE_DIR, st->root);
}

int sieve_storage_active_path(const struct sieve_storage *st, char *out,
                              size_t size)
{
    return put_path(out, size, "%s/" SIEVE_STORAGE_ACTIVE, st->root);
}

int sieve_storage_log_path(const struct sieve_storage *st, char *out,
                           size_t size)
{
    return put_path(out, size, "%s/" SIEVE_STORAGE_LOG, st->root);
}

/* --- outcomes ------------------------------------------------------------- */

static int fail(struct str *err, int rc)
{
    static const char *const text[] = {
        [-SIEVE_STORAGE_NOTFOUND] = "There is no such script",
        [-SIEVE_STORAGE_EXISTS] = "A script with that name already exists",
        [-SIEVE_STORAGE_IS_ACTIVE] = "You may not delete the active script",
        [-SIEVE_STORAGE_TOO_BIG] = "The script is larger than the allowed "
                                   "size",
        [-SIEVE_STORAGE_TOO_MANY] = "Too many scripts; delete one first",
        [-SIEVE_STORAGE_NOT_OURS] = "The mailbox has an active script that "
                                    "was not installed by ManageSieve; ask "
                                    "the administrator",
        [-SIEVE_STORAGE_BAD_NAME] = "Invalid script name",
    };

    str_append_cstr(err, text[-rc]);
    return rc;
}

static int sys_fail(struct str *err, const char *what)
{
    str_appendf(err, "%s: %s", what, strerror(errno));
    return SIEVE_STORAGE_TEMP;
}

/* script_path - the path of a valid name; 0, or an outcome with *err */
static int script_path(const struct sieve_storage *st, const char *name,
                       char *out, size_t size, struct str *err)
{
    if (!sieve_storage_name_valid(name, strlen(name)))
        return fail(err, SIEVE_STORAGE_BAD_NAME);
    if (sieve_storage_script_path(st, name, out, size) < 0)
        return sys_fail(err, "script path");
    return 0;
}

static int mkdirs(const char *dir)
{
    char buf[SIEVE_STORAGE_PATH_MAX];

    if (put_path(buf, sizeof(buf), "%s", dir) < 0)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* --- looking -------------------------------------------------------------- */

int sieve_storage_active(const struct sieve_storage *st, char *name)
{
    char lp[SIEVE_STORAGE_PATH_MAX], target[SIEVE_STORAGE_PATH_MAX];
    size_t sl = strlen(SIEVE_STORAGE_SUFFIX), dl = strlen(LINK_TARGET_PREFIX);
    ssize_t n;

    if (sieve_storage_active_path(st, lp, sizeof(lp)) < 0)
        return -1;
    if ((n = readlink(lp, target, sizeof(target) - 1)) < 0)
        return errno == ENOENT ? 0 : -1;
    target[n] = '\0';
    if ((size_t)n <= dl + sl ||
        strncmp(target, LINK_TARGET_PREFIX, dl) != 0 ||
        strcmp(target + n - sl, SIEVE_STORAGE_SUFFIX) != 0 ||
        (size_t)n - dl - sl > SIEVE_STORAGE_NAME_MAX)
        return -1;
    memcpy(name, target + dl, (size_t)n - dl - sl);
    name[(size_t)n - dl - sl] = '\0';
    return 1;
}

int sieve_storage_exists(const struct sieve_storage *st, const char *name)
{
    char p[SIEVE_STORAGE_PATH_MAX];
    struct stat sb;

    if (!sieve_storage_name_valid(name, strlen(name)) ||
        sieve_storage_script_path(st, name, p, sizeof(p)) < 0)
        return 0;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

long sieve_storage_list(const struct sieve_storage *st,
                        void (*fn)(void *ctx, const char *name), void *ctx)
{
    size_t sl = strlen(SIEVE_STORAGE_SUFFIX);
    char p[SIEVE_STORAGE_PATH_MAX];
    struct dirent *de;
    long n = 0;
    DIR *d;

    if (sieve_storage_dir_path(st, p, sizeof(p)) < 0)
        return -1;
    if ((d = opendir(p)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        char name[SIEVE_STORAGE_NAME_MAX + 1];
        if (de->d_name[0] == '.' || l <= sl ||
            l - sl > SIEVE_STORAGE_NAME_MAX ||
            strcmp(de->d_name + l - sl, SIEVE_STORAGE_SUFFIX) != 0)
            continue;
        memcpy(name, de->d_name, l - sl);
        name[l - sl] = '\0';
        n++;
        if (fn)
            fn(ctx, name);
    }
    closedir(d);
    return n;
}

int sieve_storage_read(const struct sieve_storage *st, const char *name,
                       struct str *out, struct str *err)
{
    char p[SIEVE_STORAGE_PATH_MAX], buf[8192];
    size_t start = out->len;
    ssize_t n;
    int fd, rc;

    if ((rc = script_path(st, name, p, sizeof(p), err)) < 0)
        return rc;
    if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return errno == ENOENT ? fail(err, SIEVE_STORAGE_NOTFOUND)
                               : sys_fail(err, "cannot read the script");
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (out->len - start + (size_t)n > SIEVE_SCRIPT_MAX) {
            close(fd);
            str_truncate(out, start);
            return fail(err, SIEVE_STORAGE_TOO_BIG);
        }
        str_append(out, buf, (size_t)n);
    }
    if (n < 0) {
        rc = sys_fail(err, "cannot read the script");
        str_truncate(out, start);
    }
    close(fd);
    return rc;
}

/* --- changing ------------------------------------------------------------- */

int sieve_storage_space(const struct sieve_storage *st, const char *name,
                        unsigned long long size, struct str *err)
{
    long n;

    if (size > (unsigned long long)st->max_size || size > SIEVE_SCRIPT_MAX)
        return fail(err, SIEVE_STORAGE_TOO_BIG);
    if (st->max_scripts > 0 && !sieve_storage_exists(st, name)) {
        if ((n = sieve_storage_list(st, NULL, NULL)) < 0)
            return sys_fail(err, "cannot count scripts");
        if (n >= st->max_scripts)
            return fail(err, SIEVE_STORAGE_TOO_MANY);
    }
    return SIEVE_STORAGE_OK;
}

int sieve_storage_write(const struct sieve_storage *st, const char *name,
                        const char *text, size_t len, struct str *err)
{
    char dir[SIEVE_STORAGE_PATH_MAX], p[SIEVE_STORAGE_PATH_MAX],
        tmp[SIEVE_STORAGE_PATH_MAX];
    int fd, rc;

    if ((rc = script_path(st, name, p, sizeof(p), err)) < 0 ||
        (rc = sieve_storage_space(st, name, len, err)) < 0)
        return rc;
    if (sieve_storage_dir_path(st, dir, sizeof(dir)) < 0 || mkdirs(dir) < 0)
        return sys_fail(err, "cannot create the script directory");
    if (put_path(tmp, sizeof(tmp), "%s/.tmp.%ld" SIEVE_STORAGE_SUFFIX, dir,
                 (long)getpid()) < 0 ||
        (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                   0600)) < 0)
        return sys_fail(err, "cannot write the script");
    if (file_write_all(fd, text, len) < 0 || fsync(fd) < 0) {
        rc = sys_fail(err, "cannot write the script");
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) < 0 || rename(tmp, p) < 0) {
        rc = sys_fail(err, "cannot write the script");
        unlink(tmp);
        return rc;
    }
    return SIEVE_STORAGE_OK;
}

/* link_to - point the active link at name atomically (NULL: remove it) */
static int link_to(const struct sieve_storage *st, const char *name,
                   struct str *err)
{
    char lp[SIEVE_STORAGE_PATH_MAX], tmp[SIEVE_STORAGE_PATH_MAX],
        target[SIEVE_STORAGE_PATH_MAX];
    struct stat sb;
    int rc;

    if (sieve_storage_active_path(st, lp, sizeof(lp)) < 0)
        return sys_fail(err, "active script path");
    if (lstat(lp, &sb) == 0 && !S_ISLNK(sb.st_mode))
        return fail(err, SIEVE_STORAGE_NOT_OURS);
    if (name == NULL)
        return unlink(lp) < 0 && errno != ENOENT
                   ? sys_fail(err, "cannot deactivate") : SIEVE_STORAGE_OK;
    if (put_path(target, sizeof(target), LINK_TARGET_PREFIX "%s"
                 SIEVE_STORAGE_SUFFIX, name) < 0 ||
        put_path(tmp, sizeof(tmp), "%s.tmp%ld", lp, (long)getpid()) < 0)
        return sys_fail(err, "cannot activate the script");
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, lp) < 0) {
        rc = sys_fail(err, "cannot activate the script");
        unlink(tmp);
        return rc;
    }
    return SIEVE_STORAGE_OK;
}

int sieve_storage_activate(const struct sieve_storage *st, const char *name,
                           struct str *err)
{
    if (name == NULL || name[0] == '\0')
        return link_to(st, NULL, err);
    if (!sieve_storage_name_valid(name, strlen(name)))
        return fail(err, SIEVE_STORAGE_BAD_NAME);
    if (!sieve_storage_exists(st, name))
        return fail(err, SIEVE_STORAGE_NOTFOUND);
    return link_to(st, name, err);
}

int sieve_storage_delete(const struct sieve_storage *st, const char *name,
                         struct str *err)
{
    char p[SIEVE_STORAGE_PATH_MAX], act[SIEVE_STORAGE_NAME_MAX + 1];
    int rc;

    if ((rc = script_path(st, name, p, sizeof(p), err)) < 0)
        return rc;
    if (!sieve_storage_exists(st, name))
        return fail(err, SIEVE_STORAGE_NOTFOUND);
    if (sieve_storage_active(st, act) == 1 && strcmp(act, name) == 0)
        return fail(err, SIEVE_STORAGE_IS_ACTIVE);
    return unlink(p) < 0 ? sys_fail(err, "cannot delete") : SIEVE_STORAGE_OK;
}

int sieve_storage_rename(const struct sieve_storage *st, const char *from,
                         const char *to, struct str *err)
{
    char p1[SIEVE_STORAGE_PATH_MAX], p2[SIEVE_STORAGE_PATH_MAX],
        act[SIEVE_STORAGE_NAME_MAX + 1];
    int rc;

    if ((rc = script_path(st, from, p1, sizeof(p1), err)) < 0 ||
        (rc = script_path(st, to, p2, sizeof(p2), err)) < 0)
        return rc;
    if (!sieve_storage_exists(st, from))
        return fail(err, SIEVE_STORAGE_NOTFOUND);
    if (sieve_storage_exists(st, to))
        return fail(err, SIEVE_STORAGE_EXISTS);
    /* link, re-point the symlink, then drop the old name: the active
       script never disappears for the LDA */
    if (link(p1, p2) < 0)
        return sys_fail(err, "cannot rename");
    if (sieve_storage_active(st, act) == 1 && strcmp(act, from) == 0 &&
        (rc = link_to(st, to, err)) < 0) {
        unlink(p2);
        return rc;
    }
    unlink(p1);
    return SIEVE_STORAGE_OK;
}
