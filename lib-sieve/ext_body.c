/*
 * ext_body - the "body" test (RFC 5173):
 *
 *   body [COMPARATOR] [MATCH-TYPE] [BODY-TRANSFORM] <key-list>
 *   BODY-TRANSFORM = :raw / :content <content-types: string-list> / :text
 *
 * :text (the default) looks at the "text/..." parts, decoded from base64 or
 * quoted-printable; :content at the parts of the given types ("text",
 * "text/html", "" for every leaf part); :raw at the undecoded body.  The
 * parts are found by message.c; charsets are not converted (UTF-8 and
 * US-ASCII compare as they are).  Each part is one value: :is compares a
 * whole part, :contains searches it.  The parts are found and decoded once
 * per run (message.c) and count against the run's memory budget.  A
 * match (:matches, :regex) sets no match variables (RFC 5173 section 6).
 *
 * Content types (RFC 5173 section 5): one that begins or ends with "/" or
 * holds two slashes matches no part.
 */
#include <string.h>

#include "sieve-int.h"

static int body_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_tagval *t = sv_tag_group(n, SV_G_BODY);
    int transform = t ? t->def->id : SV_BT_TEXT;
    struct sv_strlist keys, types = {NULL, 0};
    struct sv_str *parts, saved[SIEVE_MATCH_VARS];
    size_t np, nsaved;
    int m;

    if (transform == SV_BT_CONTENT)
        sv_eval_list(r, &t->param->list, &types);
    sv_eval_list(r, &sv_pos(n, 0)->list, &keys);
    if (sv_body_parts(r, transform, &types, &parts, &np) < 0)
        return sv_rerror(r, n, "cannot read the message body");
    if (sv_mem_check(r, n) < 0)     /* the loaded and decoded parts */
        return -1;
    /* RFC 5173 section 6: body leaves the match variables as they were */
    memcpy(saved, r->mvars, sizeof(saved));
    nsaved = r->nmvars;
    m = sv_match(r, n, parts, np, &keys);
    memcpy(r->mvars, saved, sizeof(saved));
    r->nmvars = nsaved;
    return m;
}

static const struct sv_cmddef cmds[] = {
    {"body", 1, "L", 0, 0, SV_F_MATCH, NULL, body_exec},
};

static const struct sv_tagdef tags[] = {
    {"raw", SV_G_BODY, SV_BT_RAW, 0, " body "},
    {"text", SV_G_BODY, SV_BT_TEXT, 0, " body "},
    {"content", SV_G_BODY, SV_BT_CONTENT, 'L', " body "},
};

const struct sv_ext sv_ext_body = {"body", cmds, 1, tags, 3, 0, 0};
