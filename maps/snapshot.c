/*
 * snapshot - read the routing tables of MariaDB into one immutable
 * in-memory snapshot, indexed for the lookups in resolve.c.
 *
 * Every table is read in full with one prepared SELECT (only active rows;
 * mailboxes with their life-cycle state, and the directory groups of
 * postern-dirsync, sql/migrations/0006_directory.sql);
 * rows are first collected in the arena, then indexed, because strmap needs
 * its size up front.  Keys are lower-cased.  The load is all or nothing: any
 * database error discards the partial snapshot.
 *
 * snapshot_new / snapshot_add_row / snapshot_done build a snapshot from
 * rows given by hand, through the same indexing as the loader (unit tests:
 * tests/unit/maps/test_resolve.c).
 *
 * Limits: memory grows with the tables (about 200 bytes per mailbox plus the
 * index); there is no row limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maps.h"
#include "clock.h"
#include "mem.h"

/* The SQL, one statement per table and one per key of it (a delta,
   delta.c).  Column order matters to the loaders; each pair reads the same
   columns. */
static const char SQL_DOMAINS[] =
    "SELECT name, kind, alias_target, transport, legacy_transport, relayhost, "
    "default_quota_bytes FROM domains WHERE active = 1";
static const char SQL_DOMAINS_KEY[] =
    "SELECT name, kind, alias_target, transport, legacy_transport, relayhost, "
    "default_quota_bytes FROM domains WHERE active = 1 AND name = ?";
static const char SQL_MAILBOXES[] =
    "SELECT m.address, m.maildir, m.migration_state, m.transport, m.relayhost, "
    "m.state, m.closed_forward, m.quota_bytes FROM mailboxes m "
    "WHERE m.active = 1";
static const char SQL_MAILBOXES_KEY[] =
    "SELECT m.address, m.maildir, m.migration_state, m.transport, m.relayhost, "
    "m.state, m.closed_forward, m.quota_bytes FROM mailboxes m "
    "WHERE m.active = 1 AND m.address = ?";
static const char SQL_ALIASES[] =
    "SELECT source, target, keep_copy FROM aliases WHERE active = 1 "
    "ORDER BY id";
static const char SQL_ALIASES_KEY[] =
    "SELECT source, target, keep_copy FROM aliases WHERE active = 1 "
    "AND source = ? ORDER BY id";
static const char SQL_TRANSPORTS[] =
    "SELECT match_type, pattern, purpose, transport FROM transports "
    "WHERE active = 1";
static const char SQL_RELAYHOSTS[] =
    "SELECT match_type, pattern, nexthop FROM relayhosts WHERE active = 1";
static const char SQL_GRANTS[] =
    "SELECT login, match_type, pattern FROM sender_grants WHERE active = 1 "
    "ORDER BY id";
/* both match types: the index is (match_type, pattern) */
static const char SQL_GRANTS_KEY[] =
    "SELECT login, match_type, pattern FROM sender_grants WHERE active = 1 "
    "AND match_type IN ('address', 'domain') AND pattern = ? ORDER BY id";
/* directory groups (postern-dirsync): valid recipients without a mailbox */
static const char SQL_GROUPS[] = "SELECT address FROM directory_groups";
static const char SQL_GROUPS_KEY[] =
    "SELECT address FROM directory_groups WHERE address = ?";

const char *snapshot_sql(enum snap_table t, int by_key)
{
    static const char *const full[] = {SQL_DOMAINS, SQL_MAILBOXES,
        SQL_ALIASES, SQL_TRANSPORTS, SQL_RELAYHOSTS, SQL_GRANTS, SQL_GROUPS};
    static const char *const key[] = {SQL_DOMAINS_KEY, SQL_MAILBOXES_KEY,
        SQL_ALIASES_KEY, NULL, NULL, SQL_GRANTS_KEY, SQL_GROUPS_KEY};

    return by_key ? key[t] : full[t];
}

/* Rows are collected as a linked list of string vectors before indexing. */
struct row {
    struct row *next;
    char *v[SNAP_COLS_MAX];
};

struct rows {
    struct arena *a;       /* the snapshot's: the strings */
    struct arena *scratch; /* the row structs, freed after indexing */
    struct row *head;
    size_t n;
    unsigned want;
};

static int collect(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct rows *rs = ctx;
    struct row *r = arena_alloc(rs->scratch, sizeof(*r));

    (void)lens;
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; i < ncols && i < rs->want && i < SNAP_COLS_MAX; i++)
        r->v[i] = vals[i] ? arena_strdup(rs->a, vals[i]) : NULL;
    r->next = rs->head;
    rs->head = r;
    rs->n++;
    return 0;
}

