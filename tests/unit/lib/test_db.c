// needs: mariadb (run by tests/integration/db.sh)
/*
 * test_db - the MariaDB layer against two real servers started by the
 * harness: prepared statements with every parameter type, NULLs, values
 * longer than the first fetch buffer, SQL injection text treated as data,
 * found / not found / temporary failure, failover to the second host when
 * the first dies, and DB_TEMP without delay when every host is down.
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
    CHECK(rc == DB_FOUND && c.rows == 1, "found");
    CHECK_STR(c.first[0], "it's \"quoted\"; DROP TABLE t; --",
              "injection text stored and read back as data");
    CHECK_STR(c.first[1], "42", "integer parameter");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("nobody");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == DB_NOTFOUND &&
              c.rows == 0, "not found is DB_NOTFOUND");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("nulls");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == DB_FOUND &&
              c.null0, "SQL NULL arrives as a NULL pointer");
    memset(&c, 0, sizeof(c));
    p[0] = DBP_S("big");
    CHECK(db_query(db, SQL_GET, p, 1, cap_row, &c, &err) == DB_FOUND &&
              strlen(c.first[0]) == 1499, "a value longer than the first "
              "buffer is fetched whole (%zu)", strlen(c.first[0]));
    p[0] = DBP_S("alice");
    CHECK(db_exec(db, "UPDATE t SET n = n + 1 WHERE k = ?", p, 1, &aff, &err) ==
              0 && aff == 1, "affected rows");
    CHECK(db_query(db, "SELECT nonsense FROM nowhere", NULL, 0, NULL, NULL,
                   &err) == DB_TEMP && err.len > 0,
          "a broken statement is DB_TEMP with a message: %s", str_cstr(&err));
    str_reset(&err);
    p[0] = DBP_S("x");
    CHECK(db_query(db, SQL_GET, p, 0, NULL, NULL, &err) == DB_TEMP,
          "wrong parameter count is refused");
    str_reset(&err);

    /* the first live server dies: the next query moves to the other one */
    kill((pid_t)atoi(getenv("H_DB_PID")), SIGKILL);
    usleep(300000);
    memset(&c, 0, sizeof(c));
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == DB_FOUND && !strcmp(c.first[0], getenv("H_DB2_PORT")),
          "failover: the query was answered by the second server (%s) %s",
          c.first[0], str_cstr(&err));
    str_reset(&err);

    /* every server down: DB_TEMP, and quickly */
    kill((pid_t)atoi(getenv("H_DB2_PID")), SIGKILL);
    usleep(300000);
    t0 = ms();
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == DB_TEMP, "all hosts down: DB_TEMP, never DB_NOTFOUND (%s)",
          str_cstr(&err));
    str_reset(&err);
    t0 = ms();
    rc = db_query(db, SQL_SERVER, NULL, 0, cap_row, &c, &err);
    CHECK(rc == DB_TEMP && ms() - t0 < 100,
          "within retry_interval the answer is DB_TEMP at once (%lld ms)",
          ms() - t0);
    str_reset(&err);
    p[0] = DBP_S("alice");
    CHECK(db_exec(db, "UPDATE t SET n = n + 1 WHERE k = ?", p, 1, NULL, &err) ==
              DB_TEMP, "a write while down is DB_TEMP");
    db_close(db);
    str_free(&err);
    return UNIT_END();
}
