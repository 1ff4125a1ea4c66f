/*
 * dkim.c - postern dkim: DKIM signing keys of postern-milter (dkim_keys;
 * docs/milter.md, "Keys and the DNS record").
 *
 *   postern dkim list [DOMAIN]
 *   postern dkim show DOMAIN [selector=S]   the DNS TXT record(s) again
 *   postern dkim add DOMAIN selector=S [algorithm=rsa|ed25519] [bits=2048]
 *       [dir=/etc/postern/dkim] [group=GROUP] [comment=TEXT]
 *     generates the key (OpenSSL EVP; RSA 2048 bits by default, at most
 *     4096), writes it as PKCS#8 PEM to DIR/DOMAIN/SELECTOR.key (mode 0640,
 *     directory 0750, both of GROUP when given: the milter's [milter] user
 *     must read it), inserts the row and prints the TXT record to publish
 *     (one line, "NAME IN TXT "v=DKIM1; k=rsa; p=...""; split it into
 *     strings of at most 255 octets in a zone file).
 *   postern dkim import DOMAIN selector=S file=PATH [comment=TEXT]
 *     an existing PEM private key (RSA of at least 2048 bits, or Ed25519)
 *     used where it is; the algorithm follows from the key.
 *   postern dkim disable|enable|remove DOMAIN selector=S [algorithm=...]
 *     remove deletes the row only; the key file is kept (and named).
 *
 * Validation before SQL: the domain is hosted, the selector is one or
 * more DNS labels (letters, digits, hyphens; stored lower-case), the key
 * is readable and strong enough; a key of that domain, selector and
 * algorithm or an existing key file is 73.  With --dry-run the key is
 * generated and its record printed, but no file is written and no row
 * kept.  Publish the record before the row goes live: mail signed with a
 * key that is not in DNS yet fails verification.
 *
 * Limits: paths up to DKIM_PATH_MAX octets; RSA 2048..4096 bits.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "commands.h"
#include "lookup.h"
#include "mem.h"
#include "util.h"

#define DKIM_PATH_MAX 400 /* dkim_keys.key_path */
#define DKIM_SELECTOR_MAX 63
#define DKIM_DEFAULT_DIR "/etc/postern/dkim"
#define DKIM_RSA_MIN 2048
#define DKIM_RSA_MAX 4096

enum dop { D_ADD, D_IMPORT, D_DISABLE, D_ENABLE, D_REMOVE };
static const char *const dop_names[] = {"add", "import", "disable", "enable",
                                        "remove", NULL};

struct dctx {
    enum dop op;
    const char *what;
    char domain[ADDR_DOMAIN_MAX + 1];
    char selector[DKIM_SELECTOR_MAX + 1];
    const char *algorithm; /* rsa-sha256 | ed25519-sha256; NULL = any */
    char path[DKIM_PATH_MAX + 1];
    const char *comment;
    EVP_PKEY *key;
    int written; /* the key file was written by this run */
    char rowpath[DKIM_PATH_MAX + 1]; /* remove: the file of the row */
};

static int selector_ok(const char *what, const char *in, char *out)
{
    size_t n = strlen(in), label = 0;
    if (n == 0 || n > DKIM_SELECTOR_MAX)
        goto bad;
    for (size_t i = 0; i <= n; i++) {
        char ch = in[i];
        if (ch == '.' || ch == 0) {
            if (label == 0 || in[i - 1] == '-')
                goto bad;
            label = 0;
            continue;
        }
        if (ch == '-' && label == 0)
            goto bad;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-'))
            goto bad;
        label++;
    }
    memcpy(out, in, n + 1);
    str_lower(out, n);
    return ADMIN_EX_OK;
bad:
    return admin_error(ADMIN_EX_DATAERR, what,
                       "selector '%s' is not a DNS label (letters, digits "
                       "and inner hyphens, labels separated by dots, at most "
                       "%d octets)", in, DKIM_SELECTOR_MAX);
}

/* the p= value of key: base64 of the DER SubjectPublicKeyInfo (RSA) or of
   the raw 32-byte key (Ed25519, RFC 8463) */
