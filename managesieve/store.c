/*
 * store - a mailbox's Sieve scripts on disk, laid out the way postern-lda
 * reads them:
 *
 *   <mailbox dir>/sieve/NAME.sieve   one file per script
 *   <mailbox dir>/.postern.sieve     symlink "sieve/NAME.sieve" to the
 *                                    active script (absent: none active)
 *
 * Writes are atomic (a hidden temporary file renamed into place; the
 * symlink is replaced by rename too), so the LDA never reads half a
 * script.  Directories are created on first use (mode 0700).  A
 * .postern.sieve that is a regular file (placed by an admin) is left
 * alone: SETACTIVE then fails with a message instead of destroying it.
 *
 * Names: 1..MS_NAME_MAX bytes, no '/', no control characters, not starting
 * with '.'.  Quotas: max_scripts files, max_size bytes per script.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msieve.h"

#define ACTIVE_LINK ".postern.sieve"
#define SCRIPT_DIR "sieve"
#define SUFFIX ".sieve"

int ms_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > MS_NAME_MAX || name[0] == '.' || strlen(name) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/')
            return 0;
    return 1;
}

static void path(const struct ms_store *st, const char *name, char *out,
                 size_t size)
{
    if (name)
        snprintf(out, size, "%s/" SCRIPT_DIR "/%s" SUFFIX, st->dir, name);
    else
        snprintf(out, size, "%s/" SCRIPT_DIR, st->dir);
}

static int fail(struct str *err, const char **code, const char *c,
                const char *what)
{
    *code = c;
    str_appendf(err, "%s", what);
    return -1;
}

static int sys_fail(struct str *err, const char **code, const char *what)
{
    *code = NULL;
    str_appendf(err, "%s: %s", what, strerror(errno));
    return -1;
}

static int mkdirs(const char *dir)
{
    char buf[MS_FILE_MAX];

    snprintf(buf, sizeof(buf), "%s", dir);
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

/* active - the active script's name into out (size MS_NAME_MAX + 1);
   1 there is one, 0 none, -1 .postern.sieve is not our symlink */
static int active(const struct ms_store *st, char *out)
{
    char lp[MS_FILE_MAX], target[MS_FILE_MAX];
    ssize_t n;
    size_t sl = strlen(SUFFIX), dl = strlen(SCRIPT_DIR "/");

    snprintf(lp, sizeof(lp), "%s/" ACTIVE_LINK, st->dir);
    if ((n = readlink(lp, target, sizeof(target) - 1)) < 0)
        return errno == ENOENT ? 0 : -1;
    target[n] = '\0';
    if ((size_t)n <= dl + sl || strncmp(target, SCRIPT_DIR "/", dl) != 0 ||
        strcmp(target + n - sl, SUFFIX) != 0 || (size_t)n - dl - sl > MS_NAME_MAX)
        return -1;
    memcpy(out, target + dl, (size_t)n - dl - sl);
    out[n - dl - sl] = '\0';
    return 1;
}

