/*
 * server - epoll event loop server skeleton.  See server.h.
 *
 * Connections live on a list ordered by last activity, so idle timeouts are
 * found in O(1) per tick, and under pressure the oldest idle connection is
 * the first found to shed.  Signals arrive through a signalfd; other threads
 * wake the loop through an eventfd.  Linux only (epoll, signalfd, eventfd).
 *
 * Accepting stops (the listeners leave the epoll set) when the limit is
 * reached with nothing to shed, or when accept() fails for want of file
 * descriptors or memory with nothing to shed; it resumes after
 * SERVER_ACCEPT_BACKOFF_MS (or at once when a connection closes), so a full
 * process never spins on a listener that stays readable.
 */
#include "server.h"
#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SERVER_READ_CHUNK 16384
#define SERVER_EVENTS 256
#define SERVER_SHED_SCAN 1024      /* connections looked at to find an idle one */
#define SERVER_LOG_INTERVAL_MS 10000 /* one record per condition and interval */

enum { TAG_LISTEN = 1, TAG_CONN, TAG_SIGNAL, TAG_WAKE };

struct tagged {
    int tag;
};

struct listener {
    struct tagged t;
    int fd;
    char spec[SERVER_SPEC_MAX];
    char *unix_path;
};

struct conn {
    struct tagged t;
    int fd;
    struct server *srv;
    void *ctx;
    struct str in, out;
    long long last_ms;
    int closing;     /* close once output is flushed */
    int read_paused; /* output over limit */
    int dead;
    unsigned events; /* the epoll mask registered now */
    unsigned long id;
    char peer[64];
    struct conn *prev, *next; /* activity order: head is the oldest */
    struct conn *flush_next;  /* queued output written outside input() */
    int flush_queued;
    int resume;               /* run input() again on buffered input */
    int busy;                 /* waits for an answer: never shed (conn_set_busy) */
};

struct server {
    const struct server_ops *ops;
    void *app;
    struct server_limits lim;
    int epfd;
    struct tagged sig_t, wake_t;
    int sigfd, wakefd;
    struct listener listeners[SERVER_LISTEN_MAX];
    int nlisteners;
    int accepting;
    long long accept_resume_ms; /* accepting is paused until then (0: not) */
    int nconns;
    int conn_max;               /* lim.max_conns within the file limit */
    unsigned long shed_count;   /* idle connections shed, ever */
    struct log_limit shed_log, full_log, accept_log;
    unsigned long next_id;
    struct conn *head, *tail;
    struct conn *graveyard; /* closed during this loop iteration */
    struct conn *flushq;    /* conns with output to flush (conn_write) */
    volatile int stop;
};

/*
 * fd_conn_max - the connections the file limit leaves room for: the soft
 * RLIMIT_NOFILE is raised towards max_conns + the headroom (as far as the
 * hard limit allows); the headroom (SERVER_FD_HEADROOM, or an eighth of the
 * limit if more) stays for database, LDAP, DNS and log descriptors.
 */
static int fd_conn_max(int max_conns)
{
    struct rlimit rl;
    /* room for max_conns beside the headroom, whichever rule gives it */
    rlim_t extra = (rlim_t)max_conns / 7 + 1 > SERVER_FD_HEADROOM
                       ? (rlim_t)max_conns / 7 + 1 : SERVER_FD_HEADROOM;
    rlim_t want = (rlim_t)max_conns + extra, room;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return max_conns;
    if (rl.rlim_cur < want) {
        rlim_t cur = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want
                          ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            rl.rlim_cur = cur;
    }
    room = rl.rlim_cur / 8 > SERVER_FD_HEADROOM ? rl.rlim_cur / 8
                                                 : SERVER_FD_HEADROOM;
    if (rl.rlim_cur <= room + 1)
        return 1;
    return rl.rlim_cur - room < (rlim_t)max_conns ? (int)(rl.rlim_cur - room)
                                                   : max_conns;
}

