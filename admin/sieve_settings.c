/*
 * sieve_settings.c - postern vacation|forward|spam: a mailbox's settings
 * without Sieve (tables mailbox_settings and mailbox_forwards, migration
 * 0012), applied by postern-lda as a generated Sieve script
 * (lib-sieve/settings.h, docs/sieve.md "Settings without Sieve").
 *
 *   postern vacation set MAILBOX [--subject S] --text T|--text-file F
 *                    [--from DATE] [--until DATE] [--days N]
 *                    [--addresses A,B]
 *   postern vacation off|show|script MAILBOX
 *   postern vacation import-postfixadmin schema=NAME
 *                    | host=H[:PORT] db=NAME user=U password_file=F
 *   postern forward set MAILBOX TARGET... [--keep]
 *   postern forward off|show MAILBOX
 *   postern spam set MAILBOX --threshold N [--folder F]
 *   postern spam off|show MAILBOX
 *
 * vacation set replaces the whole reply (options not given are cleared)
 * and switches it on; off switches it off and keeps the text.  DATE is
 * UTC: YYYY-MM-DD, or YYYY-MM-DD HH:MM[:SS] (a 'T' may stand for the
 * blank); --until YYYY-MM-DD means the end of that day.  forward set
 * replaces the targets (at most SIEVE_SETTINGS_FORWARDS_MAX; a copy stays
 * only with --keep).  spam set: the scanner's score (decimal) at or over
 * which mail goes to the folder (default Junk).  `script` prints the
 * generated Sieve script, as postern-lda runs it with the default
 * [lda] sieve_spam_score_max (10).
 *
 * import-postfixadmin reads PostfixAdmin's vacation table (email,
 * subject, body, activefrom, activeuntil, active, interval_time) from
 * another schema of postern's own database server (schema=, through
 * postern's connection) or from another server (host=, as postern
 * import postfixadmin); TIMESTAMP columns are read in UTC (the session's
 * time_zone is set to +00:00), DATE columns as that day 00:00 UTC.  interval_time (seconds) becomes --days, rounded
 * up (0 = [lda] vacation_default_period).  Addresses without a postern
 * mailbox are reported, not fatal; a bad row is reported and skipped;
 * running it again updates the rows (the reply of an existing mailbox is
 * replaced); --dry-run rolls back.
 *
 * Validation before SQL: the mailbox exists (did you mean), addresses
 * (lib/addr), UTF-8 texts without control characters (the reply text
 * may have line breaks; CR LF becomes LF), the named limits
 * (VAC_SUBJECT_MAX, VAC_TEXT_MAX characters, SIEVE_SETTINGS_TEXT_MAX
 * bytes, SPAM_FOLDER_MAX), dates that exist, from <= until.
 *
 * Exit: 0; 64 usage; 65 refused (or an import row skipped); 66 no such
 * mailbox or file; 75 database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "routing.h"
#include "file.h"
#include "lookup.h"
#include "mem.h"
#include "settings.h"
#include "util.h"

#define VAC_SUBJECT_MAX 255  /* characters, as vacation_subject */
#define VAC_TEXT_MAX 8000    /* characters, as the CHECK on vacation_body */
#define SPAM_FOLDER_MAX 255  /* characters */
#define SCHEMA_NAME_MAX 64
#define PFA_ROWS_MAX 1000000 /* rows read from a PostfixAdmin table */

/* --- shared checks ----------------------------------------------------- */

/* utf8_chars - the number of characters of valid UTF-8 s, or -1;
   control characters other than LF (and TAB when text) refused */
static long utf8_chars(const char *s, int text)
{
    long n = 0;
    size_t len = strlen(s);

    for (size_t i = 0; i < len; n++) {
        unsigned char c = (unsigned char)s[i];
        size_t k;
        if (c < 0x20 || c == 0x7f) {
            if (!text || (c != '\n' && c != '\t'))
                return -1;
        }
        if ((k = str_utf8_seq((const unsigned char *)s + i, len - i)) == 0)
            return -1;
        i += k;
    }
    return n;
}

/* a text value: CR LF -> LF, then utf8_chars checks */
static int check_text(const char *what, const char *key, char *s,
                      long max, int text)
{
    char *w = s;
    long n;

    for (char *r = s; *r; r++)
        if (!(text && r[0] == '\r' && r[1] == '\n'))
            *w++ = *r;
    *w = '\0';
    if ((n = utf8_chars(s, text)) < 0)
        return admin_error(ADMIN_EX_DATAERR, what, "%s: not UTF-8, or "
                           "control characters%s", key,
                           text ? " (line breaks and tabs are fine)" : "");
    if (n > max || strlen(s) > SIEVE_SETTINGS_TEXT_MAX)
        return admin_error(ADMIN_EX_DATAERR, what, "%s: longer than %ld "
                           "characters", key, max);
    return ADMIN_EX_OK;
}

