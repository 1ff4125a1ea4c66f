/*
 * db - MariaDB access layer.  See db.h.
 *
 * Transaction control (START TRANSACTION, COMMIT, ROLLBACK) is constant
 * text sent with mysql_real_query; every statement with data is prepared.
 *
 * Diagnostics: every failure is returned as LK_TEMP with a message in *err
 * naming the host and the server's error; nothing is logged here.
 */
#include "db.h"
#include "mem.h"
#include "file.h"
#include "clock.h"
#include "metrics.h"

#include <errno.h>
#include <mysql.h>
#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_RETRIES 3          /* re-runs after a deadlock / gone connection */
#define DB_INITIAL_VALUE 256  /* first buffer per result column */
#define DB_PASSWORD_MAX 256

#define ER_LOCK_WAIT_TIMEOUT_ 1205
#define ER_LOCK_DEADLOCK_ 1213
#define ER_STATEMENT_TIMEOUT_ 1969
#define ER_WSREP_NOT_READY_ 1047 /* ER_UNKNOWN_COM_ERROR, as Galera uses it */

struct db_host {
    char host[256];   /* host name/address, or "" for a unix socket */
    char socket[256]; /* unix socket path, or "" */
    unsigned port;
};

struct db_stmt {
    const char *sql; /* identity: address of the caller's SQL text */
    char *text;      /* ... and a copy of the text it had */
    MYSQL_STMT *stmt;
    unsigned long used; /* for eviction */
};

enum db_tx { TX_NONE, TX_OPEN, TX_FAILED };

struct db {
    struct db_config cfg; /* copies of the strings we need */
    char password[DB_PASSWORD_MAX];
    struct db_host hosts[DB_HOSTS_MAX];
    int nhosts;
    int cur;               /* index of the host in use or to try next */
    MYSQL *conn;
    long long down_until;  /* ms: no connect attempt before this */
    struct db_stmt stmts[DB_STMT_CACHE_MAX];
    unsigned long clock;
    char host_label[300];
    enum db_tx tx;         /* inside db_begin .. db_commit/db_rollback */
    int last_retryable;    /* see db_retryable() */
    char audit_init[DB_AUDIT_USER_MAX + 32]; /* "SET @postern_user = '...'" */
};

void db_global_init(void)
{
    mysql_library_init(0, NULL, NULL);
}

void db_thread_init(void)
{
    mysql_thread_init();
}

void db_thread_end(void)
{
    mysql_thread_end();
}

static int parse_host(const char *item, struct db_host *h, struct str *err)
{
    const char *colon;
    char *end;
    long port = 3306;
    size_t n;

    memset(h, 0, sizeof(*h));
    if (!strncmp(item, "unix:", 5)) {
        if (strlen(item + 5) >= sizeof(h->socket) || item[5] == '\0')
            return str_appendf(err, "bad database socket '%s'", item), -1;
        strcpy(h->socket, item + 5);
        strcpy(h->host, "localhost");
        return 0;
    }
    if (item[0] == '[') {
        const char *rb = strchr(item, ']');
        if (rb == NULL)
            return str_appendf(err, "bad database host '%s'", item), -1;
        n = (size_t)(rb - item - 1);
        colon = rb[1] == ':' ? rb + 1 : NULL;
        item++;
    } else {
        colon = strrchr(item, ':');
        n = colon ? (size_t)(colon - item) : strlen(item);
    }
    if (n == 0 || n >= sizeof(h->host))
        return str_appendf(err, "bad database host '%s'", item), -1;
    memcpy(h->host, item, n);
    h->host[n] = '\0';
    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || *end || port < 1 || port > 65535)
            return str_appendf(err, "bad database port in '%s'", item), -1;
    }
    h->port = (unsigned)port;
    return 0;
}

struct db *db_open(const struct db_config *cfg, struct str *err)
{
    struct db *db = xcalloc(1, sizeof(*db));
    const char *cur = cfg->hosts;
    char item[300];
    int r;