static char *dkim_pubkey_b64(EVP_PKEY *key)
{
    unsigned char *der = NULL, raw[64];
    size_t rawlen = sizeof(raw);
    int len;
    char *out;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
        if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1)
            return NULL;
        out = xmalloc(4 * ((rawlen + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, raw, (int)rawlen);
        return out;
    }
    len = i2d_PUBKEY(key, &der);
    if (len <= 0)
        return NULL;
    out = xmalloc(4 * (((size_t)len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, der, len);
    OPENSSL_free(der);
    return out;
}

/* the TXT record line for key; NULL when the key is unusable */
static char *dkim_record(EVP_PKEY *key, const char *domain, const char *selector,
                         struct str *name)
{
    struct str rec = {0};
    char *p = dkim_pubkey_b64(key);
    if (!p)
        return NULL;
    str_appendf(name, "%s._domainkey.%s.", selector, domain);
    str_appendf(&rec, "v=DKIM1; k=%s; p=%s",
                EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? "ed25519" : "rsa",
                p);
    free(p);
    return rec.data;
}

/* the private key in path, or NULL with the message printed and *status
   (may be NULL) set: ADMIN_EX_NOINPUT (unreadable) or ADMIN_EX_DATAERR */
static EVP_PKEY *dkim_read_key(const char *what, const char *path, int *status)
{
    FILE *fp = fopen(path, "r");
    EVP_PKEY *key;
    int st = ADMIN_EX_DATAERR;
    if (!fp) {
        st = admin_error(ADMIN_EX_NOINPUT, what, "%s: %s", path, strerror(errno));
        key = NULL;
    } else {
        key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
        fclose(fp);
        if (!key)
            admin_error(st, what, "%s: not a PEM private key (unencrypted "
                        "PKCS#8 or traditional RSA)", path);
    }
    if (status)
        *status = st;
    return key;
}

/* 0, or ADMIN_EX_DATAERR: the key is one DKIM can use */
static int dkim_key_ok(const char *what, EVP_PKEY *key, const char **alg)
{
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_ED25519) {
        *alg = "ed25519-sha256";
        return ADMIN_EX_OK;
    }
    if (id != EVP_PKEY_RSA)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "the key is neither RSA nor Ed25519");
    if (EVP_PKEY_get_bits(key) < DKIM_RSA_MIN)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "an RSA key of %d bits is too weak for DKIM "
                           "(RFC 8301: at least %d)", EVP_PKEY_get_bits(key),
                           DKIM_RSA_MIN);
    *alg = "rsa-sha256";
    return ADMIN_EX_OK;
}

/* write c->key to c->path: the directory DIR/DOMAIN (0750) and the file
   (0640, created exclusively), of group gid when gid != -1 */
static int dkim_write_key(struct dctx *c, gid_t gid)
{
    char dir[DKIM_PATH_MAX + 1];
    char *slash;
    int fd;
    FILE *fp;
    str_copy_bounded(dir, sizeof(dir), c->path, strlen(c->path));
    slash = strrchr(dir, '/');
    *slash = 0;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: %s", dir,
                           strerror(errno));
    if (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) < 0)
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "chgrp %s: %s", dir,
                           strerror(errno));
    fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: %s", c->path,
                           strerror(errno));
    c->written = 1;
    if (fchmod(fd, 0640) < 0 ||
        (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)) {
        close(fd);
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: %s", c->path,
                           strerror(errno));
    }
    fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: %s", c->path,
                           strerror(errno));
    }
    if (PEM_write_PrivateKey(fp, c->key, NULL, NULL, 0, NULL, NULL) != 1 ||
        fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        fclose(fp);
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: cannot write "
                           "the key", c->path);
    }
    if (fclose(fp) != 0)
        return admin_error(ADMIN_EX_CANTCREAT, c->what, "%s: %s", c->path,
                           strerror(errno));
    return ADMIN_EX_OK;
}