/* parse_date - "YYYY-MM-DD[( |T)HH:MM[:SS]]" (UTC) -> "YYYY-MM-DD
   HH:MM:SS" in out (20 bytes); a date alone is 00:00:00, or 23:59:59
   when end_of_day.  0 or -1 (no such date) */
static int parse_date(const char *in, int end_of_day, char out[20])
{
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    struct tm tm;
    time_t t;
    size_t len = strlen(in);

    if (len == 10 && sscanf(in, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 &&
        n == 10) {
        if (end_of_day)
            h = 23, mi = 59, s = 59;
    } else if ((len == 16 || len == 19) && (in[10] == ' ' || in[10] == 'T') &&
               sscanf(in, "%4d-%2d-%2d%*c%2d:%2d%n", &y, &mo, &d, &h, &mi,
                      &n) == 5 && n == 16 &&
               (len == 16 || (in[16] == ':' &&
                              sscanf(in + 17, "%2d%n", &s, &n) == 1 &&
                              n == 2))) {
    } else
        return -1;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
    tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
    t = timegm(&tm);
    if (gmtime_r(&t, &tm) == NULL || tm.tm_mday != d || tm.tm_mon != mo - 1)
        return -1; /* 2026-02-30 */
    /* the moduli only tell the compiler the ranges checked above */
    snprintf(out, 20, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)y % 10000u,
             (unsigned)mo % 100u, (unsigned)d % 100u, (unsigned)h % 100u,
             (unsigned)mi % 100u, (unsigned)s % 100u);
    return 0;
}

/* check_target - a forward target or extra address: local@domain as
   lib/addr parses it (an extension is kept: it is someone else's) */
static int check_target(const char *what, const char *in, char *out,
                        size_t size)
{
    const char *e = NULL;
    struct addr a;

    if (addr_parse(in, strlen(in), "", ADDR_NEED_DOMAIN, &a, &e) < 0 ||
        strchr(a.domain, '.') == NULL || strchr(in, '"') ||
        strchr(in, ' ') || strchr(in, ','))
        return admin_error(ADMIN_EX_DATAERR, what, "%s: not a mail address"
                           "%s%s", in, e ? ": " : "", e ? e : "");
    snprintf(out, size, "%s", a.full);
    return ADMIN_EX_OK;
}

/* mailbox_id - the id of the mailbox named by arg (canonical address in
   full); 0 or ADMIN_EX_* (printed) */
static int mailbox_id(struct admin *a, const char *what, const char *arg,
                      struct addr *ad, long long *id, struct db **dbp)
{
    struct db_param p;
    char v[32];
    int rc;

    if ((rc = admin_parse_address(what, arg, ad)))
        return rc;
    if (!(*dbp = admin_db(a)))
        return ADMIN_EX_TEMPFAIL;
    p = DBP_S(ad->full);
    rc = admin_value(*dbp, what, "SELECT id FROM mailboxes WHERE address = ?",
                     &p, 1, v, sizeof(v));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND) {
        *id = atoll(v);
        return ADMIN_EX_OK;
    }
    return rt_no_mailbox(*dbp, what, ad);
}

