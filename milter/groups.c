/*
 * groups - postern-milter's side of the group model: LDAP groups through
 * lib/ldapgroup.h (group addresses, expansion, membership, a login's
 * addresses; one cache shared by libmilter's threads) and policy groups
 * through lib/pgroup.h over one in-memory snapshot of policy_groups and
 * policy_group_members, kept current by lib/reloader.h (a change is seen
 * within [milter] poll_interval), the same snapshot and the same answers
 * as postern-policyd's.  The snapshot holds the alias domains of the
 * domains table too (lib/aliasdom.h, read in the same consistent
 * snapshot), so milter_canonical() gives every address the one form rules
 * match (lib/addr.h addr_canonical); policy-group address and domain
 * members are stored in that form.  milter_subgroups() lists the LDAP
 * groups nested below a group, so rights.c can apply each one's rule.
 *
 * A recipient is a group when [ldap] group_filter finds exactly one entry
 * for it; its DN and the values of [milter] send_rule_attribute are kept
 * (lib/ldapgroup.h has the directory layout: member_attribute,
 * mail_attribute, uid_filter, max_nesting, cache_ttl, and the freshness
 * check group_check_interval: a membership change in LDAP counts within
 * seconds; one thread reads a group while the others wait for it or keep
 * the cached answer).
 *
 * Limits and outcomes (lib/lookup.h): an expansion over [milter]
 * max_recipients addresses, over LDAPGROUP_MEMBERS_MAX, or nested deeper
 * than [ldap] max_nesting is LK_LIMIT; policy groups nested deeper than
 * PGROUP_NEST_MAX are LK_LIMIT; the caller defers and logs them apart.
 * LDAP or database trouble is LK_TEMP.  Until the first policy-group
 * snapshot is loaded (database unreachable since the start), policy-group
 * questions are LK_TEMP; afterwards the last snapshot serves while the
 * database is away.
 *
 * Closed mailboxes (postern-dirsync's life cycle, docs/directory.md) are
 * left out of an expansion unless they have a closed_forward: they are
 * refused at RCPT, and a member added after RCPT must not slip past that
 * into the kept Maildir (drop_closed: one query per 100 members).
 *
 * The snapshot also holds domains.dmarc_action of every domain that has
 * one (milter_dmarc_action, for milter/dmarc.c); without send_rules_sql
 * there is no snapshot and every domain uses [milter] dmarc_action.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aliasdom.h"
#include "log.h"
#include "mem.h"
#include "milter.h"
#include "clock.h"
#include "reloader.h"
#include "strvec.h"

/* --- LDAP groups --------------------------------------------------------- */

#define GROUP_CLOSED_BATCH 100 /* member addresses asked in one query */

int milter_group_lookup(struct mctx *m, struct mres *r, const char *addr,
                        struct ldapgroup_info *info, struct str *err)
{
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(r->ld);

    return ldapgroup_find(m->ldgroups, &be, addr, info, err);
}

static int closed_row(void *ctx, unsigned n, char **v,
                      const unsigned long *l)
{
    (void)n;
    (void)l;
    if (v[0])
        strvec_add(ctx, v[0]);
    return 0;
}

/*
 * drop_closed - take out of members (from 'from' on) the addresses whose
 * mailbox is closed without a closed_forward: postern-maps refuses them at
 * RCPT (550 5.2.1), but an expansion adds recipients after RCPT, and
 * Postfix would deliver into the kept Maildir.  A closed mailbox with a
 * closed_forward stays: Postfix's virtual alias expansion of the added
 * recipient forwards it.  Asked in batches of GROUP_CLOSED_BATCH
 * addresses; LK_FOUND, or LK_TEMP (+ *err); no database: nothing to ask.
 */
static int drop_closed(struct mres *r, struct strvec *members, size_t from,
                       struct str *err)
{
    struct db_param p[GROUP_CLOSED_BATCH];
    char (*lower)[ADDR_MAX + 1];   /* on the heap: libmilter's threads */
    struct strvec closed = STRVEC_INIT;
    struct str sql = STR_INIT;
    size_t keep = from, dropped = 0;

    if (r->db == NULL || members->n <= from)
        return LK_FOUND;
    str_append_cstr(&sql, "SELECT address FROM mailboxes WHERE state = "
                          "'closed' AND closed_forward IS NULL AND address "
                          "IN (?");
    for (int i = 1; i < GROUP_CLOSED_BATCH; i++)
        str_append_cstr(&sql, ", ?");
    str_append_char(&sql, ')');
    lower = xcalloc(GROUP_CLOSED_BATCH, sizeof(*lower));
    for (size_t i = from; i < members->n; i += GROUP_CLOSED_BATCH) {
        for (size_t j = 0; j < GROUP_CLOSED_BATCH; j++) {
            const char *a = i + j < members->n ? members->v[i + j] : "";
            if (str_copy_bounded(lower[j], sizeof(lower[j]), a, strlen(a)) < 0)
                lower[j][0] = '\0';
            str_lower(lower[j], strlen(lower[j]));
            p[j] = DBP_S(lower[j]);
        }
        if (db_query(r->db, str_cstr(&sql), p, GROUP_CLOSED_BATCH, closed_row,
                     &closed, err) < 0) {
            str_append_cstr(err, " (closed mailboxes among the members)");
            strvec_free(&closed);
            str_free(&sql);
            free(lower);
            return LK_TEMP;
        }
    }
    str_free(&sql);
    free(lower);
    for (size_t i = from; i < members->n; i++) {
        if (closed.n > 0 && strvec_has(&closed, members->v[i])) {
            free(members->v[i]);
            dropped++;
            continue;
        }
        members->v[keep++] = members->v[i];
    }
    members->n = keep;
    if (dropped > 0)
        log_info("group expansion: %zu closed mailbox(es) left out", dropped);
    strvec_free(&closed);
    return LK_FOUND;
}

