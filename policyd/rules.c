/*
 * rules - the in-memory snapshot of postern-policyd's rule tables:
 * the alias domains of the domains table (lib/aliasdom.h, so that every
 * rule matches canonical addresses), policy_groups and their members
 * (address and domain members stored in canonical form), sender_rules, greylist_settings,
 * greylist_whitelist, ratelimit_rules/windows/overrides, sender_grants
 * (for "the login owns the sender address") and policy_domain_checks.
 * lib/reloader.c loads a new snapshot within [policyd] poll_interval of any
 * change an admin makes.  The policy groups are lib/pgroup.h's snapshot,
 * the same postern-milter loads.  The sender rules are indexed by what
 * their recipient groups hold (rules_srule_cands, below), so a request
 * evaluates only the rules its recipient can meet.
 *
 * A snapshot is read-only once built; workers read it without locks.  The
 * loop thread counts the jobs that use it (refs) and frees it when a newer
 * one is in place and no job uses it any more.
 *
 * Limits: PD_WINDOWS_MAX windows per rate-limit rule (more are logged and
 * ignored); a row the database constraints should have refused (a bad
 * network) is logged and skipped, never fatal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mem.h"
#include "policyd.h"

static const char SQL_SRULES[] =
    "SELECT name, sender_group_id, recipient_group_id, action, require_auth,"
    " require_spf_pass, reject_text FROM sender_rules WHERE active = 1"
    " ORDER BY priority, id";
static const char SQL_GREY[] =
    "SELECT domain, enabled, delay_seconds, retry_window_seconds,"
    " expiry_seconds, auto_whitelist_after, ipv4_prefix, ipv6_prefix,"
    " add_header, spf_pool FROM greylist_settings"
    " ORDER BY domain IS NOT NULL, domain";
static const char SQL_WL[] =
    "SELECT kind, value FROM greylist_whitelist WHERE active = 1";
static const char SQL_RL[] =
    "SELECT id, name, key_type, match_value, group_id, counts, action, text,"
    " priority, ipv4_prefix, ipv6_prefix, contain FROM ratelimit_rules"
    " WHERE active = 1 ORDER BY priority, id";
static const char SQL_RLWIN[] =
    "SELECT rule_id, window_seconds, max_count FROM ratelimit_windows"
    " ORDER BY rule_id, window_seconds";
static const char SQL_RLOVR[] =
    "SELECT rule_id, key_value, window_seconds, max_count"
    " FROM ratelimit_overrides";
static const char SQL_DOMCHECKS[] =
    "SELECT domain, spf, sender_rules, greylist, ratelimit"
    " FROM policy_domain_checks";
static const char SQL_GRANTS[] =
    "SELECT login, match_type, pattern FROM sender_grants WHERE active = 1";

/* --- a growable table of rows, kept as strings until the build -------- */

struct rowset {
    char ***rows;
    unsigned ncols;
    size_t n, cap;
};

static int collect(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct rowset *rs = ctx;
    char **row;

    (void)lens;
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->rows = xreallocarray(rs->rows, rs->cap, sizeof(*rs->rows));
    }
    row = xcalloc(ncols, sizeof(*row));
    for (unsigned i = 0; i < ncols; i++)
        if (vals[i])
            row[i] = xstrdup(vals[i]);
    rs->ncols = ncols;
    rs->rows[rs->n++] = row;
    return 0;
}

static void rowset_free(struct rowset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        for (unsigned c = 0; c < rs->ncols; c++)
            free(rs->rows[i][c]);
        free(rs->rows[i]);
    }
    free(rs->rows);
    memset(rs, 0, sizeof(*rs));
}

static int fetch(struct db *db, const char *sql, struct rowset *rs,
                 struct str *err)
{
    return db_query(db, sql, NULL, 0, collect, rs, err) < 0 ? -1 : 0;
}

static long long num(const char *s, long long dflt)
{
    return s ? strtoll(s, NULL, 10) : dflt;
}

/* --- groups -------------------------------------------------------------- */

