/*
 * srs - the Sender Rewriting Scheme.  See srs.h for the format.
 *
 * The keyed hash is OpenSSL's one-shot HMAC() over the concatenated,
 * lower-cased fields; its first bytes are written in base64 (libsrs2's
 * "a little base64 encoding": no padding, cut at hash_len characters), so
 * with HMAC-SHA1 and hash_len 4 our addresses are those postsrsd makes from
 * the same secret, and postsrsd's are accepted here.
 *
 * Diagnostics: none logged; srs_reverse and srs_forward say why through
 * *why, srs_read_secrets through *err.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "srs.h"
#include "addr.h"
#include "file.h"
#include "mem.h"

#define SRS_FILE_MAX (SRS_SECRETS_MAX * (SRS_SECRET_MAX + 64))

static const char time_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char hash_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int srs_setup(struct srs *srs, const char *domain, char sep, int max_age,
              int hash_len, enum srs_alg alg, struct str *err)
{
    size_t n = strlen(domain);

    memset(srs, 0, sizeof(*srs));
    if (n == 0 || n > SRS_DOMAIN_MAX)
        return str_appendf(err, "SRS domain must be 1..%d bytes",
                           SRS_DOMAIN_MAX), -1;
    if (sep != '=' && sep != '+' && sep != '-')
        return str_appendf(err, "SRS separator must be =, + or -"), -1;
    if (max_age < 1 || max_age >= SRS_SLOTS)
        return str_appendf(err, "SRS max age must be 1..%d days",
                           SRS_SLOTS - 1), -1;
    if (hash_len < SRS_HASH_MIN || hash_len > SRS_HASH_MAX)
        return str_appendf(err, "SRS hash length must be %d..%d",
                           SRS_HASH_MIN, SRS_HASH_MAX), -1;
    memcpy(srs->domain, domain, n + 1);
    str_lower(srs->domain, n);
    srs->sep = sep;
    srs->max_age = max_age;
    srs->hash_len = hash_len;
    srs->alg = alg;
    return 0;
}

int srs_add_secret(struct srs *srs, const char *s, size_t len,
                   struct str *err)
{
    if (srs->nsecrets >= SRS_SECRETS_MAX)
        return str_appendf(err, "more than %d SRS secrets", SRS_SECRETS_MAX),
               -1;
    if (len < SRS_SECRET_MIN || len > SRS_SECRET_MAX)
        return str_appendf(err, "an SRS secret must be %d..%d bytes long",
                           SRS_SECRET_MIN, SRS_SECRET_MAX), -1;
    memcpy(srs->secret[srs->nsecrets], s, len);
    srs->secret_len[srs->nsecrets++] = len;
    return 0;
}

void srs_wipe(struct srs *srs)
{
    explicit_bzero(srs->secret, sizeof(srs->secret));
    srs->nsecrets = 0;
}

int srs_read_secrets(struct srs *srs, const char *path, struct str *err)
{
    struct str buf = STR_INIT;
    const char *p, *end, *nl;
    int line = 0, rc = 0;

    srs->nsecrets = 0;
    if (file_read("SRS secret file", path, SRS_FILE_MAX, FILE_SECRET, &buf,
                  err) < 0) {
        str_free(&buf);
        return -1;
    }
    p = str_cstr(&buf);
    end = p + buf.len;
    for (; p < end && rc == 0; p = nl + 1) {
        size_t n;
        line++;
        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            nl = end;
        n = (size_t)(nl - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0 || p[0] == '#')
            continue;
        if ((rc = srs_add_secret(srs, p, n, err)) < 0)
            str_appendf(err, " (%s line %d)", path, line);
    }
    str_wipe(&buf);
    if (rc == 0 && srs->nsecrets == 0)
        return str_appendf(err, "SRS secret file %s holds no secret", path),
               -1;
    return rc;
}

/* hash - the base64 hash of fields under secret idx into out[hash_len+1]. */
static int hash(const struct srs *srs, size_t idx, const char *const *f,
                const size_t *flen, size_t nf, char *out)
{
    unsigned char data[3 * SRS_ADDR_MAX], md[EVP_MAX_MD_SIZE + 1];
    unsigned int mdlen = 0;
    size_t n = 0;

    for (size_t i = 0; i < nf; i++) {
        if (flen[i] > sizeof(data) - n)
            return -1;
        memcpy(data + n, f[i], flen[i]);
        str_lower((char *)data + n, flen[i]);
        n += flen[i];
    }
    if (HMAC(srs->alg == SRS_SHA256 ? EVP_sha256() : EVP_sha1(),
             srs->secret[idx], (int)srs->secret_len[idx], data, n, md,
             &mdlen) == NULL ||
        mdlen * 8 < (unsigned)srs->hash_len * 6)
        return -1;
    md[mdlen] = 0;
    /* bits 6i .. 6i+5 of the digest, most significant first */
    for (int i = 0; i < srs->hash_len; i++) {
        unsigned bit = (unsigned)i * 6, b = bit / 8, sh = bit % 8;
        unsigned v = ((unsigned)md[b] << 8 | md[b + 1]) >> (10 - sh);
        out[i] = hash_chars[v & 63];
    }
    out[srs->hash_len] = '\0';
    explicit_bzero(data, n);
    return 0;
}

