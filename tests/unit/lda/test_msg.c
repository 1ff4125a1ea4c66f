/*
 * test_lda_msg - message spooling (CRLF, bare LF, NUL, From_ line, size
 * bound, spill to a file), header questions, and the status table.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lda.h"
#include "unit.h"

static struct lda_msg m;

/* spooled - the spooled bytes as a string (via write_to into a pipe file) */
static char *spooled(void)
{
    char path[] = "/tmp/test_lda_msg.XXXXXX";
    int fd = mkstemp(path);
    char *buf = calloc(1, m.size + 1);

    unlink(path);
    lda_msg_write_to(&m, fd);
    pread(fd, buf, m.size, 0);
    close(fd);
    return buf;
}

static char *run(const char *in, size_t len, size_t chunk, size_t memmax,
                 unsigned long long max)
{
    lda_msg_free(&m);
    lda_msg_init(&m, max, memmax, "/tmp");
    for (size_t i = 0; i < len; i += chunk)
        lda_msg_feed(&m, in + i, len - i < chunk ? len - i : chunk);
    lda_msg_finish(&m);
    return spooled();
}

int main(void)
{
    char *s;
    static const char crlf[] = "Subject: a\r\nTo: b\r\n\r\nbody\r\n.line\r\n";

    m.fd = -1;
    s = run(crlf, strlen(crlf), 1000, 1 << 20, 1 << 20);
    CHECK_STR(s, "Subject: a\nTo: b\n\nbody\n.line\n", "CRLF -> LF");
    CHECK(m.lines == 5, "line count %llu", m.lines);
    CHECK(lda_header_has_fields(&m), "header detected");
    free(s);
    for (size_t chunk = 1; chunk <= 3; chunk++) {
        s = run(crlf, strlen(crlf), chunk, 1 << 20, 1 << 20);
        CHECK_STR(s, "Subject: a\nTo: b\n\nbody\n.line\n",
                  "CRLF split over chunks of %zu", chunk);
        free(s);
    }
    s = run("A: 1\nB: 2\n\nx\n", 13, 100, 1 << 20, 1 << 20);
    CHECK_STR(s, "A: 1\nB: 2\n\nx\n", "bare LF kept");
    free(s);
    s = run("A: 1\r\rx\r", 8, 100, 1 << 20, 1 << 20);
    CHECK_STR(s, "A: 1\r\rx\r", "bare CR kept");
    free(s);
    s = run("A: \0x\n\nb\0\n", 10, 100, 1 << 20, 1 << 20);
    CHECK(m.size == 10 && (unsigned char)s[3] == 0x80 &&
              (unsigned char)s[8] == 0x80, "NUL -> 0x80");
    free(s);
    s = run("From a@b Mon Jan  1 00:00:00 2024\nX: y\n\nz\n", 42, 7, 1 << 20,
            1 << 20);
    CHECK_STR(s, "X: y\n\nz\n", "leading From_ line dropped");
    free(s);
    /* the From_ decision must not depend on how the input is chunked */
    {
        static const char *const ins[] = {
            "From x@y Tue Jan  2 00:00:00 2024\r\nX: y\r\n\r\nz\r\n",
            "From: x@y\nX: y\n\nz\n",
            "From:x\n\nz\n",
            "Fro\n\nz\n",
            "From\n\nz\n",
            "Fro",
            "From ",
            "From x",
        };
        static const char *const outs[] = {
            "X: y\n\nz\n", "From: x@y\nX: y\n\nz\n", "From:x\n\nz\n",
            "Fro\n\nz\n", "From\n\nz\n", "Fro", "", "",
        };
        static const size_t chunks[] = {1, 2, 3, 4, 5, 6, 1000};
        for (size_t k = 0; k < sizeof(ins) / sizeof(ins[0]); k++) {
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                s = run(ins[k], strlen(ins[k]), chunks[c], 1 << 20, 1 << 20);
                CHECK_STR(s, outs[k], "From_ case %zu in chunks of %zu", k,
                          chunks[c]);
                CHECK(m.size == strlen(outs[k]), "size, case %zu chunk %zu",
                      k, chunks[c]);
                free(s);
            }
        }
        /* the split the fuzzer found: "Fro" then the rest */
        lda_msg_free(&m);
        lda_msg_init(&m, 1 << 20, 1 << 20, "/tmp");
        lda_msg_feed(&m, "Fro", 3);
        lda_msg_feed(&m, "m x@y Tue\nX: y\n\nz\n",
                     strlen("m x@y Tue\nX: y\n\nz\n"));
        lda_msg_finish(&m);
        s = spooled();
        CHECK_STR(s, "X: y\n\nz\n", "From_ split after 3 bytes dropped");
        CHECK(lda_header_has_fields(&m), "header after a split From_");
        free(s);
    }
    s = run("just a body line\nand more\n", 26, 100, 1 << 20, 1 << 20);
    CHECK(!lda_header_has_fields(&m), "no header section detected");
    free(s);
    s = run("", 0, 100, 1 << 20, 1 << 20);
    CHECK(m.size == 0 && !lda_header_has_fields(&m), "empty message");
    free(s);
    s = run("0123456789", 10, 3, 1 << 20, 5);
    CHECK(m.too_big && m.size == 5, "size bound: too big, spool stops");
    free(s);

    /* spill to a file: memmax 16 bytes, 200 KB message */
    {
        size_t n = 200 * 1024;
        char *big = malloc(n);
        for (size_t i = 0; i < n; i++)
            big[i] = (i % 64 == 63) ? '\n' : 'a' + (char)(i % 26);
        memcpy(big, "X: y\n\n", 6);
        s = run(big, n, 4096, 16, 1 << 30);
        CHECK(m.fd >= 0, "spilled to a temporary file");
        CHECK(m.size == n && memcmp(s, big, n) == 0, "file spool intact");
        free(s);
        s = spooled();
        CHECK(memcmp(s, big, n) == 0, "spool can be read twice");
        free(s);
        free(big);
    }

    /* headers */
    {
        static const char h[] =
            "Received: from x\n\tby y\nDelivered-To: other@example.org\n"
            "delivered-to :\n <User@Example.ORG> \nSubject: s\n\n"
            "Delivered-To: body@example.org\n";
        s = run(h, strlen(h), 100, 1 << 20, 1 << 20);
        free(s);
        CHECK(lda_header_has_value(&m, "Delivered-To", "other@example.org"),
              "Delivered-To found");
        CHECK(lda_header_has_value(&m, "Delivered-To", "user@example.org"),
              "folded, brackets, any case");
        CHECK(!lda_header_has_value(&m, "Delivered-To", "body@example.org"),
              "body not searched");
        CHECK(!lda_header_has_value(&m, "Delivered-To", "user@example.or"),
              "no prefix match");
    }

    /* the one switch */
    CHECK(lda_status_info(LDA_OK).exit_code == 0, "ok -> 0");
    CHECK(lda_status_info(LDA_TEMP).exit_code == EX_TEMPFAIL, "temp -> 75");
    CHECK(lda_status_info(LDA_NOUSER).exit_code == EX_NOUSER, "nouser -> 67");
    CHECK(lda_status_info(LDA_QUOTA_BOUNCE).exit_code == EX_NOPERM &&
              !strcmp(lda_status_info(LDA_QUOTA_BOUNCE).dsn, "5.2.2"),
          "quota bounce -> 77 5.2.2");
    CHECK(lda_status_info(LDA_QUOTA_DEFER).exit_code == EX_TEMPFAIL &&
              !strcmp(lda_status_info(LDA_QUOTA_DEFER).dsn, "4.2.2"),
          "quota defer -> 75 4.2.2");
    CHECK(lda_status_info(LDA_LOOP).exit_code == EX_NOPERM &&
              !strcmp(lda_status_info(LDA_LOOP).dsn, "5.4.6"),
          "loop -> 77 5.4.6");
    CHECK(lda_status_info(LDA_USAGE).exit_code == EX_TEMPFAIL,
          "usage error defers (never bounce on a bad master.cf)");
    CHECK(lda_status_info((enum lda_status)99).exit_code == EX_TEMPFAIL,
          "unknown outcome defers");
    for (int st = LDA_OK; st <= LDA_CONFIG; st++) {
        struct lda_status_info i = lda_status_info((enum lda_status)st);
        int temp = i.exit_code == EX_TEMPFAIL;
        CHECK((i.dsn[0] == '4') == temp && (i.smtp_code / 100 == 4) == temp,
              "status %d: exit, LMTP code and DSN agree on the class", st);
    }
    lda_msg_free(&m);
    return UNIT_END();
}
