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
 *
 * The script generated from the mailbox's settings (vacation, forward,
 * spam: lib-sieve/settings.h) is listed as SIEVE_SETTINGS_NAME
 * ("postern-settings", never ACTIVE: it runs before the active script)
 * when the mailbox has settings; GETSCRIPT returns its text (read from
 * the database at that moment); PUTSCRIPT, DELETESCRIPT, RENAMESCRIPT
 * (from or to it), SETACTIVE and HAVESPACE on that name answer NO: the
 * name is reserved, a user cannot make a script of their own with it.
 * A database that does not answer fails LISTSCRIPTS and that GETSCRIPT.
 */
#include <errno.h>
#include <string.h>

#include "lookup.h"
#include "msieve.h"
#include "settings.h"
#include "storage.h"

int ms_name_ok(const char *name, size_t len)
{
    return sieve_storage_name_valid(name, len);
}

static int is_settings(const char *name)
{
    return name && strcmp(name, SIEVE_SETTINGS_NAME) == 0;
}

/* readonly - the refusal of every change to the settings script */
static int readonly(const char **code, struct str *err)
{
    *code = NULL;
    str_appendf(err, "\"%s\" is generated from your mailbox settings "
                "(out-of-office reply, forward, spam folder) and is "
                "read-only: ask your administrator to change them; the name "
                "is reserved", SIEVE_SETTINGS_NAME);
    return -1;
}

/* settings_text - the generated script: LK_FOUND (text in out),
   LK_NOTFOUND (no settings), LK_TEMP + *err */
static int settings_text(const struct ms_store *st, struct str *out,
                         struct str *err)
{
    struct sieve_settings s;
    struct str e = STR_INIT;
    int rc;

    if (st->db == NULL || st->user == NULL)
        return LK_NOTFOUND;
    sieve_settings_init(&s);
    rc = sieve_settings_load(st->db, st->user, &s, &e);
    if (rc == LK_FOUND)
        sieve_settings_script(&s, st->spam_score_max, out);
    else if (rc < 0)
        str_appendf(err, "mailbox settings not available now, try again "
                    "later (%s)", str_cstr(&e));
    sieve_settings_free(&s);
    str_free(&e);
    return rc < 0 ? LK_TEMP : rc == LK_FOUND && out->len ? LK_FOUND
                                                         : LK_NOTFOUND;
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
    struct str gen = STR_INIT;
    int rc = settings_text(st, &gen, err);
    str_free(&gen);
    if (rc < 0)
        return -1;
    if (sieve_storage_list(&ss, list_one, &lc) < 0)
        return str_appendf(err, "cannot list scripts: %s", strerror(errno)), -1;
    if (rc == LK_FOUND) {
        lc.act = NULL; /* never ACTIVE: it runs before the active script */
        list_one(&lc, SIEVE_SETTINGS_NAME);
    }
    return 0;
}

int ms_store_get(const struct ms_store *st, const char *name, struct str *out,
                 const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(name)) {
        int rc = settings_text(st, out, err);
        *code = rc == LK_NOTFOUND ? MS_NONEXISTENT : NULL;
        if (rc == LK_NOTFOUND)
            str_appendf(err, "no settings: \"%s\" is shown when an "
                        "administrator set any", SIEVE_SETTINGS_NAME);
        return rc == LK_FOUND ? 0 : -1;
    }
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_read(&ss, name, out, err), code);
}

int ms_store_space(const struct ms_store *st, const char *name,
                   unsigned long long size, const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(name))
        return readonly(code, err);
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_space(&ss, name, size, err), code);
}

int ms_store_put(const struct ms_store *st, const char *name, const char *text,
                 size_t len, const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(name))
        return readonly(code, err);
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_write(&ss, name, text, len, err), code);
}

int ms_store_activate(const struct ms_store *st, const char *name,
                      const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(name))
        return readonly(code, err);
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_activate(&ss, name, err), code);
}

int ms_store_delete(const struct ms_store *st, const char *name,
                    const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(name))
        return readonly(code, err);
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_delete(&ss, name, err), code);
}

int ms_store_rename(const struct ms_store *st, const char *from, const char *to,
                    const char **code, struct str *err)
{
    struct sieve_storage ss;

    if (is_settings(from) || is_settings(to))
        return readonly(code, err);
    if (open_store(st, &ss, err) < 0)
        return *code = NULL, -1;
    return code_of(sieve_storage_rename(&ss, from, to, err), code);
}
