/*
 * contain - a hijacked account is contained, not just counted.
 *
 * A rate-limit rule with contain = 1 (ratelimit_rules, migration 0013)
 * that is over its limit for an authenticated request opens an incident:
 * one row in contained_logins for the SASL login (contain_fire).  From
 * then on every postern-policyd instance answers every authenticated
 * request of that login (check_contained, run before all other checks):
 * "550 5.7.1 account suspended for sending, contact [policyd]
 * contain_contact", or, for a rule whose action is hold, HOLD (Postfix's
 * hold queue; the queue ids are kept in the row, seen at DATA or
 * END-OF-MESSAGE).  Mail to the login's mailbox is not affected: only
 * requests with a sasl_username are.  Clearing the row (postern contain
 * clear) restores sending at the next request: the state is read with one
 * indexed query per authenticated request (open_login is unique), there
 * is no cache to wait for; only a message's later requests (its other
 * recipients, DATA, END-OF-MESSAGE) within PD_CONTAIN_MEMO_MS of a "not
 * contained" answer for it skip the query (pd_msgstate), so a message to
 * 30 recipients costs one query, and an incident opened meanwhile on
 * another host applies from the next message at the latest.
 *
 * counts = networks (key sasl_login): contain_networks records the
 * request's client network (the address masked to the rule's prefixes,
 * /24 and /64 by default) in contain_networks and counts the distinct
 * networks within each window.
 *
 * Notices: one mail to [policyd] contain_notify (the evidence: the rule,
 * its window and limit, client addresses, a sample of recipients, the
 * held queue ids) and one to the login's address, once per incident
 * across instances: the instance whose UPDATE sets notified_at sends
 * them.  For a reject rule they go when the incident opens; for a hold
 * rule when the first held message has its queue id (policy consulted at
 * DATA or END-OF-MESSAGE), or at the first request 30 s after it opened.
 * A notice that cannot be handed to sendmail is tried again later
 * (notified_at reset).
 *
 * Limits: the evidence lists are bounded to their columns (CONTAIN_LIST
 * characters); a value with a comma is not listed.  Database trouble:
 * PV_TEMP, which decide.c answers with [policyd] contain_fail (default
 * defer: a contained login must not send because the database is away).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dbtext.h"
#include "log.h"
#include "policyd.h"
#include "sendmail.h"
#include "strvec.h"

#define CONTAIN_LIST 1990          /* bound of clients/recipients/queue_ids */
#define CONTAIN_LATE_NOTICE 30     /* s: a hold incident told without qid */
#define CONTAIN_SENDMAIL_MS 10000  /* one notice handed to sendmail */
#define CONTAIN_RULE_MAX 64

/* APPEND(col): col with one more comma-separated value (4 parameters,
   all the value): unchanged for "", a value listed already, or no room */
#define APPEND(col)                                                       \
    "IF(? = '' OR FIND_IN_SET(?, COALESCE(" col ", '')) > 0 OR "          \
    "CHAR_LENGTH(COALESCE(" col ", '')) + CHAR_LENGTH(?) >= 1990, " col \
    ", CONCAT_WS(',', " col ", ?))"

static const char SQL_OPEN[] =
    "SELECT id, rule_name, action, notified_at IS NULL AND since < NOW() -"
    " INTERVAL 30 SECOND FROM contained_logins WHERE open_login = ?";
static const char SQL_SEEN_RCPT[] =
    "UPDATE contained_logins SET attempts = attempts + 1,"
    " recipients = " APPEND("recipients") ", clients = " APPEND("clients")
    " WHERE id = ?";
static const char SQL_SEEN_QID[] =
    "UPDATE contained_logins SET queue_ids = " APPEND("queue_ids")
    " WHERE id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO contained_logins (login, rule_name, action, evidence,"
    " clients, recipients, attempts) VALUES (?, ?, ?, ?, ?, ?, 1)"
    " ON DUPLICATE KEY UPDATE attempts = attempts + 1";
static const char SQL_NET_CLIENTS[] =
    "SELECT LEFT(GROUP_CONCAT(client ORDER BY last_seen SEPARATOR ','),"
    " 1990) FROM contain_networks WHERE rule_id = ? AND login = ?";
