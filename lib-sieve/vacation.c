/*
 * vacation - deciding on and writing a vacation reply (RFC 5230, 6131,
 * 3834), for postern-lda (lda/sieve_state.c) and the dry run (postern-sieve).
 *
 * sieve_vacation_check() applies, in this order (the first that holds
 * names the suppression):
 *   1. the envelope sender is <> or unknown                 "null sender"
 *   2. it is a system address: MAILER-DAEMON, LISTSERV, majordomo,
 *      owner-*, *-request (local part, any case)           "system sender"
 *   3. it is one of the user's own addresses                "own address"
 *   4. Auto-Submitted is present and not "no"               "auto-submitted"
 *   5. Precedence is bulk, junk or list                     "precedence"
 *   6. a List-Id, List-Help, List-Subscribe, List-Unsubscribe, List-Post,
 *      List-Owner or List-Archive field                     "mailing list"
 *   7. X-Auto-Response-Suppress names All or OOF            "x-auto-response-suppress"
 *   8. none of the user's addresses is in To, Cc, Bcc, Resent-To,
 *      Resent-Cc or Resent-Bcc                              "not an explicit recipient"
 * The user's addresses are the envelope recipient, the original recipient,
 * :addresses and what the caller adds (postern-lda: the mailbox and its
 * aliases from the database); compared case-insensitively.
 *
 * sieve_vacation_compose() writes the reply.  Every header value that
 * comes from the script or the message goes through sieve_encode_header():
 * CR, LF and other control characters become spaces, so no text can start
 * a new field; non-ASCII text becomes RFC 2047 "B" encoded words (UTF-8)
 * of at most 75 characters, split between characters, on folded lines of
 * at most 76 columns; long ASCII text is folded at spaces.  A display
 * name (:from, the recipient, the sender) is an atom sequence, a quoted
 * string when it holds specials ("Doe, John") or was quoted, or encoded
 * words; encoded words in it are decoded first.  From is :from, else
 * the user's address the message named (v->reply_from, set by the
 * check: RFC 5230 5.4 with erratum 2035), else the caller's; To is the
 * envelope sender with the name Sender, Resent-From or From gave it.
 * The "Auto: " subject is made from the original's decoded subject (any
 * charset the engine decodes), a :subject has its encoded words decoded;
 * either is cut to v->max_subject (0: VAC_SUBJECT_MAX) code points
 * ending in U+2026, then encoded again.  The body is UTF-8 text/plain,
 * 7bit when it is ASCII with lines of at most 900 bytes, else
 * quoted-printable (never raw 8bit: no relay needs 8BITMIME); with :mime
 * the reason is a MIME entity whose Content-* fields are kept and every
 * other field dropped: Content-Type and Content-Disposition parameters
 * with non-ASCII values (a file name) are written in RFC 2231 form
 * (name*=utf-8''%XX..., continuations name*0*, name*1* of at most
 * VAC_PARAM_CHUNK bytes), a single 8-bit part without a
 * Content-Transfer-Encoding is sent quoted-printable.  Notifications
 * (ext_enotify.c) use the same header and body encoding.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sieve-int.h"

#define VAC_WORD_RAW 45      /* bytes per encoded word: 60 base64 chars */
#define VAC_REFS_MAX 4000    /* bytes of References kept from the original */
#define VAC_LINE_MAX 900     /* longer body lines: quoted-printable */
#define VAC_WORD_LINE 76     /* columns of a line with encoded words */
#define VAC_WORD_OVERHEAD 12 /* "=?UTF-8?B?" + "?=" */
#define VAC_FOLD_AT 78       /* plain header text is folded before this */
#define VAC_HARD_LINE 990    /* a longer plain word: encoded words */
#define VAC_PARAM_CHUNK 45   /* bytes of one RFC 2231 continuation */
#define VAC_SUBJECT_MAX 256  /* code points of the reply's Subject */

long long sieve_vacation_period(const struct sieve_vacation *v,
                                const struct sieve_vacation_policy *p)
{
    long long s = v->period < 0 ? p->default_period : v->period;

    if (s < p->min_period)
        s = p->min_period;
    if (p->max_period > 0 && s > p->max_period)
        s = p->max_period;
    return s;
}

