/*
 * import.c - postern import: mailboxes and aliases in bulk, from a CSV
 * file or from a PostfixAdmin database (the common migration).
 *
 *   postern import csv FILE kind=mailboxes|aliases
 *   postern import postfixadmin host=HOST[:PORT] db=NAME user=USER
 *                  password_file=FILE
 *
 * CSV: the first line names the columns (RFC 4180 quoting, ',' between
 * fields; empty lines and lines starting with '#' are skipped).
 *   kind=mailboxes: address (required), display_name, password_hash,
 *                   quota (2G, 500M, bytes; 0 = unlimited; empty = the
 *                   domain's default), active (1/0, yes/no)
 *   kind=aliases:   address (required; @domain = catch-all), goto
 *                   (required; several targets separated by ','),
 *                   keep_copy, active, comment
 * PostfixAdmin: its tables domain, alias_domain, mailbox and alias, read
 * in one read-only transaction (a consistent snapshot).  Domains become
 * local domains (the pseudo-domain ALL is left out; backup MX domains are
 * skipped: add them as relay domains by hand), alias domains alias
 * domains, mailboxes mailboxes (quota in bytes, 0 = unlimited; name as
 * display_name), each alias row one aliases row per goto target.  A
 * mailbox's own address in its goto means "forward with a copy"
 * (keep_copy = 1 on the other targets); an alias row whose goto is only
 * its own address (PostfixAdmin writes one per mailbox) and vacation
 * targets (user#domain@autoreply...; postern uses Sieve vacation) are
 * ignored.  Inactive rows stay inactive.  The Maildirs are not moved.
 *
 * Password hashes are carried over in the form mailboxes.password_hash,
 * postern-managesieve and Dovecot read: {SHA512-CRYPT}, {SHA256-CRYPT},
 * {MD5-CRYPT}, {BLF-CRYPT} and {CRYPT} crypt(3) hashes as they are; bare
 * $6$, $5$, $1$ and $2y$/$2a$/$2b$ hashes get their scheme prefix.  Any
 * other scheme (plain text, {PLAIN-MD5}, {SSHA}, DES crypt) skips the
 * mailbox with the reason: set a new password with postern mailbox set.
 *
 * Every row is validated as the daemons parse addresses (admin_parse_*);
 * a bad row is reported and skipped and never stops the batch: all rows go
 * in one transaction with a savepoint per row, so a row the server
 * refuses (a CHECK, a trigger) is undone alone.  A row whose key exists
 * already (domain, mailbox address, alias source and target) is counted
 * as already present and never changed: an import can be run again.
 * --dry-run does everything and rolls back.  The report at the end:
 * imported, already present, ignored and skipped rows, each skipped row
 * with its reason (stderr), or one JSON object with --json.
 *
 * Limits: IMPORT_FILE_MAX octets of CSV, IMPORT_COLS_MAX columns.
 * Exit: 0; 65 when any row was skipped; 64 usage (unknown column, no
 * address column); 66 file not readable; 75 database (nothing changed).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "file.h"
#include "lookup.h"
#include "mem.h"
#include "util.h"

#define WHAT "import"
#define IMPORT_FILE_MAX (64u * 1024 * 1024)
#define IMPORT_COLS_MAX 16

enum imp_kind { IK_DOMAIN, IK_ALIASDOM, IK_MAILBOX, IK_ALIAS };
enum imp_result { IR_NONE, IR_IMPORTED, IR_PRESENT, IR_SKIPPED };

/* one row to write (an alias with several targets is several items) */
struct imp_item {
    enum imp_kind kind;
    char *where;   /* "line 4", "mailbox anna@example.org" */
    char *key;     /* domain, address, "source -> target" */
    char *reason;  /* set: refused before SQL (or by the server) */
    /* values; NULL = SQL NULL */
    char *domain, *local, *target, *name, *hash, *quota, *comment;
    int active, keep_copy;
    enum imp_result result;
};

struct imp {
    struct admin *a;
    struct imp_item *v;
    size_t n, cap;
    unsigned ignored; /* rows with nothing to import (see above) */
    unsigned imported, present, skipped; /* of the last run of the body */
};