/* the value after an option: argv[*i + 1] */
static const char *opt_value(const char *what, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        admin_error(ADMIN_EX_USAGE, what, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* --- one statement in a transaction -------------------------------------- */

#define TX_STMTS_MAX (SIEVE_SETTINGS_FORWARDS_MAX + 4)
struct tx {
    const char *sql[TX_STMTS_MAX];
    struct db_param p[TX_STMTS_MAX][9];
    size_t np[TX_STMTS_MAX];
    size_t n;
    unsigned long long rows;
};

static void tx_add(struct tx *t, const char *sql, const struct db_param *p,
                   size_t np)
{
    t->sql[t->n] = sql;
    memcpy(t->p[t->n], p, np * sizeof(*p));
    t->np[t->n++] = np;
}

static int tx_body(struct admin *a, struct db *db, void *ctx, int *status,
                   struct str *err)
{
    struct tx *t = ctx;

    (void)a;
    *status = ADMIN_EX_OK;
    t->rows = 0;
    for (size_t i = 0; i < t->n; i++) {
        unsigned long long n = 0;
        if (db_exec(db, t->sql[i], t->p[i], t->np[i], &n, err) < 0)
            return -1;
        t->rows += n;
    }
    return 0;
}

static int tx_run(struct admin *a, const char *what, const char *action,
                  const char *key, struct tx *t)
{
    int rc = admin_transaction(a, tx_body, t);

    if (rc == ADMIN_EX_OK)
        admin_done(a, what, action, key, t->rows);
    return rc;
}

/* --- vacation -------------------------------------------------------------- */

#define VWHAT "vacation"
#define FWHAT "forward"
#define SWHAT "spam"

static int vac_set(struct admin *a, int argc, char **argv)
{
    const char *subject = NULL, *text = NULL, *file = NULL, *from = NULL,
               *until = NULL, *days = NULL, *addrs = NULL;
    char dfrom[20] = "", duntil[20] = "";
    struct str body = STR_INIT, alist = STR_INIT, err = STR_INIT;
    char *subj = NULL;
    long long id, ndays = 0;
    struct addr ad;
    struct db *db;
    struct tx t;
    int rc;

    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, VWHAT, "usage: postern vacation "
                           "set MAILBOX [--subject S] --text T|--text-file F "
                           "[--from DATE] [--until DATE] [--days N] "
                           "[--addresses A,B]");
    for (int i = 1; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--subject") ? &subject
                         : !strcmp(argv[i], "--text") ? &text
                         : !strcmp(argv[i], "--text-file") ? &file
                         : !strcmp(argv[i], "--from") ? &from
                         : !strcmp(argv[i], "--until") ? &until
                         : !strcmp(argv[i], "--days") ? &days
                         : !strcmp(argv[i], "--addresses") ? &addrs : NULL;
        if (dst == NULL)
            return admin_error(ADMIN_EX_USAGE, VWHAT, "unknown option %s",
                               argv[i]);
        if ((*dst = opt_value(VWHAT, argc, argv, &i)) == NULL)
            return ADMIN_EX_USAGE;
    }
    if ((text == NULL) == (file == NULL))
        return admin_error(ADMIN_EX_USAGE, VWHAT, "give the reply text with "
                           "--text or --text-file (one of them)");
    if (file) {
        if (file_read("--text-file", file, SIEVE_SETTINGS_TEXT_MAX, 0, &body,
                      &err) < 0) {
            rc = admin_error(ADMIN_EX_NOINPUT, VWHAT, "%s", str_cstr(&err));
            goto out;
        }
    } else
        str_append_cstr(&body, text);
    while (body.len && (body.data[body.len - 1] == '\n' ||
                        body.data[body.len - 1] == '\r'))
        body.data[--body.len] = '\0';
    if ((rc = check_text(VWHAT, "text", (char *)str_cstr(&body),
                         VAC_TEXT_MAX, 1)))
        goto out;
    body.len = strlen(str_cstr(&body));
    if (body.len == 0) {
        rc = admin_error(ADMIN_EX_DATAERR, VWHAT, "the reply text is empty");
        goto out;
    }
    if (subject && *subject) {
        subj = xstrdup(subject);
        if ((rc = check_text(VWHAT, "subject", subj, VAC_SUBJECT_MAX, 0)))
            goto out;
    }
    if ((from && parse_date(from, 0, dfrom) < 0) ||
        (until && parse_date(until, 1, duntil) < 0)) {
        rc = admin_error(ADMIN_EX_DATAERR, VWHAT, "%s: not a date "
                         "(YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], UTC)",
                         from && !dfrom[0] ? from : until);
        goto out;
    }
    if (dfrom[0] && duntil[0] && strcmp(dfrom, duntil) > 0) {
        rc = admin_error(ADMIN_EX_DATAERR, VWHAT, "--from %s is after "
                         "--until %s", dfrom, duntil);
        goto out;
    }
    if (days && (rc = admin_parse_int(VWHAT, "--days", days, 1, 365,
                                      &ndays)))
        goto out;
    if (addrs) {
        char *copy = xstrdup(addrs), *save = NULL;
        for (char *tok = strtok_r(copy, ", ", &save); tok;
             tok = strtok_r(NULL, ", ", &save)) {
            char one[ADDR_MAX + 1];
            if ((rc = check_target(VWHAT, tok, one, sizeof(one)))) {
                free(copy);
                goto out;
            }
            str_appendf(&alist, "%s%s", alist.len ? "," : "", one);
        }
        free(copy);
        if (alist.len > SIEVE_SETTINGS_ADDRS_MAX) {
            rc = admin_error(ADMIN_EX_DATAERR, VWHAT, "--addresses: longer "
                             "than %d characters", SIEVE_SETTINGS_ADDRS_MAX);
            goto out;
        }
    }
    if ((rc = mailbox_id(a, VWHAT, argv[0], &ad, &id, &db)))
        goto out;
    memset(&t, 0, sizeof(t));
    {
        struct db_param p[8] = {
            DBP_I(id),
            subj ? DBP_S(subj) : DBP_NUL,
            DBP_SN(str_cstr(&body), body.len),
            dfrom[0] ? DBP_S(dfrom) : DBP_NUL,
            duntil[0] ? DBP_S(duntil) : DBP_NUL,
            ndays ? DBP_I(ndays) : DBP_NUL,
            alist.len ? DBP_S(str_cstr(&alist)) : DBP_NUL};
        tx_add(&t, "INSERT INTO mailbox_settings (mailbox_id, "
               "vacation_active, vacation_subject, vacation_body, "
               "vacation_from, vacation_until, vacation_days, "
               "vacation_addresses) VALUES (?, 1, ?, ?, ?, ?, ?, ?) "
               "ON DUPLICATE KEY UPDATE vacation_active = 1, "
               "vacation_subject = VALUES(vacation_subject), "
               "vacation_body = VALUES(vacation_body), "
               "vacation_from = VALUES(vacation_from), "
               "vacation_until = VALUES(vacation_until), "
               "vacation_days = VALUES(vacation_days), "
               "vacation_addresses = VALUES(vacation_addresses)", p, 7);
        rc = tx_run(a, VWHAT, "set", ad.full, &t);
    }
out:
    free(subj);
    str_free(&body);
    str_free(&alist);
    str_free(&err);
    return rc;
}

static int vac_script(struct admin *a, int argc, char **argv)
{
    struct sieve_settings s;
    struct str err = STR_INIT, out = STR_INIT;
    struct addr ad;
    struct db *db;
    long long id;
    int rc;

    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, VWHAT,
                           "usage: postern vacation script MAILBOX");
    if ((rc = mailbox_id(a, VWHAT, argv[0], &ad, &id, &db)))
        return rc;
    sieve_settings_init(&s);
    rc = sieve_settings_load(db, ad.full, &s, &err);
    if (rc < 0)
        rc = admin_dbfail(VWHAT, &err);
    else {
        sieve_settings_script(&s, 10.0, &out);
        fputs(str_cstr(&out), stdout);
        rc = ADMIN_EX_OK;
    }
    sieve_settings_free(&s);
    str_free(&err);
    str_free(&out);
    return rc;
}