int sieve_header_first(const struct sieve_message *m, const char *name,
                       struct str *out)
{
    struct arena a = {0};
    struct sv_hdr *h;
    size_t n = sv_parse_fields(&a, m->header, m->header_len, &h);
    int found = 0;

    str_reset(out);
    for (size_t i = 0; i < n && !found; i++)
        if (h[i].nlen == strlen(name) &&
            strncasecmp(h[i].name, name, h[i].nlen) == 0) {
            str_append(out, h[i].value, h[i].vlen);
            found = 1;
        }
    arena_free(&a);
    return found;
}

static int is_system_sender(const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);

    if ((n == 13 && strncasecmp(addr, "mailer-daemon", 13) == 0) ||
        (n == 8 && strncasecmp(addr, "listserv", 8) == 0) ||
        (n == 9 && strncasecmp(addr, "majordomo", 9) == 0))
        return 1;
    if (n >= 6 && strncasecmp(addr, "owner-", 6) == 0)
        return 1;
    return n >= 8 && strncasecmp(addr + n - 8, "-request", 8) == 0;
}

struct own {
    const char *const *v;
    size_t n;
    const struct sieve_message *m;
    struct sieve_vacation *vac;
};

static int same_addr(const char *a, size_t alen, const char *b)
{
    if (b == NULL || *b == '\0')
        return 0;
    if (*b == '<') {
        size_t bl = strlen(b);
        return bl >= 2 && alen == bl - 2 &&
               strncasecmp(a, b + 1, alen) == 0;
    }
    return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* the address inside "Name <a@b>" or the whole string */
static void bare(const char *s, const char **p, size_t *len)
{
    const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt) {
        *p = lt + 1;
        *len = (size_t)(gt - lt - 1);
    } else {
        *p = s;
        *len = strlen(s);
    }
}

/* the user's address equal to a (the caller's string), or NULL */
static const char *is_own(const struct own *o, const char *a, size_t alen)
{
    const char *env[2] = {o->m->env_to, o->m->env_orig_to};

    for (size_t i = 0; i < 2; i++)
        if (same_addr(a, alen, env[i]))
            return env[i];
    for (size_t i = 0; i < o->n; i++)
        if (same_addr(a, alen, o->v[i]))
            return o->v[i];
    for (size_t i = 0; o->vac->addresses && o->vac->addresses[i]; i++) {
        const char *p;
        size_t l;
        bare(o->vac->addresses[i], &p, &l);
        if (l == alen && strncasecmp(p, a, alen) == 0)
            return o->vac->addresses[i];
    }
    return NULL;
}

static int token_in(const char *v, size_t len, const char *const *words)
{
    size_t i = 0;

    while (i < len) {
        size_t s, e;
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < len && v[i] != ' ' && v[i] != '\t' && v[i] != ',' &&
               v[i] != ';' && v[i] != '(')
            i++;
        e = i;
        for (size_t k = 0; words[k]; k++)
            if (e - s == strlen(words[k]) &&
                strncasecmp(v + s, words[k], e - s) == 0)
                return 1;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
    }
    return 0;
}

static int name_is(const struct sv_hdr *h, const char *name)
{
    return h->nlen == strlen(name) && strncasecmp(h->name, name, h->nlen) == 0;
}

