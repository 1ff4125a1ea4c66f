/*
 * greylist - greylisting with state in MariaDB, shared by every MX host.
 *
 * The triplet is (client network, sender, recipient): the client address
 * masked to ipv4_prefix / ipv6_prefix (24 and 64 by default), or
 * "spf:DOMAIN" when the sender's SPF record authorizes the client and
 * spf_pool is on (big providers retry from other addresses of their pool).
 * First sight: DEFER_IF_PERMIT 4.7.1 (the recipient may still be refused
 * for a better reason).  A retry after delay_seconds and within
 * retry_window_seconds passes, and from then on the triplet passes until it
 * has been unused for expiry_seconds.  A client network that passed
 * auto_whitelist_after triplets is no longer greylisted.  Settings come
 * per recipient domain (greylist_settings, NULL columns inherit).
 *
 * Learning (issue 19, docs/policyd.md "Greylisting that learns"; replies
 * and selective mode are greylearn.c, the sender domains are here):
 *   - provider pools (greypool.c): a client in a listed pool (verified
 *     host name suffix or network) is not greylisted;
 *   - replies: an authenticated local user's mail to an outside address
 *     records (user, address) in greylist_reply_awl for
 *     [policyd] greylist_reply_ttl; mail from that address (with
 *     greylist_reply_domain = yes: from its domain) to that user is not
 *     greylisted.  At most greylist_reply_max rows per user (a full user
 *     only refreshes its rows), at most two statements per recipient and
 *     none when this host refreshed the row within the last hour;
 *   - selective mode (greylist_mode = selective): only clients without a
 *     verified host name (Postfix's client_name "unknown": forward and
 *     reverse DNS do not match), with a dynamic-looking name
 *     (greylist_dynamic_patterns) or listed on a greylist_dnsbl zone are
 *     greylisted; a DNS temporary failure greylists (logged);
 *   - sender domains (greylist_domain_awl = N): a domain that passed N
 *     triplets from one client network is not greylisted from it while
 *     the settings' expiry holds (greylist_domain_awl, sqlgrey's
 *     domain_awl).
 * The reply and domain whitelists are read with the triplet in the same
 * query and cached like it (greylist_cache_ttl: another host's new reply
 * row is seen within it).
 *
 * Never greylisted: SASL-authenticated clients, the whitelists
 * (greylist_whitelist: client networks, client host names, sender domains
 * and addresses, recipients and recipient domains; ".name" also matches
 * subdomains) and domains with enabled = 0.
 *
 * Values fit for the database: the network, sender and recipient are
 * bounded to their columns (PD_COL_NET, PD_COL_ADDR) before the triplet is
 * keyed, read, cached or queued (lib/dbtext.h): a value that is not UTF-8
 * or too long (a 253-character domain in "spf:DOMAIN") is canonicalised to
 * its leading part and a hash of the whole, the same on every host, so the
 * triplet is stored and shared like any other and never poisons a batch.
 *
 * Races between MX hosts: the triplet row is created with INSERT ... ON
 * DUPLICATE KEY UPDATE, so two hosts seeing the first attempt at once
 * share one first_seen.  Database trouble: PV_TEMP (the caller defers).
 *
 * The decision itself is greylist_step(): from the stored triplet and
 * client states, the time and the settings to the verdict, the change to
 * queue and the new states.  It touches no database, clock or global, so
 * tests/unit/policyd/test_greylist.c runs it table-driven; check_greylist()
 * keys, loads (greycache.c, then SQL), steps, stores and answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbtext.h"
#include "log.h"
#include "policyd.h"

#define TRIPLET_HASH PD_TRIPLET_HASH
/* one round trip: the triplet and the client network, and the reply and
   domain whitelists when they are on and not cached (SQL_READS[want]) */
#define READ_TC                                                               \
    "SELECT (SELECT CONCAT_WS(' ', first_seen, last_seen,"                    \
    " IFNULL(passed_at, -1)) FROM greylist_triplets WHERE triplet_hash = "    \
    TRIPLET_HASH "), (SELECT CONCAT_WS(' ', pass_count, last_seen)"           \
    " FROM greylist_clients WHERE client_net = ?)"
