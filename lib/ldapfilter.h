/*
 * ldapfilter - LDAP search filters from templates, with every value
 * escaped per RFC 4515 (section 3: '*', '(', ')', '\\' and NUL as \XX), so
 * that an address or login from a client can never change a filter's
 * structure.
 *
 * Limits: the filter grows in a struct str (STR_MAX_SIZE); a longer one is an
 * error, never cut.
 */
#ifndef POSTERN_LDAPFILTER_H
#define POSTERN_LDAPFILTER_H

#include <stddef.h>

#include "str.h"

/* ldapfilter_escape - append s[0..len) to out escaped per RFC 4515; 0 or -1. */
int ldapfilter_escape(struct str *out, const char *s, size_t len);

/*
 * ldapfilter_expand - expand a filter template into out: "%s" is the
 * escaped value, "%u" its escaped local part (before the last '@'), "%d"
 * its escaped domain (after it, "" if none), "%%" a '%'.  Any other '%' is
 * an error.  0 or -1 (+ *err).
 */
int ldapfilter_expand(struct str *out, const char *tmpl, const char *value,
                      struct str *err);

#endif