static const char *check_fields(struct arena *a, const struct sv_hdr *h,
                                size_t n, const struct own *o)
{
    static const char *const lists[] = {"list-id", "list-help",
        "list-subscribe", "list-unsubscribe", "list-post", "list-owner",
        "list-archive", NULL};
    static const char *const rcpt[] = {"to", "cc", "bcc", "resent-to",
        "resent-cc", "resent-bcc", NULL};
    static const char *const prec[] = {"bulk", "junk", "list", NULL};
    static const char *const supp[] = {"all", "oof", NULL};
    const char *explicit = NULL;

    for (size_t i = 0; i < n; i++) {
        if (name_is(&h[i], "auto-submitted")) {
            size_t k = 0;
            while (k < h[i].vlen && h[i].value[k] != ';' &&
                   h[i].value[k] != ' ' && h[i].value[k] != '(')
                k++;
            if (!(k == 2 && strncasecmp(h[i].value, "no", 2) == 0))
                return "auto-submitted";
        }
    }
    for (size_t i = 0; i < n; i++)
        if (name_is(&h[i], "precedence") &&
            token_in(h[i].value, h[i].vlen, prec))
            return "precedence";
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; lists[k]; k++)
            if (name_is(&h[i], lists[k]))
                return "mailing list";
    for (size_t i = 0; i < n; i++)
        if (name_is(&h[i], "x-auto-response-suppress") &&
            token_in(h[i].value, h[i].vlen, supp))
            return "x-auto-response-suppress";
    for (size_t i = 0; i < n && !explicit; i++)
        for (size_t k = 0; rcpt[k] && !explicit; k++) {
            struct sv_address *ad;
            size_t na;
            if (!name_is(&h[i], rcpt[k]))
                continue;
            na = sv_address_list(a, h[i].value, h[i].vlen, &ad);
            for (size_t j = 0; j < na && !explicit; j++) {
                size_t len;
                char *s;
                if (!ad[j].valid)
                    continue;
                len = ad[j].local.len + 1 + ad[j].domain.len;
                s = arena_alloc(a, len + 1);
                memcpy(s, ad[j].local.s, ad[j].local.len);
                s[ad[j].local.len] = '@';
                memcpy(s + ad[j].local.len + 1, ad[j].domain.s,
                       ad[j].domain.len);
                s[len] = '\0';
                explicit = is_own(o, s, len);
            }
        }
    o->vac->reply_from = explicit;
    return explicit ? NULL : "not an explicit recipient";
}

const char *sieve_vacation_check(const struct sieve_message *m,
                                 struct sieve_vacation *v,
                                 const char *const *own, size_t nown)
{
    struct own o = {own, nown, m, v};
    struct arena a = {0};
    struct sv_hdr *h;
    const char *why;
    size_t n;

    v->reply_from = NULL;
    if (m->env_from == NULL || m->env_from[0] == '\0' ||
        strcmp(m->env_from, "<>") == 0)
        return "null sender";
    if (is_system_sender(m->env_from))
        return "system sender";
    if (is_own(&o, m->env_from, strlen(m->env_from)))
        return "own address";
    n = sv_parse_fields(&a, m->header, m->header_len, &h);
    why = check_fields(&a, h, n, &o);
    arena_free(&a);
    return why;
}

/* --- writing ------------------------------------------------------------ */

static void b64(struct str *out, const unsigned char *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        str_append_char(out, tab[(v >> 18) & 63]);
        str_append_char(out, tab[(v >> 12) & 63]);
        str_append_char(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
        str_append_char(out, i + 2 < n ? tab[v & 63] : '=');
    }
}

/* plain ASCII folded at spaces so no line passes VAC_FOLD_AT columns
   (a word longer than a line stays whole) */
static void fold_ascii(struct str *out, const char *t, size_t len,
                       size_t used)
{
    size_t col = used, i = 0;

    while (i < len) {
        size_t s = i, e;
        while (i < len && t[i] == ' ')
            i++;
        while (i < len && t[i] != ' ')
            i++;
        e = i;
        if (col + (e - s) > VAC_FOLD_AT && col > used && s < e &&
            t[s] == ' ') {
            str_append_char(out, '\n');   /* the space starts the next line */
            col = 0;
        }
        str_append(out, t + s, e - s);
        col += e - s;
    }
}

/* the longest run of non-spaces */
static size_t longest_word(const char *t, size_t len)
{
    size_t best = 0, cur = 0;

    for (size_t i = 0; i < len; i++) {
        cur = t[i] == ' ' ? 0 : cur + 1;
        if (cur > best)
            best = cur;
    }
    return best;
}