/* group_by_id - the policy group a rule names (id NULL: none). */
static const struct pgroup *group_by_id(struct pd_rules *r, const char *id)
{
    return id ? pgroup_by_id(r->groups, strtoul(id, NULL, 10)) : NULL;
}

/* --- sender rules ---------------------------------------------------------- */

static void build_srules(struct pd_rules *r, struct rowset *rs)
{
    r->srules = arena_alloc(&r->arena, (rs->n + 1) * sizeof(*r->srules));
    for (size_t i = 0; i < rs->n; i++) {
        char **row = rs->rows[i];
        struct pd_sender_rule *sr = &r->srules[r->nsrules];
        sr->name = arena_strdup(&r->arena, row[0] ? row[0] : "?");
        sr->sender = group_by_id(r, row[1]);
        sr->recipient = group_by_id(r, row[2]);
        if ((row[1] && !sr->sender) || (row[2] && !sr->recipient)) {
            log_warn("sender rule %s: unknown group id, rule ignored",
                     sr->name);
            continue;
        }
        sr->action = !strcmp(row[3], "permit")   ? RA_PERMIT
                     : !strcmp(row[3], "reject") ? RA_REJECT
                                                 : RA_DEFER;
        sr->require_auth = num(row[4], 0) != 0;
        sr->require_spf = num(row[5], 0) != 0;
        sr->text = row[6] ? arena_strdup(&r->arena, row[6]) : NULL;
        r->nsrules++;
    }
}

/* --- the sender rules indexed by recipient --------------------------------
 *
 * A rule's recipient group is static when its membership is only address
 * and domain members, its own and those of the groups nested in it
 * (pgroup_closure: no LDAP group, no nesting beyond the limit): then the
 * recipient is in it exactly when one of those groups holds the address,
 * its domain or a parent (".parent").  So: member key -> groups holding it
 * (srule_members), group -> rules whose recipient group consults it
 * (srule_of_group, in rule order); a request looks up its recipient's keys
 * and evaluates only those rules, plus the rules every recipient meets
 * (srule_any: no recipient group, or a dynamic one).  The rules are still
 * evaluated whole and in priority order: the index only leaves out rules
 * whose recipient test would say "not a member", so every decision is the
 * one a scan of all rules gives.
 */

static void ids_add(struct pd_ids *l, unsigned id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = id;
}

static void ids_free_void(void *p)
{
    struct pd_ids *l = p;

    free(l->v);
    free(l);
}

#define SR_KEY_MAX (PGROUP_ADDR_MAX + 3)

/* index_member - one address or domain member of group g: indexed when a
   rule consults g */
static void index_member(void *ctx, const struct pgroup *g, char kind,
                         const char *value)
{
    struct pd_rules *r = ctx;
    char key[SR_KEY_MAX];
    struct pd_ids *l;
    int n;

    if (r->srule_of_group[pgroup_index(g)].n == 0)
        return;
    n = snprintf(key, sizeof(key), "%c\x1f%s", kind, value);
    if (n <= 0 || (size_t)n >= sizeof(key))
        return; /* longer than any address pgroup_has answers for */
    if ((l = hmap_get(&r->srule_members, key)) == NULL) {
        l = xcalloc(1, sizeof(*l));
        hmap_put(&r->srule_members, key, l);
    }
    ids_add(l, (unsigned)pgroup_index(g));
}

void rules_index_srules(struct pd_rules *r)
{
    size_t ng = pgroup_set_count(r->groups);
    unsigned char *seen = xcalloc(ng + 1, 1);

    hmap_init(&r->srule_members, 0, HMAP_NOCASE | HMAP_COPYKEYS);
    r->srule_of_group = xcalloc(ng + 1, sizeof(*r->srule_of_group));
    for (size_t i = 0; i < r->nsrules; i++) {
        const struct pgroup *g = r->srules[i].recipient;
        if (g == NULL) {
            ids_add(&r->srule_any, (unsigned)i);
            continue;
        }
        r->srules_protect = 1;
        memset(seen, 0, ng + 1);
        if (!pgroup_closure(r->groups, g, seen)) {
            ids_add(&r->srule_any, (unsigned)i);
            continue;
        }
        for (size_t k = 0; k < ng; k++)
            if (seen[k])
                ids_add(&r->srule_of_group[k], (unsigned)i);
    }
    free(seen);
    pgroup_set_each_member(r->groups, index_member, r);
}

