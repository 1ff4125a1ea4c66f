/*
 * util.c - settings, addresses, domains, suggestions (util.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "util.h"

unsigned admin_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned row[ADMIN_VALUE_MAX + 1];
    if (la > ADMIN_VALUE_MAX || lb > ADMIN_VALUE_MAX)
        return 255;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (tolower((unsigned char)a[i - 1]) !=
                                    tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 255 ? 255 : row[lb];
}

int admin_kv_parse(struct admin_kv *kv, int argc, char **argv,
                   const char *const *allowed, const char *what)
{
    kv->n = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        size_t klen;
        const char *const *k;
        if (!eq || eq == argv[i])
            return admin_error(ADMIN_EX_USAGE, what,
                               "'%s' is not KEY=VALUE", argv[i]);
        klen = (size_t)(eq - argv[i]);
        for (k = allowed; *k; k++)
            if (strlen(*k) == klen && strncmp(*k, argv[i], klen) == 0)
                break;
        if (!*k) {
            char key[64];
            const char *best = NULL;
            unsigned bestd = ADMIN_SUGGEST_DISTANCE + 1;
            str_copy_bounded(key, sizeof(key), argv[i],
                             klen < sizeof(key) - 1 ? klen : sizeof(key) - 1);
            for (k = allowed; *k; k++) {
                unsigned d = admin_edit_distance(key, *k);
                if (d < bestd) {
                    bestd = d;
                    best = *k;
                }
            }
            if (best)
                return admin_error(ADMIN_EX_USAGE, what,
                                   "unknown setting '%s' (did you mean '%s'?)",
                                   key, best);
            return admin_error(ADMIN_EX_USAGE, what, "unknown setting '%s'",
                               key);
        }
        if (admin_kv_get(kv, *k))
            return admin_error(ADMIN_EX_USAGE, what, "'%s' given twice", *k);
        if (strlen(eq + 1) > ADMIN_VALUE_MAX)
            return admin_error(ADMIN_EX_DATAERR, what,
                               "value of '%s' longer than %d octets", *k,
                               ADMIN_VALUE_MAX);
        if (kv->n >= ADMIN_KV_MAX)
            return admin_error(ADMIN_EX_USAGE, what,
                               "more than %d settings", ADMIN_KV_MAX);
        kv->key[kv->n] = *k;
        kv->val[kv->n] = eq + 1;
        kv->n++;
    }
    return ADMIN_EX_OK;
}

const char *admin_kv_get(const struct admin_kv *kv, const char *key)
{
    for (unsigned i = 0; i < kv->n; i++)
        if (strcmp(kv->key[i], key) == 0)
            return kv->val[i];
    return NULL;
}

int admin_parse_domain(const char *what, const char *in, char *out)
{
    size_t len = strlen(in);
    if (len && in[len - 1] == '.')
        len--; /* the root dot */
    if (len == 0 || len > ADDR_DOMAIN_MAX)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s' is not a domain name (1 to %d octets)", in,
                           ADDR_DOMAIN_MAX);
    if (in[0] == '[')
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s': address literals are not hosted domains",
                           in);
    if (!addr_domain_valid(in, len) || !memchr(in, '.', len))
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s' is not a domain name (letters, digits and "
                           "hyphens in at least two dot-separated labels; "
                           "IDNs in xn-- form)", in);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] >= 0x80 || in[i] == '_')
            return admin_error(ADMIN_EX_DATAERR, what,
                               "'%s': write an IDN in its xn-- form, without "
                               "'_'", in);
    memcpy(out, in, len);
    out[len] = 0;
    str_lower(out, len);
    return ADMIN_EX_OK;
}

int admin_parse_address(const char *what, const char *in, struct addr *a)
{
    const char *err = NULL;
    if (addr_parse(in, strlen(in), NULL, ADDR_LOWER_LOCAL | ADDR_NEED_DOMAIN,
                   a, &err) < 0)
        return admin_error(ADMIN_EX_DATAERR, what, "'%s': %s", in, err);
    if (a->local[0] == '"')
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s': quoted local parts are not stored; use "
                           "the plain form", in);
    if (a->domain[0] == '[')
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s': an address literal is not a hosted domain",
                           in);
    if (!strchr(a->domain, '.'))
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s': the domain needs at least two labels", in);
    return ADMIN_EX_OK;
}

struct suggest_ctx {
    const char *name;
    char *out;
    size_t outsize;
    unsigned best;
};

static int suggest_row(void *vctx, unsigned n, char **v,
                       const unsigned long *l)
{
    struct suggest_ctx *s = vctx;
    unsigned d;
    (void)n;
    if (!v[0])
        return 0;
    d = admin_edit_distance(s->name, v[0]);
    if (d < s->best && d > 0) {
        s->best = d;
        str_copy_bounded(s->out, s->outsize, v[0], l[0]);
    }
    return 0;
}

int admin_suggest(struct db *db, const char *table, const char *col,
                  const char *name, char *out, size_t outsize)
{
    struct suggest_ctx s = {name, out, outsize, ADMIN_SUGGEST_DISTANCE + 1};
    struct str sql = {0}, err = {0};
    int rc;
    out[0] = 0;
    /* candidates of a similar length only: a distance of 2 needs it */
    str_appendf(&sql, "SELECT %s FROM %s WHERE CHAR_LENGTH(%s) BETWEEN ? AND ?",
                col, table, col);
    {
        long long len = (long long)strlen(name);
        struct db_param p[2] = {DBP_I(len - ADMIN_SUGGEST_DISTANCE),
                                DBP_I(len + ADMIN_SUGGEST_DISTANCE)};
        rc = db_query(db, str_cstr(&sql), p, 2, suggest_row, &s, &err);
    }
    str_free(&sql);
    str_free(&err);
    if (rc < 0)
        return LK_TEMP;
    return out[0] ? LK_FOUND : LK_NOTFOUND;
}

int admin_parse_bool(const char *s)
{
    if (!strcasecmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "true"))
        return 1;
    if (!strcasecmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "false"))
        return 0;
    return -1;
}

int admin_parse_size(const char *s, unsigned long long *out)
{
    char *end;
    unsigned long long v, mul = 1;
    if (!*s || *s == '-' || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': mul = 1024ULL; end++; break;
    case 'M': mul = 1024ULL * 1024; end++; break;
    case 'G': mul = 1024ULL * 1024 * 1024; end++; break;
    case 'T': mul = 1024ULL * 1024 * 1024 * 1024; end++; break;
    default: return -1;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (v && mul > ~0ULL / v))
        return -1;
    *out = v * mul;
    return 0;
}
