/*
 * ext_extracttext - the "extracttext" extension (RFC 5703 section 7):
 *
 *   extracttext [MODIFIER] [":first" <number>] <varname: string>
 *
 * Sets the variable to the text of the part the enclosing foreverypart
 * loop is at: a text/... part decoded from base64 or quoted-printable
 * and converted from its charset to UTF-8 (iconv), text/html without
 * its tags, comments, scripts and styles (character references
 * decoded); a message/rfc822 part gives the text parts of the enclosed
 * message; any other part (multipart, images, ...) the empty string.
 * :first N keeps the first N characters.  The modifiers are those of
 * "set" (RFC 5229: :lower :upper :lowerfirst :upperfirst :quotewildcard
 * :length), applied the same way (ext_variables.c).  The value is cut
 * to SIEVE_VARIABLE_SIZE bytes like any variable; at most
 * SIEVE_EXTRACT_MAX bytes of a part are decoded, one step per 64 bytes.
 *
 * Needs "variables" and "foreverypart"; extracttext must stand inside a
 * foreverypart block of the same script (ext_foreverypart.c marks it).
 *
 * Diagnostics: "extracttext used outside foreverypart", "extracttext
 * requires the "variables" extension", "invalid variable name "..."",
 * "modifiers :X and :Y cannot be used together".
 */
#include <string.h>

#include "sieve-int.h"

static int et_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);
    const struct sv_str *name = &a->list.v[0];

    if (!sv_has(v->s, &sv_ext_variables)) {
        sv_verror(v, n->line, "extracttext requires the \"variables\" "
                  "extension");
        return -1;
    }
    if (n->data == NULL) {
        sv_verror(v, n->line, "extracttext used outside foreverypart");
        return -1;
    }
    if (!sv_literal(name) || !sv_var_name_valid(name->s, name->len, 1)) {
        sv_verror(v, a->line, "invalid variable name \"%.60s\"", name->s);
        return -1;
    }
    for (size_t i = 0; i < n->ntags; i++)
        for (size_t k = i + 1; k < n->ntags; k++) {
            int ri = sv_var_modifier_rank(n->tags[i].def->name);
            if (ri && ri == sv_var_modifier_rank(n->tags[k].def->name)) {
                sv_verror(v, n->line, "modifiers :%s and :%s cannot be "
                          "used together", n->tags[i].def->name,
                          n->tags[k].def->name);
                return -1;
            }
        }
    return 0;
}

/* keep the first `chars` UTF-8 characters of s */
static void first_chars(struct str *s, unsigned long long chars)
{
    size_t i = 0;

    for (unsigned long long c = 0; i < s->len && c < chars; c++) {
        i++;
        while (i < s->len && ((unsigned char)s->data[i] & 0xc0) == 0x80)
            i++;
    }
    if (i < s->len)
        s->len = i;
}

static int et_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_str *name = &sv_pos(n, 0)->list.v[0];
    const struct sv_tagval *first = sv_tag(n, "first");
    struct sv_mime *m = sv_mime_tree(r, n);
    struct str t = STR_INIT;
    int rc;

    if (m == NULL)
        return -1;
    if (sv_mime_text(r, n, m->loops ? m->cur : 0, &t) < 0) {
        str_free(&t);
        return -1;
    }
    if (first)
        first_chars(&t, first->param->num);
    sv_var_modifiers(n, &t);
    rc = sv_var_set(r, n, name->s, name->len, t.data ? t.data : "", t.len);
    str_free(&t);
    return rc;
}

static const struct sv_cmddef cmds[] = {
    {"extracttext", 0, "S", 0, 0, 0, et_validate, et_exec},
};

static const struct sv_tagdef tags[] = {
    {"first", SV_G_NONE, 0, 'N', " extracttext "},
    {"lower", SV_G_OTHER, 0, 0, " extracttext "},
    {"upper", SV_G_OTHER, 0, 0, " extracttext "},
    {"lowerfirst", SV_G_OTHER, 0, 0, " extracttext "},
    {"upperfirst", SV_G_OTHER, 0, 0, " extracttext "},
    {"quotewildcard", SV_G_OTHER, 0, 0, " extracttext "},
    {"length", SV_G_OTHER, 0, 0, " extracttext "},
};

const struct sv_ext sv_ext_extracttext = {"extracttext", cmds, 1, tags,
                                          sizeof(tags) / sizeof(tags[0]), 0,
                                          0};
