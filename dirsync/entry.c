/*
 * entry - one directory entry becomes its SQL rows, inside the batch
 * transaction of sync.c, keyed by entryUUID (never the DN).
 *
 * A person: a mailbox (owner 'ldap'); its alternative addresses become
 * aliases to it, its forward addresses aliases from it (keeping a copy
 * unless forward_copy_attribute says 0); its roles memberships of policy
 * groups (role_groups).  A changed primary address renames the mailbox,
 * keeps its Maildir (home_address) and keeps the old address as an alias
 * for transition_period.  A group: a directory_groups row (a valid
 * recipient for postern-maps), and with UCS send restrictions
 * (allowed_users/groups_attribute) a group_send_rules row that lets only
 * those senders write to it.
 *
 * Never touched: rows with owner 'sql'.  An address an sql row holds is a
 * conflict: logged, the entry (or that address of it) skipped.
 * Limits: DS_ALIASES_MAX, DS_FORWARDS_MAX (struct ds_entry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dirsync.h"
#include "log.h"
#include "mem.h"

#define COLS 6
#define COL_MAX 1100

struct row {
    int found;
    char v[COLS][COL_MAX];
    int null[COLS];
};

static int row_fn(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct row *r = ctx;

    r->found = 1;
    for (unsigned i = 0; i < n && i < COLS; i++) {
        r->null[i] = v[i] == NULL;
        snprintf(r->v[i], COL_MAX, "%.*s", v[i] ? (int)l[i] : 0,
                 v[i] ? v[i] : "");
    }
    return 1;
}

/* one_row - the first row of a query into r; LK_FOUND / LK_NOTFOUND /
   LK_TEMP */
static int one_row(struct ds_run *r, const char *sql,
                   const struct db_param *p, size_t np, struct row *out)
{
    memset(out, 0, sizeof(*out));
    return db_query(r->db, sql, p, np, row_fn, out, &r->err);
}

static int exec(struct ds_run *r, const char *sql, const struct db_param *p,
                size_t np)
{
    return db_exec(r->db, sql, p, np, NULL, &r->err);
}

int ds_canonical(const char *in, char *out, size_t size)
{
    size_t len = strlen(in);
    const char *at;

    while (len > 0 && in[len - 1] == '.')
        len--; /* a trailing dot of the domain */
    if (len == 0 || len >= size || len > DS_ADDR_MAX)
        return -1;
    memcpy(out, in, len);
    out[len] = '\0';
    str_lower(out, len);
    if ((at = strrchr(out, '@')) == NULL || at == out ||
        !addr_local_valid(out, (size_t)(at - out)) ||
        !addr_domain_valid(at + 1, strlen(at + 1)))
        return -1;
    return 0;
}

/* local_domain - is the address's domain a local postern domain?
   LK_FOUND, LK_NOTFOUND, LK_TEMP */
static int local_domain(struct ds_run *r, const char *address)
{
    const char *domain = strrchr(address, '@') + 1;
    struct db_param p[] = {DBP_S(domain)};
    struct row row;
    void *known = r->domains ? hmap_get(r->domains, domain) : NULL;
    int rc;

    if (known != NULL)
        return known == (void *)1 ? LK_FOUND : LK_NOTFOUND;
    rc = one_row(r, "SELECT name FROM domains WHERE name = ? AND kind ="
                 " 'local' AND active = 1", p, 1, &row);
    if (rc != LK_TEMP && r->domains)
        hmap_put(r->domains, domain, rc == LK_FOUND ? (void *)1 : (void *)2);
    return rc;
}

static void split(const char *address, char *local, char *domain)
{
    const char *at = strrchr(address, '@');

    snprintf(local, ADDR_LOCAL_MAX + 1, "%.*s", (int)(at - address), address);
    snprintf(domain, ADDR_DOMAIN_MAX + 1, "%s", at + 1);
}

/* --- the refresh's preload ------------------------------------------------ */

/* During the refresh every entry comes once, so the ldap-owned alias and
   member rows of all of them are read in one query each at its start
   (ds_preload) instead of one query per entry: a full pass over a
   directory that did not change costs about one statement per entry.
   The persist phase reads per entry. */

#define PRE_SEP '\x1f'

struct pre_rows {
    struct strvec rows;          /* columns joined by PRE_SEP */
};

