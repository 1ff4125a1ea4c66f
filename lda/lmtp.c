/*
 * lmtp - the LMTP server (RFC 2033) of postern-lda on lib/server.h.
 *
 * Commands: LHLO, MAIL FROM:<a> [SIZE=n ...], RCPT TO:<b>, DATA, RSET,
 * NOOP, VRFY (252), QUIT.  Extensions announced: PIPELINING,
 * ENHANCEDSTATUSCODES, 8BITMIME, SIZE.  Every recipient is looked up at
 * RCPT (550 5.1.1 unknown, 451 4.3.0 database down); after the final "."
 * there is one reply per accepted recipient, in RCPT order, each with the
 * outcome of its own delivery (status.c maps outcomes to codes).
 *
 * DATA is consumed as it arrives (dot-unstuffed, CRLF -> LF in msg.c), so
 * a large message never sits in the connection's input buffer: complete
 * lines are taken at once, and a line without an end is taken in chunks of
 * LMTP_CHUNK bytes.
 *
 * Processes, as Postfix's single_server and Dovecot's lmtp: a master and
 * [lda] lmtp_max_processes worker processes (default 20, Postfix's
 * default_destination_concurrency_limit, which lmtp_destination_
 * concurrency_limit inherits).  Each worker accepts on the shared listen
 * sockets and serves one connection at a time, so the lookups at RCPT (a
 * database or postern-maps round trip) and the Maildir writes with their
 * fsyncs after DATA block only their own connection, and deliveries on
 * parallel connections run in parallel.  With every worker busy, new
 * connections wait in the listen backlog until one is free (never
 * refused, never dropped), and the master logs "all N worker processes
 * are busy" at most every LMTP_BUSY_LOG_MS.  The master accepts nothing
 * and opens no database connection: each worker connects on its first
 * lookup, to a connection of its own (lib/db.h).  A worker that dies
 * (killed, crashed) takes only its own connection with it: the client
 * sees the connection close and retries every recipient that had no final
 * reply yet (Postfix defers them; at worst one written but unanswered
 * comes twice, nothing is lost); the master logs
 * it and starts a new worker within a second (LMTP_RESPAWN_THROTTLE_MS
 * later when the dead one lived under LMTP_RESPAWN_MIN_MS, so a worker
 * that cannot start does not fork in a loop).  Workers get SIGTERM when
 * the master dies.  SIGHUP to the master reloads its configuration and is
 * passed on to every worker, which reloads its own; a new
 * lmtp_max_processes needs a restart.  SIGTERM to the master stops the
 * workers (each finishes the delivery it is in) and waits for them.
 *
 * With [lda] lmtp_extension_folder = yes, RCPT TO:<user+Sent@dom> is
 * delivered into the folder "Sent", as pipe mode does with -m ${extension}
 * (created on demand; an unusable name goes to INBOX); by default the
 * extension is only stripped for the lookup.
 *
 * Limits: a command line LMTP_LINE_MAX bytes (500 5.5.2 and close
 * otherwise), [lda] lmtp_max_recipients per transaction (452 4.5.3),
 * [lda] max_message_size (SIZE=, and 552 5.3.4 per recipient after DATA),
 * [lda] lmtp_max_processes connections at once (one per worker; the rest
 * wait), [lda] idle_timeout per connection.
 *
 * Diagnostics (the master): "lmtp: worker process PID killed by signal N"
 * or "exited with status N", "lmtp: all N worker processes are busy", and
 * "cannot start a worker process" when fork fails (tried again a second
 * later).  Tests: tests/integration/lda.sh (sessions, Postfix, SIGHUP),
 * tests/integration/lmtp-concurrent.sh (parallel deliveries, the limit, a
 * killed worker).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "lda.h"
#include "log.h"
#include "mem.h"

#define LMTP_LINE_MAX 4096
#define LMTP_CHUNK 32768
#define LMTP_RESPAWN_MIN_MS 1000      /* a worker dying younger is throttled */
#define LMTP_RESPAWN_THROTTLE_MS 10000 /* ... and restarted this much later */
#define LMTP_BUSY_LOG_MS 10000        /* "all workers busy" at most this often */

