/*
 * tls - STARTTLS for postern-managesieve with OpenSSL memory BIOs: the
 * event loop hands received bytes to ms_tls_input(), which writes them
 * into the read BIO, drives the handshake or SSL_read(), and collects what
 * OpenSSL wants to send from the write BIO for conn_write().  No socket is
 * given to OpenSSL, so TLS needs no thread and no blocking I/O.
 *
 * Protocol versions: TLS 1.2 and 1.3 (OpenSSL's defaults otherwise).
 * Diagnostics: errors are the caller's to log (the OpenSSL error queue is
 * cleared after each call).
 */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "msieve.h"

struct ms_tls_ctx {
    SSL_CTX *ctx;
};

struct ms_tls {
    SSL *ssl;
    BIO *rbio, *wbio;
    int up;
};

struct ms_tls_ctx *ms_tls_ctx_new(const char *cert, const char *key,
                                  struct str *err)
{
    struct ms_tls_ctx *t = xcalloc(1, sizeof(*t));

    if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        free(t);
        return str_appendf(err, "TLS: cannot create a context"), NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        unsigned long e = ERR_get_error();
        str_appendf(err, "TLS: certificate %s / key %s: %s", cert, key,
                    ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                                               : "unusable");
        ERR_clear_error();
        ms_tls_ctx_free(t);
        return NULL;
    }
    return t;
}

void ms_tls_ctx_free(struct ms_tls_ctx *t)
{
    if (t) {
        SSL_CTX_free(t->ctx);
        free(t);
    }
}

struct ms_tls *ms_tls_new(struct ms_tls_ctx *tc)
{
    struct ms_tls *t = xcalloc(1, sizeof(*t));

    if ((t->ssl = SSL_new(tc->ctx)) == NULL) {
        free(t);
        return NULL;
    }
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->rbio == NULL || t->wbio == NULL) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio); /* the SSL owns them now */
    SSL_set_accept_state(t->ssl);
    return t;
}

void ms_tls_free(struct ms_tls *t)
{
    if (t) {
        SSL_free(t->ssl);
        free(t);
    }
}

int ms_tls_up(const struct ms_tls *t)
{
    return t && t->up;
}

static int drain(struct ms_tls *t, struct str *out)
{
    char buf[16384];
    int n;

    while ((n = BIO_read(t->wbio, buf, sizeof(buf))) > 0)
        if (str_append(out, buf, (size_t)n) < 0)
            return -1;
    return 0;
}

int ms_tls_input(struct ms_tls *t, const char *buf, size_t len,
                 struct str *plain, struct str *out)
{
    char tmp[16384];
    int n = 0, done = 0;

    if (len && BIO_write(t->rbio, buf, (int)len) != (int)len)
        return -1;
    if (!t->up) {
        n = SSL_do_handshake(t->ssl);
        if (n == 1) {
            t->up = done = 1;
        } else {
            int e = SSL_get_error(t->ssl, n);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                drain(t, out);
                ERR_clear_error();
                return -1;
            }
        }
    }
    while (t->up && (n = SSL_read(t->ssl, tmp, sizeof(tmp))) > 0)
        if (str_append(plain, tmp, (size_t)n) < 0)
            return -1;
    if (t->up && n <= 0) {
        int e = SSL_get_error(t->ssl, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            drain(t, out);
            return -1;
        }
    }
    ERR_clear_error();
    return drain(t, out) < 0 ? -1 : done;
}

int ms_tls_write(struct ms_tls *t, const char *data, size_t len,
                 struct str *out)
{
    while (len > 0) {
        int n = SSL_write(t->ssl, data, len > 16384 ? 16384 : (int)len);
        if (n <= 0) {
            ERR_clear_error();
            return -1;
        }
        data += n;
        len -= (size_t)n;
        if (drain(t, out) < 0)
            return -1;
    }
    return drain(t, out);
}
