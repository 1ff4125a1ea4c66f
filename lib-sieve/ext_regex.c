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
 *
 * Limits (sieve.h), because libc's engine has no budget of its own: a
 * key of at most SIEVE_REGEX_SIZE_MAX bytes; no back-references; bounds
 * {m,n} up to SIEVE_REGEX_REPEAT_MAX, and the copies bounds make (the
 * repeated atom's length times the bound, summed) at most
 * REGEX_EXPANSION_MAX bytes; no repetition of an atom that holds a
 * repetition ("(a*)*", "(a+){3}", "a**"), except "?" ("(re: *)?").  A
 * refused key is "regular expression too complex: ..." at compile time
 * (so PUTSCRIPT and CHECKSCRIPT refuse it in microseconds) or a run-time
 * error.  A search is charged to the delivery's CPU budget before it
 * runs: (len+1)^2 * (2 + key/8) steps for a value of len bytes (libc
 * tries every start position), (len+1) * (2 + key/8) when the key is
 * anchored at the start ("^..." without a top-level "|"); a search the
 * budget cannot pay is the run-time error "script takes too long".
 * Compiling a key costs 1,000 steps per byte regcomp works on (the key
 * and the copies its bounds make); compiled keys are kept for the run
 * (REGEX_CACHE of them) and counted against the memory budget.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-int.h"

#define REGEX_EXPANSION_MAX (16 * SIEVE_REGEX_SIZE_MAX)
#define REGEX_CACHE 8

/* bytes libc's compiled form takes, counted against the memory budget:
   an estimate (libc does not say) */
#define REGEX_MEM_PER_BYTE 256

struct re_entry {
    char *key;
    int icase, anchored;
    size_t mem;              /* counted in r->regex_mem */
    regex_t re;
};

struct re_cache {
    struct re_entry e[REGEX_CACHE];
    size_t n, next;
};

/* the length of the bound at k[i] ("{m}", "{m,}", "{m,n}", "{,n}"), 0 if it is
   none (then '{' is a literal); in *max the copies it makes (2 for an
   open "{m,}" with m < 2) */
static size_t bound_len(const char *k, size_t len, size_t i, long *max)
{
    size_t j = i + 1;
    long m = 0, n = 0;
    int dm = 0, dn = 0, comma = 0;

    for (; j < len && k[j] >= '0' && k[j] <= '9'; j++, dm++)
        m = m > 100000 ? m : m * 10 + (k[j] - '0');
    if (dm == 0 && (j >= len || k[j] != ','))   /* libc takes "{,n}" */
        return 0;
    if (j < len && k[j] == ',') {
        comma = 1;
        for (j++; j < len && k[j] >= '0' && k[j] <= '9'; j++, dn++)
            n = n > 100000 ? n : n * 10 + (k[j] - '0');
    }
    if (j >= len || k[j] != '}')
        return 0;
    *max = !comma ? m : dn ? (n > m ? n : m) : (m > 1 ? m : 2);
    return j - i + 1;
}

/* the end of the bracket expression starting at k[i] == '[' */
static size_t bracket_end(const char *k, size_t len, size_t i)
{
    size_t j = i + 1;

    if (j < len && k[j] == '^')
        j++;
    if (j < len && k[j] == ']')
        j++;
    for (; j < len; j++) {
        if (k[j] == '[' && j + 1 < len &&
            (k[j + 1] == ':' || k[j + 1] == '.' || k[j + 1] == '=')) {
            char t = k[j + 1];
            for (j += 2; j + 1 < len && !(k[j] == t && k[j + 1] == ']'); j++)
                ;
            j++;
        } else if (k[j] == ']')
            return j + 1;
    }
    return len;
}

#define REGEX_DEPTH_MAX 64

/*
 * regex_limits - the checks above on key[0..len); 0, or -1 with a reason
 * in err.  *anchored: the key matches only at the start; *cost: its
 * length plus the copies its bounds make (what regcomp works on).
 */
static int regex_limits(const char *k, size_t len, int *anchored,
                        size_t *cost, char *err, size_t errsize)
{
    int has_rep[REGEX_DEPTH_MAX + 1];
    size_t start[REGEX_DEPTH_MAX + 1];
    size_t depth = 0, atom = 0, expansion = 0;
    int atom_rep = 0, have_atom = 0, top_alt = 0;

    if (len > SIEVE_REGEX_SIZE_MAX) {
        snprintf(err, errsize, "longer than %d bytes", SIEVE_REGEX_SIZE_MAX);
        return -1;
    }
    has_rep[0] = 0;
    for (size_t i = 0; i < len;) {
        char c = k[i];
        long max = 1;
        size_t bl = 0;
        if (c == '*' || c == '+' || c == '?' ||
            (c == '{' && (bl = bound_len(k, len, i, &max)) > 0)) {
            int multiplies = c == '*' || c == '+' || (c == '{' && max != 1);
            if (c == '{' && max > SIEVE_REGEX_REPEAT_MAX) {
                snprintf(err, errsize, "a bound over %d",
                         SIEVE_REGEX_REPEAT_MAX);
                return -1;
            }
            if (have_atom && atom_rep && multiplies) {
                snprintf(err, errsize, "a repetition of a repetition "
                         "(like \"(a*)*\")");
                return -1;
            }
            if (c == '{' && have_atom)
                expansion += (i - atom) * (size_t)max;
            if (multiplies) {
                has_rep[depth] = 1;
                atom_rep = 1;
            }
            i += c == '{' ? bl : 1;
            continue;
        }
        atom = i;
        have_atom = 1;
        atom_rep = 0;
        if (c == '\\') {
            if (i + 1 < len && k[i + 1] >= '1' && k[i + 1] <= '9') {
                snprintf(err, errsize, "a back-reference (\\%c)", k[i + 1]);
                return -1;
            }
            i += 2;
        } else if (c == '[') {
            i = bracket_end(k, len, i);
        } else if (c == '(') {
            if (depth >= REGEX_DEPTH_MAX) {
                snprintf(err, errsize, "groups nested deeper than %d",
                         REGEX_DEPTH_MAX);
                return -1;
            }
            start[++depth] = i;
            has_rep[depth] = 0;
            have_atom = 0;
            i++;
        } else if (c == ')' && depth > 0) {
            atom = start[depth];
            atom_rep = has_rep[depth];
            depth--;
            has_rep[depth] |= atom_rep;
            i++;
        } else if (c == '|' || c == '^' || c == '$') {
            top_alt |= c == '|' && depth == 0;
            have_atom = 0;
            i++;
        } else
            i++;
    }
    if (expansion > REGEX_EXPANSION_MAX) {
        snprintf(err, errsize, "bounds expand it past %d bytes",
                 REGEX_EXPANSION_MAX);
        return -1;
    }
    *anchored = len > 0 && k[0] == '^' && !top_alt;
    *cost = len + expansion;
    return 0;
}

/* compile key (NUL-terminated); 0, or -1 with err */
static int regex_compile(const char *key, int icase, regex_t *re,
                         int *anchored, size_t *cost, char *err,
                         size_t errsize)
{
    char why[120];
    int rc;

    if (regex_limits(key, strlen(key), anchored, cost, why,
                     sizeof(why)) < 0) {
        snprintf(err, errsize, "regular expression too complex: %s", why);
        return -1;
    }
    rc = regcomp(re, key, REG_EXTENDED | (icase ? REG_ICASE : 0));
    if (rc != 0) {
        regerror(rc, re, err, errsize);
        return -1;
    }
    return 0;
}

int sv_regex_check(const char *key, size_t len, int icase, size_t *cost,
                   char *err, size_t errsize)
{
    char *k = xstrndup(key, strnlen(key, len));
    regex_t re;
    int anchored, rc;

    *cost = 0;
    rc = regex_compile(k, icase, &re, &anchored, cost, err, errsize);
    free(k);
    if (rc == 0)
        regfree(&re);
    return rc;
}

/* the compiled key from the run's cache, compiling it on a miss; NULL
   after a run-time error */
static struct re_entry *cached(struct sv_run *r, const struct sv_node *n,
                               const struct sv_str *key, int icase)
{
    struct re_cache *c = r->regex_cache;
    struct re_entry *e;
    char *k = xstrndup(key->s, strnlen(key->s, key->len)), err[200];
    regex_t re;
    size_t cost = 0;
    int anchored;

    if (c == NULL)
        c = r->regex_cache = xcalloc(1, sizeof(*c));
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].icase == icase && strcmp(c->e[i].key, k) == 0) {
            free(k);
            return &c->e[i];
        }
    if (regex_limits(k, strlen(k), &anchored, &cost, err, sizeof(err)) == 0 &&
        sv_charge(r, n, 10 * SIEVE_STEP_COST * (1 + cost)) < 0) {
        free(k);
        return NULL;
    }
    if (regex_compile(k, icase, &re, &anchored, &cost, err,
                      sizeof(err)) < 0) {
        if (!r->res->failed)
            sv_rerror(r, n, "invalid regular expression \"%.60s\": %s", k,
                      err);
        free(k);
        return NULL;
    }
    if (c->n < REGEX_CACHE)
        e = &c->e[c->n++];
    else {
        e = &c->e[c->next];
        c->next = (c->next + 1) % REGEX_CACHE;
        r->regex_mem -= e->mem;
        regfree(&e->re);
        free(e->key);
    }
    e->key = k;
    e->icase = icase;
    e->anchored = anchored;
    e->re = re;
    e->mem = (1 + cost) * REGEX_MEM_PER_BYTE;
    r->regex_mem += e->mem;
    return e;
}

