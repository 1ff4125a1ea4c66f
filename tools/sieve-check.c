/*
 * sieve-check - postern-sieve --check: compile every user's Sieve scripts
 * under a mail root, before and after a migration.
 *
 *   postern-sieve --check [--json] [-v] [-G GLOBALDIR] [--max-depth N]
 *                 [--max-scripts N] DIR
 *
 * DIR is walked (sv_walk: at most --max-depth levels, symbolic links to
 * directories not entered, Maildir++ folders and cur/new/tmp skipped).
 * A directory is a mailbox when it holds the layout postern-lda and
 * postern-managesieve use (.postern.sieve, sieve/NAME.sieve;
 * lib-sieve/storage.h) or a Dovecot home (.dovecot.sieve, sieve/); its
 * subdirectories are not searched further, nor are those of a plain
 * Maildir (one with cur/).  In a mailbox every sieve/NAME.sieve is
 * compiled, and the active script (.postern.sieve, .dovecot.sieve) when it
 * is a file of its own; a link to sieve/NAME.sieve marks that script
 * "(active)".  include :personal resolves in <mailbox>/sieve and
 * include :global in GLOBALDIR (default /etc/postern/sieve, postern-lda's
 * [lda] sieve_global_dir default), as postern-lda resolves them: an
 * include with a constant name (sieve_scan_includes) must find a script
 * that compiles (unless :optional), followed SIEVE_INCLUDE_DEPTH deep,
 * each script once; postern-lda would stop with a run-time error there.
 *
 * A directory of Cyrus scripts (NAME.script, the active one named by the
 * link defaultbc -> NAME.bc) is a mailbox too, so that the source tree of
 * a Cyrus migration can be checked before the scripts are moved: its
 * includes are resolved among its NAME.script files.
 *
 * Output: for every failed script "MAILBOX: SCRIPT[ (active)]: failed"
 * and the compiler's error lines indented by two spaces (-v also lists
 * the scripts that compile, "...: ok"); then the summary line
 * "N scripts, N failed" (", N unreadable" when some could not be read).
 * MAILBOX is the path below DIR ("." for DIR itself).  --json writes one
 * JSON object instead (see docs/sieve.md "Migrating scripts").
 *
 * Limits: a script larger than SIEVE_SCRIPT_MAX fails ("too big"); an
 * active-script link that leads out of DIR fails and is not read; after
 * --max-scripts scripts the walk stops (reported, exit 75).
 *
 * Exit: 0 every script compiles, 1 at least one fails, 75 a directory or
 * script could not be read or the walk was cut short (then the report is
 * incomplete), 64 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "sieve.h"
#include "sieve-tools.h"
#include "storage.h"

#define SV_DOVECOT_ACTIVE ".dovecot.sieve"
#define SV_CYRUS_SUFFIX ".script"

/* --- the walk (shared with sieve-convert.c) ------------------------------ */

static int skip_dir_name(const char *n)
{
    return n[0] == '.' || strcmp(n, "cur") == 0 || strcmp(n, "new") == 0 ||
           strcmp(n, "tmp") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_subdirs - the subdirectory names to enter, sorted; count or -1 */
static long list_subdirs(const char *path, char ***names, int *errnum)
{
    DIR *d = opendir(path);
    struct dirent *e;
    long n = 0, cap = 0, seen = 0;

    *names = NULL;
    if (d == NULL)
        return *errnum = errno, -1;
    while ((e = readdir(d)) != NULL && seen++ < SV_DIR_ENTRIES_MAX) {
        struct str p = STR_INIT;
        struct stat st;
        if (skip_dir_name(e->d_name))
            continue;
        str_appendf(&p, "%s/%s", path, e->d_name);
        if (lstat(str_cstr(&p), &st) == 0 && S_ISDIR(st.st_mode)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                *names = xrealloc(*names, (size_t)cap * sizeof(char *));
            }
            (*names)[n++] = xstrdup(e->d_name);
        }
        str_free(&p);
    }
    closedir(d);
    if (e != NULL) { /* over SV_DIR_ENTRIES_MAX: not searched */
        for (long i = 0; i < n; i++)
            free((*names)[i]);
        free(*names);
        *names = NULL;
        return *errnum = E2BIG, -1;
    }
    if (n > 1)
        qsort(*names, (size_t)n, sizeof(char *), cmp_names);
    return n;
}

