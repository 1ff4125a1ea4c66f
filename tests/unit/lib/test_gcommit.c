// needs: mariadb (run by tests/integration/db.sh)
/*
 * test_gcommit - group commit (lib/gcommit.c) against a real MariaDB:
 * items of several threads share transactions and every one of them is
 * counted exactly once; items that arrive while a batch runs form the
 * next batch together; a batch with one bad item fails as a whole and
 * then runs each item alone, so the good ones commit and only the bad one
 * fails, with its error.
 *
 * Environment: H_DB_PORT, H_DB_PASSWORD_FILE (tests/harness/harness.sh).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcommit.h"
#include "lookup.h"
#include "unit.h"

#define THREADS 8
#define PER_THREAD 150

struct item {
    struct gcommit_item base;
    const char *key;
    int slow;                    /* hold the batch 300 ms */
};

static char hosts[64];

static struct db *open_db(void)
{
    struct db_config cfg = {hosts, "postern", "postern",
                            getenv("H_DB_PASSWORD_FILE"), 1000, 5000, 500};
    struct str err = STR_INIT;
    struct db *db = db_open(&cfg, &err);

    if (db == NULL)
        printf("# db_open: %s\n", str_cstr(&err));
    str_free(&err);
    return db;
}

/* add one to each item's key; key "bad" runs a statement that fails */
static int body(struct db *db, struct gcommit_item **items, size_t n,
                void *ctx, struct str *err)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        struct item *it = (struct item *)items[i];
        struct db_param p[] = {DBP_S(it->key)};

        if (strcmp(it->key, "bad") == 0) {
            if (db_exec(db, "INSERT INTO no_such_table VALUES (?)", p, 1,
                        NULL, err) < 0)
                return LK_TEMP;
        }
        if (it->slow &&
            db_exec(db, "DO SLEEP(0.3)", NULL, 0, NULL, err) < 0)
            return LK_TEMP;
        if (db_exec(db, "INSERT INTO gc (k, n) VALUES (?, 1) ON DUPLICATE"
                    " KEY UPDATE n = n + 1", p, 1, NULL, err) < 0)
            return LK_TEMP;
        items[i]->rc = 7;
    }
    return 0;
}

static struct gcommit *g;

struct worker {
    char key[16];
    int failures;
};

static void *many(void *arg)
{
    struct worker *w = arg;
    struct db *db = open_db();
    struct str err = STR_INIT;

    for (int i = 0; i < PER_THREAD; i++) {
        struct item it = {{NULL, &err, 0, 0}, w->key, 0};

        if (db == NULL || gcommit_run(g, db, &it.base) != 7)
            w->failures++;
    }
    db_close(db);
    str_free(&err);
    db_thread_end();
    return NULL;
}

struct one {
    const char *key;
    int slow, delay_ms, rc;
    char err[256];
};

static void *one_item(void *arg)
{
    struct one *o = arg;
    struct db *db = open_db();
    struct str err = STR_INIT;
    struct item it = {{NULL, &err, 0, 0}, o->key, o->slow};

    usleep((useconds_t)o->delay_ms * 1000);
    o->rc = db ? gcommit_run(g, db, &it.base) : -99;
    snprintf(o->err, sizeof(o->err), "%s", str_cstr(&err));
    db_close(db);
    str_free(&err);
    db_thread_end();
    return NULL;
}

static int first_col(void *ctx, unsigned n, char **v, const unsigned long *l)
{
    (void)l;
    *(long long *)ctx = n > 0 && v[0] ? atoll(v[0]) : -1;
    return 1;
}

static long long value(struct db *db, const char *sql)
{
    long long v = -1;
    struct str err = STR_INIT;

    db_query(db, sql, NULL, 0, first_col, &v, &err);
    str_free(&err);
    return v;
}

int main(void)
{
    struct str err = STR_INIT;
    struct db *db;
    pthread_t t[THREADS];
    struct worker w[THREADS];
    unsigned long long batches, items;

    snprintf(hosts, sizeof(hosts), "127.0.0.1:%s", getenv("H_DB_PORT"));
    db = open_db();
    CHECK(db != NULL, "connected");
    if (db == NULL)
        return UNIT_END();
    db_exec(db, "CREATE TABLE gc (k VARCHAR(16) PRIMARY KEY, n BIGINT)",
            NULL, 0, NULL, &err);
    g = gcommit_new(body, NULL, 3);

    /* many threads, one key each */
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        snprintf(w[i].key, sizeof(w[i].key), "t%d", i);
        pthread_create(&t[i], NULL, many, &w[i]);
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        failures += w[i].failures;
    }
    gcommit_counts(g, &batches, &items);
    CHECK(failures == 0, "every item of %d threads ran (%d failed)",
          THREADS, failures);
    CHECK(items == THREADS * PER_THREAD, "items counted: %llu", items);
    CHECK(value(db, "SELECT SUM(n) FROM gc") == THREADS * PER_THREAD,
          "each counted exactly once in the table: %lld",
          value(db, "SELECT SUM(n) FROM gc"));
    CHECK(batches < items, "items shared transactions: %llu items in %llu "
          "transactions", items, batches);

    /* a slow batch holds the next items together: ok1, bad, ok2 arrive
       while it runs and form one batch, which fails on "bad" and runs
       each alone */
    struct one o[4] = {{"slow", 1, 0, 0, ""}, {"ok1", 0, 100, 0, ""},
                       {"bad", 0, 120, 0, ""}, {"ok2", 0, 140, 0, ""}};
    pthread_t ot[4];
    unsigned long long b0, i0;

    gcommit_counts(g, &b0, &i0);
    for (int i = 0; i < 4; i++)
        pthread_create(&ot[i], NULL, one_item, &o[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(ot[i], NULL);
    gcommit_counts(g, &batches, &items);
    CHECK(batches - b0 == 2, "the three items waiting formed one batch "
          "(%llu batches)", batches - b0);
    CHECK(o[0].rc == 7 && o[1].rc == 7 && o[3].rc == 7,
          "the good items committed (%d %d %d)", o[0].rc, o[1].rc, o[3].rc);
    CHECK(o[2].rc < 0 && strstr(o[2].err, "no_such_table") != NULL,
          "the bad item failed with its error: %d %s", o[2].rc, o[2].err);
    CHECK(value(db, "SELECT SUM(n) FROM gc WHERE k IN ('ok1','ok2','slow')")
          == 3, "ok1, ok2 and slow are in the table once each");

    gcommit_free(g);
    db_close(db);
    str_free(&err);
    db_thread_end();
    return UNIT_END();
}
