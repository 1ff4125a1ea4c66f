/*
 * util.c - settings, addresses, domains, suggestions (util.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lookup.h"
#include "mem.h"
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

int admin_domain_check(const char *in, char *out, struct str *why)
{
    size_t len = strlen(in);
    if (len && in[len - 1] == '.')
        len--; /* the root dot */
    if (len == 0 || len > ADDR_DOMAIN_MAX)
        return str_appendf(why,
                           "'%s' is not a domain name (1 to %d octets)", in,
                           ADDR_DOMAIN_MAX), ADMIN_EX_DATAERR;
    if (in[0] == '[')
        return str_appendf(why,
                           "'%s': address literals are not hosted domains",
                           in), ADMIN_EX_DATAERR;
    if (!addr_domain_valid(in, len) || !memchr(in, '.', len))
        return str_appendf(why,
                           "'%s' is not a domain name (letters, digits and "
                           "hyphens in at least two dot-separated labels; "
                           "IDNs in xn-- form)", in), ADMIN_EX_DATAERR;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)in[i] >= 0x80 || in[i] == '_')
            return str_appendf(why,
                               "'%s': write an IDN in its xn-- form, without "
                               "'_'", in), ADMIN_EX_DATAERR;
    memcpy(out, in, len);
    out[len] = 0;
    str_lower(out, len);
    return ADMIN_EX_OK;
}

int admin_parse_domain(const char *what, const char *in, char *out)
{
    struct str why = {0};
    int rc = admin_domain_check(in, out, &why);
    if (rc)
        admin_error(rc, what, "%s", str_cstr(&why));
    str_free(&why);
    return rc;
}

int admin_address_check(const char *in, struct addr *a, struct str *why)
{
    const char *err = NULL;
    if (addr_parse(in, strlen(in), NULL, ADDR_LOWER_LOCAL | ADDR_NEED_DOMAIN,
                   a, &err) < 0)
        return str_appendf(why, "'%s': %s", in, err), ADMIN_EX_DATAERR;
    if (a->local[0] == '"')
        return str_appendf(why,
                           "'%s': quoted local parts are not stored; use "
                           "the plain form", in), ADMIN_EX_DATAERR;
    if (a->domain[0] == '[')
        return str_appendf(why,
                           "'%s': an address literal is not a hosted domain",
                           in), ADMIN_EX_DATAERR;
    if (!strchr(a->domain, '.'))
        return str_appendf(why,
                           "'%s': the domain needs at least two labels",
                           in), ADMIN_EX_DATAERR;
    return ADMIN_EX_OK;
}