static struct imp_item *imp_add(struct imp *im, enum imp_kind kind,
                                const char *where)
{
    struct imp_item *it;
    if (im->n == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 64;
        im->v = xreallocarray(im->v, im->cap, sizeof(*im->v));
    }
    it = &im->v[im->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->where = xstrdup(where);
    it->active = 1;
    return it;
}

static void imp_free(struct imp *im)
{
    for (size_t i = 0; i < im->n; i++) {
        struct imp_item *it = &im->v[i];
        free(it->where); free(it->key); free(it->reason); free(it->domain);
        free(it->local); free(it->target); free(it->name); free(it->hash);
        free(it->quota); free(it->comment);
    }
    free(im->v);
}

static char *xdup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static void imp_refuse(struct imp_item *it, const char *reason)
{
    if (!it->reason)
        it->reason = xstrdup(reason);
}

/* --- values ---------------------------------------------------------- */

/*
 * imp_hash - a password hash in the form mailboxes.password_hash and
 * managesieve/auth.c accept, written into out; NULL (empty in), or a
 * reason.
 */
static const char *imp_hash(const char *in, struct str *out)
{
    static const char *const schemes[] = {
        "{SHA512-CRYPT}", "{SHA256-CRYPT}", "{BLF-CRYPT}", "{MD5-CRYPT}",
        "{CRYPT}", NULL};
    static const struct {
        const char *prefix, *scheme;
    } bare[] = {{"$6$", "{SHA512-CRYPT}"}, {"$5$", "{SHA256-CRYPT}"},
                {"$1$", "{MD5-CRYPT}"},    {"$2y$", "{BLF-CRYPT}"},
                {"$2a$", "{BLF-CRYPT}"},   {"$2b$", "{BLF-CRYPT}"}};
    const char *h = in;
    str_reset(out);
    if (!*in)
        return NULL;
    if (strlen(in) > 255 || strpbrk(in, " \t\r\n"))
        return "password hash: longer than 255 octets or with blanks";
    if (*h == '{') {
        size_t i;
        for (i = 0; schemes[i]; i++)
            if (!strncasecmp(h, schemes[i], strlen(schemes[i])))
                break;
        if (!schemes[i])
            return "password hash: scheme not supported by postern (only "
                   "crypt(3): SHA512-CRYPT, SHA256-CRYPT, MD5-CRYPT, "
                   "BLF-CRYPT); set a new password with postern mailbox set";
        h += strlen(schemes[i]);
        if (*h != '$')
            return "password hash: DES crypt is not accepted; set a new "
                   "password with postern mailbox set";
        str_append_cstr(out, schemes[i]);
        str_append_cstr(out, h);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++)
        if (!strncmp(h, bare[i].prefix, strlen(bare[i].prefix))) {
            str_append_cstr(out, bare[i].scheme);
            str_append_cstr(out, h);
            return NULL;
        }
    return "password: not a crypt(3) hash (plain text or an unknown "
           "scheme); set a new password with postern mailbox set";
}

/* a mailbox item from its values (CSV or PostfixAdmin) */
static void imp_mailbox(struct imp *im, const char *where, const char *addr,
                        const char *name, const char *hash, const char *quota,
                        int active)
{
    struct imp_item *it = imp_add(im, IK_MAILBOX, where);
    struct str why = {0}, h = {0};
    struct addr ad;
    const char *r;
    it->key = xstrdup(addr);
    it->active = active;
    if (admin_address_check(addr, &ad, &why)) {
        imp_refuse(it, str_cstr(&why));
    } else {
        free(it->key);
        it->key = xstrdup(ad.full);
        it->local = xstrdup(ad.local);
        it->domain = xstrdup(ad.domain);
    }
    it->name = xdup_or_null(name);
    if (name && strlen(name) > 200)
        imp_refuse(it, "display_name: longer than 200 characters");
    if ((r = imp_hash(hash ? hash : "", &h)))
        imp_refuse(it, r);
    else if (h.len)
        it->hash = xstrdup(str_cstr(&h));
    if (quota && *quota) {
        unsigned long long q;
        if (admin_parse_size(quota, &q) < 0)
            imp_refuse(it, "quota: not a size (2G, 500M, bytes; 0 = "
                           "unlimited)");
        else {
            char b[32];
            snprintf(b, sizeof(b), "%llu", q);
            it->quota = xstrdup(b);
        }
    }
    str_free(&why);
    str_free(&h);
}

/* t without leading and trailing blanks (in place) */
static char *imp_trim(char *t)
{
    size_t n;
    t += strspn(t, " \t\r\n");
    n = strlen(t);
    while (n && strchr(" \t\r\n", t[n - 1]))
        t[--n] = 0;
    return t;
}

/*
 * imp_alias - one item per target of goto (comma-separated); the source
 * itself among the targets means keep_copy; vacation targets are ignored.
 */
static void imp_alias(struct imp *im, const char *where, const char *source,
                      const char *goto_list, int keep_copy, int active,
                      const char *comment)
{
    struct str why = {0};
    char domain[ADDR_DOMAIN_MAX + 1] = "", src[ADDR_MAX + 1] = "";
    char local[ADDR_LOCAL_MAX + 1] = "";
    const char *bad = NULL;
    char *list = xstrdup(goto_list), *save = NULL, *t;
    unsigned targets = 0, self = 0;

    if (source[0] == '@') { /* catch-all */
        if (admin_domain_check(source + 1, domain, &why) == 0)
            snprintf(src, sizeof(src), "@%s", domain);
    } else {
        struct addr ad;
        if (admin_address_check(source, &ad, &why) == 0) {
            snprintf(src, sizeof(src), "%s", ad.full);
            snprintf(domain, sizeof(domain), "%s", ad.domain);
            snprintf(local, sizeof(local), "%s", ad.local);
        }
    }
    if (why.len)
        bad = str_cstr(&why);
    /* first pass: is the source among its own targets? */
    for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        t = imp_trim(t);
        if (*t && src[0] && !strcasecmp(t, src))
            self = 1;
    }
    free(list);
    list = xstrdup(goto_list);
    save = NULL;
    for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct imp_item *it;
        struct str twhy = {0};
        struct addr ta;
        char *at;
        t = imp_trim(t);
        if (!*t || (src[0] && !strcasecmp(t, src)))
            continue;
        at = strchr(t, '@');
        if (at && memchr(t, '#', (size_t)(at - t))) {
            im->ignored++; /* PostfixAdmin vacation: user#domain@autoreply */
            continue;
        }
        targets++;
        it = imp_add(im, IK_ALIAS, where);
        it->active = active;
        it->keep_copy = keep_copy || self;
        it->comment = xdup_or_null(comment);
        if (bad) {
            it->key = xstrdup(source);
            imp_refuse(it, bad);
            continue;
        }
        it->domain = xstrdup(domain);
        it->local = local[0] ? xstrdup(local) : NULL;
        if (admin_address_check(t, &ta, &twhy)) {
            it->key = xstrdup(src);
            imp_refuse(it, str_cstr(&twhy));
        } else {
            struct str k = {0};
            str_appendf(&k, "%s -> %s", src, ta.full);
            it->key = xstrdup(str_cstr(&k));
            it->target = xstrdup(ta.full);
            str_free(&k);
            if (!strcmp(ta.full, src))
                imp_refuse(it, "the alias points at itself");
            else if (!local[0] && it->keep_copy)
                imp_refuse(it, "a catch-all cannot keep a copy");
        }
        str_free(&twhy);
    }
    if (targets == 0) {
        if (self) {
            im->ignored++; /* the mailbox's own alias: nothing to do */
        } else {
            struct imp_item *it = imp_add(im, IK_ALIAS, where);
            it->key = xstrdup(source);
            imp_refuse(it, bad ? bad : "no target (goto is empty)");
        }
    }
    free(list);
    str_free(&why);
}