/* set_limits - the input buffer must fit a struct str (conn_readable) */
static void set_limits(struct server *s, const struct server_limits *lim)
{
    if (lim->max_input > STR_MAX_SIZE)
        log_panic("server: max_input %zu over STR_MAX_SIZE", lim->max_input);
    s->lim = *lim;
    s->conn_max = fd_conn_max(lim->max_conns > 0 ? lim->max_conns : 1);
    if (s->conn_max < lim->max_conns)
        log_warn("the file descriptor limit leaves room for %d connections "
                 "(max_connections %d): serving at most %d", s->conn_max,
                 lim->max_conns, s->conn_max);
}

/* server_conn_reserve - connections kept free for newcomers (server.h) */
int server_conn_reserve(int conn_max)
{
    int r = conn_max / 16;

    if (r < 1)
        r = 1;
    if (r > SERVER_CONN_RESERVE_MAX)
        r = SERVER_CONN_RESERVE_MAX;
    return r < conn_max ? r : conn_max - 1;
}

/* loop_open - the loop's kernel objects: the epoll set, the signalfd
   (SIGTERM, SIGINT, SIGHUP blocked) and the wakeup eventfd */
static void loop_open(struct server *s)
{
    struct epoll_event ev = {0};
    sigset_t set;

    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        log_fatal("epoll_create1: %s", strerror(errno));
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
        (s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
        log_fatal("signalfd: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    if ((s->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        log_fatal("eventfd: %s", strerror(errno));
    s->sig_t.tag = TAG_SIGNAL;
    s->wake_t.tag = TAG_WAKE;
    ev.events = EPOLLIN;
    ev.data.ptr = &s->sig_t;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev);
    ev.data.ptr = &s->wake_t;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev);
}

struct server *server_create(const struct server_ops *ops, void *app,
                             const struct server_limits *lim)
{
    struct server *s = xcalloc(1, sizeof(*s));

    s->ops = ops;
    s->app = app;
    set_limits(s, lim);
    s->accepting = 1;
    s->next_id = 1;
    loop_open(s);
    return s;
}

/* loop_reopen - a new epoll set, signalfd and eventfd, with the listeners
   in it: kernel objects made before a fork belong to the parent (an
   epoll_ctl in one process would change the other's set, and a signalfd
   registered in an epoll set by the parent wakes it for the parent's
   signals only) */
static void loop_reopen(struct server *s)
{
    struct epoll_event ev = {0};

    close(s->epfd);
    close(s->sigfd);
    close(s->wakefd);
    loop_open(s);
    for (int i = 0; i < s->nlisteners; i++) {
        ev.events = s->accepting ? EPOLLIN : 0;
        ev.data.ptr = &s->listeners[i].t;
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listeners[i].fd, &ev);
    }
}

pid_t server_fork(struct server *s)
{
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    for (int i = 0; i < s->nlisteners; i++)
        s->listeners[i].unix_path = NULL; /* the parent's to remove */
    loop_reopen(s);
    return 0;
}

void server_detached(struct server *s)
{
    loop_reopen(s);
}

void server_limits_from_config(struct server_limits *lim,
                               const struct server_config *cfg)
{
    lim->max_conns = (int)cfg->max_connections;
    lim->idle_ms = cfg->idle_timeout;
    /* the mode is written in octal digits: 660 means 0660 */
    lim->unix_mode = (int)cfg_octal_mode(cfg->unix_mode);
}

void server_set_app(struct server *s, void *app)
{
    s->app = app;
}

void server_set_limits(struct server *s, const struct server_limits *lim)
{
    set_limits(s, lim);
}

int server_conn_count(const struct server *s)
{
    return s->nconns;
}

/* --- listening --------------------------------------------------------- */

