/*
 * ldapload - the LDAP client (lib/ldapc.h) loaded on demand, for a program
 * that starts once per message and needs LDAP only for some deliveries
 * (postern-lda: Sieve extlists with [lda] ldap = yes).  Linking libldap
 * brings about a dozen shared libraries (GnuTLS, Cyrus SASL, ...) that
 * every exec would load; the module postern-ldap.so carries lib/ldapc.c
 * and libldap instead, and ldapload_get() dlopen()s it the first time a
 * delivery asks.
 *
 * Where: postern-ldap.so next to the running program (the build tree; an
 * install that keeps them together), else POSTERN_MODULE_DIR (the
 * Makefile's $(PREFIX)/lib/postern).  Nothing from the environment.
 *
 * Limits: the module must come from the same build (LDAPLOAD_ABI and the
 * size of struct ldapc_config are checked); anything else is an error
 * with the reason, which the caller treats as LDAP being down (LK_TEMP).
 * The module has its own copies of lib/ modules it needs (mem, str, log:
 * set up through init); its metrics are not the program's.
 */
#ifndef POSTERN_LDAPLOAD_H
#define POSTERN_LDAPLOAD_H

#include "ldapc.h"
#include "ldapgroup.h"
#include "log.h"
#include "str.h"

#define LDAPLOAD_ABI 1
#define LDAPLOAD_SYMBOL "postern_ldap_module"
#define LDAPLOAD_FILE "postern-ldap.so"

/* the module's one exported table */
struct ldapload {
    int abi;                    /* LDAPLOAD_ABI of the module's build */
    size_t config_size;         /* sizeof(struct ldapc_config) there */
    /* init - the module's log like the program's (lib/log.h log_open) */
    void (*init)(const char *ident, enum log_target target, int verbose);
    struct ldapc *(*open)(const struct ldapc_config *cfg, struct str *err);
    void (*close)(struct ldapc *lc);
    /* backend - ldapgroup_backend_ldapc(lc) */
    struct ldapgroup_backend (*backend)(struct ldapc *lc);
};

/*
 * ldapload_get - the loaded module, initialized (ldapc_global_init, its log
 * as the program's, lib/log.h log_get); loaded once per process, the
 * first caller's thread does it.  NULL + *err when it cannot be found,
 * loaded or is from another build.
 */
const struct ldapload *ldapload_get(struct str *err);

#endif
