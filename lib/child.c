/*
 * child - running another program without hanging on it (see child.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "str.h"

/* onto - fd as descriptor to (kept open across exec); 0 or -1 */
static int onto(int fd, int to)
{
    if (fd == to)
        return fcntl(to, F_SETFD, 0);
    return dup2(fd, to) < 0 ? -1 : 0;
}

void child_exec(const char *path, char *const argv[], int in_fd, int out_fd)
{
    struct sigaction dfl;
    sigset_t none;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &dfl, NULL); /* SIGKILL/SIGSTOP: EINVAL */
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    if (in_fd < 0 && (in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        _exit(75);
    if (onto(in_fd, 0) < 0)
        _exit(75);
    if (out_fd >= 0 && (onto(out_fd, 1) < 0 || onto(out_fd, 2) < 0))
        _exit(75);
    if (close_range(3, ~0U, 0) < 0)
        for (int i = 3; i < 65536; i++)
            (void)close(i);
    execv(path, argv);
    _exit(75);
}

int child_reap(pid_t pid, long long deadline)
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

/* mem_fd - a memory file holding data[0..len), at offset 0; -1 + *err */
static int mem_fd(const char *data, size_t len, struct str *err)
{
    int fd = memfd_create("postern-child", MFD_CLOEXEC);

    if (fd < 0)
        return str_appendf(err, "memfd_create: %s", strerror(errno)), -1;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, data + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            str_appendf(err, "writing the input: %s", strerror(errno));
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

/* take - at most max bytes of fd from its start into *out */
static void take(int fd, struct str *out, size_t max)
{
    char buf[4096];
    size_t got = 0;
    ssize_t r;

    if (lseek(fd, 0, SEEK_SET) < 0)
        return;
    while (got < max) {
        size_t want = max - got < sizeof(buf) ? max - got : sizeof(buf);

        if ((r = read(fd, buf, want)) < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        str_append(out, buf, (size_t)r);
        got += (size_t)r;
    }
}

int child_run(const char *path, char *const argv[], const char *in,
              size_t inlen, struct str *out, size_t out_max,
              long long timeout_ms, struct str *err)
{
    int in_fd = -1, out_fd = -1, status;
    pid_t pid;

    if (in && (in_fd = mem_fd(in, inlen, err)) < 0)
        return -1;
    if (out && (out_fd = mem_fd("", 0, err)) < 0) {
        if (in_fd >= 0)
            close(in_fd);
        return -1;
    }
    if ((pid = fork()) == 0) {
        (void)setpgid(0, 0);
        child_exec(path, argv, in_fd, out_fd);
    }
    if (in_fd >= 0)
        close(in_fd);
    if (pid < 0) {
        if (out_fd >= 0)
            close(out_fd);
        return str_appendf(err, "fork: %s", strerror(errno)), -1;
    }
    (void)setpgid(pid, pid);
    status = child_reap(pid, clock_ms() + timeout_ms);
    if (out_fd >= 0) {
        take(out_fd, out, out_max);
        close(out_fd);
    }
    if (status == -2)
        return str_appendf(err, "%s did not finish within %lld ms; killed",
                           path, timeout_ms), -1;
    if (status == -1)
        return str_appendf(err, "waiting for %s: %s", path, strerror(errno)),
               -1;
    if (!WIFEXITED(status))
        return str_appendf(err, "%s killed by signal %d", path,
                           WIFSIGNALED(status) ? WTERMSIG(status) : 0), -1;
    return WEXITSTATUS(status);
}
