/*
 * moderate - postern moderate: messages held for the moderators of a
 * group (docs/milter.md "Moderated groups", migration 0014).
 *
 *   postern moderate list [--all]
 *   postern moderate approve ID
 *   postern moderate reject ID [--reason TEXT]
 *   postern moderate expire
 *   postern moderate run
 *   postern moderate settle ID
 *
 * postern-milter holds a message (Postfix's hold queue, already expanded
 * to the group's members) and writes a moderation_queue row.  This
 * command does the rest, as root on the MX host that holds the message
 * (the row's host: [milter] moderation_host, else the host name, of the
 * same configuration file as that host's milter; [milter]
 * moderation_postsuper and _sendmail, which honour MAIL_CONFIG):
 *   run      mails the moderators of every new row of this host (one
 *            fresh one-time token, 128 bits from getrandom, only its
 *            SHA-256 in SQL; LDAP group moderators get it at each
 *            member's address), expires, and carries out every decision
 *            taken (by reply through postern-milter, or by a command on
 *            another host).  conf/systemd/postern-moderate.timer runs it
 *            every minute.
 *   approve  records the decision; on this host releases the message at
 *            once (postsuper -H): it goes to the members it was expanded
 *            to when it was held.
 *   reject   records it; deletes the held message (postsuper -d) and
 *            tells the sender, with the reason.
 *   expire   every waiting message of this host held longer than
 *            [milter] moderation_timeout: deleted, the sender told.
 *   list     waiting messages (--all: every row).
 *   settle   records a decision as carried out by hand.
 * postsuper runs on the hold queue only (admin/postfixq): a queue ID this
 * Postfix does not hold (released or deleted by hand, or a run with
 * another instance's MAIL_CONFIG) leaves the decision to be carried out,
 * reported with exit 69 at every run until it is, or is settled.
 * Every decision is in the row (decision, decided_by: the moderator's
 * address, the admin (--user) or "timeout", decided_at, reason,
 * applied_at) and on stdout.
 *
 * Limits: MOD_BATCH rows per run; MOD_MODERATORS_MAX addresses mailed
 * per message; child programs are killed after MOD_CHILD_TIMEOUT_MS.
 * Exit: 0; 64 usage; 65 bad ID or reason; 66 no such waiting message;
 * 69 postsuper or sendmail failed (the next run tries again); 75 the
 * database or LDAP did not answer; 78 the configuration is wrong.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "admin.h"
#include "commands.h"
#include "daemon.h"
#include "mem.h"
#include "milter.h"
#include "postfixq.h"
#include "sendmail.h"
#include "util.h"

#define MOD_BATCH 1000
#define MOD_MODERATORS_MAX 1000
#define MOD_CHILD_TIMEOUT_MS 60000
#define MOD_REASON_MAX 255

static const char WHAT[] = "moderate";

struct mod {
    struct admin *a;
    struct milter_config *cfg;
    struct db *db;
    struct mctx m;            /* LDAP groups, started on first need */
    int groups_up;
    char host[256];
};

struct mrow {
    long long id, rule_id;
    char *queue_id, *group, *sender, *subject, *excerpt, *decision,
        *reason;
};

struct mrows {
    struct mrow *v;
    size_t n;
};

static char *dup_or_empty(const char *s)
{
    return xstrdup(s ? s : "");
}

/* cols: id, rule_id, queue_id, group, sender, subject, excerpt,
   decision, reason */
static int mrow_fn(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct mrows *rs = ctx;
    struct mrow *r;

    (void)lens;
    if (ncols < 9 || rs->n >= MOD_BATCH)
        return 1;
    rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
    r = &rs->v[rs->n++];
    r->id = atoll(vals[0]);
    r->rule_id = vals[1] ? atoll(vals[1]) : 0;
    r->queue_id = dup_or_empty(vals[2]);
    r->group = dup_or_empty(vals[3]);
    r->sender = dup_or_empty(vals[4]);
    r->subject = dup_or_empty(vals[5]);
    r->excerpt = dup_or_empty(vals[6]);
    r->decision = dup_or_empty(vals[7]);
    r->reason = dup_or_empty(vals[8]);
    return 0;
}

static void mrows_free(struct mrows *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        struct mrow *r = &rs->v[i];
        free(r->queue_id), free(r->group), free(r->sender);
        free(r->subject), free(r->excerpt), free(r->decision);
        free(r->reason);
    }
    free(rs->v);
    *rs = (struct mrows){NULL, 0};
}

