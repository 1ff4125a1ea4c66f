/*
 * quota - refuse mail for a full mailbox at RCPT time, like Dovecot's
 * quota-status service: "552 5.2.2 Mailbox is full" ([policyd]
 * quota_text), so the sending client learns it at once and no bounce is
 * sent later (backscatter).
 *
 * The figures are the mailbox's row in mailbox_usage (written by
 * postern-lda after every delivery, by `postern quota recount`, or by
 * Dovecot's quota_clone), read with one indexed SELECT that also joins
 * the mailbox and its domain:
 *
 *   bytes        mailbox_usage.bytes
 *   row limit    mailbox_usage.quota_bytes (the limit in force when the
 *                row was written; NULL = not known)
 *   limit now    COALESCE(mailboxes.quota_bytes, domains.default_quota_bytes)
 *                (NULL = postern-lda's [lda] default_quota, not known here)
 *
 * A limit of 0 (either) is unlimited.  The mailbox is held to the larger
 * of the known limits (an admin who raised a quota lets mail in at once;
 * a lowered one takes effect with the next delivery), and a message of
 * `size` bytes (the SIZE= of MAIL FROM as Postfix reports it; 1 when the
 * client gave none) is refused when bytes + size > limit, as postern-lda
 * itself decides.  pd_quota_full is that decision, pure.
 *
 * Only a local mailbox has the row: the recipient in canonical form
 * (case, +extension, alias domains: decide.c), an active mailbox of an
 * active domain, migrated (mail for a legacy mailbox goes elsewhere).
 * A mailbox that is also the source of an active alias row (a forward,
 * with or without a copy) is not judged: the message still goes
 * somewhere.  An alias with exactly one active target, no copy, whose
 * target is such a local mailbox (and not forwarded on) is judged by that
 * mailbox's row; any other alias, a catch-all, a forward or an unknown
 * address: no objection.  Sieve is not looked at (as in Dovecot's
 * quota-status): a full mailbox whose script redirects everything is
 * still refused.
 *
 * Never refuse on doubt: no row, a row without a known limit, the
 * database away (PV_TEMP: decide.c passes, the fail mode of this check is
 * always pass), a recipient that does not parse: DUNNO, and the LDA
 * decides as before.
 *
 * Speed: answers that let mail through (no row, room left) are cached per
 * address for [policyd] quota_cache_ttl (lib/ttlcache.h, at most
 * PD_QUOTA_CACHE_MAX entries, shared by the workers); a mailbox that the
 * cached figures call full is read again before it is refused, so a
 * refusal always rests on the row as it is now.  A dry run (postern
 * explain) has no cache and reads the row.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "policyd.h"
#include "ttlcache.h"

/* one round trip, at most one row: the mailbox itself when no alias row
   has it as source (a forward, with or without a copy, would still take
   the message), else the one local mailbox an alias with a single target
   and no copy leads to (itself not forwarded on) */
#define SQL_MAILBOX_OK                                                         \
    " m.active = 1 AND d.active = 1 AND m.migration_state = 'migrated'"
static const char SQL_USAGE[] =
    "SELECT u.bytes, u.quota_bytes,"
    " COALESCE(m.quota_bytes, d.default_quota_bytes)"
    " FROM mailbox_usage u"
    " JOIN mailboxes m ON m.address = u.address"
    " JOIN domains d ON d.name = m.domain"
    " WHERE u.address = ? AND" SQL_MAILBOX_OK
    " AND NOT EXISTS (SELECT 1 FROM aliases a WHERE a.source = ?"
    " AND a.active = 1)"
    " UNION ALL "
    "SELECT u.bytes, u.quota_bytes,"
    " COALESCE(m.quota_bytes, d.default_quota_bytes)"
    " FROM aliases a"
    " JOIN mailbox_usage u ON u.address = a.target"
    " JOIN mailboxes m ON m.address = a.target"
    " JOIN domains d ON d.name = m.domain"
    " WHERE a.source = ? AND a.active = 1 AND a.keep_copy = 0 AND"
    SQL_MAILBOX_OK
    " AND (SELECT COUNT(*) FROM aliases a2 WHERE a2.source = a.source"
    " AND a2.active = 1) = 1"
    " AND NOT EXISTS (SELECT 1 FROM aliases a3 WHERE a3.source = a.target"
    " AND a3.active = 1)"
    " LIMIT 1";

