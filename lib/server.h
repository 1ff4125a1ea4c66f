/*
 * server - the shared server skeleton: listen on inet (IPv4, IPv6) and unix
 * sockets, serve many concurrent connections from one epoll event loop,
 * enforce idle timeouts and per-connection input/output limits, stop
 * gracefully on SIGTERM/SIGINT, and call a reload hook on SIGHUP.  The
 * life cycle around it (command line, configuration, daemonizing, privilege
 * drop) is lib/daemon.h; daemon_main() puts the two together.
 *
 * A daemon supplies callbacks (struct server_ops).  Input arrives through
 * ops->input() with every byte buffered so far; the callback consumes whole
 * requests and returns how many bytes it used.  If a connection's buffered
 * input reaches limits.max_input without a request being consumed, it is
 * logged and closed.  Output beyond limits.max_output pauses reading from
 * that connection until it drains (back-pressure, never unbounded memory).
 *
 * Connection limits, so that idle clients cannot starve Postfix:
 *   - limits.max_conns concurrent connections, lowered to what the file
 *     descriptor limit leaves room for (the soft RLIMIT_NOFILE is first
 *     raised as far as the hard limit allows; SERVER_FD_HEADROOM
 *     descriptors, or an eighth of the limit if more, stay for the
 *     database, LDAP and DNS), logged at start when it is lowered;
 *   - a reserve (server_conn_reserve(): a sixteenth of the limit, 1 to
 *     SERVER_CONN_RESERVE_MAX): once fewer than that many places are free,
 *     every new connection first closes the connection idle the longest
 *     (no input kept, no output pending, no answer awaited: conn_set_busy;
 *     quiet for SERVER_SHED_MIN_IDLE_MS at least), so a new client is
 *     always served while idle ones hold the places;
 *   - with every place taken by busy connections, accepting pauses
 *     (SERVER_ACCEPT_BACKOFF_MS at a time) and new clients wait in the
 *     listen backlog;
 *   - accept() failing for want of descriptors or memory (EMFILE, ENFILE,
 *     ENOBUFS, ENOMEM) sheds the oldest idle connection and tries again,
 *     or, with none idle, pauses accepting for SERVER_ACCEPT_BACKOFF_MS:
 *     never a busy loop on a listener that stays readable;
 *   - limits.idle_ms closes a connection without input for that long.
 * Each of these conditions is logged at most once per 10 s, with the count
 * of occurrences held back in between.
 *
 * Listen specs: "inet:127.0.0.1:10031", "inet:[::1]:10031", "inet:*:10031"
 * (all IPv4), "unix:/run/postern/maps.sock" (mode from limits.unix_mode).
 * Several specs may be given separated by commas or blanks.
 *
 * Not thread-safe: all calls from the loop thread, except server_wakeup().
 */
#ifndef POSTERN_SERVER_H
#define POSTERN_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

#define SERVER_LISTEN_MAX 16  /* listen sockets per server */
#define SERVER_SPEC_MAX 256   /* one listen spec */
#define SERVER_FD_HEADROOM 128      /* descriptors kept free of connections */
#define SERVER_CONN_RESERVE_MAX 256 /* places kept free for new connections */
#define SERVER_ACCEPT_BACKOFF_MS 100 /* pause of accept() when out of room */
#define SERVER_SHED_MIN_IDLE_MS 250 /* a connection quiet this long may be shed */

struct server;
struct conn;

struct server_ops {
    /* A connection was accepted; return its context (may be NULL). */
    void *(*open)(struct conn *c, void *app);
    /* Buffered input; return bytes consumed (0 = need more), -1 to close. */
    ssize_t (*input)(struct conn *c, void *ctx, const char *buf, size_t len);
    /* The connection is going away (peer closed, timeout, error, stop). */
    void (*close)(struct conn *c, void *ctx);
    /* Called every limits.tick_ms milliseconds (may be NULL). */
    void (*tick)(void *app);
    /* SIGHUP: reload configuration; return 0 on success (may be NULL). */
    int (*reload)(void *app);
    /* server_wakeup() was called from another thread (may be NULL). */
    void (*wakeup)(void *app);
};

struct server_limits {
    size_t max_input;     /* buffered, unconsumed input per connection
                             (at most STR_MAX_SIZE, else log_panic) */
    size_t max_output;    /* pending output before reading pauses */
    long long idle_ms;    /* close after this long without input */
    int max_conns;        /* concurrent connections (see above) */
    int tick_ms;          /* period of ops->tick */
    int unix_mode;        /* permission bits of unix sockets */
};

/* The per-daemon settings every server section shares ([maps], [policyd]..). */
struct server_config {
    char *listen;
    char *user;
    long long max_connections;
    long long idle_timeout; /* ms */
    long long unix_mode;    /* octal digits parsed as decimal */
    char *pid_file;         /* "" = none; written only without -f */
    char *metrics_listen;   /* lib/metrics.h HTTP endpoint; "" = off */
};

