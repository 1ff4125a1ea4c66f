/*
 * mailbox.c - postern mailbox: the mailboxes table, with account states
 * (migration 0006), quotas, passwords and the legacy/migrated switch.
 *
 *   postern mailbox list [DOMAIN]
 *   postern mailbox show ADDRESS
 *   postern mailbox add ADDRESS [KEY=VALUE...]
 *   postern mailbox set ADDRESS KEY=VALUE...
 *   postern mailbox disable|enable ADDRESS
 *   postern mailbox remove ADDRESS [--cascade]
 *
 * KEYs: password (- = read from stdin; or a crypt hash; "" = none),
 * name, quota (2G, 500M; 0 = unlimited; "" = the domain's default),
 * volume (add only: it fixes the Maildir path), migration_state
 * (legacy|migrated), transport, relayhost, state (active|leaving|closed),
 * grace_until (YYYY-MM-DD[ HH:MM:SS], for leaving), closed_forward
 * (an address), reason (why the state changed).
 *
 * Passwords are stored as {SHA512-CRYPT}$6$... (crypt(3), a random salt),
 * the form postern-managesieve and Dovecot read; they are never echoed,
 * and never taken as plain text from the command line (ps would show it).
 *
 * Rows of postern-dirsync (owner = ldap): only state, grace_until,
 * closed_forward and reason may be changed here (docs/directory.md); the
 * rest comes from the directory.  disable/enable of such a row close and
 * reopen the account (state) instead of touching `active`; remove is
 * refused (postern-dirsync purge removes them).
 *
 * Before SQL is touched: the address, its domain (unknown: did you mean;
 * an alias domain: refused, with the address to use instead), a mailbox
 * or alias already at the address, the syntax of every value, a legacy
 * switch without a legacy route (mail would wait for ever); remove lists
 * the aliases that point at the mailbox and refuses unless --cascade.
 * The Maildir is never touched: remove prints its path.
 *
 * Exit: 0; 64 usage; 65 refused; 66 no such mailbox; 73 exists;
 * 74 password not readable; 75 database.
 */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "mem.h"
#include "routing.h"

#define WHAT "mailbox"
#define MB_PASSWORD_MAX 1024
#define ADMIN_EX_IOERR 74

static const char *const mb_add_keys[] = {
    "password", "name", "quota", "volume", "migration_state", "transport",
    "relayhost", NULL};
static const char *const mb_set_keys[] = {
    "password", "name", "quota", "migration_state", "transport",
    "relayhost", "state", "grace_until", "closed_forward", "reason", NULL};
/* what an admin may change on a postern-dirsync row (docs/directory.md) */
static const char *const mb_ldap_keys[] = {
    "state", "grace_until", "closed_forward", "reason", NULL};

/* --- passwords --- */

static int mb_read_line(FILE *in, char *buf, size_t size)
{
    size_t len;
    if (!fgets(buf, (int)size, in))
        return -1;
    len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[--len] = 0;
    else if (len == size - 1)
        return -2; /* too long */
    if (len && buf[len - 1] == '\r')
        buf[--len] = 0;
    return 0;
}

/* one password from stdin: at a terminal asked twice without echo */
static int mb_read_password(char *buf, size_t size)
{
    struct termios old, quiet;
    char again[MB_PASSWORD_MAX + 2];
    int tty = isatty(0) && tcgetattr(0, &old) == 0, rc;
    if (!tty) {
        rc = mb_read_line(stdin, buf, size);
    } else {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
        fputs("New password: ", stderr);
        rc = mb_read_line(stdin, buf, size);
        if (rc == 0) {
            fputs("\nAgain: ", stderr);
            rc = mb_read_line(stdin, again, sizeof(again));
            if (rc == 0 && strcmp(buf, again) != 0)
                rc = -3;
        }
        fputc('\n', stderr);
        tcsetattr(0, TCSAFLUSH, &old);
        explicit_bzero(again, sizeof(again));
    }
    if (rc == -1)
        return admin_error(ADMIN_EX_IOERR, WHAT,
                           "password=-: no password on stdin");
    if (rc == -2)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "password=-: longer than %d characters",
                           MB_PASSWORD_MAX);
    if (rc == -3)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "password=-: the two passwords differ");
    if (!buf[0])
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "password=-: the password is empty (password= "
                           "without a value removes it)");
    return ADMIN_EX_OK;
}

