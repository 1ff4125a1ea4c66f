/*
 * postern-dirsync - the command line and the loop (see dirsync.h).
 *
 *   postern-dirsync [-c FILE] [-f] [-v]          the daemon: sessions one
 *                                                after the other
 *   postern-dirsync [-c FILE] once               one full pass, then exit
 *   postern-dirsync [-c FILE] lifecycle          the timed steps once
 *   postern-dirsync [-c FILE] status             where the sources stand
 *   postern-dirsync [-c FILE] confirm ID         let a held pass go on
 *   postern-dirsync [-c FILE] purge ADDRESS [force]
 *
 * Exit: 0 done; 1 configuration; 64 usage; 75 (EX_TEMPFAIL) the directory
 * or the database could not be reached (nothing was changed by half).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "dirsync.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

#define EX_TEMP 75

extern volatile int ds_stop, ds_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        ds_hup = 1;
    else
        ds_stop = 1;
}

/* reload - SIGHUP: [directory] read again for the next full pass (which
   starts at once); [database] and [ldap] keep the connections made at start
   (a change there needs a restart).  *dircfg is the configuration the
   [directory] settings come from when it is not d->cfg. */
static void reload(struct ds_run *r, const struct daemon *d, void **dircfg)
{
    struct dirsync_config *n = daemon_reload_config(d);

    ds_hup = 0;
    if (n == NULL) {
        log_warn("SIGHUP: %s has errors (see above); running on with the "
                 "[directory] settings loaded before", d->config_path);
        return;
    }
    r->cfg = &n->dir;
    r->base = n->dir.base[0] ? n->dir.base
                             : ((struct dirsync_config *)d->cfg)->ldap.base;
    daemon_free_config(d->app, *dircfg);
    *dircfg = n;
    log_info("SIGHUP: [directory] reloaded from %s (a new full pass starts; "
             "[database] and [ldap] changes need a restart)", d->config_path);
}

/* the [directory] pid_file, where lib/daemon.c looks for it */
static struct server_config *ds_srvcfg(void *cfg)
{
    return &((struct dirsync_config *)cfg)->srv;
}

static const struct daemon_app app = {
    .name = "postern-dirsync",
    .config_size = sizeof(struct dirsync_config),
    .sections = ds_sections,
    .check = ds_check,
    .server_config = ds_srvcfg,
    .max_operands = 3,
};

static int print_row(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    (void)ctx;
    (void)l;
    for (unsigned i = 0; i < n; i++)
        printf("%s%s", i ? "\t" : "", v[i] ? v[i] : "NULL");
    printf("\n");
    return 0;
}

static int status(struct db *db, struct str *err)
{
    printf("# sources: name, last full pass, persons, groups, held\n");
    if (db_query(db, "SELECT name, IFNULL(last_full_at, 'never'), persons,"
                 " groups_count, held FROM directory_sync", NULL, 0, print_row,
                 NULL, err) == LK_TEMP)
        return EX_TEMP;
    printf("# accounts by state\n");
    if (db_query(db, "SELECT state, COUNT(*) FROM mailboxes WHERE owner ="
                 " 'ldap' GROUP BY state", NULL, 0, print_row, NULL,
                 err) == LK_TEMP)
        return EX_TEMP;
    printf("# held passes waiting for a confirmation: id, when, would leave, "
           "of, some addresses\n");
    if (db_query(db, "SELECT id, created_at, would_leave, active_total,"
                 " IFNULL(sample, '') FROM directory_guard WHERE confirmed_at"
                 " IS NULL ORDER BY id", NULL, 0, print_row, NULL,
                 err) == LK_TEMP)
        return EX_TEMP;
    return 0;
}

static int confirm(struct db *db, const char *id, struct str *err)
{
    unsigned long long n = 0;
    char *end;
    long long v = strtoll(id, &end, 10);

    if (*end != '\0' || v <= 0) {
        fprintf(stderr, "postern-dirsync: confirm: '%s' is not a guard id "
                "(see postern-dirsync status)\n", id);
        return 64;
    }
    struct db_param p[] = {DBP_I(v)};
    if (db_exec(db, "UPDATE directory_guard SET confirmed_at = NOW() WHERE id"
                " = ? AND confirmed_at IS NULL", p, 1, &n, err) < 0)
        return EX_TEMP;
    if (n == 0) {
        fprintf(stderr, "postern-dirsync: no unconfirmed guard %lld\n", v);
        return 1;
    }
    log_info("directory: guard %lld confirmed by an admin; the next full pass "
             "applies it", v);
    printf("guard %lld confirmed: the next full pass applies it\n", v);
    return 0;
}

