/*
 * postern - the admin command: options, configuration, the database
 * connection, transactions named after the admin, and the dispatch to
 * one module per command (admin.h).
 *
 * Limits: ADMIN_USER_MAX for the admin's name; the database limits of
 * lib/db.h.  The configuration is read, never written; nothing here
 * changes SQL outside admin_transaction().
 */
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "daemon.h"
#include "log.h"
#include "lookup.h"
#include "version.h"

#define ADMIN_TX_TRIES 3
#define ADMIN_DRY_RUN_RC (-10) /* body done, roll back (not an error) */

static size_t admin_sections(void *cfg, struct cfg_section *secs)
{
    static const struct cfg_def db_defs[] = {
        DB_CFG_DEFS(struct admin_config, db)};
    secs[0] = (struct cfg_section){"database", db_defs, cfg};
    return 1;
}

static const struct daemon_app admin_app = {
    .name = "postern",
    .config_size = sizeof(struct admin_config),
    .sections = admin_sections,
};

int admin_error(int status, const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "postern: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

struct db *admin_db(struct admin *a)
{
    struct str err = {0};
    if (a->db)
        return a->db;
    db_global_init();
    a->db = db_open(&a->cfg->db, &err);
    if (!a->db)
        admin_error(ADMIN_EX_TEMPFAIL, "database", "%s", str_cstr(&err));
    str_free(&err);
    return a->db;
}

struct tx_ctx {
    struct admin *a;
    admin_tx_fn body;
    void *ctx;
    int status;
};

static int tx_body(struct db *db, void *vctx, struct str *err)
{
    struct tx_ctx *t = vctx;
    struct db_param p = DBP_S(t->a->user);
    int rc;
    if (db_exec(db, "SET @postern_user = ?", &p, 1, NULL, err) < 0)
        return LK_TEMP;
    t->status = ADMIN_EX_OK;
    rc = t->body(t->a, db, t->ctx, &t->status, err);
    if (rc < 0)
        return LK_TEMP;
    if (t->status != ADMIN_EX_OK)
        return ADMIN_DRY_RUN_RC; /* refused: roll back, nothing changed */
    return t->a->dry_run ? ADMIN_DRY_RUN_RC : 0;
}

int admin_transaction(struct admin *a, admin_tx_fn body, void *ctx)
{
    struct tx_ctx t = {a, body, ctx, ADMIN_EX_OK};
    struct str err = {0};
    struct db *db = admin_db(a);
    int rc;
    if (!db)
        return ADMIN_EX_TEMPFAIL;
    rc = db_transaction(db, tx_body, &t, ADMIN_TX_TRIES, &err);
    if (rc < 0 && rc != ADMIN_DRY_RUN_RC) {
        admin_error(ADMIN_EX_TEMPFAIL, "database",
                    "%s (nothing was changed; try again)", str_cstr(&err));
        str_free(&err);
        return ADMIN_EX_TEMPFAIL;
    }
    str_free(&err);
    if (rc == ADMIN_DRY_RUN_RC && t.status == ADMIN_EX_OK)
        fprintf(stderr, "postern: dry run: rolled back, nothing changed\n");
    return t.status;
}

static void admin_user_default(struct admin *a)
{
    const char *u = getenv("SUDO_USER");
    if (!u || !*u) {
        struct passwd *pw = getpwuid(getuid());
        u = pw ? pw->pw_name : "unknown";
    }
    str_copy_bounded(a->user, sizeof(a->user), u, strlen(u));
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: postern [-c FILE] [-v] [--json] [--dry-run] "
                "[--user NAME] COMMAND [ARGS...]\n\ncommands:\n");
    for (const struct admin_cmd *c = admin_commands; c->name; c++)
        fprintf(fp, "  %s\n", c->usage);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"dry-run", no_argument, NULL, 'n'},
        {"user", required_argument, NULL, 'u'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    struct admin a = {.config_path = DAEMON_DEFAULT_CONFIG};
    struct str err = {0};
    const struct admin_cmd *cmd;
    int opt, status;

    log_open("postern", LOG_TO_STDERR, 0);
    admin_user_default(&a);
    /* "+": options stop at the command; its own options follow it */
    while ((opt = getopt_long(argc, argv, "+c:vjnu:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': a.config_path = optarg; break;
        case 'v': a.verbose++; break;
        case 'j': a.json = 1; break;
        case 'n': a.dry_run = 1; break;
        case 'u':
            if (strlen(optarg) > ADMIN_USER_MAX)
                return admin_error(ADMIN_EX_USAGE, "--user",
                                   "longer than %d characters", ADMIN_USER_MAX);
            str_copy_bounded(a.user, sizeof(a.user), optarg, strlen(optarg));
            break;
        case 'h': usage(stdout); return ADMIN_EX_OK;
        case 'V': printf("postern %s\n", POSTERN_VERSION); return ADMIN_EX_OK;
        default: usage(stderr); return ADMIN_EX_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return ADMIN_EX_USAGE;
    }
    for (cmd = admin_commands; cmd->name; cmd++)
        if (strcmp(cmd->name, argv[optind]) == 0)
            break;
    if (!cmd->name) {
        admin_error(ADMIN_EX_USAGE, argv[optind], "no such command");
        usage(stderr);
        return ADMIN_EX_USAGE;
    }
    a.cfg = daemon_load_config(&admin_app, a.config_path, &err);
    if (!a.cfg) {
        fprintf(stderr, "postern: %s\n", str_cstr(&err));
        str_free(&err);
        return ADMIN_EX_CONFIG;
    }
    str_free(&err);
    status = cmd->run ? cmd->run(&a, argc - optind, argv + optind)
                      : admin_dispatch(&a, cmd->name, cmd->verbs, cmd->flag,
                                       argc - optind, argv + optind);
    if (a.db)
        db_close(a.db);
    daemon_free_config(&admin_app, a.cfg);
    return status;
}
