/*
 * greylearn - the parts of greylisting that learn who is real (issue 19,
 * docs/policyd.md "Greylisting that learns"), called by greylist.c:
 *
 *   selective mode  pd_grey_selective: with greylist_mode = selective only
 *                   clients without a verified host name (Postfix's
 *                   client_name "unknown"), with a dynamic-looking name
 *                   (greylist_dynamic_patterns, pd_grey_dynamic) or listed
 *                   on a greylist_dnsbl zone are greylisted.  A DNS
 *                   temporary failure greylists (logged).  DNSBL answers
 *                   (listed and not listed, never a failure) are kept for
 *                   PD_DNSBL_CACHE_TTL in a cache all workers share
 *                   (pd_dnsbl_cache_new, at most PD_DNSBL_CACHE_MAX
 *                   entries), so a client that sends many messages costs
 *                   one query per zone and TTL;
 *   replies         pd_grey_reply_record: an authenticated local user's
 *                   mail to an outside address stores (user, address) in
 *                   greylist_reply_awl for greylist_reply_ttl, at most
 *                   greylist_reply_max rows per user (a full user only
 *                   refreshes its rows), at most two statements per
 *                   recipient and none when this host refreshed the row
 *                   within the last hour (greycache.c).  greylist.c reads
 *                   the rows with the triplet.
 *
 * Addresses are canonical (pd_eval's sender and rcpt) and bounded to their
 * columns (lib/dbtext.h) before they are stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <ctype.h>

#include "dbtext.h"
#include "dnstxt.h"
#include "log.h"
#include "mem.h"
#include "policyd.h"
#include "ttlcache.h"

static const char SQL_REPLY_REFRESH[] =
    "UPDATE greylist_reply_awl SET expires_at = ? WHERE local_user = ?"
    " AND peer = ?";
/* a new row only while the user has fewer than the cap */
static const char SQL_REPLY_ADD[] =
    "INSERT INTO greylist_reply_awl (local_user, peer, peer_domain,"
    " created_at, expires_at) SELECT ?, ?, ?, ?, ? FROM DUAL WHERE"
    " (SELECT COUNT(*) FROM greylist_reply_awl WHERE local_user = ?) < ?"
    " ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)";

/* dyn_at - pattern pat (len pl) at h: "#" a run of digits */
static int dyn_at(const char *pat, size_t pl, const char *h)
{
    for (size_t i = 0; i < pl; i++) {
        if (pat[i] == '#') {
            if (!isdigit((unsigned char)*h))
                return 0;
            while (isdigit((unsigned char)*h))
                h++;
        } else if (tolower((unsigned char)pat[i]) !=
                   tolower((unsigned char)*h++)) {
            return 0;
        }
    }
    return 1;
}

int pd_grey_dynamic(const char *pats, const char *h)
{
    const char *cur = pats;
    char item[128];

    while (cfg_list_next(&cur, item, sizeof(item)) > 0) {
        size_t pl = strlen(item);
        for (const char *p = h; *p; p++)
            if (dyn_at(item, pl, p))
                return 1;
    }
    return 0;
}

/* dnsbl_name - the query name of client address a in zone; -1 when a is
   not an address */