/* run - sessions until a signal (once: one full pass) */
static int run(struct ds_run *r, struct ldapc *lc, const struct daemon *d)
{
    struct sigaction sa;
    void *dircfg = NULL;
    int rc = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (!r->once)
        sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!ds_stop) {
        if (ds_hup)
            reload(r, d, &dircfg);
        rc = ds_session(r, lc);
        if (r->once) {
            daemon_free_config(d->app, dircfg);
            return rc == 0 && r->refreshed ? 0 : EX_TEMP;
        }
        if (ds_stop)
            break;
        if (rc < 0)
            log_warn("directory: %s; next session in %lld ms",
                     log_safe_cstr(str_cstr(&r->err)),
                     r->cfg->retry_interval);
        else
            continue; /* a planned end: the next full pass at once */
        /* the directory is away: the timed steps still run */
        long long until = clock_ms() + r->cfg->retry_interval;
        while (!ds_stop && !ds_hup && clock_ms() < until) {
            if (clock_ms() - r->last_lifecycle_ms >=
                r->cfg->lifecycle_interval) {
                r->last_lifecycle_ms = clock_ms();
                str_reset(&r->err);
                if (ds_lifecycle_run(r->db, r->cfg, time(NULL), &r->err) < 0)
                    log_warn("directory: life cycle: %s",
                             log_safe_cstr(str_cstr(&r->err)));
            }
            usleep(100000);
        }
    }
    log_info("directory: stopped");
    r->cfg = &((struct dirsync_config *)d->cfg)->dir;
    daemon_free_config(d->app, dircfg);
    return 0;
}

int main(int argc, char **argv)
{
    struct daemon d;
    struct str err = STR_INIT;
    struct dirsync_config *cfg;
    struct ds_run r;
    struct ldapc *lc = NULL;
    const char *cmd;
    int rc;

    db_global_init();
    if ((rc = daemon_start(&d, &app, argc, argv)) >= 0)
        return rc;
    cfg = d.cfg;
    cmd = d.noperands > 0 ? d.operands[0] : "";
    if (cmd[0] && strcmp(cmd, "once") && strcmp(cmd, "lifecycle") &&
        strcmp(cmd, "status") && strcmp(cmd, "confirm") &&
        strcmp(cmd, "purge")) {
        fprintf(stderr, "postern-dirsync: unknown command '%s' (once, "
                "lifecycle, status, confirm ID, purge ADDRESS [force])\n", cmd);
        daemon_end(&d);
        return 64;
    }
    if ((!strcmp(cmd, "confirm") && d.noperands != 2) ||
        (!strcmp(cmd, "purge") &&
         (d.noperands < 2 || (d.noperands == 3 &&
                              strcmp(d.operands[2], "force"))))) {
        fprintf(stderr, "postern-dirsync: usage: confirm ID | purge ADDRESS "
                "[force]\n");
        daemon_end(&d);
        return 64;
    }
    if (cmd[0] == '\0') {
        /* the endpoint of lib/metrics.h: database and LDAP errors */
        if (metrics_init(&err) < 0 ||
            metrics_http_listen(cfg->srv.metrics_listen, &err) < 0)
            log_fatal("%s", str_cstr(&err));
        daemon_detach(&d);
        if (metrics_http_start(&err) < 0)
            log_fatal("%s", str_cstr(&err));
        log_info("postern-dirsync %s started", POSTERN_VERSION);
    }
    memset(&r, 0, sizeof(r));
    r.cfg = &cfg->dir;
    r.base = cfg->dir.base[0] ? cfg->dir.base : cfg->ldap.base;
    r.once = !strcmp(cmd, "once");
    r.last_lifecycle_ms = clock_ms() - cfg->dir.lifecycle_interval;
    if ((r.db = db_open(&cfg->db, &err)) == NULL) {
        log_error("database: %s", str_cstr(&err));
        rc = EX_TEMP;
        goto out;
    }
    db_set_audit_user(r.db, "postern-dirsync"); /* audit_log.admin_user */
    if (!strcmp(cmd, "status")) {
        rc = status(r.db, &err);
    } else if (!strcmp(cmd, "confirm")) {
        rc = confirm(r.db, d.operands[1], &err);
    } else if (!strcmp(cmd, "purge")) {
        rc = ds_purge(r.db, &cfg->dir, d.operands[1], d.noperands == 3, &err)
                     < 0 ? 1 : 0;
        if (rc == 0)
            printf("%s purged\n", d.operands[1]);
    } else if (!strcmp(cmd, "lifecycle")) {
        rc = ds_lifecycle_run(r.db, &cfg->dir, time(NULL), &err) < 0 ? EX_TEMP
                                                                     : 0;
    } else {
        ldapc_global_init();
        if ((lc = ldapc_open(&cfg->ldap, &err)) == NULL) {
            log_error("ldap: %s", str_cstr(&err));
            rc = 1;
            goto out;
        }
        rc = run(&r, lc, &d);
        if (rc != 0)
            str_set(&err, r.err.data, r.err.len);
    }
    if (rc != 0 && err.len)
        log_error("%s", log_safe_cstr(str_cstr(&err)));
out:
    metrics_http_stop();
    ldapc_close(lc);
    db_close(r.db);
    str_free(&r.err);
    str_free(&err);
    daemon_end(&d);
    return rc;
}
