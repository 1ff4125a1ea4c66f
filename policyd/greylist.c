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
/* one round trip for both: the triplet and the client network */
static const char SQL_READ[] =
    "SELECT (SELECT CONCAT_WS(' ', first_seen, last_seen,"
    " IFNULL(passed_at, -1)) FROM greylist_triplets WHERE triplet_hash = "
    TRIPLET_HASH "), (SELECT CONCAT_WS(' ', pass_count, last_seen)"
    " FROM greylist_clients WHERE client_net = ?)";

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
};

static int read_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct reads *r = ctx;

    (void)l;
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
};

/* load - the triplet and client states, from the cache or the database */
static int load(struct pd_eval *e, const char *tkey, const char *ckey,
                const struct grey_vals *gv, struct gc_state *t,
                struct gc_state *c)
{
    const char *net = gv->net;
    struct reads r;
    int ht = gc_get(e->w->gc, tkey, e->now, t);
    int hc = gc_get(e->w->gc, ckey, e->now, c);

    if (ht && hc)
        return 0;
    memset(&r, 0, sizeof(r));
    r.t.passed = -1;
    struct db_param p[] = {DBP_S(net), DBP_S(gv->sender), DBP_S(gv->rcpt),
                           DBP_S(net)};
    if (db_query(e->w->db, SQL_READ, p, 4, read_row, &r, &e->err) < 0)
        return -1;
    r.t.cached_at = r.c.cached_at = e->now;
    r.t.written = r.t.last;
    r.c.written = r.c.last;
    if (!ht) {
        *t = r.t;
        gc_put(e->w->gc, tkey, t);
    }
    if (!hc) {
        *c = r.c;
        gc_put(e->w->gc, ckey, c);
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

    if (o->op == GC_CLIENT_SEEN)
        gc_queue(gc, o->op, gv->net, "", "", now, 0);
    else if (o->op != GREY_NO_OP)
        gc_queue(gc, o->op, gv->net, gv->sender, gv->rcpt, now,
                 o->op == GC_PASS ? g->expiry : 0);
    if (o->put_t)
        gc_put(gc, tkey, &o->t);
    if (o->put_c)
        gc_put(gc, ckey, &o->c);
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

int check_greylist(struct pd_eval *e)
{
    const struct pd_grey_settings *g = rules_grey(e->rules, e->rcpt.domain);
    char net[CIDR_TEXT_MAX + ADDR_DOMAIN_MAX + 8];
    struct grey_vals gv;
    char tkey[sizeof(gv.net) + 2 * ADDR_MAX + 8], ckey[sizeof(gv.net) + 4];
    struct gc_state t, c;
    struct grey_outcome o;
    const char *why;

    if (!g->enabled || e->login[0])
        return PV_DUNNO;
    if (whitelisted(e, &why)) {
        pd_count(e, pd_metrics.greylist, METRICS_L("whitelist"));
        log_debug("%s: greylist: whitelisted (%s)",
                  log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                  log_safe_cstr(why));
        return PV_DUNNO;
    }
    if (grey_key(e, g, net, sizeof(net)) < 0)
        return PV_DUNNO; /* no IP address (a local submission): nothing to key */
    grey_bound(e, net, &gv);
    snprintf(tkey, sizeof(tkey), "t %s %s %s", gv.net, gv.sender, gv.rcpt);
    snprintf(ckey, sizeof(ckey), "c %s", gv.net);
    if (load(e, tkey, ckey, &gv, &t, &c) < 0)
        return PV_TEMP;
    greylist_step(g, (long long)e->now, &t, &c, &o);
    if (!e->dry)
        grey_store(e, g, &gv, tkey, ckey, &o);
    return grey_answer(e, g, gv.net, &o);
}