/* --- vacation import-postfixadmin ------------------------------------------- */

struct pfa_vac {
    char email[ADDR_MAX + 1];
    char *subject, *body;
    char from[20], until[20];
    int active;
    long long days;
    long long id;            /* the postern mailbox, 0 = unknown */
    const char *reason;      /* skipped: why */
};

struct pfa {
    struct pfa_vac *v;
    size_t n, cap;
    int too_many;
};

static int pfa_vac_row(void *ctx, unsigned nc, char **v,
                       const unsigned long *lens)
{
    struct pfa *im = ctx;
    struct pfa_vac *r;
    struct addr ad;
    const char *e;

    (void)lens;
    if (nc != 7)
        return 1;
    if (im->n == PFA_ROWS_MAX) {
        im->too_many = 1;
        return 1;
    }
    if (im->n == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 64;
        im->v = xrealloc(im->v, im->cap * sizeof(*im->v));
    }
    r = &im->v[im->n++];
    memset(r, 0, sizeof(*r));
    if (!v[0] || addr_parse(v[0], strlen(v[0]), "", ADDR_LOWER_LOCAL |
                            ADDR_NEED_DOMAIN, &ad, &e) < 0) {
        snprintf(r->email, sizeof(r->email), "%.100s", v[0] ? v[0] : "");
        r->reason = "not a mail address";
        return 0;
    }
    snprintf(r->email, sizeof(r->email), "%s", ad.full);
    r->subject = xstrdup(v[1] ? v[1] : "");
    r->body = xstrdup(v[2] ? v[2] : "");
    if (v[3] && parse_date(v[3], 0, r->from) < 0)
        r->from[0] = '\0';
    if (v[4] && parse_date(v[4], 1, r->until) < 0)
        r->until[0] = '\0';
    r->active = v[5] && atoi(v[5]) != 0;
    if (v[6]) {
        long long s = atoll(v[6]);
        r->days = s <= 0 ? 0 : (s + 86399) / 86400;
        if (r->days > 365)
            r->days = 365;
    }
    if (r->from[0] && r->until[0] && strcmp(r->from, r->until) > 0)
        r->reason = "activefrom is after activeuntil";
    else if (check_text(VWHAT, r->email, r->body, VAC_TEXT_MAX, 1))
        r->reason = "body not usable (see above)";
    else if (check_text(VWHAT, r->email, r->subject, VAC_SUBJECT_MAX, 0))
        r->reason = "subject not usable (see above)";
    else if (r->active && r->body[0] == '\0')
        r->reason = "active with an empty body";
    return 0;
}

