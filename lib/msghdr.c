/*
 * msghdr - header fields of a message: iteration and unfolding (the
 * rules are in msghdr.h).  Linear in the size of the header section; no
 * allocation, no limits of its own (callers bound the section and the
 * number of fields they look at).
 */
#include <string.h>
#include <strings.h>

#include "msghdr.h"

/* field_end - the end of the field starting at p: after the line break
   that is not followed by a blank, or end */
static const char *field_end(const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            return end;
        p = nl + 1;
        if (p >= end || (*p != ' ' && *p != '\t'))
            return p;
    }
    return end;
}

int msghdr_next(const char *h, size_t len, size_t *pos,
                struct msghdr_field *f)
{
    const char *end = h + len;

    while (*pos < len) {
        const char *start = h + *pos, *q = field_end(start, end), *colon,
                   *ne;
        *pos = (size_t)(q - h);
        if ((colon = memchr(start, ':', (size_t)(q - start))) == NULL)
            continue;
        for (ne = colon; ne > start && (ne[-1] == ' ' || ne[-1] == '\t');)
            ne--;
        if (ne == start || memchr(start, '\n', (size_t)(ne - start)))
            continue;
        f->name = start;
        f->nlen = (size_t)(ne - start);
        f->value = colon + 1;
        f->vlen = (size_t)(q - colon - 1);
        return 1;
    }
    return 0;
}

size_t msghdr_unfold(const char *v, size_t len, char *out)
{
    size_t k = 0, s = 0;

    for (size_t i = 0; i < len; i++)
        if (v[i] != '\n' && v[i] != '\r')
            out[k++] = v[i];
    while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t'))
        k--;
    while (s < k && (out[s] == ' ' || out[s] == '\t'))
        s++;
    if (s > 0)
        memmove(out, out + s, k - s);
    out[k - s] = '\0';
    return k - s;
}

int msghdr_name_is(const struct msghdr_field *f, const char *name)
{
    size_t n = strlen(name);

    return f->nlen == n && strncasecmp(f->name, name, n) == 0;
}

/* the state of msghdr_mailbox while it reads one value */
struct mbox_scan {
    char *out;
    size_t outsize, n;
    int angle;      /* 0 before '<', 1 inside, 2 after '>' */
    int gap;        /* a blank or comment since the last byte kept */
    int inner_gap;  /* ... between two bytes kept: not one addr-spec */
    int overflow;   /* more than outsize - 1 bytes kept */
};

static void mbox_keep(struct mbox_scan *s, char ch)
{
    if (s->gap && s->n > 0)
        s->inner_gap = 1;
    s->gap = 0;
    if (s->n + 1 >= s->outsize)
        s->overflow = 1;
    else
        s->out[s->n++] = ch;
}

/* mbox_restart - at '<': what was kept is the display name */
static void mbox_restart(struct mbox_scan *s)
{
    s->n = 0;
    s->gap = s->inner_gap = s->overflow = 0;
    s->angle = 1;
}

int msghdr_mailbox(const char *v, size_t len, char *out, size_t outsize)
{
    struct mbox_scan s = {out, outsize, 0, 0, 0, 0, 0};
    size_t depth = 0;
    int quote = 0, literal = 0;

    if (outsize == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = v[i];
        if (ch == '\0')
            return 0;
        if (ch == '\r' || ch == '\n')
            continue; /* folding */
        if (depth > 0) {
            if (ch == '\\' && i + 1 < len)
                i++;
            else if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
            continue;
        }
        if (s.angle == 2 && ch != ' ' && ch != '\t' && ch != '(')
            return 0; /* text after the angle-addr */
        if (quote || literal) {
            if (ch == '\\' && i + 1 < len) {
                mbox_keep(&s, ch);
                ch = v[++i];
            } else if (quote && ch == '"') {
                quote = 0;
            } else if (literal && ch == ']') {
                literal = 0;
            }
            mbox_keep(&s, ch);
            continue;
        }
        switch (ch) {
        case ' ':
        case '\t':
            s.gap = 1;
            break;
        case '(':
            depth = 1;
            s.gap = 1;
            break;
        case '"':
            quote = 1;
            mbox_keep(&s, ch);
            break;
        case '[':
            literal = 1;
            mbox_keep(&s, ch);
            break;
        case '<':
            if (s.angle != 0)
                return 0;
            mbox_restart(&s);
            break;
        case '>':
            if (s.angle != 1)
                return 0;
            s.angle = 2;
            break;
        case ',':
        case ':':
        case ';':
            return 0; /* several mailboxes, a group, a route */
        default:
            mbox_keep(&s, ch);
        }
    }
    if (depth > 0 || quote || literal || s.angle == 1 || s.n == 0 ||
        s.inner_gap || s.overflow)
        return 0;
    out[s.n] = '\0';
    return 1;
}