static int mb_is_hash(const char *v)
{
    const char *p = v;
    if (*p == '{') {
        for (p++; *p && *p != '}'; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
                  *p == '-'))
                return 0;
        if (*p != '}' || p == v + 1 || !p[1])
            return 0;
        p++;
    } else if (*p != '$' || !strchr(p + 1, '$')) {
        return 0;
    }
    for (; *p; p++)
        if ((unsigned char)*p <= ' ')
            return 0;
    return 1;
}

/* the value to store for password=V into *out (owned), or NULL to clear */
static int mb_password(const char *v, char **out)
{
    char pw[MB_PASSWORD_MAX + 2];
    struct crypt_data *cd;
    const char *salt, *h;
    int rc;
    *out = NULL;
    if (!rt_null(v))
        return ADMIN_EX_OK;
    if (strcmp(v, "-") != 0) {
        /* a scheme prefix is kept as given, lower-case schemes too: the
           CHECK constraint wants [a-z0-9._-] inside the braces */
        if (!mb_is_hash(v))
            return admin_error(ADMIN_EX_USAGE, WHAT,
                               "password: give password=- and type it on "
                               "stdin, or a crypt hash ($6$... or "
                               "{SHA512-CRYPT}$6$...): a password on the "
                               "command line shows in ps and the shell "
                               "history");
        *out = xstrdup(v);
        return ADMIN_EX_OK;
    }
    if ((rc = mb_read_password(pw, sizeof(pw))))
        return rc;
    salt = crypt_gensalt("$6$", 0, NULL, 0);
    cd = xcalloc(1, sizeof(*cd));
    h = salt ? crypt_r(pw, salt, cd) : NULL;
    explicit_bzero(pw, sizeof(pw));
    if (!h || h[0] != '$') {
        free(cd);
        return admin_error(ADMIN_EX_SOFTWARE, WHAT,
                           "crypt(3) cannot make a SHA-512 hash here");
    }
    *out = xmalloc(strlen(h) + sizeof("{SHA512-CRYPT}"));
    strcpy(*out, "{SHA512-CRYPT}");
    strcat(*out, h);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ADMIN_EX_OK;
}

/* --- the mailbox row --- */

struct mb {
    struct addr addr;
    char owner[8];
    char state[16];
    char maildir[512];
    char grace[32];
    int active;
};

static int mb_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct mb *m = ctx;
    (void)n;
    (void)l;
    str_copy_bounded(m->owner, sizeof(m->owner), v[0], strlen(v[0]));
    str_copy_bounded(m->state, sizeof(m->state), v[1], strlen(v[1]));
    str_copy_bounded(m->maildir, sizeof(m->maildir), v[2], strlen(v[2]));
    m->active = atoi(v[3]);
    m->grace[0] = 0;
    if (v[4])
        str_copy_bounded(m->grace, sizeof(m->grace), v[4], strlen(v[4]));
    return 1;
}

