// needs: mariadb (run by tests/integration/db.sh)
/*
 * test_db - the MariaDB layer against two real servers started by the
 * harness: prepared statements with every parameter type, NULLs, values
 * longer than the first fetch buffer, SQL injection text treated as data,
 * found / not found / temporary failure, failover to the second host when
 * the first dies, and LK_TEMP without delay when every host is down.
 *
 * Transactions (docs/dev/transactions.md): a connection killed in the
 * middle of a transaction and a real deadlock between two connections
 * (a child process) leave nothing partial committed, and no statement of
 * the transaction is re-run outside it; db_transaction runs the whole body
 * again after a retryable failure and not after a statement error; a
 * consistent snapshot does not see a row committed after it began.
 *
 * Environment: H_DB_PORT, H_DB_PID, H_DB2_PORT, H_DB2_PID,
 * H_DB_PASSWORD_FILE (from tests/harness/harness.sh).
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "unit.h"

struct capture {
    int rows;
    char first[4][2048];
    int null0;
};

static int cap_row(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct capture *c = ctx;

    (void)lens;
    if (c->rows++ == 0)
        for (unsigned i = 0; i < ncols && i < 4; i++) {
            if (vals[i] == NULL && i == 0)
                c->null0 = 1;
            snprintf(c->first[i], sizeof(c->first[i]), "%s",
                     vals[i] ? vals[i] : "(null)");
        }
    return 0;
}

static struct db *open_db(const char *hosts)
{
    struct db_config cfg = {(char *)hosts, "postern", "postern",
                            getenv("H_DB_PASSWORD_FILE"), 1000, 2000, 500};
    struct str err = STR_INIT;
    struct db *db = db_open(&cfg, &err);

    if (db == NULL)
        printf("# db_open: %s\n", str_cstr(&err));
    str_free(&err);
    return db;
}

static long long ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char SQL_CREATE[] =
    "CREATE TABLE IF NOT EXISTS t (k VARCHAR(64) PRIMARY KEY, v TEXT NULL, "
    "n BIGINT NULL)";
static const char SQL_DELETE[] = "DELETE FROM t";
static const char SQL_INSERT[] = "INSERT INTO t (k, v, n) VALUES (?, ?, ?)";
static const char SQL_GET[] = "SELECT v, n FROM t WHERE k = ?";
static const char SQL_SERVER[] = "SELECT @@port";

static void setup(struct db *db, const char *label)
{
    struct str err = STR_INIT;
    char big[1500];
    struct db_param p[3];

    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(db_exec(db, SQL_CREATE, NULL, 0, NULL, &err) == 0,
          "%s: create table through a prepared statement %s", label,
          str_cstr(&err));
    CHECK(db_exec(db, SQL_DELETE, NULL, 0, NULL, &err) == 0, "%s: clear", label);
    p[0] = DBP_S("alice");
    p[1] = DBP_S("it's \"quoted\"; DROP TABLE t; --");
    p[2] = DBP_I(42);
    CHECK(db_exec(db, SQL_INSERT, p, 3, NULL, &err) == 0, "%s: insert", label);
    p[0] = DBP_S("nulls");
    p[1] = DBP_NUL;
    p[2] = DBP_NUL;
    CHECK(db_exec(db, SQL_INSERT, p, 3, NULL, &err) == 0, "%s: insert NULLs",
          label);
    p[0] = DBP_S("big");
    p[1] = DBP_S(big);
    p[2] = DBP_I(-1);
    CHECK(db_exec(db, SQL_INSERT, p, 3, NULL, &err) == 0,
          "%s: insert a long value", label);
    str_free(&err);
}

/* --- transactions ----------------------------------------------------- */

static const char SQL_TX_CREATE[] =
    "CREATE TABLE IF NOT EXISTS tx (k VARCHAR(64) PRIMARY KEY, "
    "n BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB";
static const char SQL_TX_PUT[] = "INSERT INTO tx (k) VALUES (?)";
static const char SQL_TX_BUMP[] = "UPDATE tx SET n = n + 1 WHERE k = ?";
static const char SQL_TX_COUNT[] =
    "SELECT COUNT(*) FROM tx WHERE k LIKE CONCAT(?, '%')";
