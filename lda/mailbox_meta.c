/*
 * mailbox_meta - the files Dovecot keeps beside a Maildir++ mailbox, read
 * and written the way Dovecot does, so that what a Sieve script asked for
 * is what an IMAP client sees (docs/dovecot.md, docs/sieve.md):
 *
 *   dovecot-keywords  per folder: "N name" lines, N = 0..25; a message
 *                     carries keyword N as the letter 'a' + N in its
 *                     file name's info (":2,Sab"), after the system
 *                     flags.  New keywords are added under Dovecot's
 *                     dot-lock (FILE.lock created with O_EXCL, the new
 *                     text written into it, fsync, renamed over FILE).
 *   subscriptions     in the mailbox root: "V\t2\n\n", then one folder a
 *                     line, its levels separated by a tab, names as on
 *                     disk (modified UTF-7): a folder the delivery
 *                     creates is added, under the same dot-lock.
 *   dovecot-uidlist   per folder, written by Dovecot only: its header
 *                     "3 V<uidvalidity> N<next> G<guid>" holds the mailbox
 *                     GUID that IMAP reports as MAILBOXID (RFC 8474).
 *                     postern-lda reads it and never creates it: a folder
 *                     Dovecot has not seen yet has no id, so :mailboxid
 *                     falls back to the name (RFC 9042).
 *   special-use       not on disk: [lda] special_use maps flags to
 *                     folders ("\Junk=Junk \Sent=\"Sent Items\""), the
 *                     mapping the admin gives Dovecot.
 *
 * Limits: MBMETA_KEYWORDS_MAX keywords per folder (Dovecot's a..z),
 * files of MBMETA_FILE_MAX bytes, a lock waited for MBMETA_LOCK_WAIT_MS
 * (older than MBMETA_LOCK_STALE_S: stale, removed), MBMETA_SCAN_MAX
 * folders searched for an id.
 *
 * Diagnostics: nothing here fails a delivery.  A keyword that cannot be
 * stored is dropped with a warning (the message is stored), a folder that
 * cannot be subscribed is logged, an id that cannot be looked up is
 * LK_TEMP (the Sieve test is a run-time error: the message is kept).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mailbox_meta.h"
#include "clock.h"
#include "file.h"
#include "log.h"
#include "mem.h"

/* --- the dot-lock ---------------------------------------------------------- */

static int lock_take(const char *lock)
{
    long long until = clock_ms() + MBMETA_LOCK_WAIT_MS;

    for (;;) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        struct stat st;
        int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        if (stat(lock, &st) == 0 &&
            st.st_mtime + MBMETA_LOCK_STALE_S < time(NULL)) {
            (void)unlink(lock);
            continue;
        }
        if (clock_ms() >= until)
            return errno = EAGAIN, -1;
        nanosleep(&ts, NULL);
    }
}

/* edit: the file's text (exists: it was there) -> out; 1 changed, 0 not */
typedef int edit_fn(void *arg, const struct str *old, int exists,
                    struct str *out);

/* locked_update - path rewritten by edit under path.lock; 0 or -1 */
static int locked_update(const char *path, edit_fn *edit, void *arg,
                         int dosync, struct str *err)
{
    struct str lock = STR_INIT, old = STR_INIT, out = STR_INIT;
    struct stat st;
    int fd, exists, rc = -1;

    str_appendf(&lock, "%s.lock", path);
    if ((fd = lock_take(str_cstr(&lock))) < 0) {
        str_appendf(err, "%s: %s", str_cstr(&lock), errno == EAGAIN
                    ? "locked by another process" : strerror(errno));
        goto out;
    }
    exists = stat(path, &st) == 0;
    if (exists && file_read("", path, MBMETA_FILE_MAX, 0, &old, err) < 0)
        goto unlock;
    if (edit(arg, &old, exists, &out) == 0) {
        rc = 0;
        goto unlock;
    }
    if (file_write_all(fd, out.data ? out.data : "", out.len) < 0 ||
        (dosync && fsync(fd) < 0)) {
        str_appendf(err, "write %s: %s", str_cstr(&lock), strerror(errno));
        goto unlock;
    }
    if (close(fd) < 0 || rename(str_cstr(&lock), path) < 0) {
        fd = -1;
        str_appendf(err, "rename %s: %s", str_cstr(&lock), strerror(errno));
        goto unlock;
    }
    fd = -1;
    rc = 0;
    goto out;
unlock:
    if (fd >= 0)
        close(fd);
    (void)unlink(str_cstr(&lock));
out:
    str_free(&lock);
    str_free(&old);
    str_free(&out);
    return rc;
}

