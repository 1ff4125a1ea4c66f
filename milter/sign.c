/*
 * sign - DKIM signing with libopendkim for mail from authenticated or
 * trusted clients whose From domain is one of ours.
 *
 * Headers are buffered (bounded by [milter] max_headers and
 * max_header_bytes) until the end of the headers, when the From domain is
 * known; then the keys of that domain are read from SQL (dkim_keys joined
 * with domains: active rows, only the domain's dkim_selector when it is
 * set) and one libopendkim signing handle per key is fed the headers.  The
 * body chunks go straight to the handles (libmilter's buffer, no copy).
 * At the end, each handle's DKIM-Signature value is returned.
 *
 * Signatures: relaxed/relaxed, rsa-sha256 (generating keys of 2048 bits or
 * more is the admin's job, see docs/milter.md) and ed25519-sha256 where the
 * key row says so; signed headers are the RFC 6376 recommended set and
 * From, To, Cc, Subject, Date, Reply-To, Message-ID, MIME headers,
 * List-*, are oversigned (an extra empty instance so nobody can add one).
 *
 * The From: the one mailbox of the single From field (lib/msghdr.h
 * msghdr_mailbox: display name, comments and quoting understood); several
 * From fields, several mailboxes in one (RFC 5322 allows them with a
 * Sender), a group or a malformed value: never signed.  Before the keys
 * are read, callbacks.c asks fromcheck.c whether an authenticated login
 * may use that address at all (sign_from); the key is the From domain's
 * own, or the fallback the admin configured for that domain (below), so a
 * From that passed that check is never signed with another tenant's key
 * by accident.
 *
 * Fallback keys: an active domain of ours with no active key of its own
 * (of its dkim_selector, when set) is signed with the keys of another of
 * our domains: domains.dkim_fallback (a domain) when set, else [milter]
 * dkim_fallback: "none" (unsigned, as before), "parent" (the nearest
 * parent domain with an active key, label by label, never above the
 * organizational domain of the Public Suffix List: libpsl with the
 * distribution's list, psl_latest), or a DOMAIN (a provider whose keys
 * sign its customer domains).  Only one step: the fallback domain's own
 * fallback is not followed.  A domain whose own active keys are all
 * unusable gets no fallback (an error to see, not to paper over).  The signature's d= is the fallback key's
 * domain (the key is published there, DKIM requires it): for a parent
 * the signature is aligned with the From domain under relaxed DMARC
 * alignment (same organizational domain), for a provider domain it gives
 * DKIM pass without DMARC alignment.
 *
 * Outcomes: the From domain is not ours, or there is no single usable
 * From mailbox: no signature, no error.  Our domain without a usable key (no
 * row, unreadable key file, libopendkim refuses it): an error line and, per
 * [milter] dkim_missing_key, the message passes unsigned or is tempfailed.
 * SQL unreachable: tempfail (-1 from sign_eoh).
 *
 * The DKIM_LIB handle is created once before libmilter starts its threads
 * and only read afterwards (libopendkim handles are per message).
 *
 * Key files are read once and kept in memory (at most SIGN_KEY_CACHE_MAX
 * paths, one mutex) while they stay the same file with the same contents:
 * each message costs one stat(2) instead of open/read/close.  "The same"
 * (sign_key_same) is device, inode, size, mtime and ctime; a file written
 * or its mode changed less than SIGN_KEY_SETTLE_S seconds ago is not kept
 * (sign_key_settled: a rewrite within one timestamp tick would look
 * unchanged), so a replaced, rewritten, removed or chmod'ed key is seen at
 * the next message exactly as without the cache.  libopendkim takes the
 * PEM text and parses it per message in any case (it has no interface for
 * a parsed key; docs/dev/milter-profile.md).
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dkim.h>
#include <errno.h>
#include <libpsl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "milter.h"
#include "msghdr.h"

#define SIGN_KEYS_MAX 4          /* signatures per message */
#define SIGN_KEY_FILE_MAX 16384  /* bytes of one PEM key file */
#define SIGN_KEY_CACHE_MAX 64    /* key files kept in memory */
#define SIGN_KEY_SETTLE_S 2      /* a key file younger than this is re-read */

static DKIM_LIB *dkim_lib; /* set once in sign_global_init */
static psl_ctx_t *sign_psl; /* likewise; NULL: no list, no parent fallback */