/* the mailbox ADDRESS: 0, ADMIN_EX_NOINPUT (explained) or another status */
static int mb_get(struct admin *a, const char *arg, struct mb *m,
                  struct db **dbp)
{
    struct db_param p;
    struct str err = {0};
    int rc;
    if ((rc = admin_parse_address(WHAT, arg, &m->addr)))
        return rc;
    if (!(*dbp = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p = DBP_S(m->addr.full);
    rc = db_query(*dbp,
                  "SELECT owner, state, maildir, active, grace_until "
                  "FROM mailboxes WHERE address = ?",
                  &p, 1, mb_row, m, &err);
    if (rc < 0) {
        admin_dbfail(WHAT, &err);
        str_free(&err);
        return ADMIN_EX_TEMPFAIL;
    }
    if (rc == LK_FOUND)
        return ADMIN_EX_OK;
    return rt_no_mailbox(*dbp, WHAT, &m->addr);
}

/* --- settings into column assignments --- */

#define MB_COLS_MAX 16

struct mb_set {
    const char *col[MB_COLS_MAX];
    struct db_param val[MB_COLS_MAX];
    char *own[MB_COLS_MAX]; /* strings to free */
    unsigned n;
    int state_change;
    const char *reason;
};

static void mb_set_free(struct mb_set *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free(s->own[i]);
    s->n = 0;
}

static void mb_col(struct mb_set *s, const char *col, const char *v)
{
    s->col[s->n] = col;
    s->own[s->n] = v ? xstrdup(v) : NULL;
    s->val[s->n] = v ? DBP_S(s->own[s->n]) : DBP_NUL;
    s->n++;
}

static int mb_check_datetime(const char *v)
{
    /* YYYY-MM-DD or YYYY-MM-DD HH:MM:SS */
    static const char pat[] = "dddd-dd-dd dd:dd:dd";
    size_t len = strlen(v);
    if (len != 10 && len != 19)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (pat[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != pat[i])
            return -1;
    return 0;
}

/* one KEY=VALUE into column assignments; validates the value */
static int mb_setting(struct mb_set *s, const char *key, const char *val,
                      const char *self)
{
    const char *v = rt_null(val);
    char buf[32];
    int rc;
    if (!strcmp(key, "password")) {
        char *h;
        if ((rc = mb_password(val, &h)))
            return rc;
        mb_col(s, "password_hash", h);
        free(h);
    } else if (!strcmp(key, "name")) {
        if (v && strlen(v) > 200)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "name longer than 200 characters");
        mb_col(s, "display_name", v);
    } else if (!strcmp(key, "quota")) {
        unsigned long long q;
        if (v && admin_parse_size(v, &q) < 0)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "quota '%s' is not a size (e.g. 2G, 500M; 0 "
                               "= unlimited; quota= for the domain's "
                               "default)", v);
        if (v)
            snprintf(buf, sizeof(buf), "%llu", q);
        mb_col(s, "quota_bytes", v ? buf : NULL);
    } else if (!strcmp(key, "volume")) {
        size_t len = v ? strlen(v) : 0;
        if (!v || len > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
                                        "0123456789_-") != len)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "volume '%s': 1 to 32 lower-case letters, "
                               "digits, '_' or '-' (e.g. vol01)", val);
        mb_col(s, "volume", v);
    } else if (!strcmp(key, "migration_state")) {
        if (!v || (strcmp(v, "legacy") && strcmp(v, "migrated")))
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "migration_state '%s': legacy (mail goes to "
                               "the legacy store) or migrated (delivered "
                               "here)", val);
        mb_col(s, "migration_state", v);
    } else if (!strcmp(key, "transport") || !strcmp(key, "relayhost")) {
        if (v && (key[0] == 't' ? rt_check_transport(WHAT, key, v)
                                : rt_check_relayhost(WHAT, key, v)))
            return ADMIN_EX_DATAERR;
        mb_col(s, key, v);
    } else if (!strcmp(key, "state")) {
        if (!v || (strcmp(v, "active") && strcmp(v, "leaving") &&
                   strcmp(v, "closed")))
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "state '%s': active, leaving (with "
                               "grace_until) or closed", val);
        mb_col(s, "state", v);
        s->state_change = 1;
    } else if (!strcmp(key, "grace_until")) {
        if (v && mb_check_datetime(v) < 0)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "grace_until '%s': YYYY-MM-DD or "
                               "'YYYY-MM-DD HH:MM:SS'", v);
        mb_col(s, "grace_until", v);
    } else if (!strcmp(key, "closed_forward")) {
        struct addr fw;
        if (v && (rc = admin_parse_address(WHAT, v, &fw)))
            return rc;
        if (v && !strcmp(fw.full, self))
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "closed_forward: %s cannot forward to itself",
                               self);
        mb_col(s, "closed_forward", v ? fw.full : NULL);
    } else if (!strcmp(key, "reason")) {
        if (v && strlen(v) > 255)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "reason longer than 255 characters");
        s->reason = v;
    }
    return ADMIN_EX_OK;
}

static int mb_settings(struct mb_set *s, const struct admin_kv *kv,
                       const char *self)
{
    int rc;
    for (unsigned i = 0; i < kv->n; i++)
        if ((rc = mb_setting(s, kv->key[i], kv->val[i], self)))
            return rc;
    return ADMIN_EX_OK;
}

