/*
 * ldapmodule - the table postern-ldap.so exports (lib/ldapload.h): the
 * LDAP client of lib/ldapc.h with libldap, loaded by programs that need it
 * only now and then.  Built by the Makefile from this file, lib/ldapc.c
 * and the lib/ modules they use, compiled -fPIC; not part of
 * libpostern.a.
 */
#include "ldapload.h"

static void module_init(const char *ident, enum log_target target,
                        int verbose)
{
    log_open(ident, target, verbose);
    ldapc_global_init();
}

const struct ldapload postern_ldap_module = {
    LDAPLOAD_ABI,
    sizeof(struct ldapc_config),
    module_init,
    ldapc_open,
    ldapc_close,
    ldapgroup_backend_ldapc,
};