static int walk(const char *path, const char *rel, int depth, int max_depth,
                sv_walk_fn *fn, void *ctx,
                void (*err_fn)(void *, const char *, int), int *failed)
{
    char **names;
    long n;
    int errnum = 0, rc, stop = 0;

    rc = fn(ctx, path, rel, depth);
    if (rc <= 0 || depth >= max_depth)
        return rc < 0;
    if ((n = list_subdirs(path, &names, &errnum)) < 0) {
        err_fn(ctx, path, errnum);
        *failed = 1;
        return 0;
    }
    for (long i = 0; i < n; i++) {
        struct str p = STR_INIT, r = STR_INIT;
        str_appendf(&p, "%s/%s", path, names[i]);
        str_appendf(&r, "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
        if (!stop)
            stop = walk(str_cstr(&p), str_cstr(&r), depth + 1, max_depth, fn,
                        ctx, err_fn, failed);
        str_free(&p);
        str_free(&r);
        free(names[i]);
    }
    free(names);
    return stop;
}

int sv_walk(const char *root, int max_depth, sv_walk_fn *fn, void *ctx,
            void (*err_fn)(void *ctx, const char *path, int errnum))
{
    int failed = 0, stopped;

    stopped = walk(root, "", 0, max_depth, fn, ctx, err_fn, &failed);
    return stopped ? 1 : failed ? -1 : 0;
}

int sv_path_inside(const char *root_real, const char *path)
{
    char *real = realpath(path, NULL);
    size_t n = strlen(root_real);
    int rc;

    if (real == NULL)
        return 0;
    rc = strncmp(real, root_real, n) == 0 &&
         (real[n] == '\0' || real[n] == '/' || strcmp(root_real, "/") == 0);
    free(real);
    return rc;
}

void sv_json_string(struct str *out, const char *s, size_t len)
{
    str_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            str_appendf(out, "\\%c", c);
        else if (c == '\n')
            str_append_cstr(out, "\\n");
        else if (c == '\t')
            str_append_cstr(out, "\\t");
        else if (c < 0x20 || c == 0x7f)
            str_appendf(out, "\\u%04x", c);
        else if (c < 0x80)
            str_append_char(out, (char)c);
        else {
            /* JSON is UTF-8: a byte that is not part of a well-formed
               sequence is written as the Latin-1 character */
            size_t n = str_utf8_seq((const unsigned char *)s + i, len - i);
            if (n == 0)
                str_appendf(out, "\\u%04x", c);
            else {
                str_append(out, s + i, n);
                i += n - 1;
            }
        }
    }
    str_append_char(out, '"');
}

/* --- the check ------------------------------------------------------------ */

struct check {
    const char *root_real;
    const char *global_dir;
    int json, verbose;
    long max_scripts;
    long scripts, failed, unreadable, mailboxes;
    int cut_short;
    struct str json_out;
};

static void report(struct check *c, const char *mailbox, const char *script,
                   int active, const struct str *errors, int ok)
{
    const char *p = str_cstr(errors);

    if (c->json) {
        if (!ok || c->verbose) {
            str_append_cstr(&c->json_out, c->json_out.len ? ",\n  " : "\n  ");
            str_append_cstr(&c->json_out, "{\"mailbox\": ");
            sv_json_string(&c->json_out, mailbox, strlen(mailbox));
            str_append_cstr(&c->json_out, ", \"script\": ");
            sv_json_string(&c->json_out, script, strlen(script));
            str_appendf(&c->json_out, ", \"active\": %s, \"ok\": %s, "
                        "\"errors\": [", active ? "true" : "false",
                        ok ? "true" : "false");
            for (int first = 1; *p; first = 0) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                if (!first)
                    str_append_cstr(&c->json_out, ", ");
                sv_json_string(&c->json_out, p, n);
                p += n + (nl != NULL);
            }
            str_append_cstr(&c->json_out, "]}");
        }
        return;
    }
    if (ok && !c->verbose)
        return;
    printf("%s: %s%s: %s\n", mailbox, script, active ? " (active)" : "",
           ok ? "ok" : "failed");
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = (int)(nl ? nl - p : (long)strlen(p));
        printf("  %.*s\n", n, p);
        p += n + (nl != NULL);
    }
}