void sv_regex_free(struct sv_run *r)
{
    struct re_cache *c = r->regex_cache;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        regfree(&c->e[i].re);
        free(c->e[i].key);
    }
    free(c);
    r->regex_cache = NULL;
    r->regex_mem = 0;
}

/* the worst case of one search, in steps */
static unsigned long long search_cost(size_t vlen, size_t klen, int anchored)
{
    unsigned long long per = 2 + klen / 8, l = (unsigned long long)vlen + 1;

    if (anchored)
        return l * per;
    if (l > 1ULL << 28)   /* beyond any budget; no overflow below */
        return ~0ULL;
    return l * l * per;
}

int sv_regex_match(struct sv_run *r, const struct sv_node *n,
                   const struct sv_str *val, const struct sv_str *key,
                   struct sv_str *caps, size_t *ncaps)
{
    regmatch_t pm[SIEVE_MATCH_VARS];
    int icase = n->cmp == &sv_cmp_casemap;
    size_t vlen = strnlen(val->s, val->len);
    struct re_entry *e;
    int rc;

    if ((e = cached(r, n, key, icase)) == NULL)
        return -1;
    if (sv_charge(r, n, search_cost(vlen, strlen(e->key), e->anchored)) < 0)
        return -1;
    pm[0].rm_so = 0;
    pm[0].rm_eo = (regoff_t)vlen;
    rc = regexec(&e->re, val->s, SIEVE_MATCH_VARS, pm, REG_STARTEND);
    if (rc == 0) {
        size_t nc = e->re.re_nsub + 1 < SIEVE_MATCH_VARS ? e->re.re_nsub + 1
                                                         : SIEVE_MATCH_VARS;
        for (size_t i = 0; i < nc; i++)
            caps[i] = pm[i].rm_so < 0
                          ? (struct sv_str){"", 0, 0}
                          : (struct sv_str){val->s + pm[i].rm_so,
                                            (size_t)(pm[i].rm_eo -
                                                     pm[i].rm_so), 0};
        *ncaps = nc;
    }
    return rc == 0;
}

static const struct sv_tagdef tags[] = {
    {"regex", SV_G_MATCH, SV_MT_REGEX, 0, "*match"},
    {"quoteregex", SV_G_OTHER, 0, 0, " set "},
};

const struct sv_ext sv_ext_regex = {"regex", NULL, 0, tags, 2, 0, 0};