static const char SQL_CLAIM[] =
    "UPDATE contained_logins SET notified_at = NOW() WHERE id = ?"
    " AND notified_at IS NULL AND cleared_at IS NULL";
static const char SQL_UNCLAIM[] =
    "UPDATE contained_logins SET notified_at = NULL WHERE id = ?";
static const char SQL_ROW[] =
    "SELECT login, rule_name, action, evidence, COALESCE(clients, ''),"
    " COALESCE(recipients, ''), COALESCE(queue_ids, ''),"
    " DATE_FORMAT(since, '%Y-%m-%d %H:%i:%s'), attempts"
    " FROM contained_logins WHERE id = ?";
static const char SQL_NET_PUT[] =
    "INSERT INTO contain_networks (rule_id, login, net, client, last_seen)"
    " VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
    " client = VALUES(client), last_seen = VALUES(last_seen)";
static const char SQL_NET_OLD[] =
    "DELETE FROM contain_networks WHERE rule_id = ? AND login = ?"
    " AND last_seen < ?";
static const char SQL_NET_COUNT[] =
    "SELECT COUNT(*) FROM contain_networks WHERE rule_id = ? AND login = ?"
    " AND last_seen > ?";

/* the rule name of the incident, for the decision log line (e->rule
   points here until the next request of this worker) */
static __thread char tl_rule[CONTAIN_RULE_MAX + 1];

/* login_key - the login as rules key it (ratelimit.c rule_key) */
static int login_key(const char *login, char *key, size_t size)
{
    char low[PD_VALUE_MAX + 1];

    if (login[0] == '\0' ||
        str_copy_bounded(low, sizeof(low), login, strlen(login)) < 0)
        return -1;
    str_lower(low, strlen(low));
    return dbtext_bound(key, size, low, strlen(low), PD_COL_ADDR) < 0 ? -1
                                                                      : 0;
}

/* listable - v as one item of a comma-separated evidence list, or "" */
static const char *listable(const char *v)
{
    return strchr(v, ',') || strlen(v) > 320 ? "" : v;
}

struct open_row {
    long long id;
    char rule[CONTAIN_RULE_MAX + 1];
    int hold, late;
};

static int get_open(void *ctx, unsigned ncols, char **v,
                    const unsigned long *lens)
{
    struct open_row *r = ctx;

    (void)lens;
    if (ncols < 4)
        return 1;
    r->id = v[0] ? strtoll(v[0], NULL, 10) : 0;
    snprintf(r->rule, sizeof(r->rule), "%s", v[1] ? v[1] : "?");
    r->hold = v[2] && !strcmp(v[2], "hold");
    r->late = v[3] && !strcmp(v[3], "1");
    return 1;
}

static int get_num(void *ctx, unsigned ncols, char **v,
                   const unsigned long *lens)
{
    (void)lens;
    if (ncols > 0 && v[0])
        *(long long *)ctx = strtoll(v[0], NULL, 10);
    return 1;
}

static int get_str(void *ctx, unsigned ncols, char **v,
                   const unsigned long *lens)
{
    (void)lens;
    if (ncols > 0 && v[0])
        str_append_cstr(ctx, v[0]);
    return 1;
}

/* --- notices ----------------------------------------------------------- */

struct incident {
    struct str f[9]; /* SQL_ROW's columns */
};

static int get_incident(void *ctx, unsigned ncols, char **v,
                        const unsigned long *lens)
{
    struct incident *in = ctx;

    (void)lens;
    for (unsigned i = 0; i < ncols && i < 9; i++)
        str_append_cstr(&in->f[i], v[i] ? v[i] : "");
    return 1;
}

/* clean - s without control characters (for a header or a body line) */
static void clean(struct str *out, const char *s)
{
    for (; *s; s++)
        str_append_char(out, (unsigned char)*s < 0x20 || *s == 0x7f ? '?'
                                                                    : *s);
}

/* list - "  - item" lines of a comma-separated list */
static void list(struct str *m, const char *what, const char *items)
{
    str_appendf(m, "%s:\n", what);
    if (items[0] == '\0') {
        str_append_cstr(m, "  (none)\n");
        return;
    }
    while (*items) {
        const char *c = strchr(items, ',');
        size_t n = c ? (size_t)(c - items) : strlen(items);
        char item[400];
        str_copy_bounded(item, sizeof(item), items, n < 399 ? n : 399);
        str_append_cstr(m, "  - ");
        clean(m, item);
        str_append_char(m, '\n');
        items += n + (c != NULL);
    }
}

