/*
 * file - reading small files whole, and complete writes.  See file.h.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read(const char *what, const char *path, size_t max, int flags,
              struct str *out, struct str *err)
{
    size_t start = out->len;
    char buf[8192];
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return str_appendf(err, "%s %s: %s", what, path, strerror(errno)), -1;
    if ((flags & FILE_SECRET) &&
        (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 007))) {
        close(fd);
        return str_appendf(err, "%s %s must be a regular file without access "
                           "for others (chmod o=)", what, path), -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || out->len - start + (size_t)n > max ||
            str_append(out, buf, (size_t)n) < 0)
            break;
    }
    close(fd);
    if (n != 0) {
        int e = n < 0 ? errno : EFBIG;
        str_truncate(out, start);
        return str_appendf(err, "%s %s: %s", what, path,
                           e == EFBIG ? "file too large" : strerror(e)), -1;
    }
    if (flags & (FILE_SECRET | FILE_STRIP_NEWLINES))
        while (out->len > start && (out->data[out->len - 1] == '\n' ||
                                    out->data[out->len - 1] == '\r'))
            str_truncate(out, out->len - 1);
    if ((flags & FILE_NONEMPTY) && out->len == start)
        return str_appendf(err, "%s %s: empty file", what, path), -1;
    return 0;
}

int file_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