static int read_table(struct db *db, struct arena *a, struct arena *scratch,
                      const char *sql, unsigned want, struct rows *rs,
                      struct str *err)
{
    *rs = (struct rows){a, scratch, NULL, 0, want};
    return db_query(db, sql, NULL, 0, collect, rs, err) < 0 ? -1 : 0;
}

void slist_add(struct arena *a, struct slist *l, const char *s, int flag)
{
    struct sval *v = arena_alloc(a, sizeof(*v));

    v->s = s;
    v->flag = flag;
    v->next = NULL;
    if (l->tail)
        l->tail->next = v;
    else
        l->head = v;
    l->tail = v;
    l->n++;
}

/* the row's strings are in the snapshot's arena already (collect,
   snapshot_add_row): used as they are, lower-cased in place */
static const char *opt(const char *s)
{
    return s && *s ? s : NULL;
}

static char *lower(char *s)
{
    str_lower(s, strlen(s));
    return s;
}

static struct slist *list_at(struct snapshot *s, struct strmap *m,
                             const char *key)
{
    struct slist *l = strmap_get(m, key);

    if (l == NULL) {
        l = arena_alloc(&s->arena, sizeof(*l));
        memset(l, 0, sizeof(*l));
        strmap_put(m, key, l);
    }
    return l;
}

/* --- one row of each table into the indexes (v: the SELECT's columns,
   in the snapshot's arena; NULL = SQL NULL) ------------------------------ */

static void add_domain(struct snapshot *s, char **v)
{
    struct dom *d = arena_alloc(&s->arena, sizeof(*d));
    const char *k = v[1] ? v[1] : "";

    d->name = lower(v[0]);
    d->kind = !strcmp(k, "alias")    ? DOM_ALIAS
              : !strcmp(k, "relay")  ? DOM_RELAY
              : !strcmp(k, "legacy") ? DOM_LEGACY
                                     : DOM_LOCAL;
    d->alias_target = v[2] ? lower(v[2]) : NULL;
    d->transport = opt(v[3]);
    d->legacy_transport = opt(v[4]);
    d->relayhost = opt(v[5]);
    d->default_quota = v[6] ? strtoll(v[6], NULL, 10) : -1;
    if (d->kind == DOM_ALIAS && d->alias_target == NULL)
        d->kind = DOM_LOCAL; /* the schema forbids it; be safe */
    strmap_put(&s->domains, d->name, d);
}

/* rcpt_domain_count - count the mailboxes of addr's domain up (+1) or down
   (-1): relayrecipient lists the recipients of a relay domain with
   mailbox rows; the value is the count, the key lives in the arena */
static void rcpt_domain_count(struct snapshot *s, const char *addr, int by)
{
    const char *at = strrchr(addr, '@');
    uintptr_t n;

    if (at == NULL || at[1] == '\0')
        return;
    n = (uintptr_t)strmap_get(&s->rcpt_doms, at + 1);
    if (n == 0 && by > 0)
        strmap_put(&s->rcpt_doms, arena_strdup(&s->arena, at + 1), (void *)1);
    else if (n == 1 && by < 0)
        hmap_del(&s->rcpt_doms.h, at + 1);
    else if (n > 0)
        hmap_replace(&s->rcpt_doms.h, at + 1, (void *)(n + (uintptr_t)by));
}

static void add_mailbox(struct snapshot *s, char **v)
{
    struct mbox *m = arena_alloc(&s->arena, sizeof(*m));

    m->address = lower(v[0]);
    m->maildir = v[1] ? v[1] : "";
    m->legacy = v[2] && !strcmp(v[2], "legacy");
    m->transport = opt(v[3]);
    m->relayhost = opt(v[4]);
    /* the schema's ENUM; anything else (impossible) is answered as active */
    m->state = v[5] && !strcmp(v[5], "closed")    ? MBOX_CLOSED
               : v[5] && !strcmp(v[5], "leaving") ? MBOX_LEAVING
                                                  : MBOX_ACTIVE;
    m->closed_forward = m->state == MBOX_CLOSED && opt(v[6]) ? lower(v[6])
                                                              : NULL;
    m->quota = v[7] ? strtoll(v[7], NULL, 10) : -1;
    if (strmap_put(&s->mailboxes, m->address, m) == m)
        rcpt_domain_count(s, m->address, +1);
}

