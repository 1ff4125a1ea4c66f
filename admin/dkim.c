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
 *   postern dkim check DOMAIN [SELECTOR | selector=S]
 *     looks up SELECTOR._domainkey.SIGNER TXT (lib/dnstxt.h: the resolver
 *     of /etc/resolv.conf) for each key the milter signs mail of DOMAIN
 *     with (its active keys, only its dkim_selector when set; with a
 *     selector: that key of DOMAIN, active or not) and compares the p=
 *     public key with the public key derived from the stored private key
 *     file.  Per key: "published and matching", "published but
 *     different" (both SHA-256 fingerprints of the DER public key),
 *     "not published", "DNS temporary failure".  A DOMAIN without a key of
 *     its own is checked through its fallback exactly as postern-milter
 *     picks it (domains.dkim_fallback, else [milter] dkim_fallback: a
 *     domain, or parent = the nearest parent domain with a key, never
 *     above the organizational domain, libpsl), with a line saying so and
 *     whether d= is then DMARC-aligned with DOMAIN (same organizational
 *     domain: relaxed alignment holds; a provider domain: no); the domains
 *     that name DOMAIN as their domains.dkim_fallback are listed.  Exit 0
 *     only when every key checked matches; else the first of: 65 a key
 *     differs (or the record is no DKIM key), 66 not published (or no key
 *     and no fallback), 75 a DNS temporary failure or the database away.
 *
 * Limits: paths up to DKIM_PATH_MAX octets; RSA 2048..4096 bits; the DNS
 * limits of lib/dnstxt.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpsl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "commands.h"
#include "daemon.h"
#include "dnstxt.h"
#include "lookup.h"
#include "mem.h"
#include "milter.h"
#include "util.h"

#define DKIM_PATH_MAX 400 /* dkim_keys.key_path */
#define DKIM_SELECTOR_MAX 63
#define DKIM_DEFAULT_DIR "/etc/postern/dkim"
#define DKIM_RSA_MIN 2048
#define DKIM_RSA_MAX 4096
#define DKIM_FP_MAX 100 /* "SHA256:" + base64 of a digest */

enum dop { D_ADD, D_IMPORT, D_DISABLE, D_ENABLE, D_REMOVE };
static const char *const dop_names[] = {"add", "import", "disable", "enable",
                                        "remove", NULL};

struct dctx {
    enum dop op;
    const char *what; /* "dkim add" (in what_buf) */
    char what_buf[32];
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

/* --- check: the published records ------------------------------------- */

enum ck_state { CK_MATCH, CK_DIFFERENT, CK_MISSING, CK_TEMP };
static const char *const ck_names[] = {"published and matching",
                                       "published but different",
                                       "not published",
                                       "DNS temporary failure"};
static const char *const ck_json[] = {"match", "different", "missing", "temp"};

/* b64_decode - base64 (blanks ignored, RFC 6376 3.6.1 allows FWS in p=)
   into a new buffer; NULL when it is not base64 */
static unsigned char *b64_decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in), o = 0;
    unsigned char *out = xmalloc(n / 4 * 3 + 3);
    unsigned acc = 0, bits = 0, pad = 0;

    for (; *in; in++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789+/";
        const char *at;
        if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
            continue;
        if (*in == '=') {
            pad++;
            continue;
        }
        if (pad || (at = strchr(tab, *in)) == NULL) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(at - tab);
        if ((bits += 6) >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *outlen = o;
    return out;
}

/* dkim_fp - "SHA256:" + base64 of the SHA-256 of der[0..len) */
static void dkim_fp(const unsigned char *der, size_t len, char *out,
                    size_t outsize)
{
    unsigned char md[EVP_MAX_MD_SIZE], b64[4 * (EVP_MAX_MD_SIZE + 2) / 3 + 1];
    unsigned mdlen = 0;

    EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL);
    EVP_EncodeBlock(b64, md, (int)mdlen);
    snprintf(out, outsize, "SHA256:%s", (char *)b64);
}

/* key_fp - the fingerprint of a key's DER SubjectPublicKeyInfo */
static void key_fp(EVP_PKEY *key, char *out, size_t outsize)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);

    if (len <= 0) {
        snprintf(out, outsize, "-");
        return;
    }
    dkim_fp(der, (size_t)len, out, outsize);
    OPENSSL_free(der);
}

/* rec_tag - the value of tag in a tag=value record (RFC 6376 3.2), blanks
   around it removed, into out; 1, or 0 when absent */
