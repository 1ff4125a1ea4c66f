/*
 * ldapgroup_ldapc - the real backend of lib/ldapgroup.h: its searches go
 * to an LDAP server through lib/ldapc.h.  Kept apart from ldapgroup.c so
 * that group logic (and its unit tests with a fake backend) links without
 * libldap; postern-lda gets this backend from the module that lib/ldapload.h
 * loads.
 */
#include "ldapgroup.h"
#include "ldapc.h"

static int ldapc_backend_search(void *ctx, const char *base, int scope,
                                const char *filter, const char *const *attrs,
                                size_t max_entries, ldapc_entry_fn fn,
                                void *fnctx, struct str *err)
{
    return ldapc_search(ctx, base, scope, filter, attrs, max_entries, fn,
                        fnctx, err);
}

struct ldapgroup_backend ldapgroup_backend_ldapc(struct ldapc *lc)
{
    return (struct ldapgroup_backend){ldapc_backend_search, lc};
}