static void add_alias(struct snapshot *s, char **v)
{
    str_lower(v[0], strlen(v[0]));
    slist_add(&s->arena, list_at(s, &s->aliases, v[0]),
              lower(v[1]),
              v[2] && strcmp(v[2], "0") != 0);
}

static void add_transport(struct snapshot *s, char **v)
{
    const char *type = v[0], *purpose = v[2] ? v[2] : "delivery";
    const char *pat = (v[1] ? lower(v[1]) : "");
    const char *tr = (v[3] ? v[3] : "");

    if (!strcmp(type, "default")) {
        if (!strcmp(purpose, "local"))
            s->tr_local = tr;
        else if (!strcmp(purpose, "legacy"))
            s->tr_legacy = tr;
        else
            s->tr_default = tr;
    } else if (!strcmp(type, "address")) {
        strmap_put(&s->tr_addr, pat, (void *)tr);
    } else {
        /* domain rows: "dom" routes delivery, "local:dom" and
           "legacy:dom" override the local and legacy routes */
        char *key = (char *)pat;
        if (strcmp(purpose, "delivery") != 0) {
            key = arena_alloc(&s->arena, strlen(purpose) + strlen(pat) + 2);
            sprintf(key, "%s:%s", purpose, pat);
        }
        strmap_put(&s->tr_dom, key, (void *)tr);
    }
}

static void add_relayhost(struct snapshot *s, char **v)
{
    const char *pat = (v[1] ? lower(v[1]) : "");
    const char *nh = (v[2] ? v[2] : "");

    if (!strcmp(v[0], "default"))
        s->rh_default = nh;
    else if (!strcmp(v[0], "address"))
        strmap_put(&s->rh_addr, pat, (void *)nh);
    else
        strmap_put(&s->rh_dom, pat, (void *)nh);
}

/* a group: its address is all the maps need (the milter expands it) */
static void add_group(struct snapshot *s, char **v)
{
    const char *a;

    if (v[0] == NULL) /* NOT NULL in the schema */
        return;
    a = lower(v[0]);
    strmap_put(&s->groups, a, (void *)a);
}

static void add_grant(struct snapshot *s, char **v)
{
    const char *login = lower(v[0]);
    const char *pat = (v[2] ? lower(v[2]) : "");
    struct strmap *m = !strcmp(v[1], "domain") ? &s->grant_dom : &s->grant_addr;

    slist_add(&s->arena, list_at(s, m, pat), login, 0);
}

const char *snapshot_alias_owner(const struct snapshot *s, const char *src)
{
    const struct slist *l = strmap_get(&s->aliases, src);

    const struct mbox *m;

    if (l && l->n == 1 && (m = strmap_get(&s->mailboxes, l->head->s)) != NULL &&
        m->state != MBOX_CLOSED)
        return l->head->s;
    return NULL;
}

/* --- the loaders: one table each ------------------------------------------ */

