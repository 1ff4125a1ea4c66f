/*
 * metrics - counters and gauges for Prometheus, and the small HTTP endpoint
 * that serves them (GET /metrics, GET /health).
 *
 * A family (a metric name with its HELP text, its type and its fixed list
 * of label names) is registered by name at start, before the first fork
 * and before metrics_http_start; a series is one combination of label
 * values of a family.  The values live in one MAP_SHARED anonymous mapping
 * made by metrics_init(), so that processes forked afterwards (the
 * workers of postern-lda --lmtp, the background fork of daemon_detach)
 * count into the same numbers the master serves.
 *
 * The hot path is cheap: metrics_series() finds a series without a lock
 * (an open-addressing index published with release stores) and
 * metrics_add() is one relaxed atomic add; only the first use of a label
 * combination takes a spin lock in the shared mapping (no allocation, no
 * system call inside).  A caller with fixed label values looks its series
 * up once at start and keeps the pointer.
 *
 * Everything is a no-op before metrics_init() (postern-lda in pipe mode,
 * the tools, unit tests): metrics_register() returns NULL, and a NULL
 * family or series is accepted everywhere.
 *
 * Types: METRICS_COUNTER (only grows), METRICS_GAUGE (set, add, subtract;
 * the sum over the processes), METRICS_AGE (a gauge set to clock_ms() of an
 * event and rendered as the seconds since then; never set: not rendered).
 *
 * Limits: METRICS_MAX_FAMILIES families, METRICS_MAX_SERIES series in all,
 * METRICS_MAX_LABELS labels per family, METRICS_KEY_MAX bytes of label
 * values per series (longer values are cut; bytes that are not printable
 * ASCII become '?').  When the series are used up, further label
 * combinations count into nothing, and postern_metrics_series_dropped_total
 * says how often that happened.
 *
 * The library's own families (lib/db.c, lib/ldapc.c, lib/server.c,
 * lib/reloader.c count into them) are registered by metrics_init():
 *   postern_db_errors_total{kind}       connect, query
 *   postern_db_failovers_total          a connection dropped, next host
 *   postern_ldap_errors_total{kind}     connect, search
 *   postern_ldap_failovers_total        an LDAP connection dropped
 *   postern_connections_open            client connections now
 *   postern_connections_total           client connections accepted
 *   postern_snapshot_generation{what}   snapshots handed over (full+delta)
 *   postern_snapshot_loads_total{what,kind}   full, delta, error
 *   postern_snapshot_age_seconds{what}  since the database was last read
 *
 * The endpoint (metrics_http.c): one thread of its own with one listening
 * socket on a local address ("127.0.0.1:9771", "[::1]:9771"), so that it
 * never waits on, or makes wait, the daemon's serving, whatever serves the
 * daemon's connections (the epoll loop, libmilter's threads, dirsync's
 * loop).  One request at a time, at most METRICS_HTTP_REQUEST_MAX bytes of
 * request head, METRICS_HTTP_TIMEOUT_MS for the whole exchange.  GET
 * /metrics: the text exposition format 0.0.4.  GET /health: 200 "ok" when
 * every registered health check passes, else 503 with the first reason.
 * Another method: 405; another path: 404; a malformed or too large
 * request: 400.
 *
 * Diagnostics: a bad name at registration, or registering after the
 * endpoint started, is a programming bug (log_panic); the endpoint's
 * errors are logged at most once per 10 s.
 */
#ifndef POSTERN_METRICS_H
#define POSTERN_METRICS_H

#include "str.h"

#define METRICS_MAX_FAMILIES 160
#define METRICS_MAX_SERIES 4096
#define METRICS_MAX_LABELS 4
#define METRICS_KEY_MAX 160          /* label values of one series, bytes */
#define METRICS_NAME_MAX 80          /* metric or label name */
#define METRICS_HELP_MAX 200
#define METRICS_HEALTH_MAX 8         /* registered health checks */
#define METRICS_HTTP_REQUEST_MAX 4096
#define METRICS_HTTP_TIMEOUT_MS 2000

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_AGE };

struct metrics_family;
struct metrics_series;

/* label values, in the order of the family's label names */
#define METRICS_L(...) ((const char *const[]){__VA_ARGS__})

/* metrics_init - make the shared mapping and the library's families;
   0, or -1 + *err (no mapping: metrics stay off).  Once per process tree,
   before any fork that should share the numbers. */
int metrics_init(struct str *err);
int metrics_enabled(void);

/* metrics_register - a family; labels: comma-separated label names ("" or
   NULL for none).  The same name registered again returns the first.
   NULL when metrics are off. */
struct metrics_family *metrics_register(enum metrics_type type,
                                        const char *name, const char *help,
                                        const char *labels);

/* metrics_series - the series of these label values (one per label name),
   made on first use.  NULL when f is NULL.  Thread-safe. */
struct metrics_series *metrics_series(struct metrics_family *f,
                                      const char *const *values);

void metrics_add(struct metrics_series *s, long long n);
void metrics_set(struct metrics_series *s, long long v);
/* metrics_inc - metrics_add(metrics_series(f, values), 1) */
void metrics_inc(struct metrics_family *f, const char *const *values);
long long metrics_get(const struct metrics_series *s);

/* metrics_render - the text exposition format (version 0.0.4) */
void metrics_render(struct str *out);

/* the library's families (NULL before metrics_init) */
extern struct metrics_family *metrics_db_errors, *metrics_db_failovers,
    *metrics_ldap_errors, *metrics_ldap_failovers, *metrics_conn_open,
    *metrics_conn_total, *metrics_snap_generation, *metrics_snap_loads,
    *metrics_snap_age;

/* --- health ------------------------------------------------------------- */

/* a check: 1 healthy; 0 not, with the reason appended to *why.  Called from
   the endpoint's thread: it must only read thread-safe state, never wait
   on the network. */
typedef int (*metrics_health_fn)(void *ctx, struct str *why);

void metrics_health_add(metrics_health_fn fn, void *ctx);
void metrics_health_remove(metrics_health_fn fn, void *ctx);
/* metrics_health - 1 healthy, or 0 with the first reason in *why */
int metrics_health(struct str *why);

/* --- the endpoint (metrics_http.c) -------------------------------------- */

/* metrics_listen_check - addr is a valid metrics_listen value (for -t);
   "" is.  0 or -1 + *err. */
int metrics_listen_check(const char *addr, struct str *err);
/* metrics_http_listen - bind and listen on addr ("HOST:PORT", "[V6]:PORT",
   an optional "inet:" before it); "" does nothing.  0 or -1 + *err. */
int metrics_http_listen(const char *addr, struct str *err);
/* metrics_http_start - serve from a thread of its own (after the last
   daemon_detach fork; every signal blocked in it).  0 or -1 + *err;
   nothing to do without a listening socket. */
int metrics_http_start(struct str *err);
void metrics_http_stop(void);
/* metrics_http_answer - the reply to one request head (for the thread and
   for unit tests): status line, headers and body into *out */
void metrics_http_answer(const char *req, size_t len, struct str *out);

#endif
