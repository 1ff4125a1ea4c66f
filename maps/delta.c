/*
 * delta - a change to a few rows of the routing tables, applied to the
 * live snapshot in place instead of loading every table again
 * (lib/reloader.h; sql/migrations/0005_change_log.sql).
 *
 * fetch runs in the loader thread inside the reloader's consistent
 * transaction: for every changed key (a domain name, a mailbox address, an
 * alias source, a send-as pattern, a directory group address) it reads the rows that key has now, by
 * the same columns as the full load (snapshot_sql); a key with no row left
 * means the row was deleted or deactivated.  transports and relayhosts are
 * small and are read whole when any of their rows changed.  apply runs in
 * the event loop, which owns the snapshot: it drops what each key indexed
 * and adds the rows read, so lookups between two requests see the table
 * before or after the change, never half of it.
 *
 * Memory: a changed row is added to the snapshot's arena and the row it
 * replaces stays there as garbage; when the arena has grown by more than a
 * quarter of the full load (at least DELTA_GARBAGE_MIN), apply asks the
 * reloader for a full load, which compacts.
 *
 * Limits: RELOADER_DELTA_MAX keys per delta (more: a full load); keys
 * longer than SNAP_KEY_MAX are ignored (no column holds them).
 */
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "hash.h"
#include "mem.h"

#define DELTA_GARBAGE_MIN (8u << 20)

struct drow {
    struct drow *next;
    enum snap_table t;
    char *v[SNAP_COLS_MAX];
};

struct dkey {
    struct dkey *next;
    enum snap_table t;
    const char *key;
};

struct maps_delta {
    struct arena a;
    struct dkey *keys;          /* to drop, in any order */
    struct drow *rows, *last;   /* to add, in the order read */
    int whole[SNAP_TABLES]; /* transports, relayhosts: read whole */
    size_t n_keys[SNAP_TABLES];
};

static const char *const TABLES[] = {"domains", "mailboxes", "aliases",
                                     "transports", "relayhosts",
                                     "sender_grants", "directory_groups",
                                     NULL};
static const unsigned COLS[] = {7, 8, 3, 4, 3, 3, 1};

static int table_of(const char *tbl)
{
    for (int t = 0; TABLES[t]; t++)
        if (!strcmp(TABLES[t], tbl))
            return t;
    return -1;
}

struct collect {
    struct maps_delta *d;
    enum snap_table t;
};

static int add_row(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct collect *c = ctx;
    struct drow *r = arena_alloc(&c->d->a, sizeof(*r));

    (void)lens;
    memset(r, 0, sizeof(*r));
    r->t = c->t;
    for (unsigned i = 0; i < ncols && i < COLS[c->t]; i++)
        r->v[i] = vals[i] ? arena_strdup(&c->d->a, vals[i]) : NULL;
    if (c->d->last)
        c->d->last->next = r;
    else
        c->d->rows = r;
    c->d->last = r;
    return 0;
}

static void delta_free(void *p)
{
    struct maps_delta *d = p;

    arena_free(&d->a);
    free(d);
}

/* read_key - the rows key has now in table t; 0 or -1 */
static int read_key(struct db *db, struct maps_delta *d, enum snap_table t,
                    const char *key, struct str *err)
{
    struct collect c = {d, t};
    struct db_param p;

    if (key == NULL) /* the whole table */
        return db_query(db, snapshot_sql(t, 0), NULL, 0, add_row, &c,
                        err) == LK_TEMP ? -1 : 0;
    p = DBP_S(key);
    return db_query(db, snapshot_sql(t, 1), &p, 1, add_row, &c, err) ==
                   LK_TEMP ? -1 : 0;
}

static void *delta_fetch(struct db *db, const struct reloader_changes *c,
                         struct str *err)
{
    struct maps_delta *d = xcalloc(1, sizeof(*d));
    struct hmap seen;
    int rc = 0;

    hmap_init(&seen, c->n, HMAP_NOCASE | HMAP_COPYKEYS);
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        int t = table_of(c->v[i].tbl);
        struct dkey *k;
        char *tk;

        if (t < 0 || strlen(c->v[i].key) > SNAP_KEY_MAX)
            continue;
        if (t == SNAP_TRANSPORTS || t == SNAP_RELAYHOSTS) {
            if (!d->whole[t])
                rc = read_key(db, d, t, NULL, err);
            d->whole[t] = 1;
            continue;
        }
        tk = arena_alloc(&d->a, strlen(c->v[i].key) + 3);
        tk[0] = (char)('0' + t);
        tk[1] = ':';
        strcpy(tk + 2, c->v[i].key);
        if (hmap_get(&seen, tk) != NULL)
            continue; /* this key again (any case): read once */
        hmap_put(&seen, tk, (void *)1);
        k = arena_alloc(&d->a, sizeof(*k));
        k->t = (enum snap_table)t;
        k->key = tk + 2;
        k->next = d->keys;
        d->keys = k;
        d->n_keys[t]++;
        rc = read_key(db, d, (enum snap_table)t, k->key, err);
    }
    hmap_free(&seen, NULL);
    if (rc < 0) {
        delta_free(d);
        return NULL;
    }
    return d;
}

static int delta_apply(void *snap, void *p)
{
    struct snapshot *s = snap;
    struct maps_delta *d = p;

    for (int t = 0; t < SNAP_TABLES; t++)
        if (d->whole[t])
            snapshot_clear(s, (enum snap_table)t);
    for (const struct dkey *k = d->keys; k; k = k->next)
        snapshot_remove(s, k->t, k->key);
    for (const struct drow *r = d->rows; r; r = r->next)
        snapshot_add_row(s, r->t, (const char *const *)r->v);
    return s->arena.used_total - s->base_used >
           (s->base_used / 4 > DELTA_GARBAGE_MIN ? s->base_used / 4
                                                 : DELTA_GARBAGE_MIN);
}

static void delta_describe(void *p, struct str *out)
{
    const struct maps_delta *d = p;
    const char *sep = "";

    for (int t = 0; t < SNAP_TABLES; t++) {
        if (d->whole[t])
            str_appendf(out, "%s%s (whole)", sep, TABLES[t]);
        else if (d->n_keys[t])
            str_appendf(out, "%s%s %zu", sep, TABLES[t], d->n_keys[t]);
        else
            continue;
        sep = ", ";
    }
}

static void *snap_load(struct db *db, struct str *err)
{
    return snapshot_load(db, err);
}

static void snap_free(void *s)
{
    snapshot_free(s);
}

static void snap_describe(void *p, struct str *out)
{
    const struct snapshot *s = p;

    str_appendf(out, "%zu rows in %lld ms, %zu KiB", s->rows, s->load_ms,
                s->arena.used_total / 1024);
}

const struct reloader_ops maps_reloader_ops = {
    .what = "routing tables",
    .load = snap_load,
    .free = snap_free,
    .describe = snap_describe,
    .tables = TABLES,
    .delta_tables = TABLES,
    .fetch = delta_fetch,
    .apply = delta_apply,
    .delta_free = delta_free,
    .delta_describe = delta_describe,
};
