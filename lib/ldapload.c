/*
 * ldapload - the LDAP client loaded on demand.  See ldapload.h.
 *
 * The first call looks for the module (next to /proc/self/exe, then in
 * POSTERN_MODULE_DIR), dlopen()s it with RTLD_NOW | RTLD_LOCAL (its
 * symbols stay its own: it is linked with a version script that exports
 * the table only) and checks the table; the answer, a failure included,
 * is kept for the life of the process (pthread_once: postern-lda --lmtp
 * has threads), so a missing module costs one failed dlopen per process.
 *
 * Diagnostics: every failure is a message in *err (dlerror's text).
 */
#include "ldapload.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#ifndef POSTERN_MODULE_DIR
#define POSTERN_MODULE_DIR "/usr/local/lib/postern"
#endif

static const struct ldapload *loaded;
static char load_error[PATH_MAX + 512]; /* a path and a reason */

/* the module next to the running program: "" if there is none */
static void beside_exe(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    out[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL)
        return;
    slash[1] = '\0';
    if ((size_t)snprintf(out, size, "%s%s", exe, LDAPLOAD_FILE) >= size ||
        access(out, F_OK) != 0)
        out[0] = '\0';
}

static const struct ldapload *load(void)
{
    char path[PATH_MAX + sizeof(LDAPLOAD_FILE)];
    const struct ldapload *m;
    const char *ident;
    enum log_target target;
    int verbose;
    void *h;

    beside_exe(path, sizeof(path));
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "%s/%s", POSTERN_MODULE_DIR,
                 LDAPLOAD_FILE);
    if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        snprintf(load_error, sizeof(load_error), "cannot load the LDAP "
                 "module: %s", dlerror());
        return NULL;
    }
    m = dlsym(h, LDAPLOAD_SYMBOL);
    if (m == NULL || m->abi != LDAPLOAD_ABI ||
        m->config_size != sizeof(struct ldapc_config)) {
        snprintf(load_error, sizeof(load_error), "%s: %s", path,
                 m == NULL ? "no " LDAPLOAD_SYMBOL
                           : "from another build of postern");
        dlclose(h);
        return NULL;
    }
    log_get(&ident, &target, &verbose);
    m->init(ident, target, verbose);
    return m;
}

static void load_once(void)
{
    loaded = load();
}

const struct ldapload *ldapload_get(struct str *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, load_once);
    if (loaded == NULL)
        str_appendf(err, "%s", load_error);
    return loaded;
}