/* --- CSV ------------------------------------------------------------- */

struct csv {
    const char *p, *end;
    unsigned line;
};

/*
 * csv_record - the next record's fields (RFC 4180: "..." with "" inside
 * quotes; a quoted field may span lines); 1, 0 at the end, -1 on a bad
 * quote.  Empty lines and lines starting with '#' are skipped.
 */
static int csv_record(struct csv *c, struct str *fields, unsigned *nf,
                      unsigned *line)
{
    while (c->p < c->end && (*c->p == '\n' || *c->p == '\r' || *c->p == '#')) {
        if (*c->p == '#')
            while (c->p < c->end && *c->p != '\n')
                c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->line++;
        c->p++;
    }
    if (c->p >= c->end)
        return 0;
    *line = c->line;
    *nf = 0;
    for (;;) {
        struct str *f = &fields[*nf < IMPORT_COLS_MAX ? *nf : IMPORT_COLS_MAX];
        str_reset(f);
        if (c->p < c->end && *c->p == '"') {
            c->p++;
            for (;;) {
                if (c->p >= c->end)
                    return -1;
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        str_append_char(f, '"');
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n')
                    c->line++;
                str_append_char(f, *c->p++);
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
                *c->p != '\r')
                return -1;
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
                   *c->p != '\r')
                str_append_char(f, *c->p++);
        }
        (*nf)++;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        while (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n') {
            c->p++;
            c->line++;
        }
        return 1;
    }
}