/* --- keywords (dovecot-keywords) ------------------------------------------- */

struct kwtab {
    char *names[MBMETA_KEYWORDS_MAX];
    const char **want;      /* the keywords of the action */
    size_t nwant;
    int *dropped;           /* per want: no slot */
};

static void kw_clear(struct kwtab *t)
{
    for (int i = 0; i < MBMETA_KEYWORDS_MAX; i++) {
        free(t->names[i]);
        t->names[i] = NULL;
    }
}

/* kw_parse - "N name" lines; others are ignored, as Dovecot does */
static void kw_parse(struct kwtab *t, const char *p, size_t len)
{
    const char *end = p + len;

    kw_clear(t);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
        const char *le = nl ? nl : end;
        char *num_end;
        long idx = strtol(p, &num_end, 10);
        sp = num_end;
        if (sp > p && sp < le && *sp == ' ' && idx >= 0 &&
            idx < MBMETA_KEYWORDS_MAX && le > sp + 1 &&
            t->names[idx] == NULL)
            t->names[idx] = xstrndup(sp + 1, (size_t)(le - sp - 1));
        p = le + (nl != NULL);
    }
}

static int kw_index(const struct kwtab *t, const char *name)
{
    for (int i = 0; i < MBMETA_KEYWORDS_MAX; i++)
        if (t->names[i] && strcasecmp(t->names[i], name) == 0)
            return i;
    return -1;
}

static int kw_edit(void *arg, const struct str *old, int exists,
                   struct str *out)
{
    struct kwtab *t = arg;
    int changed = 0;

    (void)exists;
    kw_parse(t, old->data ? old->data : "", old->len);
    for (size_t w = 0; w < t->nwant; w++) {
        int slot = 0;
        if (kw_index(t, t->want[w]) >= 0)
            continue;
        while (slot < MBMETA_KEYWORDS_MAX && t->names[slot])
            slot++;
        if (slot == MBMETA_KEYWORDS_MAX) {
            t->dropped[w] = 1;
            continue;
        }
        t->names[slot] = xstrdup(t->want[w]);
        changed = 1;
    }
    for (int i = 0; changed && i < MBMETA_KEYWORDS_MAX; i++)
        if (t->names[i])
            str_appendf(out, "%d %s\n", i, t->names[i]);
    return changed;
}

/* an IMAP atom (RFC 3501): no specials, no controls, no 8-bit */
static int atom_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MBMETA_KEYWORD_LEN_MAX)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
            return 0;
    }
    return 1;
}

static int is_system(const char *f)
{
    static const char *const sys[] = {"\\Seen", "\\Answered", "\\Flagged",
                                      "\\Deleted", "\\Draft"};

    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
        if (strcasecmp(f, sys[i]) == 0)
            return 1;
    return 0;
}

static int cmp_char(const void *a, const void *b)
{
    return *(const char *)a - *(const char *)b;
}

