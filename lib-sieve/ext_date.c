/*
 * ext_date - the "date" and "currentdate" tests (RFC 5260 section 4-5):
 *
 *   date [":zone" <zone> / ":originalzone"] [COMPARATOR] [MATCH-TYPE]
 *        [:index N [:last]] <header-name: string> <date-part: string>
 *        <key-list>
 *   currentdate [":zone" <zone>] [COMPARATOR] [MATCH-TYPE]
 *        <date-part: string> <key-list>
 *
 * Date parts: year month day date julian hour minute second time iso8601
 * std11 zone weekday.  The header value is an RFC 5322 date-time (the
 * text after the last ';' for "Received"); obsolete zone names (UT, GMT,
 * EST ... PDT) are understood, military letters count as -0000, two-digit
 * years are 19xx/20xx (RFC 5322 4.3).  A field that does not parse, or
 * is out of range (year beyond 0..9999, day beyond 1..31, time beyond
 * 23:59:60), does not match.  Without :zone the server's local time zone is used.
 *
 * Diagnostics: "unknown date part", "invalid time zone" at compile time
 * for literals.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sieve-int.h"

static const char *const parts[] = {
    "year", "month", "day", "date", "julian", "hour", "minute", "second",
    "time", "iso8601", "std11", "zone", "weekday"};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static int part_index(const char *s, size_t len)
{
    for (size_t i = 0; i < NPARTS; i++)
        if (strlen(parts[i]) == len && strncasecmp(parts[i], s, len) == 0)
            return (int)i;
    return -1;
}

/* "+hhmm" / "-hhmm" -> minutes east of UTC; 0 or -1 */
static int zone_parse(const char *s, size_t len, int *min)
{
    int h, m;

    if (len != 5 || (s[0] != '+' && s[0] != '-'))
        return -1;
    for (int i = 1; i < 5; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    h = (s[1] - '0') * 10 + (s[2] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    *min = (h * 60 + m) * (s[0] == '-' ? -1 : 1);
    return 0;
}

static int date_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_tagval *z = sv_tag(n, "zone");
    const struct sv_arg *p = sv_pos(n, n->npos - 2);
    int dummy;

    /* "Date:" is no header name: a warning, never matches */
    if (strcmp(n->name, "date") == 0)
        sv_check_header_names(v, sv_pos(n, 0));
    if (z && sv_literal(&z->param->list.v[0]) &&
        zone_parse(z->param->list.v[0].s, z->param->list.v[0].len,
                   &dummy) < 0) {
        sv_verror(v, z->param->line, "invalid time zone \"%.20s\"",
                  z->param->list.v[0].s);
        return -1;
    }
    if (sv_literal(&p->list.v[0]) &&
        part_index(p->list.v[0].s, p->list.v[0].len) < 0) {
        sv_verror(v, p->line, "unknown date part \"%.20s\"",
                  p->list.v[0].s);
        return -1;
    }
    return 0;
}

static const char *const months[] = {"jan", "feb", "mar", "apr", "may",
                                     "jun", "jul", "aug", "sep", "oct",
                                     "nov", "dec"};

static int zone_name(const char *s, size_t len, int *min)
{
    static const struct { const char *n; int h; } z[] = {
        {"UT", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -5}, {"EDT", -4},
        {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8},
        {"PDT", -7}};

    for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++)
        if (strlen(z[i].n) == len && strncasecmp(z[i].n, s, len) == 0) {
            *min = z[i].h * 60;
            return 0;
        }
    if (len == 1 && isalpha((unsigned char)s[0])) {
        *min = 0;
        return 0;
    }
    return -1;
}

/*
 * 1 to maxdig decimal digits at *sp -> *out, *sp moves past them; 0 or -1.
 * The caller bounds the value: it never exceeds 10^maxdig - 1.
 */
static int digits(const char **sp, int maxdig, int *out)
{
    const char *s = *sp;
    int n = 0, v = 0;

    while (isdigit((unsigned char)*s) && n < maxdig) {
        v = v * 10 + (*s++ - '0');
        n++;
    }
    if (n == 0 || isdigit((unsigned char)*s))
        return -1;
    *out = v;
    *sp = s;
    return 0;
}

