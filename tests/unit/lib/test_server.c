/*
 * test_server - the server skeleton (lib/server.c) in a forked child with a
 * line echo protocol: IPv4, IPv6 and unix listeners, many concurrent
 * connections, idle timeout, per-connection input limit, output
 * back-pressure, SIGHUP reload hook, privilege drop, graceful SIGTERM;
 * and under pressure (issue 15, item 9): idle connections filling the limit
 * are shed oldest first so a new client is served, and accept() out of file
 * descriptors backs off with a bounded log instead of spinning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "daemon.h"
#include "server.h"
#include "unit.h"

#define MAX_INPUT 256
#define NCONN 500

static int reloads;

static void *t_open(struct conn *c, void *app)
{
    (void)c;
    return app;
}

static ssize_t t_input(struct conn *c, void *ctx, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    char out[MAX_INPUT + 64];
    int n;

    (void)ctx;
    if (nl == NULL)
        return 0;
    if (nl - buf == 6 && !memcmp(buf, "whoami", 6))
        n = snprintf(out, sizeof(out), "uid %ld\n", (long)getuid());
    else if (nl - buf == 7 && !memcmp(buf, "reloads", 7))
        n = snprintf(out, sizeof(out), "reloads %d\n", reloads);
    else
        n = snprintf(out, sizeof(out), "echo %.*s\n", (int)(nl - buf), buf);
    conn_write(c, out, (size_t)n);
    return nl - buf + 1;
}

static int t_reload(void *app)
{
    (void)app;
    reloads++;
    return 0;
}

static const struct server_ops ops = {t_open, t_input, NULL, NULL, t_reload,
                                      NULL};

static int free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t l = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &l);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int dial(int family, int port, const char *path)
{
    int fd = socket(family, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (family == AF_INET) {
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
    } else if (family == AF_INET6) {
        struct sockaddr_in6 a = {0};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons((unsigned short)port);
        a.sin6_addr = in6addr_loopback;
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
    } else {
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
    }
    close(fd);
    return -1;
}

/* talk - send a line, read one reply line into buf. */
static int talk(int fd, const char *line, char *buf, size_t size)
{
    size_t n = 0;

    if (write(fd, line, strlen(line)) < 0)
        return -1;
    while (n < size - 1) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return -1;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return 0;
}