static int pre_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct hmap *m = ctx;
    struct pre_rows *pr;
    struct str line = STR_INIT;

    (void)l;
    if (n < 2 || v[0] == NULL)
        return 0;
    if ((pr = hmap_get(m, v[0])) == NULL) {
        pr = xcalloc(1, sizeof(*pr));
        hmap_put(m, v[0], pr);
    }
    for (unsigned i = 1; i < n; i++) {
        if (i > 1)
            str_append_char(&line, PRE_SEP);
        str_append_cstr(&line, v[i] ? v[i] : "");
    }
    strvec_add(&pr->rows, str_cstr(&line));
    str_free(&line);
    return 0;
}

static void pre_free(void *v)
{
    struct pre_rows *pr = v;

    strvec_free(&pr->rows);
    free(pr);
}

void ds_preload_free(struct ds_run *r)
{
    if (r->pre_aliases)
        hmap_destroy(r->pre_aliases, pre_free);
    if (r->pre_members)
        hmap_destroy(r->pre_members, pre_free);
    if (r->group_ids)
        hmap_destroy(r->group_ids, free);
    r->pre_aliases = r->pre_members = r->group_ids = NULL;
}

int ds_preload(struct ds_run *r)
{
    ds_preload_free(r);
    r->pre_aliases = hmap_new(4096, HMAP_COPYKEYS);
    r->pre_members = hmap_new(4096, HMAP_COPYKEYS);
    r->group_ids = hmap_new(64, HMAP_COPYKEYS);
    if (db_query(r->db, "SELECT dir_uuid, id, source, target, keep_copy FROM"
                 " aliases WHERE owner = 'ldap' AND expires_at IS NULL", NULL,
                 0, pre_row, r->pre_aliases, &r->err) == LK_TEMP ||
        db_query(r->db, "SELECT dir_uuid, id, group_id, value FROM"
                 " policy_group_members WHERE owner = 'ldap'", NULL, 0,
                 pre_row, r->pre_members, &r->err) == LK_TEMP) {
        ds_preload_free(r);
        return LK_TEMP;
    }
    return 0;
}

/* replay - the preloaded rows of uuid through fn, as db_query would hand
   them over; 1 when there is a preload (rows or none), 0 when not */
static int replay(struct hmap *pre, const char *uuid, db_row_fn fn, void *ctx)
{
    struct pre_rows *pr;

    if (pre == NULL)
        return 0;
    if ((pr = hmap_get(pre, uuid)) == NULL)
        return 1;
    for (size_t i = 0; i < pr->rows.n; i++) {
        char *cols[8], *p = pr->rows.v[i];
        unsigned n = 0;

        cols[n++] = p;
        while ((p = strchr(p, PRE_SEP)) != NULL && n < 8) {
            *p++ = '\0';
            cols[n++] = p;
        }
        fn(ctx, n, cols, NULL);
    }
    hmap_del(pre, uuid);
    pre_free(pr);
    return 1;
}

/* --- aliases ------------------------------------------------------------- */

struct want {
    char source[DS_ADDR_MAX + 1], target[DS_ADDR_MAX + 1];
    int keep_copy, have;
};

struct alias_scan {
    struct want *w;
    size_t nw;
    struct strvec drop;          /* ids of rows no longer wanted */
};

static int alias_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct alias_scan *s = ctx;

    (void)l;
    if (n < 4)
        return 0;
    for (size_t i = 0; i < s->nw; i++)
        if (!strcmp(s->w[i].source, v[1]) && !strcmp(s->w[i].target, v[2]) &&
            s->w[i].keep_copy == atoi(v[3]) && !s->w[i].have) {
            s->w[i].have = 1;
            return 0;
        }
    strvec_add(&s->drop, v[0]);
    return 0;
}

/* alias_taken - may the directory add source -> target?  1 when another
   owner already uses the source address (a mailbox of someone else, an
   sql alias), 0 when free, LK_TEMP */
static int alias_taken(struct ds_run *r, const char *uuid, const char *source,
                       int is_own_mailbox)
{
    struct db_param p[] = {DBP_S(source)};
    struct db_param q[] = {DBP_S(source), DBP_S(uuid)};
    struct row row;
    int rc;

    if (!is_own_mailbox) {
        rc = one_row(r, "SELECT id FROM mailboxes WHERE address = ?", p, 1,
                     &row);
        if (rc != LK_NOTFOUND)
            return rc == LK_TEMP ? LK_TEMP : 1;
        rc = one_row(r, "SELECT dir_uuid FROM directory_groups WHERE address"
                     " = ?", p, 1, &row);
        if (rc != LK_NOTFOUND)
            return rc == LK_TEMP ? LK_TEMP : 1;
    }
    rc = one_row(r, "SELECT id FROM aliases WHERE source = ? AND (owner ="
                 " 'sql' OR dir_uuid <> ?)", q, 2, &row);
    return rc == LK_TEMP ? LK_TEMP : rc == LK_FOUND;
}