static const char SQL_TX_N[] = "SELECT n FROM tx WHERE k = ?";
static const char SQL_CONN_ID[] = "SELECT CONNECTION_ID()";
static const char SQL_KILL[] = "KILL CONNECTION ?";

/* one_value - the first column of the first row as a number, or -1 */
static long long one_value(struct db *db, const char *sql, const char *arg)
{
    struct str err = STR_INIT;
    struct capture c;
    struct db_param p[1] = {DBP_S(arg ? arg : "")};
    int rc;

    memset(&c, 0, sizeof(c));
    rc = db_query(db, sql, p, arg ? 1 : 0, cap_row, &c, &err);
    if (rc != LK_FOUND)
        printf("# %s: %s\n", sql, str_cstr(&err));
    str_free(&err);
    return rc == LK_FOUND ? atoll(c.first[0]) : -1;
}

/* kill_conn - KILL a connection from another one (a crash, a DBA, a
   Galera node leaving: the server drops the connection and its
   transaction) */
static void kill_conn(struct db *killer, long long id)
{
    struct str err = STR_INIT;
    struct db_param p[1] = {DBP_I(id)};

    if (db_exec(killer, SQL_KILL, p, 1, NULL, &err) < 0)
        printf("# KILL %lld: %s\n", id, str_cstr(&err));
    str_free(&err);
    usleep(50000);
}

/* A killed connection inside a transaction: every later statement and the
   commit fail, nothing reconnects, nothing of the transaction is kept. */
static void tx_killed(struct db *db, struct db *other)
{
    struct str err = STR_INIT;
    struct db_param p[1];
    long long id;
    int rc;

    CHECK(db_begin(db, &err) == 0, "kill: begin %s", str_cstr(&err));
    p[0] = DBP_S("kill-1");
    CHECK(db_exec(db, SQL_TX_PUT, p, 1, NULL, &err) == 0,
          "kill: first insert in the transaction");
    id = one_value(db, SQL_CONN_ID, NULL);
    kill_conn(other, id);
    p[0] = DBP_S("kill-");
    rc = db_query(db, SQL_TX_COUNT, p, 1, NULL, NULL, &err);
    CHECK(rc == LK_TEMP, "kill: a read after the connection was killed is "
          "LK_TEMP, not re-run on a new connection outside the transaction "
          "(rc %d)", rc);
    CHECK(db_retryable(db), "kill: ... and counts as retryable");
    str_reset(&err);
    p[0] = DBP_S("kill-2");
    CHECK(db_exec(db, SQL_TX_PUT, p, 1, NULL, &err) == LK_TEMP,
          "kill: a later write in the failed transaction is refused");
    str_reset(&err);
    CHECK(db_commit(db, &err) == LK_TEMP && err.len > 0,
          "kill: commit is refused: %s", str_cstr(&err));
    str_reset(&err);
    db_rollback(db);
    CHECK(one_value(other, SQL_TX_COUNT, "kill-") == 0,
          "kill: nothing of the transaction was committed (0 of 2 rows)");
    CHECK(one_value(db, SQL_TX_COUNT, "kill-") == 0,
          "kill: after the rollback the connection works again");
    str_free(&err);
}

/* The child of tx_deadlock: the heavier transaction (locks 20 rows, then
   waits for the parent's row), so InnoDB picks the parent as the victim. */
static void deadlock_child(const char *hosts, int ready_fd)
{
    struct str err = STR_INIT;
    struct db *db = open_db(hosts);
    struct db_param p[1];
    char k[16];
    int ok = db != NULL;

    ok = ok && db_exec(db, "SET SESSION innodb_lock_wait_timeout = 10", NULL,
                       0, NULL, &err) == 0;
    ok = ok && db_begin(db, &err) == 0;
    for (int i = 0; ok && i < 20; i++) {
        snprintf(k, sizeof(k), "dl-y%d", i);
        p[0] = DBP_S(k);
        ok = db_exec(db, SQL_TX_BUMP, p, 1, NULL, &err) == 0;
    }
    if (write(ready_fd, ok ? "r" : "x", 1) != 1)
        ok = 0;
    p[0] = DBP_S("dl-x");
    ok = ok && db_exec(db, SQL_TX_BUMP, p, 1, NULL, &err) == 0; /* waits */
    ok = ok && db_commit(db, &err) == 0;
    if (!ok)
        printf("# deadlock child: %s\n", str_cstr(&err));
    fflush(stdout);
    _exit(ok ? 0 : 1);
}

