/*
 * settings - per-mailbox settings rows -> a generated Sieve script
 * (settings.h).  The read is one prepared statement:
 *
 *   SELECT s.vacation_active, s.vacation_subject, s.vacation_body,
 *          vacation_from, vacation_until (ISO 8601, UTC), s.vacation_days,
 *          s.vacation_addresses, s.forward_keep, s.spam_threshold,
 *          s.spam_folder, (the forward targets, space-separated)
 *     FROM mailboxes m LEFT JOIN mailbox_settings s ...
 *    WHERE m.address = ?
 *
 * The text never depends on anything but the row and the score maximum,
 * so postern-lda and postern-managesieve show and run the same script.
 * Strings are written as Sieve quoted strings ('"' and '\' escaped; CR
 * and other control characters but LF and TAB dropped), so no value can
 * end a string or add a command.
 *
 * Diagnostics: sieve_settings_load's *err ("settings of X: ...").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "settings.h"

static const char sql_settings[] =
    "SELECT s.vacation_active, s.vacation_subject, s.vacation_body, "
    "DATE_FORMAT(s.vacation_from, '%Y-%m-%dT%H:%i:%s'), "
    "DATE_FORMAT(s.vacation_until, '%Y-%m-%dT%H:%i:%s'), s.vacation_days, "
    "s.vacation_addresses, s.forward_keep, s.spam_threshold, s.spam_folder, "
    "(SELECT GROUP_CONCAT(f.target ORDER BY f.target SEPARATOR ' ') "
    "FROM mailbox_forwards f WHERE f.mailbox_id = m.id) "
    "FROM mailboxes m LEFT JOIN mailbox_settings s ON s.mailbox_id = m.id "
    "WHERE m.address = ?";

void sieve_settings_init(struct sieve_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->keep = 1;
}

void sieve_settings_free(struct sieve_settings *s)
{
    str_free(&s->subject);
    str_free(&s->body);
    str_free(&s->addresses);
    str_free(&s->forwards);
    str_free(&s->spam_folder);
}

struct load {
    struct sieve_settings *s;
    int any, bad;
};

static int set_bounded(struct str *dst, const char *v, size_t max, int *bad)
{
    if (v == NULL)
        return 0;
    if (strlen(v) > max) {
        *bad = 1;
        return -1;
    }
    str_set(dst, v, strlen(v));
    return 0;
}

static int settings_row(void *ctx, unsigned ncols, char **v,
                        const unsigned long *lens)
{
    struct load *l = ctx;
    struct sieve_settings *s = l->s;

    (void)lens;
    if (ncols != 11) {
        l->bad = 1;
        return 1;
    }
    if (v[0] != NULL) { /* a mailbox_settings row */
        l->any = 1;
        s->vacation = atoi(v[0]) != 0;
        set_bounded(&s->subject, v[1], SIEVE_SETTINGS_SUBJECT_MAX, &l->bad);
        set_bounded(&s->body, v[2], SIEVE_SETTINGS_TEXT_MAX, &l->bad);
        snprintf(s->from, sizeof(s->from), "%s", v[3] ? v[3] : "");
        snprintf(s->until, sizeof(s->until), "%s", v[4] ? v[4] : "");
        s->days = v[5] ? atoi(v[5]) : 0;
        set_bounded(&s->addresses, v[6], SIEVE_SETTINGS_ADDRS_MAX, &l->bad);
        s->keep = v[7] ? atoi(v[7]) != 0 : 1;
        if (v[8] != NULL) {
            s->spam = 1;
            s->spam_threshold = strtod(v[8], NULL);
        }
        set_bounded(&s->spam_folder, v[9], 1024, &l->bad);
        if (s->body.len == 0)
            s->vacation = 0;
    }
    if (v[10] != NULL && v[10][0]) {
        size_t n = 1;
        for (const char *c = v[10]; *c; c++)
            n += *c == ' ';
        if (n > SIEVE_SETTINGS_FORWARDS_MAX)
            l->bad = 1;
        else {
            l->any = 1;
            str_set(&s->forwards, v[10], strlen(v[10]));
        }
    }
    return 1;
}

int sieve_settings_load(struct db *db, const char *address,
                        struct sieve_settings *s, struct str *err)
{
    struct db_param p[1] = {DBP_S(address)};
    struct load l = {s, 0, 0};
    int rc = db_query(db, sql_settings, p, 1, settings_row, &l, err);

    if (rc < 0)
        return LK_TEMP;
    if (l.bad) {
        str_appendf(err, "settings of %s: a value over its limit in "
                    "mailbox_settings/mailbox_forwards", address);
        return LK_TEMP;
    }
    return rc == LK_FOUND && l.any ? LK_FOUND : LK_NOTFOUND;
}

void sieve_settings_quote(struct str *out, const char *s, size_t len)
{
    str_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            str_append_char(out, '\\');
        if (c < 0x20 && c != '\n' && c != '\t')
            continue;
        if (c == 0x7f)
            continue;
        str_append_char(out, (char)c);
    }
    str_append_char(out, '"');
}

