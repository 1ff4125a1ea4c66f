/*
 * daemon - the life cycle every postern program shares.  See daemon.h.
 *
 * Limits: DAEMON_MAX_SECTIONS sections per program.  Not thread-safe except
 * daemon_hup_notify(); call the rest from the main thread.
 *
 * Diagnostics: configuration errors go to stderr as "FILE:LINE: message" and
 * exit 1 (with -t too); a broken environment at start-up (cannot fork,
 * cannot drop privileges) is fatal.
 */
#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAEMON_MMAP_THRESHOLD (256 * 1024)

const char *const daemon_all_sections[] = {
    "database", "ldap", "policyd", "milter", "maps", "lda", "sieve",
    "managesieve", "directory", "audit", "forward", "quota", "dmarc", NULL};

static void usage(const char *name)
{
    fprintf(stderr,
            "usage: %s [-c FILE] [-f] [-t] [-d] [-v] [-V]\n"
            "  -c FILE  configuration file (default %s)\n"
            "  -f       stay in the foreground and log to stderr\n"
            "  -t       check the configuration and exit\n"
            "  -d       print every setting with its default and bounds\n"
            "  -v       verbose logging (repeat for more)\n"
            "  -V       print the version and exit\n",
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

/* check_mode - unix_socket_mode is written in octal digits (660);
   metrics_listen is HOST:PORT (lib/metrics.h) or empty. */
static int check_mode(const struct server_config *sc, struct str *err)
{
    if (!cfg_octal_valid(sc->unix_mode))
        return str_appendf(err, "%s: unix_socket_mode %lld is not an octal "
                               "mode", "configuration", sc->unix_mode), -1;
    if (metrics_listen_check(sc->metrics_listen, err) < 0)
        return -1;
    return 0;
}

void *daemon_load_config(const struct daemon_app *app, const char *path,
                         struct str *err)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    const char *ign[sizeof(daemon_all_sections) / sizeof(*daemon_all_sections)];
    void *cfg = xcalloc(1, app->config_size);
    size_t n;

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
    if (app->release)
        app->release(cfg);
    n = app->sections(cfg, secs);
    cfg_free(secs, n);
    free(cfg);
}

static int print_defaults(const struct daemon_app *app)
{
    struct cfg_section secs[DAEMON_MAX_SECTIONS];
    void *cfg = xcalloc(1, app->config_size);
    size_t n;

    n = app->sections(cfg, secs);
    printf("# %s: every setting with its default\n\n", app->name);
    cfg_print_defaults(stdout, secs, n);
    free(cfg);
    return 0;
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

/* --- the pid file ([section] pid_file; only without -f) ---------------- */

static char pid_written[1100]; /* the file this process wrote, to remove */
static pid_t pid_owner;
static int pid_fd = -1; /* kept open: emptied at exit when not removable */

static const char *pid_path(const struct daemon *d)
{
    const struct server_config *sc;

    if (d->app->server_config == NULL)
        return "";
    sc = d->app->server_config(d->cfg);
    return sc->pid_file ? sc->pid_file : "";
}

/* pid_is - does process v run the program name?  /proc/PID/comm holds
   the first 15 bytes of the name; without /proc: assume it does */
static int pid_is(long v, const char *name)
{
    char path[64], comm[32];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/comm", v);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT && access("/proc/self/comm", F_OK) == 0 ? 0 : 1;
    n = read(fd, comm, sizeof(comm) - 1);
    close(fd);
    if (n <= 0)
        return 1;
    comm[n] = '\0';
    comm[strcspn(comm, "\n")] = '\0';
    return strncmp(comm, name, strlen(comm)) == 0;
}

/* pid_live - the process recorded in path when it still runs this
   program, else 0 (a pid reused by another program is not ours) */
static long pid_live(const char *path, const char *name)
{
    char buf[32];
    ssize_t n;
    long v;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    v = strtol(buf, NULL, 10);
    if (v <= 0 || v == (long)getpid())
        return 0;
    if (kill((pid_t)v, 0) < 0 && errno != EPERM)
        return 0;
    return pid_is(v, name) ? v : 0;
}

/* pid_refuse - -1 with a message on stderr when a live process holds the
   pid file (a second copy would fight the first for its sockets) */
static int pid_refuse(const struct daemon *d)
{
    const char *path = pid_path(d);
    long v;

    if (*path == '\0' || (v = pid_live(path, d->app->name)) == 0)
        return 0;
    fprintf(stderr, "%s: already running as process %ld (pid file %s); stop "
            "it first (kill -TERM %ld)\n", d->app->name, v, path, v);
    return -1;
}

/* pid_open - the pid file opened for writing before the fork, so a wrong
   path is an error the starting shell sees (stderr, exit 75) */
static int pid_open(const struct daemon *d)
{
    const char *path = pid_path(d);
    char dir[sizeof(pid_written)];
    char *slash;
    int fd;

    if (*path == '\0')
        return -1;
    if (strlen(path) >= sizeof(dir)) {
        fprintf(stderr, "%s: pid_file %s: path too long\n", d->app->name,
                path);
        exit(75);
    }
    strcpy(dir, path);
    /* /run/postern itself, as Postfix makes its pid directory */
    if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            fprintf(stderr, "%s: pid_file %s: cannot create %s: %s\n",
                    d->app->name, path, dir, strerror(errno));
            exit(75);
        }
    }
    fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: pid_file %s: %s\n", d->app->name, path,
                strerror(errno));
        exit(75);
    }
    return fd;
}

