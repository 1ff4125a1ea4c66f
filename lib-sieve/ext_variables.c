/*
 * ext_variables - "variables" (RFC 5229):
 *
 *   set [MODIFIER...] <name: string> <value: string>
 *   string [MATCH-TYPE] [COMPARATOR] <source: string-list> <key-list>
 *   "${name}" in strings, "${1}" match variables, "${global.name}"
 *
 * Modifiers by precedence: :lower :upper (40), :lowerfirst :upperfirst
 * (30), :quotewildcard and :quoteregex (regex) (20), :length (10); two of
 * the same precedence are an error; they apply highest first.  Case
 * changes are ASCII only.  Names are case-insensitive identifiers; an
 * unknown variable is "".  "${" not followed by a valid name and "}"
 * stays as it is.  string :count counts the non-empty sources.
 *
 * Limits: SIEVE_VARIABLES_MAX variables per scope (run-time error beyond),
 * values are cut to SIEVE_VARIABLE_SIZE bytes (at a UTF-8 boundary), an
 * expanded string to SIEVE_STRING_MAX bytes.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int id_char(char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

int sv_var_name_valid(const char *s, size_t len, int allow_ns)
{
    size_t i = 0;

    if (len == 0)
        return 0;
    for (;;) {
        if (i >= len || !id_start(s[i]))
            return 0;
        while (i < len && id_char(s[i]))
            i++;
        if (i == len)
            return 1;
        if (s[i] != '.' || !allow_ns)
            return 0;
        i++;
    }
}

static int all_digits(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* scope - where name lives; name and len adjusted past "global." */
static struct sv_scope *scope(struct sv_run *r, const char **name,
                              size_t *len)
{
    if (*len > 7 && strncasecmp(*name, "global.", 7) == 0) {
        *name += 7;
        *len -= 7;
        return &r->globals;
    }
    if (memchr(*name, '.', *len))
        return NULL;
    for (size_t i = 0; i < r->fr->nglobals; i++)
        if (strlen(r->fr->globals[i]) == *len &&
            strncasecmp(r->fr->globals[i], *name, *len) == 0)
            return &r->globals;
    return &r->fr->local;
}

static struct sv_var *find(struct sv_scope *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strlen(sc->v[i].name) == len &&
            strncasecmp(sc->v[i].name, name, len) == 0)
            return &sc->v[i];
    return NULL;
}

int sv_var_get(struct sv_run *r, const char *name, size_t len,
               struct sv_str *out)
{
    struct sv_scope *sc;
    struct sv_var *v;

    *out = (struct sv_str){"", 0, 0};
    if (all_digits(name, len)) {
        size_t idx = 0;
        while (len > 1 && name[0] == '0') { /* RFC 5229 3: ${007} is ${7} */
            name++;
            len--;
        }
        if (len > 2)
            return 0;
        for (size_t i = 0; i < len; i++)
            idx = idx * 10 + (size_t)(name[i] - '0');
        if (idx < r->nmvars && idx < SIEVE_MATCH_VARS)
            *out = r->mvars[idx];
        return 0;
    }
    if ((sc = scope(r, &name, &len)) == NULL) {
        /* another namespace: the host's (sieve_host.var_namespace) */
        struct str ns = STR_INIT;
        if (r->host && r->host->var_namespace &&
            r->host->var_namespace(r->host->ctx, name, len, &ns) == 1)
            *out = sv_dup(r, ns.data ? ns.data : "", ns.len);
        str_free(&ns);
        return 0;
    }
    if ((v = find(sc, name, len)) != NULL)
        *out = v->val;
    return 0;
}

int sv_var_set(struct sv_run *r, const struct sv_node *n, const char *name,
               size_t nlen, const char *val, size_t vlen)
{
    struct sv_scope *sc = scope(r, &name, &nlen);
    struct sv_var *v;

    if (sc == NULL || !sv_var_name_valid(name, nlen, 0))
        return sv_rerror(r, n, "invalid variable name \"%.60s\"", name);
    if (vlen > SIEVE_VARIABLE_SIZE) {
        vlen = SIEVE_VARIABLE_SIZE;
        while (vlen > 0 && ((unsigned char)val[vlen] & 0xc0) == 0x80)
            vlen--;
    }
    if ((v = find(sc, name, nlen)) == NULL) {
        if (sc->n >= SIEVE_VARIABLES_MAX)
            return sv_rerror(r, n, "too many variables (max %d)",
                             SIEVE_VARIABLES_MAX);
        if (sc->n == sc->cap) {
            struct sv_var *nv;
            sc->cap = sc->cap ? sc->cap * 2 : 16;
            nv = arena_alloc(r->a, sc->cap * sizeof(*nv));
            if (sc->n)
                memcpy(nv, sc->v, sc->n * sizeof(*nv));
            sc->v = nv;
        }
        v = &sc->v[sc->n++];
        v->name = arena_strndup(r->a, name, nlen);
        str_lower((char *)v->name, nlen);
    }
    v->val = sv_dup(r, val, vlen);
    return 0;
}

