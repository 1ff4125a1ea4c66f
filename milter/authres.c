/*
 * authres - Authentication-Results header fields (RFC 8601) for
 * postern-milter: reading the authserv-id of an incoming field (to remove
 * the ones that claim to be ours) and writing values safely into the field
 * we add.
 *
 * Reading (RFC 8601 2.2: authres-header-field = "Authentication-Results:"
 * authserv-id [CFWS authres-version] ...; authserv-id = value, a RFC 2045
 * token or a RFC 5322 quoted-string): the value starts with optional CFWS
 * (blanks, line breaks, comments "( ... )" nested to any depth, with
 * backslash quoted-pairs; a '"' inside a comment is no quote), then the
 * authserv-id: a quoted-string (quoted-pairs removed) or a token, which
 * ends at a blank, a control character or a RFC 2045 tspecial
 * ()<>@,;:\"/[]?=.  Whatever follows (a version, a comment, ';') does not
 * change the id.  ar_is_ours() compares the id with ours ignoring ASCII
 * case and one trailing root dot.
 *
 * A value whose authserv-id cannot be read (an unterminated comment or
 * quoted-string, nothing but CFWS) is ours when our id appears anywhere in
 * it (ignoring case): such a field can only mislead a reader, and RFC 8601
 * section 5 allows removing any field.  Other unreadable values are left
 * alone.
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

/* skip_cfws - past blanks and (nested) comments; NULL if a comment is
   not closed.  The depth is a counter, so no nesting is too deep. */
static const char *skip_cfws(const char *p)
{
    size_t depth = 0;

    for (; *p; p++) {
        if (depth > 0 && *p == '\\' && p[1]) {
            p++;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')' && depth > 0) {
            depth--;
        } else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' &&
                   *p != '\n') {
            return p;
        }
    }
    return depth ? NULL : p;
}

/* token_char - RFC 2045 token: not a blank, a control or a tspecial */
static int token_char(unsigned char ch)
{
    return ch > ' ' && ch != 0x7f && !strchr("()<>@,;:\\\"/[]?=", ch);
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
            if (*p == '\r' || *p == '\n')
                continue; /* folding inside the quoted-string */
            if (n + 1 >= outsize)
                return -1;
            out[n++] = *p;
        }
        if (*p != '"')
            return -1;
    } else {
        for (; *p && token_char((unsigned char)*p); p++) {
            if (n + 1 >= outsize)
                return -1;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

/* same_id - a == b ignoring ASCII case and one trailing dot on either */
static int same_id(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la > 1 && a[la - 1] == '.')
        la--;
    if (lb > 1 && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

int ar_is_ours(const char *value, const char *authserv_id)
{
    char id[AR_VALUE_MAX];

    if (authserv_id[0] == '\0')
        return 0;
    if (ar_authserv_id(value, id, sizeof(id)) == 0)
        return same_id(id, authserv_id);
    /* unreadable: ours when it names our id anywhere */
    return strcasestr(value, authserv_id) != NULL;
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
