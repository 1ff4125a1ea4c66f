/*
 * fuzz_addr - lib/addr.c: addr_parse (every flag combination, delimiters
 * from the input) and addr_canonical with an alias-domain map that has a
 * chain and a loop, on any bytes (envelope addresses from SMTP, policy
 * requests, milter and LDA arguments all end here).
 * Input: byte 0 = flags, byte 1 selects the delimiters, the rest the
 * address.  Checks: results are NUL-terminated and within the RFC 5321
 * limits; full is local[@domain]; addr_canonical is idempotent (the
 * canonical form of a canonical form, when it parses, is itself) and its
 * domain is never an alias domain; a parsed domain passes
 * addr_domain_valid.
 */
#include <stdlib.h>

#include "addr.h"
#include "fuzz.h"

static const char *alias_of(void *ctx, const char *d)
{
    (void)ctx;
    if (!strcmp(d, "alias.example"))
        return "target.example";
    if (!strcmp(d, "chain.example"))
        return "alias.example";
    if (!strcmp(d, "loop1.example"))
        return "loop2.example";
    if (!strcmp(d, "loop2.example"))
        return "loop1.example";
    return NULL;
}

static void check_addr(const struct addr *a)
{
    size_t l = strnlen(a->local, sizeof(a->local));
    size_t d = strnlen(a->domain, sizeof(a->domain));
    size_t f = strnlen(a->full, sizeof(a->full));
    size_t e = strnlen(a->ext, sizeof(a->ext));

    if (l > ADDR_LOCAL_MAX || d > ADDR_DOMAIN_MAX || f > ADDR_MAX ||
        e > ADDR_LOCAL_MAX)
        abort();
    if (a->has_domain ? (f != l + 1 + d || memcmp(a->full, a->local, l) ||
                         a->full[l] != '@' || strcmp(a->full + l + 1, a->domain))
                      : f != l)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const delim_sets[] = {NULL, "", "+", "+-", "-=_.",
                                             "+-=_.~#%"};
    struct fuzz_in in = {(const char *)data, size};
    int flags = (int)(fuzz_byte(&in) & 0x07);
    const char *delims = delim_sets[fuzz_byte(&in) % 6];
    struct addr a, b;
    const char *err;

    if (addr_parse(in.p, in.left, delims, flags, &a, &err) == 0) {
        check_addr(&a);
        if (a.has_domain && !addr_domain_valid(a.domain, strlen(a.domain)))
            abort();
    } else if (err == NULL) {
        abort();
    }
    (void)addr_domain_valid(in.p, in.left);
    (void)addr_local_valid(in.p, in.left);
    if (addr_canonical(in.p, in.left, delims, flags & ~ADDR_LOWER_LOCAL,
                       alias_of, NULL, &a, &err) == 0) {
        check_addr(&a);
        if (a.has_domain && alias_of(NULL, a.domain) != NULL)
            abort();
        /* the canonical form may not parse again ("a.-x" with the
           delimiter '-' is "a.", as Postfix strips it); when it does, it
           must be its own canonical form */
        if (addr_canonical(a.full, strlen(a.full), delims,
                           flags & ~ADDR_LOWER_LOCAL, alias_of, NULL, &b,
                           &err) == 0 &&
            strcmp(a.full, b.full) != 0)
            abort(); /* not idempotent */
    }
    return 0;
}