/* --- includes: what postern-lda would find when the include runs ------- */

struct inc {
    const struct check *c;
    const char *personal;
    const char *suffix;      /* of personal scripts: ".sieve", ".script" */
    const char *script;      /* the including script's name */
    struct str *errors;
    int depth;
    struct str *seen;        /* "p:NAME\n" / "g:NAME\n" checked already */
};

static void check_includes(struct inc *parent, const char *script,
                           const char *text, size_t len);

static void inc_found(void *ctx, unsigned line, int global, int optional,
                      const char *name)
{
    struct inc *ic = ctx;
    const char *dir = global ? ic->c->global_dir : ic->personal;
    struct str key = STR_INIT, path = STR_INIT, text = STR_INIT,
               err = STR_INIT;
    struct sieve_host host;
    struct sieve_script *s;
    struct stat st;

    str_appendf(&key, "\n%c:%s\n", global ? 'g' : 'p', name);
    if (name[0] == '.' || strchr(name, '/') || strchr(name, '\n') ||
        memmem(str_cstr(ic->seen), ic->seen->len, key.data, key.len))
        goto out;
    str_append(ic->seen, key.data + 1, key.len - 1);
    str_appendf(&path, "%s/%s%s", dir ? dir : "", name,
                global ? SIEVE_STORAGE_SUFFIX : ic->suffix);
    if (dir == NULL || dir[0] == '\0' || stat(str_cstr(&path), &st) < 0) {
        if (!optional)
            str_appendf(ic->errors, "%s:%u: error: included script \"%s\" "
                        "(%s) not found: %s\n", ic->script, line, name,
                        global ? ":global" : ":personal", str_cstr(&path));
        goto out;
    }
    if (file_read("included script", str_cstr(&path), SIEVE_SCRIPT_MAX, 0,
                  &text, &err) < 0) {
        str_appendf(ic->errors, "%s:%u: error: %s\n", ic->script, line,
                    str_cstr(&err));
        goto out;
    }
    memset(&host, 0, sizeof(host));
    host.personal_dir = ic->personal;
    host.global_dir = ic->c->global_dir;
    host.default_folder = "INBOX";
    if (sieve_compile(name, text.data ? text.data : "", text.len, &host, &s,
                      ic->errors) < 0)
        goto out;
    sieve_script_free(s);
    if (ic->depth < SIEVE_INCLUDE_DEPTH)
        check_includes(ic, name, text.data ? text.data : "", text.len);
out:
    str_free(&key);
    str_free(&path);
    str_free(&text);
    str_free(&err);
}

static void check_includes(struct inc *parent, const char *script,
                           const char *text, size_t len)
{
    struct inc ic = *parent;

    ic.script = script;
    ic.depth = parent->depth + 1;
    (void)sieve_scan_includes(text, len, inc_found, &ic);
}

