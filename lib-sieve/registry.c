/*
 * registry - the table of Sieve extensions (capabilities).  Index 0 is the
 * core language, always enabled; the others are enabled by "require".
 * Each extension module exports one struct sv_ext listing its commands,
 * tests and tags; a tool can add more at run time (sieve_ext_register(),
 * used by postern-sieve-test for vnd.dovecot.testsuite).
 *
 * Limits: SV_EXT_MAX extensions in all (a script's enabled set is a
 * 64-bit mask).
 */
#include <string.h>

#include "sieve-int.h"

/* the engine's own extensions, one line each (add new ones at the end) */
static const struct sv_ext *const builtin[] = {
    &sv_ext_core,
    &sv_ext_core_actions,
    &sv_ext_core_tests,
    &sv_ext_fileinto,
    &sv_ext_envelope,
    &sv_ext_copy,
    &sv_ext_reject,
    &sv_ext_ereject,
    &sv_ext_imap4flags,
    &sv_ext_subaddress,
    &sv_ext_relational,
    &sv_ext_mailbox,
    &sv_ext_body,
    &sv_ext_variables,
    &sv_ext_include,
    &sv_ext_regex,
    &sv_ext_date,
    &sv_ext_index,
    &sv_ext_environment,
    &sv_ext_ihave,
    &sv_ext_encoded,
    &sv_ext_cmp_numeric,
    &sv_ext_cmp_octet,
    &sv_ext_cmp_casemap,
    &sv_ext_vacation,
    &sv_ext_vacation_seconds,
    &sv_ext_spamtest,
    &sv_ext_spamtestplus,
    &sv_ext_virustest,
    &sv_ext_duplicate,
    &sv_ext_enotify,
    &sv_ext_editheader,
    &sv_ext_specialuse,
    &sv_ext_mailboxid,
    &sv_ext_fcc,
    &sv_ext_extlists,
    &sv_ext_mime,
    &sv_ext_foreverypart,
    &sv_ext_extracttext,
    &sv_ext_cmp_unicode,
    &sv_ext_replace,
    &sv_ext_enclose,
};
#define NBUILTIN ((int)(sizeof(builtin) / sizeof(builtin[0])))
_Static_assert(sizeof(builtin) / sizeof(builtin[0]) <= SV_EXT_MAX,
               "too many extensions for the 64-bit mask");

/* extensions registered at run time (sieve_ext_register) */
static const struct sv_ext *extra[SV_EXT_MAX];
static int nextra;
static int nregistry = NBUILTIN;

static const struct sv_ext *reg_at(int i)
{
    return i < NBUILTIN ? builtin[i] : extra[i - NBUILTIN];
}

int sv_ext_count(void)
{
    return nregistry;
}

const struct sv_ext *sv_ext_get(int i)
{
    return i >= 0 && i < nregistry ? reg_at(i) : NULL;
}

int sv_ext_find(const char *name)
{
    for (int i = 0; i < nregistry; i++)
        if (!reg_at(i)->core && strcmp(reg_at(i)->name, name) == 0)
            return i;
    return -1;
}

int sv_ext_id(const struct sv_ext *e)
{
    for (int i = 0; i < nregistry; i++)
        if (reg_at(i) == e)
            return i;
    return -1;
}

int sieve_ext_register(const struct sv_ext *e)
{
    if (sv_ext_id(e) >= 0)
        return 0;
    if (nregistry == SV_EXT_MAX)
        return -1;
    extra[nextra++] = e;
    nregistry++;
    return 0;
}

int sv_has(const struct sieve_script *s, const struct sv_ext *e)
{
    int id = sv_ext_id(e);

    return id >= 0 && (s->mask & ((sv_mask)1 << id)) != 0;
}

void sieve_capabilities(struct str *out)
{
    for (int i = 0; i < nregistry; i++) {
        const struct sv_ext *e = reg_at(i);

        if (e->extra || e->core)
            continue;
        if (out->len)
            str_append_char(out, ' ');
        str_append_cstr(out, e->name);
    }
}
