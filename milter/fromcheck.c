/*
 * fromcheck - may an authenticated SASL login use the address in the From
 * header of its message?  Asked before a message is DKIM-signed: a
 * signature says "this domain vouches for this author", so a login signs
 * only as an address it owns.
 *
 * The address (sign_from: the single From mailbox) is put in canonical
 * form (lib/addr.h addr_canonical: case, [milter] recipient_delimiter
 * extension, quoting, trailing dot, alias domains read from SQL by
 * lib/sendas.h sendas_canonical_db) and the login owns it when
 *   - lib/sendas.h says so over SQL (the login is the address, a
 *     sender_grants row for the address or its domain, an alias whose only
 *     target is the login's mailbox: the rules of postern-maps' senderlogin
 *     map and of postern-policyd);
 *   - or, with LDAP in use ([milter] group_domains set), the address is one
 *     of the login's own addresses in the directory ([ldap] user_filter,
 *     mail_attribute: the identity rights.c uses), in canonical form too.
 *     LDAP is asked only when SQL said no, so a login sending as itself
 *     never waits for LDAP.
 *
 * Outcomes (lib/lookup.h): LK_FOUND owned; LK_NOTFOUND not owned, the
 * reason in *why (no usable From, a malformed address, not the login's);
 * LK_TEMP when SQL or LDAP cannot answer or the alias-domain chain does
 * not end (+ *err): never "not owned" in doubt.
 */
#include <string.h>

#include "log.h"
#include "milter.h"
#include "sendas.h"

/* ldap_owns - is addr (canonical) one of the login's LDAP addresses? */
static int ldap_owns(struct mctx *m, struct mres *r, const char *login,
                     const struct addr *addr, struct str *err)
{
    struct strvec mine = STRVEC_INIT;
    int rc = milter_user_addresses(m, r, login, &mine, err);

    if (rc < 0) {
        strvec_free(&mine);
        return rc;
    }
    rc = LK_NOTFOUND;
    for (size_t i = 0; i < mine.n && rc == LK_NOTFOUND; i++) {
        struct addr a;
        const char *bad;
        int c = sendas_canonical_db(r->db, mine.v[i], strlen(mine.v[i]),
                                    m->cfg->recipient_delimiter, &a, &bad,
                                    err);
        if (c < 0)
            rc = c;
        else if (c == LK_FOUND && !strcmp(a.full, addr->full))
            rc = LK_FOUND;
    }
    strvec_free(&mine);
    return rc;
}

int from_owned(struct mctx *m, struct mres *r, const char *login,
               const char *from, struct str *why, struct str *err)
{
    struct sendas_backend be = sendas_backend_db(r->db);
    const char *bad = NULL;
    struct addr a;
    int rc;

    if (from == NULL) {
        str_appendf(why, "no single usable From: address");
        return LK_NOTFOUND;
    }
    rc = sendas_canonical_db(r->db, from, strlen(from),
                             m->cfg->recipient_delimiter, &a, &bad, err);
    if (rc == LK_NOTFOUND)
        str_appendf(why, "From: address <%s> is malformed: %s",
                    log_safe_cstr(from), bad ? bad : "?");
    if (rc != LK_FOUND)
        return rc;
    rc = sendas_owns(&be, login, &a, err);
    if (rc == LK_NOTFOUND && milter_ldap_on(m->cfg))
        rc = ldap_owns(m, r, login, &a, err);
    if (rc == LK_NOTFOUND)
        str_appendf(why, "From: <%s> is not an address of login %s",
                    log_safe_cstr(a.full), log_safe_cstr(login));
    return rc;
}
