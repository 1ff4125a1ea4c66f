/*
 * postern-milter - entry point: the life cycle every postern program shares
 * (lib/daemon.h: -c FILE, -f, -t, -v, -d, logging, the configuration with
 * milter_app, daemonizing, privilege drop), then libmilter:
 * smfi_setconn with the [milter] listen spec converted to libmilter syntax,
 * smfi_register, the socket opened as root by smfi_opensocket (a unix
 * socket created with exactly [milter] unix_socket_mode through the umask,
 * then given to [milter] user; a TCP socket gets TCP_NODELAY, see
 * listener_nodelay), privileges dropped, libopendkim and
 * libspf2 set up, smfi_main until SIGTERM/SIGINT (libmilter's signal
 * thread stops the workers cleanly).
 *
 * Signals: every thread blocks SIGTERM and SIGINT; libmilter's signal
 * thread waits for them and stops smfi_main.  smfi_main runs in a thread of
 * its own that also blocks SIGHUP, like every thread libmilter starts from
 * it, so SIGHUP (on which libmilter would stop) reaches a thread of ours
 * instead: its handler writes to a pipe (lib/daemon.h daemon_hup_pipe) and
 * the main thread reads the configuration file again and logs whether it
 * is valid.  The running milter keeps the configuration it started with
 * (changes take effect after a restart).  Linux delivers a signal sent to
 * the process to its main thread first when that thread does not block it;
 * libmilter's signal thread could still take a SIGHUP only when the main
 * thread is busy with another one, and then the milter stops cleanly.
 *
 * Threads: libmilter starts one thread per Postfix connection with the
 * default attributes; the default stack is set to MILTER_THREAD_STACK
 * before any thread starts, so glibc keeps the stacks of ended threads for
 * the next ones (its cache holds 40 MiB: four 8 MiB stacks, eighty of
 * these) instead of mapping and unmapping one per connection
 * (docs/dev/milter-profile.md).
 *
 * Diagnostics: configuration errors on stderr as FILE:LINE: message, exit
 * 1; a broken environment at start (cannot listen, cannot drop
 * privileges, libopendkim, libspf2) is fatal (exit 75).  Exit 0 after a
 * clean stop.
 */
#include <errno.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "milter.h"
#include "version.h"

#define MILTER_THREAD_STACK (512 * 1024) /* bytes; musl's default is 128 KiB */

struct mctx *milter_ctx;

/* listener_nodelay - TCP_NODELAY on libmilter's listening TCP socket(s),
   which Linux passes on to every accepted connection.  libmilter sends each
   reply and each modification (insheader, addrcpt, ...) as a packet of its
   own; with Nagle's algorithm the second of two small packets waits for the
   ACK of the first, which Postfix delays (it does not answer those): 40 ms
   per message at end of data (docs/dev/e2e-profile.md).  libmilter does not
   show its socket, so the descriptors are searched once, after
   smfi_opensocket. */
static void listener_nodelay(void)
{
    long max = sysconf(_SC_OPEN_MAX);

    if (max < 0 || max > 4096)
        max = 4096;
    for (int fd = 0; fd < (int)max; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss), ilen = sizeof(int);
        int acc = 0, one = 1;

        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ilen) < 0 ||
            !acc || getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
            (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
            log_warn("TCP_NODELAY on the listening socket: %s",
                     strerror(errno));
    }
}

/* open_socket - register with libmilter and bind as root: a unix socket
   gets its mode at bind (umask) and then its owner, before anyone can
   connect with the wrong rights. */