/* A real deadlock: the victim's statement is not re-run (InnoDB rolled
   back all of its transaction), so nothing partial is committed. */
static void tx_deadlock(const char *hosts, struct db *db, struct db *other)
{
    struct str err = STR_INIT;
    struct db_param p[1];
    int fds[2], status = 0, rc;
    char k[16], c = 0;
    pid_t pid;

    p[0] = DBP_S("dl-x");
    db_exec(other, SQL_TX_PUT, p, 1, NULL, &err);
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof(k), "dl-y%d", i);
        p[0] = DBP_S(k);
        db_exec(other, SQL_TX_PUT, p, 1, NULL, &err);
    }
    CHECK(db_begin(db, &err) == 0, "deadlock: begin");
    p[0] = DBP_S("dl-p-first");
    CHECK(db_exec(db, SQL_TX_PUT, p, 1, NULL, &err) == 0,
          "deadlock: first insert");
    p[0] = DBP_S("dl-x");
    CHECK(db_exec(db, SQL_TX_BUMP, p, 1, NULL, &err) == 0,
          "deadlock: the parent locks row x");
    fflush(stdout);
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        CHECK(0, "pipe/fork");
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        deadlock_child(hosts, fds[1]);
    }
    close(fds[1]);
    CHECK(read(fds[0], &c, 1) == 1 && c == 'r',
          "deadlock: the child locked 20 rows");
    close(fds[0]);
    usleep(300000); /* the child now waits for row x */
    p[0] = DBP_S("dl-y0");
    rc = db_exec(db, SQL_TX_BUMP, p, 1, NULL, &err);
    CHECK(rc == LK_TEMP && db_retryable(db),
          "deadlock: the victim's statement is LK_TEMP at once, retryable "
          "(%s)", str_cstr(&err));
    str_reset(&err);
    p[0] = DBP_S("dl-p-last");
    CHECK(db_exec(db, SQL_TX_PUT, p, 1, NULL, &err) == LK_TEMP,
          "deadlock: a later statement of the dead transaction is refused");
    str_reset(&err);
    CHECK(db_commit(db, &err) == LK_TEMP, "deadlock: commit refused");
    str_reset(&err);
    db_rollback(db);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "deadlock: the other transaction committed");
    CHECK(one_value(other, SQL_TX_COUNT, "dl-p-") == 0,
          "deadlock: nothing of the victim's transaction was committed");
    CHECK(one_value(other, SQL_TX_N, "dl-x") == 1 &&
              one_value(other, SQL_TX_N, "dl-y0") == 1,
          "deadlock: rows x and y0 were changed once, by the winner only");
    str_free(&err);
}

struct body_ctx {
    int runs;
    int kill_on;          /* kill the connection during this run */
    struct db *killer;
    const char *prefix;
};

/* body_two - insert PREFIX-a and PREFIX-b (idempotent: the rows are
   inserted again only after a rollback removed them) */
static int body_two(struct db *db, void *ctx, struct str *err)
{
    struct body_ctx *b = ctx;
    char k[64];
    struct db_param p[1];

    b->runs++;
    snprintf(k, sizeof(k), "%s-a", b->prefix);
    p[0] = DBP_S(k);
    if (db_exec(db, SQL_TX_PUT, p, 1, NULL, err) < 0)
        return LK_TEMP;
    if (b->runs == b->kill_on)
        kill_conn(b->killer, one_value(db, SQL_CONN_ID, NULL));
    snprintf(k, sizeof(k), "%s-b", b->prefix);
    p[0] = DBP_S(k);
    if (db_exec(db, SQL_TX_PUT, p, 1, NULL, err) < 0)
        return LK_TEMP;
    return 7;
}

