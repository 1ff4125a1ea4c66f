/*
 * verify - DKIM verification (RFC 6376) of inbound mail in postern-milter,
 * with libopendkim, for the Authentication-Results header.
 *
 * Every header goes to a libopendkim verifying handle as it arrives
 * (bounded by [milter] max_headers and max_header_bytes), the keys of all
 * signatures are fetched at the end of the headers (milter/dns.c), the body
 * chunks are hashed as they arrive (libmilter's buffer, no copy, nothing
 * kept), and at the end of the message every signature gets one result:
 *
 *   pass       signature and body hash verify
 *   fail       the signature or the body hash does not verify
 *   temperror  the key could not be fetched (DNS failure)
 *   permerror  anything else (no key, bad tags, expired, revoked key ...)
 *   policy     not verified: more than [milter] max_signatures signatures
 *
 * written as "dkim=RESULT [reason="..."] header.d=D header.s=S header.b=B"
 * (header.b: the shortest prefix of b= that tells the signatures apart, at
 * least 8 characters).  No signature: "dkim=none".  Over the header limits
 * or a header libopendkim refuses: "dkim=permerror" with the reason.
 *
 * verify_results() hands each signature's d=, s= and result word to DMARC
 * (dmarc.c) after verify_eom().
 *
 * The DKIM_LIB of verification is created once before libmilter starts its
 * threads (its own DNS service, see dns.c) and only read afterwards.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dkim.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "milter.h"

#define VERIFY_SUBSTR_MAX 64 /* bytes of header.b */

static DKIM_LIB *verify_lib;      /* set once in verify_global_init */
static int verify_max_sigs = 8;   /* likewise */

struct mverify {
    DKIM *dkim;
    size_t nheaders, header_bytes;
    const char *error;   /* static text: verification given up */
    int nosig;           /* no DKIM-Signature header */
};

/* prescreen - ignore the signatures over max_signatures (no key lookups) */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
    (void)dkim;
    for (int i = verify_max_sigs; i < nsigs; i++)
        dkim_sig_ignore(sigs[i]);
    return DKIM_CBSTAT_CONTINUE;
}

int verify_global_init(long long max_signatures, struct str *err)
{
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

    verify_max_sigs = (int)max_signatures;
    if ((verify_lib = dkim_init(NULL, NULL)) == NULL) {
        str_appendf(err, "libopendkim: initialization failed");
        return -1;
    }
    if (dkim_options(verify_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
                     sizeof(flags)) != DKIM_STAT_OK ||
        dkim_set_prescreen(verify_lib, prescreen) != DKIM_STAT_OK) {
        str_appendf(err, "libopendkim: cannot set the verification options");
        return -1;
    }
    dns_attach(verify_lib);
    return 0;
}

void verify_global_end(void)
{
    if (verify_lib)
        dkim_close(verify_lib);
    verify_lib = NULL;
}

struct mverify *verify_begin(void)
{
    struct mverify *v = xcalloc(1, sizeof(*v));
    DKIM_STAT st = DKIM_STAT_OK;

    v->dkim = dkim_verify(verify_lib, (const unsigned char *)"postern", NULL,
                          &st);
    if (v->dkim == NULL)
        v->error = "verifier unavailable";
    return v;
}

static void give_up(struct mverify *v, const char *why)
{
    if (v->dkim)
        dkim_free(v->dkim);
    v->dkim = NULL;
    if (v->error == NULL)
        v->error = why;
}

void verify_free(struct mverify *v)
{
    if (v == NULL)
        return;
    if (v->dkim)
        dkim_free(v->dkim);
    free(v);
}

void verify_header(struct mctx *m, struct mverify *v, const char *name,
                   const char *value, int leadspc)
{
    struct str h = STR_INIT;

    if (v->dkim == NULL)
        return;
    v->header_bytes += strlen(name) + strlen(value) + 2;
    if ((long long)++v->nheaders > m->cfg->max_headers ||
        (long long)v->header_bytes > m->cfg->max_header_bytes) {
        give_up(v, "headers over max_headers/max_header_bytes");
        return;
    }
    /* Postfix folds with bare LF; libopendkim parses tags only across CRLF
       (DKIM_LIBFLAGS_FIXCRLF covers the body, not dkim_header); at most
       twice max_header_bytes */
    str_appendf(&h, leadspc ? "%s:" : "%s: ", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\n' && (p == value || p[-1] != '\r'))
            str_append(&h, "\r\n", 2);
        else
            str_append_char(&h, *p);
    }
    if (dkim_header(v->dkim, (unsigned char *)h.data, h.len) != DKIM_STAT_OK)
        give_up(v, "header syntax");
    str_free(&h);
}