static int csv_col(const char *const *cols, const char *name)
{
    for (int i = 0; cols[i]; i++)
        if (!strcmp(cols[i], name))
            return i;
    return -1;
}

static int import_csv(struct imp *im, const char *path, const char *kind)
{
    static const char *const mb_cols[] = {"address", "display_name",
                                          "password_hash", "quota", "active",
                                          NULL};
    static const char *const al_cols[] = {"address", "goto", "keep_copy",
                                          "active", "comment", NULL};
    const char *const *cols;
    struct str data = {0}, err = {0};
    struct str fields[IMPORT_COLS_MAX + 1] = {{0}};
    int map[IMPORT_COLS_MAX]; /* header position -> column index */
    unsigned nf, nhead, line;
    struct csv c;
    int rc = ADMIN_EX_OK, r, mailboxes = !strcmp(kind, "mailboxes");

    if (!mailboxes && strcmp(kind, "aliases"))
        return admin_error(ADMIN_EX_USAGE, WHAT,
                           "kind=%s: give kind=mailboxes or kind=aliases",
                           kind);
    cols = mailboxes ? mb_cols : al_cols;
    if (file_read("CSV file", path, IMPORT_FILE_MAX, 0, &data, &err) < 0) {
        rc = admin_error(ADMIN_EX_NOINPUT, WHAT, "%s", str_cstr(&err));
        goto out;
    }
    c = (struct csv){data.data, data.data + data.len, 1};
    r = csv_record(&c, fields, &nhead, &line);
    if (r <= 0 || nhead > IMPORT_COLS_MAX) {
        rc = admin_error(ADMIN_EX_USAGE, WHAT, "%s: no header line naming "
                         "the columns (%s...)", path, cols[0]);
        goto out;
    }
    for (unsigned i = 0; i < nhead; i++) {
        const char *h = str_cstr(&fields[i]);
        map[i] = csv_col(cols, h);
        if (map[i] < 0) {
            const char *best = NULL;
            for (int k = 0; cols[k]; k++)
                if (admin_edit_distance(h, cols[k]) <= ADMIN_SUGGEST_DISTANCE)
                    best = cols[k];
            rc = best ? admin_error(ADMIN_EX_USAGE, WHAT,
                                    "%s: unknown column '%s' (did you mean "
                                    "'%s'?)", path, h, best)
                      : admin_error(ADMIN_EX_USAGE, WHAT,
                                    "%s: unknown column '%s' for kind=%s",
                                    path, h, kind);
            goto out;
        }
    }
    {
        int have_addr = 0, have_goto = mailboxes;
        for (unsigned i = 0; i < nhead; i++) {
            have_addr |= map[i] == 0;
            have_goto |= map[i] == 1;
        }
        if (!have_addr || !have_goto) {
            rc = admin_error(ADMIN_EX_USAGE, WHAT, "%s: the header needs the "
                             "column%s", path, mailboxes ? " address"
                                                         : "s address, goto");
            goto out;
        }
    }
    while ((r = csv_record(&c, fields, &nf, &line)) != 0) {
        const char *v[IMPORT_COLS_MAX] = {0};
        char where[32];
        int active = 1, keep = 0;
        snprintf(where, sizeof(where), "line %u", line);
        if (r < 0 || nf != nhead) {
            struct imp_item *it = imp_add(im, mailboxes ? IK_MAILBOX : IK_ALIAS,
                                          where);
            it->key = xstrdup("-");
            imp_refuse(it, r < 0 ? "a quoted field is not closed"
                                 : "not as many fields as the header names");
            if (r < 0)
                break;
            continue;
        }
        for (unsigned i = 0; i < nf; i++)
            v[map[i]] = str_cstr(&fields[i]);
        if (v[mailboxes ? 4 : 3] && *v[mailboxes ? 4 : 3])
            active = admin_parse_bool(v[mailboxes ? 4 : 3]);
        if (!mailboxes && v[2] && *v[2])
            keep = admin_parse_bool(v[2]);
        if (mailboxes)
            imp_mailbox(im, where, v[0], v[1], v[2], v[3], active < 0 ? 1 : active);
        else
            imp_alias(im, where, v[0], v[1], keep < 0 ? 0 : keep,
                      active < 0 ? 1 : active, v[4]);
        if (active < 0 || keep < 0)
            imp_refuse(&im->v[im->n - 1], "active/keep_copy: give 1 or 0");
    }
out:
    for (unsigned i = 0; i <= IMPORT_COLS_MAX; i++)
        str_free(&fields[i]);
    str_free(&data);
    str_free(&err);
    return rc;
}