struct lmtp_app {
    struct lda_config *cfg;
    struct db *db;
    struct lda_ctx ctx;
    struct server *srv;
    int worker;               /* this process: 1 a worker, 0 the master */
    int slot;                 /* a worker's index in pids[] and busy[] */
    int nprocs;               /* lmtp_max_processes at start */
    pid_t master;
    pid_t *pids;              /* master: the worker of each slot, 0 none */
    long long *born;          /* master: when it was started (clock_ms) */
    long long *restart_at;    /* master: an empty slot's next start */
    volatile int *busy;       /* shared memory: slot serves a connection */
    struct log_limit busy_log;
};

struct lmtp_rcpt {
    char *address;
    char *folder;          /* the extension, with lmtp_extension_folder */
    struct lda_mailbox mb;
};

struct lmtp_sess {
    struct lmtp_app *app;
    struct conn *c;
    int greeted, have_mail, in_data, data_bol;
    char *sender;
    struct lmtp_rcpt *rcpts;
    size_t nrcpt, cap;
    struct lda_msg *msg;
    struct str out;
};

static void reply(struct lmtp_sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reply(struct lmtp_sess *s, const char *fmt, ...)
{
    va_list ap;

    str_reset(&s->out);
    va_start(ap, fmt);
    str_vappendf(&s->out, fmt, ap);
    va_end(ap);
    str_append(&s->out, "\r\n", 2);
    conn_write(s->c, s->out.data, s->out.len);
}

static void reset_txn(struct lmtp_sess *s)
{
    for (size_t i = 0; i < s->nrcpt; i++) {
        free(s->rcpts[i].address);
        free(s->rcpts[i].folder);
    }
    s->nrcpt = 0;
    free(s->sender);
    s->sender = NULL;
    s->have_mail = 0;
    s->in_data = 0;
    if (s->msg)
        lda_msg_free(s->msg);
}

static void *lmtp_open(struct conn *c, void *appp)
{
    struct lmtp_app *app = appp;
    struct lmtp_sess *s = xcalloc(1, sizeof(*s));

    /* one connection per worker: the next one waits for a free worker
       (closing this connection turns accepting back on) */
    server_set_accepting(app->srv, 0);
    if (app->worker)
        app->busy[app->slot] = 1;

    s->msg = xcalloc(1, sizeof(*s->msg));
    s->msg->fd = -1;
    s->app = app;
    s->c = c;
    reply(s, "220 %s postern-lda LMTP ready", app->ctx.hostname);
    return s;
}

static void lmtp_close(struct conn *c, void *ctx)
{
    struct lmtp_sess *s = ctx;

    (void)c;
    if (s->app->worker)
        s->app->busy[s->app->slot] = 0;
    reset_txn(s);
    free(s->rcpts);
    free(s->msg);
    str_free(&s->out);
    free(s);
}

/* path_arg - the address between < and > after "FROM:" / "TO:"; the rest
   (parameters) in *params.  Returns a malloc'd string, or NULL when
   there are no angle brackets. */
static char *path_arg(const char *p, const char **params)
{
    const char *gt;

    while (*p == ' ')
        p++;
    if (*p != '<' || (gt = strchr(p, '>')) == NULL)
        return NULL;
    *params = gt + 1;
    return xstrndup(p + 1, (size_t)(gt - p - 1));
}

static void end_of_data(struct lmtp_sess *s)
{
    struct lmtp_app *app = s->app;
    struct lda_result res;

    lda_msg_finish(s->msg);
    log_info("lmtp: from=<%s> size=%llu recipients=%zu peer=%s",
             log_safe_cstr(s->sender), s->msg->size, s->nrcpt,
             conn_peer(s->c));
    for (size_t i = 0; i < s->nrcpt; i++) {
        struct lda_envelope env = {s->sender, s->rcpts[i].address,
                                   s->rcpts[i].folder, NULL};
        struct lda_status_info inf;
        lda_deliver(&app->ctx, &env, &s->rcpts[i].mb, s->msg, &res);
        inf = lda_status_info(res.status);
        reply(s, "%d %s %s", inf.smtp_code, inf.dsn, res.text);
    }
    reset_txn(s);
}

static void cmd_mail(struct lmtp_sess *s, const char *arg)
{
    const char *params = "", *sz;
    char *a;

    if (!s->greeted)
        return reply(s, "503 5.5.1 LHLO first");
    if (s->have_mail)
        return reply(s, "503 5.5.1 nested MAIL command");
    if (strncasecmp(arg, "FROM:", 5) != 0 ||
        (a = path_arg(arg + 5, &params)) == NULL)
        return reply(s, "501 5.5.4 syntax: MAIL FROM:<address>");
    if ((sz = strcasestr(params, "SIZE=")) != NULL &&
        strtoull(sz + 5, NULL, 10) >
            (unsigned long long)s->app->cfg->max_message_size) {
        free(a);
        return reply(s, "552 5.3.4 message larger than %lld bytes",
                     s->app->cfg->max_message_size);
    }
    for (char *c = a; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    s->sender = a;
    s->have_mail = 1;
    reply(s, "250 2.1.0 Ok");
}

/* extension - the +extension of address (malloc'd), or NULL for none */
static char *extension(struct lmtp_sess *s, const char *address)
{
    struct addr a;
    const char *e;

    if (addr_parse(address, strlen(address),
                   s->app->cfg->recipient_delimiter, ADDR_NEED_DOMAIN, &a,
                   &e) < 0 || /* not ADDR_LOWER_LOCAL: keep the case */
        a.ext[0] == '\0')
        return NULL;
    return xstrdup(a.ext);
}

static void cmd_rcpt(struct lmtp_sess *s, const char *arg)
{
    const char *params = "";
    struct lda_result res;
    struct lmtp_rcpt *r;
    char *a;

    if (!s->have_mail)
        return reply(s, "503 5.5.1 MAIL first");
    if (strncasecmp(arg, "TO:", 3) != 0 ||
        (a = path_arg(arg + 3, &params)) == NULL)
        return reply(s, "501 5.5.4 syntax: RCPT TO:<address>");
    if (s->nrcpt >= (size_t)s->app->cfg->lmtp_max_recipients) {
        free(a);
        return reply(s, "452 4.5.3 too many recipients");
    }
    if (s->nrcpt == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        s->rcpts = xreallocarray(s->rcpts, cap, sizeof(*s->rcpts));
        s->cap = cap;
    }
    r = &s->rcpts[s->nrcpt];
    lda_resolve(&s->app->ctx, a, &r->mb, &res);
    if (res.status != LDA_OK) {
        struct lda_status_info inf = lda_status_info(res.status);
        lda_count(res.status);
        log_info("from=<%s> to=<%s> status=%s %s", log_safe_cstr(s->sender),
                 log_safe_cstr(a), inf.dsn, res.text);
        free(a);
        return reply(s, "%d %s %s", inf.smtp_code, inf.dsn, res.text);
    }
    r->address = a;
    r->folder = s->app->cfg->lmtp_extension_folder ? extension(s, a) : NULL;
    s->nrcpt++;
    reply(s, "250 2.1.5 Ok");
}

static void cmd_data(struct lmtp_sess *s)
{
    const struct lda_config *cfg = s->app->cfg;

    if (!s->have_mail)
        return reply(s, "503 5.5.1 MAIL first");
    if (s->nrcpt == 0)
        return reply(s, "554 5.5.1 no valid recipients");
    lda_msg_init(s->msg, (unsigned long long)cfg->max_message_size,
                 (size_t)cfg->spool_memory, cfg->temp_dir);
    s->in_data = 1;
    s->data_bol = 1;
    reply(s, "354 go ahead, end with <CRLF>.<CRLF>");
}

static void command(struct lmtp_sess *s, char *line)
{
    char *arg = line;

    while (*arg && *arg != ' ')
        arg++;
    if (*arg)
        *arg++ = '\0';
    if (!strcasecmp(line, "LHLO")) {
        reset_txn(s);
        s->greeted = 1;
        reply(s, "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
                 "250-8BITMIME\r\n250 SIZE %lld",
              s->app->ctx.hostname, s->app->cfg->max_message_size);
    } else if (!strcasecmp(line, "MAIL")) {
        cmd_mail(s, arg);
    } else if (!strcasecmp(line, "RCPT")) {
        cmd_rcpt(s, arg);
    } else if (!strcasecmp(line, "DATA")) {
        cmd_data(s);
    } else if (!strcasecmp(line, "RSET")) {
        reset_txn(s);
        reply(s, "250 2.0.0 Ok");
    } else if (!strcasecmp(line, "NOOP")) {
        reply(s, "250 2.0.0 Ok");
    } else if (!strcasecmp(line, "VRFY")) {
        reply(s, "252 2.5.0 cannot verify");
    } else if (!strcasecmp(line, "QUIT")) {
        reply(s, "221 2.0.0 bye");
        conn_close_after_write(s->c);
    } else if (!strcasecmp(line, "HELO") || !strcasecmp(line, "EHLO")) {
        reply(s, "500 5.5.1 this is LMTP: use LHLO");
    } else {
        reply(s, "500 5.5.1 unknown command");
    }
}

/* data - consume DATA lines from buf; bytes used. */
static size_t data(struct lmtp_sess *s, const char *buf, size_t len)
{
    size_t used = 0;

    while (s->in_data && used < len) {
        const char *p = buf + used, *nl = memchr(p, '\n', len - used);
        size_t n = nl ? (size_t)(nl - p + 1) : len - used;
        if (nl == NULL && n < LMTP_CHUNK)
            break; /* wait for the rest of the line */
        if (s->data_bol && nl && ((n == 2 && p[0] == '.') ||
                                  (n == 3 && p[0] == '.' && p[1] == '\r'))) {
            used += n;
            end_of_data(s);
            break;
        }
        used += n;
        if (s->data_bol && p[0] == '.')
            p++, n--;
        lda_msg_feed(s->msg, p, n);
        s->data_bol = nl != NULL;
    }
    return used;
}

static ssize_t lmtp_input(struct conn *c, void *ctx, const char *buf,
                          size_t len)
{
    struct lmtp_sess *s = ctx;
    size_t used = 0;
    char line[LMTP_LINE_MAX + 1];

    (void)c;
    while (used < len) {
        const char *p = buf + used, *nl;
        size_t n;
        if (s->in_data) {
            size_t d = data(s, p, len - used);
            if (d == 0)
                break;
            used += d;
            continue;
        }
        if ((nl = memchr(p, '\n', len - used)) == NULL) {
            if (len - used > LMTP_LINE_MAX) {
                reply(s, "500 5.5.2 line too long");
                conn_close_after_write(s->c);
                return (ssize_t)len;
            }
            break;
        }
        n = (size_t)(nl - p);
        used += n + 1;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > LMTP_LINE_MAX) {
            reply(s, "500 5.5.2 line too long");
            continue;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        command(s, line);
    }
    return (ssize_t)used;
}

/* --- the worker processes ------------------------------------------------ */

/* spawn - start the worker of slot: 1 in the new worker (which goes on in
   the caller's event loop, now its own), 0 in the master */
static int spawn(struct lmtp_app *app, int slot)
{
    pid_t pid;

    app->busy[slot] = 0; /* before the worker may set it */
    if ((pid = server_fork(app->srv)) < 0) {
        log_error("lmtp: cannot start a worker process: %s (trying again "
                  "in a second)", strerror(errno));
        return 0;
    }
    if (pid > 0) {
        app->pids[slot] = pid;
        app->born[slot] = clock_ms();
        return 0;
    }
    app->worker = 1;
    app->slot = slot;
    /* after the privilege drop, which would clear it */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != app->master) {
        log_error("lmtp: worker: the master process is gone");
        _exit(1);
    }
    server_set_accepting(app->srv, 1);
    return 1;
}

/* reap - collect dead workers, log how they ended, free their slots */
static void reap(struct lmtp_app *app, long long now)
{
    pid_t pid;
    int st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        int i = 0;
        while (i < app->nprocs && app->pids[i] != pid)
            i++;
        if (i == app->nprocs)
            continue;
        app->pids[i] = 0;
        app->busy[i] = 0;
        app->restart_at[i] = 0;
        if (WIFSIGNALED(st))
            log_error("lmtp: worker process %ld killed by signal %d; its "
                      "connection, if it had one, closed without a final "
                      "reply (the client retries)", (long)pid, WTERMSIG(st));
        else if (WEXITSTATUS(st) != 0)
            log_error("lmtp: worker process %ld exited with status %d",
                      (long)pid, WEXITSTATUS(st));
        else
            log_info("lmtp: worker process %ld exited", (long)pid);
        if (now - app->born[i] < LMTP_RESPAWN_MIN_MS) {
            app->restart_at[i] = now + LMTP_RESPAWN_THROTTLE_MS;
            log_warn("lmtp: worker process %ld lived %lld ms: starting the "
                     "next one in %d s", (long)pid, now - app->born[i],
                     LMTP_RESPAWN_THROTTLE_MS / 1000);
        }
    }
}