void mbmeta_letters(const char *fdir, const char *const *flags, int dosync,
                    char *out, size_t size, struct str *warn)
{
    struct kwtab t;
    struct str path = STR_INIT, text = STR_INIT, err = STR_INIT;
    size_t nflags = 0, k;
    char kw[MBMETA_KEYWORDS_MAX + 1];
    size_t nkw = 0;
    int missing = 0;

    memset(&t, 0, sizeof(t));
    sieve_maildir_flags(flags, out, size);
    for (; flags && flags[nflags]; nflags++)
        ;
    if (nflags == 0)
        return;
    t.want = xcalloc(nflags, sizeof(*t.want));
    t.dropped = xcalloc(nflags, sizeof(*t.dropped));
    for (size_t i = 0; i < nflags; i++) {
        const char *f = flags[i];
        int dup = 0;
        if (f[0] == '\\') {
            if (!is_system(f))
                str_appendf(warn, "%sflag %s is not a keyword Maildir can "
                            "hold", warn->len ? "; " : "", log_safe_cstr(f));
            continue;
        }
        if (!atom_ok(f)) {
            str_appendf(warn, "%skeyword \"%s\" is not an IMAP atom",
                        warn->len ? "; " : "", log_safe_cstr(f));
            continue;
        }
        for (size_t w = 0; w < t.nwant; w++)
            dup |= strcasecmp(t.want[w], f) == 0;
        if (!dup)
            t.want[t.nwant++] = f;
    }
    if (t.nwant == 0)
        goto out;
    str_appendf(&path, "%s/dovecot-keywords", fdir);
    if (file_read("", str_cstr(&path), MBMETA_FILE_MAX, 0, &text, &err) == 0)
        kw_parse(&t, text.data ? text.data : "", text.len);
    for (size_t w = 0; w < t.nwant; w++)
        missing |= kw_index(&t, t.want[w]) < 0;
    str_reset(&err);
    if (missing &&
        locked_update(str_cstr(&path), kw_edit, &t, dosync, &err) < 0) {
        /* the table as read before; what is new is dropped */
        str_appendf(warn, "%snew keywords not stored: %s",
                    warn->len ? "; " : "", str_cstr(&err));
        kw_parse(&t, text.data ? text.data : "", text.len);
    }
    for (size_t w = 0; w < t.nwant; w++) {
        int i = kw_index(&t, t.want[w]);
        if (i >= 0)
            kw[nkw++] = (char)('a' + i);
        else if (t.dropped[w])
            str_appendf(warn, "%skeyword %s dropped: the folder holds %d "
                        "keywords already", warn->len ? "; " : "",
                        log_safe_cstr(t.want[w]), MBMETA_KEYWORDS_MAX);
    }
    qsort(kw, nkw, 1, cmp_char);
    k = strlen(out);
    for (size_t i = 0; i < nkw && k + 1 < size; i++)
        out[k++] = kw[i];
    out[k] = '\0';
out:
    kw_clear(&t);
    free(t.want);
    free(t.dropped);
    str_free(&path);
    str_free(&text);
    str_free(&err);
}

/* --- subscriptions ---------------------------------------------------------- */

struct subs_arg {
    const char *name;       /* levels separated by \t (or '.', version 1) */
    const char *name1;
};

static int subs_edit(void *arg, const struct str *old, int exists,
                     struct str *out)
{
    static const char v2[] = "V\t2\n\n";
    const struct subs_arg *s = arg;
    const char *p = old->data ? old->data : "", *end = p + old->len;
    const char *name = s->name;

    if (!exists || old->len == 0) {
        str_appendf(out, "%s%s\n", v2, name);
        return 1;
    }
    if (old->len >= sizeof(v2) - 1 && memcmp(p, v2, sizeof(v2) - 1) == 0)
        p += sizeof(v2) - 1;
    else
        name = s->name1;            /* a version 1 file stays version 1 */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == strlen(name) && memcmp(p, name, n) == 0)
            return 0;
        p += n + (nl != NULL);
    }
    str_append(out, old->data, old->len);
    if (old->data[old->len - 1] != '\n')
        str_append_char(out, '\n');
    str_appendf(out, "%s\n", name);
    return 1;
}

int mbmeta_subscribe(const char *root, const char *dir, int dosync,
                     struct str *err)
{
    struct str path = STR_INIT, v2 = STR_INIT;
    struct subs_arg a;
    int rc;

    if (dir[0] != '.' || dir[1] == '\0')
        return 0;
    for (const char *p = dir + 1; *p; p++)
        str_append_char(&v2, *p == '.' ? '\t' : *p);
    a.name = str_cstr(&v2);
    a.name1 = dir + 1;
    str_appendf(&path, "%s/subscriptions", root);
    rc = locked_update(str_cstr(&path), subs_edit, &a, dosync, err);
    str_free(&path);
    str_free(&v2);
    return rc;
}