/* check_one - compile path (named script, the mailbox-relative name) */
static void check_one(struct check *c, const char *mbdir, const char *mailbox,
                      const char *script, int active, int cyrus)
{
    struct str path = STR_INIT, personal = STR_INIT, text = STR_INIT,
               errors = STR_INIT;
    struct sieve_host host;
    struct sieve_script *s;
    struct stat st;

    if (c->scripts >= c->max_scripts) {
        c->cut_short = 1;
        return;
    }
    c->scripts++;
    str_appendf(&path, "%s/%s", mbdir, script);
    if (cyrus) /* NAME.script beside each other */
        str_append_cstr(&personal, mbdir);
    else
        str_appendf(&personal, "%s/%s", mbdir, SIEVE_STORAGE_DIR);
    if (!sv_path_inside(c->root_real, str_cstr(&path))) {
        str_appendf(&errors, "%s: the file (or the link to it) is outside "
                    "the checked directory; not read", script);
        c->failed++;
        report(c, mailbox, script, active, &errors, 0);
    } else if (stat(str_cstr(&path), &st) == 0 &&
               st.st_size > SIEVE_SCRIPT_MAX) {
        str_appendf(&errors, "%s: script too big (%lld bytes, at most %d)",
                    script, (long long)st.st_size, SIEVE_SCRIPT_MAX);
        c->failed++;
        report(c, mailbox, script, active, &errors, 0);
    } else if (file_read("script", str_cstr(&path), SIEVE_SCRIPT_MAX, 0,
                         &text, &errors) < 0) {
        c->unreadable++;
        fprintf(stderr, "postern-sieve: %s\n", str_cstr(&errors));
    } else {
        memset(&host, 0, sizeof(host));
        host.personal_dir = str_cstr(&personal);
        host.global_dir = c->global_dir;
        host.default_folder = "INBOX";
        if (sieve_compile(script, text.data ? text.data : "", text.len, &host,
                          &s, &errors) < 0) {
            c->failed++;
            report(c, mailbox, script, active, &errors, 0);
        } else {
            struct str seen = STR_INIT;
            struct inc top = {c, str_cstr(&personal),
                              cyrus ? SV_CYRUS_SUFFIX : SIEVE_STORAGE_SUFFIX,
                              script, &errors, 0, &seen};
            sieve_script_free(s);
            str_append_char(&seen, '\n');
            check_includes(&top, script, text.data ? text.data : "",
                           text.len);
            if (errors.len)
                c->failed++;
            report(c, mailbox, script, active, &errors, errors.len == 0);
            str_free(&seen);
        }
    }
    str_free(&path);
    str_free(&personal);
    str_free(&text);
    str_free(&errors);
}

static int is_type(const char *dir, const char *name, mode_t type, int follow)
{
    struct str p = STR_INIT;
    struct stat st;
    int rc;

    str_appendf(&p, "%s/%s", dir, name);
    rc = (follow ? stat(str_cstr(&p), &st) : lstat(str_cstr(&p), &st)) == 0 &&
         (st.st_mode & S_IFMT) == type;
    str_free(&p);
    return rc;
}

/* active_target - the sieve/NAME.sieve the active link names, into name
   (1), or 0 when the active script is not such a link */
static int active_target(const char *mbdir, const char *link, char *name,
                         size_t size)
{
    char buf[SIEVE_STORAGE_PATH_MAX];
    struct str p = STR_INIT;
    const char *base;
    ssize_t n;

    str_appendf(&p, "%s/%s", mbdir, link);
    n = readlink(str_cstr(&p), buf, sizeof(buf) - 1);
    str_free(&p);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    base = buf;
    if (strncmp(base, "./", 2) == 0)
        base += 2;
    if (strncmp(base, SIEVE_STORAGE_DIR "/", sizeof(SIEVE_STORAGE_DIR)) != 0)
        return 0;
    base += sizeof(SIEVE_STORAGE_DIR);
    if (strchr(base, '/') || strlen(base) >= size)
        return 0;
    memcpy(name, base, strlen(base) + 1);
    return 1;
}

/* check_scripts_dir - every NAME<suffix> in mbdir/sub (sub NULL: mbdir
   itself, the Cyrus layout) */
