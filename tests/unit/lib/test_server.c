/*
 * test_server - the server skeleton (lib/server.c) in a forked child with a
 * line echo protocol: IPv4, IPv6 and unix listeners, many concurrent
 * connections, idle timeout, per-connection input limit, output
 * back-pressure, SIGHUP reload hook, privilege drop, graceful SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
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
        struct server_limits lim = {MAX_INPUT, 4096, 1500, NCONN + 10, 100,
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
    return UNIT_END();
}
