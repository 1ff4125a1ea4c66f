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
 * Races between MX hosts: the triplet row is created with INSERT ... ON
 * DUPLICATE KEY UPDATE, so two hosts seeing the first attempt at once
 * share one first_seen.  Database trouble: PV_TEMP (the caller defers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

static const char SQL_CLIENT[] =
    "SELECT pass_count, last_seen FROM greylist_clients WHERE client_net = ?";
static const char SQL_CLIENT_SEEN[] =
    "UPDATE greylist_clients SET last_seen = ? WHERE client_net = ?";
static const char SQL_CLIENT_PASS[] =
    "INSERT INTO greylist_clients (client_net, first_seen, last_seen,"
    " pass_count) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE"
    " pass_count = IF(last_seen + ? < VALUES(last_seen), 1, pass_count + 1),"
    " last_seen = VALUES(last_seen)";
#define TRIPLET_HASH "UNHEX(SHA2(CONCAT_WS(' ', ?, ?, ?), 256))"
static const char SQL_TRIPLET[] =
    "SELECT first_seen, last_seen, passed_at FROM greylist_triplets"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_FIRST[] =
    "INSERT INTO greylist_triplets (triplet_hash, client_net, sender,"
    " recipient, first_seen, last_seen, block_count) VALUES (" TRIPLET_HASH
    ", ?, ?, ?, ?, ?, 1) ON DUPLICATE KEY UPDATE last_seen = VALUES(last_seen),"
    " block_count = block_count + 1";
static const char SQL_RESTART[] =
    "UPDATE greylist_triplets SET first_seen = ?, last_seen = ?,"
    " passed_at = NULL, block_count = block_count + 1"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_BLOCK[] =
    "UPDATE greylist_triplets SET last_seen = ?, block_count = block_count + 1"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_PASS[] =
    "UPDATE greylist_triplets SET last_seen = ?, pass_count = pass_count + 1,"
    " passed_at = IFNULL(passed_at, ?) WHERE triplet_hash = " TRIPLET_HASH;

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

struct trip {
    long long first, last, passed; /* passed -1 = NULL */
    long long pass_count;
};

static int trip_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct trip *t = ctx;

    (void)l;
    if (n >= 2) {
        t->first = v[0] ? strtoll(v[0], NULL, 10) : 0;
        t->last = v[1] ? strtoll(v[1], NULL, 10) : 0;
        t->passed = n >= 3 && v[2] ? strtoll(v[2], NULL, 10) : -1;
        t->pass_count = t->first; /* greylist_clients: pass_count first */
    }
    return 1;
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

int check_greylist(struct pd_eval *e)
{
    const struct pd_grey_settings *g = rules_grey(e->rules, e->rcpt.domain);
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));
    char net[CIDR_TEXT_MAX + ADDR_DOMAIN_MAX + 8];
    const char *why;
    struct db *db = e->w->db;
    struct trip t = {0, 0, -1, 0};
    long long now = (long long)e->now;
    int rc;

    if (!g->enabled || e->login[0])
        return PV_DUNNO;
    if (whitelisted(e, &why)) {
        log_debug("%s: greylist: whitelisted (%s)", qid, log_safe_cstr(why));
        return PV_DUNNO;
    }
    if (cidr_mask(client, g->v4prefix, g->v6prefix, net, sizeof(net)) < 0)
        return PV_DUNNO; /* no IP address (a local submission): nothing to key */
    if (g->spf_pool && e->sender.has_domain) {
        int spf = spf_result(e);
        if (spf == SPFQ_PASS)
            snprintf(net, sizeof(net), "spf:%s", e->sender.domain);
    }
    /* an auto-whitelisted client network */
    if (g->awl_after > 0) {
        struct db_param p[] = {DBP_S(net)};
        rc = db_query(db, SQL_CLIENT, p, 1, trip_row, &t, &e->err);
        if (rc == DB_TEMP)
            return PV_TEMP;
        if (rc == DB_FOUND && t.pass_count >= g->awl_after &&
            t.last + g->expiry >= now) {
            struct db_param u[] = {DBP_I(now), DBP_S(net)};
            if (db_exec(db, SQL_CLIENT_SEEN, u, 2, NULL, &e->err) < 0)
                return PV_TEMP;
            log_debug("%s: greylist: %s auto-whitelisted", qid, net);
            return PV_DUNNO;
        }
    }
    struct db_param key[] = {DBP_S(net), DBP_S(e->sender.full),
                             DBP_S(e->rcpt.full)};
    t = (struct trip){0, 0, -1, 0};
    rc = db_query(db, SQL_TRIPLET, key, 3, trip_row, &t, &e->err);
    if (rc == DB_TEMP)
        return PV_TEMP;
    if (rc == DB_NOTFOUND) {
        struct db_param p[] = {key[0], key[1], key[2], key[0], key[1], key[2],
                               DBP_I(now), DBP_I(now)};
        if (db_exec(db, SQL_FIRST, p, 8, NULL, &e->err) < 0)
            return PV_TEMP;
        t.first = now;
    } else if (t.last + g->expiry < now ||
               (t.passed < 0 && t.first + g->window < now)) {
        /* forgotten, or the retry came too late: start over */
        struct db_param p[] = {DBP_I(now), DBP_I(now), key[0], key[1], key[2]};
        if (db_exec(db, SQL_RESTART, p, 5, NULL, &e->err) < 0)
            return PV_TEMP;
        t.first = now;
        t.passed = -1;
    } else if (t.passed >= 0 || now - t.first >= g->delay) {
        struct db_param p[] = {DBP_I(now), DBP_I(now), key[0], key[1], key[2]};
        struct db_param c[] = {DBP_S(net), DBP_I(now), DBP_I(now),
                               DBP_I(g->expiry)};
        if (db_exec(db, SQL_PASS, p, 5, NULL, &e->err) < 0)
            return PV_TEMP;
        if (t.passed < 0) {
            if (db_exec(db, SQL_CLIENT_PASS, c, 4, NULL, &e->err) < 0)
                return PV_TEMP;
            log_info("%s: greylist: pass after %lld s: client=%s from=<%s> "
                     "to=<%s>", qid, now - t.first, net,
                     log_safe_cstr(e->sender.full),
                     log_safe_cstr(e->rcpt.full));
            if (g->add_header)
                add_header(e, now - t.first);
        }
        return PV_DUNNO;
    } else {
        struct db_param p[] = {DBP_I(now), key[0], key[1], key[2]};
        if (db_exec(db, SQL_BLOCK, p, 4, NULL, &e->err) < 0)
            return PV_TEMP;
    }
    log_info("%s: greylist: defer client=%s from=<%s> to=<%s> (retry after "
             "%lld s)", qid, net, log_safe_cstr(e->sender.full),
             log_safe_cstr(e->rcpt.full), t.first + g->delay - now);
    str_reset(&e->reply);
    str_appendf(&e->reply, "DEFER_IF_PERMIT 4.7.1 %s (retry in %lld seconds)",
                e->w->cfg->greylist_text,
                t.first + g->delay - now > 0 ? t.first + g->delay - now : 1);
    return PV_DECIDED;
}