/* hash_ok - does the given hash match under any secret (case-blind)? */
static int hash_ok(const struct srs *srs, const char *h, size_t hlen,
                   const char *const *f, const size_t *flen, size_t nf)
{
    char want[SRS_HASH_MAX + 1];

    if (hlen != (size_t)srs->hash_len)
        return 0;
    for (size_t i = 0; i < srs->nsecrets; i++)
        if (hash(srs, i, f, flen, nf, want) == 0 &&
            strncasecmp(want, h, hlen) == 0)
            return 1;
    return 0;
}

void srs_stamp(time_t now, char buf[3])
{
    long long day = (long long)now / 86400;

    buf[0] = time_chars[(day >> 5) & 31];
    buf[1] = time_chars[day & 31];
    buf[2] = '\0';
}

/* stamp_ok - is the two-character stamp at most max_age days old? */
static int stamp_ok(const struct srs *srs, const char *t, size_t len,
                    time_t now)
{
    long long then = 0, today = ((long long)now / 86400) % SRS_SLOTS;

    if (len != 2)
        return 0;
    for (size_t i = 0; i < 2; i++) {
        const char *c = strchr(time_chars, t[i] >= 'a' && t[i] <= 'z'
                                               ? t[i] - 'a' + 'A' : t[i]);
        if (c == NULL || t[i] == '\0')
            return 0;
        then = then << 5 | (c - time_chars);
    }
    while (today < then)
        today += SRS_SLOTS;
    return today <= then + srs->max_age;
}

static int is_sep(char c)
{
    return c == '=' || c == '+' || c == '-';
}

int srs_is_srs(const char *local, size_t len)
{
    return len > 5 &&
           (!strncasecmp(local, "SRS0", 4) || !strncasecmp(local, "SRS1", 4)) &&
           is_sep(local[4]);
}

/* local_ok - a dot-atom-ish local part that needs no quoting */
static int local_ok(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= ' ' || c == 127 || strchr("\"(),:;<>@[\\]", c))
            return 0;
    }
    return 1;
}

static int emit(const struct srs *srs, struct str *out, int tag,
                const char *h, const char *const *parts, const size_t *plen,
                size_t np)
{
    str_reset(out);
    str_appendf(out, "SRS%d%c%s", tag, srs->sep, h);
    for (size_t i = 0; i < np; i++) { /* parts of one address: bounded */
        str_append_char(out, '=');
        str_append(out, parts[i], plen[i]);
    }
    str_appendf(out, "@%s", srs->domain);
    return out->len <= SRS_ADDR_MAX ? 0 : -1;
}

int srs_forward(const struct srs *srs, const char *addr, size_t len,
                time_t now, struct str *out, const char **why)
{
    const char *at = len ? memrchr(addr, '@', len) : NULL;
    const char *user = addr, *host, *f[3];
    size_t ulen, hlen, fl[3];
    char h[SRS_HASH_MAX + 1], ts[3];

    *why = NULL;
    if (at == NULL || at == addr || at == addr + len - 1 || srs->nsecrets == 0)
        return *why = "no local part, domain or secret", 0;
    ulen = (size_t)(at - addr);
    host = at + 1;
    hlen = len - ulen - 1;
    if (!local_ok(user, ulen) || memchr(host, '=', hlen))
        return *why = "local part needs quoting", 0;
    if (ulen > 5 && !strncasecmp(user, "SRS1", 4) && is_sep(user[4])) {
        /* SRS1=HHHH=fwd==rest: keep fwd and rest, sign them again */
        const char *fwd = user + 5, *e = user + ulen, *rest;
        const char *p = memchr(fwd, '=', (size_t)(e - fwd));
        if (p && p > fwd && (fwd = p + 1) < e &&
            (rest = memchr(fwd, '=', (size_t)(e - fwd))) != NULL &&
            rest > fwd && rest + 1 < e) {
            f[0] = fwd, fl[0] = (size_t)(rest - fwd);
            f[1] = rest + 1, fl[1] = (size_t)(e - rest - 1);
            if (hash(srs, 0, f, fl, 2, h) < 0 || emit(srs, out, 1, h, f, fl, 2) < 0)
                return *why = "too long", 0;
            return 1;
        }
        /* malformed SRS1: treat it as an ordinary local part below */
    } else if (ulen > 5 && !strncasecmp(user, "SRS0", 4) && is_sep(user[4])) {
        /* SRS0 of another forwarder: SRS1=HHHH=host=<sep>rest */
        f[0] = host, fl[0] = hlen;
        f[1] = user + 4, fl[1] = ulen - 4;
        if (hash(srs, 0, f, fl, 2, h) < 0 || emit(srs, out, 1, h, f, fl, 2) < 0)
            return *why = "too long", 0;
        return 1;
    }
    srs_stamp(now, ts);
    f[0] = ts, fl[0] = 2;
    f[1] = host, fl[1] = hlen;
    f[2] = user, fl[2] = ulen;
    if (hash(srs, 0, f, fl, 3, h) < 0 || emit(srs, out, 0, h, f, fl, 3) < 0)
        return *why = "too long", 0;
    return 1;
}

