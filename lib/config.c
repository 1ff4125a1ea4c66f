/*
 * config - INI configuration parser driven by tables.  See config.h.
 *
 * Diagnostics: every error names the file and line; defaults are parsed by
 * the same code as file values so a broken table entry is found by -t too.
 */
#include "config.h"
#include "mem.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELD(target, def, type) ((type *)((char *)(target) + (def)->offset))

static int parse_number(const char *val, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(val, &end, 10);
    if (errno != 0 || end == val)
        return -1;
    return (int)(end - val);
}

static int mul_checked(long long v, long long mul, long long *out)
{
    if (v != 0 && (v > LLONG_MAX / mul || v < LLONG_MIN / mul))
        return -1;
    *out = v * mul;
    return 0;
}

static int parse_scaled(const struct cfg_def *def, const char *val,
                        long long *out, struct str *err)
{
    long long v, mul = 1;
    int n = parse_number(val, &v);
    const char *suf;

    if (n < 0) {
        str_appendf(err, "%s: not a number: '%s'", def->name, val);
        return -1;
    }
    suf = val + n;
    if (def->type == CFG_TIME) {
        if (*suf == 0 || !strcmp(suf, "s"))
            mul = 1000;
        else if (!strcmp(suf, "ms"))
            mul = 1;
        else if (!strcmp(suf, "m"))
            mul = 60000;
        else if (!strcmp(suf, "h"))
            mul = 3600000;
        else if (!strcmp(suf, "d"))
            mul = 86400000;
        else
            mul = 0;
    } else if (def->type == CFG_SIZE) {
        if (*suf == 0)
            mul = 1;
        else if (!strcasecmp(suf, "k"))
            mul = 1024;
        else if (!strcasecmp(suf, "m"))
            mul = 1024 * 1024;
        else if (!strcasecmp(suf, "g"))
            mul = 1024LL * 1024 * 1024;
        else
            mul = 0;
    } else if (*suf != 0) {
        mul = 0;
    }
    if (mul == 0) {
        str_appendf(err, "%s: bad unit in '%s'", def->name, val);
        return -1;
    }
    if (mul_checked(v, mul, out) < 0) {
        str_appendf(err, "%s: value out of range: '%s'", def->name, val);
        return -1;
    }
    if (*out < def->min || *out > def->max) {
        str_appendf(err, "%s: '%s' is outside the range %lld..%lld%s", def->name,
                    val, def->min, def->max,
                    def->type == CFG_TIME   ? " ms"
                    : def->type == CFG_SIZE ? " bytes"
                                            : "");
        return -1;
    }
    return 0;
}

static int parse_bool(const char *val, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(val, yes[i]))
            return *out = 1, 0;
        if (!strcasecmp(val, no[i]))
            return *out = 0, 0;
    }
    return -1;
}

static int parse_enum(const struct cfg_def *def, const char *val, int *out)
{
    const char *p = def->choices;
    size_t vlen = strlen(val);
    int idx = 0;

    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vlen && !strncasecmp(p, val, n))
            return *out = idx, 0;
        idx++;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

int cfg_parse_value(const struct cfg_def *def, void *target, const char *val,
                    struct str *err)
{
    size_t maxlen;
    char **sp;

    switch (def->type) {
    case CFG_STR:
        maxlen = def->max > 0 ? (size_t)def->max : CFG_STR_DEFAULT_MAX;
        if (strlen(val) > maxlen) {
            str_appendf(err, "%s: value longer than %zu characters", def->name,
                        maxlen);
            return -1;
        }
        sp = FIELD(target, def, char *);
        free(*sp);
        *sp = xstrdup(val);
        return 0;
    case CFG_INT:
    case CFG_TIME:
    case CFG_SIZE:
        return parse_scaled(def, val, FIELD(target, def, long long), err);
    case CFG_BOOL:
        if (parse_bool(val, FIELD(target, def, int)) == 0)
            return 0;
        str_appendf(err, "%s: expected yes or no, not '%s'", def->name, val);
        return -1;
    case CFG_ENUM:
        if (parse_enum(def, val, FIELD(target, def, int)) == 0)
            return 0;
        str_appendf(err, "%s: '%s' is not one of %s", def->name, val,
                    def->choices);
        return -1;
    }
    str_appendf(err, "%s: unknown type", def->name);
    return -1;
}