static void cands_add(struct pd_cands *c, const struct pd_ids *l)
{
    if (l->n == 0)
        return;
    if (c->n + l->n > c->cap) {
        size_t cap = (c->n + l->n) * 2;
        unsigned *v = xreallocarray(NULL, cap, sizeof(*v));
        memcpy(v, c->v, c->n * sizeof(*v));
        if (c->v != c->buf)
            free(c->v);
        c->v = v;
        c->cap = cap;
    }
    memcpy(c->v + c->n, l->v, l->n * sizeof(*l->v));
    c->n += l->n;
}

/* cands_key - the groups holding kind/value, and their rules */
static void cands_key(const struct pd_rules *r, struct pd_cands *c, char kind,
                      const char *value)
{
    char key[SR_KEY_MAX];
    const struct pd_ids *gl;
    int n = snprintf(key, sizeof(key), "%c\x1f%s", kind, value);

    if (n <= 0 || (size_t)n >= sizeof(key) ||
        (gl = hmap_get(&r->srule_members, key)) == NULL)
        return;
    for (size_t i = 0; i < gl->n; i++)
        cands_add(c, &r->srule_of_group[gl->v[i]]);
}

static int cmp_uint(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

    return x < y ? -1 : x > y;
}

void rules_srule_cands(const struct pd_rules *r, const char *rcpt,
                       struct pd_cands *c)
{
    const char *at = strrchr(rcpt, '@');
    size_t len = strlen(rcpt), out = 0;

    c->v = c->buf;
    c->n = 0;
    c->cap = sizeof(c->buf) / sizeof(c->buf[0]);
    cands_add(c, &r->srule_any);
    /* as pgroup_has asks: the address, its domain, every ".parent" */
    if (len > 0 && len <= PGROUP_ADDR_MAX &&
        hmap_count(&r->srule_members) > 0) {
        cands_key(r, c, 'a', rcpt);
        if (at) {
            cands_key(r, c, 'd', at + 1);
            for (const char *p = strchr(at + 1, '.'); p; p = strchr(p + 1, '.'))
                cands_key(r, c, 'd', p);
        }
    }
    if (c->n > 1)
        qsort(c->v, c->n, sizeof(*c->v), cmp_uint);
    for (size_t i = 0; i < c->n; i++) /* a rule found through two keys */
        if (out == 0 || c->v[i] != c->v[out - 1])
            c->v[out++] = c->v[i];
    c->n = out;
}

void pd_cands_free(struct pd_cands *c)
{
    if (c->v != c->buf)
        free(c->v);
    c->v = c->buf;
    c->n = 0;
}

/* --- greylisting ---------------------------------------------------------- */

static void grey_row(char **row, struct pd_grey_settings *g)
{
    /* NULL columns inherit: g holds the default's values on entry */
    g->enabled = row[1] ? num(row[1], 0) != 0 : g->enabled;
    g->delay = num(row[2], g->delay);
    g->window = num(row[3], g->window);
    g->expiry = num(row[4], g->expiry);
    g->awl_after = num(row[5], g->awl_after);
    g->v4prefix = (int)num(row[6], g->v4prefix);
    g->v6prefix = (int)num(row[7], g->v6prefix);
    g->add_header = row[8] ? num(row[8], 0) != 0 : g->add_header;
    g->spf_pool = row[9] ? num(row[9], 0) != 0 : g->spf_pool;
}