static const char *mb_col_value(const struct mb_set *s, const char *col)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->col[i], col))
            return s->val[i].type == DBP_STR ? s->val[i].s : NULL;
    return NULL;
}

static int mb_has_col(const struct mb_set *s, const char *col)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->col[i], col))
            return 1;
    return 0;
}

/* a legacy mailbox needs a legacy route, or postern-maps answers TEMP */
static int mb_check_legacy_route(struct db *db, const struct addr *ad,
                                 const struct mb_set *s)
{
    const char *mig = mb_col_value(s, "migration_state");
    struct db_param p[3] = {DBP_S(ad->full), DBP_S(ad->domain),
                            DBP_S(ad->domain)};
    char v[8];
    int rc;
    if (!mig || strcmp(mig, "legacy") || mb_col_value(s, "transport"))
        return ADMIN_EX_OK;
    rc = admin_value(db, WHAT,
                     "SELECT 1 FROM DUAL WHERE "
                     "EXISTS (SELECT 1 FROM mailboxes WHERE address = ? AND transport IS NOT NULL) "
                     "OR EXISTS (SELECT 1 FROM domains WHERE name = ? AND legacy_transport IS NOT NULL) "
                     "OR EXISTS (SELECT 1 FROM transports WHERE purpose = 'legacy' AND active = 1 "
                     "AND ((match_type = 'domain' AND pattern = ?) OR match_type = 'default'))",
                     p, 3, v, sizeof(v));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND)
        return ADMIN_EX_OK;
    return admin_error(ADMIN_EX_DATAERR, WHAT,
                       "%s: no legacy route (no legacy_transport for %s and "
                       "no legacy transports row), so its mail would wait "
                       "in the queue; add one first: postern transport add "
                       "default smtp:[legacy.example.org]:25 purpose=legacy",
                       ad->full, ad->domain);
}

struct mb_tx {
    const struct mb_set *s;
    const char *address;
    const char *local, *domain; /* add */
    const char *user;
    int insert;
    unsigned long long rows;
    char why[ADMIN_USER_MAX + 32]; /* the default state_reason */
};

static int mb_write(struct admin *a, struct db *db, void *vctx, int *status,
                    struct str *err)
{
    struct mb_tx *t = vctx;
    struct str sql = {0};
    struct db_param p[MB_COLS_MAX + 4];
    size_t np = 0;
    int rc;
    (void)a;
    (void)status;
    t->rows = 0;
    if (t->insert) {
        str_append_cstr(&sql, "INSERT INTO mailboxes (local_part, domain");
        for (unsigned i = 0; i < t->s->n; i++)
            str_appendf(&sql, ", %s", t->s->col[i]);
        str_append_cstr(&sql, ") VALUES (?, ?");
        for (unsigned i = 0; i < t->s->n; i++)
            str_append_cstr(&sql, ", ?");
        str_append_char(&sql, ')');
        p[np++] = DBP_S(t->local);
        p[np++] = DBP_S(t->domain);
        for (unsigned i = 0; i < t->s->n; i++)
            p[np++] = t->s->val[i];
    } else {
        str_append_cstr(&sql, "UPDATE mailboxes SET ");
        if (t->s->state_change) {
            /* assigned before state (MariaDB assigns left to right): a
               state set to what it was keeps its date and reason */
            const char *st = mb_col_value(t->s, "state");
            str_append_cstr(&sql, "state_since = IF(state <=> ?, state_since, "
                                  "NOW()), state_reason = IF(state <=> ?, "
                                  "state_reason, ?), ");
            p[np++] = DBP_S(st);
            p[np++] = DBP_S(st);
            snprintf(t->why, sizeof(t->why), "set by %s (postern)", t->user);
            p[np++] = DBP_S(t->s->reason ? t->s->reason : t->why);
        }
        for (unsigned i = 0; i < t->s->n; i++) {
            str_appendf(&sql, "%s%s = ?", i ? ", " : "", t->s->col[i]);
            p[np++] = t->s->val[i];
        }
        str_append_cstr(&sql, " WHERE address = ?");
        p[np++] = DBP_S(t->address);
    }
    rc = rt_tx_exec(db, str_cstr(&sql), p, np, &t->rows, err);
    str_free(&sql);
    return rc;
}