/* --- PostfixAdmin ----------------------------------------------------- */

static int pfa_domain_row(void *ctx, unsigned n, char **v,
                          const unsigned long *l)
{
    struct imp *im = ctx;
    struct imp_item *it;
    struct str why = {0}, where = {0};
    char d[ADDR_DOMAIN_MAX + 1];
    (void)n;
    (void)l;
    str_appendf(&where, "domain %s", v[0] ? v[0] : "");
    it = imp_add(im, IK_DOMAIN, str_cstr(&where));
    it->key = xstrdup(v[0] ? v[0] : "");
    it->active = v[3] && !strcmp(v[3], "1");
    it->comment = xdup_or_null(v[1]);
    if (admin_domain_check(it->key, d, &why))
        imp_refuse(it, str_cstr(&why));
    else
        it->domain = xstrdup(d);
    if (v[2] && !strcmp(v[2], "1"))
        imp_refuse(it, "a backup MX domain: add it as a relay domain by "
                       "hand (postern domain add NAME kind=relay ...)");
    str_free(&why);
    str_free(&where);
    return 0;
}

static int pfa_aliasdom_row(void *ctx, unsigned n, char **v,
                            const unsigned long *l)
{
    struct imp *im = ctx;
    struct imp_item *it;
    struct str why = {0}, where = {0};
    char d[ADDR_DOMAIN_MAX + 1], t[ADDR_DOMAIN_MAX + 1];
    (void)n;
    (void)l;
    str_appendf(&where, "alias_domain %s", v[0] ? v[0] : "");
    it = imp_add(im, IK_ALIASDOM, str_cstr(&where));
    it->key = xstrdup(v[0] ? v[0] : "");
    it->active = v[2] && !strcmp(v[2], "1");
    if (admin_domain_check(it->key, d, &why) ||
        admin_domain_check(v[1] ? v[1] : "", t, &why)) {
        imp_refuse(it, str_cstr(&why));
    } else {
        it->domain = xstrdup(d);
        it->target = xstrdup(t);
    }
    str_free(&why);
    str_free(&where);
    return 0;
}

static int pfa_mailbox_row(void *ctx, unsigned n, char **v,
                           const unsigned long *l)
{
    struct imp *im = ctx;
    struct str where = {0};
    char quota[32] = "0";
    (void)n;
    (void)l;
    str_appendf(&where, "mailbox %s", v[0] ? v[0] : "");
    if (v[3] && v[3][0] && v[3][0] != '-') /* <= 0: unlimited */
        snprintf(quota, sizeof(quota), "%s", v[3]);
    imp_mailbox(im, str_cstr(&where), v[0] ? v[0] : "", v[2], v[1], quota,
                v[4] && !strcmp(v[4], "1"));
    str_free(&where);
    return 0;
}

static int pfa_alias_row(void *ctx, unsigned n, char **v,
                         const unsigned long *l)
{
    struct imp *im = ctx;
    struct str where = {0};
    (void)n;
    (void)l;
    str_appendf(&where, "alias %s", v[0] ? v[0] : "");
    imp_alias(im, str_cstr(&where), v[0] ? v[0] : "", v[1] ? v[1] : "", 0,
              v[2] && !strcmp(v[2], "1"), NULL);
    str_free(&where);
    return 0;
}

