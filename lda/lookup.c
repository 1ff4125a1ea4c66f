/*
 * lookup - the recipient's mailbox from MariaDB.
 *
 *   SELECT m.address, m.maildir, m.quota_bytes, d.default_quota_bytes
 *     FROM mailboxes m JOIN domains d ON d.name = m.domain
 *    WHERE m.address = ? AND m.active = 1 AND d.active = 1
 *
 * maildir is the path the schema derives (volume/xx/xxxx/address/),
 * relative to [lda] mail_root.  The quota is quota_bytes, else the
 * domain's default_quota_bytes, else [lda] default_quota; 0 is unlimited.
 * When the domain is an alias domain (domains.kind = 'alias'), the same
 * local part is looked up in alias_target, and so on up to
 * ADDR_ALIAS_DOMAIN_DEPTH domains, as postern-maps does (Postfix normally
 * rewrites these before delivery; this is the safety net).
 *
 * Three outcomes (lib/lookup.h): LK_FOUND, LK_NOTFOUND, LK_TEMP.  A
 * database that cannot be reached is always LK_TEMP, never "unknown user".
 * A chain of alias domains longer than ADDR_ALIAS_DOMAIN_DEPTH is
 * LK_NOTFOUND, as in postern-maps (which then has no such address either).
 * A maildir value that is absolute, empty, too long or contains "." or ".."
 * levels is refused as LK_TEMP: an admin must look, no mail is bounced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lda.h"

static const char sql_mailbox[] =
    "SELECT m.address, m.maildir, m.quota_bytes, d.default_quota_bytes "
    "FROM mailboxes m JOIN domains d ON d.name = m.domain "
    "WHERE m.address = ? AND m.active = 1 AND d.active = 1";
static const char sql_alias_domain[] =
    "SELECT alias_target FROM domains "
    "WHERE name = ? AND kind = 'alias' AND active = 1";

struct row {
    struct lda_mailbox *mb;
    int have_quota, bad;
    char alias_target[ADDR_DOMAIN_MAX + 1];
};

int lda_maildir_valid(const char *p)
{
    if (*p == '\0' || *p == '/' || strlen(p) > LDA_MAILDIR_MAX)
        return 0;
    for (const char *c = p; *c;) {
        size_t n = strcspn(c, "/");
        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
                return 0;
        c += n;
        if (*c == '/')
            c++;
    }
    return 1;
}

static int mailbox_row(void *ctx, unsigned ncols, char **v,
                       const unsigned long *lens)
{
    struct row *r = ctx;

    (void)lens;
    if (ncols != 4 || v[0] == NULL || v[1] == NULL ||
        strlen(v[0]) > ADDR_MAX || !lda_maildir_valid(v[1])) {
        r->bad = 1;
        return 1;
    }
    strcpy(r->mb->address, v[0]);
    strcpy(r->mb->maildir, v[1]);
    if (v[2] != NULL)
        r->mb->quota = strtoull(v[2], NULL, 10), r->have_quota = 1;
    else if (v[3] != NULL)
        r->mb->quota = strtoull(v[3], NULL, 10), r->have_quota = 1;
    return 1;
}

static int alias_row(void *ctx, unsigned ncols, char **v,
                     const unsigned long *lens)
{
    struct row *r = ctx;

    (void)lens;
    if (ncols == 1 && v[0] && strlen(v[0]) <= ADDR_DOMAIN_MAX)
        strcpy(r->alias_target, v[0]);
    return 1;
}

static int query_mailbox(struct db *db, const char *address, struct row *r,
                         struct str *err)
{
    struct db_param p[1] = {DBP_S(address)};
    int rc = db_query(db, sql_mailbox, p, 1, mailbox_row, r, err);

    if (rc == LK_FOUND && r->bad) {
        str_appendf(err, "mailbox %s: bad maildir value in the database",
                    address);
        return LK_TEMP;
    }
    return rc;
}

int lda_lookup(struct db *db, const struct lda_config *cfg,
               const struct addr *a, struct lda_mailbox *mb, struct str *err)
{
    struct row r = {mb, 0, 0, ""};
    char other[ADDR_MAX + 1];
    int rc;

    memset(mb, 0, sizeof(*mb));
    rc = query_mailbox(db, a->full, &r, err);
    /* an alias domain (of an alias domain ...): the same local part in its
       target, as far as postern-maps follows it (ADDR_ALIAS_DOMAIN_DEPTH) */
    const char *domain = a->domain;
    char target[ADDR_DOMAIN_MAX + 1];
    for (int depth = 0; rc == LK_NOTFOUND && a->has_domain; depth++) {
        struct db_param p[1] = {DBP_S(domain)};
        if (depth == ADDR_ALIAS_DOMAIN_DEPTH)
            return LK_NOTFOUND;
        r.alias_target[0] = '\0';
        rc = db_query(db, sql_alias_domain, p, 1, alias_row, &r, err);
        if (rc != LK_FOUND || r.alias_target[0] == '\0')
            return rc < 0 ? LK_TEMP : LK_NOTFOUND;
        memcpy(target, r.alias_target, sizeof(target));
        domain = target;
        if ((size_t)snprintf(other, sizeof(other), "%s@%s", a->local,
                             domain) >= sizeof(other))
            return LK_NOTFOUND;
        rc = query_mailbox(db, other, &r, err);
    }
    if (rc == LK_FOUND && !r.have_quota)
        mb->quota = (unsigned long long)cfg->default_quota;
    return rc;
}
