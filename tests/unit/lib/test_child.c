/*
 * test_child - lib/child: exit status, input from memory, output captured
 * and bounded, the deadline kills the whole process group, the child
 * starts with default signal dispositions and only descriptors 0-2.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "str.h"
#include "unit.h"

static int sh(const char *script, const char *in, struct str *out,
              size_t out_max, long long timeout_ms, struct str *err)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};

    str_reset(out);
    str_reset(err);
    return child_run("/bin/sh", argv, in, in ? strlen(in) : 0, out, out_max,
                     timeout_ms, err);
}

int main(void)
{
    struct str out = STR_INIT, err = STR_INIT;
    long long t0;
    int rc, fd;

    rc = sh("echo hello; echo oops >&2; exit 3", NULL, &out, 1024, 5000, &err);
    CHECK(rc == 3, "the exit status comes back (%d)", rc);
    CHECK_STR(str_cstr(&out), "hello\noops\n", "stdout and stderr captured");

    rc = sh("tr a-z A-Z", "quiet input", &out, 1024, 5000, &err);
    CHECK(rc == 0, "input from memory: exit 0");
    CHECK_STR(str_cstr(&out), "QUIET INPUT", "the input reached the child");

    rc = sh("cat", NULL, &out, 1024, 5000, &err);
    CHECK(rc == 0 && out.len == 0, "no input: /dev/null (cat ends at once)");

    rc = sh("head -c 100000 /dev/zero | tr '\\0' x", NULL, &out, 10, 5000,
            &err);
    CHECK(rc == 0 && out.len == 10, "output cut at out_max (%zu)", out.len);

    t0 = clock_ms();
    rc = sh("sleep 30 & sleep 30", NULL, &out, 1024, 300, &err);
    CHECK(rc == -1 && strstr(str_cstr(&err), "did not finish within 300 ms"),
          "the deadline kills it: %s", str_cstr(&err));
    CHECK(clock_ms() - t0 < 5000, "... at once (%lld ms)", clock_ms() - t0);

    rc = sh("kill -TERM $$", NULL, &out, 1024, 5000, &err);
    CHECK(rc == -1 && strstr(str_cstr(&err), "killed by signal 15"),
          "a signal is reported: %s", str_cstr(&err));

    signal(SIGTERM, SIG_IGN); /* a daemon's dispositions are not inherited */
    rc = sh("kill -TERM $$; exit 0", NULL, &out, 1024, 5000, &err);
    CHECK(rc == -1, "the child has SIGTERM at its default");
    signal(SIGTERM, SIG_DFL);

    fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: still not inherited */
    {
        char script[64];
        snprintf(script, sizeof(script), "test -e /proc/self/fd/%d", fd);
        rc = sh(script, NULL, &out, 1024, 5000, &err);
        CHECK(rc == 1, "descriptors above 2 are closed (fd %d)", fd);
    }
    close(fd);

    {
        char *argv[] = {"nothing", NULL};
        str_reset(&err);
        rc = child_run("/nonexistent/program", argv, NULL, 0, &out, 1024,
                       5000, &err);
        CHECK(rc == 75, "a program that cannot be run: exit 75 (%d)", rc);
    }
    str_free(&out);
    str_free(&err);
    return UNIT_END();
}