/*
 * SERVER_PID_CFG_DEF - the pid_file row of a daemon's section (lib/daemon.h:
 * written after detaching, removed on exit), with the default path dflt
 * ("/run/postern/maps.pid"; "" = none).
 */
#define SERVER_PID_CFG_DEF(T, m, dflt)                                        \
    {"pid_file", CFG_STR, dflt, 0, 1024, offsetof(T, m.pid_file), NULL}

/*
 * SERVER_LISTEN_CFG_DEFS - the rows of a cfg_def table for the members of
 * struct server_config that a program listening without the server loop
 * uses (postern-milter: libmilter serves the connections): listen, user,
 * unix_socket_mode, metrics_listen (lib/metrics.h).  Stored as member `m` of struct `T`, with the default
 * listen spec `dflt`.
 */
#define SERVER_LISTEN_CFG_DEFS(T, m, dflt)                                    \
    {"listen", CFG_STR, dflt, 0, 1024, offsetof(T, m.listen), NULL},          \
    {"user", CFG_STR, "", 0, 64, offsetof(T, m.user), NULL},                    \
    {"unix_socket_mode", CFG_INT, "666", 0, 777, offsetof(T, m.unix_mode),      \
     NULL},                                                                     \
    {"metrics_listen", CFG_STR, "", 0, 256, offsetof(T, m.metrics_listen),      \
     NULL}

/*
 * SERVER_CFG_DEFS - every row of struct server_config, for a program served
 * by the server loop: SERVER_LISTEN_CFG_DEFS plus max_connections and
 * idle_timeout.
 */
#define SERVER_CFG_DEFS(T, m, dflt)                                           \
    SERVER_LISTEN_CFG_DEFS(T, m, dflt),                                       \
    {"max_connections", CFG_INT, "4096", 1, 65536,                              \
     offsetof(T, m.max_connections), NULL},                                     \
    {"idle_timeout", CFG_TIME, "300s", 1000, 86400000,                          \
     offsetof(T, m.idle_timeout), NULL}

struct server *server_create(const struct server_ops *ops, void *app,
                             const struct server_limits *lim);
void server_free(struct server *s);
/* server_set_app - the pointer handed to open/tick/wakeup callbacks. */
void server_set_app(struct server *s, void *app);

/* server_apply_config - copy max_connections/idle/unix mode into limits. */
void server_limits_from_config(struct server_limits *lim,
                               const struct server_config *cfg);

/* server_listen - bind and listen on every spec in a list. 0 or -1 + *err. */
int server_listen(struct server *s, const char *specs, struct str *err);

/* server_run - serve until SIGTERM/SIGINT or server_stop().  0 or -1. */
int server_run(struct server *s);
void server_stop(struct server *s);
/* server_wakeup - thread-safe: makes the loop call ops->wakeup soon. */
void server_wakeup(struct server *s);
/* server_fork - fork(); the child gets an event loop of its own (a new
   epoll set, signalfd and eventfd) on the same listen sockets, accepting
   if the parent was, and never removes the unix socket paths (the
   parent's).  For a pool of processes that each serve their own
   connections (postern-lda --lmtp).  Call with no connection open, before
   server_run or from one of its callbacks; the child goes on from there
   with its own loop.  Returns what fork() returns. */
pid_t server_fork(struct server *s);

/*
 * server_detached - after the process forked into the background
 * (daemon_detach): the loop's kernel objects made again in this process,
 * so that SIGTERM, SIGINT and SIGHUP reach it (a signalfd the parent put
 * into the epoll set would wake it only for the parent's signals).
 */
void server_detached(struct server *s);
/* server_set_accepting - 0: accept nothing, new clients wait in the listen
   backlog; 1: accept again.  A connection closing below the limit turns
   accepting back on. */
void server_set_accepting(struct server *s, int on);
/* server_set_limits - apply new limits (after a reload). */
void server_set_limits(struct server *s, const struct server_limits *lim);
int server_conn_count(const struct server *s);
/* server_conn_reserve - the places kept free out of conn_max (see above) */
int server_conn_reserve(int conn_max);

/* Per-connection operations, from callbacks. */
/* conn_write - queue output; -1 if the connection is dead (or its pending
   output would pass STR_MAX_SIZE: reading pauses long before, at
   max_output, so only a reply of that size gets there). */
int conn_write(struct conn *c, const void *data, size_t len);
void conn_close_after_write(struct conn *c);
/* conn_set_busy - 1: the connection waits for an answer (a request handed
   to a worker): it is not idle and never shed; 0 when answered */
void conn_set_busy(struct conn *c, int busy);
/* conn_resume - hand the buffered input to input() again soon (after an
   input() that returned 0 while waiting for something else, such as a
   worker's answer) */
void conn_resume(struct conn *c);
const char *conn_peer(const struct conn *c); /* "127.0.0.1:4711" or "unix" */
unsigned long conn_id(const struct conn *c);

#endif