static void open_socket(const struct daemon *d,
                        const struct milter_config *cfg)
{
    struct str spec = STR_INIT, err = STR_INIT;
    mode_t mode = (mode_t)cfg_octal_mode(cfg->srv.unix_mode), old;

    if (milter_listen_spec(cfg->srv.listen, &spec, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    if (smfi_setconn(spec.data) == MI_FAILURE ||
        smfi_settimeout((int)(cfg->milter_timeout / 1000)) == MI_FAILURE ||
        smfi_register(milter_desc) == MI_FAILURE)
        log_fatal("libmilter: cannot use %s", spec.data);
    old = umask(~mode & 0777);
    /* 1: libmilter removes a stale socket, and only a socket */
    if (smfi_opensocket(1) == MI_FAILURE)
        log_fatal("cannot listen on %s", cfg->srv.listen);
    umask(old);
    listener_nodelay();
    if (!strncmp(spec.data, "unix:", 5) &&
        daemon_socket_owner(d, spec.data + 5, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    str_free(&spec);
    str_free(&err);
}

/* on_sighup - check the configuration file again; nothing changes */
static void on_sighup(const struct daemon *d)
{
    void *cfg = daemon_reload_config(d);

    if (cfg == NULL) {
        log_warn("SIGHUP: %s has errors (see above); running on with the "
                 "configuration loaded at start", d->config_path);
        return;
    }
    log_info("SIGHUP: %s is valid; postern-milter applies changes only "
             "after a restart", d->config_path);
    daemon_free_config(d->app, cfg);
}

static void *smfi_thread(void *rcp)
{
    *(int *)rcp = smfi_main();
    daemon_hup_notify('E');
    return NULL;
}

/* serve - smfi_main in its own thread; SIGHUP here until it returns */
static int serve(const struct daemon *d, int hupfd)
{
    sigset_t hup;
    pthread_t t;
    int rc = MI_FAILURE;
    char c;

    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
    if (pthread_create(&t, NULL, smfi_thread, &rc) != 0)
        log_fatal("cannot start the libmilter thread");
    pthread_sigmask(SIG_UNBLOCK, &hup, NULL);
    for (;;) {
        ssize_t n = read(hupfd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || c == 'E')
            break;
        on_sighup(d);
    }
    pthread_join(t, NULL);
    return rc;
}

/* block_stop_signals - SIGTERM/SIGINT for libmilter's signal thread only:
   blocked here before any thread starts, so every thread inherits it */
static void block_stop_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* set_thread_stack - MILTER_THREAD_STACK for every thread started from
   now on (a failure only costs speed: logged) */
static void set_thread_stack(void)
{
    pthread_attr_t a;

    if (pthread_getattr_default_np(&a) != 0)
        return;
    if (pthread_attr_setstacksize(&a, MILTER_THREAD_STACK) != 0 ||
        pthread_setattr_default_np(&a) != 0)
        log_warn("cannot set the thread stack size: threads get the default");
    pthread_attr_destroy(&a);
}

static int run(const struct daemon *d)
{
    const struct milter_config *cfg = d->cfg;
    struct str err = STR_INIT;
    struct mctx m = {cfg, NULL, NULL, NULL};
    int rc, hupfd;

    if ((hupfd = daemon_hup_pipe(&err)) < 0)
        log_fatal("%s", str_cstr(&err));
    set_thread_stack();
    open_socket(d, cfg);
    if (metrics_init(&err) < 0 ||
        metrics_http_listen(cfg->srv.metrics_listen, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    milter_metrics_register();
    daemon_detach(d);
    block_stop_signals();
    /* as root: the password files are read now */
    if ((m.pool = milter_pool_create(cfg, &err)) == NULL ||
        milter_groups_start(&m, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    daemon_drop_privileges(d);
    if (sign_global_init(&err) < 0 ||
        verify_global_init(cfg->max_signatures, &err) < 0 ||
        (cfg->spf && milter_spf_global_init(&err) < 0) ||
        dmarc_global_init(&m, &err) < 0)
        log_fatal("%s", str_cstr(&err));
    milter_ctx = &m;
    signal(SIGPIPE, SIG_IGN);
    if (metrics_http_start(&err) < 0) /* after the last fork */
        log_fatal("%s", str_cstr(&err));
    log_info("postern-milter %s started (listening on %s)", POSTERN_VERSION,
             cfg->srv.listen);
    log_info("inbound mail: SPF %s, DKIM verification %s, DMARC %s, "
             "authserv-id %s", cfg->spf ? "on" : "off",
             cfg->verify ? "on" : "off", cfg->dmarc ? "on" : "off",
             cfg->authserv_id);
    rc = serve(d, hupfd);
    log_info("postern-milter stopping");
    metrics_http_stop();
    dmarc_global_end(); /* its last flush uses the pool */
    milter_groups_stop(&m);
    milter_pool_free(m.pool);
    sign_global_end();
    verify_global_end();
    milter_spf_global_end();
    str_free(&err);
    return rc == MI_SUCCESS ? 0 : 75;
}

int main(int argc, char **argv)
{
    struct daemon d;
    int rc;

    db_global_init();
    ldapc_global_init();
    if ((rc = daemon_start(&d, &milter_app, argc, argv)) >= 0)
        return rc;
    rc = run(&d);
    daemon_end(&d);
    return rc;
}
