/*
 * db - MariaDB access over mariadb-connector-c: prepared statements only,
 * a host list with failover and reconnection, connect/read/write and
 * statement timeouts, and lookups that keep three outcomes apart
 * (lib/lookup.h):
 *
 *   LK_FOUND (1)     at least one row
 *   LK_NOTFOUND (0)  the query ran and returned no row
 *   LK_TEMP (-1)     anything else: no server reachable, timeout, lost
 *                    connection, deadlock after retries, bad statement.
 *                    Callers answer "try again later", never "not found".
 *
 * Hosts: "[database] hosts = db1:3306, db2:3306, unix:/run/mysqld/mysqld.sock".
 * On a failure the connection moves on to the next host (also when a
 * Galera node outside the primary component answers 1047 "WSREP has not
 * yet prepared node for application use"); after every host
 * failed, no new attempt is made for retry_interval (requests get LK_TEMP at
 * once instead of each waiting for a connect timeout).
 *
 * Statements are prepared once per connection and cached (DB_STMT_CACHE_MAX);
 * they are identified by the address and text of the SQL string (SQL built
 * in a reused buffer is prepared again when its text changed).  Parameters
 * are strings (length-counted), integers or NULL.  Result values are handed
 * to a row callback as NUL-terminated strings (NULL for SQL NULL), valid only
 * during the call.
 *
 * Transactions (docs/dev/transactions.md): outside a transaction a
 * statement is re-run after a deadlock, a lock wait timeout or a connection
 * that was gone before it was sent.  Inside one (db_begin ... db_commit)
 * nothing is ever re-run and nothing reconnects: the server has already
 * rolled the transaction back (deadlock) or lost it (connection), so a
 * re-run statement would commit part of the work as if it were whole.
 * The first failing statement returns LK_TEMP and marks the transaction
 * failed; every later statement and db_commit return LK_TEMP without
 * touching the server, until the caller calls db_rollback.  The owner of
 * a transaction runs it again as a whole: db_transaction does that.
 * A statement that succeeded after the server had ended the transaction
 * (a Galera node aborting it for a conflicting replicated one runs the
 * next statement in autocommit mode) fails the transaction the same way;
 * what that statement wrote stays (a rate-limit count too many, never one
 * too few).
 *
 * One struct db is used by one thread at a time.  Call db_global_init()
 * once before starting threads.
 */
#ifndef POSTERN_DB_H
#define POSTERN_DB_H

#include <stddef.h>

#include "config.h"
#include "lookup.h"
#include "str.h"


#define DB_STMT_CACHE_MAX 64  /* prepared statements per connection */
#define DB_PARAMS_MAX 128     /* parameters per statement */
#define DB_COLS_MAX 64        /* result columns per statement */
#define DB_HOSTS_MAX 8        /* hosts in the failover list */
#define DB_VALUE_MAX (16u * 1024 * 1024) /* one result value */

struct db_config {
    char *hosts;
    char *name;
    char *user;
    char *password_file;
    long long connect_timeout; /* ms */
    long long query_timeout;   /* ms: read/write and max_statement_time */
    long long retry_interval;  /* ms */
};

/* The [database] section, for struct db_config at member m of struct T. */
#define DB_CFG_DEFS(T, m)                                                      \
    {"hosts", CFG_STR, "127.0.0.1:3306", 1, 1024, offsetof(T, m.hosts), NULL}, \
    {"name", CFG_STR, "postern", 1, 64, offsetof(T, m.name), NULL},            \
    {"user", CFG_STR, "postern", 1, 80, offsetof(T, m.user), NULL},            \
    {"password_file", CFG_STR, "", 0, 1024, offsetof(T, m.password_file),      \
     NULL},                                                                    \
    {"connect_timeout", CFG_TIME, "2s", 100, 60000,                            \
     offsetof(T, m.connect_timeout), NULL},                                    \
    {"query_timeout", CFG_TIME, "3s", 1000, 600000,                            \
     offsetof(T, m.query_timeout), NULL},                                      \
    {"retry_interval", CFG_TIME, "1s", 0, 60000,                               \
     offsetof(T, m.retry_interval), NULL},                                     \
    {NULL, 0, NULL, 0, 0, 0, NULL}

/* db_config_copy - dst gets its own copies of src's strings (for a thread
   that opens connections later); db_config_free frees them. */
void db_config_copy(struct db_config *dst, const struct db_config *src);
void db_config_free(struct db_config *c);

enum db_param_type { DBP_NULL, DBP_STR, DBP_INT };

struct db_param {
    enum db_param_type type;
    const char *s;
    size_t len;
    long long i;
};

#define DBP_S(str) ((struct db_param){DBP_STR, (str), strlen(str), 0})
#define DBP_SN(str, n) ((struct db_param){DBP_STR, (str), (n), 0})
#define DBP_I(n) ((struct db_param){DBP_INT, NULL, 0, (long long)(n)})
#define DBP_NUL ((struct db_param){DBP_NULL, NULL, 0, 0})

/* Row callback: return 0 to go on, non-zero to stop (the lookup still
   counts as LK_FOUND). */