static int body_bad(struct db *db, void *ctx, struct str *err)
{
    struct body_ctx *b = ctx;

    b->runs++;
    return db_exec(db, "INSERT INTO no_such_table VALUES (1)", NULL, 0, NULL,
                   err) < 0 ? LK_TEMP : 0;
}

static void tx_helper(struct db *db, struct db *other)
{
    struct str err = STR_INIT;
    struct body_ctx b = {0, 1, other, "h1"};
    int rc;

    rc = db_transaction(db, body_two, &b, 3, &err);
    CHECK(rc == 7 && b.runs == 2, "db_transaction: killed in the first run, "
          "the whole body ran again and committed (rc %d, %d runs) %s", rc,
          b.runs, str_cstr(&err));
    CHECK(one_value(other, SQL_TX_COUNT, "h1-") == 2,
          "db_transaction: both rows once");
    str_reset(&err);
    b = (struct body_ctx){0, 0, other, "h2"};
    CHECK(db_transaction(db, body_bad, &b, 3, &err) < 0 && b.runs == 1 &&
              !db_retryable(db),
          "db_transaction: a statement error is not retried (%d runs): %s",
          b.runs, str_cstr(&err));
    str_reset(&err);
    b = (struct body_ctx){0, 99, other, "h1"}; /* duplicate keys */
    CHECK(db_transaction(db, body_two, &b, 3, &err) < 0 && b.runs == 1,
          "db_transaction: a refused row is not retried either");
    str_free(&err);
}

/* A consistent snapshot sees one committed state for all its reads. */
static void tx_snapshot(struct db *db, struct db *other)
{
    struct str err = STR_INIT;
    struct db_param p[1] = {DBP_S("snap-1")};

    CHECK(db_begin_snapshot(db, &err) == 0, "snapshot: begin %s",
          str_cstr(&err));
    CHECK(one_value(db, SQL_TX_COUNT, "snap-") == 0, "snapshot: no row yet");
    CHECK(db_exec(other, SQL_TX_PUT, p, 1, NULL, &err) == 0,
          "snapshot: another connection commits a row");
    CHECK(one_value(db, SQL_TX_COUNT, "snap-") == 0,
          "snapshot: the transaction still does not see it");
    p[0] = DBP_S("snap-2");
    CHECK(db_exec(db, SQL_TX_PUT, p, 1, NULL, &err) == LK_TEMP &&
              !db_retryable(db), "snapshot: read only (%s)", str_cstr(&err));
    str_reset(&err);
    db_rollback(db);
    CHECK(one_value(db, SQL_TX_COUNT, "snap-") == 1,
          "snapshot: after it, the row is seen");
    str_free(&err);
}

static void tx_tests(void)
{
    char hosts[64];
    struct str err = STR_INIT;
    struct db *db, *other;

    /* one host only: a killed connection comes back to the same server */
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", getenv("H_DB_PORT"));
    db = open_db(hosts);
    other = open_db(hosts);
    if (db == NULL || other == NULL) {
        CHECK(0, "open the transaction connections");
        return;
    }
    CHECK(db_exec(other, SQL_TX_CREATE, NULL, 0, NULL, &err) == 0 &&
              db_exec(other, "DELETE FROM tx", NULL, 0, NULL, &err) == 0,
          "create table tx %s", str_cstr(&err));
    tx_killed(db, other);
    tx_deadlock(hosts, db, other);
    tx_helper(db, other);
    tx_snapshot(db, other);
    db_close(db);
    db_close(other);
    str_free(&err);
}