/* lmtp_tick - master: replace dead workers, report when all are busy */
static void lmtp_tick(void *appp)
{
    struct lmtp_app *app = appp;
    long long now = clock_ms();
    unsigned long held;
    int nbusy = 0;

    if (app->worker)
        return;
    reap(app, now);
    for (int i = 0; i < app->nprocs; i++) {
        if (app->pids[i] == 0 && now >= app->restart_at[i] &&
            spawn(app, i))
            return; /* the new worker */
        nbusy += app->pids[i] != 0 && app->busy[i];
    }
    if (nbusy == app->nprocs &&
        log_limit_ok(&app->busy_log, now, LMTP_BUSY_LOG_MS, &held))
        log_warn("lmtp: all %d worker processes are busy: new connections "
                 "wait until one is free (lmtp_max_processes; %lu times "
                 "since the last report)", app->nprocs, held + 1);
}

void *lda_lmtp_init(void *cfgp, struct server *srv, struct str *err)
{
    struct lda_config *cfg = cfgp;
    struct lmtp_app *app = xcalloc(1, sizeof(*app));
    void *busy;

    lda_metrics_register();
    app->cfg = cfg;
    app->srv = srv;
    app->nprocs = (int)cfg->lmtp_max_processes;
    /* opened before the privilege drop: the password file is read here,
       the connection is made by each worker at its first lookup; lookup =
       maps needs no database */
    if (cfg->lookup == LDA_LOOKUP_SQL &&
        (app->db = db_open(&cfg->db, err)) == NULL) {
        free(app);
        return NULL;
    }
    busy = mmap(NULL, (size_t)app->nprocs * sizeof(int),
                PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (busy == MAP_FAILED) {
        str_appendf(err, "lmtp: shared memory: %s", strerror(errno));
        db_close(app->db);
        free(app);
        return NULL;
    }
    app->busy = busy;
    app->pids = xcalloc((size_t)app->nprocs, sizeof(*app->pids));
    app->born = xcalloc((size_t)app->nprocs, sizeof(*app->born));
    app->restart_at = xcalloc((size_t)app->nprocs, sizeof(*app->restart_at));
    lda_ctx_init(&app->ctx, cfg, app->db);
    server_set_accepting(srv, 0); /* the master accepts nothing */
    return app;
}

/* lda_lmtp_start - after the privilege drop: the master starts the workers
   (each returns from here into the event loop as a worker) */
int lda_lmtp_start(void *appp, struct str *err)
{
    struct lmtp_app *app = appp;

    (void)err;
    app->master = getpid();
    for (int i = 0; i < app->nprocs; i++)
        if (spawn(app, i))
            return 0;
    log_info("lmtp: %d worker processes, one connection each",
             app->nprocs);
    return 0;
}

void *lda_lmtp_reconfigure(void *appp, void *newcfg)
{
    struct lmtp_app *app = appp;
    struct str err = STR_INIT;
    struct lda_config *ncfg = newcfg;
    struct db *db = NULL;
    void *old = app->cfg;

    if (!app->worker) { /* each worker reloads its own */
        if (ncfg->lmtp_max_processes != app->nprocs)
            log_warn("lmtp_max_processes %lld: takes effect after a restart "
                     "(%d worker processes now)", ncfg->lmtp_max_processes,
                     app->nprocs);
        for (int i = 0; i < app->nprocs; i++)
            if (app->pids[i] > 0)
                kill(app->pids[i], SIGHUP);
    }
    if (ncfg->lookup == LDA_LOOKUP_SQL &&
        (db = db_open(&ncfg->db, &err)) == NULL) {
        log_error("reload: database: %s (keeping the old settings)",
                  str_cstr(&err));
        str_free(&err);
        return newcfg;
    }
    db_close(app->db);
    app->db = db;
    app->cfg = newcfg;
    lda_ctx_init(&app->ctx, app->cfg, db);
    str_free(&err);
    return old;
}

void lda_lmtp_fini(void *appp)
{
    struct lmtp_app *app = appp;

    if (!app->worker) {
        /* each finishes the delivery it is in, then stops */
        for (int i = 0; i < app->nprocs; i++)
            if (app->pids[i] > 0)
                kill(app->pids[i], SIGTERM);
        for (int i = 0; i < app->nprocs; i++)
            while (app->pids[i] > 0 && waitpid(app->pids[i], NULL, 0) < 0 &&
                   errno == EINTR)
                ;
    }
    munmap((void *)app->busy, (size_t)app->nprocs * sizeof(int));
    free(app->pids);
    free(app->born);
    free(app->restart_at);
    db_close(app->db);
    free(app);
}

const struct server_ops lda_lmtp_ops = {lmtp_open, lmtp_input, lmtp_close,
                                        lmtp_tick, NULL, NULL};