static int parse_inet(const char *hp, struct sockaddr_storage *ss,
                      socklen_t *sl, struct str *err)
{
    char host[SERVER_SPEC_MAX];
    const char *colon, *portp;
    char *end;
    long port;

    if (hp[0] == '[') {
        const char *rb = strchr(hp, ']');
        if (rb == NULL || rb[1] != ':')
            return str_appendf(err, "bad IPv6 listen address '%s'", hp), -1;
        memcpy(host, hp + 1, (size_t)(rb - hp - 1));
        host[rb - hp - 1] = '\0';
        portp = rb + 2;
    } else {
        if ((colon = strrchr(hp, ':')) == NULL)
            return str_appendf(err, "listen address '%s' has no port", hp), -1;
        memcpy(host, hp, (size_t)(colon - hp));
        host[colon - hp] = '\0';
        portp = colon + 1;
    }
    errno = 0;
    port = strtol(portp, &end, 10);
    if (errno || *end || port < 1 || port > 65535)
        return str_appendf(err, "bad port in listen address '%s'", hp), -1;
    memset(ss, 0, sizeof(*ss));
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return str_appendf(err, "bad IPv6 address '%s'", host), -1;
        *sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        if (!strcmp(host, "*") || host[0] == '\0')
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return str_appendf(err, "bad IPv4 address '%s' (use a numeric "
                               "address)", host), -1;
        *sl = sizeof(*s4);
    }
    return 0;
}

