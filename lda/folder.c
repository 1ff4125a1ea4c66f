/*
 * folder - folder names as users and Sieve scripts give them, mapped to
 * Maildir++ directory names (Courier/Dovecot "maildir++" layout):
 *
 *   "INBOX", ""             -> ""                (the mailbox itself)
 *   "Sent", "INBOX.Sent"    -> ".Sent"
 *   "Archive/2024"          -> ".Archive.2024"   ('/' and '.' both separate)
 *   "Entwürfe"              -> ".Entw&APw-rfe"   (modified UTF-7, mutf7.c)
 *
 * Limits: each level at most 255 bytes once encoded, the whole name at most
 * LDA_FOLDER_MAX bytes.  Refused (with a static message in *err): invalid
 * UTF-8, empty levels ("a//b", a leading or trailing separator), control
 * characters.  A refused name is not an error for the message: the caller
 * delivers to INBOX.
 */
#include <string.h>
#include <strings.h>

#include "lda.h"

#define FOLDER_LEVEL_MAX 255

int folder_to_maildir(const char *name, struct str *out, const char **err)
{
    const char *p = name, *end;

    str_truncate(out, 0);
    if (name == NULL)
        return 0;
    if (strncasecmp(p, "INBOX", 5) == 0 &&
        (p[5] == '\0' || p[5] == '/' || p[5] == '.'))
        p += p[5] ? 6 : 5;
    if (*p == '\0') {
        if (p != name && p[-1] != 'X' && p[-1] != 'x')
            return *err = "empty folder name after INBOX", -1;
        return 0;
    }
    end = p + strlen(p);
    while (p <= end) {
        const char *sep = p;
        size_t before = out->len;
        while (sep < end && *sep != '/' && *sep != '.')
            sep++;
        if (sep == p)
            return *err = "empty level in folder name", -1;
        for (const char *c = p; c < sep; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return *err = "control character in folder name", -1;
        str_append_char(out, '.');
        if (mutf7_encode(p, (size_t)(sep - p), out) < 0)
            return *err = "folder name is not valid UTF-8", -1;
        if (out->len - before - 1 > FOLDER_LEVEL_MAX ||
            out->len > LDA_FOLDER_MAX)
            return *err = "folder name too long", -1;
        p = sep + 1;
        if (sep == end)
            break;
    }
    return 0;
}
