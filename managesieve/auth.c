/*
 * auth - SASL PLAIN for postern-managesieve, against one backend:
 *
 *   ldap  the login (mail address or uid) is looked up with [ldap]
 *         user_filter (the service bind of [ldap]); exactly one entry must
 *         match; then a new connection binds as that entry's DN with the
 *         given password.  The mailbox is the entry's [ldap] mail_attribute.
 *   sql   the login is a mailbox address; mailboxes.password_hash must
 *         verify the password (ms_password_ok: crypt(3) hashes, optionally
 *         with a {SCHEME} prefix such as {SHA512-CRYPT}).
 *
 * Either way the mailbox must exist and be active in the mailboxes table,
 * which gives its maildir.  An authorization identity other than empty or
 * the login itself is refused (no proxy logins).  Empty passwords are
 * refused before any bind (an empty simple bind is anonymous in LDAP).
 *
 * Outcomes: 1 authenticated, 0 wrong credentials, -1 backend unreachable
 * (the client is told to try later; nothing is cached).
 */
#include <crypt.h>
#include <ldap.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "lookup.h"
#include "mem.h"
#include "msieve.h"

struct ms_auth {
    const struct ms_config *cfg;
    struct db *db;
    struct ldapc *lc; /* NULL for the sql backend */
};

static const char SQL_MAILBOX[] =
    "SELECT m.address, m.maildir, m.password_hash FROM mailboxes m "
    "JOIN domains d ON d.name = m.domain "
    "WHERE m.address = ? AND m.active = 1 AND d.active = 1";

struct ms_auth *ms_auth_open(const struct ms_config *cfg, struct str *err)
{
    struct ms_auth *a = xcalloc(1, sizeof(*a));

    a->cfg = cfg;
    if ((a->db = db_open(&cfg->db, err)) == NULL ||
        (cfg->auth == MS_AUTH_LDAP && (a->lc = ldapc_open(&cfg->ldap, err)) == NULL)) {
        ms_auth_close(a);
        return NULL;
    }
    return a;
}

struct db *ms_auth_db(struct ms_auth *a)
{
    return a ? a->db : NULL;
}

void ms_auth_close(struct ms_auth *a)
{
    if (a) {
        if (a->db)
            db_close(a->db);
        if (a->lc)
            ldapc_close(a->lc);
        free(a);
    }
}

int ms_password_ok(const char *hash, const char *password)
{
    static const char *const schemes[] = {
        "{SHA512-CRYPT}", "{SHA256-CRYPT}", "{BLF-CRYPT}", "{MD5-CRYPT}",
        "{CRYPT}", NULL};
    struct crypt_data cd;
    const char *h = hash, *r;

    if (hash == NULL || *hash == '\0')
        return 0;
    if (*h == '{') {
        size_t i;
        for (i = 0; schemes[i]; i++)
            if (!strncasecmp(h, schemes[i], strlen(schemes[i])))
                break;
        if (schemes[i] == NULL)
            return 0;
        h += strlen(schemes[i]);
    }
    if (*h != '$') /* no DES crypt: 8-character passwords */
        return 0;
    memset(&cd, 0, sizeof(cd));
    r = crypt_r(password, h, &cd);
    return r && r[0] != '*' && strlen(r) == strlen(h) &&
           CRYPTO_memcmp(r, h, strlen(h)) == 0;
}

struct mbrow {
    struct str *address, *maildir, *hash;
};

static int mb_row(void *ctx, unsigned ncols, char **v, const unsigned long *l)
{
    struct mbrow *r = ctx;

    (void)l;
    if (ncols < 3)
        return 1;
    str_set(r->address, v[0] ? v[0] : "", v[0] ? strlen(v[0]) : 0);
    str_set(r->maildir, v[1] ? v[1] : "", v[1] ? strlen(v[1]) : 0);
    str_set(r->hash, v[2] ? v[2] : "", v[2] ? strlen(v[2]) : 0);
    return 1;
}

/* mailbox - the active mailbox `address`: LK_FOUND, LK_NOTFOUND, LK_TEMP */
static int mailbox(struct ms_auth *a, const char *address, struct str *addr_out,
                   struct str *maildir, struct str *hash, struct str *err)
{
    struct db_param p = DBP_S(address);
    struct mbrow r = {addr_out, maildir, hash};
    int rc = db_query(a->db, SQL_MAILBOX, &p, 1, mb_row, &r, err);

    return rc < 0 ? LK_TEMP : rc == LK_FOUND ? LK_FOUND : LK_NOTFOUND;
}

struct ldap_user {
    struct str dn, mail;
    int entries;
    const char *mail_attr;
};

static int user_entry(void *ctx, const char *dn, const char *attr,
                      const char *value, size_t len)
{
    struct ldap_user *u = ctx;

    if (attr == NULL) {
        u->entries++;
        str_set(&u->dn, dn, strlen(dn));
    } else if (!strcasecmp(attr, u->mail_attr) && u->mail.len == 0) {
        str_set(&u->mail, value, len);
    }
    return 0;
}