struct sv_str sv_expand(struct sv_run *r, const struct sv_str *s)
{
    struct str out = STR_INIT;
    const char *p = s->s, *end = s->s + s->len;
    struct sv_str res;

    while (p < end) {
        if (p + 1 < end && p[0] == '$' && p[1] == '{') {
            const char *close = memchr(p + 2, '}', (size_t)(end - p - 2));
            if (close) {
                const char *nm = p + 2;
                size_t nl = (size_t)(close - nm);
                if (all_digits(nm, nl) || sv_var_name_valid(nm, nl, 1)) {
                    struct sv_str v;
                    sv_var_get(r, nm, nl, &v);
                    if (out.len + v.len <= SIEVE_STRING_MAX)
                        str_append(&out, v.s, v.len);
                    p = close + 1;
                    continue;
                }
            }
        }
        if (out.len < SIEVE_STRING_MAX)
            str_append_char(&out, *p);
        p++;
    }
    (void)sv_charge(r, NULL, (s->len + out.len) / 64); /* CPU budget */
    res = sv_dup(r, out.data ? out.data : "", out.len);
    str_free(&out);
    return res;
}

/* --- set ------------------------------------------------------------------------ */

static int precedence(const char *m)
{
    if (!strcmp(m, "lower") || !strcmp(m, "upper"))
        return 40;
    if (!strcmp(m, "lowerfirst") || !strcmp(m, "upperfirst"))
        return 30;
    if (!strcmp(m, "quotewildcard") || !strcmp(m, "quoteregex"))
        return 20;
    if (!strcmp(m, "encodeurl"))        /* enotify (RFC 5435 4.1) */
        return 15;
    if (!strcmp(m, "length"))
        return 10;
    return 0;
}

static int set_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    const struct sv_str *name = &a->list.v[0];

    if (!sv_literal(name) || !sv_var_name_valid(name->s, name->len, 1) ||
        (memchr(name->s, '.', name->len) &&
         (name->len <= 7 || strncasecmp(name->s, "global.", 7) != 0))) {
        sv_verror(v, a->line, "invalid variable name \"%.60s\"", name->s);
        return -1;
    }
    for (size_t i = 0; i < n->ntags; i++)
        for (size_t k = i + 1; k < n->ntags; k++)
            if (precedence(n->tags[i].def->name) ==
                precedence(n->tags[k].def->name)) {
                sv_verror(v, n->line, "modifiers :%s and :%s cannot be "
                          "used together", n->tags[i].def->name,
                          n->tags[k].def->name);
                return -1;
            }
    return 0;
}

/* :encodeurl - percent-encode every octet but the URI "unreserved"
   ones (RFC 3986 2.3); a UTF-8 character is encoded whole or not at all,
   and the result is cut before the escape that would take it over
   SIEVE_VARIABLE_SIZE (so no escape is ever cut in two) */
static void encodeurl(const struct str *s, struct str *o)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < s->len;) {
        unsigned char c = (unsigned char)s->data[i];
        size_t n = 1, w;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            if (o->len + 1 > SIEVE_VARIABLE_SIZE)
                return;
            str_append_char(o, (char)c);
            i++;
            continue;
        }
        if (c >= 0xc0)
            while (i + n < s->len && n < 4 &&
                   ((unsigned char)s->data[i + n] & 0xc0) == 0x80)
                n++;
        w = 3 * n;
        if (o->len + w > SIEVE_VARIABLE_SIZE)
            return;
        for (size_t k = 0; k < n; k++) {
            unsigned char b = (unsigned char)s->data[i + k];
            str_append_char(o, '%');
            str_append_char(o, hex[b >> 4]);
            str_append_char(o, hex[b & 15]);
        }
        i += n;
    }
}

