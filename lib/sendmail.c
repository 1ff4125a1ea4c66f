/*
 * sendmail - running sendmail(1) without hanging on it (see sendmail.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sendmail.h"
#include "str.h"

void sendmail_exec(const char *path, int fd, const char *from, const char *to)
{
    struct sigaction dfl;
    sigset_t none;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &dfl, NULL); /* SIGKILL/SIGSTOP: EINVAL */
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (fd == 0)
        (void)fcntl(0, F_SETFD, 0); /* keep it open across exec */
    else if (dup2(fd, 0) < 0)
        _exit(75);
    if (close_range(3, ~0U, 0) < 0)
        for (int i = 3; i < 65536; i++)
            (void)close(i);
    execl(path, "sendmail", "-i", "-f", from[0] ? from : "<>", "--", to,
          (char *)NULL);
    _exit(75);
}

int sendmail_reap(pid_t pid, long long deadline)
{
    int status, nap = 1;

    for (;;) {
        pid_t w = waitpid(pid, &status, deadline ? WNOHANG : 0);

        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)
            return -1;
        if (w == 0 && clock_ms() >= deadline) {
            (void)kill(-pid, SIGKILL);
            (void)kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -2;
        }
        if (w == 0) {
            struct timespec ts = {0, (long)nap * 1000000L};

            nanosleep(&ts, NULL);
            nap = nap < 16 ? nap * 2 : 16;
        }
    }
}

/* msg_fd - a memory file holding msg, at offset 0; -1 + *err */
static int msg_fd(const char *msg, size_t len, struct str *err)
{
    int fd = memfd_create("postern-sendmail", MFD_CLOEXEC);

    if (fd < 0)
        return str_appendf(err, "memfd_create: %s", strerror(errno)), -1;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, msg + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            str_appendf(err, "writing the message: %s", strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        str_appendf(err, "lseek: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int sendmail_send(const char *path, const char *from, const char *to,
                  const char *msg, size_t len, long long timeout_ms,
                  struct str *err)
{
    int fd = msg_fd(msg, len, err), status;
    pid_t pid;

    if (fd < 0)
        return -1;
    if ((pid = fork()) < 0) {
        str_appendf(err, "fork: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0) {
        (void)setpgid(0, 0);
        sendmail_exec(path, fd, from, to);
    }
    (void)setpgid(pid, pid);
    close(fd);
    status = sendmail_reap(pid, clock_ms() + timeout_ms);
    if (status == -2)
        return str_appendf(err, "%s did not finish within %lld ms; killed",
                           path, timeout_ms), -1;
    if (status == -1)
        return str_appendf(err, "waiting for %s: %s", path, strerror(errno)),
               -1;
    if (!WIFEXITED(status))
        return str_appendf(err, "%s killed by signal %d", path,
                           WIFSIGNALED(status) ? WTERMSIG(status) : 0), -1;
    if (WEXITSTATUS(status) != 0)
        return str_appendf(err, "%s exited with status %d", path,
                           WEXITSTATUS(status)), -1;
    return 0;
}