/* --- mailbox ids (dovecot-uidlist) ------------------------------------------- */

int mbmeta_guid(const char *fdir, char *out, size_t size)
{
    char path[LDA_PATH_MAX + 32], head[512];
    ssize_t n;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/dovecot-uidlist", fdir) >=
        sizeof(path))
        return LK_NOTFOUND;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT || errno == ENOTDIR ? LK_NOTFOUND : LK_TEMP;
    n = read(fd, head, sizeof(head) - 1);
    close(fd);
    if (n < 0)
        return LK_TEMP;
    head[n] = '\0';
    head[strcspn(head, "\n")] = '\0';
    if (head[0] != '3' || head[1] != ' ')   /* versions 1 and 2: no GUID */
        return LK_NOTFOUND;
    for (char *p = head + 2; *p;) {
        size_t len = strcspn(p, " ");
        if (p[0] == 'G' && len == 33 && size > 32 &&
            strspn(p + 1, "0123456789abcdefABCDEF") >= 32) {
            memcpy(out, p + 1, 32);
            out[32] = '\0';
            return LK_FOUND;
        }
        p += len;
        p += strspn(p, " ");
    }
    return LK_NOTFOUND;
}

static int guid_is(const char *fdir, const char *id)
{
    char g[40];
    int rc = mbmeta_guid(fdir, g, sizeof(g));

    return rc == LK_FOUND ? (strcmp(g, id) == 0 ? LK_FOUND : LK_NOTFOUND)
                          : rc;
}

int mbmeta_find_id(const char *root, const char *id, struct str *dir)
{
    struct str path = STR_INIT;
    struct dirent *e;
    DIR *d;
    int rc, temp = 0, n = 0;

    str_truncate(dir, 0);
    if ((rc = guid_is(root, id)) != LK_NOTFOUND)
        return rc;
    if ((d = opendir(root)) == NULL)
        return errno == ENOENT ? LK_NOTFOUND : LK_TEMP;
    rc = LK_NOTFOUND;
    while ((e = readdir(d)) != NULL && n++ < MBMETA_SCAN_MAX) {
        int r;
        if (e->d_name[0] != '.' || e->d_name[1] == '\0' ||
            strcmp(e->d_name, "..") == 0)
            continue;
        str_reset(&path);
        str_appendf(&path, "%s/%s", root, e->d_name);
        if ((r = guid_is(str_cstr(&path), id)) == LK_FOUND) {
            str_append_cstr(dir, e->d_name);
            rc = LK_FOUND;
            break;
        }
        temp |= r < 0;
    }
    closedir(d);
    str_free(&path);
    return rc == LK_FOUND ? rc : temp ? LK_TEMP : LK_NOTFOUND;
}

/* --- special-use ([lda] special_use) ----------------------------------------- */

int mbmeta_special_folder(const char *conf, const char *flag,
                          struct str *folder)
{
    const char *p = conf ? conf : "";

    str_truncate(folder, 0);
    while (*p) {
        const char *f, *eq, *v, *ve;
        p += strspn(p, " \t");
        if (!*p)
            break;
        f = p;
        eq = p + strcspn(p, "= \t");
        if (*eq != '=') {           /* not FLAG=FOLDER: skipped */
            p = eq;
            continue;
        }
        v = eq + 1;
        if (*v == '"') {
            v++;
            ve = strchr(v, '"');
            if (ve == NULL)
                ve = v + strlen(v);
            p = *ve ? ve + 1 : ve;
        } else {
            ve = v + strcspn(v, " \t");
            p = ve;
        }
        if ((size_t)(eq - f) == strlen(flag) &&
            strncasecmp(f, flag, (size_t)(eq - f)) == 0 && ve > v) {
            str_append(folder, v, (size_t)(ve - v));
            return LK_FOUND;
        }
    }
    return LK_NOTFOUND;
}