typedef int (*db_row_fn)(void *ctx, unsigned ncols, char **vals,
                         const unsigned long *lens);

struct db;

void db_global_init(void);
/* db_open - read the password file and prepare (no connection yet). */
struct db *db_open(const struct db_config *cfg, struct str *err);
void db_close(struct db *db);
/* db_thread_init/end - call in every thread that uses a struct db. */
void db_thread_init(void);
void db_thread_end(void);

/* db_row_exists - a db_row_fn that stops at the first row: db_query with
   it answers whether any row matches (LK_FOUND / LK_NOTFOUND / LK_TEMP). */
int db_row_exists(void *ctx, unsigned ncols, char **vals,
                  const unsigned long *lens);

/* db_query - run a SELECT; LK_FOUND / LK_NOTFOUND / LK_TEMP (+ *err). */
int db_query(struct db *db, const char *sql, const struct db_param *params,
             size_t nparams, db_row_fn fn, void *ctx, struct str *err);

/*
 * db_exec - run a statement that changes data; 0 or LK_TEMP.  *affected
 * (may be NULL) gets the affected row count.  Outside a transaction a
 * statement is re-run after a deadlock (Galera certification failure) or a
 * connection that was gone before the statement was sent, never after a
 * connection lost mid-way; inside a transaction never (see above).
 */
int db_exec(struct db *db, const char *sql, const struct db_param *params,
            size_t nparams, unsigned long long *affected, struct str *err);

/*
 * Transactions: 0 or LK_TEMP.  db_begin starts a read-write transaction
 * (START TRANSACTION); db_begin_snapshot a read-only one in which every
 * SELECT sees the same committed state (REPEATABLE READ, START TRANSACTION
 * WITH CONSISTENT SNAPSHOT, READ ONLY), for loading several tables as one.
 * Either connects if needed, and moves to the next host once if the
 * connection turns out to be gone (nothing has been done yet).
 * db_commit refuses (LK_TEMP) a transaction that failed; db_rollback ends
 * any transaction, failed or not, and may be called when none is open.
 * Beginning while a transaction is still open is a bug of the caller: it
 * is rolled back and db_begin returns LK_TEMP.
 */
int db_begin(struct db *db, struct str *err);
int db_begin_snapshot(struct db *db, struct str *err);
int db_commit(struct db *db, struct str *err);
void db_rollback(struct db *db);

/*
 * Savepoints, for a batch of independent items in one transaction (one
 * COMMIT for many): db_savepoint before each item; when a statement of the
 * item failed for a reason of its own (a value the server refuses, a
 * constraint), db_rollback_savepoint undoes the item and the transaction
 * goes on with the next one.  After a retryable failure (connection,
 * deadlock: the server rolled everything back) it returns LK_TEMP and the
 * transaction stays failed: run the whole batch again.  0 or LK_TEMP.
 * One savepoint at a time (a new one replaces the last).
 */
int db_savepoint(struct db *db, struct str *err);
int db_rollback_savepoint(struct db *db, struct str *err);

/*
 * db_retryable - 1 if the last LK_TEMP of this connection came from a
 * failure that running the same work again may cure: no host reachable,
 * a connection lost or killed, a deadlock (or Galera certification
 * failure), a lock wait timeout.  0 for a failure of the statement itself
 * (bad SQL, a value the server refuses, a statement timeout): running it
 * again gives the same answer.
 */
int db_retryable(const struct db *db);

/*
 * db_transaction - run body in a transaction and commit, as a whole up to
 * tries times: begin, body, commit; when the body or the commit fails with
 * a retryable error (db_retryable), roll back and run the body again.  The
 * body returns >= 0 (commit; the value is returned) or < 0 (roll back and
 * give up, unless a database statement failed retryably).  It must be
 * idempotent on its inputs: ctx holds inputs and outputs, and the body
 * sets every output on each run.  Returns the body's value, or < 0 (the
 * body's own value, or LK_TEMP) with *err set; db_retryable() then tells
 * whether the failure was of the passing kind.  After a connection lost
 * during COMMIT the outcome is unknown and the body may have taken effect
 * once before it runs again: bodies are written so that this errs on the
 * safe side (a rate-limit count is added twice, never lost).
 */
typedef int (*db_tx_fn)(struct db *db, void *ctx, struct str *err);
int db_transaction(struct db *db, db_tx_fn body, void *ctx, int tries,
                   struct str *err);

/*
 * db_set_audit_user - every connection this struct db opens from now on
 * (also after a reconnect or a failover) starts with SET @postern_user =
 * 'name', so the audit triggers (sql/migrations/0007_audit.sql) record
 * who made its changes.  For a program's own fixed name
 * ("postern-dirsync"): letters, digits and ._@+- only, at most
 * DB_AUDIT_USER_MAX octets; 0, or -1 (refused, nothing set).
 */
#define DB_AUDIT_USER_MAX 80
int db_set_audit_user(struct db *db, const char *name);

/* db_ping - connect if needed and check the server; 0 or LK_TEMP. */
int db_ping(struct db *db, struct str *err);
/* Which host the connection uses now ("" when disconnected). */
const char *db_current_host(const struct db *db);

#endif
