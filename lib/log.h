/*
 * log - logging to syslog or stderr, with a severity ladder.
 *
 * log_info/log_warn/log_error report; log_fatal is for a broken environment
 * (exit 75 = EX_TEMPFAIL so a caller like Postfix pipe retries); log_panic is
 * for a programming bug (abort).  Untrusted text must pass through
 * log_sanitize() before it is logged: control and non-ASCII bytes become '?'
 * and the text is cut at LOG_UNTRUSTED_MAX bytes with a "..." marker.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 2048       /* one log record, bytes */
#define LOG_UNTRUSTED_MAX 512   /* one untrusted field, bytes */

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_open(const char *ident, enum log_target target, int verbose);
void log_set_verbose(int verbose);
/* log_get - what log_open was given (for a loaded module's own copy of
   this log, lib/ldapload.h) */
void log_get(const char **ident, enum log_target *target, int *verbose);
int log_verbose(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_capture - from now on every record goes to fn (tag: "", "debug: ",
 * "warning: ", "error: "; msg without a newline) instead of syslog or
 * stderr; NULL restores them.  For a program that shows what the checks it
 * runs would log (postern explain); fatal and panic records still go out.
 * Set it before any thread starts; fn
 * must be thread-safe if threads log.
 */
typedef void (*log_capture_fn)(void *ctx, const char *tag, const char *msg);
void log_capture(log_capture_fn fn, void *ctx);

/*
 * log_sanitize - copy untrusted bytes into buf (size bufsize) so they are
 * safe to log: printable ASCII kept, everything else '?', cut at
 * min(bufsize - 1, LOG_UNTRUSTED_MAX) with "..." appended when cut.
 * Returns buf.
 */
char *log_sanitize(char *buf, size_t bufsize, const char *src, size_t len);

/*
 * log_limit - at most one record of a kind per interval, for conditions
 * that can repeat thousands of times a second (accept failing with EMFILE,
 * a connection limit reached): log_limit_ok() says whether a record may be
 * written now; when it may not, the record is counted, and the count of
 * the records held back since the last one written is handed to the next
 * one (*suppressed) to be reported with it.  Zero-initialise; one per
 * condition; not thread-safe (one thread owns it).
 */
struct log_limit {
    long long next_ms;        /* clock_ms() from which the next may go */
    unsigned long suppressed; /* held back since the last one written */
};

int log_limit_ok(struct log_limit *l, long long now_ms, long long interval_ms,
                 unsigned long *suppressed);

/* Convenience: sanitize into one of a few rotating thread-local buffers. */
const char *log_safe(const char *src, size_t len);
const char *log_safe_cstr(const char *src);

#endif
