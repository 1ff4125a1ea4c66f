/*
 * log - logging to syslog or stderr.  See log.h.
 *
 * Thread-safe: each record is formatted into a stack buffer and written with
 * one write(2) (stderr) or one syslog(3) call.  Records longer than
 * LOG_LINE_MAX are cut.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "postern";
static enum log_target log_target = LOG_TO_STDERR;
static int log_verbosity;
static log_capture_fn log_capture_to;
static void *log_capture_ctx;

void log_capture(log_capture_fn fn, void *ctx)
{
    log_capture_to = fn;
    log_capture_ctx = ctx;
}

void log_open(const char *ident, enum log_target target, int verbose)
{
    log_ident = ident;
    log_target = target;
    log_verbosity = verbose;
    if (target == LOG_TO_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_get(const char **ident, enum log_target *target, int *verbose)
{
    *ident = log_ident;
    *target = log_target;
    *verbose = log_verbosity;
}

void log_set_verbose(int verbose)
{
    log_verbosity = verbose;
}

int log_verbose(void)
{
    return log_verbosity;
}

static void log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX + 128];
    int n;

    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        strcpy(msg, "(log format error)");
    if (log_capture_to && prio != LOG_CRIT) { /* fatal and panic: seen */
        log_capture_to(log_capture_ctx, tag, msg);
        return;
    }
    if (log_target == LOG_TO_SYSLOG) {
        syslog(prio, "%s%s", tag, msg);
        return;
    }
    n = snprintf(line, sizeof(line), "%s[%ld]: %s%s\n", log_ident,
                 (long)getpid(), tag, msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report */
    }
}

#define LOG_FN(name, prio, tag, cond)                                          \
    void name(const char *fmt, ...)                                            \
    {                                                                          \
        va_list ap;                                                            \
        if (!(cond))                                                           \
            return;                                                            \
        va_start(ap, fmt);                                                     \
        log_emit(prio, tag, fmt, ap);                                          \
        va_end(ap);                                                            \
    }

LOG_FN(log_debug, LOG_DEBUG, "debug: ", log_verbosity > 0)
LOG_FN(log_info, LOG_INFO, "", 1)
LOG_FN(log_warn, LOG_WARNING, "warning: ", 1)
LOG_FN(log_error, LOG_ERR, "error: ", 1)

void log_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(75); /* EX_TEMPFAIL: the environment is broken, try again later */
}

void log_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_emit(LOG_CRIT, "panic: ", fmt, ap);
    va_end(ap);
    abort();
}

char *log_sanitize(char *buf, size_t bufsize, const char *src, size_t len)
{
    size_t max, i, o = 0;
    int cut = 0;

    if (bufsize == 0)
        return buf;
    max = bufsize - 1;
    if (max > LOG_UNTRUSTED_MAX)
        max = LOG_UNTRUSTED_MAX;
    if (len > max) {
        cut = 1;
        len = max > 3 ? max - 3 : 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (cut)
        for (i = 0; i < 3 && o < max; i++)
            buf[o++] = '.';
    buf[o] = '\0';
    return buf;
}

const char *log_safe(const char *src, size_t len)
{
    static _Thread_local char bufs[4][LOG_UNTRUSTED_MAX + 1];
    static _Thread_local unsigned next;
    char *b = bufs[next++ % 4];

    if (src == NULL)
        return "(null)";
    return log_sanitize(b, LOG_UNTRUSTED_MAX + 1, src, len);
}

const char *log_safe_cstr(const char *src)
{
    return src ? log_safe(src, strlen(src)) : "(null)";
}

int log_limit_ok(struct log_limit *l, long long now_ms, long long interval_ms,
                 unsigned long *suppressed)
{
    if (now_ms < l->next_ms) {
        l->suppressed++;
        return 0;
    }
    *suppressed = l->suppressed;
    l->suppressed = 0;
    l->next_ms = now_ms + interval_ms;
    return 1;
}