static int listen_inet(const char *hp, struct str *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, one = 1;

    if (parse_inet(hp, &ss, &sl, err) < 0)
        return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return str_appendf(err, "socket: %s", strerror(errno)), -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
        str_appendf(err, "cannot listen on %s: %s", hp, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_unix(const char *path, int mode, struct str *err)
{
    struct sockaddr_un sun = {0};
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path))
        return str_appendf(err, "unix socket path too long: %s", path), -1;
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return str_appendf(err, "socket: %s", strerror(errno)), -1;
    unlink(path); /* a stale socket from an earlier run */
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        chmod(path, (mode_t)mode) < 0 || listen(fd, 1024) < 0) {
        str_appendf(err, "cannot listen on unix:%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int server_listen(struct server *s, const char *specs, struct str *err)
{
    char spec[SERVER_SPEC_MAX];
    const char *cur = specs;
    struct epoll_event ev = {0};
    int r, fd;

    while ((r = cfg_list_next(&cur, spec, sizeof(spec))) != 0) {
        struct listener *l;
        if (r < 0)
            return str_appendf(err, "listen spec too long"), -1;
        if (s->nlisteners == SERVER_LISTEN_MAX)
            return str_appendf(err, "more than %d listen addresses",
                               SERVER_LISTEN_MAX), -1;
        l = &s->listeners[s->nlisteners];
        if (!strncmp(spec, "unix:", 5))
            fd = listen_unix(spec + 5, s->lim.unix_mode, err);
        else
            fd = listen_inet(!strncmp(spec, "inet:", 5) ? spec + 5 : spec, err);
        if (fd < 0)
            return -1;
        l->t.tag = TAG_LISTEN;
        l->fd = fd;
        strcpy(l->spec, spec);
        l->unix_path = !strncmp(spec, "unix:", 5) ? l->spec + 5 : NULL;
        ev.events = EPOLLIN;
        ev.data.ptr = &l->t;
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
        s->nlisteners++;
    }
    if (s->nlisteners == 0)
        return str_appendf(err, "no listen address configured"), -1;
    return 0;
}

/* --- connections ------------------------------------------------------- */

static void conn_touch(struct server *s, struct conn *c)
{
    c->last_ms = clock_ms();
    if (s->tail == c)
        return;
    /* unlink */
    if (c->prev)
        c->prev->next = c->next;
    else if (s->head == c)
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    /* append */
    c->prev = s->tail;
    c->next = NULL;
    if (s->tail)
        s->tail->next = c;
    s->tail = c;
    if (s->head == NULL)
        s->head = c;
}

static void conn_update_events(struct conn *c)
{
    struct epoll_event ev = {0};

    ev.events = (c->read_paused || c->closing ? 0 : EPOLLIN) |
                (c->out.len ? EPOLLOUT : 0);
    if (ev.events == c->events) /* one syscall less per request */
        return;
    c->events = ev.events;
    ev.data.ptr = &c->t;
    epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void set_accepting(struct server *s, int on)
{
    struct epoll_event ev = {0};

    if (on)
        s->accept_resume_ms = 0;
    if (s->accepting == on)
        return;
    s->accepting = on;
    for (int i = 0; i < s->nlisteners; i++) {
        ev.events = on ? EPOLLIN : 0;
        ev.data.ptr = &s->listeners[i].t;
        epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listeners[i].fd, &ev);
    }
}

void server_set_accepting(struct server *s, int on)
{
    set_accepting(s, on != 0);
}

/* accept_pause - stop accepting for SERVER_ACCEPT_BACKOFF_MS (the loop
   resumes it, or a closing connection does) */
static void accept_pause(struct server *s, long long now)
{
    set_accepting(s, 0);
    s->accept_resume_ms = now + SERVER_ACCEPT_BACKOFF_MS;
}

static void conn_destroy(struct conn *c)
{
    struct server *s = c->srv;

    if (c->dead)
        return;
    c->dead = 1;
    if (s->ops->close)
        s->ops->close(c, c->ctx);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->nconns--;
    metrics_add(metrics_series(metrics_conn_open, NULL), -1);
    str_free(&c->in);
    str_free(&c->out);
    c->next = s->graveyard; /* freed after the event batch */
    s->graveyard = c;
    if (s->nconns < s->conn_max)
        set_accepting(s, 1);
}

/* conn_idle - nothing in flight: no input kept, no output pending, no
   answer awaited (conn_set_busy), not closing, and quiet for at least
   SERVER_SHED_MIN_IDLE_MS (a connection accepted a moment ago may have its
   request waiting, unread) */
static int conn_idle(const struct conn *c, long long now)
{
    return !c->dead && !c->busy && !c->closing && c->in.len == 0 &&
           c->out.len == 0 && now - c->last_ms >= SERVER_SHED_MIN_IDLE_MS;
}

/* shed_idle - close the oldest idle connection to make room; 1 if one was
   closed, 0 if none of the oldest SERVER_SHED_SCAN is idle */
static int shed_idle(struct server *s, long long now, const char *why)
{
    struct conn *c = s->head;
    unsigned long held;

    for (int i = 0; c && i < SERVER_SHED_SCAN; i++, c = c->next) {
        if (now - c->last_ms < SERVER_SHED_MIN_IDLE_MS)
            return 0; /* the rest are younger still */
        if (!conn_idle(c, now))
            continue;
        s->shed_count++;
        if (log_limit_ok(&s->shed_log, now, SERVER_LOG_INTERVAL_MS, &held))
            log_warn("%d connections (%s): closing idle connections, oldest "
                     "first (%s, idle %lld ms; %lu shed so far)", s->nconns,
                     why, c->peer, now - c->last_ms, s->shed_count);
        conn_destroy(c);
        return 1;
    }
    return 0;
}

static void peer_name(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN];

    snprintf(buf, size, "unknown");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        snprintf(buf, size, "unix");
    }
}

/* room - make room for one more connection: under pressure (the reserve
   reached) shed the oldest idle one; 0 if there is room, -1 if not */
static int room(struct server *s, long long now)
{
    unsigned long held;

    if (s->nconns < s->conn_max - server_conn_reserve(s->conn_max))
        return 0;
    if (shed_idle(s, now, "limit near") || s->nconns < s->conn_max)
        return 0;
    if (log_limit_ok(&s->full_log, now, SERVER_LOG_INTERVAL_MS, &held))
        log_warn("%d connections, none idle: new ones wait (%lu times since "
                 "the last report)", s->nconns, held + 1);
    return -1;
}

/* accept_failed - accept() failed with errno: 1 to try again at once (an
   fd was freed), 0 to stop this round */
