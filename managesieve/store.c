/*
 * store - the ManageSieve side of a mailbox's Sieve scripts: the
 * operations of lib-sieve/storage.c (the layout postern-lda reads, atomic
 * writes, names, quotas) with their outcomes turned into ManageSieve
 * response codes (RFC 5804 1.3): NONEXISTENT, ALREADYEXISTS, ACTIVE,
 * QUOTA/MAXSCRIPTS, QUOTA/MAXSIZE; other failures carry no code (and are
 * logged by the caller).
 *
 * A .postern.sieve that is a regular file (placed by an admin) is left
 * alone: SETACTIVE then fails with a message instead of destroying it.
 */
#include <errno.h>
#include <string.h>

#include "msieve.h"
#include "storage.h"

int ms_name_ok(const char *name, size_t len)
{
    return sieve_storage_name_valid(name, len);
}

/* open_store - 0, or -1 with *err when there is no mailbox directory */
static int open_store(const struct ms_store *st, struct sieve_storage *ss,
                      struct str *err)
{
    if (sieve_storage_init(ss, st->dir, st->max_scripts, st->max_size) < 0)
        return str_appendf(err, "no usable mailbox directory"), -1;
    return 0;
}

/* code - the response code of a storage outcome (NULL: none) */
static int code_of(int rc, const char **code)
{
    switch (rc) {
    case SIEVE_STORAGE_NOTFOUND: *code = MS_NONEXISTENT; break;
    case SIEVE_STORAGE_EXISTS: *code = MS_ALREADYEXISTS; break;
    case SIEVE_STORAGE_IS_ACTIVE: *code = MS_ACTIVE; break;
    case SIEVE_STORAGE_TOO_BIG: *code = MS_QUOTA_SIZE; break;
    case SIEVE_STORAGE_TOO_MANY: *code = MS_QUOTA_SCRIPTS; break;
    default: *code = NULL; break;
    }
    return rc < 0 ? -1 : 0;
}

void ms_store_personal_dir(const struct ms_store *st, char *out, size_t size)
{
    struct sieve_storage ss;
    struct str err = STR_INIT;

    if ((open_store(st, &ss, &err) < 0 ||
         sieve_storage_dir_path(&ss, out, size) < 0) && size)
        out[0] = '\0';
    str_free(&err);
}

struct listctx {
    struct str *out;
    const char *act;
};

static void list_one(void *ctx, const char *name)
{
    struct listctx *lc = ctx;

    ms_quote(lc->out, name, strlen(name));
    if (lc->act && !strcmp(lc->act, name))
        str_append_cstr(lc->out, " ACTIVE");
    str_append_cstr(lc->out, "\r\n");
}

int ms_store_list(const struct ms_store *st, struct str *out, struct str *err)
{
    char act[SIEVE_STORAGE_NAME_MAX + 1];
    struct sieve_storage ss;
    struct listctx lc = {out, NULL};

    if (open_store(st, &ss, err) < 0)
        return -1;
    if (sieve_storage_active(&ss, act) == 1)
        lc.act = act;
    if (sieve_storage_list(&ss, list_one, &lc) < 0)
        return str_appendf(err, "cannot list scripts: %s", strerror(errno)), -1;
    return 0;
}

int ms_store_get(const struct ms_store *st, const char *name, struct str *out,
                 const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_read(&ss, name, out, err), code);
}

int ms_store_space(const struct ms_store *st, const char *name,
                   unsigned long long size, const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_space(&ss, name, size, err), code);
}

int ms_store_put(const struct ms_store *st, const char *name, const char *text,
                 size_t len, const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_write(&ss, name, text, len, err), code);
}

int ms_store_activate(const struct ms_store *st, const char *name,
                      const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_activate(&ss, name, err), code);
}

int ms_store_delete(const struct ms_store *st, const char *name,
                    const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_delete(&ss, name, err), code);
}

int ms_store_rename(const struct ms_store *st, const char *from, const char *to,
                    const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_rename(&ss, from, to, err), code);
}