#define READ_R                                                                \
    ", (SELECT MAX(expires_at) FROM greylist_reply_awl WHERE local_user = ?"  \
    " AND (peer = ? OR (? = 1 AND peer_domain = ?)))"
#define READ_D                                                                \
    ", (SELECT CONCAT_WS(' ', pass_count, last_seen) FROM greylist_domain_awl"\
    " WHERE sender_domain = ? AND client_net = ?)"
enum { WANT_R = 1, WANT_D = 2 };
static const char *const SQL_READS[4] = {READ_TC, READ_TC READ_R,
                                         READ_TC READ_D,
                                         READ_TC READ_R READ_D};
/* name_match - host name h against "name" or ".name" (subdomains too) */
static int name_match(const char *pat, const char *h)
{
    size_t pl = strlen(pat), hl = strlen(h);

    if (pat[0] == '.') {
        if (!strcasecmp(h, pat + 1))
            return 1;
        return hl > pl && !strcasecmp(h + hl - pl, pat);
    }
    return !strcasecmp(h, pat);
}

static int whitelisted(const struct pd_eval *e, const char **why)
{
    const struct pd_rules *r = e->rules;
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *host = preq_get(e->req, A_CLIENT_NAME);
    const char *sdom = e->sender.has_domain ? e->sender.domain : "";

    for (size_t i = 0; i < r->nwl; i++) {
        const struct pd_wl *w = &r->wl[i];
        int hit = 0;
        switch (w->kind) {
        case WL_NET: hit = cidr_contains(&w->net, client); break;
        case WL_HOST:
            hit = strcmp(host, "unknown") && host[0] && name_match(w->value, host);
            break;
        case WL_SENDER_DOMAIN: hit = sdom[0] && name_match(w->value, sdom); break;
        case WL_SENDER: hit = !strcasecmp(w->value, e->sender.full); break;
        case WL_RECIPIENT: hit = !strcasecmp(w->value, e->rcpt.full); break;
        case WL_RECIPIENT_DOMAIN: hit = name_match(w->value, e->rcpt.domain); break;
        }
        if (hit) {
            *why = w->value;
            return 1;
        }
    }
    return 0;
}

struct reads {
    struct gc_state t, c;
    struct gc_state r, d;      /* reply: passed = expires_at (-1 none);
                                  domain: pass_count, last */
    int want;                  /* WANT_R | WANT_D: the columns after t, c */
};

static int read_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct reads *r = ctx;
    unsigned i = 2;

    (void)l;
    if ((r->want & WANT_R) && n > i) {
        r->r.absent = v[i] == NULL;
        if (v[i])
            r->r.passed = strtoll(v[i], NULL, 10);
        i++;
    }
    if ((r->want & WANT_D) && n > i) {
        r->d.absent = v[i] == NULL;
        if (v[i])
            sscanf(v[i], "%lld %lld", &r->d.pass_count, &r->d.last);
    }
    if (n >= 2) {
        r->t.absent = v[0] == NULL;
        if (v[0])
            sscanf(v[0], "%lld %lld %lld", &r->t.first, &r->t.last,
                   &r->t.passed);
        r->c.absent = v[1] == NULL;
        if (v[1])
            sscanf(v[1], "%lld %lld", &r->c.pass_count, &r->c.last);
    }
    return 1;
}

/* the triplet's values as stored: each bounded to its column */
struct grey_vals {
    char net[PD_COL_NET + 1];
    char sender[ADDR_MAX + 1], rcpt[ADDR_MAX + 1];
    char sdom[PD_COL_NET + 1]; /* the sender's domain */
};

/* the cache keys of one request: triplet, client network, reply
   whitelist (recipient and sender), domain whitelist (domain and net) */