static int dkim_tx(struct admin *a, struct db *db, void *vctx, int *status,
                   struct str *err)
{
    struct dctx *c = vctx;
    char buf[DKIM_PATH_MAX + 40];
    int rc;
    (void)a;
    if (c->op == D_ADD || c->op == D_IMPORT) {
        struct db_param p[4] = {DBP_S(c->domain), DBP_S(c->selector),
                                DBP_S(c->algorithm), DBP_S(c->path)};
        struct db_param q[5];
        char dom[ADDR_DOMAIN_MAX + 1];
        strcpy(dom, c->domain);
        rc = admin_hosted_domain(db, c->what, dom);
        if (rc == ADMIN_EX_TEMPFAIL)
            return -1;
        if (rc) {
            *status = rc;
            return 0;
        }
        if (strcmp(dom, c->domain)) {
            /* an alias domain: mail From: it is signed as the alias */
            *status = admin_error(ADMIN_EX_DATAERR, c->what,
                                  "%s is an alias domain: add the key to %s, "
                                  "or make %s a local domain", c->domain,
                                  dom, c->domain);
            return 0;
        }
        rc = admin_value(db, c->what, "SELECT id FROM dkim_keys WHERE domain = ? "
                                      "AND selector = ? AND algorithm = ?",
                         p, 3, buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (rc == LK_FOUND) {
            *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                                  "%s has a %s key with selector %s already "
                                  "(a new key: a new selector)", c->domain,
                                  c->algorithm, c->selector);
            return 0;
        }
        rc = admin_value(db, c->what, "SELECT CONCAT(domain, ' ', selector) "
                                      "FROM dkim_keys WHERE key_path = ?",
                         p + 3, 1, buf, sizeof(buf));
        if (rc < 0)
            return -1;
        if (rc == LK_FOUND) {
            *status = admin_error(ADMIN_EX_CANTCREAT, c->what,
                                  "%s is the key of %s already", c->path, buf);
            return 0;
        }
        q[0] = p[0];
        q[1] = p[1];
        q[2] = p[2];
        q[3] = p[3];
        q[4] = c->comment ? DBP_S(c->comment) : DBP_NUL;
        return db_exec(db, "INSERT INTO dkim_keys (domain, selector, algorithm, "
                           "key_path, comment) VALUES (?, ?, ?, ?, ?)",
                       q, 5, NULL, err) < 0 ? -1 : 0;
    }
    {
        struct str sql = {0};
        struct db_param p[3] = {DBP_S(c->domain), DBP_S(c->selector),
                                c->algorithm ? DBP_S(c->algorithm) : DBP_NUL};
        char count[16];
        rc = admin_value(db, c->what, "SELECT COUNT(*) FROM dkim_keys WHERE "
                                      "domain = ? AND selector = ? AND "
                                      "(? IS NULL OR algorithm = ?)",
                         (struct db_param[]){p[0], p[1], p[2], p[2]}, 4, count,
                         sizeof(count));
        if (rc < 0)
            return -1;
        if (!strcmp(count, "0")) {
            *status = admin_error(ADMIN_EX_NOINPUT, c->what,
                                  "no DKIM key of %s with selector %s%s%s",
                                  c->domain, c->selector,
                                  c->algorithm ? " and algorithm " : "",
                                  c->algorithm ? c->algorithm : "");
            return 0;
        }
        if (strcmp(count, "1")) {
            *status = admin_error(ADMIN_EX_USAGE, c->what,
                                  "selector %s has %s keys: name one with "
                                  "algorithm=rsa or algorithm=ed25519",
                                  c->selector, count);
            return 0;
        }
        if (admin_value(db, c->what, "SELECT key_path FROM dkim_keys WHERE "
                                     "domain = ? AND selector = ? AND "
                                     "(? IS NULL OR algorithm = ?)",
                        (struct db_param[]){p[0], p[1], p[2], p[2]}, 4,
                        c->rowpath, sizeof(c->rowpath)) < 0)
            return -1;
        if (c->op == D_REMOVE)
            str_append_cstr(&sql, "DELETE FROM dkim_keys");
        else
            str_appendf(&sql, "UPDATE dkim_keys SET active = %d",
                        c->op == D_ENABLE);
        str_append_cstr(&sql, " WHERE domain = ? AND selector = ? AND "
                              "(? IS NULL OR algorithm = ?)");
        rc = db_exec(db, str_cstr(&sql),
                     (struct db_param[]){p[0], p[1], p[2], p[2]}, 4, NULL, err);
        str_free(&sql);
        return rc < 0 ? -1 : 0;
    }
}

