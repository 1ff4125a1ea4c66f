/*
 * ext_relational - the match types ":count" and ":value" (RFC 5231) with
 * the operators "gt" "ge" "lt" "le" "eq" "ne", for every test that takes
 * a MATCH-TYPE.  :value compares each value with each key under the
 * comparator's ordering; :count compares the number of values (fields,
 * addresses, flags, non-empty strings) with the keys, usually with
 * "i;ascii-numeric".  The operator is checked at compile time
 * (validate.c); the comparison is in match.c.
 */
#include "sieve-int.h"

static const struct sv_tagdef tags[] = {
    {"count", SV_G_MATCH, SV_MT_COUNT, 'S', "*match"},
    {"value", SV_G_MATCH, SV_MT_VALUE, 'S', "*match"},
};

const struct sv_ext sv_ext_relational = {"relational", NULL, 0, tags, 2, 0,
                                         0};