static void head(struct str *m, struct pd_eval *e, const char *to,
                 const char *subject, long long id)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    str_append_cstr(m, "From: ");
    if (e->w->cfg->contain_from[0])
        clean(m, e->w->cfg->contain_from);
    else
        str_appendf(m, "MAILER-DAEMON@%s", e->w->hostname);
    str_append_cstr(m, "\nTo: ");
    clean(m, to);
    str_append_cstr(m, "\nSubject: ");
    clean(m, subject);
    str_appendf(m, "\nDate: %s\nMessage-ID: <contain.%lld.%lld@%s>\n"
                "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n",
                date, id, (long long)now, e->w->hostname);
}

static int send_one(struct pd_eval *e, const char *to, const struct str *m)
{
    struct str err = STR_INIT;
    int rc = sendmail_send(e->w->cfg->contain_sendmail,
                           e->w->cfg->contain_from, to, m->data, m->len,
                           CONTAIN_SENDMAIL_MS, &err);

    if (rc < 0)
        log_error("contain: notice to %s not sent: %s", log_safe_cstr(to),
                  str_cstr(&err));
    str_free(&err);
    return rc;
}

/* notice_admin, notice_user - the two mails of one incident */
static int notice_admin(struct pd_eval *e, struct incident *in, long long id)
{
    struct str m = STR_INIT, subj = STR_INIT;
    const char *to = e->w->cfg->contain_notify;
    int rc;

    if (to[0] == '\0')
        return 0;
    str_appendf(&subj, "postern: login %s suspended for sending",
                str_cstr(&in->f[0]));
    head(&m, e, to, str_cstr(&subj), id);
    str_append_cstr(&m, "The login ");
    clean(&m, str_cstr(&in->f[0]));
    str_append_cstr(&m, " may no longer send mail: the rate-limit rule ");
    clean(&m, str_cstr(&in->f[1]));
    str_append_cstr(&m, " contained it at ");
    clean(&m, str_cstr(&in->f[7]));
    str_append_cstr(&m, " UTC.  Mail to its mailbox is still delivered.\n\n"
                    "Evidence: ");
    clean(&m, str_cstr(&in->f[3]));
    str_appendf(&m, "\nRefused or held requests so far: %s\n"
                "Its submissions are %s.\n\n", str_cstr(&in->f[8]),
                strcmp(str_cstr(&in->f[2]), "hold") == 0
                    ? "held in the Postfix hold queue"
                    : "refused (550 5.7.1)");
    list(&m, "Client addresses", str_cstr(&in->f[4]));
    list(&m, "Recipients (a sample)", str_cstr(&in->f[5]));
    list(&m, "Held queue ids", str_cstr(&in->f[6]));
    str_append_cstr(&m, "\nTo restore sending: postern contain clear ");
    clean(&m, str_cstr(&in->f[0]));
    str_append_cstr(&m, " --release (held mail is delivered) or --discard "
                    "(held mail is deleted).\n");
    rc = send_one(e, to, &m);
    str_free(&m);
    str_free(&subj);
    return rc;
}

static int notice_user(struct pd_eval *e, struct incident *in, long long id)
{
    struct strvec addrs = STRVEC_INIT;
    struct str m = STR_INIT;
    int rc = 0;

    if (pd_login_addresses(e, &addrs) != LK_FOUND || addrs.n == 0) {
        log_warn("contain: login %s has no address to tell",
                 log_safe_cstr(e->login));
        strvec_free(&addrs);
        return 0;
    }
    head(&m, e, addrs.v[0], "Your account may not send mail for now", id);
    str_append_cstr(&m, "Your account ");
    clean(&m, str_cstr(&in->f[0]));
    str_append_cstr(&m, " sent mail in a way that looks like someone else "
                    "is using it, so it may not send mail for now.  Mail to "
                    "you still arrives.\n\nPlease change your password and "
                    "contact ");
    clean(&m, e->w->cfg->contain_contact);
    str_append_cstr(&m, " to have sending restored.\n");
    rc = send_one(e, addrs.v[0], &m);
    str_free(&m);
    strvec_free(&addrs);
    return rc;
}

