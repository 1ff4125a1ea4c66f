/*
 * fuzz_lda_maps - postern-lda's parser of postern-maps replies
 * ([lda] lookup = maps): the bytes a socketmap server sends back, read as
 * lda/maps_lookup.c reads them (one netstring of at most
 * LDA_MAPS_REPLY_MAX bytes, netstring_decode) and interpreted by
 * lda_maps_reply ("OK maildir", "OK quota=BYTES maildir" from the
 * ldamailbox map, "NOTFOUND", anything else temporary).
 * Checks: an LK_* outcome; LK_FOUND only with a maildir that
 * lda_maildir_valid accepts (relative, no "." or ".." component, no
 * control characters) and fits the mailbox, and the default quota unless
 * the reply named one; every other outcome leaves a reason in *err.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lda.h"
#include "netstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d, *why;
    size_t len, used;
    struct str reply = STR_INIT, err = STR_INIT;
    struct lda_mailbox mb;
    struct addr a;
    int rc;

    if (netstring_decode((const char *)data, size, LDA_MAPS_REPLY_MAX, &d,
                         &len, &used) != NETSTRING_OK)
        return 0;
    if (addr_parse("anna+x@Example.ORG", 18, "+", ADDR_NEED_DOMAIN, &a,
                   &why) < 0)
        abort();
    memset(&mb, 0, sizeof(mb));
    str_set(&reply, d, len);
    rc = lda_maps_reply(&reply, &a, 1024, &mb, &err);
    if (rc == LK_FOUND) {
        if (!lda_maildir_valid(mb.maildir) || mb.maildir[0] == '/' ||
            strnlen(mb.maildir, sizeof(mb.maildir)) > LDA_MAILDIR_MAX ||
            strcmp(mb.address, a.full) != 0 ||
            (mb.quota != 1024 && (len < 9 || memcmp(d, "OK quota=", 9) != 0)))
            abort();
    } else if (rc != LK_NOTFOUND && (rc != LK_TEMP || err.len == 0)) {
        abort();
    }
    str_free(&reply);
    str_free(&err);
    return 0;
}