static int rec_tag(const char *rec, const char *tag, struct str *out)
{
    size_t tl = strlen(tag);

    for (const char *p = rec; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        const char *end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, tag, tl) != 0)
            continue;
        end = p + tl;
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '=')
            continue;
        end++;
        str_truncate(out, 0);
        for (; *end && *end != ';'; end++)
            if (*end != ' ' && *end != '\t')
                str_append_char(out, *end);
        return 1;
    }
    return 0;
}

/* published_key - the public key of a DKIM key record (k=rsa: DER
   SubjectPublicKeyInfo, or PKCS#1 RSAPublicKey as some publish it;
   k=ed25519: the raw 32 bytes, RFC 8463); NULL when it is none.  The
   fingerprint of what was published goes to fp in any case. */
static EVP_PKEY *published_key(const char *rec, char *fp, size_t fpsize,
                               const char **why)
{
    struct str p = STR_INIT, k = STR_INIT, v = STR_INIT;
    unsigned char *der = NULL;
    const unsigned char *q;
    EVP_PKEY *key = NULL;
    size_t len = 0;

    snprintf(fp, fpsize, "-");
    *why = "not a DKIM key record";
    if ((rec_tag(rec, "v", &v) && strcmp(str_cstr(&v), "DKIM1") != 0) ||
        !rec_tag(rec, "p", &p))
        goto done;
    if (p.len == 0) {
        *why = "the key is revoked (empty p=)";
        goto done;
    }
    if ((der = b64_decode(str_cstr(&p), &len)) == NULL) {
        *why = "p= is not base64";
        goto done;
    }
    dkim_fp(der, len, fp, fpsize);
    *why = "p= is not a public key";
    if (rec_tag(rec, "k", &k) && !strcmp(str_cstr(&k), "ed25519")) {
        key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, len);
    } else if (k.len == 0 || !strcmp(str_cstr(&k), "rsa")) {
        q = der;
        key = d2i_PUBKEY(NULL, &q, (long)len);
        if (key == NULL) {
            q = der;
            key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
        }
    } else {
        *why = "an unknown key type (k=)";
    }
    if (key)
        key_fp(key, fp, fpsize);
done:
    free(der);
    str_free(&p);
    str_free(&k);
    str_free(&v);
    return key;
}

/* check_key - one key against its published record; prints one line (or
   one JSON row) and returns its state */
static enum ck_state check_key(struct admin *a, struct admin_out *o,
                               const char *what, const char *for_domain,
                               const struct show_row *r)
{
    char name[DKIM_SELECTOR_MAX + ADDR_DOMAIN_MAX + 16];
    char stored[DKIM_FP_MAX] = "-", pub[DKIM_FP_MAX] = "-";
    const char *why = NULL, *dnserr = NULL;
    enum ck_state st = CK_DIFFERENT;
    EVP_PKEY *mine, *theirs;
    struct dnstxt t;
    int rc;

    snprintf(name, sizeof(name), "%s._domainkey.%s", r->selector, r->domain);
    if ((mine = dkim_read_key(what, r->path, NULL)) != NULL)
        key_fp(mine, stored, sizeof(stored));
    rc = dnstxt_lookup(name, &t, &dnserr);
    if (rc < 0) {
        st = CK_TEMP;
        why = dnserr;
    } else if (rc == LK_NOTFOUND) {
        st = CK_MISSING;
    } else {
        why = "no record is a DKIM key";
        for (size_t i = 0; i < t.n && st != CK_MATCH; i++) {
            char fp[DKIM_FP_MAX];
            const char *w;
            if ((theirs = published_key(t.rec[i], fp, sizeof(fp), &w)) ||
                !strcmp(pub, "-"))
                snprintf(pub, sizeof(pub), "%s", fp), why = w;
            if (theirs && mine && EVP_PKEY_eq(mine, theirs) == 1) {
                st = CK_MATCH;
                why = NULL;
            } else if (theirs) {
                why = NULL;
            }
            EVP_PKEY_free(theirs);
        }
        dnstxt_free(&t);
        if (!mine && st == CK_DIFFERENT)
            why = "the stored key file is not readable";
    }
    if (a->json) {
        char *vals[] = {(char *)for_domain, (char *)r->domain,
                        (char *)r->selector, (char *)r->alg, name,
                        (char *)ck_json[st], stored, pub, (char *)why};
        admin_out_row(o, vals);
    } else {
        printf("%s %s: %s", name, r->alg, ck_names[st]);
        if (st == CK_MATCH)
            printf(" (%s)", stored);
        else if (st == CK_DIFFERENT)
            printf(": stored %s, published %s", stored, pub);
        if (why)
            printf(" (%s)", why);
        printf("\n");
    }
    EVP_PKEY_free(mine);
    return st;
}

