/*
 * ext_index - the ":index <N>" and ":last" tags (RFC 5260 section 6) for
 * header, address and date: only the N-th occurrence of the field
 * (counted from the end with :last) is tested.  :index is at least 1 and
 * :last needs :index (validate.c, check_index); message.c picks the
 * field (sv_header_values).
 */
#include "sieve-int.h"

static const struct sv_tagdef tags[] = {
    {"index", SV_G_NONE, 0, 'N', " header address date "},
    {"last", SV_G_NONE, 0, 0, " header address date "},
};

const struct sv_ext sv_ext_index = {"index", NULL, 0, tags, 2, 0, 0};