static void pid_write(int fd, const char *path)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

    if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n)
        log_warn("pid file %s: %s", path, strerror(errno));
    snprintf(pid_written, sizeof(pid_written), "%s", path);
    pid_owner = getpid();
    pid_fd = fd;
}

int daemon_start(struct daemon *d, const struct daemon_app *app, int argc,
                 char **argv)
{
    struct str err = STR_INIT;
    int opt, test = 0;

    *d = (struct daemon){app, DAEMON_DEFAULT_CONFIG, NULL, 0, 0, NULL, 0};
    std_fds_open();
    /* Blocks of DAEMON_MMAP_THRESHOLD and more (snapshot arena chunks,
       hash tables) always come from mmap and go back to the system when
       freed.  glibc's default raises its threshold after the first such
       free, and a replaced snapshot then stayed in the heap: a daemon
       held two snapshots' worth of memory after its first reload. */
    mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_THRESHOLD);
    while ((opt = getopt(argc, argv, "c:ftdvhV")) != -1) {
        switch (opt) {
        case 'd': return print_defaults(app);
        case 'V': printf("%s %s\n", app->name, POSTERN_VERSION); return 0;
        case 'c': d->config_path = optarg; break;
        case 'f': d->foreground = 1; break;
        case 't': test = 1; break;
        case 'v': d->verbose++; break;
        default: usage(app->name); return opt == 'h' ? 0 : 64;
        }
    }
    if (argc - optind > app->max_operands) {
        usage(app->name);
        return 64;
    }
    d->operands = argv + optind;
    d->noperands = argc - optind;
    log_open(app->name, d->foreground || test ? LOG_TO_STDERR : LOG_TO_SYSLOG,
             d->verbose);
    if ((d->cfg = daemon_load_config(app, d->config_path, &err)) == NULL) {
        fprintf(stderr, "%s: %s\n", app->name, str_cstr(&err));
        str_free(&err);
        return 1;
    }
    str_free(&err);
    if (test) {
        printf("%s: configuration %s is valid\n", app->name, d->config_path);
        daemon_end(d);
        return 0;
    }
    if (!d->foreground && d->noperands == 0 && pid_refuse(d) < 0) {
        daemon_end(d);
        return 1;
    }
    return -1;
}