static int dnsbl_name(const char *a, const char *zone, char *out, size_t size)
{
    unsigned char b[16];
    struct str q = STR_INIT;
    int ok = 0;

    if (inet_pton(AF_INET, a, b) == 1) {
        str_appendf(&q, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
        ok = 1;
    } else if (inet_pton(AF_INET6, a, b) == 1) {
        for (int i = 15; i >= 0; i--)
            str_appendf(&q, "%x.%x.", b[i] & 15, b[i] >> 4);
        str_append_cstr(&q, zone);
        ok = 1;
    }
    if (ok && q.len < size)
        memcpy(out, str_cstr(&q), q.len + 1);
    else
        ok = 0;
    str_free(&q);
    return ok ? 0 : -1;
}

struct ttlcache *pd_dnsbl_cache_new(void)
{
    return ttlcache_new(PD_DNSBL_CACHE_MAX, PD_DNSBL_CACHE_TTL, free);
}

static int read_listed(void *ctx, void *val)
{
    (void)ctx;
    return *(int *)val;
}

/* dnsbl_listed - is query name q listed (an A record)?  LK_FOUND,
   LK_NOTFOUND (both cached when c is not NULL) or LK_TEMP + *err */
static int dnsbl_listed(struct ttlcache *c, const char *q, const char **err)
{
    int rc, *v;

    if (c != NULL && ttlcache_get(c, q, read_listed, NULL, &rc))
        return rc;
    rc = dnstxt_a_exists(q, err);
    if (c != NULL && rc >= 0) {
        v = xmalloc(sizeof(*v));
        *v = rc;
        ttlcache_put(c, q, v);
    }
    return rc;
}

int pd_grey_selective(struct pd_eval *e, char *why, size_t size)
{
    const struct policyd_config *cfg = e->w->cfg;
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *name = preq_get(e->req, A_CLIENT_NAME);
    const char *rname = preq_get(e->req, A_REVERSE_CLIENT_NAME);
    const char *cur = cfg->greylist_dnsbl;
    char zone[256], q[512];

    if (!name[0] || !strcasecmp(name, "unknown"))
        return snprintf(why, size, "no matching forward/reverse DNS"), 0;
    if (pd_grey_dynamic(cfg->greylist_dynamic, name) ||
        (rname[0] && strcasecmp(rname, "unknown") &&
         pd_grey_dynamic(cfg->greylist_dynamic, rname)))
        return snprintf(why, size, "dynamic-looking host name"), 0;
    while (cfg_list_next(&cur, zone, sizeof(zone)) > 0) {
        const char *err = NULL;
        int rc;
        if (dnsbl_name(client, zone, q, sizeof(q)) < 0)
            break;
        rc = dnsbl_listed(e->w->dnsbl_cache, q, &err);
        if (rc == LK_FOUND)
            return snprintf(why, size, "listed on %s", zone), 0;
        if (rc < 0) {
            log_warn("%s: greylist: DNS blocklist %s: %s for %s: "
                     "greylisting", log_safe_cstr(preq_get(e->req,
                                                           A_QUEUE_ID)),
                     log_safe_cstr(zone), err ? err : "temporary failure",
                     log_safe_cstr(q));
            return snprintf(why, size, "DNS blocklist %s: temporary "
                            "failure", zone), 0;
        }
    }
    return 1;
}

void pd_grey_reply_record(struct pd_eval *e)
{
    const struct policyd_config *cfg = e->w->cfg;
    char user[ADDR_MAX + 1], peer[ADDR_MAX + 1], pdom[PD_COL_NET + 1];
    char key[2 * ADDR_MAX + 4];
    long long now = (long long)e->now, exp;
    unsigned long long n = 0;
    struct gc_state st;

    if (!cfg->greylist_reply_ttl || e->dry || !e->sender_ok ||
        !e->rcpt_ok || !e->sender.has_domain || !e->rcpt.has_domain ||
        !strcasecmp(e->sender.domain, e->rcpt.domain))
        return;
    exp = now + cfg->greylist_reply_ttl / 1000;
    dbtext_bound(user, sizeof(user), e->sender.full, strlen(e->sender.full),
                 PD_COL_ADDR);
    dbtext_bound(peer, sizeof(peer), e->rcpt.full, strlen(e->rcpt.full),
                 PD_COL_ADDR);
    dbtext_bound(pdom, sizeof(pdom), e->rcpt.domain, strlen(e->rcpt.domain),
                 PD_COL_NET);
    snprintf(key, sizeof(key), "r %s %s", user, peer);
    if (gc_get(e->w->gc, key, e->now, &st) && !st.absent &&
        st.passed >= exp - GC_SEEN_GRAIN)
        return; /* refreshed within the hour */
    struct db_param up[] = {DBP_I(exp), DBP_S(user), DBP_S(peer)};
    struct db_param add[] = {DBP_S(user), DBP_S(peer), DBP_S(pdom),
                             DBP_I(now), DBP_I(exp), DBP_S(user),
                             DBP_I(cfg->greylist_reply_max)};
    if (db_exec(e->w->db, SQL_REPLY_REFRESH, up, 3, &n, &e->err) < 0 ||
        (n == 0 && db_exec(e->w->db, SQL_REPLY_ADD, add, 7, &n, &e->err) < 0)) {
        log_warn("%s: greylist: reply whitelist for %s -> %s not stored: %s",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                 log_safe_cstr(user), log_safe_cstr(peer), str_cstr(&e->err));
        str_reset(&e->err);
        return;
    }
    if (n == 0) {
        log_info("%s: greylist: reply whitelist of %s is full (%lld "
                 "addresses): %s not added",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                 log_safe_cstr(user), cfg->greylist_reply_max,
                 log_safe_cstr(peer));
        return;
    }
    st = (struct gc_state){.passed = exp, .cached_at = e->now};
    gc_put(e->w->gc, key, &st);
}

