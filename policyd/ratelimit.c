/*
 * ratelimit - rate limits with exact sliding windows, shared by every
 * policyd instance through MariaDB.
 *
 * A rule (ratelimit_rules) counts per key: SASL login, sender address,
 * sender domain, client address (masked to the rule's prefixes) or
 * recipient; optionally only one key (match_value) or only keys in a policy
 * group.  It counts messages (once per message, at its first accepted
 * recipient), recipients (every RCPT) or bytes (the size Postfix reports at
 * END-OF-MESSAGE; at RCPT a key already at its byte limit is refused early).
 * Each rule has one or more windows (ratelimit_windows: "100 per 3600 s and
 * 500 per 86400 s"), each with per-key overrides (ratelimit_overrides,
 * NULL = unlimited).
 *
 * Algorithm (lib/ratelimit.c, shared with postern-forward and postern-lda,
 * which count rules of key type forwarder; policyd skips those rules): an
 * exact sliding window over one-second buckets (ratelimit_events).  For one rule and key, a transaction locks the key's
 * row in ratelimit_keys (so instances on several hosts serialise on the
 * same key, and only on it), sums the buckets inside each window, and adds
 * the amount only when every window stays within its limit: mail that is
 * refused is not counted.  Rules with action warn count and only log.
 * After a deadlock or a lost connection the transaction runs again as a
 * whole (db_transaction, RL_TX_TRIES times), never one statement of it.
 *
 * Over a limit: defer (450 4.7.1 with the time until the window has room),
 * reject (550 5.7.1), HOLD (the message is accepted and held in the queue)
 * or warn.  Of several exceeded rules, the first in priority order decides.
 * Database trouble: PV_TEMP.
 *
 * counts = networks (SASL login keys only) counts the distinct client
 * networks of a login instead (contain.c).  A rule with contain = 1 over
 * its limit for an authenticated request makes the login receive-only
 * (contain_fire in contain.c), whatever its action (hold holds, anything
 * else rejects).
 *
 * Keys are bounded to the key_value column (PD_COL_ADDR characters, UTF-8)
 * before they are used (lib/dbtext.h): a longer or non-UTF-8 login or
 * address is canonicalised (leading part and a hash of the whole), so it
 * is still counted, and never refused by the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbtext.h"
#include "log.h"
#include "policyd.h"
#include "ratelimit.h"

/* rule_key - the key this request has for rule rl; 0 or -1 (no key) */
static int rule_key(struct pd_eval *e, const struct pd_rl_rule *rl,
                    char *key, size_t size)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    const char *v = NULL;
    char low[PD_VALUE_MAX + 1];

    switch (rl->key) {
    case RK_LOGIN: v = e->login; break;
    case RK_SENDER: v = e->sender.full; break;
    case RK_SENDER_DOMAIN: v = e->sender.has_domain ? e->sender.domain : ""; break;
    case RK_RECIPIENT: v = e->rcpt.full; break; /* "" after RCPT when
                                                   the message has several */
    case RK_FORWARDER:
        return -1; /* never built into the rules (rules.c) */
    case RK_CLIENT:
        if (rl->match && !cidr_contains(&rl->match_net, client))
            return -1;
        return cidr_mask(client, rl->v4prefix, rl->v6prefix, key, size);
    }
    if (v == NULL || v[0] == '\0' ||
        str_copy_bounded(low, sizeof(low), v, strlen(v)) < 0)
        return -1;
    str_lower(low, strlen(low));
    if (dbtext_bound(key, size, low, strlen(low), PD_COL_ADDR) < 0)
        return -1;
    if (rl->match && strcmp(rl->match, key) != 0)
        return -1;
    return 0;
}

static long long limit_for(const struct pd_rules *r,
                           const struct pd_rl_rule *rl, int w, const char *key)
{
    char k[ADDR_MAX + 64];
    const struct pd_override *o;

    snprintf(k, sizeof(k), "%u/%lld/%s", rl->id, rl->win[w].seconds, key);
    o = strmap_get(&r->overrides, k);
    return o ? o->max : rl->win[w].max;
}

/* count_one - one rule and key through the shared counting core
   (lib/ratelimit.c): the windows with this key's overrides, one
   transaction run again as a whole after a deadlock or a lost connection
   (the row lock on the key is what makes the count exact across hosts);
   a dry run (postern explain) rolls it back.  1 over a limit (*win,
   *retry set), 0 within, -1 database trouble */
static int count_one(struct pd_eval *e, const struct pd_rl_rule *rl,
                     const char *key, long long amount, int *win,
                     long long *retry)
{
    struct rl_window w[PD_WINDOWS_MAX];
    struct rl_count c = {rl->id, key, amount, (long long)e->now, w, rl->nwin,
                         rl->action == RL_WARN, 0, 0};
    int rc;

    for (int i = 0; i < rl->nwin; i++) {
        w[i].seconds = rl->win[i].seconds;
        w[i].max = limit_for(e->rules, rl, i, key);
    }
    rc = rl_count(e->w->db, &c, e->dry, &e->err);
    if (rc < 0)
        return -1;
    *win = c.win_over;
    *retry = c.retry;
    return rc;
}