static int exists(const struct ms_store *st, const char *name)
{
    char p[MS_FILE_MAX];
    struct stat sb;

    path(st, name, p, sizeof(p));
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* each - call fn for every script name; returns the count or -1 */
static long each(const struct ms_store *st,
                 void (*fn)(void *ctx, const char *name), void *ctx)
{
    char p[MS_FILE_MAX];
    struct dirent *de;
    long n = 0;
    DIR *d;

    path(st, NULL, p, sizeof(p));
    if ((d = opendir(p)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), sl = strlen(SUFFIX);
        char name[MS_NAME_MAX + 1];
        if (de->d_name[0] == '.' || l <= sl || l - sl > MS_NAME_MAX ||
            strcmp(de->d_name + l - sl, SUFFIX) != 0)
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

struct listctx {
    struct str *out;
    const char *act;
};

static void list_one(void *ctx, const char *name)
{
    struct listctx *lc = ctx;

    ms_quote(lc->out, name, strlen(name));
    if (lc->act && !strcmp(lc->act, name))
        str_append_cstr(lc->out, " ACTIVE");
    str_append_cstr(lc->out, "\r\n");
}

int ms_store_list(const struct ms_store *st, struct str *out, struct str *err)
{
    char act[MS_NAME_MAX + 1];
    struct listctx lc = {out, active(st, act) == 1 ? act : NULL};

    if (each(st, list_one, &lc) < 0)
        return str_appendf(err, "cannot list scripts: %s", strerror(errno)), -1;
    return 0;
}

int ms_store_get(const struct ms_store *st, const char *name, struct str *out,
                 const char **code, struct str *err)
{
    char p[MS_FILE_MAX], buf[8192];
    ssize_t n;
    int fd;

    path(st, name, p, sizeof(p));
    if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return errno == ENOENT ? fail(err, code, MS_NONEXISTENT, "There is no such script")
                               : sys_fail(err, code, "cannot read the script");
    while ((n = read(fd, buf, sizeof(buf))) > 0 &&
           out->len + (size_t)n <= (size_t)st->max_size * 2)
        str_append(out, buf, (size_t)n);
    close(fd);
    return n < 0 ? sys_fail(err, code, "cannot read the script") : 0;
}

int ms_store_space(const struct ms_store *st, const char *name,
                   unsigned long long size, const char **code, struct str *err)
{
    long n;

    if (size > (unsigned long long)st->max_size)
        return fail(err, code, MS_QUOTA_SIZE, "The script is larger than the "
                    "allowed size");
    if (!exists(st, name)) {
        if ((n = each(st, NULL, NULL)) < 0)
            return sys_fail(err, code, "cannot count scripts");
        if (n >= st->max_scripts)
            return fail(err, code, MS_QUOTA_SCRIPTS, "Too many scripts; delete "
                        "one first");
    }
    return 0;
}

int ms_store_put(const struct ms_store *st, const char *name, const char *text,
                 size_t len, const char **code, struct str *err)
{
    char p[MS_FILE_MAX], tmp[MS_FILE_MAX + 64];
    int fd;

    if (ms_store_space(st, name, len, code, err) < 0)
        return -1;
    path(st, NULL, p, sizeof(p));
    if (mkdirs(p) < 0)
        return sys_fail(err, code, "cannot create the script directory");
    snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld.sieve", p, (long)getpid());
    path(st, name, p, sizeof(p));
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return sys_fail(err, code, "cannot write the script");
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return sys_fail(err, code, "cannot write the script");
    }
    close(fd);
    if (rename(tmp, p) < 0) {
        unlink(tmp);
        return sys_fail(err, code, "cannot write the script");
    }
    return 0;
}

/* link_to - point .postern.sieve at name atomically (NULL: remove) */
static int link_to(const struct ms_store *st, const char *name,
                   const char **code, struct str *err)
{
    char lp[MS_FILE_MAX], tmp[MS_FILE_MAX], target[MS_FILE_MAX];
    struct stat sb;

    snprintf(lp, sizeof(lp), "%s/" ACTIVE_LINK, st->dir);
    if (lstat(lp, &sb) == 0 && !S_ISLNK(sb.st_mode))
        return fail(err, code, NULL, "The mailbox has an active script that "
                    "was not installed by ManageSieve; ask the administrator");
    if (name == NULL)
        return unlink(lp) < 0 && errno != ENOENT
                   ? sys_fail(err, code, "cannot deactivate") : 0;
    snprintf(target, sizeof(target), SCRIPT_DIR "/%s" SUFFIX, name);
    snprintf(tmp, sizeof(tmp), "%s/" ACTIVE_LINK ".tmp%ld", st->dir, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) < 0 || rename(tmp, lp) < 0) {
        unlink(tmp);
        return sys_fail(err, code, "cannot activate the script");
    }
    return 0;
}

int ms_store_activate(const struct ms_store *st, const char *name,
                      const char **code, struct str *err)
{
    if (name[0] == '\0')
        return link_to(st, NULL, code, err);
    if (!exists(st, name))
        return fail(err, code, MS_NONEXISTENT, "There is no such script");
    return link_to(st, name, code, err);
}

int ms_store_delete(const struct ms_store *st, const char *name,
                    const char **code, struct str *err)
{
    char p[MS_FILE_MAX], act[MS_NAME_MAX + 1];

    if (!exists(st, name))
        return fail(err, code, MS_NONEXISTENT, "There is no such script");
    if (active(st, act) == 1 && !strcmp(act, name))
        return fail(err, code, MS_ACTIVE, "You may not delete the active script");
    path(st, name, p, sizeof(p));
    return unlink(p) < 0 ? sys_fail(err, code, "cannot delete") : 0;
}

int ms_store_rename(const struct ms_store *st, const char *from, const char *to,
                    const char **code, struct str *err)
{
    char p1[MS_FILE_MAX], p2[MS_FILE_MAX], act[MS_NAME_MAX + 1];

    if (!exists(st, from))
        return fail(err, code, MS_NONEXISTENT, "There is no such script");
    if (exists(st, to))
        return fail(err, code, MS_ALREADYEXISTS, "A script with that name "
                    "already exists");
    path(st, from, p1, sizeof(p1));
    path(st, to, p2, sizeof(p2));
    /* link, re-point the symlink, then drop the old name: the active
       script never disappears for the LDA */
    if (link(p1, p2) < 0)
        return sys_fail(err, code, "cannot rename");
    if (active(st, act) == 1 && !strcmp(act, from) &&
        link_to(st, to, code, err) < 0) {
        unlink(p2);
        return -1;
    }
    unlink(p1);
    return 0;
}