/* sync_aliases - make the ldap-owned aliases of uuid (not the transition
   ones) exactly w[0..nw); 0 or LK_TEMP */
static int sync_aliases(struct ds_run *r, const char *uuid, const char *primary,
                        struct want *w, size_t nw)
{
    struct alias_scan s = {w, nw, STRVEC_INIT};
    struct db_param p[] = {DBP_S(uuid)};
    int rc = 0;

    if (!replay(r->pre_aliases, uuid, alias_row, &s) &&
        db_query(r->db, "SELECT id, source, target, keep_copy FROM aliases"
                 " WHERE dir_uuid = ? AND owner = 'ldap' AND expires_at IS"
                 " NULL", p, 1, alias_row, &s, &r->err) == LK_TEMP)
        rc = LK_TEMP;
    for (size_t i = 0; rc == 0 && i < s.drop.n; i++) {
        struct db_param d[] = {DBP_I(atoll(s.drop.v[i]))};
        rc = exec(r, "DELETE FROM aliases WHERE id = ?", d, 1);
    }
    for (size_t i = 0; rc == 0 && i < nw; i++) {
        char local[ADDR_LOCAL_MAX + 1], domain[ADDR_DOMAIN_MAX + 1];
        int taken;

        if (w[i].have)
            continue;
        taken = alias_taken(r, uuid, w[i].source,
                            !strcmp(w[i].source, primary));
        if (taken == LK_TEMP) {
            rc = LK_TEMP;
            break;
        }
        if (taken) {
            log_warn("directory: %s -> %s (entry %s) not added: the address"
                     " belongs to someone else", log_safe_cstr(w[i].source),
                     log_safe_cstr(w[i].target), uuid);
            r->st.conflicts++;
            continue;
        }
        split(w[i].source, local, domain);
        struct db_param a[] = {DBP_S(domain), DBP_S(local), DBP_S(w[i].target),
                               DBP_I(w[i].keep_copy), DBP_S(uuid)};
        rc = exec(r, "INSERT INTO aliases (domain, local_part, target,"
                  " keep_copy, owner, dir_uuid, comment) VALUES (?, ?, ?, ?,"
                  " 'ldap', ?, 'from the directory')", a, 5);
    }
    strvec_free(&s.drop);
    return rc;
}

/* --- policy groups by role --------------------------------------------- */

/* ensure_group - the id of policy group name, made if missing; LK_TEMP */
static long long ensure_group(struct ds_run *r, const char *name)
{
    struct db_param p[] = {DBP_S(name)};
    struct row row;
    long long *known = r->group_ids ? hmap_get(r->group_ids, name) : NULL;
    int rc;

    if (known)
        return *known;

    if (exec(r, "INSERT IGNORE INTO policy_groups (name, description) VALUES"
             " (?, 'from the directory (postern-dirsync)')", p, 1) < 0)
        return LK_TEMP;
    rc = one_row(r, "SELECT id FROM policy_groups WHERE name = ?", p, 1, &row);
    if (rc != LK_FOUND)
        return LK_TEMP;
    if (r->group_ids) {
        known = xmalloc(sizeof(*known));
        *known = atoll(row.v[0]);
        free(hmap_replace(r->group_ids, name, known));
    }
    return atoll(row.v[0]);
}

struct member_scan {
    struct strvec want;          /* "group_id value" wanted */
    struct strvec drop;          /* ids */
    int *have;
};

static int member_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct member_scan *s = ctx;
    char key[COL_MAX + 32];

    (void)l;
    if (n < 3)
        return 0;
    snprintf(key, sizeof(key), "%s %s", v[1], v[2]);
    for (size_t i = 0; i < s->want.n; i++)
        if (!s->have[i] && !strcmp(s->want.v[i], key)) {
            s->have[i] = 1;
            return 0;
        }
    strvec_add(&s->drop, v[0]);
    return 0;
}

/* sync_members - the ldap-owned policy_group_members of owner uuid become
   exactly want ("group_id value" pairs, member_type mtype[i]); 0/LK_TEMP */
static int sync_members(struct ds_run *r, const char *uuid,
                        struct strvec *want, const char *const *mtype)
{
    int have[DS_ALIASES_MAX * 2 + DS_ROLE_MAP_MAX] = {0};
    struct member_scan s = {*want, STRVEC_INIT, have};
    struct db_param p[] = {DBP_S(uuid)};
    int rc = 0;