/* "hh:mm[:ss]", each 1-2 digits, nothing after; 0 or -1 */
static int parse_time(const char *s, int *hh, int *mm, int *ss)
{
    *ss = 0;
    if (digits(&s, 2, hh) < 0 || *s++ != ':' || digits(&s, 2, mm) < 0)
        return -1;
    if (*s == ':' && (s++, digits(&s, 2, ss) < 0))
        return -1;
    return *s == '\0' && *hh <= 23 && *mm <= 59 && *ss <= 60 ? 0 : -1;
}

/*
 * RFC 5322 date-time -> UTC seconds and the zone in minutes; 0 or -1.
 * Every field is bounded before any arithmetic (year 0..9999, day 1..31,
 * time 00:00:00..23:59:60, zone within +-23:59), so neither the
 * conversion nor part_value() can overflow; out of range: not a date.
 */
static int parse_date(const char *s, size_t len, time_t *t, int *zone)
{
    char buf[128], *p, *tok[8];
    const char *q;
    int nt = 0, day, mon = -1, year, hh, mm, ss = 0;
    struct tm tm;

    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if ((p = strchr(buf, '(')) != NULL)
        *p = '\0';
    p = strchr(buf, ',') ? strchr(buf, ',') + 1 : buf;
    while (*p && nt < 8) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            *p++ = '\0';
        if (*p == '\0')
            break;
        tok[nt++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
    }
    if (nt < 4)
        return -1;
    if (isalpha((unsigned char)tok[0][0]) && !isdigit((unsigned char)tok[1][0]))
        return -1;
    if (!isdigit((unsigned char)tok[0][0])) { /* "Mon 12 Jan" leftovers */
        memmove(tok, tok + 1, (size_t)--nt * sizeof(tok[0]));
        if (nt < 4)
            return -1;
    }
    q = tok[0];
    if (digits(&q, 2, &day) < 0 || *q != '\0' || day < 1 || day > 31)
        return -1;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(tok[1], months[i], 3) == 0)
            mon = i;
    q = tok[2];
    if (mon < 0 || digits(&q, 4, &year) < 0 || *q != '\0')
        return -1;
    if (strlen(tok[2]) == 2)
        year += year < 50 ? 2000 : 1900;
    else if (strlen(tok[2]) == 3)
        year += 1900;
    if (parse_time(tok[3], &hh, &mm, &ss) < 0)
        return -1;
    *zone = 0;
    if (nt > 4 && zone_parse(tok[4], strlen(tok[4]), zone) < 0 &&
        zone_name(tok[4], strlen(tok[4]), zone) < 0)
        *zone = 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss > 59 ? 59 : ss;
    *t = timegm(&tm) - (time_t)*zone * 60;
    return 0;
}

static int local_zone(time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    return (int)(tm.tm_gmtoff / 60);
}

static struct sv_str part_value(struct sv_run *r, int part, time_t t,
                                int zone)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                                     "Sat"};
    static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t lt = t + (time_t)zone * 60;
    char buf[96], zs[16];
    int az = zone < 0 ? -zone : zone;
    struct tm tm;
    long long year;

    /* parse_date() and time() keep lt within years -1..10000 */
    if (gmtime_r(&lt, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    year = (long long)tm.tm_year + 1900;
    snprintf(zs, sizeof(zs), "%c%02d%02d", zone < 0 ? '-' : '+', az / 60,
             az % 60);
    switch (part) {
    case 0: snprintf(buf, sizeof(buf), "%04lld", year); break;
    case 1: snprintf(buf, sizeof(buf), "%02d", tm.tm_mon + 1); break;
    case 2: snprintf(buf, sizeof(buf), "%02d", tm.tm_mday); break;
    case 3: snprintf(buf, sizeof(buf), "%04lld-%02d-%02d", year,
                     tm.tm_mon + 1, tm.tm_mday); break;
    case 4: {
        long long days = (long long)(lt >= 0 ? lt / 86400
                                             : (lt - 86399) / 86400);
        snprintf(buf, sizeof(buf), "%lld", days + 40587);
        break;
    }
    case 5: snprintf(buf, sizeof(buf), "%02d", tm.tm_hour); break;
    case 6: snprintf(buf, sizeof(buf), "%02d", tm.tm_min); break;
    case 7: snprintf(buf, sizeof(buf), "%02d", tm.tm_sec); break;
    case 8: snprintf(buf, sizeof(buf), "%02d:%02d:%02d", tm.tm_hour,
                     tm.tm_min, tm.tm_sec); break;
    case 9: snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d%c%02d:"
                     "%02d", year, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, zone < 0 ? '-' : '+',
                     az / 60, az % 60); break;
    case 10: snprintf(buf, sizeof(buf), "%s, %02d %s %04lld %02d:%02d:%02d %s",
                      wd[tm.tm_wday], tm.tm_mday, mn[tm.tm_mon],
                      year, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      zs); break;
    case 11: snprintf(buf, sizeof(buf), "%s", zs); break;
    default: snprintf(buf, sizeof(buf), "%d", tm.tm_wday); break;
    }
    return sv_dup(r, buf, strlen(buf));
}

