/*
 * quota.c - postern quota: the mailbox usage in SQL (mailbox_usage,
 * sql/migrations/0010_quota_usage.sql).
 *
 *   postern quota recount ADDRESS | --domain DOMAIN | --all
 *       counts the Maildir of each mailbox again (every folder, as
 *       postern-lda counts: lda/quota.c quota_recalc), rewrites its
 *       maildirsize and writes the mailbox_usage row (source recount):
 *       after files were deleted or restored by hand, or to fill the table
 *       for mailboxes that had no delivery since it was added.  The mail
 *       root is [lda] mail_root; the limit is the mailbox's quota_bytes,
 *       else its domain's default_quota_bytes, else [lda] default_quota.
 *       With --dry-run it counts and prints, and writes nothing.
 *       Prints one row per mailbox: address, bytes, messages, quota_bytes,
 *       status ("ok", or why it could not be counted).
 *   postern quota report ...
 *       the daily list of mailboxes above a threshold (admin/quota_report.c).
 *
 * Exit: 0; 66 no such mailbox or domain; 75 the database did not answer,
 * or a Maildir could not be read (the others are still written).
 * Limits: --all holds the list of mailboxes (address and maildir) in
 * memory while it counts; the Maildirs are read one after the other.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "admin.h"
#include "commands.h"
#include "daemon.h"
#include "lda.h"
#include "mem.h"
#include "util.h"

#define WHAT "quota recount"

static const struct daemon_app lda_view = {
    .name = "postern-lda",
    .config_size = sizeof(struct lda_config),
    .sections = lda_config_sections,
};

struct mbrow {
    char *address, *maildir;
    unsigned long long quota;
    int has_quota;
};

struct mblist {
    struct mbrow *v;
    size_t n, cap;
};

static int mb_row(void *ctx, unsigned ncols, char **v,
                  const unsigned long *lens)
{
    struct mblist *l = ctx;
    struct mbrow *r;

    (void)lens;
    if (ncols != 3 || v[0] == NULL || v[1] == NULL)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    r = &l->v[l->n++];
    r->address = xstrdup(v[0]);
    r->maildir = xstrdup(v[1]);
    r->has_quota = v[2] != NULL;
    r->quota = v[2] ? strtoull(v[2], NULL, 10) : 0;
    return 0;
}

/* recount_one - count one mailbox and write its row; the row printed */
static int recount_one(struct admin *a, struct db *db,
                       const struct lda_config *lc, const struct mbrow *m,
                       struct admin_out *o)
{
    struct str root = STR_INIT, err = STR_INIT;
    unsigned long long quota = m->has_quota ? m->quota
                                            : (unsigned long long)
                                                  lc->default_quota;
    unsigned long long bytes = 0, count = 0;
    char b[24], c[24], q[24];
    char *vals[5];
    int rc = ADMIN_EX_OK;

    str_appendf(&root, "%s/%s", lc->mail_root, m->maildir);
    while (root.len > 1 && root.data[root.len - 1] == '/')
        str_truncate(&root, root.len - 1);
    if (!lda_maildir_valid(m->maildir))
        str_appendf(&err, "bad maildir value %s", m->maildir);
    else if ((a->dry_run ? quota_count(str_cstr(&root), &bytes, &count, &err)
                         : quota_recalc(str_cstr(&root), quota, &bytes,
                                        &count, &err)) < 0)
        ;
    else if (!a->dry_run && lda_usage_write(db, m->address, bytes, count,
                                            quota, "recount", &err) < 0)
        rc = admin_dbfail(WHAT, &err);
    if (err.len && rc == ADMIN_EX_OK) {
        admin_error(ADMIN_EX_TEMPFAIL, WHAT, "%s: %s", m->address,
                    str_cstr(&err));
        rc = ADMIN_EX_TEMPFAIL;
    }
    snprintf(b, sizeof(b), "%llu", bytes);
    snprintf(c, sizeof(c), "%llu", count);
    snprintf(q, sizeof(q), "%llu", quota);
    vals[0] = m->address;
    vals[1] = b;
    vals[2] = c;
    vals[3] = q;
    vals[4] = rc == ADMIN_EX_OK ? (a->dry_run ? "counted (dry run)" : "ok")
                                : "failed";
    admin_out_row(o, vals);
    str_free(&root);
    str_free(&err);
    return rc;
}

static int quota_recount(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"address", "bytes", "messages",
                                       "quota_bytes", "status", NULL};
    static const char sel[] =
        "SELECT m.address, m.maildir, "
        "IFNULL(m.quota_bytes, d.default_quota_bytes) "
        "FROM mailboxes m JOIN domains d ON d.name = m.domain ";
    struct str sql = STR_INIT, err = STR_INIT;
    struct mblist l = {NULL, 0, 0};
    struct db_param p[1];
    size_t np = 0;
    struct lda_config *lc = NULL;
    char dom[ADDR_DOMAIN_MAX + 1];
    struct admin_out o;
    struct addr ad;
    struct db *db;
    int rc = ADMIN_EX_OK, r;

    str_append_cstr(&sql, sel);
    if (argc == 1 && strcmp(argv[0], "--all") == 0) {
        str_append_cstr(&sql, "ORDER BY m.domain, m.local_part");
    } else if (argc == 2 && strcmp(argv[0], "--domain") == 0) {
        if ((rc = admin_parse_domain(WHAT, argv[1], dom)))
            goto out;
        str_append_cstr(&sql, "WHERE m.domain = ? ORDER BY m.local_part");
        p[np++] = DBP_S(dom);
    } else if (argc == 1 && argv[0][0] != '-') {
        if ((rc = admin_parse_address(WHAT, argv[0], &ad)))
            goto out;
        str_append_cstr(&sql, "WHERE m.address = ?");
        p[np++] = DBP_S(ad.full);
    } else {
        rc = admin_error(ADMIN_EX_USAGE, WHAT, "usage: postern quota recount "
                         "ADDRESS | --domain DOMAIN | --all");
        goto out;
    }
    if ((lc = daemon_load_config(&lda_view, a->config_path, &err)) == NULL) {
        rc = admin_error(ADMIN_EX_CONFIG, WHAT, "%s", str_cstr(&err));
        goto out;
    }
    if (!(db = admin_db(a))) {
        rc = ADMIN_EX_TEMPFAIL;
        goto out;
    }
    if (db_query(db, str_cstr(&sql), p, np, mb_row, &l, &err) < 0) {
        rc = admin_dbfail(WHAT, &err);
        goto out;
    }
    if (l.n == 0) {
        rc = admin_error(ADMIN_EX_NOINPUT, WHAT, "no mailbox %s",
                         argc == 2 ? "in that domain" : "of that address");
        goto out;
    }
    admin_out_begin(&o, a, cols);
    for (size_t i = 0; i < l.n; i++)
        if ((r = recount_one(a, db, lc, &l.v[i], &o)) != ADMIN_EX_OK)
            rc = ADMIN_EX_TEMPFAIL;
    admin_out_end(&o);
out:
    for (size_t i = 0; i < l.n; i++) {
        free(l.v[i].address);
        free(l.v[i].maildir);
    }
    free(l.v);
    if (lc)
        daemon_free_config(&lda_view, lc);
    str_free(&sql);
    str_free(&err);
    return rc;
}

const struct admin_verb quota_verbs[] = {
    {"recount", quota_recount},
    {"report", admin_quota_report},
    {NULL, NULL},
};
