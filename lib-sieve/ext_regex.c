/*
 * ext_regex - the ":regex" match type (draft-ietf-sieve-regex-01) with
 * POSIX extended regular expressions (regcomp(3) from libc).  With
 * i;ascii-casemap (the default) matching ignores case (REG_ICASE), with
 * i;octet it does not; other comparators are refused.  On a match ${0}
 * is the matched text and ${1}..${9} the subexpressions.  Also the set
 * modifier :quoteregex (with "variables").
 *
 * A literal key that does not compile is a compile error ("invalid
 * regular expression"); a key built from variables is checked at run
 * time.  Values and keys holding NUL bytes are cut at the NUL.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-int.h"

int sv_regex_check(const char *key, size_t len, int icase, char *err,
                   size_t errsize)
{
    regex_t re;
    char *k = xstrndup(key, len);
    int rc;

    rc = regcomp(&re, k, REG_EXTENDED | (icase ? REG_ICASE : 0));
    free(k);
    if (rc != 0) {
        regerror(rc, &re, err, errsize);
        return -1;
    }
    regfree(&re);
    return 0;
}

int sv_regex_match(struct sv_run *r, const struct sv_node *n,
                   const struct sv_str *val, const struct sv_str *key,
                   struct sv_str *caps, size_t *ncaps)
{
    regmatch_t pm[SIEVE_MATCH_VARS];
    const char *k = arena_strndup(r->a, key->s, key->len);
    const char *v = arena_strndup(r->a, val->s, val->len);
    int icase = n->cmp == &sv_cmp_casemap;
    regex_t re;
    int rc;

    if ((rc = regcomp(&re, k, REG_EXTENDED | (icase ? REG_ICASE : 0))) != 0) {
        char err[200];
        regerror(rc, &re, err, sizeof(err));
        return sv_rerror(r, n, "invalid regular expression \"%.60s\": %s", k,
                         err);
    }
    rc = regexec(&re, v, SIEVE_MATCH_VARS, pm, 0);
    if (rc == 0) {
        size_t nc = re.re_nsub + 1 < SIEVE_MATCH_VARS ? re.re_nsub + 1
                                                      : SIEVE_MATCH_VARS;
        for (size_t i = 0; i < nc; i++)
            caps[i] = pm[i].rm_so < 0
                          ? (struct sv_str){"", 0, 0}
                          : (struct sv_str){v + pm[i].rm_so,
                                            (size_t)(pm[i].rm_eo -
                                                     pm[i].rm_so), 0};
        *ncaps = nc;
    }
    regfree(&re);
    return rc == 0;
}

static const struct sv_tagdef tags[] = {
    {"regex", SV_G_MATCH, SV_MT_REGEX, 0, "*match"},
    {"quoteregex", SV_G_OTHER, 0, 0, " set "},
};

const struct sv_ext sv_ext_regex = {"regex", NULL, 0, tags, 2, 0, 0};