static int closed_by_peer(int fd)
{
    char c;
    ssize_t r = read(fd, &c, 1);

    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* pressure_server - a child serving on port with max_conns; nofile > 0:
   the file limit lowered to it after server_create (descriptors taken by
   something else); its log goes to logpath */
static pid_t pressure_server(int port, int max_conns, int nofile,
                             const char *logpath)
{
    pid_t child = fork();

    if (child == 0) {
        struct server_limits lim = {MAX_INPUT, 4096, 60000, max_conns, 100,
                                    0666};
        struct str err = STR_INIT;
        struct server *s;
        char spec[64];
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        close(fd);
        log_open("test_server", LOG_TO_STDERR, 0);
        snprintf(spec, sizeof(spec), "inet:127.0.0.1:%d", port);
        s = server_create(&ops, NULL, &lim);
        if (server_listen(s, spec, &err) < 0)
            _exit(2);
        if (nofile > 0) {
            struct rlimit rl;
            getrlimit(RLIMIT_NOFILE, &rl);
            rl.rlim_cur = (rlim_t)nofile;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        server_run(s);
        server_free(s);
        _exit(0);
    }
    usleep(300000);
    return child;
}

static long long ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_lines(const char *path, const char *needle)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    int n = 0;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

#define IDLE_CONNS 200

/* idle connections over the limit: the oldest idle are shed, a new client
   is answered at once, a recent connection still works */
static void test_shed_idle(void)
{
    int port = free_port(), fds[IDLE_CONNS], opened = 0, fd;
    char buf[128], logpath[64];
    long long t0;
    pid_t child;

    snprintf(logpath, sizeof(logpath), "/tmp/postern-test-shed-%d.log",
             getpid());
    child = pressure_server(port, 64, 0, logpath);
    for (int i = 0; i < IDLE_CONNS; i++)
        if ((fds[i] = dial(AF_INET, port, NULL)) >= 0)
            opened++;
    CHECK(opened == IDLE_CONNS, "%d idle connections opened (limit 64)",
          opened);
    usleep(400000); /* older than SERVER_SHED_MIN_IDLE_MS */
    t0 = ms_now();
    fd = dial(AF_INET, port, NULL);
    CHECK(fd >= 0 && talk(fd, "fresh\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo fresh\n") && ms_now() - t0 < 3000,
          "a new client is answered within 3 s (%lld ms) while idle "
          "connections fill the limit", ms_now() - t0);
    close(fd);
    CHECK(closed_by_peer(fds[0]), "the oldest idle connection was shed");
    CHECK(talk(fds[IDLE_CONNS - 1], "late\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo late\n"),
          "a recent connection was served (accepted in its turn)");
    CHECK(count_lines(logpath, "closing idle connections") == 1,
          "shedding is logged once per interval (%d lines)",
          count_lines(logpath, "closing idle connections"));
    for (int i = 0; i < IDLE_CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    unlink(logpath);
}

#define BUSY_CONNS 100

/* accept() out of file descriptors with nothing idle to shed: accepting
   backs off, the log stays bounded, and it recovers when the load goes */
static void test_emfile(void)
{
    int port = free_port(), fds[BUSY_CONNS], fd, lines;
    char buf[128], logpath[64];
    pid_t child;

    snprintf(logpath, sizeof(logpath), "/tmp/postern-test-emfile-%d.log",
             getpid());
    child = pressure_server(port, 1000, 48, logpath);
    for (int i = 0; i < BUSY_CONNS; i++)
        if ((fds[i] = dial(AF_INET, port, NULL)) >= 0 &&
            write(fds[i], "x", 1) != 1) /* a request begun: not idle */
            fds[i] = (close(fds[i]), -1);
    sleep(2);
    lines = count_lines(logpath, "Too many open files");
    CHECK(lines >= 1 && lines <= 2,
          "out of file descriptors: logged %d times in 2 s, not in a loop",
          lines);
    for (int i = 0; i < BUSY_CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    usleep(500000);
    fd = dial(AF_INET, port, NULL);
    CHECK(fd >= 0 && talk(fd, "again\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo again\n"),
          "served again once the connections are gone");
    if (fd >= 0)
        close(fd);
    kill(child, SIGTERM);
    CHECK(waitpid(child, NULL, 0) == child, "the server stops cleanly");
    unlink(logpath);
}

int main(void)
{
    int port = free_port(), fds[NCONN], status, ok, fd;
    char spec[256], sock[64], buf[512];
    struct passwd *pw = getpwnam("nobody");
    pid_t child;

    snprintf(sock, sizeof(sock), "/tmp/postern-test-server-%d.sock", getpid());
    snprintf(spec, sizeof(spec), "inet:127.0.0.1:%d, inet:[::1]:%d, unix:%s",
             port, port, sock);
    if ((child = fork()) == 0) {
        /* room for NCONN beside the reserve (a sixteenth), else the
           oldest idle ones would be shed */
        struct server_limits lim = {MAX_INPUT, 4096, 1500, NCONN + 100, 100,
                                    0666};
        struct str err = STR_INIT;
        struct server *s;
        log_open("test_server", LOG_TO_STDERR, 0);
        s = server_create(&ops, NULL, &lim);
        if (server_listen(s, spec, &err) < 0 ||
            (getuid() == 0 && daemon_drop_user("nobody", &err) < 0)) {
            fprintf(stderr, "server: %s\n", str_cstr(&err));
            _exit(2);
        }
        server_run(s);
        server_free(s);
        _exit(0);
    }
    usleep(300000);

    fd = dial(AF_INET, port, NULL);
    CHECK(fd >= 0 && talk(fd, "hello\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo hello\n"), "IPv4 request and reply");
    CHECK(talk(fd, "a\nb\n", buf, sizeof(buf)) == 0 && !strcmp(buf, "echo a\n") &&
              talk(fd, "", buf, sizeof(buf)) == 0 && !strcmp(buf, "echo b\n"),
          "two pipelined requests on one connection");
    close(fd);
    fd = dial(AF_INET6, port, NULL);
    CHECK(fd >= 0 && talk(fd, "six\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo six\n"), "IPv6 listener");
    close(fd);
    fd = dial(AF_UNIX, 0, sock);
    CHECK(fd >= 0 && talk(fd, "local\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "echo local\n"), "unix socket listener");
    close(fd);
    if (pw && getuid() == 0) {
        char want[64];
        snprintf(want, sizeof(want), "uid %ld\n", (long)pw->pw_uid);
        fd = dial(AF_INET, port, NULL);
        CHECK(talk(fd, "whoami\n", buf, sizeof(buf)) == 0 && !strcmp(buf, want),
              "privileges dropped to nobody after binding (%s)", buf);
        close(fd);
    }

    ok = 1;
    for (int i = 0; i < NCONN; i++)
        if ((fds[i] = dial(AF_INET, port, NULL)) < 0)
            ok = 0;
    for (int i = 0; i < NCONN && ok; i++) {
        char line[32], want[40];
        snprintf(line, sizeof(line), "c%d\n", i);
        snprintf(want, sizeof(want), "echo c%d\n", i);
        if (talk(fds[i], line, buf, sizeof(buf)) < 0 || strcmp(buf, want))
            ok = 0;
    }
    CHECK(ok, "%d concurrent connections each answered", NCONN);
    for (int i = 0; i < NCONN; i++)
        if (fds[i] >= 0)
            close(fds[i]);

    fd = dial(AF_INET, port, NULL);
    memset(buf, 'x', MAX_INPUT + 10);
    CHECK(write(fd, buf, MAX_INPUT + 10) > 0 && closed_by_peer(fd),
          "input over the limit without a complete request closes the connection");
    close(fd);

    fd = dial(AF_INET, port, NULL);
    {   /* 3000 requests without reading: output exceeds max_output, reading
           pauses, and every reply still arrives once the client reads */
        static char many[3000 * 3];
        size_t got = 0;
        for (int i = 0; i < 3000; i++)
            memcpy(many + 3 * i, "pp\n", 3);
        CHECK(write(fd, many, sizeof(many)) == (ssize_t)sizeof(many),
              "wrote 3000 pipelined requests");
        while (got < 3000 * 8) {
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        CHECK(got == 3000 * 8, "back-pressure loses no reply (%zu bytes)", got);
    }
    close(fd);

    fd = dial(AF_INET, port, NULL);
    {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(closed_by_peer(fd), "an idle connection is closed");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(t1.tv_sec - t0.tv_sec >= 1 && t1.tv_sec - t0.tv_sec <= 3,
              "after the idle timeout (%lds)", (long)(t1.tv_sec - t0.tv_sec));
    }
    close(fd);

    kill(child, SIGHUP);
    usleep(200000);
    fd = dial(AF_INET, port, NULL);
    CHECK(talk(fd, "reloads\n", buf, sizeof(buf)) == 0 &&
              !strcmp(buf, "reloads 1\n"), "SIGHUP calls the reload hook once");
    close(fd);
    kill(child, SIGTERM);
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0, "SIGTERM stops the server cleanly");
    unlink(sock);
    test_shed_idle();
    test_emfile();
    return UNIT_END();
}