static const char *const sign_headers[] = {
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
    "mime-version", "content-type", "content-transfer-encoding",
    "content-id", "content-description", "resent-date", "resent-from",
    "resent-sender", "resent-to", "resent-cc", "resent-message-id",
    "in-reply-to", "references", "list-id", "list-help", "list-unsubscribe",
    "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
    "list-archive", NULL};

static const char *const oversign_headers[] = {
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
    "mime-version", "content-type", "content-transfer-encoding",
    "in-reply-to", "references", "list-id", "list-unsubscribe",
    "list-unsubscribe-post", NULL};

struct msign {
    struct strvec headers;   /* "Name: value" */
    size_t header_bytes;
    int from_count;
    int overflow;            /* over the header limits: never signed */
    char from[ADDR_MAX + 1];               /* "" = no single usable From */
    char from_domain[ADDR_DOMAIN_MAX + 1]; /* "" likewise */
    char sign_domain[ADDR_DOMAIN_MAX + 1]; /* d=: from_domain or fallback */
    DKIM *dkim[SIGN_KEYS_MAX];
    size_t ndkim;
    struct strvec keys;      /* "selector/domain" of each handle, for logs */
    struct str line;         /* sign_header's buffer, reused per header */
};

int sign_global_init(struct str *err)
{
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

    if ((dkim_lib = dkim_init(NULL, NULL)) == NULL) {
        str_appendf(err, "libopendkim: initialization failed");
        return -1;
    }
    if (dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
                     sizeof(flags)) != DKIM_STAT_OK ||
        dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
                     (void *)sign_headers, sizeof(char **)) != DKIM_STAT_OK ||
        dkim_options(dkim_lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
                     (void *)oversign_headers,
                     sizeof(char **)) != DKIM_STAT_OK) {
        str_appendf(err, "libopendkim: cannot set the signing options");
        return -1;
    }
    if ((sign_psl = psl_latest(NULL)) == NULL)
        log_error("DKIM: no Public Suffix List (libpsl): "
                  "dkim_fallback = parent signs nothing");
    return 0;
}

/* --- key file cache ------------------------------------------------------ */

struct keyfile {
    char *path;
    struct stat st;     /* as it was when data was read */
    struct str data;
};

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keyfile key_cache[SIGN_KEY_CACHE_MAX];
static size_t key_cache_n;

static int ts_equal(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

int sign_key_same(const struct stat *was, const struct stat *now)
{
    return was->st_dev == now->st_dev && was->st_ino == now->st_ino &&
           was->st_size == now->st_size &&
           ts_equal(was->st_mtim, now->st_mtim) &&
           ts_equal(was->st_ctim, now->st_ctim);
}

int sign_key_settled(const struct stat *st, time_t now)
{
    return S_ISREG(st->st_mode) &&
           st->st_mtim.tv_sec <= now - SIGN_KEY_SETTLE_S &&
           st->st_ctim.tv_sec <= now - SIGN_KEY_SETTLE_S;
}

/* key_cached - append the kept contents of path to key if the file is
   still the one read (st: its stat now); 1, or 0 */
static int key_cached(const char *path, const struct stat *st,
                      struct str *key)
{
    int hit = 0;

    pthread_mutex_lock(&key_lock);
    for (size_t i = 0; i < key_cache_n && !hit; i++)
        if (!strcmp(key_cache[i].path, path) &&
            sign_key_same(&key_cache[i].st, st)) {
            str_append(key, key_cache[i].data.data, key_cache[i].data.len);
            hit = 1;
        }
    pthread_mutex_unlock(&key_lock);
    return hit;
}

/* key_keep - remember the contents read from path (st: its stat taken
   before the read, so the contents are at least that new) */
static void key_keep(const char *path, const struct stat *st,
                     const struct str *key)
{
    struct keyfile *k = NULL;

    pthread_mutex_lock(&key_lock);
    for (size_t i = 0; i < key_cache_n && k == NULL; i++)
        if (!strcmp(key_cache[i].path, path))
            k = &key_cache[i];
    if (k == NULL && key_cache_n < SIGN_KEY_CACHE_MAX) {
        k = &key_cache[key_cache_n++];
        k->path = xstrdup(path);
        k->data = (struct str)STR_INIT;
    }
    if (k) {
        if (k->data.data) /* a new slot has no buffer yet */
            explicit_bzero(k->data.data, k->data.len);
        str_truncate(&k->data, 0);
        str_append(&k->data, key->data, key->len);
        k->st = *st;
    }
    pthread_mutex_unlock(&key_lock);
}

static void key_cache_free(void)
{
    pthread_mutex_lock(&key_lock);
    for (size_t i = 0; i < key_cache_n; i++) {
        if (key_cache[i].data.data)
            explicit_bzero(key_cache[i].data.data, key_cache[i].data.len);
        str_free(&key_cache[i].data);
        free(key_cache[i].path);
    }
    key_cache_n = 0;
    pthread_mutex_unlock(&key_lock);
}

/* key_load - the contents of the key file at path into key (as file_read
   would give them, with its diagnostics); 0, or -1 + *err */
static int key_load(const char *path, struct str *key, struct str *err)
{
    struct stat st;
    int known = stat(path, &st) == 0;

    if (known && key_cached(path, &st, key))
        return 0;
    if (file_read("DKIM key", path, SIGN_KEY_FILE_MAX, FILE_NONEMPTY, key,
                  err) < 0)
        return -1;
    if (known && sign_key_settled(&st, time(NULL)))
        key_keep(path, &st, key);
    return 0;
}

void sign_global_end(void)
{
    if (dkim_lib)
        dkim_close(dkim_lib);
    dkim_lib = NULL;
    if (sign_psl)
        psl_free(sign_psl);
    sign_psl = NULL;
    key_cache_free();
}

struct msign *sign_begin(void)
{
    return xcalloc(1, sizeof(struct msign));
}

void sign_free(struct msign *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ndkim; i++)
        dkim_free(s->dkim[i]);
    strvec_free(&s->headers);
    strvec_free(&s->keys);
    str_free(&s->line);
    free(s);
}