/* the address is free: no mailbox there, no alias that would take its mail */
static int mb_check_free(struct db *db, const struct addr *ad)
{
    struct db_param p = DBP_S(ad->full);
    char targets[512];
    int rc = rt_exists(db, WHAT, "SELECT 1 FROM mailboxes WHERE address = ?",
                       ad->full);
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND)
        return admin_error(ADMIN_EX_CANTCREAT, WHAT,
                           "%s exists already (postern mailbox show %s)",
                           ad->full, ad->full);
    rc = admin_value(db, WHAT,
                     "SELECT GROUP_CONCAT(target ORDER BY target SEPARATOR ', ') "
                     "FROM aliases WHERE source = ? HAVING COUNT(*) > 0",
                     &p, 1, targets, sizeof(targets));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND)
        return admin_error(ADMIN_EX_CANTCREAT, WHAT,
                           "%s is an alias (to %s): the mailbox would "
                           "receive nothing while it exists; remove the "
                           "alias first (postern alias remove %s)", ad->full,
                           targets, ad->full);
    return ADMIN_EX_OK;
}

static int mb_add(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct mb_set s = {.n = 0};
    struct addr ad;
    struct rt_domain d;
    struct db *db;
    struct mb_tx t;
    int rc;
    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern mailbox add ADDRESS [KEY=VALUE...]");
    if ((rc = admin_parse_address(WHAT, argv[0], &ad)) ||
        (rc = admin_kv_parse(&kv, argc - 1, argv + 1, mb_add_keys, WHAT)))
        return rc;
    if (strchr(ad.local, '/'))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s: a '/' in a local part would be a directory "
                           "of the Maildir path", ad.full);
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = rt_domain(db, WHAT, ad.domain, &d, ADMIN_EX_DATAERR)))
        return rc;
    if (!strcmp(d.kind, "alias"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s is an alias domain of %s: %s already reaches "
                           "%s@%s; add the mailbox there", ad.domain,
                           d.target, ad.full, ad.local, d.target);
    if ((rc = mb_check_free(db, &ad)) || (rc = mb_settings(&s, &kv, ad.full)) ||
        (rc = mb_check_legacy_route(db, &ad, &s)))
        goto out;
    t = (struct mb_tx){&s, ad.full, ad.local, ad.domain, a->user, 1, 0, ""};
    if ((rc = admin_transaction(a, mb_write, &t)) == ADMIN_EX_OK)
        admin_done(a, WHAT, "added", ad.full, t.rows);
out:
    mb_set_free(&s);
    return rc;
}

static int mb_refuse_ldap(const struct mb *m, const struct admin_kv *kv)
{
    for (unsigned i = 0; i < kv->n; i++) {
        const char *const *k = mb_ldap_keys;
        while (*k && strcmp(*k, kv->key[i]))
            k++;
        if (!*k)
            return admin_error(ADMIN_EX_DATAERR, WHAT,
                               "%s belongs to postern-dirsync (owner=ldap): "
                               "%s comes from the directory, change it "
                               "there; here an admin may change only state, "
                               "grace_until, closed_forward and reason",
                               m->addr.full, kv->key[i]);
    }
    return ADMIN_EX_OK;
}

static int mb_set_cmd(struct admin *a, int argc, char **argv)
{
    struct admin_kv kv;
    struct mb_set s = {.n = 0};
    struct mb m;
    struct db *db;
    struct mb_tx t;
    const char *st;
    int rc;
    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern mailbox set ADDRESS KEY=VALUE...");
    if ((rc = admin_kv_parse(&kv, argc - 1, argv + 1, mb_set_keys, WHAT)) ||
        (rc = mb_get(a, argv[0], &m, &db)))
        return rc;
    if (!strcmp(m.owner, "ldap") && (rc = mb_refuse_ldap(&m, &kv)))
        return rc;
    if ((rc = mb_settings(&s, &kv, m.addr.full)) ||
        (rc = mb_check_legacy_route(db, &m.addr, &s)))
        goto out;
    st = s.state_change ? mb_col_value(&s, "state") : m.state;
    if (st && !strcmp(st, "leaving") && !mb_col_value(&s, "grace_until") &&
        (mb_has_col(&s, "grace_until") || !m.grace[0])) {
        rc = admin_error(ADMIN_EX_DATAERR, WHAT,
                         "state=leaving needs grace_until=YYYY-MM-DD (the "
                         "day the account closes)");
        goto out;
    }
    t = (struct mb_tx){&s, m.addr.full, NULL, NULL, a->user, 0, 0, ""};
    if ((rc = admin_transaction(a, mb_write, &t)) == ADMIN_EX_OK)
        admin_done(a, WHAT, "changed", m.addr.full, t.rows);
out:
    mb_set_free(&s);
    return rc;
}