int admin_parse_address(const char *what, const char *in, struct addr *a)
{
    struct str why = {0};
    int rc = admin_address_check(in, a, &why);
    if (rc)
        admin_error(rc, what, "%s", str_cstr(&why));
    str_free(&why);
    return rc;
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

int admin_index(const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return i;
    return -1;
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

/* --- policy objects (adm2) --- */

int admin_parse_duration(const char *s, unsigned long long *out)
{
    char *end;
    unsigned long long v, mul = 1;
    if (!*s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (*end) {
    case 0: break;
    case 's': end++; break;
    case 'm': mul = 60; end++; break;
    case 'h': mul = 3600; end++; break;
    case 'd': mul = 86400; end++; break;
    case 'w': mul = 7 * 86400; end++; break;
    default: return -1;
    }
    if (*end || (v && mul > ~0ULL / v))
        return -1;
    *out = v * mul;
    return 0;
}

struct value_ctx {
    char *out;
    size_t outsize;
};

static int value_row(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct value_ctx *c = vctx;
    (void)n;
    if (v[0])
        str_copy_bounded(c->out, c->outsize, v[0], l[0]);
    else
        c->out[0] = 0;
    return 1;
}

int admin_dbfail(const char *what, const struct str *err)
{
    return admin_error(ADMIN_EX_TEMPFAIL, what,
                       "database: %s (nothing was changed; try again)",
                       err->data ? err->data : "unavailable");
}

int admin_value(struct db *db, const char *what, const char *sql,
                const struct db_param *p, size_t np, char *out,
                size_t outsize)
{
    struct value_ctx c = {out, outsize};
    struct str err = {0};
    int rc;
    out[0] = 0;
    rc = db_query(db, sql, p, np, value_row, &c, &err);
    if (rc < 0)
        admin_dbfail(what, &err);
    str_free(&err);
    return rc < 0 ? LK_TEMP : rc;
}

int admin_group_id(struct db *db, const char *what, const char *name,
                   int missing_status, long long *id)
{
    char buf[32], near[128];
    struct db_param p = DBP_S(name);
    int rc = admin_value(db, what, "SELECT id FROM policy_groups WHERE name = ?",
                         &p, 1, buf, sizeof(buf));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_FOUND) {
        *id = strtoll(buf, NULL, 10);
        return ADMIN_EX_OK;
    }
    rc = admin_suggest(db, "policy_groups", "name", name, near, sizeof(near));
    if (rc == LK_FOUND)
        return admin_error(missing_status, what,
                           "no policy group '%s' (did you mean '%s'?)", name,
                           near);
    return admin_error(missing_status, what,
                       "no policy group '%s' (postern group list shows them)",
                       name);
}

int admin_hosted_domain(struct db *db, const char *what, char *dom)
{
    char kind[16], target[ADDR_DOMAIN_MAX + 1], near[ADDR_DOMAIN_MAX + 1];
    struct db_param p = DBP_S(dom);
    int rc = admin_value(db, what, "SELECT kind FROM domains WHERE name = ?",
                         &p, 1, kind, sizeof(kind));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    if (rc == LK_NOTFOUND) {
        rc = admin_suggest(db, "domains", "name", dom, near, sizeof(near));
        if (rc == LK_FOUND)
            return admin_error(ADMIN_EX_DATAERR, what,
                               "'%s' is no hosted domain (did you mean '%s'?)",
                               dom, near);
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s' is no hosted domain (postern domain list "
                           "shows them)", dom);
    }
    if (strcmp(kind, "alias") != 0)
        return ADMIN_EX_OK;
    rc = admin_value(db, what,
                     "SELECT alias_target FROM domains WHERE name = ?", &p, 1,
                     target, sizeof(target));
    if (rc < 0)
        return ADMIN_EX_TEMPFAIL;
    fprintf(stderr, "postern: %s: note: %s is an alias domain of %s; "
                    "stored as %s (rules match the canonical address)\n",
            what, dom, target, target);
    memcpy(dom, target, strlen(target) + 1);
    return ADMIN_EX_OK;
}

/* rows collected first, printed after the query succeeded: a failing
   query prints no header and no half JSON document */
struct list_rows {
    char **vals; /* nrows * ncols, NULL for SQL NULL */
    size_t nrows, cap;
    unsigned ncols;
};

static int list_row(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct list_rows *r = vctx;
    (void)l;
    if (r->nrows == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->vals = xreallocarray(r->vals, r->cap * r->ncols, sizeof(char *));
    }
    for (unsigned i = 0; i < r->ncols; i++)
        r->vals[r->nrows * r->ncols + i] = i < n && v[i] ? xstrdup(v[i]) : NULL;
    r->nrows++;
    return 0;
}

int admin_list(struct admin *a, const char *const *cols, const char *sql,
               const struct db_param *p, size_t np)
{
    struct admin_out o;
    struct list_rows r = {0};
    struct str err = {0};
    struct db *db = admin_db(a);
    int rc;
    if (!db)
        return ADMIN_EX_TEMPFAIL;
    while (cols[r.ncols])
        r.ncols++;
    rc = db_query(db, sql, p, np, list_row, &r, &err);
    if (rc >= 0) {
        admin_out_begin(&o, a, cols);
        for (size_t i = 0; i < r.nrows; i++)
            admin_out_row(&o, r.vals + i * r.ncols);
        admin_out_end(&o);
    } else
        admin_dbfail("list", &err);
    for (size_t i = 0; i < r.nrows * r.ncols; i++)
        free(r.vals[i]);
    free(r.vals);
    str_free(&err);
    return rc < 0 ? ADMIN_EX_TEMPFAIL : ADMIN_EX_OK;
}

int admin_ldap_owned(const char *what, const char *object)
{
    return admin_error(ADMIN_EX_DATAERR, what,
                       "%s belongs to postern-dirsync (owner = ldap): change "
                       "it in the directory, postern-dirsync writes it here",
                       object);
}

/* --- routing objects (adm1) --- */

int admin_take_flag(int *argc, char **argv, const char *flag)
{
    int found = 0, j = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], flag) == 0)
            found = 1;
        else
            argv[j++] = argv[i];
    }
    *argc = j;
    argv[j] = NULL;
    return found;
}

