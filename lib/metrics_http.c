/*
 * metrics_http - the endpoint of metrics.h: GET /metrics and GET /health on
 * one local TCP address, from a thread of its own.
 *
 * Why a thread and not the daemons' event loops: postern-maps,
 * postern-policyd, postern-managesieve and postern-lda --lmtp serve from
 * lib/server's epoll loop, but postern-milter hands its connections to
 * libmilter's threads and postern-dirsync runs a loop of its own; one
 * small thread serves all of them alike, and a scrape never waits for a
 * request of the daemon nor makes one wait (docs/dependencies.md).
 *
 * The thread accepts one connection at a time and gives it
 * METRICS_HTTP_TIMEOUT_MS in all to send a request head of at most
 * METRICS_HTTP_REQUEST_MAX bytes and to take the answer; then the
 * connection is closed (no keep-alive).  A request body is never read.
 *
 * Diagnostics: accept and I/O errors are logged at most once per 10 s.
 */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

int metrics_http_started;

static pid_t started_pid; /* a forked child has no thread to stop */

static int lfd = -1;
static int stop_pipe[2] = {-1, -1};
static pthread_t thread;
static struct log_limit io_limit;

/* resolve - the numeric address of a metrics_listen value; 0 (*ai set,
   freeaddrinfo it) or -1 + *err */
static int resolve(const char *addr, struct addrinfo **ai, struct str *err)
{
    char host[256], port[16];
    const char *colon;
    struct addrinfo hints = {0};
    int rc;

    if (!strncmp(addr, "inet:", 5))
        addr += 5;
    colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= sizeof(port) ||
        (size_t)(colon - addr) >= sizeof(host)) {
        str_appendf(err, "metrics_listen '%s': expected HOST:PORT", addr);
        return -1;
    }
    if (addr[0] == '[' && colon[-1] == ']') {
        memcpy(host, addr + 1, (size_t)(colon - addr) - 2);
        host[colon - addr - 2] = '\0';
    } else {
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    if ((rc = getaddrinfo(host, port, &hints, ai)) != 0) {
        str_appendf(err, "metrics_listen '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int metrics_listen_check(const char *addr, struct str *err)
{
    struct addrinfo *ai = NULL;

    if (addr == NULL || addr[0] == '\0')
        return 0;
    if (resolve(addr, &ai, err) < 0)
        return -1;
    freeaddrinfo(ai);
    return 0;
}

int metrics_http_listen(const char *addr, struct str *err)
{
    struct addrinfo *ai = NULL;
    int fd, one = 1;

    if (addr == NULL || addr[0] == '\0')
        return 0;
    if (resolve(addr, &ai, err) < 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
        str_appendf(err, "metrics_listen '%s': %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    if (lfd >= 0)
        close(lfd);
    lfd = fd;
    return 0;
}

/* --- one request ---------------------------------------------------------- */

static void answer(struct str *out, int code, const char *reason,
                   const char *ctype, const char *extra, const char *body,
                   size_t blen)
{
    str_appendf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
                code, reason, ctype, blen, extra);
    str_append(out, body, blen);
}

static void text(struct str *out, int code, const char *reason,
                 const char *extra, const char *body)
{
    answer(out, code, reason, "text/plain; charset=utf-8", extra, body,
           strlen(body));
}

/* token - a run of bytes that are neither blank nor control */
static size_t token(const char *p, size_t len)
{
    size_t n = 0;

    while (n < len && (unsigned char)p[n] > 0x20 && (unsigned char)p[n] < 0x7f)
        n++;
    return n;
}

void metrics_http_answer(const char *req, size_t len, struct str *out)
{
    const char *eol = memchr(req, '\n', len);
    size_t n, mlen, plen, qlen, llen;
    const char *path;

    if (eol == NULL) {
        text(out, 400, "Bad Request", "", "bad request\n");
        return;
    }
    llen = (size_t)(eol - req);
    if (llen > 0 && req[llen - 1] == '\r')
        llen--;
    /* METHOD SP TARGET SP HTTP/1.x, nothing else on the line */
    mlen = token(req, llen);
    if (mlen == 0 || mlen >= llen || req[mlen] != ' ') {
        text(out, 400, "Bad Request", "", "bad request\n");
        return;
    }
    path = req + mlen + 1;
    n = llen - mlen - 1;
    plen = token(path, n);
    if (plen == 0 || plen >= n || path[plen] != ' ' || path[0] != '/' ||
        n - plen - 1 != 8 || memcmp(path + plen + 1, "HTTP/1.", 7) != 0 ||
        (path[plen + 8] != '0' && path[plen + 8] != '1')) {
        text(out, 400, "Bad Request", "", "bad request\n");
        return;
    }
    if (mlen != 3 || memcmp(req, "GET", 3) != 0) {
        text(out, 405, "Method Not Allowed", "Allow: GET\r\n",
             "only GET\n");
        return;
    }
    qlen = plen;
    for (size_t i = 0; i < plen; i++)
        if (path[i] == '?') {
            qlen = i;
            break;
        }
    if (qlen == 8 && !memcmp(path, "/metrics", 8)) {
        struct str body = STR_INIT;
        metrics_render(&body);
        answer(out, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "",
               str_cstr(&body), body.len);
        str_free(&body);
    } else if (qlen == 7 && !memcmp(path, "/health", 7)) {
        struct str why = STR_INIT;
        if (metrics_health(&why)) {
            text(out, 200, "OK", "", "ok\n");
        } else {
            str_append_char(&why, '\n');
            text(out, 503, "Service Unavailable", "", str_cstr(&why));
        }
        str_free(&why);
    } else {
        text(out, 404, "Not Found", "", "not found: GET /metrics or "
             "/health\n");
    }
}

/* head_end - the request head is complete (an empty line) */
static int head_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '\n' && (p[i + 1] == '\n' ||
                             (p[i + 1] == '\r' && i + 2 < n &&
                              p[i + 2] == '\n')))
            return 1;
    return 0;
}

static void io_error(const char *what)
{
    unsigned long held;

    if (log_limit_ok(&io_limit, clock_ms(), 10000, &held))
        log_warn("metrics endpoint: %s: %s (%lu more held back)", what,
                 strerror(errno), held);
}

/* wait_fd - poll fd for events until deadline; 1 ready, 0 timeout/stop */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p[2] = {{fd, events, 0}, {stop_pipe[0], POLLIN, 0}};
    long long left;
    int rc;

    while ((left = deadline - clock_ms()) > 0) {
        rc = poll(p, 2, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || p[1].revents)
            return 0;
        if (rc > 0)
            return 1;
    }
    return 0;
}

static void serve_one(int fd)
{
    char buf[METRICS_HTTP_REQUEST_MAX];
    size_t n = 0, off = 0;
    long long deadline = clock_ms() + METRICS_HTTP_TIMEOUT_MS;
    struct str out = STR_INIT;
    ssize_t r;

    while (!head_end(buf, n)) {
        if (n == sizeof(buf)) {
            text(&out, 400, "Bad Request", "", "request too large\n");
            break;
        }
        if (!wait_fd(fd, POLLIN, deadline))
            goto done;
        r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            goto done;
        n += (size_t)r;
    }
    if (out.len == 0)
        metrics_http_answer(buf, n, &out);
    while (off < out.len) {
        if (!wait_fd(fd, POLLOUT, deadline))
            break;
        r = send(fd, out.data + off, out.len - off, MSG_NOSIGNAL);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            io_error("write");
            break;
        }
        off += (size_t)r;
    }
    shutdown(fd, SHUT_WR);
done:
    str_free(&out);
}

