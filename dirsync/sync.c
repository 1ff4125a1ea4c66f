/*
 * sync - one directory session: lib/ldapsync hands over every person and
 * group (the refresh), then every change (persist); each entry is written
 * by entry.c inside a batch transaction of up to DS_BATCH entries (one
 * COMMIT for many; a savepoint per entry, so one entry the database
 * refuses is logged and skipped, not the batch).  A batch is committed
 * when it is full and whenever the directory goes quiet, so a change is in
 * SQL within about DS_POLL_MS of arriving.  At the end of the refresh,
 * reconcile.c handles what was not seen.  The session ends after
 * full_sync_interval (the next one is a new full reconciliation), on a
 * signal, or on any failure (the caller waits retry_interval and starts a
 * new one: a failed batch is rolled back and done again by that refresh).
 *
 * Limits: DS_BATCH entries per transaction; the lists of struct ds_entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "dirsync.h"
#include "ldapsync.h"
#include "log.h"

#define DS_BATCH 500
#define DS_POLL_MS 200

/* the object classes that make an entry a group */
static const char *const group_classes[] = {
    "groupOfNames", "groupOfUniqueNames", "posixGroup", "univentionGroup",
    NULL};

volatile int ds_stop; /* set by main's signal handler */
volatile int ds_hup;  /* SIGHUP: end the session, main re-reads [directory] */

/* in_list - is name one of the items of the list setting? */
static int in_list(const char *list, const char *name)
{
    char item[128];
    int rc;

    while ((rc = cfg_list_next(&list, item, sizeof(item))) > 0)
        if (!strcasecmp(item, name))
            return 1;
    return 0;
}

static void add_bounded(struct ds_entry *e, struct strvec *l, size_t max,
                        const char *v)
{
    if (l->n < max)
        strvec_add(l, v);
    else
        e->truncated = 1;
}

static int on_value(void *ctx, const char *uuid, const char *dn,
                    const char *attr, const char *v, size_t len)
{
    struct ds_run *r = ctx;
    const struct ds_config *c = r->cfg;
    struct ds_entry *e = &r->cur;

    (void)len;
    if (attr == NULL) {
        ds_entry_reset(e);
        snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
        snprintf(e->dn, sizeof(e->dn), "%s", dn);
        return 0;
    }
    if (!strcasecmp(attr, "objectClass")) {
        for (size_t i = 0; group_classes[i]; i++)
            if (!strcasecmp(v, group_classes[i]))
                e->is_group = 1;
    } else if (!strcasecmp(attr, c->mail_attribute)) {
        add_bounded(e, &e->mail, DS_ALIASES_MAX, v);
    } else if (c->alias_attributes[0] && in_list(c->alias_attributes, attr)) {
        add_bounded(e, &e->aliases, DS_ALIASES_MAX, v);
    } else if (c->forward_attribute[0] &&
               !strcasecmp(attr, c->forward_attribute)) {
        add_bounded(e, &e->forwards, DS_FORWARDS_MAX, v);
    } else if (c->forward_copy_attribute[0] &&
               !strcasecmp(attr, c->forward_copy_attribute)) {
        e->forward_copy = strcmp(v, "0") != 0;
    } else if (c->quota_attribute[0] && !strcasecmp(attr, c->quota_attribute)) {
        char *end;
        long long q = strtoll(v, &end, 10);
        e->quota = *end == '\0' && q >= 0 && q < (1LL << 40) ? q : -1;
    } else if (c->name_attribute[0] && !strcasecmp(attr, c->name_attribute)) {
        snprintf(e->name, sizeof(e->name), "%s", v);
    } else if (!strcasecmp(attr, "cn") && e->name[0] == '\0') {
        snprintf(e->name, sizeof(e->name), "%s", v);
    } else if (c->role_attribute[0] && !strcasecmp(attr, c->role_attribute)) {
        add_bounded(e, &e->roles, DS_ALIASES_MAX, v);
    } else if (c->allowed_users_attribute[0] &&
               !strcasecmp(attr, c->allowed_users_attribute)) {
        add_bounded(e, &e->allowed_users, DS_ALIASES_MAX, v);
    } else if (c->allowed_groups_attribute[0] &&
               !strcasecmp(attr, c->allowed_groups_attribute)) {
        add_bounded(e, &e->allowed_groups, DS_ALIASES_MAX, v);
    } else if (c->member_attribute[0] &&
               !strcasecmp(attr, c->member_attribute)) {
        e->members++;
    }
    if (c->disabled_attribute[0] && !strcasecmp(attr, c->disabled_attribute) &&
        !strcasecmp(v, c->disabled_value))
        e->disabled = 1;
    return 0;
}

