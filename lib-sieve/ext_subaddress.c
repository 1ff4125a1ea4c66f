/*
 * ext_subaddress - the address parts ":user" and ":detail" (RFC 5233) for
 * address and envelope.  The split is at the first separator character
 * (postern-lda: [lda] recipient_delimiter, "+" by default): for
 * "ken+sieve@example.org" :user is "ken" and :detail "sieve"; without a
 * separator :user is the whole local part and :detail matches nothing.
 * The work is done in address.c (sv_address_part).
 */
#include "sieve-int.h"

static const struct sv_tagdef tags[] = {
    {"user", SV_G_ADDR, SV_AP_USER, 0, "*addr"},
    {"detail", SV_G_ADDR, SV_AP_DETAIL, 0, "*addr"},
};

const struct sv_ext sv_ext_subaddress = {"subaddress", NULL, 0, tags, 2, 0,
                                         0};