static int accept_failed(struct server *s, struct listener *l, long long now)
{
    int e = errno;
    unsigned long held;

    if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED)
        return 0;
    if ((e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) &&
        shed_idle(s, now, strerror(e)))
        return 1;
    if (log_limit_ok(&s->accept_log, now, SERVER_LOG_INTERVAL_MS, &held))
        log_warn("accept on %s: %s: pausing accepts for %d ms (%d "
                 "connections; %lu more failures since the last report)",
                 l->spec, strerror(e), SERVER_ACCEPT_BACKOFF_MS, s->nconns,
                 held);
    accept_pause(s, now);
    return 0;
}

static void do_accept(struct server *s, struct listener *l)
{
    struct epoll_event ev = {0};
    long long now = clock_ms();

    while (s->accepting) {
        int fd;
        struct conn *c;
        if (room(s, now) < 0) {
            accept_pause(s, now);
            return;
        }
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (accept_failed(s, l, now))
                continue;
            return;
        }
        c = xcalloc(1, sizeof(*c));
        c->t.tag = TAG_CONN;
        c->fd = fd;
        c->srv = s;
        c->id = s->next_id++;
        peer_name(fd, c->peer, sizeof(c->peer));
        s->nconns++;
        metrics_add(metrics_series(metrics_conn_open, NULL), 1);
        metrics_add(metrics_series(metrics_conn_total, NULL), 1);
        conn_touch(s, c);
        ev.events = c->events = EPOLLIN;
        ev.data.ptr = &c->t;
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
        c->ctx = s->ops->open ? s->ops->open(c, s->app) : NULL;
    }
}

static void conn_process(struct conn *c);

static void conn_flush(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t n = write(c->fd, c->out.data, c->out.len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            conn_destroy(c);
            return;
        }
        str_consume(&c->out, (size_t)n);
    }
    if (c->out.len == 0 && c->closing) {
        conn_destroy(c);
        return;
    }
    if (c->read_paused && c->out.len < c->srv->lim.max_output / 2) {
        c->read_paused = 0;
        if (c->in.len > 0) { /* requests that waited for the output to drain */
            conn_process(c);
            if (c->dead)
                return;
        }
    }
    conn_update_events(c);
}

static void flush_enqueue(struct conn *c)
{
    if (!c->flush_queued) {
        c->flush_queued = 1;
        c->flush_next = c->srv->flushq;
        c->srv->flushq = c;
    }
}

int conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->dead || str_append(&c->out, data, len) < 0)
        return -1;
    if (c->out.len > c->srv->lim.max_output)
        c->read_paused = 1;
    /* output written from open(), wakeup() or tick() has no input event to
       ride on: the loop flushes it before it sleeps again */
    flush_enqueue(c);
    return 0;
}

void conn_resume(struct conn *c)
{
    if (c->dead)
        return;
    c->resume = 1;
    flush_enqueue(c);
}

/* flush_queued - write what conn_write queued (before bury frees conns) */
static void flush_queued(struct server *s)
{
    while (s->flushq) {
        struct conn *c = s->flushq;
        s->flushq = c->flush_next;
        c->flush_queued = 0;
        if (!c->dead && c->resume) {
            c->resume = 0;
            if (c->in.len > 0)
                conn_process(c);
        }
        if (!c->dead && c->out.len > 0)
            conn_flush(c);
    }
}

void conn_close_after_write(struct conn *c)
{
    c->closing = 1;
}

void conn_set_busy(struct conn *c, int busy)
{
    c->busy = busy;
}

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

unsigned long conn_id(const struct conn *c)
{
    return c->id;
}

/* conn_process - hand buffered input to the protocol while it consumes. */
static void conn_process(struct conn *c)
{
    struct server *s = c->srv;

    while (c->in.len > 0 && !c->closing && !c->dead && !c->read_paused) {
        ssize_t used = s->ops->input(c, c->ctx, c->in.data, c->in.len);
        if (used < 0) {
            c->closing = 1;
            break;
        }
        if (used == 0) {
            if (c->in.len >= s->lim.max_input) {
                log_warn("%s: request larger than %zu bytes, closing",
                         c->peer, s->lim.max_input);
                c->closing = 1;
            }
            break;
        }
        str_consume(&c->in, (size_t)used);
    }
}