static void build_grey(struct pd_rules *r, struct rowset *rs)
{
    /* a database without the default row: postgrey-like values */
    r->grey_default = (struct pd_grey_settings){1, 1, 1, 300, 172800,
                                                3024000, 5, 24, 64};
    strmap_init(&r->grey_domain, rs->n + 1);
    for (size_t i = 0; i < rs->n; i++) {
        char **row = rs->rows[i];
        if (row[0] == NULL) {
            grey_row(row, &r->grey_default);
        } else {
            struct pd_grey_settings *g = arena_alloc(&r->arena, sizeof(*g));
            *g = r->grey_default;
            grey_row(row, g);
            strmap_put(&r->grey_domain, arena_strdup_lower(&r->arena, row[0]),
                       g);
        }
    }
    r->max_expiry = r->grey_default.expiry;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->rows[i][4] && num(rs->rows[i][4], 0) > r->max_expiry)
            r->max_expiry = num(rs->rows[i][4], 0);
}

const struct pd_grey_settings *rules_grey(const struct pd_rules *r,
                                          const char *domain)
{
    const struct pd_grey_settings *g = strmap_get(&r->grey_domain, domain);

    return g ? g : &r->grey_default;
}

static void build_wl(struct pd_rules *r, struct rowset *rs)
{
    static const char *const kinds[WL_KINDS] = {
        "client_network", "client_hostname", "sender_domain",
        "sender_address", "recipient", "recipient_domain"};

    r->wl = arena_alloc(&r->arena, (rs->n + 1) * sizeof(*r->wl));
    for (size_t i = 0; i < rs->n; i++) {
        struct pd_wl *w = &r->wl[r->nwl];
        int k;
        for (k = 0; k < WL_KINDS; k++)
            if (rs->rows[i][0] && !strcmp(rs->rows[i][0], kinds[k]))
                break;
        if (k == WL_KINDS || rs->rows[i][1] == NULL)
            continue;
        w->kind = k;
        w->value = arena_strdup_lower(&r->arena, rs->rows[i][1]);
        if (k == WL_NET && cidr_parse(w->value, &w->net) < 0) {
            log_warn("greylist_whitelist: bad network '%s' ignored",
                     log_safe_cstr(w->value));
            continue;
        }
        r->nwl++;
    }
}

/* --- rate limits ----------------------------------------------------------- */

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (v && !strcmp(v, names[i]))
            return i;
    return 0;
}

static void build_rl(struct pd_rules *r, struct rowset *rs, struct rowset *win,
                     struct rowset *ovr)
{
    static const char *const keys[] = {"sasl_login", "sender",
                                       "sender_domain", "client_address",
                                       "recipient", "forwarder"};
    static const char *const counts[] = {"messages", "recipients", "bytes",
                                         "networks"};
    static const char *const acts[] = {"defer", "reject", "hold", "warn"};
    struct str k = STR_INIT;

