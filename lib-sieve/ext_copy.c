/*
 * ext_copy - the ":copy" tag of fileinto and redirect (RFC 3894): the
 * action does not cancel the implicit keep.  The commands look the tag up
 * themselves (cmd_actions.c, ext_fileinto.c).
 */
#include "sieve-int.h"

static const struct sv_tagdef tags[] = {
    {"copy", SV_G_NONE, 0, 0, " fileinto redirect "},
};

const struct sv_ext sv_ext_copy = {"copy", NULL, 0, tags, 1, 0, 0};
