/*
 * fuzz_mutf7 - lib/mutf7.c and lda/folder.c: IMAP modified UTF-7 both
 * ways and folder names (Sieve fileinto, LMTP +extension folders) into
 * Maildir++ directory names, on any bytes.
 * Checks: decode(encode(x)) == x for every x encode accepts;
 * encode(decode(y)) == y for every y decode accepts (decode takes only the
 * canonical form, so the mapping is one to one); folder_to_maildir gives
 * "" or a name starting with '.' without '/' or NUL.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "lda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *err;
    struct str a = STR_INIT, b = STR_INIT;

    if (mutf7_encode(in, size, &a) == 0) {
        if (mutf7_decode(a.data ? a.data : "", a.len, &b) != 0 ||
            b.len != size || (size && memcmp(b.data, in, size) != 0))
            abort();
    }
    str_reset(&a);
    str_reset(&b);
    if (mutf7_decode(in, size, &a) == 0) {
        if (mutf7_encode(a.data ? a.data : "", a.len, &b) != 0 ||
            b.len != size || (size && memcmp(b.data, in, size) != 0))
            abort();
    }
    str_reset(&a);
    if (memchr(in, '\0', size) == NULL) {
        char *name = strndup(in, size);
        if (folder_to_maildir(name, &a, &err) == 0 &&
            a.len > 0 && (a.data[0] != '.' || memchr(a.data, '/', a.len) ||
                          strlen(a.data) != a.len))
            abort();
        free(name);
    }
    str_free(&a);
    str_free(&b);
    return 0;
}