    db->cfg = *cfg;
    db->cfg.hosts = db->cfg.password_file = NULL;
    db->cfg.name = xstrdup(cfg->name);
    db->cfg.user = xstrdup(cfg->user);
    while ((r = cfg_list_next(&cur, item, sizeof(item))) != 0) {
        if (r < 0 || db->nhosts == DB_HOSTS_MAX) {
            str_appendf(err, "database hosts: too many or too long");
            goto fail;
        }
        if (parse_host(item, &db->hosts[db->nhosts], err) < 0)
            goto fail;
        db->nhosts++;
    }
    if (db->nhosts == 0) {
        str_appendf(err, "database hosts: empty list");
        goto fail;
    }
    if (cfg->password_file && cfg->password_file[0]) {
        struct str pw = STR_INIT;
        int prc = file_read("database password file", cfg->password_file,
                            sizeof(db->password) - 2, FILE_STRIP_NEWLINES,
                            &pw, err);
        if (prc == 0)
            memcpy(db->password, str_cstr(&pw), pw.len + 1);
        str_wipe(&pw);
        if (prc < 0)
            goto fail;
    }
    return db;
fail:
    db_close(db);
    return NULL;
}

static void db_disconnect(struct db *db)
{
    for (int i = 0; i < DB_STMT_CACHE_MAX; i++) {
        if (db->stmts[i].stmt)
            mysql_stmt_close(db->stmts[i].stmt);
        db->stmts[i].stmt = NULL;
        db->stmts[i].sql = NULL;
        free(db->stmts[i].text);
        db->stmts[i].text = NULL;
    }
    if (db->conn)
        mysql_close(db->conn);
    db->conn = NULL;
    db->host_label[0] = '\0';
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    db_disconnect(db);
    free(db->cfg.name);
    free(db->cfg.user);
    memset(db->password, 0, sizeof(db->password));
    free(db);
}

int db_set_audit_user(struct db *db, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > DB_AUDIT_USER_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._@+-") != len)
        return -1;
    snprintf(db->audit_init, sizeof(db->audit_init),
             "SET @postern_user = '%s'", name);
    return 0;
}

const char *db_current_host(const struct db *db)
{
    return db->host_label;
}

static MYSQL *connect_one(struct db *db, const struct db_host *h,
                          struct str *err)
{
    unsigned ct = (unsigned)((db->cfg.connect_timeout + 999) / 1000);
    unsigned qt = (unsigned)((db->cfg.query_timeout + 999) / 1000);
    char init[96];
    my_bool off = 0;
    MYSQL *m = mysql_init(NULL);