int sign_active(const struct msign *s)
{
    return s && s->ndkim > 0;
}

/* from_parse - the single mailbox of a From value and its domain (as
   written, lower-case, without a trailing dot); 0, or -1 */
static int from_parse(struct msign *s, const char *value)
{
    struct addr a;
    const char *why;

    if (!msghdr_mailbox(value, strlen(value), s->from, sizeof(s->from)) ||
        addr_parse(s->from, strlen(s->from), NULL, ADDR_NEED_DOMAIN, &a,
                   &why) < 0 ||
        a.domain[0] == '[' ||
        str_copy_bounded(s->from_domain, sizeof(s->from_domain), a.domain,
                         strlen(a.domain)) < 0)
        return -1;
    return 0;
}

const char *sign_from(const struct msign *s)
{
    return s->from[0] ? s->from : NULL;
}

int sign_header(struct mctx *m, struct msign *s, const char *name,
                const char *value)
{
    /* the From is followed even over the limits: the login's right to it
       is checked whether or not the message is signed */
    if (!strcasecmp(name, "From") &&
        (++s->from_count > 1 || from_parse(s, value) < 0))
        s->from[0] = s->from_domain[0] = '\0';
    if (s->overflow)
        return 0;
    s->header_bytes += strlen(name) + strlen(value) + 2;
    if ((long long)s->headers.n >= m->cfg->max_headers ||
        (long long)s->header_bytes > m->cfg->max_header_bytes) {
        s->overflow = 1;
        strvec_free(&s->headers);
        return -1;
    }
    str_truncate(&s->line, 0);
    str_appendf(&s->line, "%s: %s", name, value); /* within max_header_bytes */
    strvec_add(&s->headers, s->line.data);
    return 0;
}

/* --- keys ---------------------------------------------------------------- */

struct keyrows {
    struct strvec selector, algorithm, path;
};

static int key_row(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct keyrows *k = ctx;

    (void)lens;
    if (ncols >= 3 && vals[0] && vals[1] && vals[2] &&
        k->selector.n < SIGN_KEYS_MAX) {
        strvec_add(&k->selector, vals[0]);
        strvec_add(&k->algorithm, vals[1]);
        strvec_add(&k->path, vals[2]);
    }
    return 0;
}

static void keyrows_free(struct keyrows *k)
{
    strvec_free(&k->selector);
    strvec_free(&k->algorithm);
    strvec_free(&k->path);
}

/* first_col - a db_row_fn keeping the first column of the first row */
static int first_col(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    (void)lens;
    strvec_add(ctx, ncols > 0 && vals[0] ? vals[0] : "");
    return 1;
}

/* domain_fallback - is the domain one of ours (active), and its
   domains.dkim_fallback into fb ("" when NULL): LK_FOUND, LK_NOTFOUND,
   LK_TEMP */
