/*
 * reconcile - the end of a full refresh, and the mass-change guard.
 *
 * Every active directory account the refresh did not hand over (or handed
 * over disabled) leaves; every directory group it did not hand over goes.
 * Unless too many would: more than max_leave_share per mille of the active
 * accounts (at least max_leave_floor) in one pass, or as many of the
 * groups, is never applied.  The pass is recorded in directory_guard, the
 * source is marked held (directory_sync.held) and an error is logged; the
 * accounts stay active and the groups stay until an admin confirms
 * (postern-dirsync confirm ID), after which the next full pass applies
 * what the directory then says.  A directory that answers nothing, a wrong base DN or an
 * empty export therefore close nobody.  A refresh that does not complete
 * (the directory unreachable, the connection lost) never gets here.
 *
 * In the persist phase, single deletions are allowed up to the same number
 * since the last full pass (ds_guard_allows); past it, the source is held
 * the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirsync.h"
#include "log.h"

#define SAMPLE_MAX 20   /* addresses named in a guard row */
#define APPLY_BATCH 500 /* leaves per transaction */

struct scan {
    struct ds_run *r;
    struct strvec gone, why, sample;
    unsigned long total;
    int groups;
};

static int person_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct scan *s = ctx;

    (void)l;
    if (n < 2)
        return 0;
    s->total++;
    if (hmap_get(s->r->seen, v[0]) == NULL) {
        strvec_add(&s->gone, v[0]);
        strvec_add(&s->why, "gone from the directory");
    } else if (hmap_get(s->r->disabled, v[0]) != NULL) {
        strvec_add(&s->gone, v[0]);
        strvec_add(&s->why, "disabled in the directory");
    } else {
        return 0;
    }
    if (s->sample.n < SAMPLE_MAX)
        strvec_add(&s->sample, v[1]);
    return 0;
}

static int group_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct scan *s = ctx;

    (void)l;
    if (n < 2)
        return 0;
    s->total++;
    if (hmap_get(s->r->seen, v[0]) == NULL) {
        strvec_add(&s->gone, v[0]);
        if (s->sample.n < SAMPLE_MAX)
            strvec_add(&s->sample, v[1]);
    }
    return 0;
}

static long long allowed_of(const struct ds_config *c, unsigned long total)
{
    long long a = (long long)total * c->max_leave_share / 1000;

    return a > c->max_leave_floor ? a : c->max_leave_floor;
}

/* first_value - a db_row_fn: the first column into a 64-byte buffer */
static int first_value(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    if (n > 0 && v[0])
        snprintf(ctx, 64, "%.*s", (int)l[0], v[0]);
    return 1;
}

/* hold - record that the guard stopped this pass; 0 or LK_TEMP */
static int hold(struct ds_run *r, unsigned long would, unsigned long total,
                const struct strvec *sample, const char *what)
{
    struct str s = STR_INIT;
    int rc;

    for (size_t i = 0; i < sample->n; i++)
        str_appendf(&s, "%s%s", i ? " " : "", sample->v[i]);
    struct db_param p[] = {DBP_S(r->cfg->name), DBP_I(would), DBP_I(total),
                           DBP_S(str_cstr(&s))};
    rc = db_exec(r->db, "INSERT INTO directory_guard (source_name,"
                 " would_leave, active_total, sample) VALUES (?, ?, ?, ?)",
                 p, 4, NULL, &r->err);
    struct db_param h[] = {DBP_S(r->cfg->name)};
    if (rc == 0)
        rc = db_exec(r->db, "INSERT INTO directory_sync (name, held) VALUES"
                     " (?, 1) ON DUPLICATE KEY UPDATE held = 1", h, 1, NULL,
                     &r->err);
    log_error("directory: GUARD: this pass would move %lu of %lu %s out of "
              "the directory (more than [directory] max_leave_share allows); "
              "nothing moved. Check the directory, then confirm with "
              "postern-dirsync confirm (see directory_guard): %s", would,
              total, what, log_safe_cstr(str_cstr(&s)));
    str_free(&s);
    r->held = 1;
    return rc;
}

