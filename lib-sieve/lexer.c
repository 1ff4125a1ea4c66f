/*
 * lexer - Sieve script text to tokens (RFC 5228 section 8.1).
 *
 * Tokens: identifiers, tags (":name"), numbers with an optional K/M/G
 * quantifier, quoted strings ("\\" and "\"" escapes; any other escaped
 * character stands for itself), multi-line strings ("text:" ... "." with
 * dot-unstuffing: ".." at the start of a line is ".", a line ".foo" stays
 * ".foo"), the punctuation [ ] ( ) { } , ; and comments ("#" to
 * the end of the line, bracketed comments).  CRLF is read as LF, so
 * strings hold LF line ends.  Identifiers and tags are lower-cased (Sieve
 * is case-insensitive there).
 *
 * Limits: a string literal is at most SIEVE_STRING_MAX bytes; a number
 * must fit 2^63 - 1 after its quantifier.
 *
 * Diagnostics: SV_T_ERROR with lx->err, e.g. "unterminated string",
 * "unexpected character '&'", "number too large"; lx->tline is the line
 * where the token starts.  An error token is always consumed whole (a bad
 * character, the rest of a bad number, an over-long string up to its
 * end, an unterminated comment or string up to the end of the script),
 * so the parser can report it and go on lexing after it.  "unterminated
 * string" names the line of an earlier quoted string that ran over
 * several lines, the likely place of a lost closing quote.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

void sv_lex_init(struct sv_lexer *lx, const char *text, size_t len,
                 struct arena *a)
{
    memset(lx, 0, sizeof(*lx));
    lx->p = text;
    lx->end = text + len;
    lx->line = 1;
    lx->a = a;
}

const char *sv_tok_name(enum sv_tok t)
{
    static const char *const names[] = {
        "end of script", "identifier", "tag", "number", "string", "'['",
        "']'", "'('", "')'", "'{'", "'}'", "','", "';'", "error"};
    return names[t];
}

static enum sv_tok lex_error(struct sv_lexer *lx, const char *msg)
{
    snprintf(lx->err, sizeof(lx->err), "%s", msg);
    return lx->tok = SV_T_ERROR;
}

/* skip blanks and comments; -1 on an unterminated comment */
static int skip_space(struct sv_lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
            int start = lx->line;
            lx->p += 2;
            for (;;) {
                if (lx->p + 1 >= lx->end) {
                    lx->tline = start;
                    lx->p = lx->end;
                    return -1;
                }
                if (lx->p[0] == '*' && lx->p[1] == '/')
                    break;
                if (*lx->p == '\n')
                    lx->line++;
                lx->p++;
            }
            lx->p += 2;
        } else {
            break;
        }
    }
    return 0;
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static enum sv_tok lex_ident(struct sv_lexer *lx, enum sv_tok t)
{
    const char *s = lx->p;
    char *o;

    while (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p)))
        lx->p++;
    lx->len = (size_t)(lx->p - s);
    o = arena_strndup(lx->a, s, lx->len);
    str_lower(o, lx->len);
    lx->text = o;
    return lx->tok = t;
}

/* can a token, a blank or a comment start at p? */
static int token_start(const char *p, const char *end)
{
    char c = *p;

    if (is_alpha(c) || is_digit(c) || strchr(" \t\r\n[](){},;\":#", c))
        return c != '\0';
    return c == '/' && p + 1 < end && p[1] == '*';
}

/* the rest of a bad number or word, so lexing goes on after it */
static enum sv_tok lex_bad_word(struct sv_lexer *lx, const char *msg)
{
    while (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p)))
        lx->p++;
    return lex_error(lx, msg);
}

static enum sv_tok lex_number(struct sv_lexer *lx)
{
    unsigned long long n = 0, mul = 1;

    while (lx->p < lx->end && is_digit(*lx->p)) {
        unsigned d = (unsigned)(*lx->p++ - '0');
        if (n > (0x7fffffffffffffffULL - d) / 10)
            return lex_bad_word(lx, "number too large");
        n = n * 10 + d;
    }
    if (lx->p < lx->end) {
        switch (*lx->p) {
        case 'k': case 'K': mul = 1024ULL; lx->p++; break;
        case 'm': case 'M': mul = 1024ULL * 1024; lx->p++; break;
        case 'g': case 'G': mul = 1024ULL * 1024 * 1024; lx->p++; break;
        }
    }
    if (n > 0x7fffffffffffffffULL / mul)
        return lex_bad_word(lx, "number too large");
    if (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p)))
        return lex_bad_word(lx, "invalid character after number");
    lx->num = n * mul;
    return lx->tok = SV_T_NUMBER;
}

static enum sv_tok lex_quoted(struct sv_lexer *lx)
{
    struct str s = STR_INIT;
    int start = lx->line;

