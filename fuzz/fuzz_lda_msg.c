/*
 * fuzz_lda_msg - postern-lda's message reader (lda/msg.c) and the header
 * inspection after it (lda/header.c): any bytes, fed once whole and once
 * in chunks whose sizes come from the input (1..16 bytes, so the mbox
 * "From " decision and CRLF pairs are split every way).
 * Input: byte 0 = chunking seed, byte 1 = size limit selector, the rest
 * the message.
 * Checks: both feeds spool the same bytes, header, size, line count and
 * too-big flag (the reader does not depend on how reads split the input);
 * the spool holds every byte counted and no NUL.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "lda.h"

static struct lda_msg whole, chunked; /* 64 KiB staging buffers each */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    unsigned seed = fuzz_byte(&in), lim = fuzz_byte(&in);
    unsigned long long max = lim & 0x80 ? (lim & 0x7f) * 8 : 1ULL << 30;
    const char *p = in.p;
    size_t left = in.left, off = 0;

    lda_msg_init(&whole, max, 1 << 20, "/tmp");
    lda_msg_init(&chunked, max, 1 << 20, "/tmp");
    if (lda_msg_feed(&whole, p, left) < 0 || lda_msg_finish(&whole) < 0)
        abort();
    while (off < left) {
        size_t n = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 16;
        if (n > left - off)
            n = left - off;
        if (lda_msg_feed(&chunked, p + off, n) < 0)
            abort();
        off += n;
    }
    if (lda_msg_finish(&chunked) < 0)
        abort();
    if (whole.size != chunked.size || whole.lines != chunked.lines ||
        whole.too_big != chunked.too_big || whole.memlen != chunked.memlen ||
        (whole.memlen && memcmp(whole.mem, chunked.mem, whole.memlen)) ||
        whole.header.len != chunked.header.len ||
        (whole.header.len &&
         memcmp(whole.header.data, chunked.header.data, whole.header.len)))
        abort(); /* depends on how the input was split */
    if (whole.memlen != whole.size || (whole.memlen &&
                                       memchr(whole.mem, '\0', whole.memlen)))
        abort();
    (void)lda_header_has_fields(&whole);
    (void)lda_header_has_value(&whole, "Delivered-To", "user@example.org");
    lda_msg_free(&whole);
    lda_msg_free(&chunked);
    return 0;
}
