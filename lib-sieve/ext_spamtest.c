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
 * Configured the way Pigeonhole is (sieve_host.spam_status_type etc.,
 * its sieve_spamtest_* / sieve_virustest_* settings): the status is the
 * field's value, or group 1 of a POSIX ERE on it (no match: "0"), read
 * as a score (scaled against the maximum, from a number or from a
 * field), a length (strlen: "sssss" is 5) or a text compared with the
 * configured text of each value (no equal text: "0").  A score is 1 at
 * or under 0 and 10 (virustest 5) at or over the maximum.
 *
 * The default comparator is "i;ascii-numeric" (RFC 5235 3.1).
 */
#include <ctype.h>
#include <regex.h>
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

    while (i < s->len && !isdigit((unsigned char)s->s[i]) &&
           s->s[i] != '-' &&
           !(s->s[i] == '.' && i + 1 < s->len &&
             isdigit((unsigned char)s->s[i + 1])))
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

/*
 * status - the status in field `name` (group 1 of re, or the whole
 * value) into out; 1, or 0 when there is no field or re does not match
 * (or has no group 1).  A bad re (it comes from the configuration) is 0.
 */
static int status(struct sv_run *r, const char *name, const char *re,
                  struct sv_str *out)
{
    const struct sv_str *v = field(r, name);
    regex_t rx;
    regmatch_t m[2];
    char *text;
    int ok;

    if (v == NULL)
        return 0;
    if (re == NULL || *re == '\0') {
        *out = *v;
        return 1;
    }
    if (regcomp(&rx, re, REG_EXTENDED) != 0)
        return 0;
    text = arena_strndup(r->a, v->s, v->len);
    ok = regexec(&rx, text, 2, m, 0) == 0 && m[1].rm_so >= 0;
    if (ok)
        *out = (struct sv_str){text + m[1].rm_so,
                               (size_t)(m[1].rm_eo - m[1].rm_so), 0};
    regfree(&rx);
    return ok;
}

/* a status into 0..top (spamtest 10, virustest 5; percent: 0..100) by
   the configured type; -1: no value ("0") */
static int scale(const struct sv_str *st, int type, double max,
                 const char *const *texts, int top, int percent)
{
    double score, f;

    if (type == SIEVE_STATUS_TEXT) {
        for (int i = 0; i <= top; i++)
            if (texts[i] && strlen(texts[i]) == st->len &&
                strncasecmp(texts[i], st->s, st->len) == 0)
                return percent ? i * 100 / top : i;
        return -1;
    }
    if (type == SIEVE_STATUS_STRLEN)
        score = (double)st->len;
    else if (first_number(st, &score) < 0)
        return -1;
    if (max <= 0)
        max = top;
    f = score <= 0 ? 0 : score >= max ? 1 : score / max;
    /* cut, not rounded, as Pigeonhole does */
    return percent ? (int)(f * 100 + 0.001) : (int)(f * (top - 1) + 1.001);
}

static int spamtest_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sieve_host *h = r->host;
    int percent = sv_tag(n, "percent") != NULL, value;
    const struct sv_str *s;
    double score, max;

    max = h && h->spam_score_max > 0 ? h->spam_score_max : 10.0;
    if (h && h->spam_status_type != SIEVE_STATUS_DEFAULT) {
        struct sv_str st, mx;
        if (h->spam_max_header && status(r, h->spam_max_header,
                                         h->spam_max_regex, &mx) &&
            first_number(&mx, &max) < 0)
            max = 0;
        value = status(r, h->spam_score_header, h->spam_status_regex, &st)
                    ? scale(&st, h->spam_status_type, max,
                            h->spam_text_values, 10, percent)
                    : -1;
        if (value < 0)
            value = 0;
    } else if (h && (s = field(r, h->spam_score_header)) != NULL &&
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
    const struct sieve_host *h = r->host;
    const struct sv_str *s = h ? field(r, h->virus_header) : NULL;
    struct sv_str st;
    int value = 0;

    if (h && h->virus_status_type != SIEVE_STATUS_DEFAULT) {
        value = status(r, h->virus_header, h->virus_status_regex, &st)
                    ? scale(&st, h->virus_status_type, h->virus_score_max,
                            h->virus_text_values, 5, 0)
                    : -1;
        return compare(r, n, value < 0 ? 0 : value);
    }
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