static void conn_readable(struct conn *c)
{
    char buf[SERVER_READ_CHUNK];
    struct server *s = c->srv;

    for (;;) {
        size_t room = s->lim.max_input - c->in.len;
        ssize_t n;
        if (room == 0)
            break;
        n = read(c->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
        if (n == 0) {
            conn_process(c);
            if (!c->dead)
                conn_destroy(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_destroy(c);
                return;
            }
            break;
        }
        str_append(&c->in, buf, (size_t)n); /* room: within max_input */
        if ((size_t)n < sizeof(buf))
            break;
    }
    conn_touch(s, c);
    conn_process(c);
    if (!c->dead)
        conn_flush(c);
}

/* --- the loop ------------------------------------------------------------ */

static void handle_signals(struct server *s)
{
    struct signalfd_siginfo si;

    while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: reloading configuration");
            if (s->ops->reload && s->ops->reload(s->app) < 0)
                log_warn("reload failed; keeping the old configuration");
        } else {
            log_info("signal %u: stopping", si.ssi_signo);
            s->stop = 1;
        }
    }
}

static void expire_idle(struct server *s, long long now)
{
    while (s->head && now - s->head->last_ms >= s->lim.idle_ms) {
        log_debug("%s: idle timeout", s->head->peer);
        conn_destroy(s->head);
    }
}

static void bury(struct server *s)
{
    while (s->graveyard) {
        struct conn *c = s->graveyard;
        s->graveyard = c->next;
        free(c);
    }
}

int server_run(struct server *s)
{
    struct epoll_event evs[SERVER_EVENTS];
    long long next_tick = clock_ms() + s->lim.tick_ms;

    while (!s->stop) {
        long long now = clock_ms(), wake = next_tick;
        int timeout, n;

        if (s->accept_resume_ms && s->accept_resume_ms < wake)
            wake = s->accept_resume_ms;
        timeout = wake > now ? (int)(wake - now) : 0;
        n = epoll_wait(s->epfd, evs, SERVER_EVENTS, timeout);

        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            struct tagged *t = evs[i].data.ptr;
            if (t->tag == TAG_LISTEN) {
                do_accept(s, (struct listener *)t);
            } else if (t->tag == TAG_SIGNAL) {
                handle_signals(s);
            } else if (t->tag == TAG_WAKE) {
                uint64_t v;
                if (read(s->wakefd, &v, sizeof(v)) > 0 && s->ops->wakeup)
                    s->ops->wakeup(s->app);
            } else {
                struct conn *c = (struct conn *)t;
                if (c->dead)
                    continue;
                if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
                    !(evs[i].events & EPOLLIN)) {
                    conn_destroy(c);
                    continue;
                }
                if (evs[i].events & EPOLLIN)
                    conn_readable(c);
                if (!c->dead && (evs[i].events & EPOLLOUT))
                    conn_flush(c);
            }
        }
        flush_queued(s);
        bury(s);
        now = clock_ms();
        if (s->accept_resume_ms && now >= s->accept_resume_ms)
            set_accepting(s, 1);
        if (now >= next_tick) {
            expire_idle(s, now);
            if (s->ops->tick)
                s->ops->tick(s->app);
            next_tick = now + s->lim.tick_ms;
            flush_queued(s);
            bury(s);
        }
    }
    return 0;
}

void server_stop(struct server *s)
{
    s->stop = 1;
    server_wakeup(s);
}

void server_wakeup(struct server *s)
{
    uint64_t one = 1;

    if (write(s->wakefd, &one, sizeof(one)) < 0) {
        /* the counter is saturated: the loop wakes anyway */
    }
}

void server_free(struct server *s)
{
    while (s->head)
        conn_destroy(s->head);
    s->flushq = NULL;
    bury(s);
    for (int i = 0; i < s->nlisteners; i++) {
        close(s->listeners[i].fd);
        if (s->listeners[i].unix_path)
            unlink(s->listeners[i].unix_path);
    }
    close(s->sigfd);
    close(s->wakefd);
    close(s->epfd);
    free(s);
}