#define MROW_COLS                                                        \
    "SELECT id, rule_id, queue_id, group_address, sender, subject,"      \
    " excerpt, decision, reason FROM moderation_queue "

/* --- set-up ---------------------------------------------------------------- */

static int mod_open(struct mod *x, struct admin *a)
{
    struct str err = STR_INIT;

    *x = (struct mod){.a = a};
    x->cfg = daemon_load_config(&milter_app, a->config_path, &err);
    if (x->cfg == NULL) {
        admin_error(ADMIN_EX_CONFIG, WHAT, "%s", str_cstr(&err));
        str_free(&err);
        return ADMIN_EX_CONFIG;
    }
    str_free(&err);
    if (moderate_host(x->cfg, x->host, sizeof(x->host)) < 0)
        return admin_error(ADMIN_EX_CONFIG, WHAT, "no host name: set "
                           "[milter] moderation_host");
    if ((x->db = admin_db(a)) == NULL)
        return ADMIN_EX_TEMPFAIL;
    return ADMIN_EX_OK;
}

static void mod_close(struct mod *x)
{
    if (x->m.pool) {
        milter_groups_stop(&x->m);
        milter_pool_free(x->m.pool);
    }
    if (x->cfg)
        daemon_free_config(&milter_app, x->cfg);
}

static int groups_up(struct mod *x, struct str *err)
{
    if (x->groups_up)
        return 0;
    x->m.cfg = x->cfg;
    if (!(x->m.pool = milter_pool_create(x->cfg, err)) ||
        milter_groups_start(&x->m, err) < 0)
        return -1;
    x->groups_up = 1;
    return 0;
}

/* --- Postfix --------------------------------------------------------------- */

static int send_mail(struct mod *x, const char *to, const struct str *msg)
{
    struct str err = STR_INIT;
    int rc = sendmail_send(x->cfg->moderation_sendmail, "", to, msg->data,
                           msg->len, MOD_CHILD_TIMEOUT_MS, &err);

    if (rc < 0)
        admin_error(ADMIN_EX_UNAVAILABLE, WHAT, "mail to <%s>: %s", to,
                    str_cstr(&err));
    str_free(&err);
    return rc;
}

static void headers(struct str *m, const struct mod *x, const char *from,
                    const char *to, const char *subject)
{
    str_appendf(m, "From: %s\nTo: <%s>\nSubject: %s\n"
                "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n", from, to, subject);
    (void)x;
}

/* tell_sender - the sender learns that the message was not delivered */
static int tell_sender(struct mod *x, const struct mrow *r, const char *why)
{
    struct str m = STR_INIT;
    int rc;

    if (!r->sender[0])
        return 0; /* <>: nobody to tell */
    headers(&m, x, "Mail Delivery System <MAILER-DAEMON>", r->sender,
            "Your message to the group was not delivered");
    str_appendf(&m, "Your message to %s\n  Subject: %s\nwas held for the "
                "group's moderators and was not delivered:\n  %s\n",
                r->group, r->subject, why);
    rc = send_mail(x, r->sender, &m);
    str_free(&m);
    return rc;
}

/* --- mailing the moderators ----------------------------------------------- */

static int strvec_row(void *ctx, unsigned ncols, char **vals,
                      const unsigned long *lens)
{
    struct strvec *v = ctx;

    (void)lens;
    if (ncols >= 1 && vals[0] && v->n < MOD_MODERATORS_MAX)
        strvec_add(v, vals[0]);
    return 0;
}

/* pg_member_row - a policy group's address member goes to out directly,
   an LDAP group member (DN or address) to the list expanded later */
struct pg_rows {
    struct strvec *out, *ldap;
};

static int pg_member_row(void *ctx, unsigned ncols, char **vals,
                         const unsigned long *lens)
{
    struct pg_rows *pr = ctx;

    (void)lens;
    if (ncols < 2 || !vals[0] || !vals[1])
        return 0;
    if (!strcmp(vals[0], "address") && !strvec_has(pr->out, vals[1]) &&
        pr->out->n < MOD_MODERATORS_MAX)
        strvec_add(pr->out, vals[1]);
    else if (!strcmp(vals[0], "ldap_group") && pr->ldap->n < MOD_MODERATORS_MAX)
        strvec_add(pr->ldap, vals[1]);
    return 0;
}