/* signing keys: active, of the domain's dkim_selector when set, as
   postern-milter picks them (milter/sign.c) */
static int ck_keys(struct db *db, const char *domain, const char *selector,
                   struct show_ctx *s, struct str *err)
{
    static const char own[] =
        "SELECT k.domain, k.selector, k.algorithm, k.key_path FROM dkim_keys k"
        " JOIN domains d ON d.name = k.domain"
        " WHERE k.domain = ? AND k.active = 1 AND d.active = 1"
        " AND (d.dkim_selector IS NULL OR d.dkim_selector = k.selector)"
        " ORDER BY k.algorithm, k.selector";
    static const char one[] =
        "SELECT domain, selector, algorithm, key_path FROM dkim_keys"
        " WHERE domain = ? AND selector = ? ORDER BY algorithm";
    struct db_param p[2] = {DBP_S(domain), DBP_S(selector ? selector : "")};

    return db_query(db, selector ? one : own, p, selector ? 2 : 1,
                    show_row_fn, s, err);
}

/* ck_fallback - the domain whose keys sign mail of domain when it has none
   (postern-milter's choice) into fb, its keys into s; the source named in
   *src.  LK_FOUND, LK_NOTFOUND (no fallback, or it has no keys) or LK_TEMP */
static int ck_fallback(struct admin *a, struct db *db, const char *domain,
                       const char *column, char *fb, const char **src,
                       struct show_ctx *s, struct str *err)
{
    struct strvec parents = STRVEC_INIT;
    struct milter_config *mc = NULL;
    psl_ctx_t *psl = NULL;
    const char *conf = "none";
    int rc = LK_NOTFOUND;

    fb[0] = '\0';
    if (column[0]) {
        *src = "domains.dkim_fallback";
        snprintf(fb, ADDR_DOMAIN_MAX + 1, "%s", column);
        return ck_keys(db, fb, NULL, s, err) < 0 ? LK_TEMP
               : s->n ? LK_FOUND : LK_NOTFOUND;
    }
    *src = "[milter] dkim_fallback";
    if ((mc = daemon_load_config(&milter_app, a->config_path, err)) == NULL) {
        fprintf(stderr, "postern: dkim check: [milter] not usable (%s): "
                        "taking dkim_fallback = none\n", str_cstr(err));
        str_truncate(err, 0);
    } else {
        conf = mc->dkim_fallback;
    }
    if (!strcmp(conf, "parent")) {
        *src = "[milter] dkim_fallback = parent";
        if ((psl = psl_latest(NULL)) != NULL)
            sign_parent_domains(domain, psl_registrable_domain(psl, domain),
                                &parents);
        for (size_t i = 0; i < parents.n && rc == LK_NOTFOUND; i++) {
            snprintf(fb, ADDR_DOMAIN_MAX + 1, "%s", parents.v[i]);
            rc = ck_keys(db, fb, NULL, s, err) < 0 ? LK_TEMP
                 : s->n ? LK_FOUND : LK_NOTFOUND;
        }
        if (rc == LK_NOTFOUND)
            snprintf(fb, ADDR_DOMAIN_MAX + 1, "parent");
    } else if (strcmp(conf, "none") != 0) {
        snprintf(fb, ADDR_DOMAIN_MAX + 1, "%s", conf);
        rc = ck_keys(db, fb, NULL, s, err) < 0 ? LK_TEMP
             : s->n ? LK_FOUND : LK_NOTFOUND;
    }
    strvec_free(&parents);
    if (psl)
        psl_free(psl);
    if (mc)
        daemon_free_config(&milter_app, mc);
    return rc;
}

/* ck_aligned - is d= signer aligned with the From domain under relaxed
   DMARC alignment (the same organizational domain)? */
static int ck_aligned(const char *domain, const char *signer)
{
    psl_ctx_t *psl = psl_latest(NULL);
    const char *a, *b;
    int same;

    if (psl == NULL)
        return 0;
    a = psl_registrable_domain(psl, domain);
    b = psl_registrable_domain(psl, signer);
    same = a && b && !strcmp(a, b);
    psl_free(psl);
    return same;
}