static void print_record(struct admin *a, const char *domain,
                         const char *selector, const char *alg,
                         const char *path, EVP_PKEY *key)
{
    static const char *const cols[] = {"domain", "selector", "algorithm",
                                       "key_path", "dns_name", "record", NULL};
    struct str name = {0};
    char *rec = key ? dkim_record(key, domain, selector, &name) : NULL;
    struct admin_out o;
    char *vals[6] = {(char *)domain, (char *)selector, (char *)alg,
                     (char *)path, name.data, rec};
    if (!a->json) {
        if (rec)
            printf("%s IN TXT \"%s\"\n", name.data, rec);
        else
            fprintf(stderr, "postern: dkim: %s: cannot read the key\n", path);
    } else {
        admin_out_begin(&o, a, cols);
        admin_out_row(&o, vals);
        admin_out_end(&o);
    }
    free(rec);
    str_free(&name);
}

struct show_row {
    char domain[ADDR_DOMAIN_MAX + 1], selector[DKIM_SELECTOR_MAX + 1];
    char alg[16], path[DKIM_PATH_MAX + 1];
};
struct show_ctx {
    struct show_row *rows;
    size_t n, cap;
};

static int show_row_fn(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct show_ctx *s = vctx;
    struct show_row *r;
    (void)n;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->rows = xrealloc(s->rows, s->cap * sizeof(*s->rows));
    }
    r = &s->rows[s->n++];
    str_copy_bounded(r->domain, sizeof(r->domain), v[0], l[0]);
    str_copy_bounded(r->selector, sizeof(r->selector), v[1], l[1]);
    str_copy_bounded(r->alg, sizeof(r->alg), v[2], l[2]);
    str_copy_bounded(r->path, sizeof(r->path), v[3], l[3]);
    return 0;
}

static int dkim_show(struct admin *a, struct dctx *c, int have_selector)
{
    static const char *const cols[] = {"domain", "selector", "algorithm",
                                       "key_path", "dns_name", "record", NULL};
    struct show_ctx s = {0};
    struct str err = {0};
    struct db *db = admin_db(a);
    struct db_param p[2] = {DBP_S(c->domain),
                            have_selector ? DBP_S(c->selector) : DBP_NUL};
    struct admin_out o;
    int rc, status = ADMIN_EX_OK;
    if (!db)
        return ADMIN_EX_TEMPFAIL;
    rc = db_query(db, "SELECT domain, selector, algorithm, key_path FROM "
                      "dkim_keys WHERE domain = ? AND (? IS NULL OR selector = ?) "
                      "ORDER BY selector, algorithm",
                  (struct db_param[]){p[0], p[1], p[1]}, 3, show_row_fn, &s, &err);
    if (rc < 0) {
        admin_dbfail(c->what, &err);
        str_free(&err);
        return ADMIN_EX_TEMPFAIL;
    }
    if (rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, c->what, "no DKIM key for %s%s%s",
                           c->domain, have_selector ? " with selector " : "",
                           have_selector ? c->selector : "");
    if (a->json)
        admin_out_begin(&o, a, cols);
    for (size_t i = 0; i < s.n; i++) {
        struct show_row *r = &s.rows[i];
        EVP_PKEY *key = dkim_read_key(c->what, r->path, NULL);
        struct str name = {0};
        char *rec = key ? dkim_record(key, r->domain, r->selector, &name) : NULL;
        if (!rec)
            status = ADMIN_EX_NOINPUT;
        if (a->json) {
            char *vals[6] = {r->domain, r->selector, r->alg, r->path,
                             name.data, rec};
            admin_out_row(&o, vals);
        } else if (rec)
            printf("%s IN TXT \"%s\"\n", name.data, rec);
        free(rec);
        str_free(&name);
        EVP_PKEY_free(key);
    }
    if (a->json)
        admin_out_end(&o);
    free(s.rows);
    return status;
}

static int dkim_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "dkim",
                       "usage: dkim list [DOMAIN] | show DOMAIN [selector=S] "
                       "| add DOMAIN selector=S [algorithm=rsa|ed25519] "
                       "[bits=N] [dir=DIR] [group=GROUP] [comment=TEXT] | "
                       "import DOMAIN selector=S file=PATH [comment=TEXT] | "
                       "disable|enable|remove DOMAIN selector=S [algorithm=A]");
}