    if (want->n > sizeof(have) / sizeof(have[0]))
        return str_appendf(&r->err, "too many memberships"), LK_TEMP;
    if (!replay(r->pre_members, uuid, member_row, &s) &&
        db_query(r->db, "SELECT id, group_id, value FROM policy_group_members"
                 " WHERE dir_uuid = ? AND owner = 'ldap'", p, 1, member_row,
                 &s, &r->err) == LK_TEMP)
        rc = LK_TEMP;
    for (size_t i = 0; rc == 0 && i < s.drop.n; i++) {
        struct db_param d[] = {DBP_I(atoll(s.drop.v[i]))};
        rc = exec(r, "DELETE FROM policy_group_members WHERE id = ?", d, 1);
    }
    for (size_t i = 0; rc == 0 && i < want->n; i++) {
        const char *sp = strchr(want->v[i], ' ');

        if (have[i] || sp == NULL)
            continue;
        struct db_param a[] = {DBP_I(atoll(want->v[i])), DBP_S(mtype[i]),
                               DBP_S(sp + 1), DBP_S(uuid)};
        rc = exec(r, "INSERT IGNORE INTO policy_group_members (group_id,"
                  " member_type, value, owner, dir_uuid, comment) VALUES (?,"
                  " ?, ?, 'ldap', ?, 'from the directory')", a, 4);
    }
    strvec_free(&s.drop);
    return rc;
}

static int sync_roles(struct ds_run *r, const struct ds_entry *e,
                      const char *primary)
{
    const struct ds_config *c = r->cfg;
    struct strvec want = STRVEC_INIT;
    const char *types[DS_ROLE_MAP_MAX];
    int rc = 0;

    for (int m = 0; m < c->nroles && rc == 0; m++) {
        size_t rl = strlen(c->roles[m].role);
        int has = 0;

        for (size_t i = 0; i < e->roles.n && !has; i++)
            has = !strncasecmp(e->roles.v[i], c->roles[m].role, rl) &&
                  (e->roles.v[i][rl] == '\0' || e->roles.v[i][rl] == ':');
        if (!has)
            continue;
        long long gid = ensure_group(r, c->roles[m].group);
        char pair[512];
        if (gid < 0) {
            rc = LK_TEMP;
            break;
        }
        snprintf(pair, sizeof(pair), "%lld %s", gid, primary);
        types[want.n] = "address";
        strvec_add(&want, pair);
    }
    if (rc == 0)
        rc = sync_members(r, e->uuid, &want, types);
    strvec_free(&want);
    return rc;
}

/* --- persons -------------------------------------------------------------- */

#define SQL_BY_UUID                                                            \
    "SELECT id, address, state, IFNULL(display_name, ''), IFNULL(quota_bytes,"  \
    " -1), IFNULL(dir_dn, '') FROM mailboxes WHERE dir_uuid = ?"
#define SQL_BY_ADDRESS                                                         \
    "SELECT id, owner, IFNULL(dir_uuid, ''), state FROM mailboxes"             \
    " WHERE address = ?"

static int set_active(struct ds_run *r, long long id, const char *uuid,
                      const char *address, const char *old_state,
                      const char *reason)
{
    struct db_param p[] = {DBP_S(reason), DBP_I(id)};

    if (exec(r, "UPDATE mailboxes SET state = 'active', state_since = NOW(),"
             " state_reason = ?, grace_until = NULL, notice_sent_at = NULL,"
             " reminder_sent_at = NULL WHERE id = ?", p, 2) < 0)
        return LK_TEMP;
    r->st.reactivated++;
    return ds_state_log(r->db, uuid, address, old_state, "active", reason,
                        &r->err);
}

/* rename_mailbox - the primary address changed from old to primary: the
   row follows (its Maildir stays, home_address), the old address stays an
   alias for transition_period; 0, 1 conflict, LK_TEMP */