    r->rl = arena_alloc(&r->arena, (rs->n + 1) * sizeof(*r->rl));
    for (size_t i = 0; i < rs->n; i++) {
        char **row = rs->rows[i];
        struct pd_rl_rule *rl = &r->rl[r->nrl];
        memset(rl, 0, sizeof(*rl));
        rl->id = (unsigned)num(row[0], 0);
        rl->name = arena_strdup(&r->arena, row[1] ? row[1] : "?");
        rl->key = pick(row[2], keys, 6);
        rl->match = row[3] ? arena_strdup_lower(&r->arena, row[3]) : NULL;
        if (rl->match && rl->key == RK_CLIENT &&
            cidr_parse(rl->match, &rl->match_net) < 0) {
            log_warn("ratelimit rule %s: bad network, rule ignored",
                     rl->name);
            continue;
        }
        rl->group = group_by_id(r, row[4]);
        if (row[4] && rl->group == NULL) {
            log_warn("ratelimit rule %s: unknown group, rule ignored",
                     rl->name);
            continue;
        }
        rl->counts = pick(row[5], counts, 4);
        rl->action = pick(row[6], acts, 4);
        rl->text = row[7] ? arena_strdup(&r->arena, row[7]) : NULL;
        rl->priority = (int)num(row[8], 100);
        rl->v4prefix = (int)num(row[9], rl->counts == RC_NETWORKS ? 24 : 32);
        rl->contain = (int)num(row[11], 0) == 1;
        rl->v6prefix = (int)num(row[10], 64);
        for (size_t w = 0; w < win->n; w++) {
            if ((unsigned)num(win->rows[w][0], 0) != rl->id)
                continue;
            if (rl->nwin == PD_WINDOWS_MAX) {
                log_warn("ratelimit rule %s: more than %d windows, the "
                         "rest ignored", rl->name, PD_WINDOWS_MAX);
                break;
            }
            rl->win[rl->nwin].seconds = num(win->rows[w][1], 1);
            rl->win[rl->nwin].max = num(win->rows[w][2], 0);
            if (rl->win[rl->nwin].seconds > r->max_window)
                r->max_window = rl->win[rl->nwin].seconds;
            rl->nwin++;
        }
        if (rl->nwin > 0 && rl->key != RK_FORWARDER) /* its windows
               still count for pruning (max_window) */
            r->nrl++;
    }
    strmap_init(&r->overrides, ovr->n + 1);
    for (size_t i = 0; i < ovr->n; i++) {
        char **row = ovr->rows[i];
        struct pd_override *o = arena_alloc(&r->arena, sizeof(*o));
        o->max = row[3] ? num(row[3], 0) : -1;
        str_reset(&k);
        str_appendf(&k, "%s/%s/%s", row[0] ? row[0] : "", row[2] ? row[2] : "",
                    row[1] ? row[1] : "");
        strmap_put(&r->overrides, arena_strdup_lower(&r->arena, k.data), o);
    }
    str_free(&k);
}

/* grant_canonical - a login or pattern as requests are matched: an
   address through addr_canonical (the extension kept: the loader does not
   know the delimiter), a domain with its alias domain resolved */
static const char *grant_canonical(struct pd_rules *r, const char *v,
                                   int domain, struct addr *a)
{
    char tmp[ADDR_DOMAIN_MAX + 3];
    const char *why;

    if (domain && strlen(v) <= ADDR_DOMAIN_MAX) {
        snprintf(tmp, sizeof(tmp), "x@%s", v);
        return addr_canonical(tmp, strlen(tmp), NULL, ADDR_NEED_DOMAIN,
                              aliasdom_target, &r->alias, a, &why) == 0
                   ? a->domain : v;
    }
    if (!domain && strchr(v, '@'))
        return addr_canonical(v, strlen(v), NULL, ADDR_NEED_DOMAIN,
                              aliasdom_target, &r->alias, a, &why) == 0
                   ? a->full : v;
    return v;
}

static void build_grants(struct pd_rules *r, struct rowset *rs)
{
    struct str k = STR_INIT;
    struct addr la, pa;

    strmap_init(&r->grants, rs->n + 1);
    for (size_t i = 0; i < rs->n; i++) {
        char **row = rs->rows[i];
        if (!row[0] || !row[1] || !row[2])
            continue;
        str_reset(&k);
        str_appendf(&k, "%s %s", grant_canonical(r, row[0], 0, &la),
                    grant_canonical(r, row[2], !strcmp(row[1], "domain"),
                                    &pa));
        strmap_put(&r->grants, arena_strdup_lower(&r->arena, k.data), "");
    }
    str_free(&k);
}

static void build_domchecks(struct pd_rules *r, struct rowset *rs)
{
    strmap_init(&r->domchecks, rs->n + 1);
    for (size_t i = 0; i < rs->n; i++) {
        char **row = rs->rows[i];
        struct pd_domchecks *d = arena_alloc(&r->arena, sizeof(*d));
        if (row[0] == NULL)
            continue;
        d->spf = (int)num(row[1], -1);
        d->sender_rules = (int)num(row[2], -1);
        d->greylist = (int)num(row[3], -1);
        d->ratelimit = (int)num(row[4], -1);
        strmap_put(&r->domchecks, arena_strdup_lower(&r->arena, row[0]), d);
    }
}

