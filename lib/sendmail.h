/*
 * sendmail - the two halves of running sendmail(1) from a daemon that must
 * never hang on it: the child's side (a clean process: default signals,
 * nothing inherited but stdin) and the parent's (wait with a deadline, then
 * kill the child's whole process group).  postern-lda (Sieve redirect,
 * vacation, notify) and postern-dirsync (leaving notices) use them;
 * sendmail_send does the whole round (postern quota report).
 *
 * Limits: descriptors above 2 are closed up to 65535 where close_range(2)
 * is missing.
 */
#ifndef POSTERN_SENDMAIL_H
#define POSTERN_SENDMAIL_H

#include <sys/types.h>

/*
 * sendmail_exec - in a forked child (call setpgid(0, 0) first if the
 * parent kills by process group): fd becomes stdin, every signal
 * disposition the default (a daemon ignores SIGPIPE or handles SIGTERM;
 * sendmail must not inherit that), the signal mask empty, every descriptor
 * above 2 closed; then exec path -i -f FROM -- TO (FROM "" = the null
 * sender <>).  Never returns: exit 75 (EX_TEMPFAIL) when exec fails.  Only
 * async-signal-safe calls.
 */
void sendmail_exec(const char *path, int fd, const char *from, const char *to)
    __attribute__((noreturn));

/*
 * sendmail_reap - wait for pid until deadline (clock_ms(); 0 = no
 * deadline): its wait status; -2 when it was still running at the deadline
 * and was killed (SIGKILL to its process group and to it); -1 when waitpid
 * failed.
 */
int sendmail_reap(pid_t pid, long long deadline);

struct str;
/*
 * sendmail_send - the whole round: path -i -f FROM -- TO with msg[0..len)
 * on stdin (a memory file: nothing blocks or raises SIGPIPE on our side),
 * the child in its own process group, killed after timeout_ms.  0 when
 * sendmail exited 0; -1 with the reason appended to *err otherwise (the
 * message was then not taken: the caller retries or reports).
 */
int sendmail_send(const char *path, const char *from, const char *to,
                  const char *msg, size_t len, long long timeout_ms,
                  struct str *err);

#endif