static int rename_mailbox(struct ds_run *r, long long id, const char *uuid,
                          const char *old, const char *primary)
{
    char local[ADDR_LOCAL_MAX + 1], domain[ADDR_DOMAIN_MAX + 1];
    char olocal[ADDR_LOCAL_MAX + 1], odomain[ADDR_DOMAIN_MAX + 1];
    struct db_param pa[] = {DBP_S(primary)};
    struct db_param pu[] = {DBP_S(primary), DBP_S(uuid)};
    struct row row;
    int rc = one_row(r, "SELECT id FROM mailboxes WHERE address = ?", pa, 1,
                     &row);

    if (rc == LK_TEMP)
        return LK_TEMP;
    if (rc == LK_FOUND ||
        (rc = alias_taken(r, uuid, primary, 1)) != 0) {
        if (rc == LK_TEMP)
            return LK_TEMP;
        log_warn("directory: %s (entry %s) not renamed to %s: the address "
                 "belongs to someone else", log_safe_cstr(old), uuid,
                 log_safe_cstr(primary));
        r->st.conflicts++;
        return 1;
    }
    /* a transition alias of the new address (a rename back) goes */
    if (exec(r, "DELETE FROM aliases WHERE source = ? AND dir_uuid = ? AND"
             " owner = 'ldap'", pu, 2) < 0)
        return LK_TEMP;
    split(primary, local, domain);
    struct db_param p[] = {DBP_S(local), DBP_S(domain), DBP_S(old), DBP_I(id)};
    if (exec(r, "UPDATE mailboxes SET local_part = ?, domain = ?, home_address"
             " = IFNULL(home_address, ?) WHERE id = ?", p, 4) < 0)
        return LK_TEMP;
    struct db_param v[] = {DBP_S(primary), DBP_S(old)};
    if (exec(r, "UPDATE IGNORE vacation_responses SET recipient = ? WHERE"
             " recipient = ?", v, 2) < 0)
        return LK_TEMP;
    if (r->cfg->transition_period > 0) {
        split(old, olocal, odomain);
        struct db_param a[] = {DBP_S(odomain), DBP_S(olocal), DBP_S(primary),
                               DBP_S(uuid),
                               DBP_I(r->cfg->transition_period / 1000)};
        if (exec(r, "INSERT INTO aliases (domain, local_part, target, owner,"
                 " dir_uuid, expires_at, comment) VALUES (?, ?, ?, 'ldap', ?,"
                 " NOW() + INTERVAL ? SECOND, 'old address after a rename')",
                 a, 5) < 0)
            return LK_TEMP;
    }
    r->st.renamed++;
    char why[2 * DS_ADDR_MAX + 32];
    if (snprintf(why, sizeof(why), "renamed from %s to %s", old, primary) < 0)
        why[0] = '\0'; /* a log text: cut when longer */
    return ds_state_log(r->db, uuid, primary, "active", "renamed", why,
                        &r->err);
}

static int insert_mailbox(struct ds_run *r, const struct ds_entry *e,
                          const char *primary)
{
    char local[ADDR_LOCAL_MAX + 1], domain[ADDR_DOMAIN_MAX + 1];
    struct db_param p[6];

    split(primary, local, domain);
    p[0] = DBP_S(local);
    p[1] = DBP_S(domain);
    p[2] = e->name[0] ? DBP_S(e->name) : DBP_NUL;
    p[3] = e->quota >= 0 ? DBP_I(e->quota * r->cfg->quota_unit) : DBP_NUL;
    p[4] = DBP_S(e->uuid);
    p[5] = DBP_S(e->dn);
    if (exec(r, "INSERT INTO mailboxes (local_part, domain, display_name,"
             " quota_bytes, owner, dir_uuid, dir_dn, state, state_since,"
             " state_reason) VALUES (?, ?, ?, ?, 'ldap', ?, ?, 'active',"
             " NOW(), 'new in the directory')", p, 6) < 0)
        return LK_TEMP;
    r->st.created++;
    return ds_state_log(r->db, e->uuid, primary, NULL, "active",
                        "new in the directory", &r->err);
}