static int pfa_body(struct admin *a, struct db *db, void *ctx, int *status,
                    struct str *err)
{
    struct pfa *im = ctx;

    (void)a;
    *status = ADMIN_EX_OK;
    for (size_t i = 0; i < im->n; i++) {
        struct pfa_vac *r = &im->v[i];
        if (r->reason || r->id == 0)
            continue;
        struct db_param p[7] = {
            DBP_I(r->id), DBP_I(r->active),
            r->subject[0] ? DBP_S(r->subject) : DBP_NUL,
            r->body[0] ? DBP_S(r->body) : DBP_NUL,
            r->from[0] ? DBP_S(r->from) : DBP_NUL,
            r->until[0] ? DBP_S(r->until) : DBP_NUL,
            r->days ? DBP_I(r->days) : DBP_NUL};
        if (db_exec(db, "INSERT INTO mailbox_settings (mailbox_id, "
                    "vacation_active, vacation_subject, vacation_body, "
                    "vacation_from, vacation_until, vacation_days) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
                    "vacation_active = VALUES(vacation_active), "
                    "vacation_subject = VALUES(vacation_subject), "
                    "vacation_body = VALUES(vacation_body), "
                    "vacation_from = VALUES(vacation_from), "
                    "vacation_until = VALUES(vacation_until), "
                    "vacation_days = VALUES(vacation_days)", p, 7, NULL,
                    err) < 0)
            return -1;
    }
    return 0;
}

static int id_row(void *ctx, unsigned nc, char **v, const unsigned long *l)
{
    (void)l;
    if (nc == 1 && v[0])
        *(long long *)ctx = atoll(v[0]);
    return 1;
}

static const char pfa_cols[] =
    "SELECT email, subject, body, DATE_FORMAT(activefrom, '%Y-%m-%d "
    "%H:%i:%s'), DATE_FORMAT(activeuntil, '%Y-%m-%d %H:%i:%s'), active, "
    "interval_time FROM ";

static int pfa_read(struct admin *a, struct pfa *im, int argc, char **argv)
{
    static const char *const keys[] = {"schema", "host", "db", "user",
                                       "password_file", NULL};
    struct admin_kv kv;
    struct db_config src;
    struct str err = STR_INIT, sql = STR_INIT;
    struct db *db = NULL, *own = NULL;
    const char *schema;
    int rc;

    if ((rc = admin_kv_parse(&kv, argc, argv, keys, VWHAT)))
        return rc;
    if ((schema = admin_kv_get(&kv, "schema")) != NULL) {
        size_t n = strspn(schema, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                          "NOPQRSTUVWXYZ0123456789_$");
        if (n == 0 || schema[n] || n > SCHEMA_NAME_MAX ||
            admin_kv_get(&kv, "host"))
            return admin_error(ADMIN_EX_USAGE, VWHAT, "schema=NAME: letters, "
                               "digits, _ and $ only; not with host=");
        /* an identifier cannot be a parameter: checked above */
        str_appendf(&sql, "%s`%s`.vacation ORDER BY email", pfa_cols,
                    schema);
        if (!(db = admin_db(a)))
            return ADMIN_EX_TEMPFAIL;
    } else {
        for (int i = 1; keys[i]; i++)
            if (!admin_kv_get(&kv, keys[i]) || !*admin_kv_get(&kv, keys[i]))
                return admin_error(ADMIN_EX_USAGE, VWHAT, "import-postfixadmin"
                                   " needs schema=NAME, or host=, db=, user= "
                                   "and password_file=");
        memset(&src, 0, sizeof(src));
        src.hosts = (char *)admin_kv_get(&kv, "host");
        src.name = (char *)admin_kv_get(&kv, "db");
        src.user = (char *)admin_kv_get(&kv, "user");
        src.password_file = (char *)admin_kv_get(&kv, "password_file");
        src.connect_timeout = 5000;
        src.query_timeout = 60000;
        if (!(db = own = db_open(&src, &err))) {
            rc = admin_error(ADMIN_EX_USAGE, VWHAT, "PostfixAdmin database: "
                             "%s", str_cstr(&err));
            goto out;
        }
        str_appendf(&sql, "%svacation ORDER BY email", pfa_cols);
    }
    /* TIMESTAMP columns (activefrom/activeuntil of PostfixAdmin 3) read
       as UTC instants; DATE columns are days, unchanged */
    if (db_exec(db, "SET time_zone = '+00:00'", NULL, 0, NULL, &err) < 0 ||
        db_query(db, str_cstr(&sql), NULL, 0, pfa_vac_row, im, &err) < 0) {
        rc = admin_error(ADMIN_EX_TEMPFAIL, VWHAT, "PostfixAdmin vacation "
                         "table: %s", str_cstr(&err));
        goto out;
    }
    if (im->too_many)
        rc = admin_error(ADMIN_EX_DATAERR, VWHAT, "more than %d rows",
                         PFA_ROWS_MAX);
out:
    if (own)
        db_close(own);
    str_free(&err);
    str_free(&sql);
    return rc;
}