struct grey_keys {
    char t[PD_COL_NET + 2 * ADDR_MAX + 8], c[PD_COL_NET + 4];
    char r[2 * ADDR_MAX + 5], d[2 * PD_COL_NET + 4];
};

/* the states load() fills */
struct grey_states {
    struct gc_state t, c, r, d;
};

/* load - the triplet, client, reply and domain states, from the cache or
   (one query) the database */
static int load(struct pd_eval *e, const struct grey_keys *k,
                const struct grey_vals *gv, struct grey_states *s)
{
    const struct policyd_config *cfg = e->w->cfg;
    const char *net = gv->net;
    struct reads r;
    int ht = gc_get(e->w->gc, k->t, e->now, &s->t);
    int hc = gc_get(e->w->gc, k->c, e->now, &s->c);
    int hr = 1, hd = 1;
    long long dom = cfg->greylist_reply_domain ? 1 : 0;
    struct db_param p[10];
    unsigned np = 4;

    s->r = s->d = (struct gc_state){.passed = -1, .absent = 1};
    if (cfg->greylist_reply_ttl && gv->sender[0])
        hr = gc_get(e->w->gc, k->r, e->now, &s->r);
    if (cfg->greylist_domain_awl && gv->sdom[0])
        hd = gc_get(e->w->gc, k->d, e->now, &s->d);
    if (ht && hc && hr && hd)
        return 0;
    memset(&r, 0, sizeof(r));
    r.t.passed = r.r.passed = r.d.passed = -1;
    r.r.absent = r.d.absent = 1;
    r.want = (hr ? 0 : WANT_R) | (hd ? 0 : WANT_D);
    p[0] = DBP_S(net);
    p[1] = DBP_S(gv->sender);
    p[2] = DBP_S(gv->rcpt);
    p[3] = DBP_S(net);
    if (!hr) {
        p[np++] = DBP_S(gv->rcpt);
        p[np++] = DBP_S(gv->sender);
        p[np++] = DBP_I(dom);
        p[np++] = DBP_S(gv->sdom);
    }
    if (!hd) {
        p[np++] = DBP_S(gv->sdom);
        p[np++] = DBP_S(net);
    }
    if (db_query(e->w->db, SQL_READS[r.want], p, np, read_row, &r,
                 &e->err) < 0)
        return -1;
    r.t.cached_at = r.c.cached_at = r.r.cached_at = r.d.cached_at = e->now;
    r.t.written = r.t.last;
    r.c.written = r.c.last;
    r.d.written = r.d.last;
    if (!ht) {
        s->t = r.t;
        gc_put(e->w->gc, k->t, &s->t);
    }
    if (!hc) {
        s->c = r.c;
        gc_put(e->w->gc, k->c, &s->c);
    }
    if (!hr) {
        s->r = r.r;
        gc_put(e->w->gc, k->r, &s->r);
    }
    if (!hd) {
        s->d = r.d;
        gc_put(e->w->gc, k->d, &s->d);
    }
    return 0;
}