static int load_domains(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_DOMAINS, 7, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->domains, rs.n);
    strmap_init(&s->rcpt_doms, rs.n);
    for (struct row *r = rs.head; r; r = r->next)
        add_domain(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

static int load_mailboxes(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_MAILBOXES, 8, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->mailboxes, rs.n);
    for (struct row *r = rs.head; r; r = r->next)
        add_mailbox(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

/* Rows come back in reverse; put them in SQL order for stable answers. */
static struct row *reverse(struct row *r)
{
    struct row *out = NULL;

    while (r) {
        struct row *next = r->next;
        r->next = out;
        out = r;
        r = next;
    }
    return out;
}


static int load_aliases(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_ALIASES, 3, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->aliases, rs.n);
    for (struct row *r = reverse(rs.head); r; r = r->next)
        add_alias(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

static int load_transports(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_TRANSPORTS, 4, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->tr_addr, rs.n);
    strmap_init(&s->tr_dom, rs.n);
    for (struct row *r = rs.head; r; r = r->next)
        add_transport(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

static int load_relayhosts(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_RELAYHOSTS, 3, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->rh_addr, rs.n);
    strmap_init(&s->rh_dom, rs.n);
    for (struct row *r = rs.head; r; r = r->next)
        add_relayhost(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

static int load_grants(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_GRANTS, 3, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->grant_addr, rs.n);
    strmap_init(&s->grant_dom, rs.n);
    for (struct row *r = reverse(rs.head); r; r = r->next)
        add_grant(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

static int load_groups(struct snapshot *s, struct db *db, struct str *err)
{
    struct rows rs;
    struct arena scratch = {0};

    if (read_table(db, &s->arena, &scratch, SQL_GROUPS, 1, &rs, err) < 0)
        return arena_free(&scratch), -1;
    strmap_init(&s->groups, rs.n);
    for (struct row *r = rs.head; r; r = r->next)
        add_group(s, r->v);
    s->rows += rs.n;
    arena_free(&scratch);
    return 0;
}

struct snapshot *snapshot_load(struct db *db, struct str *err)
{
    struct snapshot *s = xcalloc(1, sizeof(*s));
    long long t0 = clock_ms();

    /* the reloader reads the generations in the same transaction: a
       change during the load is seen by the next poll */
    if (load_domains(s, db, err) < 0 || load_mailboxes(s, db, err) < 0 ||
        load_aliases(s, db, err) < 0 || load_transports(s, db, err) < 0 ||
        load_relayhosts(s, db, err) < 0 || load_grants(s, db, err) < 0 ||
        load_groups(s, db, err) < 0) {
        snapshot_free(s);
        return NULL;
    }
    s->load_ms = clock_ms() - t0;
    s->base_used = s->arena.used_total;
    return s;
}

void snapshot_free(struct snapshot *s)
{
    if (s == NULL)
        return;
    strmap_free(&s->domains);
    strmap_free(&s->mailboxes);
    strmap_free(&s->aliases);
    strmap_free(&s->tr_addr);
    strmap_free(&s->tr_dom);
    strmap_free(&s->rh_addr);
    strmap_free(&s->rh_dom);
    strmap_free(&s->grant_addr);
    strmap_free(&s->grant_dom);
    strmap_free(&s->rcpt_doms);
    strmap_free(&s->groups);
    arena_free(&s->arena);
    free(s);
}

/* --- a snapshot without a database (unit tests) ---------------------------- */

struct snapshot *snapshot_new(void)
{
    return xcalloc(1, sizeof(struct snapshot)); /* empty indexes are valid */
}

void snapshot_add_row(struct snapshot *s, enum snap_table t,
                      const char *const *v)
{
    static void (*const add[])(struct snapshot *, char **) = {
        add_domain, add_mailbox, add_alias, add_transport, add_relayhost,
        add_grant, add_group};
    static const unsigned cols[] = {7, 8, 3, 4, 3, 3, 1};
    char *c[SNAP_COLS_MAX] = {NULL};

    for (unsigned i = 0; i < cols[t]; i++)
        c[i] = v[i] ? arena_strdup(&s->arena, v[i]) : NULL;
    add[t](s, c);
    s->rows++;
}

void snapshot_done(struct snapshot *s)
{
    s->base_used = s->arena.used_total;
}

/* --- changes in place (delta.c) ----------------------------------------- */

static size_t list_len(const struct slist *l)
{
    return l ? l->n : 0;
}

void snapshot_remove(struct snapshot *s, enum snap_table t, const char *key)
{
    char k[SNAP_KEY_MAX + 1];
    size_t n = strlen(key);
    struct mbox *m;

    if (n > SNAP_KEY_MAX)
        return; /* longer than any column: never indexed */
    memcpy(k, key, n + 1);
    str_lower(k, n);
    switch (t) {
    case SNAP_DOMAINS:
        s->rows -= hmap_del(&s->domains.h, k) != NULL;
        break;
    case SNAP_MAILBOXES:
        if ((m = hmap_del(&s->mailboxes.h, k)) != NULL) {
            rcpt_domain_count(s, m->address, -1);
            s->rows--;
        }
        break;
    case SNAP_ALIASES:
        s->rows -= list_len(hmap_del(&s->aliases.h, k));
        break;
    case SNAP_GRANTS:
        s->rows -= list_len(hmap_del(&s->grant_addr.h, k));
        s->rows -= list_len(hmap_del(&s->grant_dom.h, k));
        break;
    case SNAP_GROUPS:
        s->rows -= hmap_del(&s->groups.h, k) != NULL;
        break;
    case SNAP_TRANSPORTS:
    case SNAP_RELAYHOSTS:
        snapshot_clear(s, t);
        break;
    }
}

void snapshot_clear(struct snapshot *s, enum snap_table t)
{
    if (t == SNAP_TRANSPORTS) {
        strmap_free(&s->tr_addr);
        strmap_free(&s->tr_dom);
        s->tr_default = s->tr_local = s->tr_legacy = NULL;
    } else if (t == SNAP_RELAYHOSTS) {
        strmap_free(&s->rh_addr);
        strmap_free(&s->rh_dom);
        s->rh_default = NULL;
    }
}