/* notify - tell the admin and the user, once per incident: the instance
   whose UPDATE claims notified_at sends */
static void notify(struct pd_eval *e, long long id)
{
    struct db_param p[1] = {DBP_I(id)};
    struct incident in;
    unsigned long long n = 0;
    int rc;

    if (db_exec(e->w->db, SQL_CLAIM, p, 1, &n, &e->err) < 0 || n != 1) {
        str_reset(&e->err);
        return;
    }
    memset(&in, 0, sizeof(in));
    rc = db_query(e->w->db, SQL_ROW, p, 1, get_incident, &in, &e->err);
    if (rc == LK_FOUND) {
        rc = notice_admin(e, &in, id);
        if (notice_user(e, &in, id) < 0 || rc < 0)
            rc = -1;
    } else {
        rc = -1;
    }
    if (rc < 0) {
        log_warn("contain: incident %lld: notices not (all) sent, trying "
                 "again later%s%s", id, e->err.len ? ": " : "",
                 str_cstr(&e->err));
        str_reset(&e->err);
        db_exec(e->w->db, SQL_UNCLAIM, p, 1, NULL, &e->err);
        str_reset(&e->err);
    } else {
        log_info("contain: incident %lld of login %s: notices sent", id,
                 log_safe_cstr(str_cstr(&in.f[0])));
    }
    for (int i = 0; i < 9; i++)
        str_free(&in.f[i]);
}

/* --- the checks -------------------------------------------------------- */

static void reply(struct pd_eval *e, int hold)
{
    str_reset(&e->reply);
    if (hold)
        str_appendf(&e->reply, "HOLD account suspended for sending, held "
                    "for review");
    else
        str_appendf(&e->reply, "550 5.7.1 account suspended for sending, "
                    "contact %s", e->w->cfg->contain_contact);
}

/* seen - keep this request as evidence; nothing fails the request */
static void seen(struct pd_eval *e, const struct open_row *r, int stage)
{
    const char *qid = preq_get(e->req, A_QUEUE_ID);
    const char *rcpt = listable(e->rcpt.full);
    const char *client = listable(preq_get(e->req, A_CLIENT_ADDRESS));
    int rc = 0;

    if (stage == ST_RCPT) {
        struct db_param p[9] = {DBP_S(rcpt), DBP_S(rcpt), DBP_S(rcpt),
                                DBP_S(rcpt), DBP_S(client), DBP_S(client),
                                DBP_S(client), DBP_S(client), DBP_I(r->id)};
        rc = db_exec(e->w->db, SQL_SEEN_RCPT, p, 9, NULL, &e->err);
    } else if (r->hold && (stage == ST_DATA || stage == ST_EOM) && qid[0]) {
        qid = listable(qid);
        struct db_param p[5] = {DBP_S(qid), DBP_S(qid), DBP_S(qid),
                                DBP_S(qid), DBP_I(r->id)};
        rc = db_exec(e->w->db, SQL_SEEN_QID, p, 5, NULL, &e->err);
        if (rc == 0)
            notify(e, r->id);
    }
    if (rc < 0)
        log_warn("contain: evidence of login %s not recorded: %s",
                 log_safe_cstr(e->login), str_cstr(&e->err));
    str_reset(&e->err);
    if (r->late)
        notify(e, r->id);
}

int check_contained(struct pd_eval *e, int stage)
{
    char key[ADDR_MAX + 1];
    struct open_row r;
    long long now = clock_ms();
    int rc;

    if (login_key(e->login, key, sizeof(key)) < 0)
        return PV_DUNNO;
    if (e->ms && e->ms->contain_clear_ms &&
        now - e->ms->contain_clear_ms < PD_CONTAIN_MEMO_MS)
        return PV_DUNNO; /* this message's login, just asked */
    memset(&r, 0, sizeof(r));
    rc = db_query(e->w->db, SQL_OPEN, (struct db_param[]){DBP_S(key)}, 1,
                  get_open, &r, &e->err);
    if (rc < 0) {
        str_append_cstr(&e->err, " (whether the login is contained)");
        return PV_TEMP;
    }
    if (rc == LK_NOTFOUND) {
        if (e->ms)
            e->ms->contain_clear_ms = now;
        return PV_DUNNO;
    }
    memcpy(tl_rule, r.rule, sizeof(tl_rule));
    e->rule = tl_rule;
    if (!e->dry)
        seen(e, &r, stage);
    reply(e, r.hold);
    return PV_DECIDED;
}