static int import_postfixadmin(struct imp *im, int argc, char **argv)
{
    static const char *const keys[] = {"host", "db", "user", "password_file",
                                       NULL};
    static const struct {
        const char *sql;
        db_row_fn fn;
    } reads[] = {
        {"SELECT domain, description, backupmx, active FROM domain "
         "WHERE domain <> 'ALL' ORDER BY domain", pfa_domain_row},
        {"SELECT alias_domain, target_domain, active FROM alias_domain "
         "ORDER BY alias_domain", pfa_aliasdom_row},
        {"SELECT username, password, name, quota, active FROM mailbox "
         "ORDER BY username", pfa_mailbox_row},
        {"SELECT address, goto, active FROM alias ORDER BY address",
         pfa_alias_row}};
    struct admin_kv kv;
    struct db_config src = {0};
    struct str err = {0};
    struct db *db;
    int rc;

    if ((rc = admin_kv_parse(&kv, argc, argv, keys, WHAT)))
        return rc;
    for (int i = 0; keys[i]; i++)
        if (!admin_kv_get(&kv, keys[i]) || !*admin_kv_get(&kv, keys[i]))
            return admin_error(ADMIN_EX_USAGE, WHAT, "postfixadmin needs "
                               "host=, db=, user= and password_file=");
    src.hosts = (char *)admin_kv_get(&kv, "host");
    src.name = (char *)admin_kv_get(&kv, "db");
    src.user = (char *)admin_kv_get(&kv, "user");
    src.password_file = (char *)admin_kv_get(&kv, "password_file");
    src.connect_timeout = 5000;
    src.query_timeout = 60000;
    src.retry_interval = 0;
    if (!(db = db_open(&src, &err))) {
        rc = admin_error(ADMIN_EX_USAGE, WHAT, "PostfixAdmin database: %s",
                         str_cstr(&err));
        goto out;
    }
    /* read only, one snapshot: the source is never written */
    if (db_begin_snapshot(db, &err) < 0) {
        rc = admin_error(ADMIN_EX_TEMPFAIL, WHAT, "PostfixAdmin database: "
                         "%s", str_cstr(&err));
        goto out;
    }
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        if (db_query(db, reads[i].sql, NULL, 0, reads[i].fn, im, &err) < 0) {
            rc = admin_error(ADMIN_EX_TEMPFAIL, WHAT, "PostfixAdmin "
                             "database: %s", str_cstr(&err));
            break;
        }
    db_rollback(db);
out:
    if (db)
        db_close(db);
    str_free(&err);
    return rc;
}

/* --- writing ---------------------------------------------------------- */

/* what is in the way of the item: LK_FOUND (present), LK_NOTFOUND, or
   LK_TEMP; a reason (e.g. an unknown domain) in it->reason */
struct kind_ctx {
    char kind[16];
    char target[ADDR_DOMAIN_MAX + 1];
};

static int kind_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct kind_ctx *k = ctx;
    (void)n;
    (void)l;
    snprintf(k->kind, sizeof(k->kind), "%s", v[0] ? v[0] : "");
    snprintf(k->target, sizeof(k->target), "%s", v[1] ? v[1] : "");
    return 1;
}