static int counted(struct pd_msgstate *ms, size_t i, int set)
{
    size_t byte = i / 8;

    if (byte >= sizeof(ms->counted))
        return 0; /* beyond the bitmap: counted per recipient */
    if (set)
        ms->counted[byte] |= (unsigned char)(1u << (i % 8));
    return (ms->counted[byte] >> (i % 8)) & 1;
}

int check_ratelimit(struct pd_eval *e, int stage, int main)
{
    const struct pd_rules *r = e->rules;
    const char *qid = log_safe_cstr(preq_get(e->req, A_QUEUE_ID));
    long long size = strtoll(preq_get(e->req, A_SIZE), NULL, 10);
    long long nrcpt = strtoll(preq_get(e->req, A_RECIPIENT_COUNT), NULL, 10);

    for (size_t i = 0; i < r->nrl; i++) {
        const struct pd_rl_rule *rl = &r->rl[i];
        char key[ADDR_MAX + 1];
        long long amount, retry = 0, seen = 0;
        int w = 0, rc;

        if (rule_key(e, rl, key, sizeof(key)) < 0)
            continue;
        if (rl->group) {
            if ((rc = pd_group_has(e, rl->group, key)) < 0)
                return PV_TEMP;
            if (rc == 0)
                continue;
        }
        if (rl->counts == RC_NETWORKS) { /* distinct client networks of
                                            a login (contain.c) */
            long long max[PD_WINDOWS_MAX];
            if (rl->key != RK_LOGIN || stage != main)
                continue;
            for (int j = 0; j < rl->nwin; j++)
                max[j] = limit_for(r, rl, j, key);
            amount = 0;
            rc = contain_networks(e, rl, key, max, &w, &seen);
        } else {
            if (rl->counts == RC_BYTES)
                /* counted at END-OF-MESSAGE; earlier, a key already at its
                   limit is refused */
                amount = stage == ST_EOM ? (size > 0 ? size : 0) : 0;
            else if (stage != main)
                continue; /* messages and recipients count at one stage */
            else if (rl->counts == RC_MESSAGES && counted(e->ms, i, 0))
                continue; /* this message passed this rule already */
            else if (rl->counts == RC_MESSAGES)
                amount = 1;
            else /* recipients: one per RCPT, or all of them after RCPT */
                amount = stage == ST_RCPT ? 1 : (nrcpt > 0 ? nrcpt : 1);
            if (stage == ST_EOM && amount == 0)
                continue;
            rc = count_one(e, rl, key, amount, &w, &retry);
        }
        if (rc < 0)
            return PV_TEMP;
        if (rc == 1 && rl->contain && e->login[0]) {
            char ev[256];
            static const char *const what[] = {"messages", "recipients",
                                               "bytes", "client networks"};
            if (rl->counts == RC_NETWORKS)
                snprintf(ev, sizeof(ev), "%lld client networks (/%d, /%d) "
                         "within %lld s, limit %lld", seen, rl->v4prefix,
                         rl->v6prefix, rl->win[w].seconds,
                         limit_for(r, rl, w, key));
            else
                snprintf(ev, sizeof(ev), "over %lld %s within %lld s",
                         limit_for(r, rl, w, key), what[rl->counts],
                         rl->win[w].seconds);
            pd_count(e, pd_metrics.ratelimit, METRICS_L(rl->name, "contain"));
            return contain_fire(e, rl, ev);
        }
        if (rc == 0 || rl->action == RL_WARN) {
            if (rc == 1)
                pd_count(e, pd_metrics.ratelimit, METRICS_L(rl->name, "warn"));
            if (rc == 1)
                log_warn("%s: ratelimit %s: key %s over %lld per %lld s "
                         "(warn only)", qid, rl->name, log_safe_cstr(key),
                         limit_for(r, rl, w, key), rl->win[w].seconds);
            if (rl->counts == RC_MESSAGES && amount > 0)
                counted(e->ms, i, 1);
            continue;
        }
        e->rule = rl->name;
        pd_count(e, pd_metrics.ratelimit,
                 METRICS_L(rl->name, rl->action == RL_DEFER    ? "defer"
                                     : rl->action == RL_REJECT ? "reject"
                                                               : "hold"));
        log_info("%s: ratelimit %s: key %s over %lld per %lld s: %s", qid,
                 rl->name, log_safe_cstr(key), limit_for(r, rl, w, key),
                 rl->win[w].seconds,
                 rl->action == RL_DEFER ? "defer"
                 : rl->action == RL_REJECT ? "reject" : "hold");
        str_reset(&e->reply);
        const char *text = rl->text ? rl->text : e->w->cfg->ratelimit_text;
        if (rl->action == RL_DEFER)
            str_appendf(&e->reply, "450 4.7.1 %s (try again in %lld seconds)",
                        text, retry);
        else if (rl->action == RL_REJECT)
            str_appendf(&e->reply, "550 5.7.1 %s", text);
        else
            str_appendf(&e->reply, "HOLD %s", text);
        return PV_DECIDED;
    }
    return PV_DUNNO;
}
