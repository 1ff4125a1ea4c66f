/*
 * daemon - common life cycle of the postern servers.  See daemon.h.
 *
 * Diagnostics: configuration errors go to stderr as "FILE:LINE: message" and
 * exit 1 (with -t too); a broken environment at start-up (cannot bind, cannot
 * drop privileges) is fatal.  Exit 0 after a clean stop.
 */
#include "daemon.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const daemon_all_sections[] = {
    "database", "ldap", "policyd", "milter", "maps", "lda", "sieve",
    "managesieve", NULL};

/* the state the SIGHUP hook needs */
struct daemon_state {
    const struct daemon_app *app;
    const char *config_path;
    void *cfg;
    void *appstate;
    struct server *srv;
    struct server_ops ops; /* app->ops with our reload hook */
};

static struct daemon_state *daemon_state;

static void usage(const char *name)
{
    fprintf(stderr,
            "usage: %s [-c FILE] [-f] [-t] [-d] [-v]\n"
            "  -c FILE  configuration file (default %s)\n"
            "  -f       stay in the foreground and log to stderr\n"
            "  -t       check the configuration and exit\n"
            "  -d       print every setting with its default and bounds\n"
            "  -v       verbose logging (repeat for more)\n",
            name, DAEMON_DEFAULT_CONFIG);
}

static const char **ignored_sections(struct cfg_section *secs, size_t n,
                                     const char **out)
{
    size_t k = 0;

    for (size_t i = 0; daemon_all_sections[i]; i++) {
        int mine = 0;
        for (size_t j = 0; j < n; j++)
            if (!strcmp(secs[j].name, daemon_all_sections[i]))
                mine = 1;
        if (!mine)
            out[k++] = daemon_all_sections[i];
    }
    out[k] = NULL;
    return out;
}

/* check_mode - unix_socket_mode is written in octal digits (660). */
static int check_mode(const struct server_config *sc, struct str *err)
{
    for (long long m = sc->unix_mode; m > 0; m /= 10)
        if (m % 10 > 7)
            return str_appendf(err, "%s: unix_socket_mode %lld is not an octal "
                               "mode", "configuration", sc->unix_mode), -1;
    return 0;
}

void *daemon_load_config(const struct daemon_app *app, const char *path,
                         struct str *err)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    const char *ign[DAEMON_MAX_SECTIONS + 8];
    void *cfg = calloc(1, app->config_size);
    size_t n;

    if (cfg == NULL)
        log_fatal("out of memory");
    n = app->sections(cfg, secs);
    if (cfg_load(path, secs, n, ignored_sections(secs, n, ign), err) < 0 ||
        (app->server_config && check_mode(app->server_config(cfg), err) < 0) ||
        (app->check && app->check(cfg, err) < 0)) {
        daemon_free_config(app, cfg);
        return NULL;
    }
    return cfg;
}

void daemon_free_config(const struct daemon_app *app, void *cfg)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    size_t n;

    if (cfg == NULL)
        return;
    n = app->sections(cfg, secs);
    cfg_free(secs, n);
    free(cfg);
}

static int daemon_reload(void *unused)
{
    struct daemon_state *st = daemon_state;
    struct str err = STR_INIT;
    struct server_limits lim;
    void *newcfg, *old;

    (void)unused;
    newcfg = daemon_load_config(st->app, st->config_path, &err);
    if (newcfg == NULL) {
        log_error("%s", str_cstr(&err));
        str_free(&err);
        return -1;
    }
    str_free(&err);
    if (strcmp(st->app->server_config(newcfg)->listen,
               st->app->server_config(st->cfg)->listen) != 0)
        log_warn("listen addresses changed: they take effect after a restart");
    lim = (struct server_limits){st->app->max_input, st->app->max_output, 0, 0,
                                 st->app->tick_ms, 0};
    server_limits_from_config(&lim, st->app->server_config(newcfg));
    server_set_limits(st->srv, &lim);
    if (st->app->reconfigure) {
        old = st->app->reconfigure(st->appstate, newcfg);
        if (old == st->cfg)
            st->cfg = newcfg;
        daemon_free_config(st->app, old);
    } else {
        daemon_free_config(st->app, st->cfg);
        st->cfg = newcfg;
    }
    log_info("configuration reloaded from %s", st->config_path);
    return 0;
}

static int daemon_print_defaults(const struct daemon_app *app)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    void *cfg = calloc(1, app->config_size);
    size_t n;

    if (cfg == NULL)
        log_fatal("out of memory");
    n = app->sections(cfg, secs);
    printf("# %s: every setting with its default\n\n", app->name);
    cfg_print_defaults(stdout, secs, n);
    free(cfg);
    return 0;
}

static void daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        log_fatal("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    setsid();
    if ((pid = fork()) < 0)
        log_fatal("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        log_fatal("chdir /: %s", strerror(errno));
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

int daemon_main(int argc, char **argv, const struct daemon_app *app)
{
    struct daemon_state st = {0};
    const char *path = DAEMON_DEFAULT_CONFIG;
    struct str err = STR_INIT;
    struct server_limits lim;
    int opt, foreground = 0, test = 0, verbose = 0;

    while ((opt = getopt(argc, argv, "c:ftdvh")) != -1) {
        switch (opt) {
        case 'd': return daemon_print_defaults(app);
        case 'c': path = optarg; break;
        case 'f': foreground = 1; break;
        case 't': test = 1; break;
        case 'v': verbose++; break;
        default: usage(app->name); return opt == 'h' ? 0 : 64;
        }
    }
    if (optind != argc) {
        usage(app->name);
        return 64;
    }
    log_open(app->name, foreground || test ? LOG_TO_STDERR : LOG_TO_SYSLOG,
             verbose);
    if ((st.cfg = daemon_load_config(app, path, &err)) == NULL) {
        fprintf(stderr, "%s: %s\n", app->name, str_cstr(&err));
        str_free(&err);
        return 1;
    }
    if (test) {
        printf("%s: configuration %s is valid\n", app->name, path);
        daemon_free_config(app, st.cfg);
        str_free(&err);
        return 0;
    }
    st.app = app;
    st.config_path = path;
    st.ops = *app->ops;
    st.ops.reload = daemon_reload;
    lim = (struct server_limits){app->max_input, app->max_output, 0, 0,
                                 app->tick_ms, 0};
    server_limits_from_config(&lim, app->server_config(st.cfg));
    st.srv = server_create(&st.ops, NULL, &lim);
    if (server_listen(st.srv, app->server_config(st.cfg)->listen, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (!foreground)
        daemonize();
    if ((st.appstate = app->init(st.cfg, st.srv, &err)) == NULL)
        log_fatal("%s", str_cstr(&err));
    server_set_app(st.srv, st.appstate);
    if (server_drop_privileges(app->server_config(st.cfg)->user, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (app->start && app->start(st.appstate, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    daemon_state = &st;
    log_info("%s started (listening on %s)", app->name,
             app->server_config(st.cfg)->listen);
    server_run(st.srv);
    log_info("%s stopping", app->name);
    if (app->fini)
        app->fini(st.appstate);
    server_free(st.srv);
    daemon_free_config(app, st.cfg);
    str_free(&err);
    return 0;
}