/* policy_moderators - moderators named by policy group: the group's
   address members, and its LDAP-group members to expand (appended to
   mods); domain and nested-group members are not mailed (they still
   decide by reply, moderate.c).  0 or -1. */
static int policy_moderators(struct mod *x, const char *name,
                             struct strvec *out, struct strvec *mods,
                             struct str *err)
{
    struct db_param p[] = {DBP_S(name)};
    struct pg_rows pr = {out, mods};

    return db_query(x->db, "SELECT m.member_type, m.value FROM"
                    " policy_group_members m JOIN policy_groups g ON"
                    " g.id = m.group_id WHERE g.name = ? ORDER BY m.value",
                    p, 1, pg_member_row, &pr, err) < 0 ? -1 : 0;
}

/* moderator_addresses - the rule's moderators, LDAP groups expanded;
   0, or -1 + *err */
static int moderator_addresses(struct mod *x, long long rule,
                               struct strvec *out, struct str *err)
{
    struct db_param p[] = {DBP_I(rule)};
    struct strvec mods = STRVEC_INIT;
    struct mres *r = NULL;
    int rc = db_query(x->db, "SELECT moderator FROM group_moderators WHERE"
                      " rule_id = ? ORDER BY moderator", p, 1, strvec_row,
                      &mods, err);
    size_t nmods = mods.n;

    for (size_t i = 0; rc >= 0 && i < nmods; i++)
        if (!strchr(mods.v[i], '@') &&
            policy_moderators(x, mods.v[i], out, &mods, err) < 0)
            rc = -1;

    if (rc >= 0 && milter_ldap_on(x->cfg) && mods.n &&
        (groups_up(x, err) < 0 ||
         !(r = milter_pool_get(x->m.pool, err))))
        rc = -1;
    for (size_t i = 0; rc >= 0 && i < mods.n; i++) {
        struct ldapgroup_info info = {NULL, STRVEC_INIT};
        int g = LK_NOTFOUND;
        if (i < nmods && !strchr(mods.v[i], '@'))
            continue; /* a policy group: done above */
        if (r && strchr(mods.v[i], '=') && !strchr(mods.v[i], '@'))
            info.dn = xstrdup(mods.v[i]), g = LK_FOUND; /* an LDAP DN */
        else if (r)
            g = milter_group_lookup(&x->m, r, mods.v[i], &info, err);
        if (g == LK_FOUND) {
            struct strvec mem = STRVEC_INIT;
            if (milter_group_expand(&x->m, r, info.dn, &mem, err) < 0)
                rc = -1;
            for (size_t j = 0; j < mem.n; j++)
                if (!strvec_has(out, mem.v[j]) &&
                    out->n < MOD_MODERATORS_MAX)
                    strvec_add(out, mem.v[j]);
            strvec_free(&mem);
        } else if (g < 0) {
            rc = -1;
        } else if (strchr(mods.v[i], '@') && !strvec_has(out, mods.v[i])) {
            strvec_add(out, mods.v[i]);
        }
        ldapgroup_info_free(&info);
    }
    if (r)
        milter_pool_put(x->m.pool, r);
    strvec_free(&mods);
    return rc < 0 ? -1 : 0;
}

static void new_token(char out[MODERATE_TOKEN_LEN + 1])
{
    unsigned char b[MODERATE_TOKEN_LEN / 2];
    static const char hex[] = "0123456789abcdef";

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        fprintf(stderr, "postern: moderate: getrandom failed\n");
        exit(ADMIN_EX_SOFTWARE); /* never a guessable token */
    }
    for (size_t i = 0; i < sizeof(b); i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[MODERATE_TOKEN_LEN] = '\0';
}

/* notify - a fresh token for the row, then the request to every
   moderator; 0, or an ADMIN_EX_* status (the row stays new: next run) */