void verify_eoh(struct mverify *v)
{
    DKIM_STAT st;

    if (v->dkim == NULL)
        return;
    st = dkim_eoh(v->dkim);
    if (st == DKIM_STAT_NOSIG) {
        v->nosig = 1;
        give_up(v, NULL);
    }
    /* other errors: the signatures carry them (dkim_getsiglist at eom) */
}

void verify_body(struct mverify *v, const unsigned char *buf, size_t len)
{
    if (v->dkim)
        (void)dkim_body(v->dkim, (unsigned char *)buf, len);
}

/* sig_result - result word and reason (NULL: none) of one signature */
static const char *sig_result(DKIM_SIGINFO *sig, const char **reason)
{
    unsigned int flags = dkim_sig_getflags(sig);
    int err = dkim_sig_geterror(sig);
    int bh = dkim_sig_getbh(sig);

    *reason = NULL;
    if (flags & DKIM_SIGFLAG_IGNORE) {
        *reason = "not verified: over max_signatures";
        return "policy";
    }
    if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
        return "pass";
    if (err == DKIM_SIGERROR_KEYFAIL) {
        *reason = "key lookup failed";
        return "temperror";
    }
    if ((flags & DKIM_SIGFLAG_PASSED) || bh == DKIM_SIGBH_MISMATCH) {
        *reason = "body hash mismatch";
        return "fail";
    }
    if (err == DKIM_SIGERROR_BADSIG || err == DKIM_SIGERROR_OK) {
        *reason = "signature verification failed";
        return "fail";
    }
    if ((*reason = dkim_sig_geterrorstr(err)) == NULL)
        *reason = "verification error";
    return "permerror";
}

static void append_sig(struct mverify *v, DKIM_SIGINFO *sig, struct str *ar)
{
    const unsigned char *d = dkim_sig_getdomain(sig);
    const unsigned char *s = dkim_sig_getselector(sig);
    const char *reason, *word = sig_result(sig, &reason);
    char b[VERIFY_SUBSTR_MAX + 1];
    size_t blen = sizeof(b) - 1;

    str_appendf(ar, ";\n\tdkim=%s", word);
    if (reason) {
        str_append_cstr(ar, " reason=");
        ar_append_value(ar, reason);
    }
    if (d && *d) {
        str_append_cstr(ar, " header.d=");
        ar_append_value(ar, (const char *)d);
    }
    if (s && *s) {
        str_append_cstr(ar, " header.s=");
        ar_append_value(ar, (const char *)s);
    }
    if (dkim_get_sigsubstring(v->dkim, sig, b, &blen) == DKIM_STAT_OK &&
        blen > 0 && blen < sizeof(b)) {
        b[blen] = '\0';
        str_append_cstr(ar, " header.b=");
        ar_append_value(ar, b);
    }
}

void verify_eom(struct mverify *v, struct str *ar, struct strvec *logs)
{
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;

    if (v->nosig || (v->dkim == NULL && v->error == NULL)) {
        str_append_cstr(ar, ";\n\tdkim=none");
        return;
    }
    if (v->dkim == NULL) {
        size_t before = ar->len;
        str_append_cstr(ar, ";\n\tdkim=permerror reason=");
        ar_append_value(ar, v->error);
        strvec_add(logs, ar->data + before + 3);
        return;
    }
    (void)dkim_eom(v->dkim, NULL);
    if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
        str_append_cstr(ar, ";\n\tdkim=none");
        return;
    }
    for (int i = 0; i < nsigs; i++) {
        size_t before = ar->len;
        append_sig(v, sigs[i], ar);
        strvec_add(logs, ar->data + before + 3);
    }
}

void verify_results(struct mverify *v, struct dmarc_input *in)
{
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;

    if (v == NULL || v->dkim == NULL ||
        dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
        return;
    for (int i = 0; i < nsigs && in->ndkim < DMARC_DKIM_MAX; i++) {
        const unsigned char *d = dkim_sig_getdomain(sigs[i]);
        const unsigned char *s = dkim_sig_getselector(sigs[i]);
        const char *reason;
        struct dmarc_dkim *k = &in->dkim[in->ndkim++];
        k->domain = xstrdup(d ? (const char *)d : "");
        str_lower(k->domain, strlen(k->domain));
        k->selector = xstrdup(s ? (const char *)s : "");
        k->result = sig_result(sigs[i], &reason);
    }
}