/* field - the text up to the next '=' in [*p, e); NULL if none or empty. */
static const char *field(const char **p, const char *e, size_t *n)
{
    const char *s = *p, *q = memchr(s, '=', (size_t)(e - s));

    if (q == NULL || q == s)
        return NULL;
    *n = (size_t)(q - s);
    *p = q + 1;
    return s;
}

/* bounded - 1, or -1 when the decoded address is longer than SRS_ADDR_MAX
   (a forged SRS address: fuzz/corpus/srs/regression-long-srs1-decode) */
static int bounded(struct str *out, const char **why)
{
    if (out->len <= SRS_ADDR_MAX)
        return 1;
    str_reset(out);
    *why = "malformed: decoded address too long";
    return -1;
}

int srs_reverse(const struct srs *srs, const char *addr, size_t len,
                time_t now, struct str *out, const char **why)
{
    const char *at = len ? memrchr(addr, '@', len) : NULL;
    const char *p, *e, *h, *f[3];
    size_t hl, fl[3], dlen = strlen(srs->domain);

    str_reset(out);
    *why = NULL;
    if (at == NULL || len - (size_t)(at - addr) - 1 != dlen ||
        strncasecmp(at + 1, srs->domain, dlen) != 0)
        return *why = "not in the SRS domain", 0;
    if (!srs_is_srs(addr, (size_t)(at - addr)))
        return *why = "not an SRS address", 0;
    p = addr + 5;
    e = at;
    if ((h = field(&p, e, &hl)) == NULL)
        return *why = "malformed: no hash", -1;
    if (addr[3] == '1') {
        /* SRS1=HHHH=fwd==rest -> SRS0=rest@fwd */
        if ((f[0] = field(&p, e, &fl[0])) == NULL || p >= e)
            return *why = "malformed SRS1", -1;
        f[1] = p, fl[1] = (size_t)(e - p);
        if (!hash_ok(srs, h, hl, f, fl, 2))
            return *why = "bad hash", -1;
        str_append_cstr(out, "SRS0");
        str_append(out, f[1], fl[1]);
        str_append_char(out, '@');
        str_append(out, f[0], fl[0]);
        return bounded(out, why);
    }
    /* SRS0=HHHH=TT=host=user -> user@host */
    if ((f[0] = field(&p, e, &fl[0])) == NULL ||
        (f[1] = field(&p, e, &fl[1])) == NULL || p >= e)
        return *why = "malformed SRS0", -1;
    f[2] = p, fl[2] = (size_t)(e - p);
    if (!hash_ok(srs, h, hl, f, fl, 3))
        return *why = "bad hash", -1;
    if (!stamp_ok(srs, f[0], fl[0], now))
        return *why = "expired", -1;
    str_append(out, f[2], fl[2]);
    str_append_char(out, '@');
    str_append(out, f[1], fl[1]);
    return bounded(out, why);
}

int srs_load_config(const struct srs_config *cfg, const char *section,
                    struct srs **out, struct str *err)
{
    static const char seps[] = "=+-";
    struct srs *srs;

    *out = NULL;
    if (cfg->max_age % 86400000 != 0)
        return str_appendf(err, "[%s] srs_max_age must be whole days (21d)",
                           section), -1;
    if (cfg->domain[0] == '\0')
        return 0;
    if (!addr_domain_valid(cfg->domain, strlen(cfg->domain)))
        return str_appendf(err, "[%s] srs_domain '%s' is not a domain name",
                           section, cfg->domain), -1;
    srs = xcalloc(1, sizeof(*srs));
    if (srs_setup(srs, cfg->domain, seps[cfg->separator],
                  (int)(cfg->max_age / 86400000), (int)cfg->hash_length,
                  cfg->hash ? SRS_SHA256 : SRS_SHA1, err) < 0 ||
        srs_read_secrets(srs, cfg->secret_file, err) < 0) {
        srs_free(srs);
        return -1;
    }
    *out = srs;
    return 0;
}

void srs_free(struct srs *srs)
{
    if (srs) {
        srs_wipe(srs);
        free(srs);
    }
}