static int notify(struct mod *x, const struct mrow *r)
{
    static const char sql[] =
        "UPDATE moderation_queue SET token_hash = ?, notified_at = NOW()"
        " WHERE id = ? AND notified_at IS NULL AND decision IS NULL";
    const char *ma = x->cfg->moderation_address, *at = strrchr(ma, '@');
    char token[MODERATE_TOKEN_LEN + 1], hash[65];
    struct strvec to = STRVEC_INIT;
    struct str err = STR_INIT, reply = STR_INIT;
    unsigned long long n = 0;
    int sent = 0, status = ADMIN_EX_OK;

    if (moderator_addresses(x, r->rule_id, &to, &err) < 0) {
        status = admin_dbfail(WHAT, &err);
        goto done;
    }
    new_token(token);
    if (moderate_token_hash(token, hash) < 0)
        goto done;
    {
        struct db_param p[] = {DBP_S(hash), DBP_I(r->id)};
        if (db_exec(x->db, sql, p, 2, &n, &err) < 0) {
            status = admin_dbfail(WHAT, &err);
            goto done;
        }
    }
    if (n == 0)
        goto done; /* another run took it */
    if (at)
        str_appendf(&reply, "%.*s+%s%s", (int)(at - ma), ma, token, at);
    for (size_t i = 0; i < to.n; i++) {
        struct str m = STR_INIT, subj = STR_INIT;
        str_appendf(&subj, "Moderation request #%lld: %s", r->id, r->subject);
        headers(&m, x, reply.len ? str_cstr(&reply)
                                 : "Mail Delivery System <MAILER-DAEMON>",
                to.v[i], str_cstr(&subj));
        str_appendf(&m, "A message to the moderated group %s waits for "
                    "your decision.\n\n  From:    %s\n  Subject: %s\n\n",
                    r->group, r->sender[0] ? r->sender : "<>", r->subject);
        str_appendf(&m, "The first lines:\n\n%s\n\n", r->excerpt);
        if (reply.len)
            str_appendf(&m, "To approve it, reply to %s with the Subject "
                        "\"approve\";\nto reject it, with the Subject "
                        "\"reject\".  The first answer counts.\n",
                        str_cstr(&reply));
        str_appendf(&m, "Or: postern moderate approve %lld | postern "
                    "moderate reject %lld --reason TEXT\n", r->id, r->id);
        if (send_mail(x, to.v[i], &m) == 0)
            sent++;
        str_free(&m);
        str_free(&subj);
    }
    printf("%lld\tnotified\t%s\t%d moderator(s)\n", r->id, r->queue_id,
           sent);
    if (sent == 0 && to.n) { /* try again next run */
        struct db_param p[] = {DBP_I(r->id)};
        db_exec(x->db, "UPDATE moderation_queue SET notified_at = NULL,"
                " token_hash = NULL WHERE id = ?", p, 1, NULL, &err);
        status = ADMIN_EX_UNAVAILABLE;
    }
done:
    strvec_free(&to);
    str_free(&err);
    str_free(&reply);
    return status;
}

/* --- carrying decisions out ------------------------------------------------ */