int milter_group_expand(struct mctx *m, struct mres *r, const char *dn,
                        struct strvec *out, struct str *err)
{
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(r->ld);
    size_t from = out->n;
    int rc = ldapgroup_expand(m->ldgroups, &be, dn, out, err);

    if (rc == LK_NOTFOUND)
        return LK_FOUND; /* deleted meanwhile: no members */
    if (rc == LK_FOUND && (long long)out->n > m->cfg->max_recipients) {
        str_appendf(err, "more than %lld member addresses (%zu)",
                    m->cfg->max_recipients, out->n);
        return LK_LIMIT;
    }
    if (rc == LK_FOUND)
        rc = drop_closed(r, out, from, err);
    return rc;
}

int milter_group_has(struct mctx *m, struct mres *r, const char *group,
                     const struct strvec *who, struct str *err)
{
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(r->ld);
    int rc = LK_NOTFOUND;

    /* the member set is cached after the first question: one hash lookup
       per address; an outcome < 0 is the same for every address */
    for (size_t i = 0; i < who->n && rc == LK_NOTFOUND; i++)
        rc = ldapgroup_has(m->ldgroups, &be, group, who->v[i], err);
    return rc;
}

int milter_user_addresses(struct mctx *m, struct mres *r, const char *login,
                          struct strvec *out, struct str *err)
{
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(r->ld);

    return ldapgroup_user_addresses(m->ldgroups, &be, login, out, err);
}

/* --- the policy-group snapshot ------------------------------------------- */

/* what the reloader loads in one consistent snapshot */
struct mload {
    struct pgroup_set *set;
    struct aliasdom alias;       /* alias domain -> target */
    struct arena dm_arena;       /* domains.dmarc_action (milter/dmarc.c) */
    struct strmap dmarc;         /* domain -> "reject"/"quarantine"/"record" */
};

struct msnap {
    struct mload *data;
    int refs;                    /* the holder's own + questions running */
};

struct mpgroups {
    pthread_mutex_t lock;
    struct reloader *loader;
    struct msnap *cur;           /* NULL until the first load */
};

static void pg_free(void *p)
{
    struct mload *l = p;

    if (l == NULL)
        return;
    pgroup_set_free(l->set);
    aliasdom_free(&l->alias);
    strmap_free(&l->dmarc);
    arena_free(&l->dm_arena);
    free(l);
}

#define SQL_DMARC_ACTIONS \
    "SELECT name, dmarc_action FROM domains WHERE dmarc_action IS NOT NULL"

static int dmarc_row(void *ctx, unsigned ncols, char **v,
                     const unsigned long *lens)
{
    struct mload *l = ctx;

    (void)lens;
    if (ncols == 2 && v[0] && v[1] && strlen(v[0]) <= ADDR_DOMAIN_MAX)
        strmap_put(&l->dmarc, arena_strdup_lower(&l->dm_arena, v[0]),
                   arena_strdup(&l->dm_arena, v[1]));
    return 0;
}

/* pg_load - the alias domains, the per-domain DMARC actions, then the policy groups with their address
   and domain members in canonical form (a member's +extension is kept:
   the snapshot loader does not know the delimiter) */
static void *pg_load(struct db *db, struct str *err)
{
    struct mload *l = xcalloc(1, sizeof(*l));

    aliasdom_init(&l->alias);
    strmap_init(&l->dmarc, 16);
    if (aliasdom_load(&l->alias, db, err) < 0 ||
        db_query(db, SQL_DMARC_ACTIONS, NULL, 0, dmarc_row, l, err) < 0 ||
        (l->set = pgroup_load_canonical(db, NULL, aliasdom_target, &l->alias,
                                        1, err)) == NULL) {
        pg_free(l);
        return NULL;
    }
    return l;
}

static void pg_describe(void *p, struct str *out)
{
    struct mload *l = p;

    str_appendf(out, "%zu groups (%zu on a nesting cycle), %zu alias domains",
                pgroup_set_count(l->set), pgroup_set_cycles(l->set),
                l->alias.n);
}

/* the tables pg_load reads (alias domains, groups, members) */
static const char *const pg_tables[] = {"domains", "policy_groups",
                                        "policy_group_members", NULL};

static const struct reloader_ops pg_ops = {.what = "policy groups",
                                           .load = pg_load, .free = pg_free,
                                           .describe = pg_describe,
                                           .tables = pg_tables};

