/*
 * addr - mail address helpers.  See addr.h.
 */
#include "addr.h"
#include "str.h"

#include <string.h>

static int local_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '(' &&
           c != ')' && c != ',' && c != ';' && c != ':' && c != '\\' &&
           c != '"' && c != '[' && c != ']' && c != '@';
}

int addr_local_valid(const char *l, size_t len)
{
    const unsigned char *p = (const unsigned char *)l;
    size_t i = 0, n;

    if (len == 0 || len > ADDR_LOCAL_MAX)
        return 0;
    if (p[0] == '"') { /* quoted-string: printable, backslash escapes */
        if (len < 2 || p[len - 1] != '"')
            return 0;
        for (i = 1; i < len - 1; i++) {
            if (p[i] == '\\') {
                if (++i >= len - 1 || p[i] < 0x20 || p[i] == 0x7f)
                    return 0;
            } else if (p[i] == '"' || p[i] < 0x20 || p[i] == 0x7f) {
                return 0;
            }
        }
        return 1;
    }
    if (p[0] == '.' || p[len - 1] == '.')
        return 0;
    while (i < len) {
        if (p[i] >= 0x80) {
            if ((n = str_utf8_seq(p + i, len - i)) == 0)
                return 0;
            i += n;
            continue;
        }
        if (!local_char_ok(p[i]) || (p[i] == '.' && p[i + 1] == '.'))
            return 0;
        i++;
    }
    return 1;
}

int addr_domain_valid(const char *d, size_t len)
{
    const unsigned char *p = (const unsigned char *)d;
    size_t i, label = 0, n;

    if (len == 0 || len > ADDR_DOMAIN_MAX)
        return 0;
    if (p[0] == '[') { /* address literal: [1.2.3.4] or [IPv6:...] */
        if (p[len - 1] != ']' || len < 3)
            return 0;
        for (i = 1; i < len - 1; i++)
            if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
                  (p[i] >= 'A' && p[i] <= 'F') || p[i] == '.' || p[i] == ':' ||
                  ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z')))
                return 0;
        return 1;
    }
    for (i = 0; i < len;) {
        if (p[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
            i++;
            continue;
        }
        if (p[i] >= 0x80) {
            if ((n = str_utf8_seq(p + i, len - i)) == 0)
                return 0;
        } else if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                   (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
                   (p[i] == '-' && label > 0 && i + 1 < len && p[i + 1] != '.')) {
            n = 1;
        } else {
            return 0;
        }
        label += n;
        if (label > ADDR_LABEL_MAX)
            return 0;
        i += n;
    }
    return label > 0;
}

static void addr_split_ext(struct addr *a, size_t *llen, const char *delims)
{
    size_t i;

    a->ext[0] = '\0';
    a->delim = 0;
    if (delims == NULL || *delims == '\0' || a->local[0] == '"')
        return;
    for (i = 1; i < *llen; i++) { /* a leading delimiter is part of the name */
        if (a->local[i] != '\0' && strchr(delims, a->local[i]) != NULL) {
            a->delim = a->local[i];
            memcpy(a->ext, a->local + i + 1, *llen - i - 1);
            a->ext[*llen - i - 1] = '\0';
            a->local[i] = '\0';
            *llen = i;
            return;
        }
    }
}

static void rebuild_full(struct addr *a)
{
    size_t l = strlen(a->local);

    memcpy(a->full, a->local, l + 1);
    if (a->has_domain) {
        a->full[l] = '@';
        memcpy(a->full + l + 1, a->domain, strlen(a->domain) + 1);
    }
}

int addr_parse(const char *in, size_t len, const char *delims, int flags,
               struct addr *a, const char **err)
{
    const char *at = NULL;
    size_t llen, dlen, i;

    memset(a, 0, sizeof(*a));
    if (len == 0) {
        if (flags & ADDR_ALLOW_EMPTY)
            return 0;
        *err = "empty address";
        return -1;
    }
    if (len > ADDR_MAX) {
        *err = "address too long";
        return -1;
    }
    if (memchr(in, '\0', len) != NULL) {
        *err = "NUL byte in address";
        return -1;
    }
    for (i = len; i > 0; i--)
        if (in[i - 1] == '@') {
            at = in + i - 1;
            break;
        }
    llen = at ? (size_t)(at - in) : len;
    dlen = at ? len - llen - 1 : 0;
    if (dlen > 0 && in[len - 1] == '.') /* trailing root dot */
        dlen--;
    if (at == NULL && (flags & ADDR_NEED_DOMAIN)) {
        *err = "address has no domain";
        return -1;
    }
    if (!addr_local_valid(in, llen)) {
        *err = llen > ADDR_LOCAL_MAX ? "local part too long"
                                     : "invalid local part";
        return -1;
    }
    if (at && !addr_domain_valid(at + 1, dlen)) {
        *err = dlen > ADDR_DOMAIN_MAX ? "domain too long" : "invalid domain";
        return -1;
    }
    memcpy(a->local, in, llen);
    a->local[llen] = '\0';
    if (flags & ADDR_LOWER_LOCAL)
        str_lower(a->local, llen);
    addr_split_ext(a, &llen, delims);
    if (at) {
        memcpy(a->domain, at + 1, dlen);
        a->domain[dlen] = '\0';
        str_lower(a->domain, dlen);
        a->has_domain = 1;
    }
    rebuild_full(a);
    return 0;
}

/* unquote - the content of the quoted local part q[0..len) into out
   (escapes removed); its length. */
static size_t unquote(const char *q, size_t len, char *out)
{
    size_t i, n = 0;

    for (i = 1; i + 1 < len; i++) {
        if (q[i] == '\\' && i + 2 < len)
            i++;
        out[n++] = q[i];
    }
    out[n] = '\0';
    return n;
}

int addr_canonical(const char *in, size_t len, const char *delims, int flags,
                   addr_alias_fn alias, void *ctx, struct addr *a,
                   const char **err)
{
    char bare[ADDR_LOCAL_MAX + 1];
    size_t llen, n;
    int depth;

    if (addr_parse(in, len, NULL, flags | ADDR_LOWER_LOCAL, a, err) < 0)
        return -1;
    llen = strlen(a->local);
    if (a->local[0] == '"') {
        n = unquote(a->local, llen, bare);
        if (n > 0 && bare[0] != '"' && addr_local_valid(bare, n)) {
            memcpy(a->local, bare, n + 1);
            llen = n;
        }
    }
    addr_split_ext(a, &llen, delims);
    for (depth = 0; alias != NULL && a->has_domain; depth++) {
        const char *t = alias(ctx, a->domain);
        if (t == NULL)
            break;
        if (depth >= ADDR_ALIAS_DOMAIN_DEPTH || strlen(t) > ADDR_DOMAIN_MAX) {
            *err = "alias domain chain too long";
            return -1;
        }
        memmove(a->domain, t, strlen(t) + 1);
    }
    rebuild_full(a);
    return 0;
}
