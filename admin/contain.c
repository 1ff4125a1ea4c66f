/*
 * contain.c - postern contain: logins a contain rule made receive-only
 * (contained_logins, migration 0013; docs/policyd.md "Containing a
 * hijacked account").
 *
 *   postern contain list                  the logins contained now
 *   postern contain show LOGIN            its latest incident, evidence too
 *   postern contain clear LOGIN [--release|--discard]
 *
 * clear ends the incident (cleared_at, cleared_by = the admin, cleared_how):
 * every postern-policyd instance lets the login send again at its next
 * request (policyd reads the state per authenticated request).  With
 * --release the messages of the incident still in Postfix's hold queue
 * are released (postsuper -H ID... hold) and scheduled for delivery at
 * once (postqueue -i ID, each; a failure there only delays them to the
 * next queue run); with --discard they are deleted (postsuper -d ID...
 * hold): postsuper acts on the hold queue only, so a queue id that was
 * released by hand or already delivered is left alone, and the output
 * says how many of the incident's messages were still held.  The programs
 * are [policyd] contain_postsuper and contain_postqueue (/usr/sbin/...),
 * run through admin/postfixq.
 *
 * Exit statuses: 66 no such login contained, 64 both --release and
 * --discard, 69 postsuper failed (the row is cleared all the same: run
 * postsuper by hand with the ids printed), 75 database trouble.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "lookup.h"
#include "postfixq.h"
#include "util.h"

#define CT_QIDS_MAX PFQ_IDS_MAX
#define CT_LOGIN_MAX 320

extern char **environ;

static const char SQL_LIST[] =
    "SELECT login, DATE_FORMAT(since, '%Y-%m-%d %H:%i:%s'), rule_name, action,"
    " attempts, IF(queue_ids IS NULL OR queue_ids = '', 0,"
    " 1 + CHAR_LENGTH(queue_ids) - CHAR_LENGTH(REPLACE(queue_ids, ',', ''))),"
    " IF(notified_at IS NULL, 'no', 'yes')"
    " FROM contained_logins WHERE cleared_at IS NULL ORDER BY since, id";
static const char *const list_cols[] = {"login", "since", "rule", "action",
                                        "attempts", "held", "notified", NULL};

static const char SQL_SHOW[] =
    "SELECT login, IF(cleared_at IS NULL, 'contained', 'cleared'),"
    " DATE_FORMAT(since, '%Y-%m-%d %H:%i:%s'), rule_name, action, evidence,"
    " attempts, clients, recipients, queue_ids,"
    " DATE_FORMAT(notified_at, '%Y-%m-%d %H:%i:%s'),"
    " DATE_FORMAT(cleared_at, '%Y-%m-%d %H:%i:%s'), cleared_by, cleared_how"
    " FROM contained_logins WHERE login = ?"
    " ORDER BY cleared_at IS NULL DESC, since DESC, id DESC LIMIT 1";
static const char *const show_cols[] = {
    "login", "state", "since", "rule", "action", "evidence", "attempts",
    "clients", "recipients", "queue_ids", "notified_at", "cleared_at",
    "cleared_by", "cleared_how", NULL};

struct ct_cfg {
    char *postsuper, *postqueue;
};

static const struct cfg_def ct_defs[] = {
    {"contain_postsuper", CFG_STR, "/usr/sbin/postsuper", 1, 1024,
     offsetof(struct ct_cfg, postsuper), NULL},
    {"contain_postqueue", CFG_STR, "/usr/sbin/postqueue", 1, 1024,
     offsetof(struct ct_cfg, postqueue), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static void lower_login(const char *in, char *out, size_t size)
{
    str_copy_bounded(out, size, in, strlen(in));
    str_lower(out, strlen(out));
}

static int ct_list(struct admin *a, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return admin_error(ADMIN_EX_USAGE, "contain list", "no operands");
    return admin_list(a, list_cols, SQL_LIST, NULL, 0);
}

static int ct_show(struct admin *a, int argc, char **argv)
{
    char login[CT_LOGIN_MAX + 1];
    int rc;

    if (argc != 1)
        return admin_error(ADMIN_EX_USAGE, "contain show", "say which login");
    lower_login(argv[0], login, sizeof(login));
    struct db_param p = DBP_S(login);
    rc = admin_show(a, "contain show", show_cols, SQL_SHOW, &p, 1);
    if (rc == LK_NOTFOUND)
        return admin_error(ADMIN_EX_NOINPUT, "contain show",
                           "login %s was never contained", login);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

struct ct_clear {
    char login[CT_LOGIN_MAX + 1];
    const char *how;
    char qids[2048];
    unsigned long long rows;
};

static int clear_tx(struct admin *a, struct db *db, void *vctx, int *status,
                    struct str *err)
{
    struct ct_clear *c = vctx;
    struct db_param p = DBP_S(c->login);
    int rc;

    rc = admin_value(db, "contain clear",
                     "SELECT COALESCE(queue_ids, '') FROM contained_logins"
                     " WHERE open_login = ? FOR UPDATE",
                     &p, 1, c->qids, sizeof(c->qids));
    if (rc < 0)
        return -1;
    if (rc == LK_NOTFOUND) {
        *status = admin_error(ADMIN_EX_NOINPUT, "contain clear",
                              "login %s is not contained", c->login);
        return 0;
    }
    struct db_param u[3] = {DBP_S(a->user), DBP_S(c->how), DBP_S(c->login)};
    if (db_exec(db, "UPDATE contained_logins SET cleared_at = NOW(),"
                    " cleared_by = ?, cleared_how = ?"
                    " WHERE open_login = ?", u, 3, &c->rows, err) < 0)
        return -1;
    /* sending is restored at once: the login's counts start again (its
       full windows would contain it again at its next message) */
    return db_exec(db, "DELETE e FROM ratelimit_events e JOIN ratelimit_rules"
                       " r ON r.id = e.rule_id WHERE r.key_type ="
                       " 'sasl_login' AND e.key_value = ?", &p, 1, NULL,
                   err) < 0 ||
                   db_exec(db, "DELETE FROM contain_networks WHERE login = ?",
                           &p, 1, NULL, err) < 0
               ? -1 : 0;
}