    lx->p++;
    for (;;) {
        if (lx->p >= lx->end) {
            str_free(&s);
            if (lx->nl_string_line > 0) {
                /* usually an earlier string lost its closing quote */
                snprintf(lx->err, sizeof(lx->err), "unterminated string "
                         "(the string from line %d runs over several "
                         "lines: a missing '\"' there?)",
                         lx->nl_string_line);
                return lx->tok = SV_T_ERROR;
            }
            return lex_error(lx, "unterminated string");
        }
        char c = *lx->p++;
        if (c == '"')
            break;
        if (c == '\\') {
            if (lx->p >= lx->end)
                continue;
            c = *lx->p++;
        }
        if (c == '\r' && lx->p < lx->end && *lx->p == '\n')
            continue;
        if (c == '\n')
            lx->line++;
        if (s.len >= SIEVE_STRING_MAX || str_append_char(&s, c) < 0) {
            /* skip to its end, so lexing goes on after it */
            while (lx->p < lx->end && *lx->p != '"') {
                if (*lx->p == '\n')
                    lx->line++;
                lx->p += *lx->p == '\\' && lx->p + 1 < lx->end ? 2 : 1;
            }
            lx->p += lx->p < lx->end;
            str_free(&s);
            return lex_error(lx, "string too long");
        }
    }
    lx->text = arena_strndup(lx->a, s.data ? s.data : "", s.len);
    lx->len = s.len;
    str_free(&s);
    if (lx->line > start)
        lx->nl_string_line = start;
    return lx->tok = SV_T_STRING;
}

/* "text:" already consumed */
static enum sv_tok lex_multiline(struct sv_lexer *lx)
{
    struct str s = STR_INIT;

    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
        lx->p++;
    if (lx->p < lx->end && *lx->p == '#')
        while (lx->p < lx->end && *lx->p != '\n')
            lx->p++;
    if (lx->p < lx->end && *lx->p == '\r')
        lx->p++;
    if (lx->p >= lx->end || *lx->p != '\n')
        return lex_error(lx, "expected a line break after 'text:'");
    lx->p++;
    lx->line++;
    for (;;) {
        const char *nl, *ls = lx->p;
        size_t n;
        if (lx->p >= lx->end) {
            str_free(&s);
            return lex_error(lx, "unterminated multi-line string");
        }
        nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
        n = nl ? (size_t)(nl - ls) : (size_t)(lx->end - ls);
        lx->p = nl ? nl + 1 : lx->end;
        if (nl)
            lx->line++;
        if (n > 0 && ls[n - 1] == '\r')
            n--;
        if (n == 1 && ls[0] == '.')
            break;
        /* RFC 5228 2.4.2: ".." starts a dot-stuffed line; ".foo" is
           ".foo" */
        if (n > 1 && ls[0] == '.' && ls[1] == '.')
            ls++, n--;
        if (s.len + n + 1 > SIEVE_STRING_MAX || str_append(&s, ls, n) < 0 ||
            str_append_char(&s, '\n') < 0) {
            /* skip to the "." line, so lexing goes on after it */
            while (lx->p < lx->end) {
                nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
                ls = lx->p;
                lx->p = nl ? nl + 1 : lx->end;
                lx->line += nl != NULL;
                if (ls[0] == '.' && (ls + 1 == lx->p || ls[1] == '\n' ||
                                     (ls[1] == '\r' && ls + 2 < lx->end &&
                                      ls[2] == '\n')))
                    break;
            }
            str_free(&s);
            return lex_error(lx, "string too long");
        }
    }
    lx->text = arena_strndup(lx->a, s.data ? s.data : "", s.len);
    lx->len = s.len;
    str_free(&s);
    return lx->tok = SV_T_STRING;
}

enum sv_tok sv_lex_next(struct sv_lexer *lx)
{
    char c;

    lx->text = NULL;
    lx->len = 0;
    if (skip_space(lx) < 0)
        return lex_error(lx, "unterminated comment");
    lx->tline = lx->line;
    if (lx->p >= lx->end)
        return lx->tok = SV_T_EOF;
    c = *lx->p;
    switch (c) {
    case '[': lx->p++; return lx->tok = SV_T_LBRACKET;
    case ']': lx->p++; return lx->tok = SV_T_RBRACKET;
    case '(': lx->p++; return lx->tok = SV_T_LPAREN;
    case ')': lx->p++; return lx->tok = SV_T_RPAREN;
    case '{': lx->p++; return lx->tok = SV_T_LBRACE;
    case '}': lx->p++; return lx->tok = SV_T_RBRACE;
    case ',': lx->p++; return lx->tok = SV_T_COMMA;
    case ';': lx->p++; return lx->tok = SV_T_SEMI;
    case '"': return lex_quoted(lx);
    case ':':
        lx->p++;
        if (lx->p >= lx->end || !is_alpha(*lx->p))
            return lex_error(lx, "expected a tag name after ':'");
        return lex_ident(lx, SV_T_TAG);
    }
    if (is_digit(c))
        return lex_number(lx);
    if (is_alpha(c)) {
        if (lx->end - lx->p >= 5 && strncasecmp(lx->p, "text:", 5) == 0) {
            lx->p += 5;
            return lex_multiline(lx);
        }
        return lex_ident(lx, SV_T_IDENT);
    }
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        snprintf(lx->err, sizeof(lx->err), "unexpected character '%c'", c);
    else
        snprintf(lx->err, sizeof(lx->err),
                 "unexpected character 0x%02x", (unsigned char)c);
    /* past it and the run of bad characters after it (one error for
       "$$$"), so lexing goes on */
    lx->p++;
    while (lx->p < lx->end && !token_start(lx->p, lx->end))
        lx->p++;
    return lx->tok = SV_T_ERROR;
}