/* ck_signs_for - the domains that name domain as their dkim_fallback */
static int ck_signs_for(struct admin *a, struct db *db, const char *domain,
                        struct str *err)
{
    struct show_ctx s = {0};
    struct db_param p = DBP_S(domain);
    int rc = db_query(db, "SELECT name, '', '', '' FROM domains"
                          " WHERE dkim_fallback = ? AND active = 1"
                          " ORDER BY name", &p, 1, show_row_fn, &s, err);

    for (size_t i = 0; rc >= 0 && !a->json && i < s.n; i++)
        printf("%s: also signs mail of %s (its domains.dkim_fallback)%s\n",
               domain, s.rows[i].domain,
               ck_aligned(s.rows[i].domain, domain) ? ""
               : ": DKIM pass without DMARC alignment");
    free(s.rows);
    return rc < 0 ? -1 : 0;
}

static int dkim_check(struct admin *a, const char *what, const char *domain,
                      const char *selector)
{
    static const char *const cols[] = {"domain", "signer", "selector",
                                       "algorithm", "dns_name", "state",
                                       "stored_key", "published_key",
                                       "detail", NULL};
    static const int rank[] = {[CK_MATCH] = 0, [CK_TEMP] = 1,
                               [CK_MISSING] = 2, [CK_DIFFERENT] = 3};
    static const int status_of[] = {ADMIN_EX_OK, ADMIN_EX_DATAERR,
                                    ADMIN_EX_NOINPUT, ADMIN_EX_TEMPFAIL};
    struct show_ctx s = {0};
    struct str err = STR_INIT;
    struct db *db = admin_db(a);
    struct db_param p = DBP_S(domain);
    char column[ADDR_DOMAIN_MAX + 1], fb[ADDR_DOMAIN_MAX + 1];
    const char *src = NULL;
    enum ck_state worst = CK_MATCH;
    struct admin_out o;
    int rc;

    if (!db)
        return ADMIN_EX_TEMPFAIL;
    rc = admin_value(db, what, "SELECT COALESCE(dkim_fallback, '') FROM domains"
                               " WHERE name = ? AND active = 1", &p, 1,
                     column, sizeof(column));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, what, "%s is no active domain "
                           "of ours", domain);
    if (ck_keys(db, domain, selector, &s, &err) < 0)
        goto dbfail;
    if (s.n == 0 && selector) {
        free(s.rows);
        return admin_error(ADMIN_EX_NOINPUT, what, "no DKIM key of %s with "
                           "selector %s", domain, selector);
    }
    if (s.n == 0) {
        rc = ck_fallback(a, db, domain, column, fb, &src, &s, &err);
        if (rc < 0)
            goto dbfail;
        if (rc == LK_NOTFOUND) {
            free(s.rows);
            if (fb[0])
                return admin_error(ADMIN_EX_NOINPUT, what, "%s has no DKIM "
                                   "key, and its fallback %s (%s) has none "
                                   "either: its mail leaves unsigned", domain,
                                   fb, src);
            return admin_error(ADMIN_EX_NOINPUT, what, "%s has no DKIM key "
                               "and no fallback (%s = none): its mail leaves "
                               "unsigned", domain, src);
        }
        if (!a->json)
            printf("%s: no key of its own: signed with the keys of %s (%s), "
                   "d=%s: %s\n", domain, fb, src, fb,
                   ck_aligned(domain, fb)
                   ? "aligned with the From domain (relaxed DMARC alignment)"
                   : "DKIM pass without DMARC alignment (another "
                     "organizational domain)");
    }
    if (!selector && ck_signs_for(a, db, domain, &err) < 0)
        goto dbfail;
    if (a->json)
        admin_out_begin(&o, a, cols);
    for (size_t i = 0; i < s.n; i++) {
        enum ck_state st = check_key(a, &o, what, domain, &s.rows[i]);
        if (rank[st] > rank[worst])
            worst = st;
    }
    if (a->json)
        admin_out_end(&o);
    free(s.rows);
    return status_of[worst];
dbfail:
    free(s.rows);
    rc = admin_dbfail(what, &err);
    str_free(&err);
    return rc;
}

static int dkim_usage(void)
{
    return admin_error(ADMIN_EX_USAGE, "dkim",
                       "usage: dkim list [DOMAIN] | show DOMAIN [selector=S] "
                       "| check DOMAIN [SELECTOR] "
                       "| add DOMAIN selector=S [algorithm=rsa|ed25519] "
                       "[bits=N] [dir=DIR] [group=GROUP] [comment=TEXT] | "
                       "import DOMAIN selector=S file=PATH [comment=TEXT] | "
                       "disable|enable|remove DOMAIN selector=S [algorithm=A]");
}

