/*
 * authres - Authentication-Results header fields (RFC 8601) for
 * postern-milter: reading the authserv-id of an incoming field (to remove
 * the ones that claim to be ours) and writing values safely into the field
 * we add.
 *
 * Reading: the value starts with optional CFWS (blanks, line breaks and
 * comments "( ... )", nested, with backslash quoted-pairs), then the
 * authserv-id, a token or a quoted-string.  ar_is_ours() compares it with
 * ours ignoring ASCII case.  A value without a readable authserv-id is not
 * ours (it is left alone).
 *
 * Writing: ar_append_value() writes a property value as given when it is a
 * plain token or address (letters, digits and "!#$%&'*+-/=?^_`{|}~.@"),
 * else as a quoted-string with '"' and '\' escaped; control characters
 * become '?', so untrusted data (a sender address, a signature's d= tag)
 * can neither end the field nor inject another method.  Values are cut at
 * AR_VALUE_MAX bytes.
 */
#include <string.h>
#include <strings.h>

#include "milter.h"

#define AR_VALUE_MAX 512
#define AR_COMMENT_DEPTH 16

/* skip_cfws - past blanks and (nested) comments; NULL if a comment is open */
static const char *skip_cfws(const char *p)
{
    int depth = 0;

    for (; *p; p++) {
        if (depth > 0 && *p == '\\' && p[1]) {
            p++;
        } else if (*p == '(') {
            if (++depth > AR_COMMENT_DEPTH)
                return NULL;
        } else if (*p == ')' && depth > 0) {
            depth--;
        } else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' &&
                   *p != '\n') {
            return p;
        }
    }
    return depth ? NULL : p;
}

int ar_authserv_id(const char *value, char *out, size_t outsize)
{
    const char *p = skip_cfws(value);
    size_t n = 0;

    if (p == NULL || *p == '\0' || outsize == 0)
        return -1;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 >= outsize)
                return -1;
            out[n++] = *p;
        }
        if (*p != '"')
            return -1;
    } else {
        for (; *p && !strchr(" \t\r\n;(\"", *p); p++) {
            if (n + 1 >= outsize)
                return -1;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

int ar_is_ours(const char *value, const char *authserv_id)
{
    char id[256];

    return ar_authserv_id(value, id, sizeof(id)) == 0 &&
           strcasecmp(id, authserv_id) == 0;
}

static int plain_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-/=?^_`{|}~.@", ch);
}

int ar_append_value(struct str *s, const char *v)
{
    size_t len = strnlen(v, AR_VALUE_MAX);
    int plain = len > 0;
    int rc = 0;

    for (size_t i = 0; i < len && plain; i++)
        plain = plain_char((unsigned char)v[i]);
    if (plain)
        return str_append(s, v, len);
    rc |= str_append_char(s, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '"' || ch == '\\')
            rc |= str_append_char(s, '\\');
        rc |= str_append_char(s, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
    }
    rc |= str_append_char(s, '"');
    return rc ? -1 : 0;
}
