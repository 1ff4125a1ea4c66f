/*
 * parse - the command syntax of ManageSieve (RFC 5804 section 4):
 *
 *   command  = atom *(SP argument) CRLF
 *   argument = atom / quoted / literal
 *   quoted   = DQUOTE *(any char except CR LF, with \" and \\) DQUOTE
 *   literal  = "{" number ["+"] "}" CRLF octets
 *
 * Both synchronizing and non-synchronizing literals are taken without a
 * continuation (clients send "{N+}"; a server that never waits is what
 * RFC 5804 describes).  Limits: MS_LINE_MAX bytes of command line between
 * literals, MS_ARGS_MAX arguments, the caller's max_literal per literal
 * (MS_P_TOOBIG so the caller can answer NO and skip the data).
 */
#include <ctype.h>
#include <string.h>

#include "msieve.h"

void ms_cmd_free(struct ms_cmd *cmd)
{
    for (size_t i = 0; i < MS_ARGS_MAX; i++)
        str_free(&cmd->arg[i]);
}

/* line_end - offset of the LF ending the line that starts at p, or -1 */
static ssize_t line_end(const char *buf, size_t p, size_t len)
{
    const char *nl = memchr(buf + p, '\n', len - p);

    return nl ? nl - buf : -1;
}

static enum ms_parse bad(const char *buf, size_t p, size_t len, size_t *used)
{
    ssize_t e = line_end(buf, p, len);

    *used = e < 0 ? 0 : (size_t)e + 1;
    return MS_P_BAD;
}

enum ms_parse ms_parse_cmd(const char *buf, size_t len, size_t max_literal,
                           struct ms_cmd *cmd, size_t *used,
                           unsigned long long *big)
{
    size_t p = 0, n = 0, linestart = 0;

    cmd->nargs = 0;
    cmd->name[0] = '\0';
    for (size_t i = 0; i < MS_ARGS_MAX; i++)
        str_reset(&cmd->arg[i]), cmd->is_atom[i] = 0;
    if (line_end(buf, 0, len) < 0)
        return len > MS_LINE_MAX ? bad(buf, 0, len, used) : MS_P_MORE;
    while (p < len && isalpha((unsigned char)buf[p]) && n < sizeof(cmd->name) - 1)
        cmd->name[n++] = (char)toupper((unsigned char)buf[p++]);
    cmd->name[n] = '\0';
    if (n == 0)
        return bad(buf, p, len, used);
    for (;;) {
        struct str *a;
        if (p < len && buf[p] == '\r')
            p++;
        if (p >= len)
            return MS_P_MORE;
        if (buf[p] == '\n') {
            *used = p + 1;
            return MS_P_OK;
        }
        if (buf[p] != ' ')
            return bad(buf, p, len, used);
        while (p < len && buf[p] == ' ')
            p++;
        if (p >= len)
            return MS_P_MORE;
        if (buf[p] == '\r' || buf[p] == '\n')
            continue;
        if (cmd->nargs >= MS_ARGS_MAX || p - linestart > MS_LINE_MAX)
            return bad(buf, p, len, used);
        a = &cmd->arg[cmd->nargs];
        if (buf[p] == '"') {
            for (p++; p < len && buf[p] != '"'; p++) {
                if (buf[p] == '\r' || buf[p] == '\n')
                    return bad(buf, p, len, used);
                if (buf[p] == '\\' && p + 1 < len)
                    p++;
                str_append_char(a, buf[p]);
            }
            if (p >= len)
                return MS_P_MORE;
            p++;
        } else if (buf[p] == '{') {
            unsigned long long size = 0;
            size_t q = p + 1;
            while (q < len && isdigit((unsigned char)buf[q]) && size < (1ULL << 40))
                size = size * 10 + (unsigned)(buf[q++] - '0');
            if (q < len && buf[q] == '+')
                q++;
            if (q + 1 >= len)
                return MS_P_MORE;
            if (q == p + 1 || buf[q] != '}' ||
                !(buf[q + 1] == '\n' || (buf[q + 1] == '\r' && q + 2 < len && buf[q + 2] == '\n')))
                return q + 2 >= len ? MS_P_MORE : bad(buf, p, len, used);
            q += buf[q + 1] == '\r' ? 3 : 2;
            if (size > max_literal) {
                *big = size;
                *used = q;
                return MS_P_TOOBIG;
            }
            if (len - q < size)
                return MS_P_MORE;
            if (str_set(a, buf + q, (size_t)size) < 0)
                return bad(buf, q, len, used);
            p = q + (size_t)size;
            linestart = p;
            if (line_end(buf, p, len) < 0)
                return MS_P_MORE;
        } else {
            while (p < len && buf[p] != ' ' && buf[p] != '\r' && buf[p] != '\n' &&
                   buf[p] != '"' && buf[p] != '{')
                str_append_char(a, buf[p++]);
            cmd->is_atom[cmd->nargs] = 1;
        }
        cmd->nargs++;
    }
}

void ms_quote(struct str *out, const char *s, size_t len)
{
    int literal = 0;

    for (size_t i = 0; i < len && !literal; i++)
        literal = s[i] == '\r' || s[i] == '\n' || s[i] == '\0' || len > 1024;
    if (literal) {
        str_appendf(out, "{%zu}\r\n", len);
        str_append(out, s, len);
        return;
    }
    str_append_char(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            str_append_char(out, '\\');
        str_append_char(out, s[i]);
    }
    str_append_char(out, '"');
}