static int dir_exists(const char *root, const char *dir)
{
    struct str p = STR_INIT;
    struct stat st;
    int rc;

    str_appendf(&p, "%s/%s", root, dir);
    rc = stat(str_cstr(&p), &st) == 0 && S_ISDIR(st.st_mode);
    str_free(&p);
    return rc;
}

/* the Maildir++ directory of the folder flag is given to, if it exists */
static int special_dir(const char *conf, const char *root, const char *flag,
                       struct str *dir)
{
    struct str f = STR_INIT;
    const char *e;
    int rc = LK_NOTFOUND;

    if (mbmeta_special_folder(conf, flag, &f) == LK_FOUND &&
        folder_to_maildir(str_cstr(&f), dir, &e) == 0 &&
        dir_exists(root, str_cstr(dir)))
        rc = LK_FOUND;
    str_free(&f);
    return rc;
}

static int specialuse_exists(void *ctx, const char *folder, const char *flag)
{
    const struct mbmeta_host *c = ctx;
    struct str want = STR_INIT, have = STR_INIT;
    const char *e;
    int rc = special_dir(c->special_use, c->root, flag, &have);

    if (rc == LK_FOUND && folder != NULL)
        rc = folder_to_maildir(folder, &want, &e) == 0 &&
                     strcmp(str_cstr(&want), str_cstr(&have)) == 0
                 ? LK_FOUND : LK_NOTFOUND;
    str_free(&want);
    str_free(&have);
    return rc;
}

static int mailboxid_exists(void *ctx, const char *id)
{
    const struct mbmeta_host *c = ctx;
    struct str dir = STR_INIT;
    int rc = mbmeta_find_id(c->root, id, &dir);

    str_free(&dir);
    return rc;
}

void mbmeta_host_setup(struct sieve_host *h, struct mbmeta_host *c,
                       const char *root, const struct lda_config *cfg)
{
    c->root = root;
    c->special_use = cfg->special_use;
    h->specialuse_exists = specialuse_exists;
    h->mailboxid_exists = mailboxid_exists;
    h->store_ctx = c;
}

/* --- one store ------------------------------------------------------------------ */

/* make root/dir (and root) exist: keywords are written before the message */
static int make_folder(const struct lda_config *cfg, const char *root,
                       const char *dir, struct str *err)
{
    size_t ml = strlen(cfg->mail_root);

    if (strncmp(root, cfg->mail_root, ml) == 0 && root[ml] == '/' &&
        maildir_mkdirs(cfg->mail_root, root + ml + 1, 0, err) < 0)
        return -1;
    return maildir_mkdirs(root, dir, 1, err);
}

static int has_keywords(const char *const *flags)
{
    for (size_t i = 0; flags && flags[i]; i++)
        if (flags[i][0] != '\\')
            return 1;
    return 0;
}

int mbmeta_prepare(struct mbmeta_target *t, const struct lda_config *cfg,
                   const char *root, const struct sieve_action *a,
                   const char *who, const char **err)
{
    struct str warn = STR_INIT, fdir = STR_INIT, e2 = STR_INIT;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    if (a->mailboxid && mbmeta_find_id(root, a->mailboxid, &t->dir) ==
                            LK_FOUND)
        ;
    else if (a->specialuse &&
             special_dir(cfg->special_use, root, a->specialuse, &t->dir) ==
                 LK_FOUND)
        ;
    else if (folder_to_maildir(a->arg, &t->dir, err) < 0)
        rc = -1;
    if (rc < 0)
        str_truncate(&t->dir, 0);
    t->fresh = t->dir.len > 0 && !dir_exists(root, str_cstr(&t->dir));
    if (t->dir.len > 0 && t->fresh && has_keywords(a->flags) &&
        make_folder(cfg, root, str_cstr(&t->dir), &e2) < 0)
        log_warn("to=<%s>: sieve: %s", who, str_cstr(&e2));
    str_appendf(&fdir, "%s%s%s", root, t->dir.len ? "/" : "",
                str_cstr(&t->dir));
    mbmeta_letters(str_cstr(&fdir), a->flags, cfg->fsync, t->letters,
                   sizeof(t->letters), &warn);
    if (warn.len)
        log_warn("to=<%s>: sieve: folder %s: %s; storing the message "
                 "without them", who, t->dir.len ? str_cstr(&t->dir)
                 : "INBOX", str_cstr(&warn));
    str_free(&warn);
    str_free(&fdir);
    str_free(&e2);
    return rc;
}

