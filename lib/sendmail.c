/*
 * sendmail - running sendmail(1) without hanging on it (see sendmail.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sendmail.h"

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