static void modify(const char *m, struct str *s)
{
    struct str o = STR_INIT;

    if (!strcmp(m, "lower") || !strcmp(m, "upper")) {
        for (size_t i = 0; i < s->len; i++) {
            char c = s->data[i];
            if (m[0] == 'l' && c >= 'A' && c <= 'Z')
                s->data[i] = (char)(c + 32);
            else if (m[0] == 'u' && c >= 'a' && c <= 'z')
                s->data[i] = (char)(c - 32);
        }
        return;
    }
    if (!strcmp(m, "lowerfirst") || !strcmp(m, "upperfirst")) {
        if (s->len == 0)
            return;
        if (m[0] == 'l' && s->data[0] >= 'A' && s->data[0] <= 'Z')
            s->data[0] = (char)(s->data[0] + 32);
        else if (m[0] == 'u' && s->data[0] >= 'a' && s->data[0] <= 'z')
            s->data[0] = (char)(s->data[0] - 32);
        return;
    }
    if (!strcmp(m, "quotewildcard") || !strcmp(m, "quoteregex")) {
        const char *special = m[5] == 'w' ? "*?\\" : "\\.^$*+?()[]{}|";
        for (size_t i = 0; i < s->len; i++) {
            if (strchr(special, s->data[i]) && s->data[i])
                str_append_char(&o, '\\');
            str_append_char(&o, s->data[i]);
        }
    } else if (!strcmp(m, "encodeurl")) {
        encodeurl(s, &o);
    } else if (!strcmp(m, "length")) {
        size_t chars = 0;
        for (size_t i = 0; i < s->len; i++)
            chars += ((unsigned char)s->data[i] & 0xc0) != 0x80;
        str_appendf(&o, "%zu", chars);
    } else {
        return;
    }
    str_set(s, o.data ? o.data : "", o.len);
    str_free(&o);
}

static int set_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_str *name = &sv_pos(n, 0)->list.v[0];
    struct sv_str val = sv_eval(r, &sv_pos(n, 1)->list.v[0]);
    struct str s = STR_INIT;
    int rc;

    str_set(&s, val.s, val.len);
    for (int prec = 40; prec >= 10; prec -= 5) /* 15: :encodeurl */
        for (size_t i = 0; i < n->ntags; i++)
            if (precedence(n->tags[i].def->name) == prec)
                modify(n->tags[i].def->name, &s);
    rc = sv_var_set(r, n, name->s, name->len, s.data ? s.data : "", s.len);
    str_free(&s);
    return rc;
}

static int string_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist src, keys;

    sv_eval_list(r, &sv_pos(n, 0)->list, &src);
    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    if (n->mtype == SV_MT_COUNT) {
        size_t k = 0;
        for (size_t i = 0; i < src.n; i++)
            if (src.v[i].len)
                src.v[k++] = src.v[i];
        src.n = k;
    }
    return sv_match(r, n, src.v, src.n, &keys);
}

static const struct sv_cmddef cmds[] = {
    {"set", 0, "SS", 0, 0, 0, set_validate, set_exec},
    {"string", 1, "LL", 0, 0, SV_F_MATCH, NULL, string_exec},
};

static const struct sv_tagdef tags[] = {
    {"lower", SV_G_OTHER, 0, 0, " set "},
    {"upper", SV_G_OTHER, 0, 0, " set "},
    {"lowerfirst", SV_G_OTHER, 0, 0, " set "},
    {"upperfirst", SV_G_OTHER, 0, 0, " set "},
    {"quotewildcard", SV_G_OTHER, 0, 0, " set "},
    {"length", SV_G_OTHER, 0, 0, " set "},
};

const struct sv_ext sv_ext_variables = {
    "variables", cmds, 2, tags, sizeof(tags) / sizeof(tags[0]), 0, 0};

/* the modifiers of set for other commands (extracttext, RFC 5703 7) */
int sv_var_modifier_rank(const char *name)
{
    return precedence(name);
}

void sv_var_modifiers(const struct sv_node *n, struct str *s)
{
    for (int prec = 40; prec >= 10; prec -= 5) /* 15: :encodeurl */
        for (size_t i = 0; i < n->ntags; i++)
            if (precedence(n->tags[i].def->name) == prec)
                modify(n->tags[i].def->name, s);
}