static void snap_unref(struct msnap *s)
{
    if (s && --s->refs == 0) {
        pg_free(s->data);
        free(s);
    }
}

/* snap_get - the newest snapshot with a reference held, or NULL. */
static struct msnap *snap_get(struct mpgroups *p)
{
    struct mload *fresh;
    struct msnap *s;

    pthread_mutex_lock(&p->lock); /* take and install in order */
    if ((fresh = reloader_take(p->loader)) != NULL) {
        s = xcalloc(1, sizeof(*s));
        s->data = fresh;
        s->refs = 1;
        snap_unref(p->cur);
        p->cur = s;
    }
    if ((s = p->cur) != NULL)
        s->refs++;
    pthread_mutex_unlock(&p->lock);
    return s;
}

static void snap_put(struct mpgroups *p, struct msnap *s)
{
    pthread_mutex_lock(&p->lock);
    snap_unref(s);
    pthread_mutex_unlock(&p->lock);
}

struct ldap_ask {
    struct mctx *m;
    struct mres *r;
};

static int pg_ldap_has(void *ctx, const char *group, const char *addr,
                       struct str *err)
{
    struct ldap_ask *a = ctx;
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(a->r->ld);

    return ldapgroup_has(a->m->ldgroups, &be, group, addr, err);
}

int milter_pgroups_has(struct mctx *m, struct mres *r, unsigned long gid,
                       const struct strvec *who, struct str *err)
{
    struct ldap_ask a = {m, r};
    struct pgroup_ldap ldap = {pg_ldap_has, &a};
    const struct pgroup *g;
    struct msnap *s;
    int rc;

    if (m->pgroups == NULL || (s = snap_get(m->pgroups)) == NULL) {
        str_appendf(err, "policy groups not loaded yet (database unreachable "
                    "since the start)");
        return LK_TEMP;
    }
    if ((g = pgroup_by_id(s->data->set, gid)) == NULL) {
        str_appendf(err, "policy group %lu not in the snapshot yet", gid);
        rc = LK_TEMP;
    } else {
        rc = pgroup_has_any(s->data->set, g, (const char *const *)who->v,
                            who->n, &ldap, err);
    }
    snap_put(m->pgroups, s);
    return rc;
}

int milter_subgroups(struct mctx *m, struct mres *r, const char *dn,
                     struct ldapgroup_subs *out, struct str *err)
{
    struct ldapgroup_backend be = ldapgroup_backend_ldapc(r->ld);
    int rc = ldapgroup_subgroups(m->ldgroups, &be, dn, out, err);

    return rc == LK_NOTFOUND ? LK_FOUND : rc; /* deleted meanwhile */
}

int milter_canonical(struct mctx *m, const char *in, int flags,
                     struct addr *out)
{
    struct msnap *s = m->pgroups ? snap_get(m->pgroups) : NULL;
    const char *why;
    int rc;

    rc = addr_canonical(in, strlen(in), m->cfg->recipient_delimiter, flags,
                        s ? aliasdom_target : NULL, s ? &s->data->alias : NULL,
                        out, &why);
    if (s)
        snap_put(m->pgroups, s);
    return rc;
}

int milter_dmarc_action(struct mctx *m, const char *domain, char *out,
                        size_t outsize)
{
    struct msnap *s = m->pgroups ? snap_get(m->pgroups) : NULL;
    const char *v = s ? strmap_get(&s->data->dmarc, domain) : NULL;
    int rc = v && str_copy_bounded(out, outsize, v, strlen(v)) == 0;

    if (s)
        snap_put(m->pgroups, s);
    return rc;
}

/* --- start and stop ------------------------------------------------------ */

int milter_groups_start(struct mctx *m, struct str *err)
{
    const struct milter_config *cfg = m->cfg;

    if ((m->ldgroups = ldapgroup_new(&cfg->ldap, cfg->send_rule_attribute,
                                     err)) == NULL)
        return -1;
    if (!cfg->send_rules_sql)
        return 0;
    m->pgroups = xcalloc(1, sizeof(*m->pgroups));
    pthread_mutex_init(&m->pgroups->lock, NULL);
    m->pgroups->loader = reloader_start(&pg_ops, &cfg->db, cfg->poll_interval,
                                        NULL, err);
    if (m->pgroups->loader == NULL) {
        milter_groups_stop(m);
        return -1;
    }
    return 0;
}

int milter_groups_ready(struct mctx *m, long long wait_ms)
{
    long long until = clock_ms() + wait_ms;
    struct msnap *s;

    if (m->pgroups == NULL)
        return 1;
    while ((s = snap_get(m->pgroups)) == NULL && clock_ms() < until) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (s == NULL)
        return 0;
    snap_put(m->pgroups, s);
    return 1;
}

void milter_groups_stop(struct mctx *m)
{
    if (m->pgroups) {
        if (m->pgroups->loader)
            reloader_stop(m->pgroups->loader);
        snap_unref(m->pgroups->cur);
        pthread_mutex_destroy(&m->pgroups->lock);
        free(m->pgroups);
        m->pgroups = NULL;
    }
    ldapgroup_free(m->ldgroups);
    m->ldgroups = NULL;
}
