/*
 * fuzz_config - lib/config.c: cfg_load on any file, with the real tables
 * of postern-lda and postern-policyd (every value type: strings, integers,
 * booleans, times, sizes, enums; [database] and [ldap] included) and a
 * list of sections to ignore.  The file is a memfd opened by path
 * (/proc/self/fd/N), as cfg_load reads a path.
 * Input: byte 0 picks the program, the rest is the file.
 * Checks: success or an error message; cfg_free releases everything
 * (LeakSanitizer); cfg_list_next terminates on every value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "lda.h"
#include "policyd.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ignored[] = {"maps", "milter", NULL};
    struct fuzz_in in = {(const char *)data, size};
    unsigned which = fuzz_byte(&in);
    struct cfg_section secs[8];
    struct str err = STR_INIT;
    struct lda_config lc;
    struct policyd_config pc;
    size_t n;

    if (fd < 0) {
        if ((fd = memfd_create("fuzz-config", MFD_CLOEXEC)) < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 ||
        pwrite(fd, in.p, in.left, 0) != (ssize_t)in.left)
        abort();
    memset(&lc, 0, sizeof(lc));
    memset(&pc, 0, sizeof(pc));
    n = which & 1 ? policyd_config_sections(&pc, secs)
                  : lda_config_sections(&lc, secs);
    if (n > sizeof(secs) / sizeof(secs[0]))
        abort();
    if (cfg_load(path, secs, n, (which & 2) ? ignored : NULL, &err) < 0 &&
        err.len == 0)
        abort(); /* an error without a message */
    if (which & 1) {
        const char *cur = pc.checks ? pc.checks : "";
        char item[32];
        int r, guard = 0;
        while ((r = cfg_list_next(&cur, item, sizeof(item))) != 0 && r > 0)
            if (++guard > 4096)
                abort();
    }
    cfg_free(secs, n);
    str_free(&err);
    return 0;
}
