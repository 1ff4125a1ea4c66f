/*
 * ldapfilter - LDAP search filters from templates, values escaped per
 * RFC 4515.  See ldapfilter.h.  Pure string work: no libldap, so programs
 * that only check a filter template (postern-lda's configuration) do not
 * link the LDAP client.
 */
#include "ldapfilter.h"

#include <string.h>

int ldapfilter_escape(struct str *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
            char esc[3] = {'\\', hex[c >> 4], hex[c & 15]};
            if (str_append(out, esc, 3) < 0)
                return -1;
        } else if (str_append_char(out, (char)c) < 0) {
            return -1;
        }
    }
    return 0;
}

int ldapfilter_expand(struct str *out, const char *tmpl, const char *value,
                      struct str *err)
{
    const char *at = strrchr(value, '@');
    size_t vlen = strlen(value);
    size_t llen = at ? (size_t)(at - value) : vlen;
    int rc = 0;

    for (const char *p = tmpl; *p && rc == 0; p++) {
        if (*p != '%') {
            rc = str_append_char(out, *p);
            continue;
        }
        switch (*++p) {
        case 's': rc = ldapfilter_escape(out, value, vlen); break;
        case 'u': rc = ldapfilter_escape(out, value, llen); break;
        case 'd': rc = at ? ldapfilter_escape(out, at + 1, strlen(at + 1)) : 0; break;
        case '%': rc = str_append_char(out, '%'); break;
        default:
            str_appendf(err, "ldap: bad %% escape in filter template '%s'",
                        tmpl);
            return -1;
        }
    }
    if (rc < 0)
        str_appendf(err, "ldap: filter too long");
    return rc;
}