static int vac_import(struct admin *a, int argc, char **argv)
{
    struct pfa im = {0};
    struct str err = STR_INIT;
    size_t done = 0, unknown = 0, skipped = 0;
    struct db *db;
    int rc;

    if ((rc = pfa_read(a, &im, argc, argv)))
        goto out;
    if (!(db = admin_db(a))) {
        rc = ADMIN_EX_TEMPFAIL;
        goto out;
    }
    for (size_t i = 0; i < im.n; i++) {
        struct pfa_vac *r = &im.v[i];
        struct db_param p = DBP_S(r->email);
        if (r->reason) {
            fprintf(stderr, "postern: vacation: %s: skipped: %s\n", r->email,
                    r->reason);
            skipped++;
            continue;
        }
        if (db_query(db, "SELECT id FROM mailboxes WHERE address = ?", &p, 1,
                     id_row, &r->id, &err) < 0) {
            rc = admin_dbfail(VWHAT, &err);
            goto out;
        }
        if (r->id == 0) {
            fprintf(stderr, "postern: vacation: %s: no such mailbox in "
                    "postern (not imported)\n", r->email);
            unknown++;
        } else
            done++;
    }
    if ((rc = admin_transaction(a, pfa_body, &im)) != ADMIN_EX_OK)
        goto out;
    if (a->json)
        printf("{\"imported\":%zu,\"unknown\":%zu,\"skipped\":%zu,"
               "\"dry_run\":%d}\n", done, unknown, skipped, a->dry_run);
    else
        printf("imported\t%zu\nunknown\t%zu\nskipped\t%zu\n", done, unknown,
               skipped);
    rc = skipped ? ADMIN_EX_DATAERR : ADMIN_EX_OK;
out:
    for (size_t i = 0; i < im.n; i++) {
        free(im.v[i].subject);
        free(im.v[i].body);
    }
    free(im.v);
    str_free(&err);
    return rc;
}

/* --- off and show: the same for each setting ----------------------------- */

struct setting_kind {
    const char *what;           /* "vacation", "forward", "spam" */
    const char *off_sql;        /* one statement, ? = the mailbox id */
    const char *const *cols;    /* show: column names, NULL-terminated */
    const char *show_sql;       /* ? = the mailbox id */
};

static const char *const vac_cols[] = {
    "mailbox", "active", "in_window_now", "subject", "from_utc",
    "until_utc", "days", "addresses", "text", "updated_at", NULL};
static const char *const fwd_cols[] = {"mailbox", "targets", "keep_copy",
                                        NULL};
static const char *const spam_cols[] = {"mailbox", "threshold", "folder",
                                         NULL};

static const struct setting_kind kind_vacation = {
    VWHAT,
    "UPDATE mailbox_settings SET vacation_active = 0 "
    "WHERE mailbox_id = ?",
    vac_cols,
    "SELECT m.address, IFNULL(s.vacation_active, 0), "
    "IF(s.vacation_active = 1 AND (s.vacation_from IS NULL "
    "OR s.vacation_from <= UTC_TIMESTAMP()) AND "
    "(s.vacation_until IS NULL OR s.vacation_until >= "
    "UTC_TIMESTAMP()), 1, 0), s.vacation_subject, "
    "s.vacation_from, s.vacation_until, s.vacation_days, "
    "s.vacation_addresses, s.vacation_body, s.updated_at "
    "FROM mailboxes m LEFT JOIN mailbox_settings s ON "
    "s.mailbox_id = m.id WHERE m.id = ?"};