static void add_header(struct pd_eval *e, long long delay)
{
    struct pd_msgstate *ms = e->ms;
    char date[64];
    struct tm tm;

    if (ms->nheaders >= PD_HEADERS_MAX)
        return;
    localtime_r(&e->now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    snprintf(ms->headers[ms->nheaders++], PD_HEADER_MAX,
             "X-Greylist: delayed %lld seconds by postern-policyd at %s; %s",
             delay, e->w->hostname, date);
}

/* --- the state step: pure, unit-tested (tests/unit/policyd/test_greylist.c) */

/* client_awl - the client network passed awl_after triplets, none of them
   forgotten */
static int client_awl(const struct pd_grey_settings *g, long long now,
                      const struct gc_state *c)
{
    return g->awl_after > 0 && !c->absent && c->pass_count >= g->awl_after &&
           c->last + g->expiry >= now;
}

static void step_awl(long long now, struct grey_outcome *o)
{
    o->verdict = GV_AWL;
    if (now - o->c.written >= GC_SEEN_GRAIN) {
        o->op = GC_CLIENT_SEEN;
        o->c.written = o->c.last = now;
        o->put_c = 1;
    }
}

/* step_pass - a triplet that passed before, or a retry after the delay */
static void step_pass(const struct pd_grey_settings *g, long long now,
                      struct grey_outcome *o)
{
    struct gc_state *t = &o->t, *c = &o->c;

    o->verdict = GV_PASS;
    if (t->passed >= 0) {
        if (now - t->written >= GC_SEEN_GRAIN) {
            o->op = GC_SEEN;
            t->last = t->written = now;
            o->put_t = 1;
        }
        return;
    }
    o->op = GC_PASS;
    o->first_pass = 1;
    o->waited = now - t->first;
    t->passed = t->last = t->written = now;
    if (c->absent || c->last + g->expiry < now)
        *c = (struct gc_state){0, now, -1, 1, now, c->cached_at, 0};
    else
        c->pass_count++;
    c->last = c->written = now;
    o->put_t = o->put_c = 1;
}

void greylist_step(const struct pd_grey_settings *g, long long now,
                   const struct gc_state *t, const struct gc_state *c,
                   struct grey_outcome *o)
{
    *o = (struct grey_outcome){.op = GREY_NO_OP, .t = *t, .c = *c};
    if (client_awl(g, now, c)) {
        step_awl(now, o);
        return;
    }
    if (t->absent) {
        o->op = GC_FIRST;
        o->t = (struct gc_state){now, now, -1, 0, now, now, 0};
    } else if (t->last + g->expiry < now ||
               (t->passed < 0 && t->first + g->window < now)) {
        /* forgotten, or the retry came too late: start over */
        o->op = GC_RESTART;
        o->t = (struct gc_state){now, now, -1, 0, now, t->cached_at, 0};
    } else if (t->passed >= 0 || now - t->first >= g->delay) {
        step_pass(g, now, o);
        return;
    } else {
        o->op = GC_BLOCK;
        o->t.last = now;
    }
    o->verdict = GV_DEFER;
    o->put_t = 1;
    o->retry_in = o->t.first + g->delay - now;
    if (o->retry_in < 1)
        o->retry_in = 1;
}

/* --- the check: key, load, step, store ---------------------------------- */

/* grey_key - the triplet's network: the masked client address, or
   "spf:DOMAIN" for an SPF-authorized sender pool; -1 without an address */
static int grey_key(struct pd_eval *e, const struct pd_grey_settings *g,
                    char *net, size_t size)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);

    if (cidr_mask(client, g->v4prefix, g->v6prefix, net, size) < 0)
        return -1;
    if (g->spf_pool && e->sender.has_domain && pd_spf_result(e) == SPFQ_PASS)
        snprintf(net, size, "spf:%s", e->sender.domain);
    return 0;
}

/* grey_bound - the values to store, each fit for its column; a value
   canonicalised is logged */
static void grey_bound(struct pd_eval *e, const char *net,
                       struct grey_vals *gv)
{
    const char *what = NULL;

    if (dbtext_bound(gv->net, sizeof(gv->net), net, strlen(net),
                     PD_COL_NET) > 0)
        what = "client network";
    if (dbtext_bound(gv->sender, sizeof(gv->sender), e->sender.full,
                     strlen(e->sender.full), PD_COL_ADDR) > 0)
        what = "sender";
    if (dbtext_bound(gv->rcpt, sizeof(gv->rcpt), e->rcpt.full,
                     strlen(e->rcpt.full), PD_COL_ADDR) > 0)
        what = "recipient";
    gv->sdom[0] = '\0';
    if (e->sender.has_domain && e->sender.full[0])
        dbtext_bound(gv->sdom, sizeof(gv->sdom), e->sender.domain,
                     strlen(e->sender.domain), PD_COL_NET);
    if (what)
        log_info("%s: greylist: a %s is not UTF-8 or too long for the "
                 "database: triplet stored as client=%s from=<%s> to=<%s>",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), what,
                 log_safe_cstr(gv->net), log_safe_cstr(gv->sender),
                 log_safe_cstr(gv->rcpt));
}

