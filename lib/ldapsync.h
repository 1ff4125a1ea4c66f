/*
 * ldapsync - one LDAP Content Synchronization session (RFC 4533,
 * refreshAndPersist) on libldap's ldap_sync API, over a struct ldapc
 * connection: the whole content matching a filter (the refresh), then every
 * change as it happens (persist), each entry named by its entryUUID.
 *
 * The session starts without a cookie, so the refresh hands over every
 * entry (a full reconciliation); a caller that wants one periodically ends
 * the session (an op returns 1) and starts a new one.  Entries added or
 * changed come with their attributes (the attrs asked for), entries gone
 * from the result set (deleted, moved out of the base, no longer matching
 * the filter) with their UUID only.
 *
 * Ops, each returning 0 to go on, 1 to end the session cleanly, -1 for an
 * error of the caller (the session ends, *err says why):
 *   entry(ctx, uuid, dn, attr, value, len): an added or changed entry,
 *       first with attr == NULL (value NULL), then once per value (as
 *       ldapc_search hands entries over); entry_end(ctx) after its last
 *       value;
 *   present(ctx, uuid): an entry the server says is unchanged (only with a
 *       cookie; may be NULL);
 *   deleted(ctx, uuid);
 *   refresh_done(ctx): the refresh is complete: every entry that exists
 *       was handed over (as an entry or present);
 *   idle(ctx): nothing arrived for poll_ms (and after every burst), the
 *       place to commit batches and run timers.
 *
 * Returns 0 when an op ended the session, LK_TEMP when the directory
 * failed (unreachable, connection lost, the server ended the search, a
 * refresh required) or an op returned -1; *err says which.  The caller
 * then starts a new session after a pause.
 *
 * Limits: LDAPC_VALUE_MAX bytes per value (ldapc).  One session per
 * struct ldapc at a time; not thread-safe.
 */
#ifndef POSTERN_LDAPSYNC_H
#define POSTERN_LDAPSYNC_H

#include <stddef.h>

#include "ldapc.h"
#include "str.h"

#define LDAPSYNC_UUID_LEN 36     /* 8-4-4-4-12 lower-case hex */

struct ldapsync_ops {
    int (*entry)(void *ctx, const char *uuid, const char *dn,
                 const char *attr, const char *value, size_t len);
    int (*entry_end)(void *ctx);
    int (*present)(void *ctx, const char *uuid);
    int (*deleted)(void *ctx, const char *uuid);
    int (*refresh_done)(void *ctx);
    int (*idle)(void *ctx);
};

int ldapsync_run(struct ldapc *lc, const char *base, const char *filter,
                 const char *const *attrs, long long poll_ms,
                 const struct ldapsync_ops *ops, void *ctx, struct str *err);

/* ldapsync_uuid - format 16 bytes as a UUID string (37 bytes with NUL);
   0, or -1 when len is not 16 */
int ldapsync_uuid(const void *bytes, size_t len, char *out);

#endif