int cmd_dkim(struct admin *a, int argc, char **argv)
{
    static const char *const list_cols[] = {"domain", "selector", "algorithm",
                                            "key_path", "active", "comment",
                                            NULL};
    static const char *const add_keys[] = {"selector", "algorithm", "bits",
                                           "dir", "group", "comment", NULL};
    static const char *const import_keys[] = {"selector", "file", "comment",
                                              NULL};
    static const char *const sel_keys[] = {"selector", "algorithm", NULL};
    static const char *const show_keys[] = {"selector", NULL};
    struct dctx c = {0};
    struct admin_kv kv;
    char what[32];
    const char *verb, *v;
    gid_t gid = (gid_t)-1;
    int rc;

    if (argc < 2)
        return dkim_usage();
    verb = argv[1];
    snprintf(what, sizeof(what), "dkim %s", verb);
    c.what = what;
    if (!strcmp(verb, "list")) {
        if (argc == 2)
            return admin_list(a, list_cols,
                              "SELECT domain, selector, algorithm, key_path, "
                              "active, comment FROM dkim_keys ORDER BY domain, "
                              "selector, algorithm", NULL, 0);
        if (argc != 3)
            return dkim_usage();
        if ((rc = admin_parse_domain(what, argv[2], c.domain)))
            return rc;
        {
            struct db_param p = DBP_S(c.domain);
            return admin_list(a, list_cols,
                              "SELECT domain, selector, algorithm, key_path, "
                              "active, comment FROM dkim_keys WHERE domain = ? "
                              "ORDER BY selector, algorithm", &p, 1);
        }
    }
    if (argc < 3)
        return dkim_usage();
    if ((rc = admin_parse_domain(what, argv[2], c.domain)))
        return rc;
    if (!strcmp(verb, "show")) {
        if ((rc = admin_kv_parse(&kv, argc - 3, argv + 3, show_keys, what)))
            return rc;
        if ((v = admin_kv_get(&kv, "selector")) && (rc = selector_ok(what, v, c.selector)))
            return rc;
        return dkim_show(a, &c, v != NULL);
    }
    int op = admin_index(verb, dop_names);
    if (op < 0)
        return dkim_usage();
    c.op = (enum dop)op;
    if ((rc = admin_kv_parse(&kv, argc - 3, argv + 3,
                             c.op == D_ADD ? add_keys
                             : c.op == D_IMPORT ? import_keys : sel_keys,
                             what)))
        return rc;
    if (!(v = admin_kv_get(&kv, "selector")))
        return admin_error(ADMIN_EX_USAGE, what, "selector=S is required");
    if ((rc = selector_ok(what, v, c.selector)))
        return rc;
    if ((v = admin_kv_get(&kv, "algorithm"))) {
        if (!strcmp(v, "rsa") || !strcmp(v, "rsa-sha256"))
            c.algorithm = "rsa-sha256";
        else if (!strcmp(v, "ed25519") || !strcmp(v, "ed25519-sha256"))
            c.algorithm = "ed25519-sha256";
        else
            return admin_error(ADMIN_EX_DATAERR, what,
                               "algorithm=%s: rsa (rsa-sha256) or ed25519 "
                               "(ed25519-sha256)", v);
    }
    if ((rc = admin_parse_text(what, "comment", admin_kv_get(&kv, "comment"),
                               255, &c.comment)))
        return rc;

    if (c.op == D_ADD) {
        long long bits = DKIM_RSA_MIN;
        const char *dir = admin_kv_get(&kv, "dir");
        if (!c.algorithm)
            c.algorithm = "rsa-sha256";
        if ((v = admin_kv_get(&kv, "bits"))) {
            if (c.algorithm[0] == 'e')
                return admin_error(ADMIN_EX_USAGE, what,
                                   "bits= is for RSA keys (Ed25519 has one size)");
            if ((rc = admin_parse_int(what, "bits", v, DKIM_RSA_MIN,
                                      DKIM_RSA_MAX, &bits)))
                return rc;
        }
        if (!dir || !*dir)
            dir = DKIM_DEFAULT_DIR;
        if (dir[0] != '/' || strstr(dir, "/../") || strstr(dir, "/./"))
            return admin_error(ADMIN_EX_DATAERR, what,
                               "dir=%s: an absolute path without . or ..", dir);
        if ((size_t)snprintf(c.path, sizeof(c.path), "%s%s%s/%s.key", dir,
                             dir[strlen(dir) - 1] == '/' ? "" : "/", c.domain,
                             c.selector) >= sizeof(c.path))
            return admin_error(ADMIN_EX_DATAERR, what,
                               "the key path is longer than %d octets",
                               DKIM_PATH_MAX);
        if ((v = admin_kv_get(&kv, "group"))) {
            struct group *g = getgrnam(v);
            if (!g)
                return admin_error(ADMIN_EX_DATAERR, what,
                                   "group=%s: no such group", v);
            gid = g->gr_gid;
        }
        if (access(c.path, F_OK) == 0)
            return admin_error(ADMIN_EX_CANTCREAT, what,
                               "%s exists already (use it with: postern dkim "
                               "import %s selector=%s file=%s)", c.path,
                               c.domain, c.selector, c.path);
        {
            struct stat st;
            if (stat(dir, &st) < 0)
                return admin_error(ADMIN_EX_CANTCREAT, what, "dir=%s: %s", dir,
                                   strerror(errno));
        }
        if (c.algorithm[0] == 'e')
            c.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        else
            c.key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        if (!c.key)
            return admin_error(ADMIN_EX_SOFTWARE, what,
                               "OpenSSL could not generate the key");
    } else if (c.op == D_IMPORT) {
        const char *file = admin_kv_get(&kv, "file");
        const char *alg = NULL;
        char *real;
        if (!file || !*file)
            return admin_error(ADMIN_EX_USAGE, what, "file=PATH is required");
        if (!(c.key = dkim_read_key(what, file, &rc)))
            return rc;
        if ((rc = dkim_key_ok(what, c.key, &alg))) {
            EVP_PKEY_free(c.key);
            return rc;
        }
        c.algorithm = alg;
        real = realpath(file, NULL);
        if (!real || strlen(real) > DKIM_PATH_MAX) {
            free(real);
            EVP_PKEY_free(c.key);
            return admin_error(ADMIN_EX_DATAERR, what, "%s: no absolute path "
                               "of at most %d octets", file, DKIM_PATH_MAX);
        }
        strcpy(c.path, real);
        free(real);
    }
    if (c.op == D_ADD && !a->dry_run && (rc = dkim_write_key(&c, gid))) {
        if (c.written)
            unlink(c.path);
        EVP_PKEY_free(c.key);
        return rc;
    }
    rc = admin_transaction(a, dkim_tx, &c);
    if (c.op == D_ADD && c.written && rc != ADMIN_EX_OK)
        unlink(c.path); /* no row: no key file either */
    if (rc == ADMIN_EX_OK && (c.op == D_ADD || c.op == D_IMPORT)) {
        print_record(a, c.domain, c.selector, c.algorithm, c.path, c.key);
        if (a->dry_run && c.op == D_ADD)
            fprintf(stderr, "postern: dkim add: dry run: this key was not "
                            "written; a real run makes a new one\n");
        else
            fprintf(stderr, "postern: dkim: publish the record above in DNS; "
                            "the milter signs with the key from now on\n");
    }
    if (rc == ADMIN_EX_OK && c.op != D_ADD && c.op != D_IMPORT) {
        char key[ADDR_DOMAIN_MAX + DKIM_SELECTOR_MAX + 2];
        snprintf(key, sizeof(key), "%s %s", c.domain, c.selector);
        admin_done(a, "dkim", c.op == D_REMOVE ? "removed"
                              : c.op == D_ENABLE ? "enabled" : "disabled",
                   key, 1);
    }
    if (rc == ADMIN_EX_OK && c.op == D_REMOVE && *c.rowpath)
        fprintf(stderr, "postern: dkim remove: the key file %s was kept\n",
                c.rowpath);
    EVP_PKEY_free(c.key);
    return rc;
}