static int imp_check(struct db *db, struct imp_item *it, struct str *err)
{
    struct kind_ctx k = {"", ""};
    struct db_param p[2];
    struct str why = {0};
    int rc;

    p[0] = DBP_S(it->domain);
    rc = db_query(db, "SELECT kind, alias_target FROM domains WHERE name = ?",
                  p, 1, kind_row, &k, err);
    if (rc < 0)
        return LK_TEMP;
    if (it->kind == IK_DOMAIN || it->kind == IK_ALIASDOM) {
        const char *want = it->kind == IK_DOMAIN ? "local" : "alias";
        if (rc == LK_NOTFOUND)
            return LK_NOTFOUND;
        if (strcmp(k.kind, want) ||
            (it->kind == IK_ALIASDOM && strcmp(k.target, it->target))) {
            str_appendf(&why, "the domain exists already as kind=%s%s%s "
                        "(not changed)", k.kind, k.target[0] ? " of " : "",
                        k.target);
            imp_refuse(it, str_cstr(&why));
            str_free(&why);
        }
        return LK_FOUND;
    }
    if (rc == LK_NOTFOUND) {
        str_appendf(&why, "the domain %s is not hosted here (import it "
                    "first, or postern domain add %s)", it->domain,
                    it->domain);
        imp_refuse(it, str_cstr(&why));
        str_free(&why);
        return LK_NOTFOUND;
    }
    if (!strcmp(k.kind, "alias")) {
        str_appendf(&why, "%s is an alias domain of %s: use the address in "
                    "%s", it->domain, k.target, k.target);
        imp_refuse(it, str_cstr(&why));
        str_free(&why);
        return LK_NOTFOUND;
    }
    if (it->kind == IK_MAILBOX) {
        p[0] = DBP_S(it->key);
        return db_query(db, "SELECT 1 FROM mailboxes WHERE address = ?", p, 1,
                        db_row_exists, NULL, err);
    }
    str_appendf(&why, "%s@%s", it->local ? it->local : "", it->domain);
    p[0] = DBP_S(str_cstr(&why));
    p[1] = DBP_S(it->target);
    rc = db_query(db, "SELECT 1 FROM aliases WHERE source = ? AND target = ?",
                  p, 2, db_row_exists, NULL, err);
    str_free(&why);
    return rc;
}

static int imp_insert(struct db *db, const struct imp_item *it,
                      struct str *err)
{
#define S_OR_NULL(s) ((s) ? DBP_S(s) : DBP_NUL)
    struct db_param p[6];
    switch (it->kind) {
    case IK_DOMAIN:
        p[0] = DBP_S(it->domain);
        p[1] = S_OR_NULL(it->comment);
        p[2] = DBP_I(it->active);
        return db_exec(db, "INSERT INTO domains (name, kind, description, "
                       "active) VALUES (?, 'local', ?, ?)", p, 3, NULL, err);
    case IK_ALIASDOM:
        p[0] = DBP_S(it->domain);
        p[1] = DBP_S(it->target);
        p[2] = DBP_I(it->active);
        return db_exec(db, "INSERT INTO domains (name, kind, alias_target, "
                       "active) VALUES (?, 'alias', ?, ?)", p, 3, NULL, err);
    case IK_MAILBOX:
        p[0] = DBP_S(it->local);
        p[1] = DBP_S(it->domain);
        p[2] = S_OR_NULL(it->name);
        p[3] = S_OR_NULL(it->hash);
        p[4] = it->quota ? DBP_I(strtoull(it->quota, NULL, 10)) : DBP_NUL;
        p[5] = DBP_I(it->active);
        return db_exec(db, "INSERT INTO mailboxes (local_part, domain, "
                       "display_name, password_hash, quota_bytes, active) "
                       "VALUES (?, ?, ?, ?, ?, ?)", p, 6, NULL, err);
    case IK_ALIAS:
        p[0] = DBP_S(it->domain);
        p[1] = S_OR_NULL(it->local);
        p[2] = DBP_S(it->target);
        p[3] = DBP_I(it->keep_copy);
        p[4] = DBP_I(it->active);
        p[5] = S_OR_NULL(it->comment);
        return db_exec(db, "INSERT INTO aliases (domain, local_part, target, "
                       "keep_copy, active, comment) VALUES (?, ?, ?, ?, ?, ?)",
                       p, 6, NULL, err);
    }
    return LK_TEMP;
#undef S_OR_NULL
}