/* bind_as - a simple bind as dn: 1 ok, 0 invalid credentials, -1 temp */
static int bind_as(const struct ms_config *cfg, const char *dn,
                   const char *password, struct str *err)
{
    char uris[1100];
    LDAP *ld = NULL;
    struct berval cred;
    struct timeval tv = {cfg->ldap.connect_timeout / 1000,
                         (cfg->ldap.connect_timeout % 1000) * 1000};
    int version = LDAP_VERSION3, rc;

    snprintf(uris, sizeof(uris), "%s", cfg->ldap.uri);
    for (char *p = uris; *p; p++)
        if (*p == ',')
            *p = ' ';
    if ((rc = ldap_initialize(&ld, uris)) != LDAP_SUCCESS)
        return str_appendf(err, "ldap: %s", ldap_err2string(rc)), -1;
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    cred.bv_val = (char *)password;
    cred.bv_len = strlen(password);
    rc = ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    ldap_unbind_ext_s(ld, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return 1;
    if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
        rc == LDAP_UNWILLING_TO_PERFORM)
        return 0;
    return str_appendf(err, "ldap bind: %s", ldap_err2string(rc)), -1;
}

static int auth_ldap(struct ms_auth *a, const char *login, const char *password,
                     struct str *address, struct str *err)
{
    const char *attrs[] = {a->cfg->ldap.mail_attribute, NULL};
    struct ldap_user u = {STR_INIT, STR_INIT, 0, a->cfg->ldap.mail_attribute};
    struct str filter = STR_INIT;
    int rc;

    if (ldapfilter_expand(&filter, a->cfg->ldap.user_filter, login, err) < 0) {
        str_free(&filter);
        return -1;
    }
    rc = ldapc_search(a->lc, NULL, LDAPC_SCOPE_SUB, str_cstr(&filter), attrs,
                      2, user_entry, &u, err);
    str_free(&filter);
    if (rc == LK_FOUND && u.entries == 1 && u.mail.len > 0)
        rc = bind_as(a->cfg, str_cstr(&u.dn), password, err);
    else if (rc < 0)
        rc = -1; /* the directory did not answer */
    else
        rc = 0; /* no such user, or ambiguous, or without a mail address */
    if (rc == 1) {
        str_set(address, u.mail.data, u.mail.len);
        str_lower(address->data, address->len);
    }
    str_free(&u.dn);
    str_free(&u.mail);
    return rc;
}

int ms_auth_plain_login(const char *resp, size_t len, char *buf, size_t size)
{
    const char *login, *p, *e = resp + len;

    if ((p = memchr(resp, '\0', len)) == NULL)
        return -1;
    login = p + 1;
    if ((p = memchr(login, '\0', (size_t)(e - login))) == NULL ||
        str_copy_bounded(buf, size, login, (size_t)(p - login)) < 0 ||
        buf[0] == '\0' || strlen(buf) != (size_t)(p - login))
        return -1;
    str_lower(buf, strlen(buf));
    return 0;
}

int ms_auth_plain(struct ms_auth *a, const char *resp, size_t len,
                  struct str *address, struct str *maildir, struct str *err)
{
    const char *authz = resp, *login, *pw, *e = resp + len, *p;
    char lbuf[ADDR_MAX + 1], pbuf[1025];
    struct str hash = STR_INIT, found = STR_INIT;
    int rc;

    if ((p = memchr(authz, '\0', len)) == NULL)
        return 0;
    login = p + 1;
    if ((p = memchr(login, '\0', (size_t)(e - login))) == NULL)
        return 0;
    pw = p + 1;
    if (str_copy_bounded(lbuf, sizeof(lbuf), login, (size_t)(p - login)) < 0 ||
        str_copy_bounded(pbuf, sizeof(pbuf), pw, (size_t)(e - pw)) < 0 ||
        lbuf[0] == '\0' || pbuf[0] == '\0' || strlen(pbuf) != (size_t)(e - pw) ||
        (login - authz > 1 && (size_t)(login - authz - 1) != strlen(lbuf)) ||
        (login - authz > 1 && strncmp(authz, lbuf, strlen(lbuf)) != 0))
        return 0;
    str_reset(address);
    if (a->cfg->auth == MS_AUTH_LDAP)
        rc = auth_ldap(a, lbuf, pbuf, address, err);
    else {
        str_lower(lbuf, strlen(lbuf));
        str_set(address, lbuf, strlen(lbuf));
        rc = 1;
    }
    if (rc == 1) {
        rc = mailbox(a, str_cstr(address), &found, maildir, &hash, err);
        if (rc == 1 && a->cfg->auth == MS_AUTH_SQL &&
            !ms_password_ok(str_cstr(&hash), pbuf))
            rc = 0;
        if (rc == 1)
            str_set(address, found.data, found.len);
    }
    explicit_bzero(pbuf, sizeof(pbuf));
    str_free(&hash);
    str_free(&found);
    return rc;
}