/* grey_store - queue the change and cache the new states */
static void grey_store(struct pd_eval *e, const struct pd_grey_settings *g,
                       const struct grey_vals *gv, const char *tkey,
                       const char *ckey, const struct grey_outcome *o)
{
    struct greycache *gc = e->w->gc;
    long long now = (long long)e->now;
    unsigned long long seq = 0;

    if (o->op == GC_CLIENT_SEEN)
        seq = gc_queue(gc, o->op, gv->net, "", "", now, 0);
    else if (o->op != GREY_NO_OP)
        seq = gc_queue(gc, o->op, gv->net, gv->sender, gv->rcpt, now,
                       o->op == GC_PASS ? g->expiry : 0);
    if (o->put_t)
        gc_put_own(gc, tkey, &o->t, seq);
    if (o->put_c)
        gc_put_own(gc, ckey, &o->c, seq);
}

/* grey_answer - log the outcome and set the reply */
static int grey_answer(struct pd_eval *e, const struct pd_grey_settings *g,
                       const char *net, const struct grey_outcome *o)
{
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));

    if (o->verdict == GV_AWL) {
        pd_count(e, pd_metrics.greylist, METRICS_L("autowhitelist"));
        log_debug("%s: greylist: %s auto-whitelisted", qid, net);
        return PV_DUNNO;
    }
    if (o->verdict == GV_PASS) {
        if (!o->first_pass)
            return PV_DUNNO;
        pd_count(e, pd_metrics.greylist, METRICS_L("pass"));
        log_info("%s: greylist: pass after %lld s: client=%s from=<%s> "
                 "to=<%s>", qid, o->waited, net, log_safe_cstr(e->sender.full),
                 log_safe_cstr(e->rcpt.full));
        if (g->add_header)
            add_header(e, o->waited);
        return PV_DUNNO;
    }
    pd_count(e, pd_metrics.greylist, METRICS_L("defer"));
    log_info("%s: greylist: defer client=%s from=<%s> to=<%s> (retry after "
             "%lld s)", qid, net, log_safe_cstr(e->sender.full),
             log_safe_cstr(e->rcpt.full), o->retry_in);
    str_reset(&e->reply);
    str_appendf(&e->reply, "DEFER_IF_PERMIT 4.7.1 %s (retry in %lld seconds)",
                e->w->cfg->greylist_text, o->retry_in);
    return PV_DECIDED;
}

/* --- learning: sender domains (pools: greypool.c; selective mode and
   replies: greylearn.c) ---------------------------------------------- */

/* domain_pass - a triplet passed: count it for its sender domain and
   network (greylist_domain_awl) */
static void domain_pass(struct pd_eval *e, const struct pd_grey_settings *g,
                        const struct grey_vals *gv, const struct grey_keys *k,
                        struct gc_state *d)
{
    long long now = (long long)e->now;

    if (!e->w->cfg->greylist_domain_awl || !gv->sdom[0])
        return;
    /* written in the batches of greycache.c, like the triplet's pass */
    unsigned long long seq = gc_queue(e->w->gc, GC_DOMAIN_PASS, gv->net,
                                      gv->sdom, "", now, g->expiry);
    if (d->absent || d->last + g->expiry < now)
        *d = (struct gc_state){.first = now, .passed = -1, .cached_at = e->now};
    d->pass_count++;
    d->last = d->written = now;
    gc_put_own(e->w->gc, k->d, d, seq);
}

/* domain_awl - the sender domain is whitelisted from this network;
   last_seen is refreshed hourly */
static int domain_awl(struct pd_eval *e, const struct pd_grey_settings *g,
                      const struct grey_vals *gv, const struct grey_keys *k,
                      struct gc_state *d)
{
    long long now = (long long)e->now, n = e->w->cfg->greylist_domain_awl;