static void check_scripts_dir(struct check *c, const char *mbdir,
                              const char *mailbox, const char *active_name,
                              const char *sub, const char *suffix)
{
    struct str dir = STR_INIT;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    long n = 0, cap = 0, seen = 0;
    size_t sl = strlen(suffix);

    if (sub)
        str_appendf(&dir, "%s/%s", mbdir, sub);
    else
        str_append_cstr(&dir, mbdir);
    if ((d = opendir(str_cstr(&dir))) == NULL) {
        if (errno != ENOENT && errno != ENOTDIR) {
            c->unreadable++;
            fprintf(stderr, "postern-sieve: %s: %s\n", str_cstr(&dir),
                    strerror(errno));
        }
        str_free(&dir);
        return;
    }
    while ((e = readdir(d)) != NULL && seen++ < SV_DIR_ENTRIES_MAX) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= sl ||
            strcmp(e->d_name + len - sl, suffix) != 0 ||
            !is_type(str_cstr(&dir), e->d_name, S_IFREG, 1))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = xrealloc(names, (size_t)cap * sizeof(char *));
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(char *), cmp_names);
    for (long i = 0; i < n; i++) {
        struct str script = STR_INIT;
        if (sub)
            str_appendf(&script, "%s/%s", sub, names[i]);
        else
            str_append_cstr(&script, names[i]);
        check_one(c, mbdir, mailbox, str_cstr(&script),
                  active_name && strcmp(active_name, names[i]) == 0,
                  sub == NULL);
        str_free(&script);
        free(names[i]);
    }
    free(names);
    str_free(&dir);
}

/* cyrus_active - is dir a Cyrus sieve directory (NAME.script files, the
   active one named by the link defaultbc -> NAME.bc)?  -1 no; else 0 with
   the active NAME.script in name ("" none) */
static int cyrus_active(const char *dir, char *name, size_t size)
{
    char buf[SIEVE_STORAGE_PATH_MAX];
    struct str p = STR_INIT;
    size_t sl = strlen(SV_CYRUS_SUFFIX);
    DIR *d = opendir(dir);
    struct dirent *e;
    long seen = 0;
    ssize_t n;
    int found = 0;

    name[0] = '\0';
    if (d == NULL)
        return -1;
    while (!found && (e = readdir(d)) != NULL && seen++ < SV_DIR_ENTRIES_MAX) {
        size_t len = strlen(e->d_name);
        found = e->d_name[0] != '.' && len > sl &&
                strcmp(e->d_name + len - sl, SV_CYRUS_SUFFIX) == 0 &&
                is_type(dir, e->d_name, S_IFREG, 0);
    }
    closedir(d);
    if (!found)
        return -1;
    str_appendf(&p, "%s/defaultbc", dir);
    n = readlink(str_cstr(&p), buf, sizeof(buf) - 1);
    str_free(&p);
    if (n > 0)
        buf[n] = '\0';
    if (n > 3 && strcmp(buf + n - 3, ".bc") == 0 && !memchr(buf, '/', (size_t)n) &&
        (size_t)n - 3 + sl < size) {
        memcpy(name, buf, (size_t)n - 3);
        memcpy(name + n - 3, SV_CYRUS_SUFFIX, sl + 1);
    }
    return 0;
}

static int check_dir(void *ctx, const char *path, const char *rel, int depth)
{
    static const char *const actives[] = {SIEVE_STORAGE_ACTIVE,
                                          SV_DOVECOT_ACTIVE};
    struct check *c = ctx;
    const char *mailbox = rel[0] ? rel : ".";
    char target[SIEVE_STORAGE_NAME_MAX + 32];
    const char *active_name = NULL;
    int is_mailbox = 0;

    (void)depth;
    if (c->cut_short)
        return -1;
    for (size_t i = 0; i < 2; i++)
        if (is_type(path, actives[i], S_IFLNK, 0) ||
            is_type(path, actives[i], S_IFREG, 0))
            is_mailbox = 1;
    if (is_type(path, SIEVE_STORAGE_DIR, S_IFDIR, 0))
        is_mailbox = 1;
    if (!is_mailbox && cyrus_active(path, target, sizeof(target)) >= 0) {
        c->mailboxes++;
        check_scripts_dir(c, path, mailbox, target[0] ? target : NULL, NULL,
                          SV_CYRUS_SUFFIX);
        return c->cut_short ? -1 : 0;
    }
    if (!is_mailbox)
        return is_type(path, "cur", S_IFDIR, 0) ? 0 : 1;
    c->mailboxes++;
    for (size_t i = 0; i < 2; i++) {
        if (is_type(path, actives[i], S_IFLNK, 0) &&
            active_target(path, actives[i], target, sizeof(target)) &&
            is_type(path, SIEVE_STORAGE_DIR, S_IFDIR, 0)) {
            active_name = target;
            if (!is_type(path, actives[i], S_IFREG, 1)) {
                struct str e = STR_INIT;
                str_appendf(&e, "%s: the active script link names %s/%s, "
                            "which does not exist", actives[i],
                            SIEVE_STORAGE_DIR, target);
                c->scripts++;
                c->failed++;
                report(c, mailbox, actives[i], 1, &e, 0);
                str_free(&e);
                active_name = NULL;
            }
        } else if (is_type(path, actives[i], S_IFLNK, 0) ||
                   is_type(path, actives[i], S_IFREG, 0))
            check_one(c, path, mailbox, actives[i], 1, 0);
    }
    check_scripts_dir(c, path, mailbox, active_name, SIEVE_STORAGE_DIR,
                      SIEVE_STORAGE_SUFFIX);
    return c->cut_short ? -1 : 0;
}