int ds_apply_person(struct ds_run *r, const struct ds_entry *e)
{
    const struct ds_config *c = r->cfg;
    char primary[DS_ADDR_MAX + 1];
    struct want w[DS_ALIASES_MAX + DS_FORWARDS_MAX];
    size_t nw = 0;
    struct row row;
    int rc;

    if (e->mail.n == 0 || ds_canonical(e->mail.v[0], primary,
                                       sizeof(primary)) < 0) {
        log_warn("directory: %s (entry %s): no valid %s, skipped",
                 log_safe_cstr(e->dn), e->uuid, c->mail_attribute);
        r->st.skipped++;
        return 1;
    }
    if ((rc = local_domain(r, primary)) != LK_FOUND) {
        if (rc == LK_TEMP)
            return LK_TEMP;
        log_warn("directory: %s (entry %s): %s is not in a local domain, "
                 "skipped", log_safe_cstr(e->dn), e->uuid,
                 log_safe_cstr(primary));
        r->st.skipped++;
        return 1;
    }
    struct db_param pu[] = {DBP_S(e->uuid)};
    if ((rc = one_row(r, SQL_BY_UUID, pu, 1, &row)) == LK_TEMP)
        return LK_TEMP;
    if (rc == LK_NOTFOUND) {
        struct db_param pa[] = {DBP_S(primary)};
        if ((rc = one_row(r, SQL_BY_ADDRESS, pa, 1, &row)) == LK_TEMP)
            return LK_TEMP;
        if (rc == LK_FOUND && (strcmp(row.v[1], "ldap") != 0 ||
                               strcmp(row.v[3], "active") == 0)) {
            log_warn("directory: %s (entry %s): %s belongs to %s, skipped",
                     log_safe_cstr(e->dn), e->uuid, log_safe_cstr(primary),
                     strcmp(row.v[1], "ldap") ? "an SQL mailbox"
                                              : "another active entry");
            r->st.conflicts++;
            return 1;
        }
        if (rc == LK_FOUND) {
            /* a left account of an entry made again (a new entryUUID) */
            struct db_param k[] = {DBP_S(e->uuid), DBP_I(atoll(row.v[0]))};
            if (exec(r, "UPDATE mailboxes SET dir_uuid = ? WHERE id = ?", k,
                     2) < 0 ||
                exec(r, "UPDATE aliases SET dir_uuid = ? WHERE dir_uuid = ?",
                     (struct db_param[]){DBP_S(e->uuid), DBP_S(row.v[2])},
                     2) < 0 ||
                set_active(r, atoll(row.v[0]), e->uuid, primary, row.v[3],
                           "back in the directory (new entry)") < 0)
                return LK_TEMP;
        } else if (insert_mailbox(r, e, primary) < 0) {
            return LK_TEMP;
        }
        if ((rc = one_row(r, SQL_BY_UUID, pu, 1, &row)) != LK_FOUND)
            return LK_TEMP;
    }
    long long id = atoll(row.v[0]);
    if (strcmp(row.v[1], primary) != 0 &&
        (rc = rename_mailbox(r, id, e->uuid, row.v[1], primary)) != 0) {
        if (rc < 0)
            return LK_TEMP;
        /* conflict: the row keeps its address (a column of DS_ADDR_MAX) */
        if (str_copy_bounded(primary, sizeof(primary), row.v[1],
                             strlen(row.v[1])) < 0)
            return LK_TEMP;
    }
    long long quota = e->quota >= 0 ? e->quota * c->quota_unit : -1;
    struct db_param up[] = {
        e->name[0] ? DBP_S(e->name) : DBP_NUL,
        quota >= 0 ? DBP_I(quota) : DBP_NUL,
        DBP_S(e->dn), DBP_I(id)};
    if ((strcmp(row.v[3], e->name) != 0 || atoll(row.v[4]) != quota ||
         strcmp(row.v[5], e->dn) != 0) &&
        exec(r, "UPDATE mailboxes SET display_name = ?, quota_bytes = ?,"
             " dir_dn = ? WHERE id = ?", up, 4) < 0)
        return LK_TEMP; /* written only when it changed */
    if (!e->disabled && strcmp(row.v[2], "active") != 0 &&
        set_active(r, id, e->uuid, primary, row.v[2],
                   "back in the directory") < 0)
        return LK_TEMP;
    /* alternative addresses -> primary; primary -> forwards */
    for (size_t i = 0; i < e->aliases.n && nw < DS_ALIASES_MAX; i++) {
        if (ds_canonical(e->aliases.v[i], w[nw].source,
                         sizeof(w[nw].source)) < 0 ||
            !strcmp(w[nw].source, primary))
            continue;
        if ((rc = local_domain(r, w[nw].source)) == LK_TEMP)
            return LK_TEMP;
        if (rc == LK_NOTFOUND)
            continue;
        snprintf(w[nw].target, sizeof(w[nw].target), "%s", primary);
        w[nw].keep_copy = 0;
        w[nw++].have = 0;
    }
    for (size_t i = 0; i < e->forwards.n && i < DS_FORWARDS_MAX; i++) {
        if (ds_canonical(e->forwards.v[i], w[nw].target,
                         sizeof(w[nw].target)) < 0 ||
            !strcmp(w[nw].target, primary))
            continue;
        snprintf(w[nw].source, sizeof(w[nw].source), "%s", primary);
        w[nw].keep_copy = e->forward_copy != 0;
        w[nw++].have = 0;
    }
    if (sync_aliases(r, e->uuid, primary, w, nw) < 0 ||
        sync_roles(r, e, primary) < 0)
        return LK_TEMP;
    if (e->disabled)
        hmap_put(r->disabled, e->uuid, (void *)1);
    r->st.persons++;
    return 0;
}

