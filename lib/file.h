/*
 * file - small-file reading and complete writes, once for the tree:
 * password files, secrets, keys, messages for the tools.
 *
 *   file_read       the whole file into out (appended), at most max bytes
 *                   (a larger file is an error, never cut short)
 *   FILE_SECRET     flag: the file must be a regular file without access
 *                   for others (chmod o=), and trailing CR/LF are removed
 *   FILE_NONEMPTY   flag: an empty file is an error
 *   file_write_all  write n bytes, retrying short writes and EINTR
 *
 * Diagnostics: -1 with "PATH: reason" in *err (what the caller names the
 * file, e.g. "database password file", is passed as what).
 */
#ifndef POSTERN_FILE_H
#define POSTERN_FILE_H

#include <stddef.h>

#include "str.h"

#define FILE_SECRET 1
#define FILE_NONEMPTY 2
#define FILE_STRIP_NEWLINES 4

int file_read(const char *what, const char *path, size_t max, int flags,
              struct str *out, struct str *err);
/* file_write_all - 0, or -1 with errno set. */
int file_write_all(int fd, const void *buf, size_t n);

#endif