void sieve_encode_header(struct str *out, const char *text, size_t len,
                         size_t used)
{
    struct str clean = STR_INIT;
    size_t col = used;
    int ascii = 1;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            c = ' ';
        if (c >= 0x80)
            ascii = 0;
        str_append_char(&clean, (char)c);
    }
    /* plain text that cannot be mistaken for an encoded word, and whose
       words fit on a line (RFC 5322 2.1.1: at most 998 characters) */
    if (ascii && (clean.len == 0 || strstr(str_cstr(&clean), "=?") == NULL) &&
        used + longest_word(clean.data, clean.len) < VAC_HARD_LINE) {
        fold_ascii(out, clean.data ? clean.data : "", clean.len, used);
        str_free(&clean);
        return;
    }
    /* encoded words (RFC 2047 2: at most 75 characters each, lines with
       them at most 76), split between UTF-8 characters only */
    for (size_t i = 0; i < clean.len;) {
        size_t room, n;
        if (col + VAC_WORD_OVERHEAD + 8 > VAC_WORD_LINE) {
            str_append_cstr(out, "\n ");
            col = 1;
        }
        room = (VAC_WORD_LINE - col - VAC_WORD_OVERHEAD) / 4 * 3;
        if (room > VAC_WORD_RAW)
            room = VAC_WORD_RAW;
        n = clean.len - i < room ? clean.len - i : room;
        while (n > 1 && i + n < clean.len &&
               ((unsigned char)clean.data[i + n] & 0xC0) == 0x80)
            n--;
        str_append_cstr(out, "=?UTF-8?B?");
        b64(out, (const unsigned char *)clean.data + i, n);
        str_append_cstr(out, "?=");
        col += VAC_WORD_OVERHEAD + (n + 2) / 3 * 4;
        i += n;
        if (i < clean.len) {
            str_append_cstr(out, "\n ");
            col = 1;
        }
    }
    str_free(&clean);
}

static void put_date(struct str *out, time_t now)
{
    char buf[64];
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z", &tm);
    str_appendf(out, "Date: %s\n", buf);
}

static void put_msgid(struct str *out, const char *hostname)
{
    static unsigned long counter;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    str_appendf(out, "Message-ID: <postern.%lld.%ld.%d.%lu@%s>\n",
                (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), ++counter,
                hostname && *hostname ? hostname : "localhost");
}

/* a display name: as it is when it is an atom sequence, a quoted
   string when ASCII with specials (RFC 5322 3.2.3), encoded words when
   it is not ASCII (RFC 2047 5.3); a name already quoted stays quoted,
   encoded words in a name stand for their text */
static void put_phrase(struct str *out, const char *v, size_t n, size_t used)
{
    int ascii = 1, special = 0;
    struct str plain = STR_INIT;

    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        /* the quoted string's text: quoted again below */
        for (size_t i = 1; i + 1 < n; i++) {
            if (v[i] == '\\' && i + 2 < n)
                i++;
            str_append_char(&plain, v[i]);
        }
        special = 1;
    } else if (n >= 2 && memmem(v, n, "=?", 2)) {
        /* encoded words (RFC 2047) stand for their text */
        struct arena a = {0};
        struct sv_str d;
        sv_decode_2047(&a, v, n, &d);
        str_append(&plain, d.s, d.len);
        arena_free(&a);
    } else {
        str_append(&plain, v, n);
    }
    v = plain.data ? plain.data : "";
    n = plain.len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x80)
            ascii = 0;
        else if (strchr("()<>[]:;@\\,.\"", c) || c < 0x20 || c == 0x7f)
            special = 1;
    }
    if (!ascii || (n >= 2 && memmem(v, n, "=?", 2))) {
        sieve_encode_header(out, v, n, used);
    } else if (!special) {
        str_append(out, v, n);
    } else {
        str_append_char(out, '"');
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c == '"' || c == '\\')
                str_append_char(out, '\\');
            str_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
        str_append_char(out, '"');
    }
    str_free(&plain);
}