/* held - the queue ids of the incident (Postfix's alphabet only) */
static int split_qids(char *s, char **ids)
{
    int n = 0;

    for (char *t = strtok(s, ","); t && n < CT_QIDS_MAX; t = strtok(NULL, ",")) {
        int ok = *t != '\0';
        for (const char *q = t; *q; q++)
            if (!isalnum((unsigned char)*q))
                ok = 0;
        if (ok)
            ids[n++] = t;
    }
    return n;
}

/* carry_out - release (and flush) or delete the incident's held messages */
static int carry_out(const struct ct_cfg *cfg, int release, char **ids, int n)
{
    struct str err = STR_INIT;
    int done = pfq_hold_op(cfg->postsuper, release ? "-H" : "-d", ids, n,
                           &err);

    if (done < 0) {
        admin_error(ADMIN_EX_UNAVAILABLE, "contain clear", "%s",
                    str_cstr(&err));
        str_free(&err);
        return ADMIN_EX_UNAVAILABLE;
    }
    printf("%s %d of the incident's %d held message%s%s\n",
           release ? "released" : "deleted", done, n, n == 1 ? "" : "s",
           done < n ? " (the others were no longer in the hold queue)" : "");
    for (int i = 0; release && done > 0 && i < n; i++) {
        str_reset(&err);
        if (pfq_flush_one(cfg->postqueue, ids[i], &err) < 0)
            fprintf(stderr, "postern: contain clear: note: %s goes at the "
                    "next queue run (%s)\n", ids[i], str_cstr(&err));
    }
    str_free(&err);
    return ADMIN_EX_OK;
}

static int ct_clear(struct admin *a, int argc, char **argv)
{
    struct ct_clear c;
    struct ct_cfg cfg = {0};
    struct cfg_section sec = {"policyd", ct_defs, &cfg};
    struct str err = STR_INIT;
    int release = admin_take_flag(&argc, argv, "--release");
    int discard = admin_take_flag(&argc, argv, "--discard");
    char *ids[CT_QIDS_MAX];
    int rc, n;

    if (argc != 1 || (release && discard))
        return admin_error(ADMIN_EX_USAGE, "contain clear",
                           "usage: contain clear LOGIN [--release|--discard]");
    if (cfg_load_keys(a->config_path, "policyd", ct_defs, &cfg, &err) < 0) {
        rc = admin_error(ADMIN_EX_CONFIG, "contain clear", "%s",
                         str_cstr(&err));
        str_free(&err);
        return rc;
    }
    memset(&c, 0, sizeof(c));
    lower_login(argv[0], c.login, sizeof(c.login));
    c.how = release ? "release" : discard ? "discard" : "keep";
    rc = admin_transaction(a, clear_tx, &c);
    if (rc == ADMIN_EX_OK && !a->dry_run && (release || discard) &&
        (n = split_qids(c.qids, ids)) > 0)
        rc = carry_out(&cfg, release, ids, n);
    if (rc == ADMIN_EX_OK)
        admin_done(a, "contained login", release   ? "cleared, released"
                                         : discard ? "cleared, discarded"
                                                   : "cleared",
                   c.login, c.rows);
    cfg_free(&sec, 1);
    str_free(&err);
    return rc;
}

static const struct admin_verb contain_verbs[] = {
    {"list", ct_list},
    {"show", ct_show},
    {"clear", ct_clear},
    {NULL, NULL}};

int cmd_contain(struct admin *a, int argc, char **argv)
{
    return admin_dispatch(a, "contain", contain_verbs, NULL, argc, argv);
}