/* the space- or comma-separated list s as a Sieve string list */
static void quote_list(struct str *out, const struct str *s)
{
    const char *p = str_cstr(s);
    int first = 1;

    str_append_char(out, '[');
    while (*p) {
        size_t n;
        p += strspn(p, " ,\t");
        n = strcspn(p, " ,\t");
        if (n == 0)
            break;
        str_append_cstr(out, first ? "" : ", ");
        sieve_settings_quote(out, p, n);
        first = 0;
        p += n;
    }
    str_append_char(out, ']');
}

/* the spamtest :percent value a score threshold stands for (1..100) */
static int spam_percent(double threshold, double max)
{
    double f;
    int pct;

    if (max <= 0)
        max = 10.0;
    f = threshold <= 0 ? 0 : threshold >= max ? 1 : threshold / max;
    pct = (int)(f * 100 + 0.5); /* the rounding ext_spamtest.c uses */
    return pct < 1 ? 1 : pct;
}

static void gen_vacation(const struct sieve_settings *s, struct str *out)
{
    const char *ind = "";

    str_append_cstr(out, "# out-of-office reply (postern vacation)\n");
    if (s->from[0] || s->until[0]) {
        str_append_cstr(out, "if allof(");
        if (s->from[0])
            str_appendf(out, "currentdate :zone \"+0000\" :value \"ge\" "
                        "\"iso8601\" \"%s+00:00\"", s->from);
        if (s->until[0])
            str_appendf(out, "%scurrentdate :zone \"+0000\" :value \"le\" "
                        "\"iso8601\" \"%s+00:00\"", s->from[0] ? ",\n"
                        "          " : "", s->until);
        str_append_cstr(out, ") {\n");
        ind = "    ";
    }
    str_appendf(out, "%svacation", ind);
    if (s->days > 0)
        str_appendf(out, " :days %d", s->days);
    if (s->subject.len) {
        str_append_cstr(out, " :subject ");
        sieve_settings_quote(out, s->subject.data, s->subject.len);
    }
    if (s->addresses.len) {
        str_append_cstr(out, " :addresses ");
        quote_list(out, &s->addresses);
    }
    str_appendf(out, "\n%s    ", ind);
    sieve_settings_quote(out, s->body.data, s->body.len);
    str_append_cstr(out, ";\n");
    if (*ind)
        str_append_cstr(out, "}\n");
}

static void gen_forward(const struct sieve_settings *s, struct str *out)
{
    const char *p = str_cstr(&s->forwards);

    str_appendf(out, "# forward (postern forward; %s)\n",
                s->keep ? "a copy is kept" : "no copy kept here");
    while (*p) {
        size_t n;
        p += strspn(p, " ");
        if ((n = strcspn(p, " ")) == 0)
            break;
        str_append_cstr(out, s->keep ? "redirect :copy " : "redirect ");
        sieve_settings_quote(out, p, n);
        str_append_cstr(out, ";\n");
        p += n;
    }
}

void sieve_settings_script(const struct sieve_settings *s,
                           double spam_score_max, struct str *out)
{
    int vac = s->vacation && s->body.len, fwd = s->forwards.len > 0;
    int dated = vac && (s->from[0] || s->until[0]);
    const char *sep = "";
    struct str req = STR_INIT;

    if (!vac && !fwd && !s->spam)
        return;
    str_append_cstr(out, "# GENERATED by postern from the mailbox's "
                    "settings (postern vacation|forward|spam);\n"
                    "# read-only: change them with the admin tool.\n");
#define REQ(cond, name)                                                    \
    do {                                                                   \
        if (cond) {                                                        \
            str_appendf(&req, "%s\"%s\"", sep, name);                       \
            sep = ", ";                                                    \
        }                                                                  \
    } while (0)
    REQ(s->spam, "spamtestplus");
    REQ(s->spam, "relational");
    REQ(s->spam, "comparator-i;ascii-numeric");
    REQ(s->spam, "fileinto");
    REQ(dated, "date");
    REQ(dated && !s->spam, "relational");
    REQ(vac, "vacation");
    REQ(fwd && s->keep, "copy");
#undef REQ
    if (req.len)
        str_appendf(out, "require [%s];\n", str_cstr(&req));
    str_free(&req);
    if (s->spam) {
        const char *folder = s->spam_folder.len ? s->spam_folder.data
                                                : "Junk";
        str_appendf(out, "# spam: score at or over %.2f of %.2f\n"
                    "if spamtest :percent :value \"ge\" :comparator "
                    "\"i;ascii-numeric\" \"%d\" {\n    fileinto ",
                    s->spam_threshold,
                    spam_score_max > 0 ? spam_score_max : 10.0,
                    spam_percent(s->spam_threshold, spam_score_max));
        sieve_settings_quote(out, folder, strlen(folder));
        str_append_cstr(out, ";\n    stop;\n}\n");
    }
    if (vac)
        gen_vacation(s, out);
    if (fwd)
        gen_forward(s, out);
}