static int domain_fallback(struct mres *r, const char *domain, char *fb,
                           size_t fbsize, struct str *err)
{
    static const char sql[] =
        "SELECT COALESCE(dkim_fallback, '') FROM domains"
        " WHERE name = ? AND active = 1";
    struct db_param p[] = {DBP_S(domain)};
    struct strvec v = STRVEC_INIT;
    int rc = db_query(r->db, sql, p, 1, first_col, &v, err);

    fb[0] = '\0';
    if (rc >= 0 && v.n > 0 &&
        str_copy_bounded(fb, fbsize, v.v[0], strlen(v.v[0])) < 0)
        fb[0] = '\0'; /* longer than a domain: the schema forbids it */
    rc = rc < 0 ? LK_TEMP : v.n > 0 ? LK_FOUND : LK_NOTFOUND;
    strvec_free(&v);
    return rc;
}

/* domain_keys - the active keys of domain (only its dkim_selector when
   set) into k; 0, or -1 + *err */
static int domain_keys(struct mres *r, const char *domain, struct keyrows *k,
                       struct str *err)
{
    static const char sql[] =
        "SELECT k.selector, k.algorithm, k.key_path FROM dkim_keys k"
        " JOIN domains d ON d.name = k.domain"
        " WHERE k.domain = ? AND k.active = 1 AND d.active = 1"
        " AND (d.dkim_selector IS NULL OR d.dkim_selector = k.selector)"
        " ORDER BY k.algorithm, k.selector";
    struct db_param p[] = {DBP_S(domain)};

    return db_query(r->db, sql, p, 1, key_row, k, err) < 0 ? -1 : 0;
}

/* start_handle - one signing handle fed with the buffered headers. */
static int start_handle(struct msign *s, const char *selector,
                        const char *algorithm, const char *path,
                        struct str *err)
{
    struct str key = STR_INIT;
    DKIM_STAT st = DKIM_STAT_OK;
    dkim_alg_t alg = !strcmp(algorithm, "ed25519-sha256")
                         ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
    DKIM *d;

    if (key_load(path, &key, err) < 0) {
        str_free(&key);
        return -1;
    }
    d = dkim_sign(dkim_lib, (const unsigned char *)"postern", NULL,
                  (dkim_sigkey_t)key.data, (const unsigned char *)selector,
                  (const unsigned char *)s->sign_domain, DKIM_CANON_RELAXED,
                  DKIM_CANON_RELAXED, alg, -1, &st);
    explicit_bzero(key.data, key.len);
    str_free(&key);
    if (d == NULL) {
        str_appendf(err, "key %s (%s._domainkey.%s): %s", path, selector,
                    s->sign_domain, dkim_getresultstr(st));
        return -1;
    }
    for (size_t i = 0; i < s->headers.n && st == DKIM_STAT_OK; i++)
        st = dkim_header(d, (unsigned char *)s->headers.v[i],
                         strlen(s->headers.v[i]));
    if (st == DKIM_STAT_OK)
        st = dkim_eoh(d);
    if (st != DKIM_STAT_OK) {
        str_appendf(err, "headers: %s", dkim_getresultstr(st));
        dkim_free(d);
        return -1;
    }
    s->dkim[s->ndkim++] = d;
    return 0;
}

/* start_domain - a signing handle per key of domain (d= domain); keys
   that cannot be used are logged and skipped; the number of key rows
   (usable or not), or -1 (SQL) */
static int start_domain(struct mres *r, struct msign *s, const char *domain,
                        struct str *err)
{
    struct keyrows k = {STRVEC_INIT, STRVEC_INIT, STRVEC_INIT};
    int n;

    if (domain_keys(r, domain, &k, err) < 0) {
        keyrows_free(&k);
        return -1;
    }
    if (str_copy_bounded(s->sign_domain, sizeof(s->sign_domain), domain,
                         strlen(domain)) < 0)
        k.selector.n = 0; /* cannot happen: a domain fits */
    for (size_t i = 0; i < k.selector.n; i++) {
        size_t before = err->len;
        if (start_handle(s, k.selector.v[i], k.algorithm.v[i], k.path.v[i],
                         err) < 0)
            log_error("DKIM: %s", str_cstr(err) + before);
        str_truncate(err, before);
    }
    n = (int)k.selector.n;
    keyrows_free(&k);
    return n;
}

int sign_fallback_check(char *value, struct str *err)
{
    str_lower(value, strlen(value));
    if (!strcmp(value, "none") || !strcmp(value, "parent") ||
        (strchr(value, '.') && addr_domain_valid(value, strlen(value))))
        return 0;
    str_appendf(err, "[milter] dkim_fallback: none, parent or a domain "
                     "name, not '%s'", value);
    return -1;
}

