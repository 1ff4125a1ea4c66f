/*
 * test_sieve_report - the report of a broken user script
 * (lda/sieve_report.c): the message text, the script version (a changed
 * personal script is a new version) and which run-time errors are the
 * server's fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sieve_report.h"
#include "unit.h"

static void put(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void test_text(void)
{
    struct sieve_report r = {STR_INIT, 0};
    struct str out = STR_INIT;
    const char *v =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    str_append_cstr(&r.errors, ".postern.sieve:2: error: unknown command "
                               "'fileint'\n.postern.sieve:5: error: x\x01y\n");
    sieve_report_text(&out, "anna@example.org", "mx.example.org", &r, v,
                      1700000000);
    CHECK(strstr(str_cstr(&out), "From: Mail Delivery System "
                                 "<MAILER-DAEMON@example.org>\n") != NULL,
          "From MAILER-DAEMON at the mailbox's domain");
    CHECK(strstr(str_cstr(&out), "\nAuto-Submitted: auto-generated\n") != NULL,
          "Auto-Submitted: auto-generated");
    CHECK(strstr(str_cstr(&out), "\nSubject: Your mail filter has errors\n") !=
              NULL, "the subject");
    CHECK(strstr(str_cstr(&out), "\nTo: <anna@example.org>\n") != NULL, "To");
    CHECK(strstr(str_cstr(&out), "Message-ID: <sieve-report.0123456789abcdef."
                                 "1700000000@mx.example.org>") != NULL,
          "Message-ID from the version");
    CHECK(strstr(str_cstr(&out), "\n  .postern.sieve:2: error: unknown "
                                 "command 'fileint'\n") != NULL,
          "the error lines, indented");
    CHECK(strstr(str_cstr(&out), "x y\n") != NULL,
          "control characters in an error line are blanked");
    CHECK(strstr(str_cstr(&out), "has errors and cannot be used") != NULL,
          "compile errors: the wording");
    str_reset(&out);
    r.runtime = 1;
    sieve_report_text(&out, "anna@example.org", "mx", &r, v, 1700000000);
    CHECK(strstr(str_cstr(&out), "stopped with an error") != NULL,
          "run-time error: the wording");
    str_reset(&out);
    str_reset(&r.errors);
    for (int i = 0; i < 1000; i++)
        str_append_cstr(&r.errors, "s:1: error: a long line of text\n");
    sieve_report_text(&out, "anna@example.org", "mx", &r, v, 1700000000);
    CHECK(out.len < SIEVE_REPORT_ERRORS_MAX + 2048 &&
              strstr(str_cstr(&out), "(more errors not shown)") != NULL,
          "error lines bounded (%zu bytes)", out.len);
    str_free(&out);
    str_free(&r.errors);
}

static void test_version(void)
{
    char dir[] = "/tmp/test_sieve_report.XXXXXX", a[65], b[65], c[65];
    char active[128], personal[128], lib[128];

    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp");
        return;
    }
    snprintf(active, sizeof(active), "%s/.postern.sieve", dir);
    snprintf(personal, sizeof(personal), "%s/sieve", dir);
    snprintf(lib, sizeof(lib), "%s/sieve/lib.sieve", dir);
    mkdir(personal, 0700);
    CHECK(sieve_report_version(active, personal, a) < 0,
          "no active script: no version");
    put(active, "require \"include\";\ninclude \"lib\";\n");
    put(lib, "keep;\n");
    CHECK(sieve_report_version(active, personal, a) == 0 && strlen(a) == 64,
          "a version: 64 hex digits");
    CHECK(sieve_report_version(active, personal, b) == 0 &&
              strcmp(a, b) == 0, "the same scripts: the same version");
    put(lib, "discard;\n");
    CHECK(sieve_report_version(active, personal, c) == 0 &&
              strcmp(a, c) != 0, "an included script changed: a new version");
    put(active, "keep;\n");
    CHECK(sieve_report_version(active, personal, b) == 0 &&
              strcmp(b, c) != 0, "the active script changed: a new version");
    unlink(lib);
    unlink(active);
    rmdir(personal);
    rmdir(dir);
}

static void test_server_fault(void)
{
    CHECK(sieve_report_server_fault("s:3: error: header :list: temporary "
                                    "failure of the list lookup\n"),
          "a list lookup that failed temporarily is the server's fault");
    CHECK(sieve_report_server_fault("s:3: error: duplicate: the state "
                                    "database failed\n"),
          "the duplicate database is the server's fault");
    CHECK(!sieve_report_server_fault("s:1: error: the filter gave up\n"),
          "error \"...\" is the script's");
    CHECK(!sieve_report_server_fault("s:4: error: too many redirects\n"),
          "a limit is the script's");
}

int main(void)
{
    test_text();
    test_version();
    test_server_fault();
    return UNIT_END();
}