int cfg_defaults(const struct cfg_section *sections, size_t nsections,
                 struct str *err)
{
    for (size_t s = 0; s < nsections; s++)
        for (const struct cfg_def *d = sections[s].defs; d->name; d++)
            if (cfg_parse_value(d, sections[s].target, d->def, err) < 0) {
                str_appendf(err, " (built-in default of [%s])",
                            sections[s].name);
                return -1;
            }
    return 0;
}

void cfg_free(const struct cfg_section *sections, size_t nsections)
{
    for (size_t s = 0; s < nsections; s++)
        for (const struct cfg_def *d = sections[s].defs; d->name; d++)
            if (d->type == CFG_STR) {
                char **sp = FIELD(sections[s].target, d, char *);
                free(*sp);
                *sp = NULL;
            }
}

static char *trim(char *p)
{
    char *e;

    while (*p == ' ' || *p == '\t')
        p++;
    e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
                     e[-1] == '\n'))
        *--e = '\0';
    return p;
}

/* The parse state of one file. */
struct cfg_reader {
    const char *path;
    int line;
    const struct cfg_section *sections;
    size_t nsections;
    const char *const *ignored;
    const struct cfg_section *cur; /* NULL: in an ignored section */
    int in_section;
    unsigned char *seen;           /* per key of cur: set once */
    size_t seen_cap;
    struct str *err;
    int partial;                   /* cfg_load_keys: skip what is not ours */
};