static int batch_begin(struct ds_run *r)
{
    if (r->in_tx)
        return 0;
    if (db_begin(r->db, &r->err) < 0)
        return LK_TEMP;
    r->in_tx = 1;
    r->batch = 0;
    return 0;
}

static int batch_commit(struct ds_run *r)
{
    if (!r->in_tx)
        return 0;
    r->in_tx = 0;
    if (db_commit(r->db, &r->err) < 0) {
        db_rollback(r->db);
        return LK_TEMP;
    }
    return 0;
}

static int on_entry_end(void *ctx)
{
    struct ds_run *r = ctx;
    struct ds_entry *e = &r->cur;
    int rc;

    hmap_put(r->seen, e->uuid, (void *)1);
    if (e->truncated)
        log_warn("directory: %s (entry %s): more values than postern keeps "
                 "(the first ones are used)", log_safe_cstr(e->dn), e->uuid);
    if (batch_begin(r) < 0 || db_savepoint(r->db, &r->err) < 0)
        return -1;
    str_reset(&r->err);
    rc = e->is_group ? ds_apply_group(r, e) : ds_apply_person(r, e);
    if (rc == 0 && !e->is_group && e->disabled && r->refreshed &&
        ds_guard_allows(r))
        rc = ds_leave(r, e->uuid, "disabled in the directory");
    if (rc == LK_TEMP) {
        if (db_rollback_savepoint(r->db, &r->err) < 0)
            return -1; /* the batch is lost: the session starts again */
        log_warn("directory: %s (entry %s) not written: %s",
                 log_safe_cstr(e->dn), e->uuid, log_safe_cstr(str_cstr(&r->err)));
        r->st.skipped++;
        str_reset(&r->err);
    }
    if (++r->batch >= DS_BATCH && batch_commit(r) < 0)
        return -1;
    if (r->refreshed)
        log_debug("directory: %s %s written", e->is_group ? "group" : "person",
                  log_safe_cstr(e->dn));
    return 0;
}

static int on_present(void *ctx, const char *uuid)
{
    struct ds_run *r = ctx;

    hmap_put(r->seen, uuid, (void *)1);
    return 0;
}

static int on_deleted(void *ctx, const char *uuid)
{
    struct ds_run *r = ctx;
    struct db_param p[] = {DBP_S(uuid)};
    int rc;

    hmap_del(r->seen, uuid);
    if (batch_begin(r) < 0)
        return -1;
    rc = db_query(r->db, "SELECT 1 FROM directory_groups WHERE dir_uuid = ?",
                  p, 1, db_row_exists, NULL, &r->err);
    if (rc == LK_TEMP)
        return -1;
    if (rc == LK_FOUND)
        return ds_drop_group(r, uuid) < 0 ? -1 : 0;
    if (!r->refreshed)
        return 0; /* the reconciliation at the end decides */
    if (!ds_guard_allows(r))
        return 0; /* held: the next full pass asks the guard again */
    return ds_leave(r, uuid, "gone from the directory") < 0 ? -1 : 0;
}

static void write_state(struct ds_run *r)
{
    struct db_param p[] = {DBP_S(r->cfg->name), DBP_I(r->st.persons),
                           DBP_I(r->st.groups), DBP_I(r->held)};

    if (db_exec(r->db, "INSERT INTO directory_sync (name, last_full_at,"
                " persons, groups_count, held) VALUES (?, NOW(), ?, ?, ?) ON"
                " DUPLICATE KEY UPDATE last_full_at = NOW(), persons ="
                " VALUES(persons), groups_count = VALUES(groups_count), held ="
                " VALUES(held)", p, 4, NULL, &r->err) < 0)
        log_warn("directory: cannot write directory_sync: %s",
                 log_safe_cstr(str_cstr(&r->err)));
}