static int mb_active(struct admin *a, int argc, char **argv)
{
    int on = a->verb[0] == 'e';
    struct mb_set s = {.n = 0};
    struct mb m;
    struct db *db;
    struct mb_tx t;
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT, "usage: postern mailbox %s "
                           "ADDRESS", on ? "enable" : "disable");
    if ((rc = mb_get(a, argv[0], &m, &db)))
        return rc;
    if (!strcmp(m.owner, "ldap")) {
        /* the directory owns `active`; an admin closes or reopens */
        mb_col(&s, "state", on ? "active" : "closed");
        s.state_change = 1;
        s.reason = on ? "reopened by an admin (postern mailbox enable)"
                      : "closed by an admin (postern mailbox disable)";
        fprintf(stderr, "postern: %s: %s belongs to postern-dirsync: %s "
                        "the account (state=%s) instead of changing "
                        "'active'\n", WHAT, m.addr.full,
                on ? "reopening" : "closing", on ? "active" : "closed");
    } else {
        mb_col(&s, "active", on ? "1" : "0");
    }
    t = (struct mb_tx){&s, m.addr.full, NULL, NULL, a->user, 0, 0, ""};
    if ((rc = admin_transaction(a, mb_write, &t)) == ADMIN_EX_OK)
        admin_done(a, WHAT, on ? "enabled" : "disabled", m.addr.full, t.rows);
    mb_set_free(&s);
    return rc;
}

struct mb_rm {
    const char *address;
    int cascade;
    unsigned long long rows, aliases;
};

static int mb_remove_tx(struct admin *a, struct db *db, void *vctx,
                        int *status, struct str *err)
{
    struct mb_rm *r = vctx;
    struct db_param p[2] = {DBP_S(r->address), DBP_S(r->address)};
    (void)a;
    (void)status;
    r->rows = r->aliases = 0;
    if (r->cascade &&
        rt_tx_exec(db, "DELETE FROM aliases WHERE target = ? OR source = ?",
                   p, 2, &r->aliases, err) < 0)
        return -1;
    return rt_tx_exec(db, "DELETE FROM mailboxes WHERE address = ?", p, 1,
                      &r->rows, err);
}

static int mb_remove(struct admin *a, int argc, char **argv)
{
    int cascade = a->flag; /* --cascade */
    static const char *const cols[] = {"object", "action", "key", "rows",
                                       "dry_run", "aliases_removed",
                                       "maildir_left", NULL};
    struct mb m;
    struct db *db;
    struct mb_rm r;
    char refs[1024], n1[32], n2[32];
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern mailbox remove ADDRESS [--cascade]");
    if ((rc = mb_get(a, argv[0], &m, &db)))
        return rc;
    if (!strcmp(m.owner, "ldap"))
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "%s belongs to postern-dirsync (owner=ldap): it "
                           "removes directory accounts with postern-dirsync "
                           "purge %s (after closing them)", m.addr.full,
                           m.addr.full);
    {
        struct db_param p[2] = {DBP_S(m.addr.full), DBP_S(m.addr.full)};
        rc = admin_value(db, WHAT,
                         "SELECT GROUP_CONCAT(CONCAT(source, ' -> ', target) "
                         "ORDER BY source, target SEPARATOR ', ') FROM aliases "
                         "WHERE target = ? OR source = ? HAVING COUNT(*) > 0",
                         p, 2, refs, sizeof(refs));
    }
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND && !cascade)
        return admin_error(ADMIN_EX_DATAERR, WHAT,
                           "aliases still name %s (%s): without the mailbox "
                           "they would accept mail that cannot be delivered; "
                           "--cascade removes these alias rows too",
                           m.addr.full, refs);
    r = (struct mb_rm){m.addr.full, cascade, 0, 0};
    if ((rc = admin_transaction(a, mb_remove_tx, &r)) == ADMIN_EX_OK) {
        struct admin_out o;
        char *v[7];
        snprintf(n1, sizeof(n1), "%llu", r.rows);
        snprintf(n2, sizeof(n2), "%llu", r.aliases);
        v[0] = WHAT;
        v[1] = "removed";
        v[2] = m.addr.full;
        v[3] = n1;
        v[4] = a->dry_run ? "1" : "0";
        v[5] = n2;
        v[6] = m.maildir;
        admin_out_begin(&o, a, cols);
        admin_out_row(&o, v);
        admin_out_end(&o);
        fprintf(stderr, "postern: %s: the Maildir stays on disk: %s below "
                        "[lda] mail_root; remove it by hand when it is no "
                        "longer needed\n", WHAT, m.maildir);
    }
    return rc;
}

