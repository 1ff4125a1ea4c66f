/*
 * fuzz_sieve_compile - the Sieve compiler (lib-sieve: lexer.c, parser.c,
 * validate.c and every extension's validation) on any script text, as
 * ManageSieve PUTSCRIPT/CHECKSCRIPT and postern-lda hand it over.
 * Include directories are unset, so include is checked for syntax only.
 * Checks: success gives a script, failure gives error text, never both or
 * neither; the script frees completely (LeakSanitizer).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sieve_host host;
    struct sieve_script *s = NULL;
    struct str err = STR_INIT;
    int rc;

    memset(&host, 0, sizeof(host));
    host.delimiters = "+";
    rc = sieve_compile("fuzz", (const char *)data, size, &host, &s, &err);
    if ((rc == 0) != (s != NULL) || (rc != 0 && err.len == 0))
        abort();
    if (s)
        sieve_script_free(s);
    str_free(&err);
    return 0;
}