static int on_refresh_done(void *ctx)
{
    struct ds_run *r = ctx;
    long long ms;

    if (batch_commit(r) < 0)
        return -1;
    if (ds_reconcile(r) < 0)
        return -1;
    r->refreshed = 1;
    hmap_destroy(r->domains, NULL); /* the persist phase asks each time */
    r->domains = NULL;
    ds_preload_free(r);
    write_state(r);
    ms = clock_ms() - r->started_ms;
    log_info("directory: full pass in %lld ms: %lu persons (%lu new, %lu "
             "renamed, %lu back, %lu leaving), %lu groups (%lu removed), %lu "
             "skipped, %lu conflicts%s", ms, r->st.persons, r->st.created,
             r->st.renamed, r->st.reactivated, r->st.left, r->st.groups,
             r->st.groups_removed, r->st.skipped, r->st.conflicts,
             r->held ? "; leavers HELD by the guard" : "");
    return r->once ? 1 : 0;
}

/* confirmed - has an admin confirmed a held pass since? */
static int confirmed(struct ds_run *r)
{
    struct db_param p[] = {DBP_S(r->cfg->name)};

    return db_query(r->db, "SELECT id FROM directory_guard WHERE source_name"
                    " = ? AND confirmed_at IS NOT NULL AND applied_at IS"
                    " NULL", p, 1, db_row_exists, NULL, &r->err) == LK_FOUND;
}

static int on_idle(void *ctx)
{
    struct ds_run *r = ctx;
    long long now = clock_ms();

    if (batch_commit(r) < 0)
        return -1;
    if (ds_stop || ds_hup)
        return 1;
    if (!r->refreshed)
        return 0;
    if (now - r->last_lifecycle_ms >= r->cfg->lifecycle_interval) {
        r->last_lifecycle_ms = now;
        str_reset(&r->err);
        if (ds_lifecycle_run(r->db, r->cfg, time(NULL), &r->err) < 0)
            log_warn("directory: life cycle: %s",
                     log_safe_cstr(str_cstr(&r->err)));
        if (r->held && confirmed(r)) {
            log_info("directory: an admin confirmed the held pass: a new "
                     "full pass applies it");
            return 1;
        }
    }
    return now - r->started_ms >= r->cfg->full_sync_interval ? 1 : 0;
}

static const struct ldapsync_ops ops = {
    on_value, on_entry_end, on_present, on_deleted, on_refresh_done, on_idle};

int ds_session(struct ds_run *r, struct ldapc *lc)
{
    const struct ds_config *c = r->cfg;
    const char *attrs[24];
    size_t n = 0;
    struct str filter = STR_INIT;
    char item[128];
    const char *cur;
    int rc;

    attrs[n++] = "objectClass";
    attrs[n++] = "cn";
    const char *single[] = {c->mail_attribute, c->forward_attribute,
                            c->forward_copy_attribute, c->quota_attribute,
                            c->name_attribute, c->disabled_attribute,
                            c->role_attribute, c->allowed_users_attribute,
                            c->allowed_groups_attribute, c->member_attribute};
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
        if (single[i][0])
            attrs[n++] = single[i];
    static char alias_names[DS_ATTRS_MAX][128];
    cur = c->alias_attributes;
    for (int k = 0; k < DS_ATTRS_MAX &&
                    cfg_list_next(&cur, item, sizeof(item)) > 0; k++) {
        snprintf(alias_names[k], sizeof(alias_names[k]), "%s", item);
        attrs[n++] = alias_names[k];
    }
    attrs[n] = NULL;
    str_appendf(&filter, "(|%s%s)", c->person_filter, c->group_filter);

    r->seen = hmap_new(4096, HMAP_COPYKEYS);
    r->disabled = hmap_new(64, HMAP_COPYKEYS);
    r->domains = hmap_new(64, HMAP_COPYKEYS | HMAP_NOCASE);
    r->refreshed = 0;
    r->in_tx = 0;
    r->started_ms = clock_ms();
    r->persist_leaves = 0;
    memset(&r->st, 0, sizeof(r->st));
    ds_entry_reset(&r->cur);
    str_reset(&r->err);
    if (ds_preload(r) < 0) {
        rc = LK_TEMP;
        goto out;
    }
    rc = ldapsync_run(lc, r->base, str_cstr(&filter), attrs, DS_POLL_MS, &ops,
                      r, &r->err);
out:
    if (r->in_tx) {
        db_rollback(r->db);
        r->in_tx = 0;
    }
    ds_entry_reset(&r->cur);
    hmap_destroy(r->seen, NULL);
    hmap_destroy(r->disabled, NULL);
    if (r->domains)
        hmap_destroy(r->domains, NULL);
    ds_preload_free(r);
    r->seen = r->disabled = r->domains = NULL;
    str_free(&filter);
    return rc;
}