static void *loop(void *unused)
{
    struct pollfd p[2] = {{lfd, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
    int fd;

    (void)unused;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno != EINTR)
                io_error("poll");
            continue;
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                io_error("accept");
                poll(NULL, 0, 100); /* out of descriptors: no busy loop */
            }
            continue;
        }
        serve_one(fd);
        close(fd);
    }
    return NULL;
}

int metrics_http_start(struct str *err)
{
    sigset_t all, old;
    int rc;

    if (lfd < 0 || metrics_http_started)
        return 0;
    if (pipe2(stop_pipe, O_CLOEXEC) < 0) {
        str_appendf(err, "metrics endpoint: pipe: %s", strerror(errno));
        return -1;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&thread, NULL, loop, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        str_appendf(err, "metrics endpoint: thread: %s", strerror(rc));
        return -1;
    }
    metrics_http_started = 1;
    started_pid = getpid();
    return 0;
}

void metrics_http_stop(void)
{
    if (!metrics_http_started)
        return;
    if (getpid() != started_pid) { /* a forked worker: the fds only */
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        close(lfd);
        lfd = -1;
        metrics_http_started = 0;
        return;
    }
    if (write(stop_pipe[1], "x", 1) < 0)
        log_warn("metrics endpoint: cannot stop its thread: %s",
                 strerror(errno));
    pthread_join(thread, NULL);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    close(lfd);
    lfd = -1;
    metrics_http_started = 0;
}
