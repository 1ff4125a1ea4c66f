/*
 * sendmail - running sendmail(1) without hanging on it (see sendmail.h).
 */
#include <string.h>

#include "child.h"
#include "log.h"
#include "sendmail.h"
#include "str.h"

/* SENDMAIL_ARGV - sendmail -i -f FROM -- TO (FROM "" = the null sender) */
#define SENDMAIL_ARGV(from, to)                                               \
    {"sendmail", "-i", "-f", (char *)((from)[0] ? (from) : "<>"), "--",       \
     (char *)(to), NULL}

void sendmail_exec(const char *path, int fd, const char *from, const char *to)
{
    char *argv[] = SENDMAIL_ARGV(from, to);

    child_exec(path, argv, fd, -1);
}

int sendmail_send(const char *path, const char *from, const char *to,
                  const char *msg, size_t len, long long timeout_ms,
                  struct str *err)
{
    char *argv[] = SENDMAIL_ARGV(from, to);
    struct str out = STR_INIT;
    int st = child_run(path, argv, msg, len, &out, SENDMAIL_OUTPUT_MAX,
                       timeout_ms, err);

    if (st > 0) {
        const char *s = str_cstr(&out);
        str_appendf(err, "%s exited with status %d", path, st);
        if (*s)
            str_appendf(err, ": %s", log_safe(s, strcspn(s, "\n")));
    }
    str_free(&out);
    return st == 0 ? 0 : -1;
}