static const struct setting_kind kind_forward = {
    FWHAT,
    "DELETE FROM mailbox_forwards WHERE mailbox_id = ?",
    fwd_cols,
    "SELECT m.address, (SELECT GROUP_CONCAT(f.target ORDER BY "
    "f.target SEPARATOR ', ') FROM mailbox_forwards f WHERE "
    "f.mailbox_id = m.id), IFNULL(s.forward_keep, 1) "
    "FROM mailboxes m LEFT JOIN mailbox_settings s ON "
    "s.mailbox_id = m.id WHERE m.id = ?"};
static const struct setting_kind kind_spam = {
    SWHAT,
    "UPDATE mailbox_settings SET spam_threshold = NULL "
    "WHERE mailbox_id = ?",
    spam_cols,
    "SELECT m.address, s.spam_threshold, "
    "IF(s.spam_threshold IS NULL, NULL, s.spam_folder) "
    "FROM mailboxes m LEFT JOIN mailbox_settings s ON "
    "s.mailbox_id = m.id WHERE m.id = ?"};

/* setting_off - "postern WHAT off MAILBOX" */
static int setting_off(struct admin *a, const struct setting_kind *k,
                       int argc, char **argv)
{
    struct addr ad;
    struct db *db;
    long long id;
    struct tx t;
    int rc;

    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, k->what,
                           "usage: postern %s off MAILBOX", k->what);
    if ((rc = mailbox_id(a, k->what, argv[0], &ad, &id, &db)))
        return rc;
    memset(&t, 0, sizeof(t));
    struct db_param p[1] = {DBP_I(id)};
    tx_add(&t, k->off_sql, p, 1);
    return tx_run(a, k->what, "off", ad.full, &t);
}

/* setting_show - "postern WHAT show MAILBOX" */
static int setting_show(struct admin *a, const struct setting_kind *k,
                        int argc, char **argv)
{
    struct addr ad;
    struct db *db;
    long long id;
    int rc;

    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, k->what,
                           "usage: postern %s show MAILBOX", k->what);
    if ((rc = mailbox_id(a, k->what, argv[0], &ad, &id, &db)))
        return rc;
    struct db_param p[1] = {DBP_I(id)};
    rc = admin_show(a, k->what, k->cols, k->show_sql, p, 1);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

static int vac_off(struct admin *a, int argc, char **argv)
{
    return setting_off(a, &kind_vacation, argc, argv);
}

static int vac_show(struct admin *a, int argc, char **argv)
{
    return setting_show(a, &kind_vacation, argc, argv);
}

static int fwd_off(struct admin *a, int argc, char **argv)
{
    return setting_off(a, &kind_forward, argc, argv);
}

static int fwd_show(struct admin *a, int argc, char **argv)
{
    return setting_show(a, &kind_forward, argc, argv);
}

static int spam_off(struct admin *a, int argc, char **argv)
{
    return setting_off(a, &kind_spam, argc, argv);
}

static int spam_show(struct admin *a, int argc, char **argv)
{
    return setting_show(a, &kind_spam, argc, argv);
}

const struct admin_verb vacation_verbs[] = {
    {"set", vac_set},       {"off", vac_off},
    {"show", vac_show},     {"script", vac_script},
    {"import-postfixadmin", vac_import},
    {NULL, NULL}};

/* --- forward ---------------------------------------------------------------- */


