/*
 * explain.c - postern explain: how postern would decide one message now.
 *
 *   postern explain [client=IP] [helo=NAME] [sender=ADDR] recipient=ADDR
 *                   [login=SASL-LOGIN] [message=FILE] [size=BYTES]
 *                   [client_name=NAME]  (the verified host name Postfix
 *                   would send; default "unknown": greylisting's provider
 *                   pools and selective mode look at it)
 *   postern explain queue QUEUEID [log=FILE]
 *
 * The first form runs the programs' own code, read-only, in the order
 * Postfix calls them for a message on port 25 (or submission when a
 * login is given, as postern-postconf wires it):
 *   1. routing: postern-maps' answers (maps_lookup over a snapshot loaded
 *      now) for rcptcheck, the domain class, virtual_alias_maps expanded
 *      as Postfix expands it, virtual_mailbox_maps, transport_maps,
 *      smtpd_sender_login_maps and the sender-dependent relay host, each
 *      with the row that produced it;
 *   2. policy: postern-policyd's checks (pd_decide with e->dry: greylisting
 *      reads its state but stores nothing, rate limits run their
 *      transaction and roll it back) at RCPT, DATA and END-OF-MESSAGE,
 *      with every decision line the checks log;
 *   3. the milter: group lookup, send rights and expansion (LDAP and
 *      policy groups) and the DKIM decision (From ownership, the key; a
 *      signature over the message, or over a minimal one);
 *   4. Sieve: for a mailbox delivered here with a message, the actions of
 *      its active script (postern-sieve, the dry run).
 * and ends with one line "verdict: CODE ..." (2xx accepted and where it
 * goes, "250 accepted and held for moderation" when a moderated group's
 * rule holds it for its moderators, "250 accepted and held in Postfix's
 * hold queue" when postern-policyd answers HOLD (a contained login under
 * a hold rule, a rate-limit rule with action hold), "250 accepted: a reply to a
 * moderation request" for a one-time moderation address whose token
 * names a waiting message (550 5.1.1 when it names none), 4xx deferred,
 * 5xx refused, with the program that decided).
 * Each part says when its program is not configured or its server does
 * not answer.  Nothing is written anywhere.
 *
 * The second form prints what postern (and Postfix) logged about a queue
 * id: every line of the mail log naming it (default /var/log/mail.log and
 * its .1), untrusted text made safe.
 *
 * Limits: EXPLAIN_ALIAS_DEPTH levels and EXPLAIN_ADDRS_MAX addresses of
 * alias expansion (Postfix's own are 100 and 1000); the message file at
 * most EXPLAIN_MESSAGE_MAX bytes; log lines of EXPLAIN_LINE_MAX bytes;
 * the Sieve dry run (postern-sieve) is shown up to EXPLAIN_SIEVE_OUTPUT_MAX
 * bytes and killed after EXPLAIN_SIEVE_TIMEOUT_MS.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "child.h"
#include "commands.h"
#include "file.h"
#include "lda.h"
#include "log.h"
#include "maps.h"
#include "mem.h"
#include "milter.h"
#include "policyd.h"
#include "strvec.h"
#include "util.h"

#define EXPLAIN_ALIAS_DEPTH 20
#define EXPLAIN_ADDRS_MAX 1000
#define EXPLAIN_MESSAGE_MAX (64L * 1024 * 1024)
#define EXPLAIN_LINE_MAX 8192
#define EXPLAIN_SIEVE_OUTPUT_MAX (256 * 1024)
#define EXPLAIN_SIEVE_TIMEOUT_MS 30000
#define EXPLAIN_PGROUP_WAIT_MS 5000

struct explain {
    struct admin *a;
    const char *client, *helo, *sender, *rcpt, *login, *msgfile;
    long long size;
    struct str message;       /* the message (file or a minimal one) */
    /* the verdict, set by the first part that refuses or defers */
    char code[8];
    struct str verdict;
    struct strvec local;      /* final recipients delivered by postern-lda */
    struct strvec dest;       /* where the message goes, one per recipient */
    struct strvec final;      /* final recipients after alias expansion */
    int ours;                 /* the recipient domain is postern's */
    struct str logs;          /* what the checks logged (log_capture) */
    const char *client_name;   /* client_name= (greylisting pools) */
    long long held_rule;      /* a moderated rule holds it (its id), or 0 */
    char policy_hold[256];    /* postern-policyd answered HOLD: why */
    int mod_reply;            /* a reply to a moderation request */
};

/* with --json the text is collected and printed as one member */
static struct str *out_buf;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (out_buf)
        str_vappendf(out_buf, fmt, ap);
    else
        vprintf(fmt, ap);
    va_end(ap);
}