void mbmeta_stored(const struct mbmeta_target *t, const struct lda_config *cfg,
                   const char *root, const char *who)
{
    if (t->fresh)
        mbmeta_subscribe_new(cfg, root, str_cstr(&t->dir), who);
}

int mbmeta_missing(const char *root, const char *dir)
{
    return dir[0] != '\0' && !dir_exists(root, dir);
}

void mbmeta_subscribe_new(const struct lda_config *cfg, const char *root,
                          const char *dir, const char *who)
{
    struct str err = STR_INIT;

    if (dir_exists(root, dir) &&
        mbmeta_subscribe(root, dir, cfg->fsync, &err) < 0)
        log_warn("to=<%s>: folder %s not subscribed: %s", who, dir,
                 str_cstr(&err));
    str_free(&err);
}

void mbmeta_target_free(struct mbmeta_target *t)
{
    str_free(&t->dir);
}

/* --- fcc ------------------------------------------------------------------------- */

void mbmeta_fcc(const struct sieve_lda_run *run, const struct sieve_fcc *f,
                const struct str *msg)
{
    static const char *const seen[] = {"\\Seen", NULL};
    const struct lda_config *cfg = run->ctx->cfg;
    const char *who = run->mb->address, *e = NULL;
    struct str root = STR_INIT, err = STR_INIT, none = STR_INIT;
    struct sieve_action a;
    struct mbmeta_target t;
    struct lda_msg m;
    unsigned long long size;

    memset(&a, 0, sizeof(a));
    a.kind = SIEVE_ACT_FILEINTO;
    a.arg = f->folder;
    a.flags = f->flags ? f->flags : (const char **)seen;
    a.create = f->create;
    a.specialuse = f->specialuse;
    a.mailboxid = f->mailboxid;
    str_appendf(&root, "%s/%s", cfg->mail_root, run->mb->maildir);
    while (root.len > 1 && root.data[root.len - 1] == '/')
        str_truncate(&root, root.len - 1);
    lda_msg_init(&m, msg->len + 1, (size_t)cfg->spool_memory, cfg->temp_dir);
    if (mbmeta_prepare(&t, cfg, str_cstr(&root), &a, who, &e) < 0) {
        log_warn("to=<%s>: fcc: folder '%s': %s; no copy stored", who,
                 log_safe_cstr(f->folder), e);
        goto out;
    }
    if (quota_check(str_cstr(&root), run->mb->quota, msg->len, &err) !=
        QUOTA_OK) {
        log_warn("to=<%s>: fcc: mailbox full or quota unknown; no copy "
                 "stored", who);
        goto out;
    }
    if (lda_msg_feed(&m, msg->data ? msg->data : "", msg->len) < 0 ||
        lda_msg_finish(&m) < 0 ||
        maildir_deliver_flags(&run->ctx->md, cfg->mail_root,
                              run->mb->maildir, str_cstr(&t.dir), t.letters,
                              &none, &m, &size, &err) < 0) {
        log_error("to=<%s>: fcc: no copy stored: %s", who,
                  err.len ? str_cstr(&err) : "spool error");
        mbmeta_stored(&t, cfg, str_cstr(&root), who);
        goto out;
    }
    if (run->mb->quota && quota_add(str_cstr(&root), (long long)size, 1,
                                    &err) < 0)
        log_warn("to=<%s>: maildirsize: %s", who, str_cstr(&err));
    mbmeta_stored(&t, cfg, str_cstr(&root), who);
    log_info("to=<%s>: fcc: copy stored in %s", who,
             t.dir.len ? log_safe_cstr(f->folder) : "INBOX");
out:
    mbmeta_target_free(&t);
    lda_msg_free(&m);
    str_free(&root);
    str_free(&err);
    str_free(&none);
}