/* an address field: "Name <a@b>" with the name encoded, or "<a@b>" */
void sieve_put_address(struct str *out, const char *field, const char *v)
{
    const char *p, *lt = strchr(v, '<');
    size_t len;

    str_appendf(out, "%s: ", field);
    if (lt && lt > v) {
        size_t nl = (size_t)(lt - v);
        while (nl && v[nl - 1] == ' ')
            nl--;
        if (nl)
            put_phrase(out, v, nl, strlen(field) + 2);
        str_append_char(out, ' ');
    }
    bare(v, &p, &len);
    str_append_char(out, '<');
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] > 0x20 && p[i] != '<' && p[i] != '>' &&
            p[i] != 0x7f)
            str_append_char(out, p[i]);
    str_append_cstr(out, ">\n");
}

/* msg-ids from a header value, each on its own folded line */
static void put_ids(struct str *out, const char *v, size_t len, size_t *room)
{
    size_t i = 0;

    while (i < len) {
        size_t s;
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < len && v[i] != ' ' && v[i] != '\t' && v[i] != ',')
            i++;
        if (i > s && i - s + 2 <= *room) {
            str_append_cstr(out, "\n ");
            for (size_t k = s; k < i; k++)
                if ((unsigned char)v[k] > 0x20 && v[k] != 0x7f)
                    str_append_char(out, v[k]);
            *room -= i - s + 2;
        }
    }
}

static void put_threading(struct str *out, const struct sieve_message *m)
{
    struct str id = STR_INIT, refs = STR_INIT;
    size_t room = VAC_REFS_MAX;

    if (sieve_header_first(m, "Message-ID", &id) && id.len) {
        str_append_cstr(out, "In-Reply-To:");
        put_ids(out, id.data, id.len, &room);
        str_append_cstr(out, "\nReferences:");
        room = VAC_REFS_MAX;
        if (sieve_header_first(m, "References", &refs))
            put_ids(out, refs.data, refs.len, &room);
        else if (sieve_header_first(m, "In-Reply-To", &refs))
            put_ids(out, refs.data, refs.len, &room);
        room += id.len + 2;
        put_ids(out, id.data, id.len, &room);
        str_append_char(out, '\n');
    }
    str_free(&id);
    str_free(&refs);
}

static void qp_line(struct str *out, const char *p, size_t n)
{
    size_t col = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        int enc = c == '=' || c >= 0x7f || (c < 0x20 && c != '\t') ||
                  ((c == ' ' || c == '\t') && i + 1 == n);
        size_t w = enc ? 3 : 1;
        if (col + w > 75) {
            str_append_cstr(out, "=\n");
            col = 0;
        }
        if (enc)
            str_appendf(out, "=%02X", c);
        else
            str_append_char(out, (char)c);
        col += w;
    }
    str_append_char(out, '\n');
}

/* a text body: CR dropped, LF line ends, a final newline; 7bit when
   it is ASCII with short lines, else quoted-printable (safe through any
   relay: no 8BITMIME needed) */
void sv_put_text_body(struct str *out, const char *text, size_t len)
{
    int eight = 0, longl = 0;
    size_t col = 0;

    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)text[i] >= 0x80)
            eight = 1;
        col = text[i] == '\n' ? 0 : col + 1;
        if (col > VAC_LINE_MAX)
            longl = 1;
    }
    str_appendf(out, "Content-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: %s\n\n",
                longl || eight ? "quoted-printable" : "7bit");
    longl = longl || eight;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        size_t e = n;
        while (e > 0 && text[i + e - 1] == '\r')
            e--;
        if (longl)
            qp_line(out, text + i, e);
        else {
            for (size_t k = 0; k < e; k++)
                if (text[i + k] != '\r' && text[i + k] != '\0')
                    str_append_char(out, text[i + k]);
            str_append_char(out, '\n');
        }
        i += n + (nl != NULL);
    }
}

/* "; " before a parameter of len bytes, or ";" and a fold when the line
   would pass VAC_FOLD_AT columns; *col follows the line */
