/*
 * test_metrics - lib/metrics.c and lib/metrics_http.c without a server:
 * everything a no-op before metrics_init; the exposition format (HELP and
 * TYPE once, label values escaped, an AGE gauge); series found again by
 * their label values; counts made by a forked child seen by the parent
 * (the shared mapping of postern-lda --lmtp); the series limit; health
 * checks; and the request parser's answers (200, 404, 405, 400).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "unit.h"

static int healthy = 1;

static int check_health(void *ctx, struct str *why)
{
    (void)ctx;
    if (!healthy)
        str_append_cstr(why, "test: down");
    return healthy;
}

static void answer(const char *req, struct str *out)
{
    str_reset(out);
    metrics_http_answer(req, strlen(req), out);
}

int main(void)
{
    struct str out = STR_INIT, err = STR_INIT;
    struct metrics_family *c, *g, *a;
    struct metrics_series *s1, *s2;
    pid_t pid;
    int st;

    /* before metrics_init: nothing, and nothing breaks */
    CHECK(metrics_register(METRICS_COUNTER, "x_total", "x", "a") == NULL,
          "register before init returns NULL");
    metrics_inc(NULL, METRICS_L("v"));
    metrics_add(NULL, 5);
    CHECK(metrics_get(NULL) == 0, "a NULL series reads 0");

    CHECK(metrics_init(&err) == 0, "metrics_init");
    c = metrics_register(METRICS_COUNTER, "t_requests_total",
                         "Requests \\ by \"map\"\nand outcome.", "map,outcome");
    g = metrics_register(METRICS_GAUGE, "t_open", "Open things.", NULL);
    a = metrics_register(METRICS_AGE, "t_age_seconds", "Age.", "what");
    CHECK(c && g && a, "families registered");
    CHECK(metrics_register(METRICS_COUNTER, "t_requests_total", "again",
                           "map,outcome") == c,
          "the same name returns the same family");

    s1 = metrics_series(c, METRICS_L("domain", "found"));
    s2 = metrics_series(c, METRICS_L("domain", "found"));
    CHECK(s1 != NULL && s1 == s2, "a series is found again by its values");
    metrics_inc(c, METRICS_L("domain", "found"));
    metrics_inc(c, METRICS_L("domain", "found"));
    metrics_inc(c, METRICS_L("domain", "found"));
    CHECK(metrics_get(s1) == 3, "3 increments count 3");
    metrics_inc(c, METRICS_L("we\"ird\\na\nme", "temp"));
    metrics_add(metrics_series(g, NULL), 2);
    metrics_add(metrics_series(g, NULL), -1);
    metrics_series(a, METRICS_L("never"));

    /* a forked child counts into the same numbers */
    pid = fork();
    if (pid == 0) {
        metrics_inc(c, METRICS_L("domain", "found"));
        metrics_inc(c, METRICS_L("child", "found")); /* a new series */
        _exit(0);
    }
    waitpid(pid, &st, 0);
    CHECK(metrics_get(s1) == 4, "the child's increment is seen by the parent");
    CHECK(metrics_get(metrics_series(c, METRICS_L("child", "found"))) == 1,
          "a series the child made is found by the parent");

    metrics_render(&out);
    CHECK(strstr(out.data, "# HELP t_requests_total Requests \\\\ by \"map\"\\n"
                           "and outcome.\n# TYPE t_requests_total counter\n") !=
              NULL,
          "HELP escaped (backslash, newline), TYPE counter");
    CHECK(strstr(out.data, "t_requests_total{map=\"domain\",outcome=\"found\"} "
                           "4\n") != NULL,
          "a labelled counter");
    CHECK(strstr(out.data, "t_requests_total{map=\"we\\\"ird\\\\na?me\","
                           "outcome=\"temp\"} 1\n") != NULL,
          "label values escaped; a control byte made '?'");
    CHECK(strstr(out.data, "# TYPE t_open gauge\nt_open 1\n") != NULL,
          "a gauge without labels");
    CHECK(strstr(out.data, "t_age_seconds{") == NULL,
          "an age never set is not rendered");
    metrics_set(metrics_series(a, METRICS_L("never")), 1);
    str_reset(&out);
    metrics_render(&out);
    CHECK(strstr(out.data, "# TYPE t_age_seconds gauge\n"
                           "t_age_seconds{what=\"never\"} ") != NULL,
          "an age set is rendered in seconds");
    CHECK(strstr(out.data, "# TYPE postern_db_errors_total counter\n"
                           "postern_db_errors_total{kind=\"connect\"} 0\n") !=
              NULL,
          "the library's families are there from the start");
    CHECK(out.len > 0 && out.data[out.len - 1] == '\n',
          "the text ends with a newline");

    /* health */
    metrics_health_add(check_health, NULL);
    answer("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 200 OK\r\n", 17) &&
              strstr(out.data, "\r\n\r\nok\n") != NULL,
          "/health 200 ok");
    healthy = 0;
    answer("GET /health HTTP/1.0\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 503 ", 13) &&
              strstr(out.data, "\r\n\r\ntest: down\n") != NULL,
          "/health 503 with the reason");
    metrics_health_remove(check_health, NULL);
    answer("GET /health HTTP/1.0\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 200 ", 13), "a check removed");

    /* the request parser */
    answer("GET /metrics HTTP/1.1\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 200 ", 13) &&
              strstr(out.data, "Content-Type: text/plain; version=0.0.4") &&
              strstr(out.data, "t_open 1\n"),
          "/metrics 200 in format 0.0.4");
    answer("GET /metrics?x=1 HTTP/1.1\n\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 200 ", 13), "a query string ignored");
    answer("GET /other HTTP/1.1\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 404 ", 13), "another path: 404");
    answer("POST /metrics HTTP/1.1\r\n\r\n", &out);
    CHECK(!strncmp(out.data, "HTTP/1.1 405 ", 13) &&
              strstr(out.data, "Allow: GET\r\n"),
          "another method: 405 with Allow");
    const char *bad[] = {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET  / HTTP/1.1\r\n",
                         "GET / HTTP/2.0\r\n", "GET metrics HTTP/1.1\r\n",
                         "GET / HTTP/1.1 extra\r\n", "GET /\tx HTTP/1.1\r\n",
                         "no newline at all"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        answer(bad[i], &out);
        CHECK(!strncmp(out.data, "HTTP/1.1 400 ", 13), "malformed %zu: 400",
              i);
    }
    CHECK(metrics_listen_check("", &err) == 0 &&
              metrics_listen_check("127.0.0.1:9771", &err) == 0 &&
              metrics_listen_check("[::1]:9771", &err) == 0 &&
              metrics_listen_check("inet:127.0.0.1:9771", &err) == 0,
          "metrics_listen values accepted by -t");
    CHECK(metrics_listen_check("localhost:9771", &err) < 0 &&
              metrics_listen_check("127.0.0.1", &err) < 0 &&
              metrics_listen_check("127.0.0.1:http", &err) < 0 &&
              metrics_listen_check(":9771", &err) < 0,
          "metrics_listen values refused by -t (a name, no port)");
    CHECK(metrics_http_listen("127.0.0.1", &err) < 0 &&
              metrics_http_listen("nohost:1", &err) < 0,
          "listen specs without a port or with a name are refused");
    CHECK(metrics_http_listen("", &err) == 0 &&
              metrics_http_start(&err) == 0,
          "an empty metrics_listen starts nothing");

    /* the series limit: the rest counts into nothing, and says so */
    char v[32];
    int made = 0;
    for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
        snprintf(v, sizeof(v), "r%d", i);
        if (metrics_series(c, METRICS_L(v, "x")) != NULL)
            made++;
    }
    CHECK(made < METRICS_MAX_SERIES, "series stop at METRICS_MAX_SERIES");
    str_reset(&out);
    metrics_render(&out);
    CHECK(strstr(out.data, "\npostern_metrics_series_dropped_total 0\n") ==
              NULL && strstr(out.data, "postern_metrics_series_dropped_total "),
          "the dropped series are counted");
    str_free(&out);
    str_free(&err);
    return UNIT_END();
}
