/*
 * srs - the Sender Rewriting Scheme (Shevek, "Sender Rewriting Scheme",
 * 2004; the format of libsrs2, postsrsd and Mail::SRS), without any
 * knowledge of postern's tables; shared by postern-maps (srsencode,
 * srsdecode) and postern-forward.
 *
 *   forward  user@host            -> SRS0=HHHH=TT=host=user@DOMAIN
 *            SRS0=HHHH=TT=h=u@fwd -> SRS1=GGGG=fwd==HHHH=TT=h=u@DOMAIN
 *            SRS1=GGGG=fwd==rest@x -> SRS1=KKKK=fwd==rest@DOMAIN
 *   reverse  the inverse: SRS0 gives user@host (hash and age checked),
 *            SRS1 gives SRS0...@fwd (hash checked; the first forwarder
 *            checks the age).
 *
 * HHHH is a keyed hash (HMAC-SHA1 by default, or HMAC-SHA256) over the
 * lower-cased fields (TT, host, user for SRS0; fwd, rest for SRS1), base64
 * encoded and cut to hash_len characters exactly as libsrs2 does.  TT is
 * the day number modulo 1024 in two base32 characters.  The first secret
 * signs, every secret verifies (rotation).  Hashes, timestamps and the
 * SRS0/SRS1 tags compare case-insensitively, because relays lower-case
 * addresses.  The separator after SRS0/SRS1 may be '=', '+' or '-' on input.
 *
 * Limits: SRS_SECRETS_MAX secrets of SRS_SECRET_MIN..SRS_SECRET_MAX bytes;
 * addresses up to SRS_ADDR_MAX bytes in and out (a longer result is not
 * rewritten).  Local parts that would need quoting are not rewritten.
 */
#ifndef POSTERN_SRS_H
#define POSTERN_SRS_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "str.h"

#define SRS_SECRETS_MAX 16
#define SRS_SECRET_MIN 16
#define SRS_SECRET_MAX 256
#define SRS_HASH_MIN 4
#define SRS_HASH_MAX 26   /* base64 characters that fit in 160 bits */
#define SRS_ADDR_MAX 512
#define SRS_DOMAIN_MAX 253
#define SRS_SLOTS 1024    /* timestamps wrap after this many days */

enum srs_alg { SRS_SHA1, SRS_SHA256 };

struct srs {
    char domain[SRS_DOMAIN_MAX + 1]; /* lower-case */
    char sep;                        /* '=', '+' or '-' */
    int max_age;                     /* days */
    int hash_len;
    enum srs_alg alg;
    size_t nsecrets;
    size_t secret_len[SRS_SECRETS_MAX];
    char secret[SRS_SECRETS_MAX][SRS_SECRET_MAX];
};

/*
 * The SRS settings of postern.conf: they live in [maps] (postern-maps
 * decodes with them), and postern-forward reads the same keys from there
 * (cfg_load_keys), so one secret file signs and verifies.
 */
struct srs_config {
    char *domain;             /* "" = SRS off */
    char *secret_file;
    long long max_age;        /* ms, whole days */
    int separator;            /* index into "=+-" */
    long long hash_length;
    int hash;                 /* 0 sha1, 1 sha256 */
};

#define SRS_CFG_DEFS(T, m)                                                    \
    {"srs_domain", CFG_STR, "", 0, SRS_DOMAIN_MAX, offsetof(T, m.domain),     \
     NULL},                                                                   \
    {"srs_secret_file", CFG_STR, "/etc/postern/srs-secrets", 1, 1024,         \
     offsetof(T, m.secret_file), NULL},                                       \
    {"srs_max_age", CFG_TIME, "21d", 86400000, 1023LL * 86400000,             \
     offsetof(T, m.max_age), NULL},                                           \
    {"srs_separator", CFG_ENUM, "=", 0, 0, offsetof(T, m.separator),          \
     "=|+|-"},                                                                \
    {"srs_hash_length", CFG_INT, "4", SRS_HASH_MIN, SRS_HASH_MAX,             \
     offsetof(T, m.hash_length), NULL},                                       \
    {"srs_hash", CFG_ENUM, "sha1", 0, 0, offsetof(T, m.hash), "sha1|sha256"}

/*
 * srs_load_config - the SRS state for cfg: checks the values, reads the
 * secret file.  *out is NULL when cfg->domain is empty (SRS off).  0, or
 * -1 + *err (naming "[section] key").  srs_free forgets it (wiped).
 */
int srs_load_config(const struct srs_config *cfg, const char *section,
                    struct srs **out, struct str *err);
void srs_free(struct srs *srs);

/*
 * srs_setup - set the parameters (no secrets yet).  0, or -1 + *err when a
 * value is out of range.
 */
int srs_setup(struct srs *srs, const char *domain, char sep, int max_age,
              int hash_len, enum srs_alg alg, struct str *err);

/* srs_add_secret - append one secret; 0, or -1 + *err. */
int srs_add_secret(struct srs *srs, const char *s, size_t len,
                   struct str *err);

/*
 * srs_read_secrets - read the secret file: one secret per line, blank
 * lines and lines starting with '#' skipped, the first secret signs.  The
 * file must exist, hold 1..SRS_SECRETS_MAX secrets and not be readable or
 * writable by others.  0, or -1 + *err.
 */
int srs_read_secrets(struct srs *srs, const char *path, struct str *err);

/* srs_wipe - forget the secrets (explicit_bzero). */
void srs_wipe(struct srs *srs);

/*
 * srs_forward - rewrite addr[0..len) (local@domain) into *out (reset
 * first).  1 rewritten, 0 not rewritten (*why: no '@', too long, needs
 * quoting).  Callers decide which senders are foreign.
 */
int srs_forward(const struct srs *srs, const char *addr, size_t len,
                time_t now, struct str *out, const char **why);

/*
 * srs_reverse - undo a rewrite of addr[0..len) into *out (reset first).
 * 1 decoded; 0 not an SRS address in the SRS domain; -1 an invalid one,
 * with the reason in *why ("bad hash", "expired", "malformed ...").
 */
int srs_reverse(const struct srs *srs, const char *addr, size_t len,
                time_t now, struct str *out, const char **why);

/* srs_is_srs - 1 if the local part addr[0..len) starts like SRS0/SRS1. */
int srs_is_srs(const char *local, size_t len);

/* srs_stamp - the two timestamp characters for `now` into buf[3]. */
void srs_stamp(time_t now, char buf[3]);

#endif