static int admin_bad_verb(const char *what, const char *verb,
                          const struct admin_verb *verbs)
{
    struct str list = {0};
    const char *best = NULL;
    unsigned bestd = ADMIN_SUGGEST_DISTANCE + 1;
    for (const struct admin_verb *v = verbs; v->name; v++) {
        unsigned d = admin_edit_distance(verb, v->name);
        str_appendf(&list, "%s%s", v == verbs ? "" : ", ", v->name);
        if (*verb && d < bestd) {
            bestd = d;
            best = v->name;
        }
    }
    if (!*verb)
        admin_error(ADMIN_EX_USAGE, what, "say what to do: %s",
                    str_cstr(&list));
    else if (best)
        admin_error(ADMIN_EX_USAGE, what, "no verb '%s' (did you mean "
                    "'%s'?)", verb, best);
    else
        admin_error(ADMIN_EX_USAGE, what, "no verb '%s' (%s)", verb,
                    str_cstr(&list));
    str_free(&list);
    return ADMIN_EX_USAGE;
}

int admin_dispatch(struct admin *a, const char *what,
                   const struct admin_verb *verbs, const char *flag,
                   int argc, char **argv)
{
    a->flag = flag ? admin_take_flag(&argc, argv, flag) : 0;
    a->verb = argc > 1 ? argv[1] : "";
    for (const struct admin_verb *v = verbs; v->name; v++)
        if (strcmp(a->verb, v->name) == 0)
            return v->run(a, argc - 2, argv + 2);
    return admin_bad_verb(what, a->verb, verbs);
}

void admin_done(struct admin *a, const char *object, const char *action,
                const char *key, unsigned long long rows)
{
    static const char *const cols[] = {"object", "action", "key", "rows",
                                       "dry_run", NULL};
    struct admin_out o;
    char n[32];
    char *v[5];
    snprintf(n, sizeof(n), "%llu", rows);
    v[0] = (char *)object;
    v[1] = (char *)action;
    v[2] = (char *)key;
    v[3] = n;
    v[4] = a->dry_run ? "1" : "0";
    admin_out_begin(&o, a, cols);
    admin_out_row(&o, v);
    admin_out_end(&o);
}

struct show_ctx {
    struct admin *a;
    const char *const *cols;
};

static int show_row(void *vctx, unsigned n, char **v, const unsigned long *l)
{
    struct show_ctx *c = vctx;
    struct str out = {0};
    (void)l;
    if (c->a->json)
        str_append_char(&out, '{');
    for (unsigned i = 0; i < n && c->cols[i]; i++) {
        if (c->a->json) {
            str_append_cstr(&out, i ? ",\n " : "\n ");
            admin_json_str(&out, c->cols[i]);
            str_append_cstr(&out, ": ");
            if (v[i])
                admin_json_str(&out, v[i]);
            else
                str_append_cstr(&out, "null");
        } else {
            size_t at;
            str_appendf(&out, "%s\t", c->cols[i]);
            at = out.len;
            str_append_cstr(&out, v[i] ? v[i] : "-");
            for (size_t k = at; k < out.len; k++)
                if (out.data[k] == '\t' || out.data[k] == '\n' ||
                    out.data[k] == '\r')
                    out.data[k] = ' ';
            str_append_char(&out, '\n');
        }
    }
    if (c->a->json)
        str_append_cstr(&out, "\n}\n");
    fwrite(out.data, 1, out.len, stdout);
    str_free(&out);
    return 1;
}