    if (m == NULL)
        return str_appendf(err, "out of memory"), NULL;
    snprintf(init, sizeof(init), "SET SESSION max_statement_time=%.3f",
             (double)db->cfg.query_timeout / 1000.0);
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &qt);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &qt);
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m, MYSQL_INIT_COMMAND, init);
    if (db->audit_init[0]) /* a second init command, run after the first */
        mysql_options(m, MYSQL_INIT_COMMAND, db->audit_init);
    if (h->socket[0]) {
        unsigned proto = MYSQL_PROTOCOL_SOCKET;
        mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
    }
    if (mysql_real_connect(m, h->host, db->cfg.user, db->password,
                           db->cfg.name, h->port,
                           h->socket[0] ? h->socket : NULL, 0) == NULL) {
        str_appendf(err, "%s%s:%u: %s; ", h->socket[0] ? "unix:" : "",
                    h->socket[0] ? h->socket : h->host, h->port,
                    mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

/* db_connect - connect to the first host that answers, from db->cur on. */
static int db_connect(struct db *db, struct str *err)
{
    long long now = clock_ms();

    if (db->conn)
        return 0;
    if (now < db->down_until)
        return str_appendf(err, "database unavailable (no host answered; "
                           "next attempt in %lld ms)", db->down_until - now),
               LK_TEMP;
    for (int i = 0; i < db->nhosts; i++) {
        struct db_host *h = &db->hosts[db->cur];
        if ((db->conn = connect_one(db, h, err)) != NULL) {
            snprintf(db->host_label, sizeof(db->host_label), "%s%s:%u",
                     h->socket[0] ? "unix:" : "",
                     h->socket[0] ? h->socket : h->host, h->port);
            str_reset(err);
            return 0;
        }
        db->cur = (db->cur + 1) % db->nhosts;
        if (db->nhosts > 1)
            metrics_inc(metrics_db_failovers, NULL);
    }
    db->down_until = clock_ms() + db->cfg.retry_interval;
    metrics_inc(metrics_db_errors, METRICS_L("connect"));
    str_appendf(err, "no database host answered");
    return LK_TEMP;
}

/* A failure that means the connection is unusable: drop it, move on. */
static void db_fail_over(struct db *db)
{
    metrics_inc(metrics_db_failovers, NULL);
    db_disconnect(db);
    db->cur = (db->cur + 1) % db->nhosts;
}

/* is_conn_error - the connection is unusable (lost, killed, closed), or
   its server cannot serve it: a Galera node outside the primary component
   (cut off, or still joining) answers every statement with 1047 "WSREP has
   not yet prepared node for application use" until it is back, however
   long that takes; the next host in the list can (tests/galera). */
static int is_conn_error(unsigned e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
           e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
           e == CR_COMMANDS_OUT_OF_SYNC || e == 1927 /* connection killed */ ||
           e == 1053 /* server shutdown in progress */ ||
           e == 4031 /* disconnected for inactivity */ ||
           e == ER_WSREP_NOT_READY_;
}

/* is_retryable - the one list of error numbers after which the same work
   may succeed when run again: a lost connection, a deadlock (InnoDB has
   rolled the whole transaction back; Galera reports a certification
   failure the same way) or a lock wait timeout.  Outside a transaction
   run() re-runs the statement; inside one the owner re-runs all of it. */
static int is_retryable(unsigned e)
{
    return is_conn_error(e) || e == ER_LOCK_DEADLOCK_ ||
           e == ER_LOCK_WAIT_TIMEOUT_;
}

int db_retryable(const struct db *db)
{
    return db->last_retryable;
}

static MYSQL_STMT *stmt_get(struct db *db, const char *sql, unsigned *errnum,
                            struct str *err)
{
    struct db_stmt *slot = NULL, *oldest = &db->stmts[0];

    for (int i = 0; i < DB_STMT_CACHE_MAX; i++) {
        struct db_stmt *s = &db->stmts[i];
        if (s->stmt && s->sql == sql) {
            if (strcmp(s->text, sql) == 0) {
                s->used = ++db->clock;
                return s->stmt;
            }
            slot = s; /* other text at the same address: prepare again */
            break;
        }
        if (s->stmt == NULL && slot == NULL)
            slot = s;
        if (s->used < oldest->used)
            oldest = s;
    }
    if (slot == NULL)
        slot = oldest;
    if (slot->stmt) {
        mysql_stmt_close(slot->stmt);
        slot->stmt = NULL;
    }
    free(slot->text);
    slot->text = NULL;
    if ((slot->stmt = mysql_stmt_init(db->conn)) == NULL)
        return str_appendf(err, "out of memory"), NULL;
    if (mysql_stmt_prepare(slot->stmt, sql, strlen(sql)) != 0) {
        *errnum = mysql_stmt_errno(slot->stmt);
        str_appendf(err, "prepare on %s: %s", db->host_label,
                    mysql_stmt_error(slot->stmt));
        mysql_stmt_close(slot->stmt);
        slot->stmt = NULL;
        return NULL;
    }
    slot->sql = sql;
    slot->text = xstrdup(sql);
    slot->used = ++db->clock;
    return slot->stmt;
}

static int bind_params(MYSQL_STMT *st, const struct db_param *params,
                       size_t n, MYSQL_BIND *b, unsigned long *lens,
                       my_bool *nulls, struct str *err)
{
    if (n > DB_PARAMS_MAX || mysql_stmt_param_count(st) != n)
        return str_appendf(err, "statement wants %lu parameters, got %zu",
                           mysql_stmt_param_count(st), n), -1;
    memset(b, 0, n * sizeof(*b));
    for (size_t i = 0; i < n; i++) {
        nulls[i] = params[i].type == DBP_NULL;
        b[i].is_null = &nulls[i];
        if (params[i].type == DBP_INT) {
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)&params[i].i;
        } else {
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer = (void *)(params[i].s ? params[i].s : "");
            lens[i] = (unsigned long)params[i].len;
            b[i].buffer_length = lens[i];
            b[i].length = &lens[i];
        }
    }
    if (n && mysql_stmt_bind_param(st, b) != 0)
        return str_appendf(err, "bind: %s", mysql_stmt_error(st)), -1;
    return 0;
}

struct db_rowbuf {
    unsigned ncols;
    MYSQL_BIND b[DB_COLS_MAX];
    unsigned long lens[DB_COLS_MAX];
    my_bool nulls[DB_COLS_MAX], errs[DB_COLS_MAX];
    char *bufs[DB_COLS_MAX];
    unsigned long caps[DB_COLS_MAX];
    char *vals[DB_COLS_MAX];
};

static void rowbuf_free(struct db_rowbuf *rb)
{
    for (unsigned i = 0; i < rb->ncols; i++)
        free(rb->bufs[i]);
}

static int rowbuf_bind(MYSQL_STMT *st, struct db_rowbuf *rb, struct str *err)
{
    memset(rb, 0, sizeof(*rb));
    rb->ncols = mysql_stmt_field_count(st);
    if (rb->ncols > DB_COLS_MAX)
        return str_appendf(err, "more than %d result columns", DB_COLS_MAX),
               -1;
    for (unsigned i = 0; i < rb->ncols; i++) {
        rb->caps[i] = DB_INITIAL_VALUE;
        rb->bufs[i] = xmalloc(rb->caps[i] + 1);
        rb->b[i].buffer_type = MYSQL_TYPE_STRING;
        rb->b[i].buffer = rb->bufs[i];
        rb->b[i].buffer_length = rb->caps[i];
        rb->b[i].length = &rb->lens[i];
        rb->b[i].is_null = &rb->nulls[i];
        rb->b[i].error = &rb->errs[i];
    }
    if (rb->ncols && mysql_stmt_bind_result(st, rb->b) != 0)
        return str_appendf(err, "bind result: %s", mysql_stmt_error(st)), -1;
    return 0;
}

/* rowbuf_complete - fetch truncated columns in full; NUL-terminate. */
static int rowbuf_complete(MYSQL_STMT *st, struct db_rowbuf *rb,
                           struct str *err)
{
    int grown = 0;
    for (unsigned i = 0; i < rb->ncols; i++) {
        if (rb->nulls[i]) {
            rb->vals[i] = NULL;
            continue;
        }
        if (rb->lens[i] > rb->caps[i]) {
            MYSQL_BIND one = rb->b[i];
            char *p;
            if (rb->lens[i] > DB_VALUE_MAX)
                return str_appendf(err, "result value over %u bytes",
                                   DB_VALUE_MAX), -1;
            if ((p = realloc(rb->bufs[i], rb->lens[i] + 1)) == NULL)
                return str_appendf(err, "out of memory"), -1;
            rb->bufs[i] = p;
            rb->caps[i] = rb->lens[i];
            one.buffer = p;
            one.buffer_length = rb->caps[i];
            if (mysql_stmt_fetch_column(st, &one, i, 0) != 0)
                return str_appendf(err, "fetch column: %s",
                                   mysql_stmt_error(st)), -1;
            rb->b[i].buffer = p;
            rb->b[i].buffer_length = rb->caps[i];
            grown = 1;
        }
        rb->bufs[i][rb->lens[i]] = '\0';
        rb->vals[i] = rb->bufs[i];
    }
    /* bind the grown buffers for the next rows only now: binding anew
       forgets where this row's columns are, and a later truncated column
       of the same row would be fetched from nowhere */
    if (grown)
        mysql_stmt_bind_result(st, rb->b);
    return 0;
}

/* run_once - one attempt; returns LK_FOUND/LK_NOTFOUND/LK_TEMP, *conn_err
   set when the connection failed before the statement was sent (retryable)
   or lost (retryable only for reads). */
static int run_once(struct db *db, const char *sql,
                    const struct db_param *params, size_t nparams,
                    db_row_fn fn, void *ctx, unsigned long long *affected,
                    unsigned *errnum, struct str *err)
{
    MYSQL_BIND pb[DB_PARAMS_MAX];
    unsigned long plens[DB_PARAMS_MAX];
    my_bool pnulls[DB_PARAMS_MAX];
    struct db_rowbuf rb;
    MYSQL_STMT *st;
    int rc, found = LK_NOTFOUND, stop = 0;

    *errnum = 0;
    db->last_retryable = 0;
    if (db_connect(db, err) < 0) {
        db->last_retryable = 1; /* no host answered */
        return LK_TEMP;
    }
    if ((st = stmt_get(db, sql, errnum, err)) == NULL)
        return LK_TEMP;
    if (bind_params(st, params, nparams, pb, plens, pnulls, err) < 0)
        return LK_TEMP;
    if (mysql_stmt_execute(st) != 0) {
        metrics_inc(metrics_db_errors, METRICS_L("query"));
        *errnum = mysql_stmt_errno(st);
        str_appendf(err, "%s: %s", db->host_label, mysql_stmt_error(st));
        return LK_TEMP;
    }
    if (affected)
        *affected = mysql_stmt_affected_rows(st);
    if (mysql_stmt_field_count(st) == 0)
        return LK_NOTFOUND;
    if (rowbuf_bind(st, &rb, err) < 0) {
        rowbuf_free(&rb);
        mysql_stmt_free_result(st);
        mysql_stmt_reset(st);
        return LK_TEMP;
    }
    while (!stop && (rc = mysql_stmt_fetch(st)) != MYSQL_NO_DATA) {
        if (rc == 1) {
            metrics_inc(metrics_db_errors, METRICS_L("query"));
            *errnum = mysql_stmt_errno(st);
            str_appendf(err, "%s: fetch: %s", db->host_label,
                        mysql_stmt_error(st));
            found = LK_TEMP;
            break;
        }
        if (rowbuf_complete(st, &rb, err) < 0) {
            found = LK_TEMP;
            break;
        }
        found = LK_FOUND;
        if (fn && fn(ctx, rb.ncols, rb.vals, rb.lens) != 0)
            stop = 1;
    }
    rowbuf_free(&rb);
    mysql_stmt_free_result(st);
    if (stop || found == LK_TEMP)
        mysql_stmt_reset(st);
    return found;
}

/* run_in_tx - one statement inside a transaction: one attempt, no
   reconnection; a failure fails the whole transaction. */
static int run_in_tx(struct db *db, const char *sql,
                     const struct db_param *params, size_t nparams,
                     db_row_fn fn, void *ctx, unsigned long long *affected,
                     struct str *err)
{
    unsigned e;
    int rc;

    if (db->tx == TX_FAILED || db->conn == NULL) {
        db->tx = TX_FAILED;
        return str_appendf(err, "the transaction failed before this "
                           "statement (roll back and run it again)"),
               LK_TEMP;
    }
    rc = run_once(db, sql, params, nparams, fn, ctx, affected, &e, err);
    if (rc == LK_TEMP) {
        db->tx = TX_FAILED;
        db->last_retryable = is_retryable(e);
        if (is_conn_error(e))
            db_fail_over(db); /* the server has dropped the transaction */
    } else if (!(db->conn->server_status & SERVER_STATUS_IN_TRANS)) {
        /* The statement succeeded, but outside our transaction: a Galera
           node aborts a local transaction that conflicts with a replicated
           one (brute-force abort) and, seen with MariaDB 10.11 and
           prepared statements, runs the client's next statement in
           autocommit mode without an error.  What we read before is stale
           and our locks are gone: fail the transaction so that its owner
           runs it again as a whole (tests/galera). */
        str_appendf(err, "%s: the server ended the transaction (aborted "
                    "by a conflicting replicated one)", db->host_label);
        db->tx = TX_FAILED;
        db->last_retryable = 1;
        rc = LK_TEMP;
    }
    return rc;
}

static int run(struct db *db, const char *sql, const struct db_param *params,
               size_t nparams, db_row_fn fn, void *ctx,
               unsigned long long *affected, int is_read, struct str *err)
{
    unsigned e;
    int rc, conn_retries = 0;

    if (db->tx != TX_NONE)
        return run_in_tx(db, sql, params, nparams, fn, ctx, affected, err);
    for (int attempt = 0;; attempt++) {
        size_t mark = err->len;
        rc = run_once(db, sql, params, nparams, fn, ctx, affected, &e, err);
        if (rc == LK_TEMP && e != 0)
            db->last_retryable = is_retryable(e);
        if (rc != LK_TEMP || e == 0 || attempt >= DB_RETRIES)
            return rc;
        if (is_conn_error(e)) {
            /* A gone connection (a restarted or failed server): retry once
               on the next host.  A write only when the server cannot have
               run it (gone before sending, or refused by a Galera node
               outside the primary component).  Once only, so a slow server
               costs one timeout, not several. */
            db_fail_over(db);
            if (conn_retries++ > 0 ||
                (!is_read && e != CR_SERVER_GONE_ERROR &&
                 e != ER_WSREP_NOT_READY_))
                return rc;
        } else if (e != ER_LOCK_DEADLOCK_ && e != ER_LOCK_WAIT_TIMEOUT_) {
            return rc; /* a statement error: retrying will not help */
        }
        str_truncate(err, mark);
    }
}

int db_query(struct db *db, const char *sql, const struct db_param *params,
             size_t nparams, db_row_fn fn, void *ctx, struct str *err)
{
    return run(db, sql, params, nparams, fn, ctx, NULL, 1, err);
}

int db_exec(struct db *db, const char *sql, const struct db_param *params,
            size_t nparams, unsigned long long *affected, struct str *err)
{
    int rc = run(db, sql, params, nparams, NULL, NULL, affected, 0, err);

    return rc == LK_TEMP ? LK_TEMP : 0;
}

/* tx_start - send the transaction-opening statements; 0 or LK_TEMP. */
static int tx_start(struct db *db, const char *const *sqls, size_t n,
                    struct str *err)
{
    if (db->tx != TX_NONE) {
        db_rollback(db);
        db->last_retryable = 0;
        return str_appendf(err, "begin: the previous transaction was "
                           "neither committed nor rolled back"), LK_TEMP;
    }
    for (int attempt = 0;; attempt++) {
        size_t mark = err->len, i;
        unsigned e = 0;
        if (db_connect(db, err) < 0) {
            db->last_retryable = 1;
            return LK_TEMP;
        }
        for (i = 0; i < n && e == 0; i++)
            if (mysql_real_query(db->conn, sqls[i], strlen(sqls[i])) != 0)
                e = mysql_errno(db->conn);
        if (e == 0) {
            db->tx = TX_OPEN;
            return 0;
        }
        str_appendf(err, "%s: begin: %s", db->host_label,
                    mysql_error(db->conn));
        db->last_retryable = is_retryable(e);
        if (!is_conn_error(e)) {
            if (mysql_real_query(db->conn, "ROLLBACK", 8) != 0)
                db_fail_over(db);
            return LK_TEMP;
        }
        /* gone before anything was done (idle timeout, restarted server):
           once more, on the next host */
        db_fail_over(db);
        if (attempt > 0)
            return LK_TEMP;
        str_truncate(err, mark);
    }
}

int db_begin(struct db *db, struct str *err)
{
    static const char *const sqls[] = {"START TRANSACTION"};

    return tx_start(db, sqls, 1, err);
}

int db_begin_snapshot(struct db *db, struct str *err)
{
    /* WITH CONSISTENT SNAPSHOT means something only in REPEATABLE READ;
       the SET applies to the next transaction only */
    static const char *const sqls[] = {
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"};

    return tx_start(db, sqls, 2, err);
}

int db_commit(struct db *db, struct str *err)
{
    unsigned e;

    if (db->tx == TX_NONE) {
        db->last_retryable = 0;
        return str_appendf(err, "commit: no transaction open"), LK_TEMP;
    }
    if (db->tx == TX_FAILED || db->conn == NULL) {
        db->tx = TX_FAILED;
        return str_appendf(err, "commit refused: the transaction failed "
                           "(roll back and run it again)"), LK_TEMP;
    }
    if (mysql_real_query(db->conn, "COMMIT", 6) == 0) {
        db->tx = TX_NONE;
        return 0;
    }
    e = mysql_errno(db->conn);
    str_appendf(err, "%s: commit: %s", db->host_label, mysql_error(db->conn));
    db->tx = TX_FAILED;
    db->last_retryable = is_retryable(e);
    if (is_conn_error(e))
        db_fail_over(db);
    return LK_TEMP;
}

/* savepoint_query - a SAVEPOINT statement of the open transaction (text
   protocol, as COMMIT); 0, or LK_TEMP and the transaction failed */
static int savepoint_query(struct db *db, const char *q, struct str *err)
{
    unsigned e;

    if (mysql_real_query(db->conn, q, strlen(q)) == 0)
        return 0;
    e = mysql_errno(db->conn);
    str_appendf(err, "%s: %s: %s", db->host_label, q, mysql_error(db->conn));
    db->tx = TX_FAILED;
    db->last_retryable = is_retryable(e);
    if (is_conn_error(e))
        db_fail_over(db);
    return LK_TEMP;
}

int db_savepoint(struct db *db, struct str *err)
{
    if (db->tx != TX_OPEN || db->conn == NULL) {
        db->tx = db->tx == TX_NONE ? TX_NONE : TX_FAILED;
        return str_appendf(err, "savepoint: no open transaction"), LK_TEMP;
    }
    return savepoint_query(db, "SAVEPOINT postern_item", err);
}

int db_rollback_savepoint(struct db *db, struct str *err)
{
    if (db->tx == TX_OPEN)
        return 0;
    if (db->tx != TX_FAILED || db->conn == NULL || db->last_retryable ||
        !(db->conn->server_status & SERVER_STATUS_IN_TRANS))
        return LK_TEMP; /* the server lost or ended the transaction */
    db->tx = TX_OPEN;
    return savepoint_query(db, "ROLLBACK TO SAVEPOINT postern_item", err);
}

void db_rollback(struct db *db)
{
    enum db_tx was = db->tx;

    db->tx = TX_NONE;
    if (db->conn == NULL || was == TX_NONE)
        return;
    if (mysql_real_query(db->conn, "ROLLBACK", 8) != 0)
        db_fail_over(db);
}

int db_transaction(struct db *db, db_tx_fn body, void *ctx, int tries,
                   struct str *err)
{
    for (int attempt = 1;; attempt++) {
        size_t mark = err->len;
        int rc, again;
        if (db_begin(db, err) < 0)
            return LK_TEMP; /* no host, or a gone connection retried once */
        rc = body(db, ctx, err);
        if (rc >= 0) {
            if (db_commit(db, err) == 0)
                return rc;
            rc = LK_TEMP;
        }
        again = db->tx == TX_FAILED && db->last_retryable;
        db_rollback(db);
        if (!again || attempt >= tries)
            return rc;
        str_truncate(err, mark);
    }
}

int db_ping(struct db *db, struct str *err)
{
    if (db->tx != TX_NONE) { /* never a new connection inside one */
        if (db->conn && db->tx == TX_OPEN && mysql_ping(db->conn) == 0)
            return 0;
        if (db->conn) {
            str_appendf(err, "%s: %s", db->host_label, mysql_error(db->conn));
            db_fail_over(db);
        }
        db->tx = TX_FAILED;
        db->last_retryable = 1;
        return LK_TEMP;
    }
    if (db_connect(db, err) < 0)
        return LK_TEMP;
    if (mysql_ping(db->conn) != 0) {
        str_appendf(err, "%s: %s", db->host_label, mysql_error(db->conn));
        db_fail_over(db);
        return db_connect(db, err) < 0 ? LK_TEMP : 0;
    }
    return 0;
}

void db_config_copy(struct db_config *dst, const struct db_config *src)
{
    *dst = *src;
    dst->hosts = xstrdup(src->hosts ? src->hosts : "");
    dst->name = xstrdup(src->name ? src->name : "");
    dst->user = xstrdup(src->user ? src->user : "");
    dst->password_file = xstrdup(src->password_file ? src->password_file : "");
}

void db_config_free(struct db_config *c)
{
    free(c->hosts);
    free(c->name);
    free(c->user);
    free(c->password_file);
    c->hosts = c->name = c->user = c->password_file = NULL;
}

int db_row_exists(void *ctx, unsigned ncols, char **vals,
                  const unsigned long *lens)
{
    (void)ctx;
    (void)ncols;
    (void)vals;
    (void)lens;
    return 1;
}