static void decide(struct explain *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void decide(struct explain *x, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (x->code[0])
        return; /* the first refusal is the answer */
    snprintf(x->code, sizeof(x->code), "%s", code);
    va_start(ap, fmt);
    str_vappendf(&x->verdict, fmt, ap);
    va_end(ap);
}

static void on_log(void *ctx, const char *tag, const char *msg)
{
    struct explain *x = ctx;
    str_appendf(&x->logs, "%s%s\n", tag, msg);
}

/* flush_logs - print what the checks logged since the last call */
static void flush_logs(struct explain *x, const char *indent)
{
    const char *p = str_cstr(&x->logs), *nl;
    while (*p && (nl = strchr(p, '\n')) != NULL) {
        out("%slog: %.*s\n", indent, (int)(nl - p), p);
        p = nl + 1;
    }
    str_reset(&x->logs);
}

/* load_config - a program's configuration from the admin's file; NULL
   when it cannot be read (said once) */
static void *load_config(struct explain *x, const struct daemon_app *app)
{
    struct str err = {0};
    void *cfg = daemon_load_config(app, x->a->config_path, &err);
    if (!cfg)
        out("  (%s: configuration not usable: %s)\n", app->name,
            str_cstr(&err));
    str_free(&err);
    return cfg;
}

/* --- 1. routing ---------------------------------------------------------- */

static int lookup(struct explain *x, const struct snapshot *s,
                  const struct maps_config *mc, const char *map,
                  const char *key, struct str *ans)
{
    int rc = maps_lookup(s, mc->recipient_delimiter, map, key, strlen(key),
                         ans);
    (void)x;
    out("  %-14s %-40s -> %s%s\n", map, key,
        rc == LK_FOUND ? "" : rc == LK_NOTFOUND ? "not found" : "TEMP ",
        rc == LK_FOUND || rc < 0 ? str_cstr(ans) : "");
    return rc;
}

static const char *dom_kind_name(enum dom_kind k)
{
    return k == DOM_LOCAL ? "local" : k == DOM_ALIAS ? "alias"
           : k == DOM_RELAY ? "relay" : "legacy";
}

static void show_rows(const struct snapshot *s, const char *addr)
{
    const char *at = strrchr(addr, '@');
    const struct dom *d = at ? strmap_get(&s->domains, at + 1) : NULL;
    const struct mbox *m = strmap_get(&s->mailboxes, addr);
    const struct slist *l = strmap_get(&s->aliases, addr);
    if (d)
        out("    row domains: name=%s kind=%s%s%s%s%s%s%s\n", d->name,
            dom_kind_name(d->kind), d->alias_target ? " alias_target=" : "",
            d->alias_target ? d->alias_target : "",
            d->transport ? " transport=" : "", d->transport ? d->transport : "",
            d->relayhost ? " relayhost=" : "", d->relayhost ? d->relayhost : "");
    if (m)
        out("    row mailboxes: address=%s maildir=%s migration_state=%s "
            "state=%s%s%s\n", m->address, m->maildir,
            m->legacy ? "legacy" : "migrated",
            m->state == MBOX_ACTIVE ? "active" : m->state == MBOX_LEAVING
                                                     ? "leaving" : "closed",
            m->transport ? " transport=" : "", m->transport ? m->transport : "");
    for (const struct sval *v = l ? l->head : NULL; v; v = v->next)
        out("    row aliases: source=%s target=%s%s\n", addr, v->s,
            v->flag ? " keep_copy=1" : "");
}

/* expand - virtual_alias_maps as Postfix applies it: every result is
   looked up again; an address that maps to itself stays */
static int expand(struct explain *x, const struct snapshot *s,
                  const struct maps_config *mc, const char *addr, int depth)
{
    struct str ans = {0};
    int rc;
    if (depth > EXPLAIN_ALIAS_DEPTH || x->final.n >= EXPLAIN_ADDRS_MAX) {
        out("  alias expansion deeper than %d or wider than %d: Postfix "
            "defers (virtual_alias_recursion_limit)\n", EXPLAIN_ALIAS_DEPTH,
            EXPLAIN_ADDRS_MAX);
        decide(x, "451", "4.3.0 alias expansion too deep (postfix)");
        return -1;
    }
    rc = lookup(x, s, mc, "alias", addr, &ans);
    if (rc < 0) {
        decide(x, "451", "4.3.0 postern-maps: alias lookup TEMP");
    } else if (rc == LK_NOTFOUND) {
        strvec_add(&x->final, addr);
    } else {
        char *list = xstrdup(str_cstr(&ans)), *save = NULL;
        show_rows(s, addr);
        for (char *t = strtok_r(list, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            if (strcasecmp(t, addr) == 0)
                strvec_add(&x->final, t); /* keeps a copy */
            else if (expand(x, s, mc, t, depth + 1) < 0)
                break;
        }
        free(list);
    }
    str_free(&ans);
    return rc < 0 ? -1 : 0;
}

/* add_local - a recipient postern-lda stores: "address<TAB>maildir" */
static void add_local(struct explain *x, const struct snapshot *s,
                      const char *addr)
{
    const struct mbox *m = strmap_get(&s->mailboxes, addr);
    struct str v = {0};
    str_appendf(&v, "%s\t%s", addr, m && m->maildir ? m->maildir : "");
    strvec_add(&x->local, str_cstr(&v));
    str_free(&v);
}

static void route_final(struct explain *x, const struct snapshot *s,
                        const struct maps_config *mc, const char *addr)
{
    struct str ans = {0}, tr = {0};
    const char *at = strrchr(addr, '@');
    int mb, t, mdom = 0, rdom = 0;

    if (at) {
        mdom = maps_lookup(s, mc->recipient_delimiter, "mailboxdomain", at + 1,
                           strlen(at + 1), &ans) == LK_FOUND;
        rdom = maps_lookup(s, mc->recipient_delimiter, "relaydomain", at + 1,
                           strlen(at + 1), &ans) == LK_FOUND;
    }
    out("  %s:\n", addr);
    mb = mdom ? lookup(x, s, mc, "mailbox", addr, &ans) : LK_NOTFOUND;
    if (mb == LK_FOUND)
        show_rows(s, addr);
    t = lookup(x, s, mc, "transport", addr, &tr);
    if (t < 0 || mb < 0) {
        decide(x, "451", "4.3.0 postern-maps answered TEMP (database not "
               "reached): Postfix defers");
    } else if (mdom && mb == LK_NOTFOUND) {
        out("    no mailbox: Postfix bounces it (an alias target) or "
            "refuses it at RCPT (the recipient itself)\n");
        strvec_add(&x->dest, "bounce: user unknown");
    } else if (t == LK_FOUND) {
        strvec_add(&x->dest, str_cstr(&tr));
        if (strncmp(str_cstr(&tr), "postern-lda", 11) == 0 && mb == LK_FOUND)
            add_local(x, s, addr);
    } else if (mdom && mb == LK_FOUND) {
        strvec_add(&x->dest, "virtual_transport (postern-lda)");
        add_local(x, s, addr);
    } else {
        strvec_add(&x->dest, rdom ? "relay_transport" :
                   "default_transport (the relay host or MX)");
    }
    str_free(&ans);
    str_free(&tr);
}

static void part_routing(struct explain *x)
{
    struct maps_config *mc;
    struct snapshot *s = NULL;
    struct db *db;
    struct str err = {0}, ans = {0};
    const char *at = strrchr(x->rcpt, '@');
    int rc;

    out("== routing (postern-maps: Postfix's lookups, answered from a "
        "snapshot read now)\n");
    if (!(mc = load_config(x, &maps_app)))
        return;
    if (!(db = db_open(&mc->db, &err)) || db_begin_snapshot(db, &err) < 0 ||
        !(s = snapshot_load(db, &err))) {
        out("  database not reached: %s\n  Postfix would get TEMP and "
            "defer (451 4.3.0)\n", str_cstr(&err));
        decide(x, "451", "4.3.0 postern-maps: database not reached");
        goto done;
    }
    db_rollback(db);
    maps_set_closed_text(mc->closed_text);
    out("  snapshot: %zu rows read in %lld ms\n", s->rows, s->load_ms);
    /* smtpd_recipient_restrictions: ... check_recipient_access rcptcheck */
    rc = lookup(x, s, mc, "rcptcheck", x->rcpt, &ans);
    if (rc == LK_FOUND && strncasecmp(str_cstr(&ans), "OK", 2) != 0 &&
        strncasecmp(str_cstr(&ans), "DUNNO", 5) != 0) {
        show_rows(s, x->rcpt);
        decide(x, isdigit((unsigned char)str_cstr(&ans)[0]) ? "550" : "554",
               "%s (postern-maps rcptcheck)", str_cstr(&ans));
    } else if (rc < 0) {
        decide(x, "451", "4.3.0 postern-maps: rcptcheck TEMP");
    }
    if (at) {
        int md = lookup(x, s, mc, "mailboxdomain", at + 1, &ans);
        int rd = lookup(x, s, mc, "relaydomain", at + 1, &ans);
        x->ours = md == LK_FOUND || rd == LK_FOUND;
        if (md < 0 || rd < 0)
            decide(x, "451", "4.3.0 postern-maps: domain lookup TEMP");
        else if (!x->ours && !x->login[0])
            decide(x, "554", "5.7.1 Relay access denied (Postfix "
                   "reject_unauth_destination: %s is not a postern domain)",
                   at + 1);
    }
    if (x->sender[0]) {
        struct str who = {0};
        rc = lookup(x, s, mc, "senderlogin", x->sender, &who);
        if (x->login[0]) { /* submission: reject_sender_login_mismatch */
            int owned = 0;
            if (rc == LK_FOUND) {
                char *list = xstrdup(str_cstr(&who)), *save = NULL;
                for (char *t = strtok_r(list, ", ", &save); t;
                     t = strtok_r(NULL, ", ", &save))
                    owned |= strcasecmp(t, x->login) == 0;
                free(list);
            }
            if (rc < 0)
                decide(x, "451", "4.3.0 postern-maps: senderlogin TEMP");
            else if (!owned)
                decide(x, "553", "5.7.1 <%s>: Sender address rejected: not "
                       "owned by user %s (Postfix "
                       "reject_sender_login_mismatch)", x->sender, x->login);
        }
        str_free(&who);
        lookup(x, s, mc, "relayhost", x->sender, &ans);
    }
    if (x->ours || x->login[0]) {
        out("  virtual_alias_maps, expanded as Postfix does:\n");
        expand(x, s, mc, x->rcpt, 0);
        for (size_t i = 0; i < x->final.n; i++)
            route_final(x, s, mc, x->final.v[i]);
        /* reject_unlisted_recipient: the recipient itself must be known */
        if (x->ours && x->final.n == 1 &&
            strcasecmp(x->final.v[0], x->rcpt) == 0 && x->dest.n == 1 &&
            strncmp(x->dest.v[0], "bounce", 6) == 0)
            decide(x, "550", "5.1.1 <%s>: Recipient address rejected: User "
                   "unknown in virtual mailbox table (Postfix "
                   "reject_unlisted_recipient)", x->rcpt);
    }
done:
    if (s)
        snapshot_free(s);
    if (db)
        db_close(db);
    str_free(&err);
    str_free(&ans);
    daemon_free_config(&maps_app, mc);
}

/* --- 2. policy ----------------------------------------------------------- */

static void preq_set(struct preq *r, const char *name, const char *val)
{
    struct str line = {0};
    const char *why;
    str_appendf(&line, "%s=%s", name, val);
    if (preq_add(r, line.data, line.len, &why) < 0)
        out("  (attribute %s not usable: %s)\n", name, why);
    str_free(&line);
}

static void part_policy(struct explain *x)
{
    struct policyd_config *pc;
    struct pd_worker w = {0};
    struct pd_msgstate ms = {0};
    struct pd_rules *rules = NULL;
    struct str err = {0}, trace = {0};
    static const char *const states[] = {"RCPT", "DATA", "END-OF-MESSAGE"};
    char size[32], count[8];

    out("== policy (postern-policyd: its checks, read-only: nothing is "
        "counted or stored)\n");
    if (!(pc = load_config(x, &policyd_app)))
        return;
    w.cfg = pc;
    snprintf(w.hostname, sizeof(w.hostname), "%s",
             pc->hostname[0] ? pc->hostname : "localhost");
    if (!(w.db = db_open(&pc->db, &err)) ||
        db_begin_snapshot(w.db, &err) < 0 ||
        !(rules = pd_rules_ops.load(w.db, &err))) {
        out("  database not reached: %s\n  postern-policyd answers with its "
            "last snapshot or, without one, 451 4.3.0\n", str_cstr(&err));
        if (w.db)
            db_rollback(w.db);
        decide(x, "451", "4.3.0 postern-policyd: policy tables not readable");
        goto done;
    }
    db_rollback(w.db);
    w.spf = pd_spf_server_new();
    if (pc->ldap_on) {
        w.ldap = ldapc_open(&pc->ldap, &err);
        w.ldgroups = pd_ldgroups_new(pc, &err);
    }
    w.gc = gc_new(pc, &err);
    snprintf(size, sizeof(size), "%lld", x->size);
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        struct preq req = {0};
        struct pd_eval e = {0};
        preq_set(&req, "request", "smtpd_access_policy");
        preq_set(&req, "protocol_state", states[i]);
        preq_set(&req, "protocol_name", "ESMTP");
        preq_set(&req, "client_address", x->client);
        preq_set(&req, "client_name", x->client_name);
        preq_set(&req, "reverse_client_name", x->client_name);
        preq_set(&req, "helo_name", x->helo);
        preq_set(&req, "sender", x->sender);
        preq_set(&req, "recipient", i == 0 ? x->rcpt : "");
        snprintf(count, sizeof(count), "%d", i == 0 ? 0 : 1);
        preq_set(&req, "recipient_count", count);
        preq_set(&req, "sasl_username", x->login);
        preq_set(&req, "size", i == 2 ? size : "0");
        preq_set(&req, "instance", "postern-explain");
        preq_set(&req, "queue_id", "explain");
        e.req = &req;
        e.rules = rules;
        e.w = &w;
        e.ms = &ms;
        e.now = time(NULL);
        e.dry = 1;
        e.trace = &trace;
        pd_decide(&e);
        out("  %s:\n", states[i]);
        {
            const char *p = str_cstr(&trace), *nl;
            while ((nl = strchr(p, '\n')) != NULL) {
                out("    %.*s\n", (int)(nl - p), p);
                p = nl + 1;
            }
        }
        str_reset(&trace);
        flush_logs(x, "    ");
        out("    answer: %s\n", str_cstr(&e.reply));
        if (isdigit((unsigned char)e.reply.data[0])) {
            char c[4] = {e.reply.data[0], e.reply.data[1], e.reply.data[2], 0};
            decide(x, c, "%s (postern-policyd at %s)", str_cstr(&e.reply) + 4,
                   states[i]);
        } else if (strncmp(str_cstr(&e.reply), "DEFER_IF_PERMIT", 15) == 0) {
            decide(x, "450", "%s (postern-policyd at %s: greylisting)",
                   str_cstr(&e.reply) + 16, states[i]);
        } else if (strncmp(str_cstr(&e.reply), "HOLD", 4) == 0 &&
                   !x->policy_hold[0]) {
            out("    (accepted and held in the queue: postsuper -H)\n");
            snprintf(x->policy_hold, sizeof(x->policy_hold),
                     "postern-policyd at %s: %s", states[i],
                     e.reply.len > 5 ? str_cstr(&e.reply) + 5 : "HOLD");
        }
        str_free(&e.reply);
        str_free(&e.err);
        preq_free(&req);
        if (x->code[0])
            break;
    }
done:
    if (rules)
        rules_free(rules);
    gc_free(w.gc);
    if (w.spf)
        pd_spf_server_free(w.spf);
    ldapgroup_free(w.ldgroups);
    if (w.ldap)
        ldapc_close(w.ldap);
    if (w.db)
        db_close(w.db);
    str_free(&err);
    str_free(&trace);
    daemon_free_config(&policyd_app, pc);
}

/* --- 3. the milter ------------------------------------------------------- */

/* moderation_reply - is the recipient a one-time moderation address
   (milter/moderate.c)?  Then the milter's RCPT decision on its token
   (read-only) is the answer, and 1; else 0 */
static int moderation_reply(struct explain *x, struct mctx *m, struct mres *r)
{
    char addr[ADDR_MAX + 1], token[MODERATE_TOKEN_LEN + 1];
    struct str err = STR_INIT;
    int rc;

    if (!m->cfg->moderation_address[0] ||
        str_copy_bounded(addr, sizeof(addr), x->rcpt, strlen(x->rcpt)) < 0)
        return 0;
    str_lower(addr, strlen(addr));
    if (!moderate_token_of(m->cfg, addr, token))
        return 0;
    rc = moderate_known(r, token, &err);
    if (rc < 0) {
        out("  %s: a moderation reply address; its token cannot be checked "
            "now: %s\n", x->rcpt, str_cstr(&err));
        decide(x, "451", "4.3.0 Temporary failure, try again later "
               "(postern-milter)");
    } else if (rc == LK_NOTFOUND) {
        out("  %s: a moderation reply address whose token names no waiting "
            "message (unknown or used)\n", x->rcpt);
        decide(x, "550", "5.1.1 Unknown or used moderation address "
               "(postern-milter)");
    } else {
        out("  %s: a reply to a moderation request: the message waits; "
            "postern-milter records the decision of a moderator (Subject "
            "approve or reject) and discards the reply\n", x->rcpt);
        x->mod_reply = 1;
    }
    str_free(&err);
    return 1;
}

static void milter_group(struct explain *x, struct mctx *m, struct mres *r)
{
    struct strvec members = STRVEC_INIT;
    struct str err = {0};
    struct rights_rcpt v;
    struct addr canon;
    int rc;

    if (milter_canonical(m, x->rcpt, ADDR_NEED_DOMAIN, &canon) < 0 ||
        !milter_group_domain(m->cfg, canon.full)) {
        out("  %s: not in [milter] group_domains: no group lookup\n",
            x->rcpt);
        return;
    }
    /* the milter's own RCPT decision (milter/rights.c), with the sender
       made canonical as mlfi_envfrom makes it */
    {
        struct addr snd;
        const char *sender = milter_canonical(m, x->sender, ADDR_ALLOW_EMPTY,
                                              &snd) == 0 ? snd.full : x->sender;
        rights_rcpt(m, r, canon.full, x->login[0] ? x->login : NULL, sender,
                    &v);
    }
    if (!v.group && v.rc < 0) {
        out("  group lookup: TEMP: %s\n", str_cstr(&v.err));
        decide(x, "451", "4.4.3 Group directory unavailable (postern-milter)");
    } else if (!v.group) {
        out("  %s: not a group\n", canon.full);
    } else {
        out("  %s: group %s\n", canon.full, v.info.dn);
        for (size_t i = 0; i < v.info.values.n; i++)
            out("    send rule (LDAP): %s\n", v.info.values.v[i]);
        flush_logs(x, "    ");
        if (v.rc == RIGHTS_DENY) {
            out("    send rights: refused%s%s\n",
                v.nested.len ? " by nested group " : "", str_cstr(&v.nested));
            decide(x, "550", "5.7.1 %s (postern-milter send rights)",
                   str_cstr(&v.text));
        } else if (v.rc < 0) {
            out("    send rights: cannot be checked now: %s\n",
                str_cstr(&v.err));
            decide(x, "451", "4.3.0 Cannot check the send rights now "
                   "(postern-milter)");
        } else {
            if (v.rc == RIGHTS_HOLD) {
                out("    send rights: refused, but the rule is moderated "
                    "(#%lld): accepted and held for the moderators\n",
                    v.hold_rule);
                x->held_rule = v.hold_rule;
            } else
                out("    send rights: allowed\n");
            rc = milter_group_expand(m, r, v.info.dn, &members, &err);
            if (rc < 0) {
                out("    expansion: %s: %s\n", rc == LK_LIMIT ? "over a limit"
                    : "TEMP", str_cstr(&err));
                decide(x, rc == LK_LIMIT ? "452" : "451",
                       "4.x.x group expansion failed (postern-milter)");
            } else {
                out("    expands to %zu addresses:", members.n);
                for (size_t i = 0; i < members.n; i++)
                    out("%s%s", i % 4 ? " " : "\n      ", members.v[i]);
                out("\n");
                for (size_t i = 0; i < members.n; i++)
                    if (m->cfg->copy_to_sender ||
                        strcasecmp(members.v[i], x->sender) != 0)
                        strvec_add(&x->dest, members.v[i]);
            }
        }
    }
    rights_rcpt_free(&v);
    strvec_free(&members);
    str_free(&err);
}

static void milter_dkim(struct explain *x, struct mctx *m, struct mres *r)
{
    const struct milter_config *cfg = m->cfg;
    int trusted = x->login[0] || milter_net_match(cfg->trusted_networks,
                                                  x->client);
    struct msign *sg;
    struct str err = {0}, why = {0};
    struct strvec sigs = STRVEC_INIT;
    const char *p = str_cstr(&x->message), *body;

    if (!cfg->dkim_sign || !trusted) {
        out("  DKIM: not signed (%s)\n", !cfg->dkim_sign ? "[milter] "
            "dkim_sign = no" : "no login and the client is not in "
            "trusted_networks");
        return;
    }
    sg = sign_begin();
    /* the headers, unfolded one by one, as libmilter hands them over */
    while (*p && *p != '\r' && *p != '\n') {
        const char *colon = strchr(p, ':'), *end = p;
        struct str name = {0}, value = {0};
        while ((end = strchr(end, '\n')) && (end[1] == ' ' || end[1] == '\t'))
            end++;
        if (!colon || !end)
            break;
        str_append(&name, p, (size_t)(colon - p));
        str_append(&value, colon + 1 + (colon[1] == ' '),
                   (size_t)(end - colon - 1 - (colon[1] == ' ')));
        while (value.len && (value.data[value.len - 1] == '\r'))
            str_truncate(&value, value.len - 1);
        sign_header(m, sg, str_cstr(&name), str_cstr(&value));
        str_free(&name);
        str_free(&value);
        p = end + 1;
    }
    body = p;
    if (x->login[0]) {
        int rc = from_owned(m, r, x->login, sign_from(sg), &why, &err);
        if (rc < 0) {
            out("  DKIM: cannot check the From: address: %s\n",
                str_cstr(&err));
            decide(x, "451", "4.3.0 Cannot check the From address now "
                   "(postern-milter)");
            goto done;
        }
        if (rc == LK_NOTFOUND) {
            out("  DKIM: From <%s> is not the login's: %s\n",
                sign_from(sg) ? sign_from(sg) : "(none)", str_cstr(&why));
            if (cfg->unowned_from == UNOWNED_FROM_REJECT)
                decide(x, "550", "5.7.1 The From: address is not one of your "
                       "addresses (postern-milter, unowned_from = reject)");
            else
                out("  DKIM: passes unsigned (unowned_from = unsigned)\n");
            goto done;
        }
        out("  DKIM: From <%s> belongs to login %s\n", sign_from(sg),
            x->login);
    }
    if (sign_eoh(m, r, sg, &err) < 0) {
        out("  DKIM: keys unavailable: %s\n", str_cstr(&err));
        decide(x, "451", "4.3.0 Signing keys unavailable (postern-milter)");
        goto done;
    }
    flush_logs(x, "  ");
    if (!sign_active(sg)) {
        out("  DKIM: not signed: no active key for the From domain%s\n",
            err.len ? "" : " (or no single From)");
        goto done;
    }
    sign_body(sg, (const unsigned char *)body,
              x->message.len - (size_t)(body - x->message.data));
    if (sign_eom(sg, &sigs, &err) < 0) {
        out("  DKIM: signing failed: %s\n", str_cstr(&err));
        goto done;
    }
    for (size_t i = 0; i < sigs.n; i++)
        out("  DKIM: signs: DKIM-Signature: %.120s%s\n", sigs.v[i],
            strlen(sigs.v[i]) > 120 ? "..." : "");
done:
    flush_logs(x, "  ");
    sign_free(sg);
    strvec_free(&sigs);
    str_free(&err);
    str_free(&why);
}

static void part_milter(struct explain *x)
{
    struct milter_config *cfg;
    struct mctx m = {0};
    struct mres *r = NULL;
    struct str err = {0};

    out("== postern-milter (groups, send rights, DKIM)\n");
    if (!(cfg = load_config(x, &milter_app)))
        return;
    m.cfg = cfg;
    if (!(m.pool = milter_pool_create(cfg, &err)) ||
        milter_groups_start(&m, &err) < 0 || sign_global_init(&err) < 0) {
        out("  not usable: %s\n", str_cstr(&err));
        goto done;
    }
    if (!milter_groups_ready(&m, EXPLAIN_PGROUP_WAIT_MS))
        out("  (policy groups not loaded within %d ms: send rights over "
            "them answer TEMP)\n", EXPLAIN_PGROUP_WAIT_MS);
    if (!(r = milter_pool_get(m.pool, &err))) {
        out("  no LDAP/database handle: %s\n", str_cstr(&err));
        decide(x, "451", "4.4.3 Temporary failure (postern-milter)");
        goto done;
    }
    if (!moderation_reply(x, &m, r))
        milter_group(x, &m, r);
    flush_logs(x, "  ");
    milter_dkim(x, &m, r);
done:
    if (r)
        milter_pool_put(m.pool, r);
    if (m.pool) {
        milter_groups_stop(&m);
        milter_pool_free(m.pool);
    }
    sign_global_end();
    str_free(&err);
    daemon_free_config(&milter_app, cfg);
}

/* --- 4. Sieve ------------------------------------------------------------ */

static const struct daemon_app lda_app_view = {
    .name = "postern-lda",
    .config_size = sizeof(struct lda_config),
    .sections = lda_config_sections,
};

/* run_sieve - postern-sieve (the dry run next to this binary) on one
   script; its lines printed indented */
static void run_sieve(struct explain *x, const char *tool, const char *script,
                      const char *rcpt)
{
    char *argv[] = {(char *)tool, "-f",
                    (char *)(x->sender[0] ? x->sender : "<>"), "-a",
                    (char *)rcpt, (char *)script, (char *)x->msgfile, NULL};
    struct str output = STR_INIT, err = STR_INIT;
    const char *l;
    int rc;

    if (access(script, R_OK) != 0) {
        out("    %s: none (%s): keep\n", script, strerror(errno));
        return;
    }
    out("    %s:\n", script);
    rc = child_run(tool, argv, NULL, 0, &output, EXPLAIN_SIEVE_OUTPUT_MAX,
                   EXPLAIN_SIEVE_TIMEOUT_MS, &err);
    if (rc < 0)
        out("      cannot run %s: %s\n", tool, str_cstr(&err));
    else if (rc > 0 && output.len == 0) /* 75: it could not be started */
        out("      %s exited with status %d\n", tool, rc);
    for (l = str_cstr(&output); *l;) {
        size_t n = strcspn(l, "\n");
        out("      %.*s\n", (int)n, l);
        l += n + (l[n] == '\n');
    }
    str_free(&output);
    str_free(&err);
}

static void part_sieve(struct explain *x)
{
    struct lda_config *lc;
    char self[4096], tool[4200];
    ssize_t n;

    if (x->local.n == 0)
        return;
    out("== Sieve (postern-lda: the scripts of each mailbox, a dry run with "
        "postern-sieve)\n");
    if (!x->msgfile) {
        out("  (give message=FILE to run the scripts)\n");
        return;
    }
    if (!(lc = load_config(x, &lda_app_view)))
        return;
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    if (strrchr(self, '/'))
        *strrchr(self, '/') = 0;
    snprintf(tool, sizeof(tool), "%s/postern-sieve", self);
    for (size_t i = 0; i < x->local.n; i++) {
        const char *tab = strchr(x->local.v[i], '\t');
        struct str script = {0}, rcpt = {0};
        if (!tab)
            continue;
        str_append(&rcpt, x->local.v[i], (size_t)(tab - x->local.v[i]));
        out("  %s:\n", str_cstr(&rcpt));
        if (lc->sieve_before[0])
            run_sieve(x, tool, lc->sieve_before, str_cstr(&rcpt));
        str_appendf(&script, "%s/%s.postern.sieve", lc->mail_root, tab + 1);
        run_sieve(x, tool, str_cstr(&script), str_cstr(&rcpt));
        if (lc->sieve_after[0])
            run_sieve(x, tool, lc->sieve_after, str_cstr(&rcpt));
        str_free(&script);
        str_free(&rcpt);
    }
    daemon_free_config(&lda_app_view, lc);
}

/* --- the command ---------------------------------------------------------- */

static int explain_queue(int argc, char **argv)
{
    static const char *const keys[] = {"log", NULL};
    struct admin_kv kv;
    const char *logs[2] = {NULL, NULL};
    char alt[4200];
    int st, found = 0;

    if (argc < 1)
        return admin_error(ADMIN_EX_USAGE, "explain queue", "needs QUEUEID");
    for (const char *p = argv[0]; *p; p++)
        if (!isalnum((unsigned char)*p))
            return admin_error(ADMIN_EX_USAGE, "explain queue",
                               "'%s' is not a Postfix queue id", argv[0]);
    if ((st = admin_kv_parse(&kv, argc - 1, argv + 1, keys, "explain queue")))
        return st;
    logs[0] = admin_kv_get(&kv, "log") ? admin_kv_get(&kv, "log")
                                       : "/var/log/mail.log";
    snprintf(alt, sizeof(alt), "%s.1", logs[0]);
    logs[1] = admin_kv_get(&kv, "log") ? NULL : alt;
    for (int i = 1; i >= 0; i--) {
        FILE *fp;
        char line[EXPLAIN_LINE_MAX], safe[EXPLAIN_LINE_MAX];
        if (!logs[i] || !(fp = fopen(logs[i], "r"))) {
            if (logs[i] && i == 0)
                return admin_error(ADMIN_EX_NOINPUT, "explain queue",
                                   "%s: %s", logs[i], strerror(errno));
            continue;
        }
        while (fgets(line, sizeof(line), fp)) {
            char *q = strstr(line, argv[0]);
            size_t len = strcspn(line, "\n");
            if (!q || (q > line && isalnum((unsigned char)q[-1])) ||
                isalnum((unsigned char)q[strlen(argv[0])]))
                continue;
            /* as the log has it, control bytes made visible */
            size_t k = 0;
            for (size_t j = 0; j < len && k + 1 < sizeof(safe); j++)
                safe[k++] = (line[j] >= 0x20 && line[j] < 0x7f) ? line[j] : '?';
            safe[k] = 0;
            printf("%s\n", safe);
            found++;
        }
        fclose(fp);
    }
    if (!found)
        return admin_error(ADMIN_EX_NOINPUT, "explain queue",
                           "no line of %s names %s", logs[0], argv[0]);
    return ADMIN_EX_OK;
}

int cmd_explain(struct admin *a, int argc, char **argv)
{
    static const char *const keys[] = {"client", "helo", "sender",
                                       "recipient", "login", "message",
                                       "size", "client_name", NULL};
    struct explain x = {.a = a};
    struct admin_kv kv;
    int st;
    const char *v;

    if (argc >= 2 && strcmp(argv[1], "queue") == 0)
        return explain_queue(argc - 2, argv + 2);
    if ((st = admin_kv_parse(&kv, argc - 1, argv + 1, keys, "explain")))
        return st;
    x.rcpt = admin_kv_get(&kv, "recipient");
    if (!x.rcpt || !*x.rcpt)
        return admin_error(ADMIN_EX_USAGE, "explain",
                           "needs recipient=ADDRESS (and sender=, client=, "
                           "helo=, login=, message=FILE as known)");
    x.client = (v = admin_kv_get(&kv, "client")) ? v : "192.0.2.1";
    x.helo = (v = admin_kv_get(&kv, "helo")) ? v : "unknown";
    x.client_name = (v = admin_kv_get(&kv, "client_name")) ? v : "unknown";
    x.sender = (v = admin_kv_get(&kv, "sender")) ? v : "";
    x.login = (v = admin_kv_get(&kv, "login")) ? v : "";
    x.msgfile = admin_kv_get(&kv, "message");
    if (x.msgfile) {
        struct str err = {0};
        if (file_read("message", x.msgfile, EXPLAIN_MESSAGE_MAX, 0, &x.message,
                      &err) < 0) {
            st = admin_error(ADMIN_EX_NOINPUT, "explain", "%s",
                             str_cstr(&err));
            str_free(&err);
            return st;
        }
    } else {
        str_appendf(&x.message, "From: <%s>\r\nTo: <%s>\r\nSubject: postern "
                    "explain\r\n\r\nA message to see the decision.\r\n",
                    x.sender, x.rcpt);
    }
    x.size = (v = admin_kv_get(&kv, "size")) ? atoll(v)
                                             : (long long)x.message.len;
    if (a->json) {
        static struct str text;
        out_buf = &text;
    }
    out("postern explain: client=%s helo=%s from=<%s> to=<%s> login=%s%s\n",
        x.client, x.helo, x.sender, x.rcpt, x.login[0] ? x.login : "-",
        x.login[0] ? " (submission)" : " (port 25)");
    log_set_verbose(1);
    log_capture(on_log, &x);
    part_routing(&x);
    if (!x.code[0] || x.code[0] == '2')
        part_policy(&x);
    if (!x.code[0])
        part_milter(&x);
    if (!x.code[0])
        part_sieve(&x);
    log_capture(NULL, NULL);
    if (x.code[0]) {
        out("verdict: %s %s\n", x.code, str_cstr(&x.verdict));
    } else if (x.mod_reply) {
        out("verdict: 250 accepted: a reply to a moderation request "
            "(postern-milter takes the decision and discards the "
            "message)\n");
    } else {
        if (x.held_rule)
            out("verdict: 250 accepted and held for moderation "
                "(postern-milter, group_send_rules #%lld); once approved "
                "goes to:", x.held_rule);
        else if (x.policy_hold[0])
            out("verdict: 250 accepted and held in Postfix's hold queue "
                "(%s); once released goes to:", x.policy_hold);
        else
            out("verdict: 250 accepted; goes to:");
        for (size_t i = 0; i < x.dest.n; i++)
            out(" %s", x.dest.v[i]);
        out("\n");
    }
    if (out_buf) { /* {"code", "verdict", "goes_to", "text"} */
        struct str j = {0};
        str_append_cstr(&j, "{\"code\": ");
        admin_json_str(&j, x.code[0] ? x.code : "250");
        str_append_cstr(&j, ", \"verdict\": ");
        admin_json_str(&j, x.code[0] ? str_cstr(&x.verdict)
                           : x.mod_reply ? "accepted: a moderation reply"
                           : x.held_rule ? "accepted and held for moderation"
                           : x.policy_hold[0] ? "accepted and held"
                                              : "accepted");
        str_append_cstr(&j, ", \"goes_to\": [");
        for (size_t i = 0; !x.code[0] && !x.mod_reply && i < x.dest.n;
             i++) {
            if (i)
                str_append_cstr(&j, ", ");
            admin_json_str(&j, x.dest.v[i]);
        }
        str_append_cstr(&j, "], \"text\": ");
        admin_json_str(&j, str_cstr(out_buf));
        str_append_cstr(&j, "}\n");
        fwrite(j.data, 1, j.len, stdout);
        str_free(&j);
        str_free(out_buf);
        out_buf = NULL;
    }
    str_free(&x.message);
    str_free(&x.verdict);
    str_free(&x.logs);
    strvec_free(&x.local);
    strvec_free(&x.dest);
    strvec_free(&x.final);
    return ADMIN_EX_OK;
}