long long pd_quota_limit(const struct pd_quota_row *q)
{
    if (q->row_limit == 0 || q->cur_limit == 0)
        return 0; /* unlimited, now or when the row was written */
    if (q->row_limit < 0 && q->cur_limit < 0)
        return 0; /* no limit known */
    return q->row_limit > q->cur_limit ? q->row_limit : q->cur_limit;
}

int pd_quota_full(const struct pd_quota_row *q, long long size)
{
    long long limit = pd_quota_limit(q);

    if (limit <= 0 || q->bytes < 0)
        return 0;
    if (size < 1)
        size = 1; /* every message has a byte */
    return q->bytes > limit - size; /* bytes + size > limit, no overflow */
}

/* num - an unsigned column as long long: -1 for NULL, clamped at
   LLONG_MAX */
static long long num(const char *v)
{
    unsigned long long u;
    char *end;

    if (v == NULL)
        return -1;
    errno = 0;
    u = strtoull(v, &end, 10);
    if (end == v || *end || v[0] == '-')
        return -1;
    return errno == ERANGE || u > (unsigned long long)LLONG_MAX
               ? LLONG_MAX : (long long)u;
}

static int usage_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    struct pd_quota_row *q = ctx;

    (void)l;
    if (n == 3) {
        q->bytes = num(v[0]);
        q->row_limit = num(v[1]);
        q->cur_limit = num(v[2]);
    }
    return 1;
}

/* a cached answer: found = the mailbox has a row (q valid) */
struct qentry {
    int found;
    struct pd_quota_row q;
};

static int copy_entry(void *ctx, void *val)
{
    *(struct qentry *)ctx = *(struct qentry *)val;
    return 0;
}

struct ttlcache *pd_quota_cache_new(const struct policyd_config *cfg)
{
    return ttlcache_new(PD_QUOTA_CACHE_MAX, cfg->quota_cache_ttl, free);
}

/* load - the row of addr from the database; LK_* (+ e->err) */
static int load(struct pd_eval *e, const char *addr, struct qentry *out)
{
    struct db_param p[] = {DBP_S(addr), DBP_S(addr), DBP_S(addr)};
    int rc;

    memset(out, 0, sizeof(*out));
    out->q.bytes = out->q.row_limit = out->q.cur_limit = -1;
    rc = db_query(e->w->db, SQL_USAGE, p, 3, usage_row, &out->q, &e->err);
    if (rc < 0)
        return rc;
    out->found = rc == LK_FOUND;
    if (e->w->quota_cache) {
        struct qentry *c = xmalloc(sizeof(*c));
        *c = *out;
        ttlcache_put(e->w->quota_cache, addr, c);
    }
    return rc;
}

/* msg_size - the SIZE= Postfix reports (0: none or not a number) */
static long long msg_size(const struct pd_eval *e)
{
    const char *s = preq_get(e->req, A_SIZE);
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    return end == s || *end || errno == ERANGE || v < 0 ? 0 : v;
}

/* count - one result in postern_quota_checks_total (not in a dry run) */
static void count(const struct pd_eval *e, const char *result)
{
    if (pd_metrics.quota)
        pd_count(e, pd_metrics.quota, METRICS_L(result));
}

int check_quota(struct pd_eval *e)
{
    const char *addr = e->rcpt.full;
    long long size = msg_size(e);
    struct qentry q;
    int hit = 0;

    if (!e->rcpt_ok || !e->rcpt.has_domain || addr[0] == '\0')
        return PV_DUNNO;
    if (e->w->quota_cache && ttlcache_get(e->w->quota_cache, addr,
                                          copy_entry, &q, NULL))
        hit = 1;
    if (hit && (!q.found || !pd_quota_full(&q.q, size)))
        return count(e, q.found ? "room" : "no_row"), PV_DUNNO;
    if (load(e, addr, &q) < 0) /* a refusal rests on a fresh row */
        return count(e, "unknown"), PV_TEMP;
    if (!q.found || !pd_quota_full(&q.q, size))
        return count(e, q.found ? "room" : "no_row"), PV_DUNNO;
    count(e, "full");
    if (!e->dry)
        log_info("%s: quota: <%s> is full: %lld bytes of %lld, message %lld",
                 log_safe_cstr(preq_get(e->req, A_QUEUE_ID)),
                 log_safe_cstr(addr), q.q.bytes, pd_quota_limit(&q.q), size);
    str_reset(&e->reply);
    str_appendf(&e->reply, "552 5.2.2 %s", e->w->cfg->quota_text);
    return PV_DECIDED;
}