int admin_show(struct admin *a, const char *what, const char *const *cols,
               const char *sql, const struct db_param *p, size_t np)
{
    struct show_ctx c = {a, cols};
    struct str err = {0};
    struct db *db = admin_db(a);
    int rc;
    if (!db)
        return LK_TEMP;
    rc = db_query(db, sql, p, np, show_row, &c, &err);
    if (rc < 0)
        admin_dbfail(what, &err);
    str_free(&err);
    return rc;
}

int admin_parse_text(const char *what, const char *key, const char *v,
                     size_t max, const char **out)
{
    *out = NULL;
    if (!v || !*v)
        return ADMIN_EX_OK;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return admin_error(ADMIN_EX_DATAERR, what,
                               "%s: control characters (a tab, a newline) "
                               "are not allowed", key);
    if (strlen(v) > max)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "%s: longer than %zu characters", key, max);
    *out = v;
    return ADMIN_EX_OK;
}

int admin_parse_int(const char *what, const char *key, const char *v,
                    long long min, long long max, long long *out)
{
    char *end;
    long long n;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "%s=%s: a whole number from %lld to %lld", key, v,
                           min, max);
    *out = n;
    return ADMIN_EX_OK;
}

int admin_network_ok(const char *v)
{
    char ip[64];
    const char *slash = strchr(v, '/');
    size_t n = slash ? (size_t)(slash - v) : strlen(v);
    unsigned char buf[16];
    int v6;
    if (n == 0 || n >= sizeof(ip))
        return 0;
    memcpy(ip, v, n);
    ip[n] = 0;
    v6 = strchr(ip, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, buf) != 1)
        return 0;
    if (slash) {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0 || bits > (v6 ? 128 : 32))
            return 0;
    }
    return 1;
}

int admin_kv_text(const struct admin_kv *kv, const char *what,
                  const char *key, size_t max, const char **out, int *given)
{
    const char *v = admin_kv_get(kv, key);
    *given = v != NULL;
    return admin_parse_text(what, key, v, max, out);
}

int admin_kv_priority(const struct admin_kv *kv, const char *what,
                      long long *out, int *given)
{
    const char *v = admin_kv_get(kv, "priority");
    *given = v != NULL;
    if (!v) {
        *out = ADMIN_PRIORITY_DEFAULT;
        return ADMIN_EX_OK;
    }
    return admin_parse_int(what, "priority", v, ADMIN_PRIORITY_MIN,
                           ADMIN_PRIORITY_MAX, out);
}

void admin_update_begin(struct admin_update *u, const char *table)
{
    u->sql = (struct str){0};
    u->n = 0;
    str_appendf(&u->sql, "UPDATE %s SET id = id", table);
}

void admin_update_col(struct admin_update *u, const char *col,
                      struct db_param p)
{
    if (u->n >= ADMIN_UPDATE_MAX)
        abort(); /* the caller has more columns than it said */
    str_appendf(&u->sql, ", %s = ?", col);
    u->p[u->n++] = p;
}

void admin_update_str(struct admin_update *u, const char *col, const char *s)
{
    admin_update_col(u, col, s ? DBP_S(s) : DBP_NUL);
}

int admin_update_run(struct admin_update *u, struct db *db, long long id,
                     struct str *err)
{
    int rc;
    str_append_cstr(&u->sql, " WHERE id = ?");
    u->p[u->n++] = DBP_I(id);
    rc = db_exec(db, str_cstr(&u->sql), u->p, u->n, NULL, err);
    str_free(&u->sql);
    return rc < 0 ? -1 : 0;
}

int admin_parse_name(const char *what, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > ADMIN_NAME_MAX ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')) ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return admin_error(ADMIN_EX_DATAERR, what,
                           "'%s' is not a name (lower-case letters, digits, "
                           "'.', '_', '-'; starting with a letter or digit; "
                           "at most %d octets)", name, ADMIN_NAME_MAX);
    return ADMIN_EX_OK;
}