static void check_err(void *ctx, const char *path, int errnum)
{
    struct check *c = ctx;

    c->unreadable++;
    fprintf(stderr, "postern-sieve: %s: %s\n", path,
            errnum == E2BIG ? "too many entries; not searched"
                            : strerror(errnum));
}

static void check_usage(void)
{
    fprintf(stderr, "usage: postern-sieve --check [--json] [-v] "
                    "[-G GLOBALDIR] [--max-depth N] [--max-scripts N] DIR\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int sieve_check_main(int argc, char **argv)
{
    struct check c;
    const char *dir = NULL;
    long depth = SV_WALK_DEPTH;
    char *real;
    int i, rc;

    memset(&c, 0, sizeof(c));
    c.global_dir = "/etc/postern/sieve";
    c.max_scripts = SV_SCRIPTS_MAX;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            c.json = 1;
        else if (strcmp(a, "-v") == 0)
            c.verbose = 1;
        else if (strcmp(a, "-G") == 0 && i + 1 < argc)
            c.global_dir = argv[++i];
        else if (strcmp(a, "--max-depth") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 0, 64, &depth) < 0)
                return check_usage(), EX_USAGE;
        } else if (strcmp(a, "--max-scripts") == 0 && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 1000000000L, &c.max_scripts) < 0)
                return check_usage(), EX_USAGE;
        } else if (a[0] == '-' || dir != NULL)
            return check_usage(), EX_USAGE;
        else
            dir = a;
    }
    if (dir == NULL)
        return check_usage(), EX_USAGE;
    if ((real = realpath(dir, NULL)) == NULL) {
        fprintf(stderr, "postern-sieve: %s: %s\n", dir, strerror(errno));
        return EX_TEMPFAIL;
    }
    c.root_real = real;
    rc = sv_walk(real, (int)depth, check_dir, &c, check_err);
    if (c.cut_short)
        fprintf(stderr, "postern-sieve: stopped after %ld scripts "
                "(--max-scripts); the report is incomplete\n", c.scripts);
    if (c.json) {
        struct str d = STR_INIT;
        sv_json_string(&d, dir, strlen(dir));
        printf("{\"dir\": %s, \"mailboxes\": %ld, \"scripts\": %ld, "
               "\"failed\": %ld, \"unreadable\": %ld, \"complete\": %s, "
               "\"results\": [%s%s]}\n", str_cstr(&d),
               c.mailboxes, c.scripts, c.failed, c.unreadable,
               rc < 0 || c.cut_short || c.unreadable ? "false" : "true",
               str_cstr(&c.json_out), c.json_out.len ? "\n" : "");
        str_free(&d);
    } else {
        printf("%ld scripts, %ld failed", c.scripts, c.failed);
        if (c.unreadable)
            printf(", %ld unreadable", c.unreadable);
        printf("\n");
    }
    str_free(&c.json_out);
    free(real);
    if (rc < 0 || c.cut_short || c.unreadable)
        return EX_TEMPFAIL;
    return c.failed ? 1 : 0;
}