/* the transaction body: every item, a savepoint each */
static int imp_body(struct admin *a, struct db *db, void *ctx, int *status,
                    struct str *err)
{
    struct imp *im = ctx;
    (void)a;
    (void)status; /* skipped rows do not roll the others back */
    im->imported = im->present = im->skipped = 0;
    for (size_t i = 0; i < im->n; i++) {
        struct imp_item *it = &im->v[i];
        struct str rowerr = {0};
        int rc;
        it->result = IR_NONE;
        if (it->reason) {
            /* refused before SQL (or by the server in an earlier run) */
            it->result = IR_SKIPPED;
            im->skipped++;
            continue;
        }
        if (db_savepoint(db, err) < 0)
            return LK_TEMP;
        rc = imp_check(db, it, &rowerr);
        if (rc == LK_FOUND && !it->reason) {
            it->result = IR_PRESENT;
            im->present++;
        } else if (rc == LK_NOTFOUND && !it->reason &&
                   imp_insert(db, it, &rowerr) == 0) {
            it->result = IR_IMPORTED;
            im->imported++;
        } else if (rc < 0 || !it->reason) {
            /* a statement failed: the server's reason, or give up */
            if (db_rollback_savepoint(db, err) < 0) {
                str_append_cstr(err, str_cstr(&rowerr));
                str_free(&rowerr);
                return LK_TEMP;
            }
            imp_refuse(it, rowerr.len ? str_cstr(&rowerr)
                                      : "the database refused the row");
        }
        if (it->result == IR_NONE) {
            it->result = IR_SKIPPED;
            im->skipped++;
        }
        str_free(&rowerr);
    }
    return 0;
}

static void imp_report(struct imp *im)
{
    struct admin *a = im->a;
    const char *verb = a->dry_run ? "would import" : "imported";
    if (a->json) {
        struct str out = {0};
        unsigned k = 0;
        str_appendf(&out, "{\"dry_run\": %s, \"imported\": %u, "
                    "\"already_present\": %u, \"ignored\": %u, "
                    "\"skipped\": %u, \"skipped_rows\": [",
                    a->dry_run ? "true" : "false", im->imported, im->present,
                    im->ignored, im->skipped);
        for (size_t i = 0; i < im->n; i++) {
            const struct imp_item *it = &im->v[i];
            if (it->result != IR_SKIPPED)
                continue;
            str_append_cstr(&out, k++ ? ",\n  {\"where\": " : "\n  {\"where\": ");
            admin_json_str(&out, it->where);
            str_append_cstr(&out, ", \"key\": ");
            admin_json_str(&out, it->key ? it->key : "");
            str_append_cstr(&out, ", \"reason\": ");
            admin_json_str(&out, it->reason ? it->reason : "");
            str_append_char(&out, '}');
        }
        str_append_cstr(&out, k ? "\n]}\n" : "]}\n");
        fwrite(out.data, 1, out.len, stdout);
        str_free(&out);
    } else {
        for (size_t i = 0; i < im->n; i++) {
            const struct imp_item *it = &im->v[i];
            const char *key = it->key ? it->key : "-";
            if (it->result != IR_SKIPPED)
                continue;
            if (strstr(it->where, key)) /* "mailbox a@b": says it already */
                fprintf(stderr, "postern: import: %s: skipped: %s\n",
                        it->where, it->reason ? it->reason : "?");
            else
                fprintf(stderr, "postern: import: %s: %s: skipped: %s\n",
                        it->where, key, it->reason ? it->reason : "?");
        }
        printf("%s %u, already present %u, ignored %u, skipped %u\n", verb,
               im->imported, im->present, im->ignored, im->skipped);
    }
}

int cmd_import(struct admin *a, int argc, char **argv)
{
    struct imp im = {.a = a};
    int rc;

    if (argc >= 3 && !strcmp(argv[1], "csv")) {
        struct admin_kv kv;
        static const char *const keys[] = {"kind", NULL};
        if ((rc = admin_kv_parse(&kv, argc - 3, argv + 3, keys, WHAT)))
            return rc;
        if (!admin_kv_get(&kv, "kind"))
            return admin_error(ADMIN_EX_USAGE, WHAT, "csv FILE needs "
                               "kind=mailboxes or kind=aliases");
        rc = import_csv(&im, argv[2], admin_kv_get(&kv, "kind"));
    } else if (argc >= 2 && !strcmp(argv[1], "postfixadmin")) {
        rc = import_postfixadmin(&im, argc - 2, argv + 2);
    } else {
        return admin_error(ADMIN_EX_USAGE, WHAT, "usage: import csv FILE "
                           "kind=mailboxes|aliases | import postfixadmin "
                           "host=H db=D user=U password_file=F");
    }
    if (rc == ADMIN_EX_OK) {
        rc = admin_transaction(a, imp_body, &im);
        if (rc == ADMIN_EX_OK) {
            imp_report(&im);
            if (im.skipped)
                rc = ADMIN_EX_DATAERR;
        }
    }
    imp_free(&im);
    return rc;
}