/* apply - each gone uuid leaves (persons) or goes (groups), in batches */
static int apply(struct ds_run *r, const struct scan *s)
{
    for (size_t i = 0; i < s->gone.n; i += APPLY_BATCH) {
        if (db_begin(r->db, &r->err) < 0)
            return LK_TEMP;
        for (size_t j = i; j < s->gone.n && j < i + APPLY_BATCH; j++) {
            int rc = s->groups ? ds_drop_group(r, s->gone.v[j])
                               : ds_leave(r, s->gone.v[j], s->why.v[j]);
            if (rc < 0) {
                db_rollback(r->db);
                return LK_TEMP;
            }
        }
        if (db_commit(r->db, &r->err) < 0) {
            db_rollback(r->db);
            return LK_TEMP;
        }
    }
    return 0;
}

static void scan_free(struct scan *s)
{
    strvec_free(&s->gone);
    strvec_free(&s->why);
    strvec_free(&s->sample);
}

int ds_reconcile(struct ds_run *r)
{
    struct scan p = {r, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, 0, 0};
    struct scan g = {r, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, 0, 1};
    long long conf_id = 0, extra = 0, allowed_p, allowed_g;
    int rc = LK_TEMP;

    if (db_query(r->db, "SELECT dir_uuid, address FROM mailboxes WHERE owner"
                 " = 'ldap' AND state = 'active'", NULL, 0, person_row, &p,
                 &r->err) == LK_TEMP ||
        db_query(r->db, "SELECT dir_uuid, address FROM directory_groups", NULL,
                 0, group_row, &g, &r->err) == LK_TEMP)
        goto out;
    char buf[64] = "";
    struct db_param cp[] = {DBP_S(r->cfg->name)};
    if (db_query(r->db, "SELECT CONCAT(id, ' ', would_leave) FROM"
                 " directory_guard WHERE source_name = ? AND confirmed_at IS"
                 " NOT NULL AND applied_at IS NULL ORDER BY id DESC LIMIT 1",
                 cp, 1, first_value, buf, &r->err) == LK_TEMP)
        goto out;
    if (buf[0] && sscanf(buf, "%lld %lld", &conf_id, &extra) != 2)
        conf_id = extra = 0;
    /* a confirmed pass: the admin has checked the directory, this pass
       applies what it says */
    allowed_p = conf_id ? (long long)p.gone.n : allowed_of(r->cfg, p.total);
    allowed_g = conf_id ? (long long)g.gone.n : allowed_of(r->cfg, g.total);
    r->allowed_leaves = allowed_of(r->cfg, p.total);
    if ((long long)p.gone.n > allowed_p) {
        rc = hold(r, p.gone.n, p.total, &p.sample, "accounts");
        goto out;
    }
    if ((long long)g.gone.n > allowed_g) {
        rc = hold(r, g.gone.n, g.total, &g.sample, "groups");
        goto out;
    }
    if (apply(r, &p) < 0 || apply(r, &g) < 0)
        goto out;
    r->held = 0;
    struct db_param h[] = {DBP_S(r->cfg->name)};
    if (db_exec(r->db, "INSERT INTO directory_sync (name, held) VALUES (?, 0)"
                " ON DUPLICATE KEY UPDATE held = 0", h, 1, NULL, &r->err) < 0)
        goto out;
    if (conf_id) {
        struct db_param a[] = {DBP_I(conf_id)};
        if (db_exec(r->db, "UPDATE directory_guard SET applied_at = NOW()"
                    " WHERE id = ?", a, 1, NULL, &r->err) < 0)
            goto out;
        log_info("directory: applied the pass confirmed by an admin (guard "
                 "%lld)", conf_id);
    }
    rc = 0;
out:
    scan_free(&p);
    scan_free(&g);
    return rc;
}

int ds_guard_allows(struct ds_run *r)
{
    struct strvec none = STRVEC_INIT;

    if (r->held)
        return 0;
    if (r->persist_leaves + 1 <= r->allowed_leaves) {
        r->persist_leaves++;
        return 1;
    }
    if (hold(r, (unsigned long)r->persist_leaves + 1,
             (unsigned long)r->st.persons, &none, "accounts (one by one)") < 0)
        log_warn("directory: cannot record the guard: %s",
                 log_safe_cstr(str_cstr(&r->err)));
    return 0;
}