static int mark_applied(struct mod *x, long long id)
{
    struct db_param p[] = {DBP_I(id)};
    struct str err = STR_INIT;
    int rc = db_exec(x->db, "UPDATE moderation_queue SET applied_at = NOW()"
                     " WHERE id = ?", p, 1, NULL, &err);

    if (rc < 0)
        admin_dbfail(WHAT, &err);
    str_free(&err);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

/* apply - the decision of a row of this host on the hold queue; a queue
   ID that is not held here leaves the row pending, with the reason */
static int apply(struct mod *x, const struct mrow *r)
{
    int approve = !strcmp(r->decision, "approve");
    const char *op = approve ? "-H" : "-d";
    char *ids[] = {r->queue_id};
    struct str err = STR_INIT;
    int n = pfq_hold_op(x->cfg->moderation_postsuper, op, ids, 1, &err);

    if (n < 0) {
        admin_error(ADMIN_EX_UNAVAILABLE, WHAT, "#%lld: %s", r->id,
                    str_cstr(&err));
        str_free(&err);
        return ADMIN_EX_UNAVAILABLE;
    }
    str_free(&err);
    if (n == 0) {
        const char *mc = getenv("MAIL_CONFIG");
        return admin_error(ADMIN_EX_UNAVAILABLE, WHAT, "#%lld: %s is not in "
                           "the hold queue of this Postfix (%s%s): it was "
                           "released or deleted by hand, or another Postfix "
                           "instance holds it (run postern moderate with its "
                           "MAIL_CONFIG); the %s stays to be carried out "
                           "('postern moderate settle %lld' records it as "
                           "done by hand)", r->id, r->queue_id,
                           mc ? "MAIL_CONFIG=" : "the default configuration",
                           mc ? mc : "", r->decision, r->id);
    }
    if (!approve) {
        struct str why = STR_INIT;
        if (!strcmp(r->decision, "expire"))
            str_append_cstr(&why, "no moderator decided in time");
        else
            str_appendf(&why, "a moderator rejected it%s%s",
                        r->reason[0] ? ": " : "", r->reason);
        tell_sender(x, r, str_cstr(&why)); /* the decision stands */
        str_free(&why);
    }
    printf("%lld\t%s\t%s\t%s\n", r->id,
           approve ? "released" : "deleted", r->queue_id, r->decision);
    return mark_applied(x, r->id);
}

static int apply_pending(struct mod *x)
{
    struct db_param p[] = {DBP_S(x->host)};
    struct mrows rs = {NULL, 0};
    struct str err = STR_INIT;
    int status = ADMIN_EX_OK;

    if (db_query(x->db, MROW_COLS "WHERE host = ? AND decision IS NOT NULL"
                 " AND applied_at IS NULL ORDER BY id", p, 1, mrow_fn, &rs,
                 &err) < 0)
        status = admin_dbfail(WHAT, &err);
    for (size_t i = 0; i < rs.n; i++) {
        int one = apply(x, &rs.v[i]);
        if (one != ADMIN_EX_OK)
            status = one;
    }
    mrows_free(&rs);
    str_free(&err);
    return status;
}

static int expire(struct mod *x)
{
    struct db_param p[] = {DBP_S(x->host),
                           DBP_I(x->cfg->moderation_timeout / 1000)};
    struct str err = STR_INIT;
    unsigned long long n = 0;
    int rc = db_exec(x->db, "UPDATE moderation_queue SET decision = 'expire',"
                     " decided_by = 'timeout', decided_at = NOW(),"
                     " token_hash = NULL WHERE host = ? AND decision IS NULL"
                     " AND created_at < NOW() - INTERVAL ? SECOND", p, 2, &n,
                     &err);

    if (rc < 0) {
        admin_dbfail(WHAT, &err);
        str_free(&err);
        return ADMIN_EX_TEMPFAIL;
    }
    str_free(&err);
    return apply_pending(x);
}

/* --- the verbs ---------------------------------------------------------- */

static int mod_list(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {
        "id", "host", "queue_id", "group", "sender", "subject", "created",
        "notified", "decision", "decided_by", "decided_at", "applied", NULL};
    int all = argc == 1 && !strcmp(argv[0], "--all");

    if (argc > all)
        return admin_error(ADMIN_EX_USAGE, WHAT, "list takes only --all");
    if (!admin_db(a))
        return ADMIN_EX_TEMPFAIL;
    return admin_list(a, cols, all
        ? "SELECT id, host, queue_id, group_address, sender, subject,"
          " created_at, notified_at, decision, decided_by, decided_at,"
          " applied_at FROM moderation_queue ORDER BY id"
        : "SELECT id, host, queue_id, group_address, sender, subject,"
          " created_at, notified_at, decision, decided_by, decided_at,"
          " applied_at FROM moderation_queue WHERE decision IS NULL"
          " ORDER BY id", NULL, 0);
}

/* decide - approve/reject ID by the admin; applied now on this host */
static int decide(struct admin *a, int argc, char **argv, const char *d)
{
    struct mod x;
    char *end, *reason_arg = NULL;
    const char *reason = NULL;
    long long id;
    struct mrows rs = {NULL, 0};
    struct str err = STR_INIT;
    unsigned long long n = 0;
    int status;

    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--reason") && !strcmp(d, "reject")) {
            reason_arg = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) *
                    sizeof(*argv));
            argc -= 2;
            break;
        }
    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT, "%s ID%s", d,
                           !strcmp(d, "reject") ? " [--reason TEXT]" : "");
    id = strtoll(argv[0], &end, 10);
    if (*end || id <= 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT, "bad ID '%s'", argv[0]);
    if (reason_arg && admin_parse_text(WHAT, "--reason", reason_arg,
                                       MOD_REASON_MAX, &reason) != 0)
        return ADMIN_EX_DATAERR;
    if ((status = mod_open(&x, a)) != ADMIN_EX_OK) {
        mod_close(&x);
        return status;
    }
    {
        struct db_param p[] = {DBP_S(d), DBP_S(a->user),
                               reason ? DBP_S(reason) : DBP_NUL, DBP_I(id)};
        if (db_exec(x.db, "UPDATE moderation_queue SET decision = ?,"
                    " decided_by = ?, decided_at = NOW(), reason = ?,"
                    " token_hash = NULL WHERE id = ? AND decision IS NULL",
                    p, 4, &n, &err) < 0) {
            status = admin_dbfail(WHAT, &err);
            goto done;
        }
    }
    if (n == 0) {
        status = admin_error(ADMIN_EX_NOINPUT, WHAT, "no message #%lld "
                             "waiting for a decision", id);
        goto done;
    }
    printf("%lld\t%s\tby %s\n", id, d, a->user);
    {
        struct db_param p[] = {DBP_I(id), DBP_S(x.host)};
        if (db_query(x.db, MROW_COLS "WHERE id = ? AND host = ?", p, 2,
                     mrow_fn, &rs, &err) < 0)
            status = admin_dbfail(WHAT, &err);
    }
    if (rs.n == 1)
        status = apply(&x, &rs.v[0]);
    else if (status == ADMIN_EX_OK)
        printf("%lld\theld on another host: its postern moderate run "
               "carries it out\n", id);