static void param_sep(struct str *out, size_t *col, size_t len)
{
    if (*col + 2 + len > VAC_FOLD_AT) {
        str_append_cstr(out, ";\n ");
        *col = 1;
    } else {
        str_append_cstr(out, "; ");
        *col += 2;
    }
    *col += len;
}

/* one parameter value RFC 2231 encoded: name*=utf-8''%XX.., or
   name*0*=utf-8''..; name*1*=.. continuations of VAC_PARAM_CHUNK
   bytes; no %XX escape is split */
static void put_2231(struct str *out, size_t *col, const char *name,
                     size_t nl, const char *v, size_t vl)
{
    static const char hex[] = "0123456789ABCDEF";
    struct str enc = STR_INIT;
    size_t part = 0;

    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c))
            str_append_char(&enc, (char)c);
        else {
            str_append_char(&enc, '%');
            str_append_char(&enc, hex[c >> 4]);
            str_append_char(&enc, hex[c & 15]);
        }
    }
    if (enc.len + nl <= VAC_PARAM_CHUNK) {
        param_sep(out, col, nl + 9 + enc.len);
        str_append(out, name, nl);
        str_append_cstr(out, "*=utf-8''");
        str_append(out, enc.data, enc.len);
        str_free(&enc);
        return;
    }
    for (size_t i = 0; i < enc.len; part++) {
        size_t n = enc.len - i < VAC_PARAM_CHUNK ? enc.len - i
                                                 : VAC_PARAM_CHUNK;
        if (n < enc.len - i) {          /* do not cut "%XX" */
            if (enc.data[i + n - 1] == '%')
                n -= 1;
            else if (enc.data[i + n - 2] == '%')
                n -= 2;
        }
        param_sep(out, col, nl + 12 + n);
        str_append(out, name, nl);
        str_appendf(out, "*%zu*=%s", part, part == 0 ? "utf-8''" : "");
        str_append(out, enc.data + i, n);
        i += n;
    }
    str_free(&enc);
}

/* a Content-Type or Content-Disposition value (its field name took
   `used` columns): the type as it is, then the parameters, folded
   between them when a line would grow long; a value that is not ASCII
   in RFC 2231 form (a file name), the others as written */
static void put_params(struct str *out, const char *v, size_t len,
                       size_t used)
{
    size_t i = 0, first = 1, col = used;

    while (i < len) {
        size_t s, e, q = 0;
        struct str val = STR_INIT;
        const char *eq;
        int ascii = 1;
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ';'))
            i++;
        s = i;
        for (; i < len && (q || v[i] != ';'); i++) {
            if (v[i] == '\\' && q && i + 1 < len)
                i++;
            else if (v[i] == '"')
                q = !q;
        }
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e == s)
            continue;
        eq = memchr(v + s, '=', e - s);
        if (!first && eq) {
            /* the value, unquoted */
            for (const char *p = eq + 1; p < v + e; p++) {
                if (*p == '"')
                    continue;
                if (*p == '\\' && p + 1 < v + e)
                    p++;
                if ((unsigned char)*p >= 0x80)
                    ascii = 0;
                str_append_char(&val, *p);
            }
        }
        if (!ascii) {
            size_t nl = (size_t)(eq - (v + s));
            while (nl && (v[s + nl - 1] == ' ' || v[s + nl - 1] == '*'))
                nl--;
            put_2231(out, &col, v + s, nl, val.data ? val.data : "",
                     val.len);
        } else {
            if (first)
                col += e - s;
            else
                param_sep(out, &col, e - s);
            for (size_t k = s; k < e; k++)
                str_append_char(out, (unsigned char)v[k] < 0x20 ? ' ' : v[k]);
        }
        first = 0;
        str_free(&val);
    }
}

/* :mime - the reason's Content-* fields, then its body; a single part
   with 8-bit text and no Content-Transfer-Encoding is sent
   quoted-printable */