static int target_zone(struct sv_run *r, const struct sv_node *n, time_t t,
                       int orig, int *zone)
{
    const struct sv_tagval *z = sv_tag(n, "zone");

    if (z) {
        struct sv_str s = sv_eval(r, &z->param->list.v[0]);
        if (zone_parse(s.s, s.len, zone) < 0)
            return sv_rerror(r, n, "invalid time zone \"%.20s\"", s.s);
        return 0;
    }
    *zone = sv_tag(n, "originalzone") ? orig : local_zone(t);
    return 0;
}

static int date_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str hname = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    struct sv_str dp = sv_eval(r, &sv_pos(n, 1)->list.v[0]);
    int part = part_index(dp.s, dp.len);
    struct sv_strlist keys;
    struct sv_str *hv, *vals;
    size_t nh, nv = 0;

    if (part < 0)
        return sv_rerror(r, n, "unknown date part \"%.20s\"", dp.s);
    sv_eval_list(r, &sv_pos(n, 2)->list, &keys);
    nh = sv_header_values(r, n, hname.s, hname.len, 0, &hv);
    vals = arena_alloc(r->a, (nh + 1) * sizeof(*vals));
    for (size_t i = 0; i < nh; i++) {
        const char *s = hv[i].s;
        size_t len = hv[i].len;
        time_t t;
        int orig, zone;
        if (hname.len == 8 && strncasecmp(hname.s, "received", 8) == 0) {
            const char *semi = NULL;
            for (size_t k = 0; k < len; k++)
                if (s[k] == ';')
                    semi = s + k;
            if (semi == NULL)
                continue;
            len -= (size_t)(semi + 1 - s);
            s = semi + 1;
        }
        if (parse_date(s, len, &t, &orig) < 0)
            continue;
        if (target_zone(r, n, t, orig, &zone) < 0)
            return -1;
        vals[nv++] = part_value(r, part, t, zone);
    }
    return sv_match(r, n, vals, nv, &keys);
}

static int currentdate_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str dp = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    int part = part_index(dp.s, dp.len), zone;
    struct sv_strlist keys;
    time_t t = time(NULL);
    struct sv_str v;

    if (part < 0)
        return sv_rerror(r, n, "unknown date part \"%.20s\"", dp.s);
    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    if (target_zone(r, n, t, local_zone(t), &zone) < 0)
        return -1;
    v = part_value(r, part, t, zone);
    return sv_match(r, n, &v, 1, &keys);
}

static const struct sv_cmddef cmds[] = {
    {"date", 1, "SSL", 0, 0, SV_F_MATCH, date_validate, date_exec},
    {"currentdate", 1, "SL", 0, 0, SV_F_MATCH, date_validate,
     currentdate_exec},
};

static const struct sv_tagdef tags[] = {
    {"zone", SV_G_ZONE, 0, 'S', " date currentdate "},
    {"originalzone", SV_G_ZONE, 1, 0, " date "},
};

const struct sv_ext sv_ext_date = {"date", cmds, 2, tags, 2, 0, 0};