static int mb_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {
        "address", "name", "state", "migration_state", "quota_bytes",
        "active", "owner", NULL};
    char dom[ADDR_DOMAIN_MAX + 1];
    struct rt_domain d;
    struct db_param p;
    struct db *db;
    int rc;
    if (argc > 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern mailbox list [DOMAIN]");
    if (argc == 0)
        return admin_list(a, cols,
                          "SELECT address, display_name, state, migration_state, "
                          "quota_bytes, active, owner FROM mailboxes "
                          "ORDER BY domain, local_part", NULL, 0);
    if ((rc = admin_parse_domain(WHAT, argv[0], dom)))
        return rc;
    if (!(db = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    if ((rc = rt_domain(db, WHAT, dom, &d, ADMIN_EX_NOINPUT)))
        return rc;
    p = DBP_S(dom);
    return admin_list(a, cols,
                      "SELECT address, display_name, state, migration_state, "
                      "quota_bytes, active, owner FROM mailboxes WHERE domain = ? "
                      "ORDER BY local_part", &p, 1);
}

static int mb_show(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {
        "address", "name", "password", "quota_bytes", "effective_quota_bytes",
        "volume", "maildir", "migration_state", "transport", "relayhost",
        "active", "owner", "state", "state_since", "state_reason",
        "grace_until", "closed_forward", "aliases_to_it", "forwards",
        "created_at", "updated_at", NULL};
    struct mb m;
    struct db *db;
    struct db_param p[3];
    int rc;
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "usage: postern mailbox show ADDRESS");
    if ((rc = mb_get(a, argv[0], &m, &db)))
        return rc;
    p[0] = p[1] = p[2] = DBP_S(m.addr.full);
    rc = admin_show(a, WHAT, cols,
                    "SELECT m.address, m.display_name, "
                    "IF(m.password_hash IS NULL, 'none', 'set'), m.quota_bytes, "
                    "IFNULL(m.quota_bytes, d.default_quota_bytes), m.volume, "
                    "m.maildir, m.migration_state, m.transport, m.relayhost, "
                    "m.active, m.owner, m.state, m.state_since, m.state_reason, "
                    "m.grace_until, m.closed_forward, "
                    "(SELECT GROUP_CONCAT(source SEPARATOR ', ') FROM aliases WHERE target = ?), "
                    "(SELECT GROUP_CONCAT(CONCAT(target, IF(keep_copy, ' (copy kept)', '')) SEPARATOR ', ') "
                    "FROM aliases WHERE source = ?), "
                    "m.created_at, m.updated_at FROM mailboxes m "
                    "JOIN domains d ON d.name = m.domain WHERE m.address = ?",
                    p, 3);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

const struct admin_verb mailbox_verbs[] = {
    {"list", mb_list}, {"show", mb_show}, {"add", mb_add},
    {"set", mb_set_cmd}, {"disable", mb_active}, {"enable", mb_active},
    {"remove", mb_remove}, {NULL, NULL},
};