static void put_mime_body(struct str *out, const char *r, size_t len)
{
    struct arena a = {0};
    struct sv_hdr *h;
    const char *body;
    size_t hl, n;
    int ctype = 0, cte = 0, multi = 0, eight = 0;

    while (len && (*r == '\r'))
        r++, len--;
    if (len && *r == '\n') {
        hl = 0;
        body = r + 1;
    } else {
        const char *sep = memmem(r, len, "\n\n", 2);
        const char *sep2 = memmem(r, len, "\r\n\r\n", 4);
        if (sep2 && (!sep || sep2 < sep)) {
            hl = (size_t)(sep2 - r) + 2;
            body = sep2 + 4;
        } else if (sep) {
            hl = (size_t)(sep - r) + 1;
            body = sep + 2;
        } else {
            hl = 0;
            body = r;
        }
    }
    n = sv_parse_fields(&a, r, hl, &h);
    for (size_t i = 0; i < n; i++) {
        if (h[i].nlen < 8 || strncasecmp(h[i].name, "content-", 8) != 0)
            continue;
        ctype |= name_is(&h[i], "content-type");
        cte |= name_is(&h[i], "content-transfer-encoding");
        if (name_is(&h[i], "content-type") && h[i].vlen >= 10 &&
            strncasecmp(h[i].value, "multipart/", 10) == 0)
            multi = 1;
        str_append(out, h[i].name, h[i].nlen);
        str_append_cstr(out, ": ");
        if (name_is(&h[i], "content-type") ||
            name_is(&h[i], "content-disposition"))
            put_params(out, h[i].value, h[i].vlen, h[i].nlen + 2);
        else
            sieve_encode_header(out, h[i].value, h[i].vlen, h[i].nlen + 2);
        str_append_char(out, '\n');
    }
    for (const char *p = body; p < r + len && !eight; p++)
        eight = (unsigned char)*p >= 0x80;
    if (!ctype)
        str_append_cstr(out, "Content-Type: text/plain; charset=utf-8\n");
    if (!cte && !multi && eight) {
        str_append_cstr(out, "Content-Transfer-Encoding: "
                             "quoted-printable\n\n");
        for (const char *p = body; p < r + len;) {
            const char *nl = memchr(p, '\n', (size_t)(r + len - p));
            size_t e = nl ? (size_t)(nl - p) : (size_t)(r + len - p);
            size_t k = e;
            while (k > 0 && p[k - 1] == '\r')
                k--;
            qp_line(out, p, k);
            p += e + (nl != NULL);
        }
        arena_free(&a);
        return;
    }
    str_append_char(out, '\n');
    for (const char *p = body; p < r + len; p++)
        if (*p != '\r')
            str_append_char(out, *p);
    if (out->len && out->data[out->len - 1] != '\n')
        str_append_char(out, '\n');
    arena_free(&a);
}

/* the element of an address list naming the envelope sender `to` in
   Sender, Resent-From or From (the first of them that does), with its
   display name: "Name <a@b>"; else `to` alone (RFC 3834: the reply goes
   to the return path; the name is only what the sender wrote).  any: the
   first address of those fields, whatever the envelope sender */
