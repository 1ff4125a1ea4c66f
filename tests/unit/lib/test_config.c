/* test_config - the table-driven INI parser: defaults, types, bounds and
   every error path with file:line. */
#include <stddef.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

struct tcfg {
    char *name;
    long long count, timeout, size;
    int flag, mode;
};

static const struct cfg_def defs[] = {
    {"name", CFG_STR, "postern", 0, 16, offsetof(struct tcfg, name), NULL},
    {"count", CFG_INT, "10", 1, 100, offsetof(struct tcfg, count), NULL},
    {"timeout", CFG_TIME, "2s", 100, 60000, offsetof(struct tcfg, timeout), NULL},
    {"size", CFG_SIZE, "1k", 0, 1024 * 1024, offsetof(struct tcfg, size), NULL},
    {"flag", CFG_BOOL, "no", 0, 0, offsetof(struct tcfg, flag), NULL},
    {"mode", CFG_ENUM, "pass", 0, 0, offsetof(struct tcfg, mode), "pass|defer|reject"},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const char *const ignored[] = {"other", NULL};

/* load - write text to a temporary file and load it; the error or "". */
static int load(const char *text, struct tcfg *c, struct str *err)
{
    char path[] = "/tmp/postern-test-config-XXXXXX";
    int fd = mkstemp(path), rc;
    struct cfg_section sec = {"test", defs, c};

    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        return -2;
    close(fd);
    cfg_free(&sec, 1);
    memset(c, 0, sizeof(*c));
    rc = cfg_load(path, &sec, 1, ignored, err);
    unlink(path);
    return rc;
}

static int fails_with(const char *text, const char *want)
{
    struct tcfg c = {0};
    struct str err = STR_INIT;
    struct cfg_section sec = {"test", defs, &c};
    int ok = load(text, &c, &err) < 0 && strstr(str_cstr(&err), want) != NULL;

    if (!ok)
        printf("#   error was '%s', wanted '%s'\n", str_cstr(&err), want);
    cfg_free(&sec, 1);
    str_free(&err);
    return ok;
}

int main(void)
{
    struct tcfg c = {0};
    struct str err = STR_INIT;
    struct cfg_section sec = {"test", defs, &c};
    char big[5000];

    CHECK(load("", &c, &err) == 0, "empty file loads");
    CHECK_STR(c.name, "postern", "string default");
    CHECK(c.count == 10 && c.timeout == 2000 && c.size == 1024 && !c.flag &&
              c.mode == 0, "numeric, time, size, bool, enum defaults");
    CHECK(load("# comment\n; comment\n[test]\n  name =  mx1  \ncount=42\n"
               "timeout = 250ms\nsize = 64K\nflag = yes\nmode = Reject\n"
               "[other]\nanything = goes\n", &c, &err) == 0,
          "a full file loads: %s", str_cstr(&err));
    CHECK_STR(c.name, "mx1", "value trimmed");
    CHECK(c.count == 42, "integer");
    CHECK(c.timeout == 250, "milliseconds");
    CHECK(c.size == 65536, "size with unit");
    CHECK(c.flag == 1, "bool");
    CHECK(c.mode == 2, "enum, case-insensitive");
    CHECK(load("[test]\ntimeout = 1m\n", &c, &err) == 0 && c.timeout == 60000,
          "minutes");
    CHECK(load("[test]\nname =\n", &c, &err) == 0 && !strcmp(c.name, ""),
          "empty string value");
    CHECK(fails_with("[test]\nbogus = 1\n", ":2: unknown key 'bogus' in section [test]"),
          "unknown key, with line number");
    CHECK(fails_with("[nope]\n", ":1: unknown section [nope]"), "unknown section");
    CHECK(fails_with("count = 1\n", ":1: key 'count' outside of any [section]"),
          "key outside a section");
    CHECK(fails_with("[test]\ncount = 1\ncount = 2\n", ":3: duplicate key"),
          "duplicate key");
    CHECK(fails_with("[test]\ncount = 0\n", "outside the range 1..100"),
          "below minimum");
    CHECK(fails_with("[test]\ncount = 101\n", "outside the range"), "above maximum");
    CHECK(fails_with("[test]\ncount = 12abc\n", "bad unit"), "trailing junk");
    CHECK(fails_with("[test]\ncount = abc\n", "not a number"), "not a number");
    CHECK(fails_with("[test]\ncount = 99999999999999999999999\n", "not a number"),
          "integer overflow");
    CHECK(fails_with("[test]\ntimeout = 9999999999999999d\n", "out of range"),
          "overflow in unit multiplication");
    CHECK(fails_with("[test]\ntimeout = 5x\n", "bad unit"), "bad time unit");
    CHECK(fails_with("[test]\nflag = maybe\n", "expected yes or no"), "bad bool");
    CHECK(fails_with("[test]\nmode = sometimes\n", "is not one of pass|defer|reject"),
          "bad enum");
    CHECK(fails_with("[test]\nname = 12345678901234567\n", "longer than 16"),
          "string over its maximum length");
    CHECK(fails_with("[test\n", "malformed section header"), "broken header");
    CHECK(fails_with("[test]\njust words\n", "expected 'key = value'"), "no '='");
    memset(big, 'a', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\0';
    CHECK(fails_with(big, "line longer than 4096"), "over-long line");
    {
        char nul[] = "[test]\nname = a\0b\n";
        char path[] = "/tmp/postern-test-config-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0 && write(fd, nul, sizeof(nul) - 1) > 0, "wrote NUL file");
        close(fd);
        str_reset(&err);
        CHECK(cfg_load(path, &sec, 1, ignored, &err) < 0 &&
                  strstr(str_cstr(&err), "NUL byte"), "NUL byte refused");
        unlink(path);
    }
    str_reset(&err);
    CHECK(cfg_load("/nonexistent/postern.conf", &sec, 1, ignored, &err) < 0 &&
              strstr(str_cstr(&err), "cannot open"), "missing file");
    {
        const char *cur = " a.example, b.example  c.example,,";
        char item[32];
        int n = 0;
        while (cfg_list_next(&cur, item, sizeof(item)) == 1)
            n++;
        CHECK(n == 3, "list splitting on commas and blanks");
    }
    {   /* cfg_load_keys: a few keys of another program's section */
        static const char text[] =
            "[maps]\nlisten = inet:127.0.0.1:1\ncount = 42\n"
            "[unknown]\nwhatever = 1\n[test]\ncount = 7\n";
        char path[] = "/tmp/postern-test-config-XXXXXX";
        int fd = mkstemp(path);
        struct tcfg k = {0};
        struct cfg_section ks = {"maps", defs, &k};
        CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) > 0, "wrote file");
        close(fd);
        str_reset(&err);
        CHECK(cfg_load_keys(path, "maps", defs, &k, &err) == 0 &&
                  k.count == 42 && k.timeout == 2000,
              "cfg_load_keys: the section's own key read, defaults set, "
              "other keys and sections skipped (%s)", str_cstr(&err));
        cfg_free(&ks, 1);
        fd = open(path, O_WRONLY | O_TRUNC);
        CHECK(fd >= 0 && write(fd, "[maps]\ncount = 500\n", 19) == 19,
              "rewrote file");
        close(fd);
        memset(&k, 0, sizeof(k));
        str_reset(&err);
        CHECK(cfg_load_keys(path, "maps", defs, &k, &err) < 0 &&
                  strstr(str_cstr(&err), ":2: ") != NULL,
              "cfg_load_keys: a bad value of a key read is an error with "
              "file:line (%s)", str_cstr(&err));
        cfg_free(&ks, 1);
        unlink(path);
    }
    cfg_free(&sec, 1);
    str_free(&err);
    return UNIT_END();
}