int contain_fire(struct pd_eval *e, const struct pd_rl_rule *rl,
                 const char *evidence)
{
    char key[ADDR_MAX + 1];
    const char *client = listable(preq_get(e->req, A_CLIENT_ADDRESS));
    int hold = rl->action == RL_HOLD;
    struct str clients = STR_INIT;
    unsigned long long n = 0;
    long long id = 0;
    int rc;

    if (login_key(e->login, key, sizeof(key)) < 0)
        return PV_DUNNO;
    if (e->ms)
        e->ms->contain_clear_ms = 0; /* the message's next request asks */
    e->rule = rl->name;
    reply(e, hold);
    if (e->dry)
        return PV_DECIDED;
    if (rl->counts == RC_NETWORKS &&
        db_query(e->w->db, SQL_NET_CLIENTS,
                 (struct db_param[]){DBP_I(rl->id), DBP_S(key)}, 2, get_str,
                 &clients, &e->err) < 0)
        return PV_TEMP;
    struct db_param p[6] = {
        DBP_S(key), DBP_S(rl->name), DBP_S(hold ? "hold" : "reject"),
        DBP_S(evidence), DBP_S(clients.len ? str_cstr(&clients) : client),
        DBP_S(listable(e->rcpt.full))};
    rc = db_exec(e->w->db, SQL_INSERT, p, 6, &n, &e->err);
    str_free(&clients);
    if (rc < 0)
        return PV_TEMP;
    if (n != 1) /* another request or instance opened it first */
        return PV_DECIDED;
    const char *qid = preq_get(e->req, A_QUEUE_ID);
    log_warn("%s: contain: login %s is receive-only now: rule %s: %s",
             qid[0] ? log_safe_cstr(qid) : "NOQUEUE", log_safe_cstr(key),
             rl->name, evidence);
    if (!hold &&
        db_query(e->w->db, SQL_OPEN, (struct db_param[]){DBP_S(key)}, 1,
                 get_num, &id, &e->err) == LK_FOUND)
        notify(e, id);
    str_reset(&e->err);
    return PV_DECIDED;
}

int contain_networks(struct pd_eval *e, const struct pd_rl_rule *rl,
                     const char *key, const long long *max, int *win,
                     long long *count)
{
    const char *client = preq_get(e->req, A_CLIENT_ADDRESS);
    long long now = (long long)e->now, oldest = now;
    char net[128];

    if (cidr_mask(client, rl->v4prefix, rl->v6prefix, net, sizeof(net)) < 0)
        return 0; /* no client address: nothing to count */
    for (int i = 0; i < rl->nwin; i++)
        if (now - rl->win[i].seconds < oldest)
            oldest = now - rl->win[i].seconds;
    if (!e->dry) {
        struct db_param put[5] = {DBP_I(rl->id), DBP_S(key), DBP_S(net),
                                  DBP_S(client), DBP_I(now)};
        struct db_param old[3] = {DBP_I(rl->id), DBP_S(key), DBP_I(oldest)};
        if (db_exec(e->w->db, SQL_NET_PUT, put, 5, NULL, &e->err) < 0 ||
            db_exec(e->w->db, SQL_NET_OLD, old, 3, NULL, &e->err) < 0)
            return -1;
    }
    for (int i = 0; i < rl->nwin; i++) {
        struct db_param p[3] = {DBP_I(rl->id), DBP_S(key),
                                DBP_I(now - rl->win[i].seconds)};
        long long n = 0;
        if (db_query(e->w->db, SQL_NET_COUNT, p, 3, get_num, &n, &e->err) < 0)
            return -1;
        if (max[i] >= 0 && n > max[i]) {
            *win = i;
            *count = n;
            return 1;
        }
    }
    return 0;
}