void daemon_detach(const struct daemon *d)
{
    pid_t pid;
    int fd, pidfd;

    if (d->foreground)
        return;
    pidfd = pid_open(d);
    if ((pid = fork()) < 0)
        log_fatal("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    setsid();
    if ((pid = fork()) < 0)
        log_fatal("fork: %s", strerror(errno));
    if (pid > 0)
        _exit(0);
    if (pidfd >= 0)
        pid_write(pidfd, pid_path(d));
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

static const char *config_user(const struct daemon *d)
{
    const struct server_config *sc;

    if (d->app->server_config == NULL)
        return "";
    sc = d->app->server_config(d->cfg);
    return sc->user ? sc->user : "";
}

int daemon_socket_owner(const struct daemon *d, const char *path,
                        struct str *err)
{
    const char *user = config_user(d);
    struct passwd *pw;
    struct stat st;

    if (*user == '\0' || geteuid() != 0)
        return 0;
    if ((pw = getpwnam(user)) == NULL)
        return str_appendf(err, "unknown user '%s'", user), -1;
    /* the path is the socket we just bound: refuse anything else */
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
        return str_appendf(err, "unix:%s is not a socket", path), -1;
    if (lchown(path, pw->pw_uid, pw->pw_gid) < 0)
        return str_appendf(err, "cannot give unix:%s to user '%s': %s", path,
                           user, strerror(errno)), -1;
    return 0;
}

int daemon_drop_user(const char *user, struct str *err)
{
    struct passwd *pw;

    if (user == NULL || *user == '\0')
        return 0;
    if ((pw = getpwnam(user)) == NULL)
        return str_appendf(err, "unknown user '%s'", user), -1;
    if (geteuid() != 0) {
        if (geteuid() == pw->pw_uid)
            return 0;
        return str_appendf(err, "cannot switch to user '%s': not root", user),
               -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0)
        return str_appendf(err, "cannot drop privileges to '%s': %s", user,
                           strerror(errno)), -1;
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        return str_appendf(err, "could regain root after dropping privileges"),
               -1;
    return 0;
}

void daemon_drop_privileges(const struct daemon *d)
{
    struct str err = STR_INIT;

    if (daemon_drop_user(config_user(d), &err) < 0)
        log_fatal("%s", str_cstr(&err));
    str_free(&err);
}

void *daemon_reload_config(const struct daemon *d)
{
    struct str err = STR_INIT;
    void *cfg = daemon_load_config(d->app, d->config_path, &err);

    if (cfg == NULL)
        log_error("%s", str_cstr(&err));
    if (cfg == NULL && access(d->config_path, R_OK) < 0 && errno == EACCES)
        log_error("%s is not readable by the user this daemon runs as (uid "
                  "%ld): give it that user's group, e.g. chown root:postern "
                  "%s && chmod 640 %s (docs/configuration.md, \"Reloading\")",
                  d->config_path, (long)geteuid(), d->config_path,
                  d->config_path);
    str_free(&err);
    return cfg;
}

void daemon_end(struct daemon *d)
{
    /* only the process that wrote it (not a worker it forked); a daemon
       that dropped root may not remove it from a root-owned directory:
       then it empties it through the descriptor it opened as root (an
       empty pid file names no process) */
    if (pid_written[0] && pid_owner == getpid() && unlink(pid_written) < 0 &&
        errno != ENOENT && ftruncate(pid_fd, 0) < 0)
        log_warn("pid file %s stays (%s): the next start takes it over, "
                 "since its process is gone", pid_written, strerror(errno));
    if (pid_fd >= 0 && pid_owner == getpid())
        close(pid_fd);
    pid_fd = -1;
    pid_written[0] = '\0';
    daemon_free_config(d->app, d->cfg);
    d->cfg = NULL;
}

/* --- SIGHUP through a pipe ---------------------------------------------- */

static int hup_fds[2] = {-1, -1};

void daemon_hup_notify(char byte)
{
    int saved = errno;

    if (hup_fds[1] >= 0 && write(hup_fds[1], &byte, 1) < 0) {
        /* pipe full: the reader has enough to wake up */
    }
    errno = saved;
}

static void on_hup(int sig)
{
    (void)sig;
    daemon_hup_notify('H');
}

int daemon_hup_pipe(struct str *err)
{
    struct sigaction sa;
    sigset_t set;

    if (hup_fds[0] < 0 && pipe(hup_fds) < 0)
        return str_appendf(err, "pipe: %s", strerror(errno)), -1;
    fcntl(hup_fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(hup_fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(hup_fds[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* start-up code never sees EINTR for it */
    sigemptyset(&sa.sa_mask);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    if (sigaction(SIGHUP, &sa, NULL) < 0 ||
        pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0)
        return str_appendf(err, "SIGHUP: %s", strerror(errno)), -1;
    return hup_fds[0];
}