static int dk_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"domain", "selector", "algorithm",
                                       "key_path", "active", "comment", NULL};
    char what[32], domain[ADDR_DOMAIN_MAX + 1];
    struct db_param p;
    int rc;
    if (argc == 0)
        return admin_list(a, cols,
                          "SELECT domain, selector, algorithm, key_path, "
                          "active, comment FROM dkim_keys ORDER BY domain, "
                          "selector, algorithm", NULL, 0);
    if (argc != 1)
        return dkim_usage();
    snprintf(what, sizeof(what), "dkim %s", a->verb);
    if ((rc = admin_parse_domain(what, argv[0], domain)))
        return rc;
    p = DBP_S(domain);
    return admin_list(a, cols,
                      "SELECT domain, selector, algorithm, key_path, "
                      "active, comment FROM dkim_keys WHERE domain = ? "
                      "ORDER BY selector, algorithm", &p, 1);
}

/* the DOMAIN every verb but list starts with (argv[0]), checked, into c
   (c->what: "dkim VERB") */
static int dkim_domain(struct admin *a, int argc, char **argv, struct dctx *c)
{
    snprintf(c->what_buf, sizeof(c->what_buf), "dkim %s", a->verb);
    c->what = c->what_buf;
    if (argc < 1)
        return dkim_usage();
    return admin_parse_domain(c->what, argv[0], c->domain);
}

static int dk_check(struct admin *a, int argc, char **argv)
{
    struct dctx c = {0};
    const char *sel = NULL;
    int rc;
    if ((rc = dkim_domain(a, argc, argv, &c)))
        return rc;
    if (argc > 2)
        return dkim_usage();
    if (argc == 2) {
        sel = strncmp(argv[1], "selector=", 9) ? argv[1] : argv[1] + 9;
        if ((rc = selector_ok(c.what, sel, c.selector)))
            return rc;
    }
    return dkim_check(a, c.what, c.domain, sel ? c.selector : NULL);
}

static int dk_show(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"selector", NULL};
    struct dctx c = {0};
    struct admin_kv kv;
    const char *v;
    int rc;
    if ((rc = dkim_domain(a, argc, argv, &c)) ||
        (rc = admin_kv_parse(&kv, argc - 1, argv + 1, keys, c.what)))
        return rc;
    if ((v = admin_kv_get(&kv, "selector")) &&
        (rc = selector_ok(c.what, v, c.selector)))
        return rc;
    return dkim_show(a, &c, v != NULL);
}

/* dkim add: check the settings and make the key (not written yet); the
   group of the file into *gid */
static int add_key(struct dctx *c, const struct admin_kv *kv, gid_t *gid)
{
    const char *what = c->what, *v, *dir = admin_kv_get(kv, "dir");
    long long bits = DKIM_RSA_MIN;
    struct stat st;
    int rc;
    if (!c->algorithm)
        c->algorithm = "rsa-sha256";
    if ((v = admin_kv_get(kv, "bits"))) {
        if (c->algorithm[0] == 'e')
            return admin_error(ADMIN_EX_USAGE, what,
                               "bits= is for RSA keys (Ed25519 has one size)");
        if ((rc = admin_parse_int(what, "bits", v, DKIM_RSA_MIN, DKIM_RSA_MAX,
                                  &bits)))
            return rc;
    }
    if (!dir || !*dir)
        dir = DKIM_DEFAULT_DIR;
    if (dir[0] != '/' || strstr(dir, "/../") || strstr(dir, "/./"))
        return admin_error(ADMIN_EX_DATAERR, what,
                           "dir=%s: an absolute path without . or ..", dir);
    if ((size_t)snprintf(c->path, sizeof(c->path), "%s%s%s/%s.key", dir,
                         dir[strlen(dir) - 1] == '/' ? "" : "/", c->domain,
                         c->selector) >= sizeof(c->path))
        return admin_error(ADMIN_EX_DATAERR, what,
                           "the key path is longer than %d octets",
                           DKIM_PATH_MAX);
    if ((v = admin_kv_get(kv, "group"))) {
        struct group *g = getgrnam(v);
        if (!g)
            return admin_error(ADMIN_EX_DATAERR, what,
                               "group=%s: no such group", v);
        *gid = g->gr_gid;
    }
    if (access(c->path, F_OK) == 0)
        return admin_error(ADMIN_EX_CANTCREAT, what,
                           "%s exists already (use it with: postern dkim "
                           "import %s selector=%s file=%s)", c->path,
                           c->domain, c->selector, c->path);
    if (stat(dir, &st) < 0)
        return admin_error(ADMIN_EX_CANTCREAT, what, "dir=%s: %s", dir,
                           strerror(errno));
    if (c->algorithm[0] == 'e')
        c->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else
        c->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!c->key)
        return admin_error(ADMIN_EX_SOFTWARE, what,
                           "OpenSSL could not generate the key");
    return ADMIN_EX_OK;
}

