/*
 * fuzz_srs - lib/srs.c: srs_reverse on any address (what a bounce to an
 * SRS address brings: srsdecode from Postfix's recipient_canonical_maps)
 * and srs_forward, with the separator, hash length, algorithm and the
 * clock taken from the input.
 * Input: byte 0 = parameters, byte 1 = day offset, the rest the address.
 * Checks: what srs_forward writes from a plain (non-SRS) address,
 * srs_reverse decodes (same day) back to the input address (ASCII case
 * aside); outputs stay within SRS_ADDR_MAX.
 */
#include <stdlib.h>
#include <strings.h>

#include "fuzz.h"
#include "srs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char seps[] = "=+-";
    struct fuzz_in in = {(const char *)data, size};
    unsigned par = fuzz_byte(&in), day = fuzz_byte(&in);
    time_t now = 1767225600 + (time_t)day * 86400; /* 2026-01-01 + days */
    struct str err = STR_INIT, out = STR_INIT, back = STR_INIT;
    const char *why;
    struct srs srs;
    int rc;

    if (srs_setup(&srs, (par & 0x40) ? "Fwd.Example" : "srs.example",
                  seps[par % 3], 21, SRS_HASH_MIN + (int)((par >> 2) % 7),
                  (par & 0x20) ? SRS_SHA256 : SRS_SHA1, &err) < 0 ||
        srs_add_secret(&srs, "fuzz-secret-0123456789", 22, &err) < 0 ||
        srs_add_secret(&srs, "older-secret-abcdefghij", 23, &err) < 0)
        abort();
    rc = srs_reverse(&srs, in.p, in.left, now, &out, &why);
    if (rc < -1 || rc > 1 || (rc != 1 && why == NULL) || out.len > SRS_ADDR_MAX)
        abort();
    (void)srs_is_srs(in.p, in.left);
    rc = srs_forward(&srs, in.p, in.left, now, &out, &why);
    if (rc == 1) {
        if (out.len > SRS_ADDR_MAX)
            abort();
        const char *at = memrchr(in.p, '@', in.left);
        rc = srs_reverse(&srs, out.data, out.len, now, &back, &why);
        if (at && !srs_is_srs(in.p, (size_t)(at - in.p)) &&
            (rc != 1 || back.len != in.left ||
             strncasecmp(back.data, in.p, in.left) != 0))
            abort(); /* a rewrite that does not decode to its input */
    }
    srs_wipe(&srs);
    str_free(&err);
    str_free(&out);
    str_free(&back);
    return 0;
}
