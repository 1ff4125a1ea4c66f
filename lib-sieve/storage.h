/*
 * storage - a mailbox's Sieve scripts on disk: the one description of the
 * layout that postern-managesieve writes and postern-lda reads.
 *
 *   ROOT/sieve/NAME.sieve   one file per script (the personal directory:
 *                           include :personal finds scripts here too)
 *   ROOT/.postern.sieve     the active script: a symlink
 *                           "sieve/NAME.sieve" as ManageSieve writes it,
 *                           or a regular file an admin placed (run by
 *                           the LDA, never replaced by ManageSieve);
 *                           absent: no active script
 *   ROOT/.postern.sieve.log the compile errors of the active script,
 *                           written by the LDA for the user
 *
 * ROOT is the mailbox directory (mail_root/maildir).  Writes are atomic:
 * a script is written to a hidden temporary file and renamed into place,
 * the active link is replaced by renaming a new symlink over it, so the
 * LDA never reads half a script or finds no link in between.  Directories
 * are created on first use (mode 0700).
 *
 * Names (RFC 5804 script names): 1..SIEVE_STORAGE_NAME_MAX bytes, no NUL,
 * no '/', no control characters, not starting with '.'.  Quotas:
 * max_scripts files (0: unlimited), max_size bytes per script; nothing
 * larger than SIEVE_SCRIPT_MAX is ever read.
 *
 * Diagnostics: every function that can fail returns SIEVE_STORAGE_OK (0)
 * or a negative SIEVE_STORAGE_* outcome with a text for the user in *err
 * (SIEVE_STORAGE_TEMP: the file system failed; the text names the step
 * and strerror).  Nothing here logs.
 */
#ifndef POSTERN_SIEVE_STORAGE_H
#define POSTERN_SIEVE_STORAGE_H

#include <stddef.h>

#include "str.h"

#define SIEVE_STORAGE_ACTIVE ".postern.sieve"
#define SIEVE_STORAGE_LOG ".postern.sieve.log"
#define SIEVE_STORAGE_DIR "sieve"
#define SIEVE_STORAGE_SUFFIX ".sieve"
#define SIEVE_STORAGE_NAME_MAX 128   /* bytes of a script name */
#define SIEVE_STORAGE_ROOT_MAX 4096  /* bytes of the mailbox directory */
/* a path below the mailbox directory (script, link, temporary file) */
#define SIEVE_STORAGE_PATH_MAX (SIEVE_STORAGE_ROOT_MAX + \
                                SIEVE_STORAGE_NAME_MAX + 64)

enum sieve_storage_rc {
    SIEVE_STORAGE_OK = 0,
    SIEVE_STORAGE_TEMP = -1,      /* the file system failed (errno text) */
    SIEVE_STORAGE_NOTFOUND = -2,  /* no such script */
    SIEVE_STORAGE_EXISTS = -3,    /* the new name is taken */
    SIEVE_STORAGE_IS_ACTIVE = -4, /* the active script cannot be deleted */
    SIEVE_STORAGE_TOO_BIG = -5,   /* over max_size (or SIEVE_SCRIPT_MAX) */
    SIEVE_STORAGE_TOO_MANY = -6,  /* max_scripts reached */
    SIEVE_STORAGE_NOT_OURS = -7,  /* .postern.sieve is not a symlink */
    SIEVE_STORAGE_BAD_NAME = -8,  /* not a valid script name */
};

struct sieve_storage {
    char root[SIEVE_STORAGE_ROOT_MAX];  /* the mailbox directory */
    long long max_scripts;              /* 0: unlimited */
    long long max_size;                 /* bytes per script */
};

/* sieve_storage_init - st for the mailbox directory root; 0, or -1 when
   root is empty or longer than SIEVE_STORAGE_ROOT_MAX - 1 */
int sieve_storage_init(struct sieve_storage *st, const char *root,
                       long long max_scripts, long long max_size);
/* sieve_storage_name_valid - 1 if name[0..len) is a usable script name */
int sieve_storage_name_valid(const char *name, size_t len);

/* paths: 0, or -1 when out (size bytes) is too small.  name NULL for
   sieve_storage_script_path is the script directory. */
int sieve_storage_script_path(const struct sieve_storage *st,
                              const char *name, char *out, size_t size);
int sieve_storage_dir_path(const struct sieve_storage *st, char *out,
                           size_t size);
int sieve_storage_active_path(const struct sieve_storage *st, char *out,
                              size_t size);
int sieve_storage_log_path(const struct sieve_storage *st, char *out,
                           size_t size);

/* sieve_storage_active - the active script's name into name (at least
   SIEVE_STORAGE_NAME_MAX + 1 bytes): 1 there is one, 0 none, -1 the link
   is not ours (a regular file, a foreign target) or cannot be read */
int sieve_storage_active(const struct sieve_storage *st, char *name);
/* sieve_storage_exists - 1 if the script is a regular file, else 0 */
int sieve_storage_exists(const struct sieve_storage *st, const char *name);
/* sieve_storage_list - call fn for every script name (directory order);
   the number of scripts, or -1 with errno (no directory: 0) */
long sieve_storage_list(const struct sieve_storage *st,
                        void (*fn)(void *ctx, const char *name), void *ctx);

/* the operations: SIEVE_STORAGE_OK or a negative outcome with *err */
int sieve_storage_read(const struct sieve_storage *st, const char *name,
                       struct str *out, struct str *err);
/* sieve_storage_space - would a script `size` bytes fit under name? */
int sieve_storage_space(const struct sieve_storage *st, const char *name,
                        unsigned long long size, struct str *err);
int sieve_storage_write(const struct sieve_storage *st, const char *name,
                        const char *text, size_t len, struct str *err);
/* sieve_storage_activate - make name the active script; NULL or ""
   deactivates (removes the link) */
int sieve_storage_activate(const struct sieve_storage *st, const char *name,
                           struct str *err);
int sieve_storage_delete(const struct sieve_storage *st, const char *name,
                         struct str *err);
/* sieve_storage_rename - the active script stays active under its new
   name and never disappears for the LDA (link, re-point, unlink) */
int sieve_storage_rename(const struct sieve_storage *st, const char *from,
                         const char *to, struct str *err);

#endif
