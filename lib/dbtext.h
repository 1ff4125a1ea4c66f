/*
 * dbtext - text values made fit for a VARCHAR(n) column of a utf8mb4 table
 * before they are queued or written, so that one value the database would
 * refuse (bytes that are not UTF-8, a value longer than its column) never
 * holds up the others.
 *
 * The rule (DESIGN: "a queue or batch survives one bad item"): a value that
 * is valid UTF-8 and within its column's characters is kept as it is;
 * another is canonicalised: its longest leading part that fits (bytes that
 * are not UTF-8, and NUL, become '?'), then '#' and 16 hex digits of a
 * 64-bit hash of the whole original value (hash_stable64).  The same input
 * gives the same text on every host, so state keyed by it (a greylisting
 * triplet) is found again and shared; different inputs stay different
 * short of a hash collision; the text is readable for an admin.
 *
 * Pure functions, thread-safe.
 */
#ifndef POSTERN_DBTEXT_H
#define POSTERN_DBTEXT_H

#include <stddef.h>

#define DBTEXT_SUFFIX_LEN 17 /* "#" and 16 hex digits */

/*
 * dbtext_chars - the characters of src[0..len) if it is UTF-8 as a utf8mb4
 * column takes it (no NUL, no overlong form, no surrogate, at most
 * U+10FFFF), else -1.
 */
long dbtext_chars(const char *src, size_t len);

/*
 * dbtext_bound - src[0..len) fit for a column of max_chars characters, in
 * out (outsize bytes, NUL-terminated; the result also stays within
 * outsize - 1 bytes).  Returns 0 when src was kept as it is, 1 when it was
 * canonicalised (see above), -1 when max_chars or outsize leave no room
 * for the canonical form (DBTEXT_SUFFIX_LEN + 1 characters and bytes).
 */
int dbtext_bound(char *out, size_t outsize, const char *src, size_t len,
                 size_t max_chars);

#endif
