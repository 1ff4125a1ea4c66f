/*
 * child - running another program (sendmail, postsuper, postqueue, the
 * Sieve test tool) from postern without hanging on it or leaking into it:
 * the child starts clean (default signal dispositions, an empty signal
 * mask, only descriptors 0-2 open, its own process group), the parent
 * waits until a deadline and then kills the child's whole process group,
 * and child_run does the whole round with the input from memory and the
 * output captured.
 *
 * Limits: input and output go through memory files (memfd), so nothing
 * blocks on a pipe; the captured output is cut at out_max bytes (what the
 * child writes beyond it is read by nobody; the deadline bounds it).
 * Descriptors above 2 are closed up to 65535 where close_range(2) is
 * missing.
 */
#ifndef POSTERN_CHILD_H
#define POSTERN_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct str;

/*
 * child_exec - in a forked child (call setpgid(0, 0) first if the parent
 * kills by process group): in_fd becomes stdin (-1: /dev/null), out_fd
 * stdout and stderr (-1: they stay), every signal disposition the default
 * (a daemon ignores SIGPIPE or handles SIGTERM; the child must not inherit
 * that), the signal mask empty, every descriptor above 2 closed; then exec
 * path with argv.  Never returns: exit 75 (EX_TEMPFAIL) when exec fails.
 * Only async-signal-safe calls.
 */
void child_exec(const char *path, char *const argv[], int in_fd, int out_fd)
    __attribute__((noreturn));

/*
 * child_reap - wait for pid until deadline (clock_ms(); 0 = no deadline):
 * its wait status; -2 when it was still running at the deadline and was
 * killed (SIGKILL to its process group and to it); -1 when waitpid failed.
 */
int child_reap(pid_t pid, long long deadline);

/*
 * child_run - path with argv (argv[0] the program's name), in[0..inlen) on
 * stdin (in NULL: /dev/null), stdout and stderr together into *out (out
 * NULL: they stay ours; at most out_max bytes kept), in its own process
 * group, killed after timeout_ms.  Its exit status (0..255); -1 with the
 * reason appended to *err when it could not be started, was killed by a
 * signal or ran out of time.
 */
int child_run(const char *path, char *const argv[], const char *in,
              size_t inlen, struct str *out, size_t out_max,
              long long timeout_ms, struct str *err);

#endif