const struct pd_domchecks *rules_domchecks(const struct pd_rules *r,
                                           const char *domain)
{
    return strmap_get(&r->domchecks, domain);
}

/* --- the reloader's operations ------------------------------------------- */

static void *rules_load(struct db *db, struct str *err)
{
    struct rowset sr = {0}, gs = {0}, wl = {0}, rl = {0}, win = {0}, ovr = {0},
                  gr = {0}, dc = {0};
    struct pgroup_set *groups;
    struct aliasdom alias;
    struct pd_rules *r = NULL;

    aliasdom_init(&alias);
    if (aliasdom_load(&alias, db, err) < 0 ||
        (groups = pgroup_load_canonical(db, NULL, aliasdom_target, &alias, 1,
                                        err)) == NULL) {
        aliasdom_free(&alias);
        return NULL;
    }
    if (fetch(db, SQL_SRULES, &sr, err) == 0 &&
        fetch(db, SQL_GREY, &gs, err) == 0 && fetch(db, SQL_WL, &wl, err) == 0 &&
        fetch(db, SQL_RL, &rl, err) == 0 &&
        fetch(db, SQL_RLWIN, &win, err) == 0 &&
        fetch(db, SQL_RLOVR, &ovr, err) == 0 &&
        fetch(db, SQL_GRANTS, &gr, err) == 0 &&
        fetch(db, SQL_DOMCHECKS, &dc, err) == 0) {
        r = xcalloc(1, sizeof(*r));
        r->alias = alias;
        aliasdom_init(&alias);
        r->groups = groups;
        groups = NULL;
        build_srules(r, &sr);
        rules_index_srules(r);
        build_grey(r, &gs);
        build_wl(r, &wl);
        build_rl(r, &rl, &win, &ovr);
        build_grants(r, &gr);
        build_domchecks(r, &dc);
    }
    pgroup_set_free(groups); /* when a later table could not be read */
    aliasdom_free(&alias);
    rowset_free(&sr);
    rowset_free(&gs);
    rowset_free(&wl);
    rowset_free(&rl);
    rowset_free(&win);
    rowset_free(&ovr);
    rowset_free(&gr);
    rowset_free(&dc);
    return r;
}

void rules_free(struct pd_rules *r)
{
    if (r == NULL)
        return;
    hmap_free(&r->srule_members, ids_free_void);
    if (r->srule_of_group)
        for (size_t i = 0; i <= pgroup_set_count(r->groups); i++)
            free(r->srule_of_group[i].v);
    free(r->srule_of_group);
    free(r->srule_any.v);
    pgroup_set_free(r->groups);
    aliasdom_free(&r->alias);
    strmap_free(&r->grey_domain);
    strmap_free(&r->overrides);
    strmap_free(&r->grants);
    strmap_free(&r->domchecks);
    arena_free(&r->arena);
    free(r);
}

static void rules_free_void(void *p)
{
    rules_free(p);
}

static void rules_describe(void *p, struct str *out)
{
    const struct pd_rules *r = p;

    str_appendf(out, "%zu groups (%zu on a nesting cycle), %zu sender rules, "
                "%zu whitelist entries, %zu rate-limit rules",
                pgroup_set_count(r->groups), pgroup_set_cycles(r->groups),
                r->nsrules, r->nwl, r->nrl);
}

/* the tables rules_load reads: a change elsewhere (a mailbox) is not
   a reason to load the rules again */
static const char *const pd_tables[] = {
    "domains", "policy_groups", "policy_group_members", "sender_rules",
    "greylist_settings", "greylist_whitelist", "ratelimit_rules",
    "ratelimit_windows", "ratelimit_overrides", "sender_grants",
    "policy_domain_checks", NULL};

const struct reloader_ops pd_rules_ops = {.what = "policy tables",
                                          .load = rules_load,
                                          .free = rules_free_void,
                                          .describe = rules_describe,
                                          .tables = pd_tables};