/* --- leaving ------------------------------------------------------------ */

int ds_leave(struct ds_run *r, const char *uuid, const char *reason)
{
    struct db_param p[] = {DBP_S(uuid)};
    struct row row;
    int rc = one_row(r, "SELECT id, address, state FROM mailboxes WHERE"
                     " dir_uuid = ? AND owner = 'ldap'", p, 1, &row);

    if (rc != LK_FOUND)
        return rc == LK_TEMP ? LK_TEMP : 0;
    if (strcmp(row.v[2], "active") != 0)
        return 0; /* leaving or closed already */
    struct db_param u[] = {DBP_S(reason),
                           DBP_I(r->cfg->grace_period / 1000),
                           DBP_I(atoll(row.v[0]))};
    if (exec(r, "UPDATE mailboxes SET state = 'leaving', state_since = NOW(),"
             " state_reason = ?, grace_until = NOW() + INTERVAL ? SECOND,"
             " notice_sent_at = NULL, reminder_sent_at = NULL WHERE id = ?",
             u, 3) < 0)
        return LK_TEMP;
    r->st.left++;
    return ds_state_log(r->db, uuid, row.v[1], "active", "leaving", reason,
                        &r->err);
}

/* --- groups --------------------------------------------------------------- */

static const char SQL_RULE_BY_ADDR[] =
    "SELECT id, owner, IFNULL(dir_uuid, '') FROM group_send_rules WHERE"
    " group_address = ?";

/* drop_send_rule - the ldap-owned send rule of group uuid and its policy
   group go; 0 or LK_TEMP */
static int drop_send_rule(struct ds_run *r, const char *uuid)
{
    char pg[80];
    struct db_param p[] = {DBP_S(uuid)};

    snprintf(pg, sizeof(pg), "dir-send-%s", uuid);
    struct db_param g[] = {DBP_S(pg)};
    if (r->group_ids)
        free(hmap_del(r->group_ids, pg));
    if (exec(r, "DELETE FROM group_send_rules WHERE dir_uuid = ? AND owner ="
             " 'ldap'", p, 1) < 0 ||
        exec(r, "DELETE FROM policy_group_members WHERE dir_uuid = ? AND owner"
             " = 'ldap'", p, 1) < 0 ||
        exec(r, "DELETE FROM policy_groups WHERE name = ? AND id NOT IN"
             " (SELECT policy_group_id FROM group_send_allowed)", g, 1) < 0)
        return LK_TEMP;
    return 0;
}

/* sync_send_rule - UCS send restrictions of group e: only the listed
   users and groups may write to it; 0 or LK_TEMP */