static int fwd_set(struct admin *a, int argc, char **argv)
{
    char targets[SIEVE_SETTINGS_FORWARDS_MAX][ADDR_MAX + 1];
    size_t nt = 0;
    int keep = 0, rc;
    struct addr ad;
    struct db *db;
    long long id;
    struct tx t;

    if (argc < 2)
        return admin_error(ADMIN_EX_USAGE, FWHAT, "usage: postern forward set "
                           "MAILBOX TARGET... [--keep]");
    keep = a->flag; /* --keep, taken out by admin_dispatch */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            return admin_error(ADMIN_EX_USAGE, FWHAT, "unknown option %s",
                               argv[i]);
        if (nt == SIEVE_SETTINGS_FORWARDS_MAX)
            return admin_error(ADMIN_EX_DATAERR, FWHAT, "more than %d "
                               "targets", SIEVE_SETTINGS_FORWARDS_MAX);
        if ((rc = check_target(FWHAT, argv[i], targets[nt],
                               sizeof(targets[nt]))))
            return rc;
        for (size_t k = 0; k < nt; k++)
            if (!strcmp(targets[k], targets[nt]))
                return admin_error(ADMIN_EX_DATAERR, FWHAT, "%s given twice",
                                   targets[nt]);
        nt++;
    }
    if (nt == 0)
        return admin_error(ADMIN_EX_USAGE, FWHAT, "name at least one target "
                           "(postern forward off MAILBOX removes them)");
    if ((rc = mailbox_id(a, FWHAT, argv[0], &ad, &id, &db)))
        return rc;
    for (size_t k = 0; k < nt; k++)
        if (!strcmp(targets[k], ad.full))
            return admin_error(ADMIN_EX_DATAERR, FWHAT, "%s: the mailbox "
                               "itself (use --keep for a copy)", targets[k]);
    memset(&t, 0, sizeof(t));
    struct db_param pid[1] = {DBP_I(id)};
    struct db_param pk[2] = {DBP_I(id), DBP_I(keep)};
    tx_add(&t, "DELETE FROM mailbox_forwards WHERE mailbox_id = ?", pid, 1);
    tx_add(&t, "INSERT INTO mailbox_settings (mailbox_id, forward_keep) "
           "VALUES (?, ?) ON DUPLICATE KEY UPDATE forward_keep = "
           "VALUES(forward_keep)", pk, 2);
    for (size_t k = 0; k < nt; k++) {
        struct db_param p[2] = {DBP_I(id), DBP_S(targets[k])};
        tx_add(&t, "INSERT INTO mailbox_forwards (mailbox_id, target) "
               "VALUES (?, ?)", p, 2);
    }
    return tx_run(a, FWHAT, "set", ad.full, &t);
}

const struct admin_verb forward_verbs[] = {
    {"set", fwd_set}, {"off", fwd_off}, {"show", fwd_show}, {NULL, NULL}};

/* --- spam ------------------------------------------------------------------- */


/* a decimal score -1000..1000 with at most 2 decimals, into out */
static int parse_score(const char *in, char *out, size_t size)
{
    char *end;
    const char *dot = strchr(in, '.');
    double v;

    errno = 0;
    v = strtod(in, &end);
    if (!*in || *end || errno || v < -1000 || v > 1000 ||
        (dot && strlen(dot + 1) > 2) || strpbrk(in, "eExXnN"))
        return -1;
    snprintf(out, size, "%.2f", v);
    return 0;
}

static int spam_set(struct admin *a, int argc, char **argv)
{
    const char *thr = NULL, *folder = NULL;
    char score[32], *f = NULL;
    struct addr ad;
    struct db *db;
    long long id;
    struct tx t;
    int rc;

    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, SWHAT, "usage: postern spam set "
                           "MAILBOX --threshold N [--folder F]");
    for (int i = 1; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--threshold") ? &thr
                         : !strcmp(argv[i], "--folder") ? &folder : NULL;
        if (dst == NULL)
            return admin_error(ADMIN_EX_USAGE, SWHAT, "unknown option %s",
                               argv[i]);
        if ((*dst = opt_value(SWHAT, argc, argv, &i)) == NULL)
            return ADMIN_EX_USAGE;
    }
    if (thr == NULL)
        return admin_error(ADMIN_EX_USAGE, SWHAT, "--threshold N is needed");
    if (parse_score(thr, score, sizeof(score)) < 0)
        return admin_error(ADMIN_EX_DATAERR, SWHAT, "--threshold %s: a "
                           "number from -1000 to 1000 (two decimals at "
                           "most), the scanner's score", thr);
    f = xstrdup(folder ? folder : "Junk");
    if ((rc = check_text(SWHAT, "--folder", f, SPAM_FOLDER_MAX, 0)))
        goto out;
    if (!f[0] || !strcasecmp(f, "INBOX")) {
        rc = admin_error(ADMIN_EX_DATAERR, SWHAT, "--folder: name a folder "
                         "other than INBOX");
        goto out;
    }
    if ((rc = mailbox_id(a, SWHAT, argv[0], &ad, &id, &db)))
        goto out;
    memset(&t, 0, sizeof(t));
    {
        struct db_param p[3] = {DBP_I(id), DBP_S(score), DBP_S(f)};
        tx_add(&t, "INSERT INTO mailbox_settings (mailbox_id, "
               "spam_threshold, spam_folder) VALUES (?, ?, ?) ON DUPLICATE "
               "KEY UPDATE spam_threshold = VALUES(spam_threshold), "
               "spam_folder = VALUES(spam_folder)", p, 3);
        rc = tx_run(a, SWHAT, "set", ad.full, &t);
    }
out:
    free(f);
    return rc;
}

const struct admin_verb spam_verbs[] = {
    {"set", spam_set}, {"off", spam_off}, {"show", spam_show}, {NULL, NULL}};
