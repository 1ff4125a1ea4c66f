/*
 * greypool - the list of large providers' sending pools that greylisting
 * skips (docs/policyd.md "Provider pools"): a data file shipped as
 * /usr/share/postern/greylist-pools.conf, overridden by
 * /etc/postern/greylist-pools.conf when that exists (make install puts
 * it under /usr/local/share/postern/, searched last), or named by
 * [policyd] greylist_pools.  Read with the configuration: at start, at
 * `postern-policyd -t` and on SIGHUP (a file that does not parse keeps
 * the old configuration, like any other configuration error).
 *
 * Format: one entry a line, "PROVIDER suffix NAME CHECKED" or
 * "PROVIDER net CIDR CHECKED"; CHECKED is the date (YYYY-MM-DD) the entry
 * was last checked against its source; "#" starts a comment.  A suffix
 * entry matches the client's verified host name (Postfix's client_name:
 * forward and reverse DNS agree) equal to NAME or ending in ".NAME"; a
 * net entry matches the client address inside CIDR (lib/cidr.h).  An
 * unverified name ("unknown") never matches a suffix.
 *
 * Limits: PD_POOL_LINE_MAX bytes a line, PD_POOL_MAX entries, a provider
 * name of at most 63 characters.  Matching is a scan over the entries
 * (a few dozen), run only for a request greylisting would key.
 *
 * Diagnostics: pd_pools_load() returns "FILE:LINE: reason".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "file.h"
#include "mem.h"
#include "policyd.h"

struct pd_pool_ent {
    int net;                   /* 1 = CIDR, 0 = host name suffix */
    char provider[64];
    char name[256];            /* the suffix, lower-case, no leading dot;
                                  for a network its text */
    struct cidr cidr;
    char checked[11];
};

struct pd_pools {
    struct pd_pool_ent *v;
    size_t n, cap;
    char path[256];
};

const char *pd_pools_path(const char *configured)
{
    if (configured[0])
        return strcasecmp(configured, "none") ? configured : NULL;
    if (access(PD_POOLS_ETC, F_OK) == 0)
        return PD_POOLS_ETC;
    if (access(PD_POOLS_SHARE, F_OK) == 0)
        return PD_POOLS_SHARE;
    if (access(PD_POOLS_LOCAL, F_OK) == 0)
        return PD_POOLS_LOCAL;
    return NULL;
}

static int date_ok(const char *d)
{
    int y, m, day;
    char end;

    return strlen(d) == 10 && d[4] == '-' && d[7] == '-' &&
           sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &end) == 3 && y >= 2000 &&
           m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

static int name_ok(const char *n)
{
    size_t l = strlen(n);

    if (l == 0 || l > 253 || n[l - 1] == '.' || !strchr(n, '.'))
        return 0;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '-' && *n != '.')
            return 0;
    return 1;
}

/* parse_line - one entry into *e; 1 entry, 0 blank, -1 + *why */
static int parse_line(char *line, struct pd_pool_ent *e, const char **why)
{
    char *f[5], *save = NULL, *hash = strchr(line, '#');
    int n = 0;

    if (hash)
        *hash = '\0';
    for (char *t = strtok_r(line, " \t\r", &save); t;
         t = strtok_r(NULL, " \t\r", &save))
        if (n < 5)
            f[n++] = t;
        else
            return *why = "too many fields", -1;
    if (n == 0)
        return 0;
    if (n != 4)
        return *why = "expected: PROVIDER suffix|net VALUE YYYY-MM-DD", -1;
    memset(e, 0, sizeof(*e));
    if (strlen(f[0]) >= sizeof(e->provider))
        return *why = "provider name longer than 63 characters", -1;
    snprintf(e->provider, sizeof(e->provider), "%s", f[0]);
    if (!date_ok(f[3]))
        return *why = "the date checked is not YYYY-MM-DD", -1;
    memcpy(e->checked, f[3], 11);
    if (!strcasecmp(f[1], "net")) {
        e->net = 1;
        if (strlen(f[2]) >= CIDR_TEXT_MAX || cidr_parse(f[2], &e->cidr) < 0)
            return *why = "not an IP address or network", -1;
        snprintf(e->name, sizeof(e->name), "%s", f[2]);
        return 1;
    }
    if (strcasecmp(f[1], "suffix"))
        return *why = "the kind is neither suffix nor net", -1;
    if (f[2][0] == '.')
        f[2]++;
    if (!name_ok(f[2]))
        return *why = "not a host name suffix (letters, digits, '-', "
                      "at least one '.')", -1;
    snprintf(e->name, sizeof(e->name), "%s", f[2]);
    str_lower(e->name, strlen(e->name));
    return 1;
}

int pd_pools_parse(const char *path, const char *text, size_t len,
                   struct pd_pools **out, struct str *err)
{
    struct pd_pools *p = xcalloc(1, sizeof(*p));
    char line[PD_POOL_LINE_MAX + 1];
    size_t off = 0, lineno = 0;

    snprintf(p->path, sizeof(p->path), "%s", path);
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (text + off)) : len - off;
        const char *why = NULL;
        struct pd_pool_ent e;
        int rc;

        lineno++;
        if (l > PD_POOL_LINE_MAX || memchr(text + off, '\0', l))
            why = l > PD_POOL_LINE_MAX ? "line too long" : "NUL byte";
        else {
            memcpy(line, text + off, l);
            line[l] = '\0';
        }
        off += l + 1;
        if (why == NULL && (rc = parse_line(line, &e, &why)) == 0)
            continue;
        if (why == NULL && p->n >= PD_POOL_MAX)
            why = "too many entries";
        if (why) {
            str_appendf(err, "%s:%zu: %s", path, lineno, why);
            pd_pools_free(p);
            return -1;
        }
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 32;
            p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
        }
        p->v[p->n++] = e;
    }
    *out = p;
    return 0;
}

int pd_pools_load(const char *path, struct pd_pools **out, struct str *err)
{
    struct str text = STR_INIT;
    int rc;

    if (file_read("greylisting pools file", path, PD_POOL_FILE_MAX, 0, &text,
                  err) < 0) {
        str_free(&text);
        return -1;
    }
    rc = pd_pools_parse(path, text.data ? text.data : "", text.len, out, err);
    str_free(&text);
    return rc;
}

void pd_pools_free(struct pd_pools *p)
{
    if (p == NULL)
        return;
    free(p->v);
    free(p);
}

size_t pd_pools_count(const struct pd_pools *p)
{
    return p ? p->n : 0;
}

static int suffix_match(const char *suffix, const char *host)
{
    size_t sl = strlen(suffix), hl = strlen(host);

    if (hl == sl)
        return !strcasecmp(host, suffix);
    return hl > sl && host[hl - sl - 1] == '.' &&
           !strcasecmp(host + hl - sl, suffix);
}

const char *pd_pools_match(const struct pd_pools *p, const char *client_name,
                           const char *client_addr)
{
    int named = client_name[0] && strcasecmp(client_name, "unknown");

    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < p->n; i++) {
        const struct pd_pool_ent *e = &p->v[i];
        if (e->net ? cidr_contains(&e->cidr, client_addr)
                   : named && suffix_match(e->name, client_name))
            return e->provider;
    }
    return NULL;
}

void pd_pools_report(const struct pd_pools *p, const char *stale, FILE *fp)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct pd_pool_ent *e = &p->v[i];
        fprintf(fp, "%s %s %s %s%s\n", e->provider, e->net ? "net" : "suffix",
                e->name, e->checked,
                strcmp(e->checked, stale) < 0 ? " (checked over a year ago)"
                                              : "");
    }
}
