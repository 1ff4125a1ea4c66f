/*
 * fuzz_quota - postern-lda's maildirsize parser (lda/quota.c,
 * quota_parse_usage: what quota_check reads from a Maildir++ maildirsize
 * file, which the mailbox owner can write over IMAP clients or a shell).
 * Input: up to QUOTA_FILE_MAX (5120) bytes of file; the limit is the
 * number on its first line when there is one (so the usage lines are
 * parsed), else 1 GiB.
 * Checks: a parse that says "use it" (1) or "recalculate" (0), no other
 * value; no undefined behaviour in the summing (UBSan).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "lda.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf;
    unsigned long long limit = 1ULL << 30;
    long long bytes = 0;
    int r;

    if (size > 5120)
        return 0;
    buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    if (size && data[0] >= '0' && data[0] <= '9')
        limit = strtoull(buf, NULL, 10);
    r = quota_parse_usage(buf, limit, &bytes);
    if (r != 0 && r != 1)
        abort();
    free(buf);
    return 0;
}
