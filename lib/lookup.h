/*
 * lookup - the one outcome of every lookup in postern (SQL, LDAP, a
 * snapshot, a cache, a group test), in the manner of Dovecot's 1/0/-1:
 *
 *   LK_FOUND (1)     the key exists (or: yes, a member)
 *   LK_NOTFOUND (0)  the source answered and the key does not exist
 *   LK_TEMP (-1)     the source could not answer (down, timeout, lost
 *                    connection, deadlock, corrupt data): try again later
 *   LK_LIMIT (-2)    the answer would pass a named limit (nesting depth,
 *                    group size): treated like LK_TEMP by callers that do
 *                    not care, logged apart by those that do
 *
 * So "rc < 0" always means "no answer now": a caller defers (4xx, TEMP,
 * EX_TEMPFAIL) and never turns it into "not found".
 */
#ifndef POSTERN_LOOKUP_H
#define POSTERN_LOOKUP_H

#define LK_FOUND 1
#define LK_NOTFOUND 0
#define LK_TEMP (-1)
#define LK_LIMIT (-2)

/* lookup_name - "found", "not found", "temporary failure", "limit". */
static inline const char *lookup_name(int rc)
{
    return rc > 0 ? "found" : rc == 0 ? "not found"
           : rc == LK_LIMIT ? "limit" : "temporary failure";
}

#endif
