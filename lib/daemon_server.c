/*
 * daemon_server - daemon_main(): the life cycle of lib/daemon.c with the
 * epoll server skeleton of lib/server.c on top.  The order: daemon_start
 * (command line, logging, configuration), bind every listen spec as root
 * (unix sockets with [section] unix_socket_mode, owned by [section] user),
 * detach, app->init, drop privileges, app->start, serve; SIGHUP reloads the
 * configuration (new limits at once, app->reconfigure for the rest; new
 * listen addresses only after a restart); SIGTERM/SIGINT stop cleanly.
 *
 * Diagnostics: see daemon.h; a failed reload is logged and the running
 * configuration stays.
 */
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

#include <string.h>

/* the state the SIGHUP hook needs */
struct daemon_server {
    struct daemon d;
    void *appstate;
    struct server *srv;
    struct server_ops ops; /* app->ops with our reload hook */
};

static struct daemon_server *daemon_server;

static void limits(struct server_limits *lim, const struct daemon_app *app,
                   void *cfg)
{
    *lim = (struct server_limits){app->max_input, app->max_output, 0, 0,
                                  app->tick_ms, 0};
    server_limits_from_config(lim, app->server_config(cfg));
}

static int daemon_server_reload(void *unused)
{
    struct daemon_server *ds = daemon_server;
    const struct daemon_app *app = ds->d.app;
    struct server_limits lim;
    void *newcfg, *old;

    (void)unused;
    if ((newcfg = daemon_reload_config(&ds->d)) == NULL)
        return -1;
    if (strcmp(app->server_config(newcfg)->listen,
               app->server_config(ds->d.cfg)->listen) != 0 ||
        strcmp(app->server_config(newcfg)->metrics_listen,
               app->server_config(ds->d.cfg)->metrics_listen) != 0)
        log_warn("listen addresses changed: they take effect after a restart");
    limits(&lim, app, newcfg);
    server_set_limits(ds->srv, &lim);
    if (app->reconfigure) {
        old = app->reconfigure(ds->appstate, newcfg);
        if (old == ds->d.cfg)
            ds->d.cfg = newcfg;
        daemon_free_config(app, old);
    } else {
        daemon_free_config(app, ds->d.cfg);
        ds->d.cfg = newcfg;
    }
    log_info("configuration reloaded from %s", ds->d.config_path);
    return 0;
}

/* own_sockets - every unix listen spec to the configured user */
static void own_sockets(const struct daemon *d, const char *specs)
{
    char spec[SERVER_SPEC_MAX];
    struct str err = STR_INIT;
    const char *cur = specs;

    while (cfg_list_next(&cur, spec, sizeof(spec)) > 0)
        if (!strncmp(spec, "unix:", 5) &&
            daemon_socket_owner(d, spec + 5, &err) < 0)
            log_fatal("%s", str_cstr(&err));
    str_free(&err);
}

int daemon_main(int argc, char **argv, const struct daemon_app *app)
{
    struct daemon_server ds = {0};
    struct str err = STR_INIT;
    struct server_limits lim;
    const char *listen;
    int rc;

    if ((rc = daemon_start(&ds.d, app, argc, argv)) >= 0)
        return rc;
    ds.ops = *app->ops;
    ds.ops.reload = daemon_server_reload;
    limits(&lim, app, ds.d.cfg);
    listen = app->server_config(ds.d.cfg)->listen;
    ds.srv = server_create(&ds.ops, NULL, &lim);
    if (server_listen(ds.srv, listen, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    own_sockets(&ds.d, listen);
    if (metrics_init(&err) < 0 ||
        metrics_http_listen(app->server_config(ds.d.cfg)->metrics_listen,
                            &err) < 0)
        log_fatal("%s", str_cstr(&err));
    daemon_detach(&ds.d);
    if (!ds.d.foreground)
        server_detached(ds.srv); /* the signals of this process */
    if ((ds.appstate = app->init(ds.d.cfg, ds.srv, &err)) == NULL)
        log_fatal("%s", str_cstr(&err));
    server_set_app(ds.srv, ds.appstate);
    daemon_drop_privileges(&ds.d);
    if (app->start && app->start(ds.appstate, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (metrics_http_start(&err) < 0)
        log_fatal("%s", str_cstr(&err));
    daemon_server = &ds;
    log_info("%s %s started (listening on %s)", app->name, POSTERN_VERSION,
             app->server_config(ds.d.cfg)->listen);
    server_run(ds.srv);
    log_info("%s stopping", app->name);
    metrics_http_stop();
    if (app->fini)
        app->fini(ds.appstate);
    server_free(ds.srv);
    daemon_server = NULL;
    daemon_end(&ds.d);
    str_free(&err);
    return 0;
}