static void put_reply_to(struct str *out, const struct sieve_message *m,
                         const char *to, int any)
{
    static const char *const fields[] = {"Sender", "Resent-From", "From",
                                         NULL};
    const char *tp;
    size_t tl;
    struct str v = STR_INIT, full = STR_INIT;

    bare(to, &tp, &tl);
    for (size_t f = 0; fields[f] && !full.len; f++) {
        size_t i = 0;
        if (!sieve_header_first(m, fields[f], &v))
            continue;
        while (i < v.len && !full.len) {
            size_t s = i, lt = (size_t)-1;
            int q = 0, c = 0, ang = 0;
            for (; i < v.len; i++) {
                char ch = v.data[i];
                if (q) {
                    if (ch == '\\' && i + 1 < v.len)
                        i++;
                    else if (ch == '"')
                        q = 0;
                } else if (c) {
                    c += ch == '(' ? 1 : ch == ')' ? -1 : 0;
                } else if (ch == '"') {
                    q = 1;
                } else if (ch == '(') {
                    c = 1;
                } else if (ch == '<') {
                    ang = 1;
                    if (lt == (size_t)-1)
                        lt = i;
                } else if (ch == '>') {
                    ang = 0;
                } else if (ch == ',' && !ang) {
                    break;
                }
            }
            {
                struct arena a = {0};
                struct sv_address *ad;
                size_t na = sv_address_list(&a, v.data + s, i - s, &ad);
                if (na == 1 && ad[0].valid && (any ||
                    (ad[0].local.len + 1 + ad[0].domain.len == tl &&
                     strncasecmp(tp, ad[0].local.s, ad[0].local.len) == 0 &&
                     tp[ad[0].local.len] == '@' &&
                     strncasecmp(tp + ad[0].local.len + 1, ad[0].domain.s,
                                 ad[0].domain.len) == 0))) {
                    if (lt != (size_t)-1) {
                        size_t e = lt;
                        while (s < e && (v.data[s] == ' ' ||
                                         v.data[s] == '\t'))
                            s++;
                        str_append(&full, v.data + s, e - s);
                        str_append_char(&full, ' ');
                    }
                    str_append_char(&full, '<');
                    if (any) {
                        str_append(&full, ad[0].local.s, ad[0].local.len);
                        str_append_char(&full, '@');
                        str_append(&full, ad[0].domain.s, ad[0].domain.len);
                    } else
                        str_append(&full, tp, tl);
                    str_append_char(&full, '>');
                }
                arena_free(&a);
            }
            i++;
        }
    }
    sieve_put_address(out, "To", full.len ? str_cstr(&full) : to);
    str_free(&v);
    str_free(&full);
}

/* at most max code points of s (0: VAC_SUBJECT_MAX); a longer text is
   cut between characters and ends with U+2026 (the ellipsis) within
   the limit */
static void limit_subject(struct str *s, size_t max)
{
    size_t cps = 0, cut = 0;

    if (max == 0)
        max = VAC_SUBJECT_MAX;
    for (size_t i = 0; i < s->len; i++) {
        if (((unsigned char)s->data[i] & 0xC0) == 0x80)
            continue;
        if (++cps == max)
            cut = i;
    }
    if (cps <= max)
        return;
    s->len = cut;
    s->data[cut] = '\0';
    str_append_cstr(s, "\xE2\x80\xA6");
}

int sieve_vacation_compose(const struct sieve_message *m,
                           const struct sieve_vacation *v, const char *from,
                           const char *hostname, struct str *out)
{
    struct str subj = STR_INIT;
    struct arena a = {0};

    if (m->env_from == NULL || m->env_from[0] == '\0')
        return -1;
    sieve_put_address(out, "From", v->from ? v->from
                                   : v->reply_from ? v->reply_from : from);
    put_reply_to(out, m, m->env_from, v->to_header_any);
    str_append_cstr(out, "Subject: ");
    if (v->subject) {
        /* encoded words in :subject stand for their text */
        struct sv_str d;
        sv_decode_2047(&a, v->subject, strlen(v->subject), &d);
        str_append(&subj, d.s, d.len);
    } else {
        struct str orig = STR_INIT;
        if (sieve_header_first(m, "Subject", &orig) && orig.len) {
            struct sv_str d;
            sv_decode_2047(&a, orig.data, orig.len, &d);
            str_append_cstr(&subj, "Auto: ");
            str_append(&subj, d.s, d.len);
        } else
            str_append_cstr(&subj, "Automated reply");
        str_free(&orig);
    }
    limit_subject(&subj, v->max_subject);
    sieve_encode_header(out, subj.data ? subj.data : "", subj.len, 9);
    str_append_char(out, '\n');
    put_date(out, time(NULL));
    put_msgid(out, hostname);
    put_threading(out, m);
    str_append_cstr(out, "Auto-Submitted: auto-replied (vacation)\n"
                         "Precedence: bulk\n"
                         "X-Auto-Response-Suppress: All\n"
                         "MIME-Version: 1.0\n");
    if (v->mime)
        put_mime_body(out, v->reason, strlen(v->reason));
    else
        sv_put_text_body(out, v->reason, strlen(v->reason));
    str_free(&subj);
    arena_free(&a);
    return 0;
}
