/*
 * ext_encoded - "encoded-character" (RFC 5228 section 2.4.2.4): in every
 * string of a script that requires it, "${hex: 41 42}" stands for the
 * octets 0x41 0x42 and "${unicode: 263a}" for the UTF-8 encoding of
 * U+263A.  Names are case-insensitive, blanks separate the values.  A
 * sequence that does not follow the syntax stays as it is (it may be a
 * variable); a unicode value above U+10FFFF or a surrogate is a compile
 * error ("invalid unicode character").  Decoding happens once, when the
 * script is compiled (validate.c), before variables are expanded.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void put_utf8(struct str *o, unsigned long cp)
{
    if (cp < 0x80) {
        str_append_char(o, (char)cp);
    } else if (cp < 0x800) {
        str_append_char(o, (char)(0xc0 | (cp >> 6)));
        str_append_char(o, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        str_append_char(o, (char)(0xe0 | (cp >> 12)));
        str_append_char(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        str_append_char(o, (char)(0x80 | (cp & 0x3f)));
    } else {
        str_append_char(o, (char)(0xf0 | (cp >> 18)));
        str_append_char(o, (char)(0x80 | ((cp >> 12) & 0x3f)));
        str_append_char(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        str_append_char(o, (char)(0x80 | (cp & 0x3f)));
    }
}

/* one "${hex:...}" / "${unicode:...}" at p; its end in *endp.  1 decoded,
   0 not this syntax, -1 error */
static int one(const char *p, const char *end, const char **endp,
               struct str *o, char *err, size_t errsize)
{
    int uni;
    const char *q;
    struct str tmp = STR_INIT;

    if (end - p > 6 && strncasecmp(p, "${hex:", 6) == 0) {
        uni = 0;
        q = p + 6;
    } else if (end - p > 10 && strncasecmp(p, "${unicode:", 10) == 0) {
        uni = 1;
        q = p + 10;
    } else {
        return 0;
    }
    for (int count = 0;; count++) {
        unsigned long v = 0;
        int nd = 0;
        while (q < end && blank(*q))
            q++;
        if (q < end && *q == '}' && count > 0)
            break;
        /* unicode-hex is 1*HEXDIG: leading zeros do not count */
        while (uni && q + 1 < end && *q == '0' && str_hexval(q[1]) >= 0)
            q++;
        while (q < end && str_hexval(*q) >= 0 && nd < 9) {
            v = v * 16 + (unsigned long)str_hexval(*q++);
            nd++;
        }
        if (nd == 0 || q >= end || (!blank(*q) && *q != '}') ||
            (!uni && nd > 2) || (uni && nd > 6)) {
            str_free(&tmp);
            return 0;
        }
        if (uni) {
            if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
                snprintf(err, errsize, "invalid unicode character U+%lX in "
                         "encoded-character", v);
                str_free(&tmp);
                return -1;
            }
            put_utf8(&tmp, v);
        } else {
            str_append_char(&tmp, (char)v);
        }
    }
    str_append(o, tmp.data ? tmp.data : "", tmp.len);
    str_free(&tmp);
    *endp = q + 1;
    return 1;
}

int sv_decode_encoded(struct arena *a, struct sv_str *s, char *err,
                      size_t errsize)
{
    struct str o = STR_INIT;
    const char *p = s->s, *end = s->s + s->len;
    int changed = 0;

    if (memmem(s->s, s->len, "${", 2) == NULL)
        return 0;
    while (p < end) {
        const char *e;
        int rc = *p == '$' ? one(p, end, &e, &o, err, errsize) : 0;
        if (rc < 0) {
            str_free(&o);
            return -1;
        }
        if (rc > 0) {
            p = e;
            changed = 1;
            continue;
        }
        str_append_char(&o, *p++);
    }
    if (changed) {
        s->s = arena_strndup(a, o.data ? o.data : "", o.len);
        s->len = o.len;
    }
    str_free(&o);
    return 0;
}

const struct sv_ext sv_ext_encoded = {"encoded-character", NULL, 0, NULL, 0,
                                      0, 0};