done:
    mrows_free(&rs);
    str_free(&err);
    mod_close(&x);
    return status;
}

static int mod_approve(struct admin *a, int argc, char **argv)
{
    return decide(a, argc, argv, "approve");
}

static int mod_reject(struct admin *a, int argc, char **argv)
{
    return decide(a, argc, argv, "reject");
}

/* settle - a decision carried out by hand (the message was released or
   deleted outside postern): recorded as applied, nothing run */
static int mod_settle(struct admin *a, int argc, char **argv)
{
    struct mod x;
    struct str err = STR_INIT;
    unsigned long long n = 0;
    char *end;
    long long id;
    int status;

    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, WHAT, "settle ID");
    id = strtoll(argv[0], &end, 10);
    if (*end || id <= 0)
        return admin_error(ADMIN_EX_DATAERR, WHAT, "bad ID '%s'", argv[0]);
    if ((status = mod_open(&x, a)) != ADMIN_EX_OK) {
        mod_close(&x);
        return status;
    }
    {
        struct db_param p[] = {DBP_I(id)};
        if (db_exec(x.db, "UPDATE moderation_queue SET applied_at = NOW()"
                    " WHERE id = ? AND decision IS NOT NULL AND applied_at"
                    " IS NULL", p, 1, &n, &err) < 0)
            status = admin_dbfail(WHAT, &err);
        else if (n == 0)
            status = admin_error(ADMIN_EX_NOINPUT, WHAT, "no message #%lld "
                                 "with a decision still to be carried out",
                                 id);
        else
            printf("%lld\tsettled by hand\tby %s\n", id, a->user);
    }
    str_free(&err);
    mod_close(&x);
    return status;
}

static int mod_expire(struct admin *a, int argc, char **argv)
{
    struct mod x;
    int status;

    (void)argv;
    if (argc > 0)
        return admin_error(ADMIN_EX_USAGE, WHAT, "expire takes no operand");
    if ((status = mod_open(&x, a)) == ADMIN_EX_OK)
        status = expire(&x);
    mod_close(&x);
    return status;
}

static int mod_run(struct admin *a, int argc, char **argv)
{
    struct mod x;
    struct mrows rs = {NULL, 0};
    struct str err = STR_INIT;
    int status, one;

    (void)argv;
    if (argc > 0)
        return admin_error(ADMIN_EX_USAGE, WHAT, "run takes no operand");
    if ((status = mod_open(&x, a)) != ADMIN_EX_OK) {
        mod_close(&x);
        return status;
    }
    {
        struct db_param p[] = {DBP_S(x.host)};
        if (db_query(x.db, MROW_COLS "WHERE host = ? AND notified_at IS NULL"
                     " AND decision IS NULL ORDER BY id", p, 1, mrow_fn, &rs,
                     &err) < 0)
            status = admin_dbfail(WHAT, &err);
    }
    for (size_t i = 0; i < rs.n; i++)
        if ((one = notify(&x, &rs.v[i])) != ADMIN_EX_OK)
            status = one;
    if ((one = expire(&x)) != ADMIN_EX_OK)
        status = one;
    mrows_free(&rs);
    str_free(&err);
    mod_close(&x);
    return status;
}

const struct admin_verb moderate_verbs[] = {
    {"list", mod_list},       {"approve", mod_approve},
    {"reject", mod_reject},   {"expire", mod_expire},
    {"run", mod_run},         {"settle", mod_settle},
    {NULL, NULL},
};