int main(void)
{
    char hosts[256], dead[64];
    struct str err = STR_INIT;
    struct capture c;
    struct db_param p[3];
    struct db *db;
    unsigned long long aff = 0;
    long long t0;
    int rc;

    /* port 9 on 127.0.0.1: nothing listens (connection refused at once) */
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", getenv("H_DB2_PORT"));
    if ((db = open_db(hosts)) == NULL)
        return 1;
    setup(db, "db2");
    db_close(db);

    snprintf(dead, sizeof(dead), "127.0.0.1:9");
    snprintf(hosts, sizeof(hosts), "%s, 127.0.0.1:%s, 127.0.0.1:%s", dead,
             getenv("H_DB_PORT"), getenv("H_DB2_PORT"));
    db = open_db(hosts);
    CHECK(db != NULL, "open with three hosts");
    setup(db, "db1 (after skipping a dead first host)");
    CHECK(strstr(db_current_host(db), getenv("H_DB_PORT")) != NULL,
          "connected to the first live host: %s", db_current_host(db));

    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("alice");
    rc = db_query(db, SQL_GET, p, 1, cap_row, &c, &err);
    CHECK(rc == LK_FOUND && c.rows == 1, "found");
    CHECK_STR(c.first[0], "it's \"quoted\"; DROP TABLE t; --",
              "injection text stored and read back as data");
    CHECK_STR(c.first[1], "42", "integer parameter");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("nobody");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == LK_NOTFOUND &&
              c.rows == 0, "not found is LK_NOTFOUND");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("nulls");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == LK_FOUND &&
              c.null0, "SQL NULL arrives as a NULL pointer");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("big");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == LK_FOUND &&
              strlen(c.first[0]) == 1499, "a value longer than the first "
              "buffer is fetched whole (%zu)", strlen(c.first[0]));
    /* two long columns in one row: the second is fetched whole too (it
       was fetched from nowhere once the first one's buffer was re-bound) */
    memset(&c, 0, sizeof(c));
    CHECK(db_query(db, "SELECT v, CONCAT(v, 'x'), n FROM t WHERE k = ?", p, 1,
                   cap_row, &c, &err) == LK_FOUND &&
              strlen(c.first[0]) == 1499 && strlen(c.first[1]) == 1500 &&
              strspn(c.first[1], "b") == 1499 && c.first[1][1499] == 'x' &&
              !strcmp(c.first[2], "-1"),
          "two long values in one row are both fetched whole (%zu, %zu)",
          strlen(c.first[0]), strlen(c.first[1]));
    p[0] = DBP_S("alice");
    CHECK(db_exec(db, "UPDATE t SET n = n + 1 WHERE k = ?", p, 1, &aff, &err) ==
              0 && aff == 1, "affected rows");
    CHECK(db_query(db, "SELECT nonsense FROM nowhere", NULL, 0, NULL, NULL,
                   &err) == LK_TEMP && err.len > 0,
          "a broken statement is LK_TEMP with a message: %s", str_cstr(&err));
    str_reset(&err);
    p[0] = DBP_S("x");
    CHECK(db_query(db, SQL_GET, p, 0, NULL, NULL, &err) == LK_TEMP,
          "wrong parameter count is refused");
    str_reset(&err);

    tx_tests();

    /* the first live server dies: the next query moves to the other one */
    kill((pid_t)atoi(getenv("H_DB_PID")), SIGKILL);
    usleep(300000);
    memset(&c, 0, sizeof(c));
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == LK_FOUND && !strcmp(c.first[0], getenv("H_DB2_PORT")),
          "failover: the query was answered by the second server (%s) %s",
          c.first[0], str_cstr(&err));
    str_reset(&err);

    /* every server down: LK_TEMP, and quickly */
    kill((pid_t)atoi(getenv("H_DB2_PID")), SIGKILL);
    usleep(300000);
    t0 = ms();
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == LK_TEMP, "all hosts down: LK_TEMP, never LK_NOTFOUND (%s)",
          str_cstr(&err));
    str_reset(&err);
    t0 = ms();
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == LK_TEMP && ms() - t0 < 100,
          "within retry_interval the answer is LK_TEMP at once (%lld ms)",
          ms() - t0);
    str_reset(&err);
    p[0] = DBP_S("alice");
    CHECK(db_exec(db, "UPDATE t SET n = n + 1 WHERE k = ?", p, 1, NULL, &err) ==
              LK_TEMP, "a write while down is LK_TEMP");
    db_close(db);
    str_free(&err);
    return UNIT_END();
}
