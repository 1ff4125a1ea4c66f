/*
 * str - counted, growable byte strings (the VSTRING of postern).
 *
 * All network data is held in a struct str: explicit length, may contain NUL
 * bytes, always NUL-terminated for convenience.  Growth is bounded by
 * STR_MAX_SIZE; an append that would exceed it fails (returns -1) and leaves
 * the string unchanged, so truncation is never silent.
 */
#ifndef POSTERN_STR_H
#define POSTERN_STR_H

#include <stdarg.h>
#include <stddef.h>

#define STR_MAX_SIZE (256u * 1024 * 1024) /* hard cap for any one string */

struct str {
    char *data; /* NUL-terminated; NULL until first growth */
    size_t len;
    size_t cap;
};

#define STR_INIT { NULL, 0, 0 }

/* str_reserve - make room for n more bytes plus NUL; -1 if over the cap. */
int str_reserve(struct str *s, size_t n);
int str_append(struct str *s, const void *data, size_t len);
int str_append_cstr(struct str *s, const char *cstr);
int str_append_char(struct str *s, char c);
/* str_appendf - printf-style append; -1 on format error or over the cap. */
int str_appendf(struct str *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int str_vappendf(struct str *s, const char *fmt, va_list ap);
int str_set(struct str *s, const void *data, size_t len);
/* str_consume - drop the first n bytes (n <= len). */
void str_consume(struct str *s, size_t n);
void str_truncate(struct str *s, size_t len);
void str_reset(struct str *s);
void str_free(struct str *s);
/* str_wipe - zero the whole buffer (a secret), then free it. */
void str_wipe(struct str *s);
/* str_cstr - the contents as a C string ("" when empty). */
const char *str_cstr(const struct str *s);

/* strlcpy-style copy that reports truncation: returns -1 if src did not fit. */
int str_copy_bounded(char *dst, size_t dstsize, const char *src, size_t srclen);
/* Lower-case ASCII in place. */
void str_lower(char *p, size_t len);
/* str_hexval - the value of one hex digit (either case), or -1. */
int str_hexval(int c);

/* str_utf8_seq - the length of the well-formed UTF-8 sequence at p
   (left > 0 bytes there; RFC 3629: no overlong form, no surrogate, at most
   U+10FFFF), or 0 when it is not one.  An ASCII byte, NUL included, is 1. */
size_t str_utf8_seq(const unsigned char *p, size_t left);

#endif
