/*
 * postern-milter - entry point: the command line of every postern daemon
 * (-c FILE, -f, -t, -v, -d), the configuration (lib/daemon.h's loader with
 * milter_app), then libmilter: smfi_setconn with the [milter] listen spec
 * converted to libmilter syntax, smfi_register, the socket opened as root,
 * privileges dropped to [milter] user, libopendkim (signing and
 * verification) and libspf2 set up, smfi_main until SIGTERM/SIGINT
 * (libmilter's signal thread stops the workers cleanly).
 *
 * Diagnostics: configuration errors on stderr as FILE:LINE: message, exit
 * 1; a broken environment at start (cannot listen, cannot drop
 * privileges, libopendkim, libspf2) is fatal (exit 75).  Exit 0 after a clean stop.
 * libmilter handles SIGHUP like SIGTERM: a changed configuration takes
 * effect after a restart.
 */
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "milter.h"
#include "server.h"

struct mctx *milter_ctx;

static void usage(void)
{
    fprintf(stderr,
            "usage: postern-milter [-c FILE] [-f] [-t] [-v] [-d]\n"
            "  -c FILE  configuration file (default %s)\n"
            "  -f       stay in the foreground and log to stderr\n"
            "  -t       check the configuration and exit\n"
            "  -v       verbose logging (repeat for more)\n"
            "  -d       print every setting with its default and exit\n",
            DAEMON_DEFAULT_CONFIG);
}

static int print_defaults(void)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    void *cfg = calloc(1, milter_app.config_size);
    size_t n;

    if (cfg == NULL)
        log_fatal("out of memory");
    n = milter_app.sections(cfg, secs);
    printf("# %s: every setting with its default\n\n", milter_app.name);
    cfg_print_defaults(stdout, secs, n);
    free(cfg);
    return 0;
}

static void daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0)
        log_fatal("fork failed");
    if (pid > 0)
        _exit(0);
    setsid();
    if ((pid = fork()) < 0)
        log_fatal("fork failed");
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        log_fatal("chdir /");
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

/* open_socket - register with libmilter and bind as root. */
static void open_socket(const struct milter_config *cfg)
{
    struct str spec = STR_INIT, err = STR_INIT;

    if (milter_listen_spec(cfg->srv.listen, &spec, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (!strncmp(spec.data, "unix:", 5))
        unlink(spec.data + 5); /* a stale socket from a crash */
    if (smfi_setconn(spec.data) == MI_FAILURE ||
        smfi_settimeout((int)(cfg->milter_timeout / 1000)) == MI_FAILURE ||
        smfi_register(milter_desc) == MI_FAILURE)
        log_fatal("libmilter: cannot use %s", spec.data);
    umask(0111 & ~(mode_t)0); /* unix socket: rw for everyone */
    if (smfi_opensocket(1) == MI_FAILURE)
        log_fatal("cannot listen on %s", cfg->srv.listen);
    umask(022);
    str_free(&spec);
    str_free(&err);
}

static int run(struct milter_config *cfg, int foreground)
{
    struct str err = STR_INIT;
    struct mctx m = {cfg, NULL, NULL, NULL};
    int rc;

    open_socket(cfg);
    if (!foreground)
        daemonize();
    if ((m.pool = mpool_create(cfg, &err)) == NULL)
        log_fatal("%s", str_cstr(&err));
    if (server_drop_privileges(cfg->srv.user, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (sign_global_init(&err) < 0 ||
        verify_global_init(cfg->max_signatures, &err) < 0 ||
        (cfg->spf && spf_global_init(&err) < 0))
        log_fatal("%s", str_cstr(&err));
    m.groups = mcache_create(cfg->ldap.cache_ttl);
    m.members = mcache_create(cfg->ldap.cache_ttl);
    milter_ctx = &m;
    signal(SIGPIPE, SIG_IGN);
    log_info("postern-milter started (listening on %s)", cfg->srv.listen);
    log_info("inbound mail: SPF %s, DKIM verification %s, authserv-id %s",
             cfg->spf ? "on" : "off", cfg->verify ? "on" : "off",
             cfg->authserv_id);
    rc = smfi_main();
    log_info("postern-milter stopping");
    mcache_free(m.groups);
    mcache_free(m.members);
    mpool_free(m.pool);
    sign_global_end();
    verify_global_end();
    spf_global_end();
    str_free(&err);
    return rc == MI_SUCCESS ? 0 : 75;
}

/* std_fds_open - fds 0-2 on /dev/null if closed, so no socket becomes one */
static void std_fds_open(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

int main(int argc, char **argv)
{
    const char *path = DAEMON_DEFAULT_CONFIG;
    struct str err = STR_INIT;
    struct milter_config *cfg;
    int opt, foreground = 0, test = 0, verbose = 0, rc;

    std_fds_open();
    while ((opt = getopt(argc, argv, "c:ftvdh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'f': foreground = 1; break;
        case 't': test = 1; break;
        case 'v': verbose++; break;
        case 'd': return print_defaults();
        default: usage(); return opt == 'h' ? 0 : 64;
        }
    }
    if (optind != argc) {
        usage();
        return 64;
    }
    log_open("postern-milter", foreground || test ? LOG_TO_STDERR
                                                  : LOG_TO_SYSLOG, verbose);
    db_global_init();
    ldapc_global_init();
    if ((cfg = daemon_load_config(&milter_app, path, &err)) == NULL) {
        fprintf(stderr, "postern-milter: %s\n", str_cstr(&err));
        str_free(&err);
        return 1;
    }
    str_free(&err);
    if (test) {
        printf("postern-milter: configuration %s is valid\n", path);
        daemon_free_config(&milter_app, cfg);
        return 0;
    }
    rc = run(cfg, foreground);
    daemon_free_config(&milter_app, cfg);
    return rc;
}