    if (!n || d->absent || d->pass_count < n || d->last + g->expiry < now)
        return 0;
    if (!e->dry && now - d->written >= GC_SEEN_GRAIN) {
        unsigned long long seq = gc_queue(e->w->gc, GC_DOMAIN_SEEN, gv->net,
                                          gv->sdom, "", now, 0);
        d->last = d->written = now;
        gc_put_own(e->w->gc, k->d, d, seq);
    }
    return 1;
}

/* skip - not greylisted for a learned reason: count, log and trace it */
static int skip(struct pd_eval *e, const char *metric, const char *rule,
                const char *detail)
{
    pd_count(e, pd_metrics.greylist, METRICS_L(metric));
    /* the client, sender and recipient are on the decision line
       (decide.c, rule=RULE) */
    log_info("%s: greylist: skipped (%s: %s)",
             log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), rule,
             log_safe_cstr(detail));
    if (e->trace)
        str_appendf(e->trace, "greylist: skipped: %s (%s)\n", rule, detail);
    e->rule = rule;
    return PV_DUNNO;
}

int check_greylist(struct pd_eval *e)
{
    const struct policyd_config *cfg = e->w->cfg;
    const struct pd_grey_settings *g = rules_grey(e->rules, e->rcpt.domain);
    char net[CIDR_TEXT_MAX + ADDR_DOMAIN_MAX + 8], why[300];
    struct grey_vals gv;
    struct grey_keys k;
    struct grey_states s;
    struct grey_outcome o;
    const char *wl;

    if (e->login[0]) {
        pd_grey_reply_record(e);
        return PV_DUNNO;
    }
    if (!g->enabled)
        return PV_DUNNO;
    if (whitelisted(e, &wl)) {
        pd_count(e, pd_metrics.greylist, METRICS_L("whitelist"));
        log_debug("%s: greylist: whitelisted (%s)",
                  log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                  log_safe_cstr(wl));
        return PV_DUNNO;
    }
    if ((wl = pd_pools_match(cfg->pools, preq_get(e->req, A_CLIENT_NAME),
                             preq_get(e->req, A_CLIENT_ADDRESS))) != NULL)
        return skip(e, "pool", "provider-pool", wl);
    if (grey_key(e, g, net, sizeof(net)) < 0)
        return PV_DUNNO; /* no IP address (a local submission): nothing to key */
    if (cfg->greylist_mode == GM_SELECTIVE && pd_grey_selective(e, why,
                                                                sizeof(why)))
        return skip(e, "selective", "selective", "verified host name, "
                    "not listed");
    grey_bound(e, net, &gv);
    snprintf(k.t, sizeof(k.t), "t %s %s %s", gv.net, gv.sender, gv.rcpt);
    snprintf(k.c, sizeof(k.c), "c %s", gv.net);
    /* the answer depends on greylist_reply_domain: a reload must not
       find the other setting's answer */
    snprintf(k.r, sizeof(k.r), "r%c %s %s", cfg->greylist_reply_domain ?
             'd' : 'a', gv.rcpt, gv.sender);
    snprintf(k.d, sizeof(k.d), "d %s %s", gv.sdom, gv.net);
    if (load(e, &k, &gv, &s) < 0)
        return PV_TEMP;
    if (!s.r.absent && s.r.passed >= (long long)e->now)
        return skip(e, "reply", "reply-whitelist", "the recipient wrote to "
                    "this sender");
    if (domain_awl(e, g, &gv, &k, &s.d))
        return skip(e, "domain_awl", "domain-whitelist", gv.sdom);
    greylist_step(g, (long long)e->now, &s.t, &s.c, &o);
    if (!e->dry) {
        grey_store(e, g, &gv, k.t, k.c, &o);
        if (o.first_pass)
            domain_pass(e, g, &gv, &k, &s.d);
    }
    if (o.verdict == GV_DEFER && cfg->greylist_mode == GM_SELECTIVE)
        log_info("%s: greylist: selective: %s",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)), why);
    return grey_answer(e, g, gv.net, &o);
}
