/*
 * ext_spamtest - "spamtest", "spamtestplus" and "virustest" (RFC 5235):
 *
 *   spamtest [:percent] [COMPARATOR] [MATCH-TYPE] <value: string>
 *   virustest [COMPARATOR] [MATCH-TYPE] <value: string>
 *
 * The values come from the fields the scanner in front of postern adds,
 * named in the configuration (sieve_host; [lda] sieve_spam_* keys):
 *
 *   spamtest   the first number in the score field (X-Spam-Score:
 *              "5.3", "5.3 / 10") against the configured maximum:
 *              "1" (score <= 0) .. "10" (score >= max); with :percent
 *              (spamtestplus) "0" .. "100".  Without a score field the
 *              flag field decides ("Yes..." 10 / 100, else 1 / 0).  No
 *              field at all: "0", the message was not tested.
 *   virustest  the virus field: "clean"/"no" -> "1", "infected"/"yes"
 *              -> "5", anything else or missing -> "0" (not tested).
 *
 * The default comparator is "i;ascii-numeric" (RFC 5235 3.1).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int numeric_default(struct sv_valctx *v, struct sv_node *n)
{
    (void)v;
    if (sv_tag_group(n, SV_G_CMP) == NULL)
        n->cmp = sv_cmp_find("i;ascii-numeric");
    return 0;
}

/* the unfolded value of the first field name; NULL if none */
static const struct sv_str *field(struct sv_run *r, const char *name)
{
    struct sv_str *v;

    if (name == NULL || *name == '\0')
        return NULL;
    if (sv_header_values(r, NULL, name, strlen(name), 0, &v) == 0)
        return NULL;
    return &v[0];
}

static int first_number(const struct sv_str *s, double *out)
{
    char buf[64];
    size_t i = 0, k = 0;
    char *end;

    while (i < s->len && !isdigit((unsigned char)s->s[i]) && s->s[i] != '-')
        i++;
    while (i < s->len && k + 1 < sizeof(buf) &&
           (isdigit((unsigned char)s->s[i]) || s->s[i] == '.' ||
            (k == 0 && s->s[i] == '-')))
        buf[k++] = s->s[i++];
    buf[k] = '\0';
    if (k == 0)
        return -1;
    *out = strtod(buf, &end);
    return end == buf ? -1 : 0;
}

static int starts(const struct sv_str *s, const char *w)
{
    size_t i = 0, n = strlen(w);

    while (i < s->len && (s->s[i] == ' ' || s->s[i] == '\t'))
        i++;
    return s->len - i >= n && strncasecmp(s->s + i, w, n) == 0;
}

static int compare(struct sv_run *r, struct sv_node *n, int value)
{
    char buf[16];
    struct sv_str val;
    struct sv_strlist keys;

    snprintf(buf, sizeof(buf), "%d", value);
    val = sv_dup(r, buf, strlen(buf));
    sv_eval_list(r, &sv_pos(n, 0)->list, &keys);
    return sv_match(r, n, &val, 1, &keys);
}

static int spamtest_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sieve_host *h = r->host;
    int percent = sv_tag(n, "percent") != NULL, value;
    const struct sv_str *s;
    double score, max;

    max = h && h->spam_score_max > 0 ? h->spam_score_max : 10.0;
    if (h && (s = field(r, h->spam_score_header)) != NULL &&
        first_number(s, &score) == 0) {
        double f = score <= 0 ? 0 : score >= max ? 1 : score / max;
        value = percent ? (int)(f * 100 + 0.5) : 1 + (int)(f * 9 + 0.5);
    } else if (h && (s = field(r, h->spam_flag_header)) != NULL) {
        value = starts(s, "yes") ? (percent ? 100 : 10) : (percent ? 0 : 1);
    } else {
        value = 0;
    }
    return compare(r, n, value);
}

static int virustest_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_str *s = r->host ? field(r, r->host->virus_header)
                                     : NULL;
    int value = 0;

    if (s && (starts(s, "clean") || starts(s, "no")))
        value = 1;
    else if (s && (starts(s, "infected") || starts(s, "yes")))
        value = 5;
    return compare(r, n, value);
}

static const struct sv_cmddef spam_cmds[] = {
    {"spamtest", 1, "S", 0, 0, SV_F_MATCH, numeric_default, spamtest_exec},
};
static const struct sv_cmddef virus_cmds[] = {
    {"virustest", 1, "S", 0, 0, SV_F_MATCH, numeric_default, virustest_exec},
};
static const struct sv_tagdef plus_tags[] = {
    {"percent", SV_G_NONE, 0, 0, " spamtest "},
};

const struct sv_ext sv_ext_spamtest = {"spamtest", spam_cmds, 1, NULL, 0, 0,
                                       0};
const struct sv_ext sv_ext_spamtestplus = {"spamtestplus", spam_cmds, 1,
                                           plus_tags, 1, 0, 0};
const struct sv_ext sv_ext_virustest = {"virustest", virus_cmds, 1, NULL, 0,
                                        0, 0};