static int sync_send_rule(struct ds_run *r, const struct ds_entry *e,
                          const char *address)
{
    char pg[80];
    struct strvec want = STRVEC_INIT;
    const char *types[DS_ALIASES_MAX * 2 + DS_ROLE_MAP_MAX];
    struct db_param pa[] = {DBP_S(address)};
    struct row row;
    int rc;

    if (e->allowed_users.n == 0 && e->allowed_groups.n == 0)
        return drop_send_rule(r, e->uuid);
    if ((rc = one_row(r, SQL_RULE_BY_ADDR, pa, 1, &row)) == LK_TEMP)
        return LK_TEMP;
    if (rc == LK_FOUND && strcmp(row.v[1], "sql") == 0)
        return drop_send_rule(r, e->uuid); /* the admin's rule wins */
    snprintf(pg, sizeof(pg), "dir-send-%s", e->uuid);
    long long gid = ensure_group(r, pg);
    if (gid < 0)
        return LK_TEMP;
    if (rc == LK_NOTFOUND) {
        struct db_param ins[] = {DBP_S(address), DBP_S(e->uuid)};
        if (exec(r, "INSERT INTO group_send_rules (group_address, may_send,"
                 " require_auth, owner, dir_uuid, description) VALUES (?,"
                 " 'groups', 1, 'ldap', ?, 'univentionAllowedEmail* of the"
                 " directory group')", ins, 2) < 0 ||
            one_row(r, SQL_RULE_BY_ADDR, pa, 1, &row) != LK_FOUND)
            return LK_TEMP;
    } else {
        struct db_param upd[] = {DBP_S(e->uuid), DBP_I(atoll(row.v[0]))};
        if (exec(r, "UPDATE group_send_rules SET may_send = 'groups',"
                 " require_auth = 1, active = 1, dir_uuid = ? WHERE id = ?",
                 upd, 2) < 0)
            return LK_TEMP;
    }
    struct db_param al[] = {DBP_I(atoll(row.v[0])), DBP_I(gid)};
    if (exec(r, "INSERT IGNORE INTO group_send_allowed (rule_id,"
             " policy_group_id) VALUES (?, ?)", al, 2) < 0)
        return LK_TEMP;
    /* users by DN: their mailbox address (a user not synced yet is added
       when the next full pass reaches this group again) */
    for (size_t i = 0; i < e->allowed_users.n && want.n < DS_ALIASES_MAX; i++) {
        struct db_param d[] = {DBP_S(e->allowed_users.v[i])};
        char pair[COL_MAX + 32];
        if ((rc = one_row(r, "SELECT address FROM mailboxes WHERE dir_dn = ?",
                          d, 1, &row)) == LK_TEMP)
            return LK_TEMP;
        if (rc == LK_NOTFOUND)
            continue;
        snprintf(pair, sizeof(pair), "%lld %s", gid, row.v[0]);
        types[want.n] = "address";
        strvec_add(&want, pair);
    }
    for (size_t i = 0; i < e->allowed_groups.n && want.n < 2 * DS_ALIASES_MAX;
         i++) {
        char pair[1200];
        snprintf(pair, sizeof(pair), "%lld %s", gid, e->allowed_groups.v[i]);
        types[want.n] = "ldap_group";
        strvec_add(&want, pair);
    }
    rc = sync_members(r, e->uuid, &want, types);
    strvec_free(&want);
    return rc;
}

int ds_apply_group(struct ds_run *r, const struct ds_entry *e)
{
    char address[DS_ADDR_MAX + 1];
    struct row row;
    int rc;

    if (e->mail.n == 0 || ds_canonical(e->mail.v[0], address,
                                       sizeof(address)) < 0) {
        log_warn("directory: group %s (entry %s): no valid address, skipped",
                 log_safe_cstr(e->dn), e->uuid);
        r->st.skipped++;
        return 1;
    }
    if ((rc = local_domain(r, address)) != LK_FOUND) {
        if (rc == LK_TEMP)
            return LK_TEMP;
        log_warn("directory: group %s: %s is not in a local domain, skipped",
                 log_safe_cstr(e->dn), log_safe_cstr(address));
        r->st.skipped++;
        return 1;
    }
    struct db_param pa[] = {DBP_S(address), DBP_S(e->uuid)};
    if ((rc = one_row(r, "SELECT dir_uuid FROM directory_groups WHERE address"
                      " = ? AND dir_uuid <> ?", pa, 2, &row)) == LK_TEMP)
        return LK_TEMP;
    if (rc == LK_FOUND) {
        log_warn("directory: group %s: %s belongs to entry %s, skipped",
                 log_safe_cstr(e->dn), log_safe_cstr(address), row.v[0]);
        r->st.conflicts++;
        return 1;
    }
    struct db_param up[] = {DBP_S(e->uuid), DBP_S(address), DBP_S(e->dn),
                            e->name[0] ? DBP_S(e->name) : DBP_NUL,
                            DBP_I(e->members)};
    if (exec(r, "INSERT INTO directory_groups (dir_uuid, address, dn, name,"
             " members) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
             " address = VALUES(address), dn = VALUES(dn), name ="
             " VALUES(name), members = VALUES(members)", up, 5) < 0 ||
        sync_send_rule(r, e, address) < 0)
        return LK_TEMP;
    r->st.groups++;
    return 0;
}

int ds_drop_group(struct ds_run *r, const char *uuid)
{
    struct db_param p[] = {DBP_S(uuid)};
    unsigned long long n = 0;

    if (drop_send_rule(r, uuid) < 0 ||
        db_exec(r->db, "DELETE FROM directory_groups WHERE dir_uuid = ?", p,
                1, &n, &r->err) < 0)
        return LK_TEMP;
    r->st.groups_removed += n;
    return 0;
}

void ds_entry_reset(struct ds_entry *e)
{
    strvec_free(&e->mail);
    strvec_free(&e->aliases);
    strvec_free(&e->forwards);
    strvec_free(&e->roles);
    strvec_free(&e->allowed_users);
    strvec_free(&e->allowed_groups);
    memset(e, 0, sizeof(*e));
    e->quota = -1;
    e->forward_copy = -1;
}