static int reader_fail(struct cfg_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reader_fail(struct cfg_reader *r, const char *fmt, ...)
{
    va_list ap;

    str_appendf(r->err, "%s:%d: ", r->path, r->line);
    va_start(ap, fmt);
    str_vappendf(r->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int reader_section(struct cfg_reader *r, char *p)
{
    char *end = strchr(p, ']');
    size_t n = 0;

    if (end == NULL || end[1] != '\0')
        return reader_fail(r, "malformed section header '%s'", p);
    *end = '\0';
    p = trim(p + 1);
    r->in_section = 1;
    r->cur = NULL;
    for (size_t i = 0; i < r->nsections; i++)
        if (!strcmp(r->sections[i].name, p))
            r->cur = &r->sections[i];
    if (r->cur == NULL) {
        for (size_t i = 0; r->ignored && r->ignored[i]; i++)
            if (!strcmp(r->ignored[i], p))
                return 0;
        if (r->partial)
            return 0;
        return reader_fail(r, "unknown section [%s]", p);
    }
    for (const struct cfg_def *d = r->cur->defs; d->name; d++)
        n++;
    free(r->seen);
    r->seen = xcalloc(n + 1, 1);
    return 0;
}

static int reader_keyval(struct cfg_reader *r, char *p)
{
    char *eq = strchr(p, '=');
    const char *key, *val;
    const struct cfg_def *d;
    size_t idx = 0;

    if (eq == NULL)
        return reader_fail(r, "expected 'key = value', got '%s'", p);
    *eq = '\0';
    key = trim(p);
    val = trim(eq + 1);
    if (!r->in_section)
        return reader_fail(r, "key '%s' outside of any [section]", key);
    if (r->cur == NULL)
        return 0;
    for (d = r->cur->defs; d->name; d++, idx++)
        if (!strcmp(d->name, key))
            break;
    if (d->name == NULL && r->partial)
        return 0; /* another program's key of a shared section */
    if (d->name == NULL) {
        str_appendf(r->err, "%s:%d: unknown key '%s' in section [%s]", r->path,
                    r->line, key, r->cur->name);
        return -1;
    }
    if (r->seen[idx]) {
        str_appendf(r->err, "%s:%d: duplicate key '%s' in section [%s]",
                    r->path, r->line, key, r->cur->name);
        return -1;
    }
    r->seen[idx] = 1;
    str_appendf(r->err, "%s:%d: [%s] ", r->path, r->line, r->cur->name);
    if (cfg_parse_value(d, r->cur->target, val, r->err) < 0)
        return -1;
    str_reset(r->err);
    return 0;
}

static int reader_line(struct cfg_reader *r, char *p)
{
    p = trim(p);
    if (*p == '\0' || *p == '#' || *p == ';')
        return 0;
    if (*p == '[')
        return reader_section(r, p);
    return reader_keyval(r, p);
}

static int load(const char *path, const struct cfg_section *sections,
                size_t nsections, const char *const *ignored, int partial,
                struct str *err);

/* loaded - rc of a load; on success the buffer the reader used for its
   error prefixes in an empty *err is given back, so a caller that frees
   err only on failure leaks nothing */
static int loaded(int rc, struct str *err)
{
    if (rc == 0 && err->len == 0)
        str_free(err);
    return rc;
}

int cfg_load(const char *path, const struct cfg_section *sections,
             size_t nsections, const char *const *ignored, struct str *err)
{
    return loaded(load(path, sections, nsections, ignored, 0, err), err);
}

int cfg_load_keys(const char *path, const char *section,
                  const struct cfg_def *defs, void *target, struct str *err)
{
    struct cfg_section s = {section, defs, target};

    return loaded(load(path, &s, 1, NULL, 1, err), err);
}

static int load(const char *path, const struct cfg_section *sections,
                size_t nsections, const char *const *ignored, int partial,
                struct str *err)
{
    struct cfg_reader r = {path, 0, sections, nsections, ignored, NULL, 0,
                           NULL, 0, err, partial};
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    long total = 0;
    FILE *fp;
    int rc = 0;

    str_reset(err);
    if (cfg_defaults(sections, nsections, err) < 0)
        return -1;
    if ((fp = fopen(path, "r")) == NULL) {
        str_appendf(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (len = getline(&buf, &cap, fp)) >= 0) {
        r.line++;
        total += (long)len;
        if (total > CFG_FILE_MAX)
            rc = reader_fail(&r, "%s", "file larger than 1 MiB");
        else if (len > CFG_LINE_MAX)
            rc = reader_fail(&r, "%s", "line longer than 4096 bytes");
        else if (memchr(buf, '\0', (size_t)len) != NULL)
            rc = reader_fail(&r, "%s", "NUL byte in line");
        else
            rc = reader_line(&r, buf);
    }
    free(buf);
    if (rc == 0 && ferror(fp)) {
        str_appendf(err, "%s: read error", path);
        rc = -1;
    }
    fclose(fp);
    free(r.seen);
    return rc;
}

int cfg_list_next(const char **cursor, char *item, size_t itemsize)
{
    const char *p = *cursor, *start;
    size_t n;

    while (*p == ',' || *p == ' ' || *p == '\t')
        p++;
    if (*p == '\0') {
        *cursor = p;
        return 0;
    }
    start = p;
    while (*p && *p != ',' && *p != ' ' && *p != '\t')
        p++;
    n = (size_t)(p - start);
    *cursor = p;
    if (n >= itemsize)
        return -1;
    memcpy(item, start, n);
    item[n] = '\0';
    return 1;
}

static const char *type_name(const struct cfg_def *d)
{
    switch (d->type) {
    case CFG_STR: return "string";
    case CFG_INT: return "integer";
    case CFG_BOOL: return "yes|no";
    case CFG_TIME: return "time";
    case CFG_SIZE: return "size";
    case CFG_ENUM: return d->choices;
    }
    return "?";
}

void cfg_print_defaults(FILE *fp, const struct cfg_section *sections,
                        size_t nsections)
{
    for (size_t s = 0; s < nsections; s++) {
        fprintf(fp, "[%s]\n", sections[s].name);
        for (const struct cfg_def *d = sections[s].defs; d->name; d++) {
            fprintf(fp, "# %s", type_name(d));
            if (d->type == CFG_STR)
                fprintf(fp, ", at most %lld characters",
                        d->max > 0 ? d->max : (long long)CFG_STR_DEFAULT_MAX);
            else if (d->type == CFG_TIME)
                fprintf(fp, ", %lldms..%lldms", d->min, d->max);
            else if (d->type == CFG_INT || d->type == CFG_SIZE)
                fprintf(fp, ", %lld..%lld", d->min, d->max);
            fprintf(fp, "\n%s = %s\n", d->name, d->def);
        }
        fprintf(fp, "\n");
    }
}

unsigned cfg_octal_mode(long long m)
{
    return (unsigned)((m / 100) * 64 + ((m / 10) % 10) * 8 + m % 10);
}

int cfg_octal_valid(long long m)
{
    if (m < 0 || m > 7777)
        return 0;
    for (; m > 0; m /= 10)
        if (m % 10 > 7)
            return 0;
    return 1;
}
