/*
 * sendas - may a SASL login use a sender address?  The one definition of
 * "the login owns the address" in postern: postern-maps' senderlogin map
 * answers the same question the other way round (which logins own this
 * address), postern-policyd's sender rules with require_auth and
 * postern-milter's DKIM signing ask it for one login.
 *
 * The login owns the address when
 *   1. the login is the address itself (the login lower-cased, compared
 *      with the canonical form of the address, lib/addr.h addr_canonical:
 *      case, +extension, alias domain, quoting, trailing dot);
 *   2. sender_grants grants the login that address (match_type 'address')
 *      or its whole domain (match_type 'domain'), active rows;
 *   3. the address is an alias whose only active target is the login's own
 *      active mailbox (aliases; an alias with several targets belongs to
 *      nobody).
 *
 * Rules 2 and 3 ask a backend: sendas_backend_db() asks SQL (one indexed
 * query per question, for a program without a snapshot of these tables);
 * a program with its own in-memory tables fills in its own functions.
 * Every answer is an LK_* value (lib/lookup.h): a backend that cannot
 * answer makes the whole answer LK_TEMP, never "not owned".
 *
 * sendas_canonical_db() is addr_canonical with the alias domains read
 * from SQL (domains of kind 'alias', one query per step of the chain).
 *
 * Limits: logins and addresses longer than ADDR_MAX own nothing.
 */
#ifndef POSTERN_SENDAS_H
#define POSTERN_SENDAS_H

#include "addr.h"
#include "db.h"
#include "str.h"

struct sendas_backend {
    /* grant - LK_FOUND if login (lower-case) has an active grant of type
       "address" or "domain" for pattern; LK_NOTFOUND, LK_TEMP (+ *err). */
    int (*grant)(void *ctx, const char *login, const char *type,
                 const char *pattern, struct str *err);
    /* alias_owner - LK_FOUND if address is an alias whose only active
       target is login's active mailbox; LK_NOTFOUND, LK_TEMP.  NULL: the
       backend has no aliases (rule 3 never matches). */
    int (*alias_owner)(void *ctx, const char *address, const char *login,
                       struct str *err);
    void *ctx;
};

/*
 * sendas_owns - does login own sender (canonical, with a domain)?
 * LK_FOUND, LK_NOTFOUND, LK_TEMP (+ *err).  An empty login owns nothing.
 */
int sendas_owns(const struct sendas_backend *be, const char *login,
                const struct addr *sender, struct str *err);

/* sendas_backend_db - rules 2 and 3 from SQL through db (not owned). */
struct sendas_backend sendas_backend_db(struct db *db);

/*
 * sendas_canonical_db - addr_canonical (ADDR_NEED_DOMAIN) of in[0..len)
 * with the alias domains of the SQL domains table.  LK_FOUND with *a,
 * LK_NOTFOUND for a malformed address (*why, static), LK_TEMP when the
 * database cannot answer or the alias-domain chain does not end (+ *err).
 */
int sendas_canonical_db(struct db *db, const char *in, size_t len,
                        const char *delims, struct addr *a, const char **why,
                        struct str *err);

#endif
