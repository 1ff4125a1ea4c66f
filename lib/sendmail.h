/*
 * sendmail - running sendmail(1) from a daemon that must never hang on it,
 * on top of lib/child (a clean child, a deadline, its process group killed
 * after it).  postern-lda (Sieve redirect, vacation, notify) and
 * postern-forward use sendmail_exec in a child they fork themselves (the
 * message comes from a pipe or their own stdin); sendmail_send does the
 * whole round (postern-policyd's contain notices, postern-dirsync's
 * leaving notices, the admin command's reports and moderation mail).
 *
 * Limits: what sendmail prints is kept up to SENDMAIL_OUTPUT_MAX bytes and
 * its first line goes into the error.
 */
#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H

#include <stddef.h>

#define SENDMAIL_OUTPUT_MAX 4096

/*
 * sendmail_exec - in a forked child (call setpgid(0, 0) first if the
 * parent kills by process group; child_reap waits for it): fd becomes
 * stdin, then child_exec of path -i -f FROM -- TO (FROM "" = the null
 * sender <>).  Never returns: exit 75 (EX_TEMPFAIL) when exec fails.  Only
 * async-signal-safe calls.
 */
void sendmail_exec(const char *path, int fd, const char *from, const char *to)
    __attribute__((noreturn));

struct str;
/*
 * sendmail_send - the whole round: path -i -f FROM -- TO with msg[0..len)
 * on stdin, killed after timeout_ms.  0 when sendmail exited 0; -1 with the
 * reason (and the first line sendmail printed) appended to *err otherwise
 * (the message was then not taken: the caller retries or reports).
 */
int sendmail_send(const char *path, const char *from, const char *to,
                  const char *msg, size_t len, long long timeout_ms,
                  struct str *err);

#endif