/* dkim import: read and check the key file=PATH names */
static int import_key(struct dctx *c, const struct admin_kv *kv)
{
    const char *what = c->what, *file = admin_kv_get(kv, "file"), *alg = NULL;
    char *real;
    int rc;
    if (!file || !*file)
        return admin_error(ADMIN_EX_USAGE, what, "file=PATH is required");
    if (!(c->key = dkim_read_key(what, file, &rc)))
        return rc;
    if ((rc = dkim_key_ok(what, c->key, &alg)))
        return rc; /* the caller frees c->key */
    c->algorithm = alg;
    real = realpath(file, NULL);
    if (!real || strlen(real) > DKIM_PATH_MAX) {
        free(real);
        return admin_error(ADMIN_EX_DATAERR, what, "%s: no absolute path "
                           "of at most %d octets", file, DKIM_PATH_MAX);
    }
    strcpy(c->path, real);
    free(real);
    return ADMIN_EX_OK;
}

/* the settings of add, import, disable, enable and remove */
static int parse_change(struct dctx *c, struct admin_kv *kv, int argc,
                        char **argv)
{
    static const char *const add_keys[] = {"selector", "algorithm", "bits",
                                           "dir", "group", "comment", NULL};
    static const char *const import_keys[] = {"selector", "file", "comment",
                                              NULL};
    static const char *const sel_keys[] = {"selector", "algorithm", NULL};
    const char *what = c->what, *v;
    int rc;
    if ((rc = admin_kv_parse(kv, argc, argv,
                             c->op == D_ADD ? add_keys
                             : c->op == D_IMPORT ? import_keys : sel_keys,
                             what)))
        return rc;
    if (!(v = admin_kv_get(kv, "selector")))
        return admin_error(ADMIN_EX_USAGE, what, "selector=S is required");
    if ((rc = selector_ok(what, v, c->selector)))
        return rc;
    if ((v = admin_kv_get(kv, "algorithm"))) {
        if (!strcmp(v, "rsa") || !strcmp(v, "rsa-sha256"))
            c->algorithm = "rsa-sha256";
        else if (!strcmp(v, "ed25519") || !strcmp(v, "ed25519-sha256"))
            c->algorithm = "ed25519-sha256";
        else
            return admin_error(ADMIN_EX_DATAERR, what,
                               "algorithm=%s: rsa (rsa-sha256) or ed25519 "
                               "(ed25519-sha256)", v);
    }
    return admin_parse_text(what, "comment", admin_kv_get(kv, "comment"), 255,
                            &c->comment);
}

/* dkim add|import|disable|enable|remove DOMAIN selector=S ... */
static int dk_change(struct admin *a, int argc, char **argv)
{
    struct dctx c = {0};
    struct admin_kv kv;
    gid_t gid = (gid_t)-1;
    int rc;

    if ((rc = dkim_domain(a, argc, argv, &c)))
        return rc;
    c.op = (enum dop)admin_index(a->verb, dop_names);
    if ((rc = parse_change(&c, &kv, argc - 1, argv + 1)))
        return rc;
    if ((c.op == D_ADD && (rc = add_key(&c, &kv, &gid))) ||
        (c.op == D_IMPORT && (rc = import_key(&c, &kv))) ||
        (c.op == D_ADD && !a->dry_run && (rc = dkim_write_key(&c, gid)))) {
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

static const struct admin_verb dkim_verbs[] = {
    {"list", dk_list},       {"show", dk_show},      {"check", dk_check},
    {"add", dk_change},      {"import", dk_change},  {"disable", dk_change},
    {"enable", dk_change},   {"remove", dk_change},  {NULL, NULL}};

int cmd_dkim(struct admin *a, int argc, char **argv)
{
    if (argc < 2)
        return dkim_usage();
    return admin_dispatch(a, "dkim", dkim_verbs, NULL, argc, argv);
}