size_t sign_parent_domains(const char *domain, const char *org,
                           struct strvec *out)
{
    size_t dlen = strlen(domain), olen = org ? strlen(org) : 0, n = 0;
    const char *p = domain;

    /* org must be domain itself or a suffix of it at a label boundary */
    if (olen == 0 || olen > dlen || strcmp(domain + dlen - olen, org) != 0 ||
        (olen < dlen && domain[dlen - olen - 1] != '.'))
        return 0;
    while ((size_t)(p - domain) < dlen - olen && (p = strchr(p, '.')) != NULL) {
        strvec_add(out, ++p);
        n++;
    }
    return n;
}

/* start_fallback - sign with the keys of the fallback domain fb, or with
   those of the nearest parent that has keys (fb = "parent"); 0, or -1 */
static int start_fallback(struct mres *r, struct msign *s, const char *fb,
                          struct str *err)
{
    struct strvec parents = STRVEC_INIT;
    const char *org;
    int rc = 0;

    if (strcmp(fb, "parent") != 0)
        return strcmp(fb, s->from_domain) && start_domain(r, s, fb, err) < 0
               ? -1 : 0;
    org = sign_psl ? psl_registrable_domain(sign_psl, s->from_domain) : NULL;
    sign_parent_domains(s->from_domain, org, &parents);
    /* the nearest parent with key rows; its keys unusable: no further */
    for (size_t i = 0; i < parents.n && rc == 0; i++)
        rc = start_domain(r, s, parents.v[i], err);
    strvec_free(&parents);
    return rc < 0 ? -1 : 0;
}

int sign_eoh(struct mctx *m, struct mres *r, struct msign *s,
             struct str *err)
{
    char fb[ADDR_DOMAIN_MAX + 1];
    int ours, own;

    if (s->from_domain[0] == '\0' || s->overflow)
        return 0; /* no single usable From, or over the limits: unsigned */
    if ((own = start_domain(r, s, s->from_domain, err)) < 0)
        return -1;
    if (s->ndkim > 0)
        return 0;
    if ((ours = domain_fallback(r, s->from_domain, fb, sizeof(fb), err)) < 0)
        return -1;
    if (ours == LK_NOTFOUND)
        return 0; /* not our domain: not our signature */
    if (own > 0)
        fb[0] = '\0'; /* keys of its own, none usable: no fallback */
    else if (fb[0] == '\0' && strcmp(m->cfg->dkim_fallback, "none") != 0)
        snprintf(fb, sizeof(fb), "%s", m->cfg->dkim_fallback);
    if (fb[0] && start_fallback(r, s, fb, err) < 0)
        return -1;
    if (s->ndkim > 0)
        return 0;
    str_appendf(err, "no usable DKIM key for %s", s->from_domain);
    if (fb[0])
        str_appendf(err, " (nor of its fallback %s)", fb);
    if (m->cfg->dkim_missing_key == MISSING_KEY_TEMPFAIL)
        return -1;
    str_appendf(err, ": message passes unsigned");
    return 0;
}

int sign_body(struct msign *s, const unsigned char *buf, size_t len)
{
    for (size_t i = 0; i < s->ndkim; i++) {
        DKIM_STAT st = dkim_body(s->dkim[i], (unsigned char *)buf, len);
        if (st != DKIM_STAT_OK && st != DKIM_STAT_NOTIMPLEMENT)
            return -1;
    }
    return 0;
}

/* unfold_cr - drop CR characters (Postfix wants LF-folded header values). */
static void unfold_cr(char *p)
{
    char *w = p;

    for (; *p; p++)
        if (*p != '\r')
            *w++ = *p;
    *w = '\0';
}

int sign_eom(struct msign *s, struct strvec *out, struct str *err)
{
    for (size_t i = 0; i < s->ndkim; i++) {
        unsigned char *hdr = NULL;
        size_t len = 0;
        DKIM_STAT st = dkim_eom(s->dkim[i], NULL);
        if (st == DKIM_STAT_OK)
            st = dkim_getsighdr_d(s->dkim[i], strlen("DKIM-Signature: "),
                                  &hdr, &len);
        if (st != DKIM_STAT_OK || hdr == NULL) {
            str_appendf(err, "signing failed: %s", dkim_getresultstr(st));
            return -1;
        }
        unfold_cr((char *)hdr);
        strvec_add(out, (char *)hdr);
    }
    return 0;
}
