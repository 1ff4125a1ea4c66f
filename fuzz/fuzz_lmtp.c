/*
 * fuzz_lmtp - postern-lda's LMTP server (lda/lmtp.c): the input is what a
 * client sends on one connection (commands, DATA with dot-stuffing, bare
 * LF or CRLF, pipelining), handed to lda_lmtp_ops.input in chunks as the
 * server loop would (unconsumed bytes are offered again with the next
 * read).  The chunk sizes come from the first byte.
 *
 * Link seams (no refactor of lmtp.c): this file defines the lib/server.h
 * connection calls lmtp.c makes (conn_write, conn_close_after_write,
 * conn_peer, conn_id, conn_resume; server_fork and server_set_accepting
 * of the worker pool, never started here) and deliver.c's lda_ctx_init,
 * lda_resolve and lda_deliver, so lib/server.o and lda/deliver.o are not
 * linked: RCPT accepts *@example.org (temp@ answers 451, others 550) and
 * a delivery checks the spooled message instead of writing a Maildir.
 * Checks: every reply line starts with three digits and a space or dash;
 * input() never consumes more than it was given; the spooled message
 * holds no NUL and every byte counted; the session frees everything at
 * close (LeakSanitizer).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "lda.h"
#include "log.h"
#include "server.h"

struct conn {
    struct str out;
    int closing;
};

int conn_write(struct conn *c, const void *data, size_t len)
{
    const char *p = data, *e = p + len;

    /* every line of a reply: "NNN " or "NNN-" */
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (e - p < 4 || !isdigit((unsigned char)p[0]) ||
            !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
            (p[3] != ' ' && p[3] != '-'))
            abort();
        p = nl ? nl + 1 : e;
    }
    str_append(&c->out, data, len);
    return 0;
}

void conn_close_after_write(struct conn *c)
{
    c->closing = 1;
}

void conn_resume(struct conn *c)
{
    (void)c;
}

const char *conn_peer(const struct conn *c)
{
    (void)c;
    return "fuzz";
}

unsigned long conn_id(const struct conn *c)
{
    (void)c;
    return 1;
}

pid_t server_fork(struct server *s)
{
    (void)s;
    abort(); /* lda_lmtp_start is not called: no worker processes */
}

void server_set_accepting(struct server *s, int on)
{
    (void)s;
    (void)on;
}

void lda_ctx_init(struct lda_ctx *ctx, const struct lda_config *cfg,
                  struct db *db)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = cfg;
    ctx->db = db;
    snprintf(ctx->hostname, sizeof(ctx->hostname), "fuzz.example");
}

void lda_resolve(struct lda_ctx *ctx, const char *recipient,
                 struct lda_mailbox *mb, struct lda_result *res)
{
    struct addr a;
    const char *err;

    memset(mb, 0, sizeof(*mb));
    if (addr_parse(recipient, strlen(recipient),
                   ctx->cfg->recipient_delimiter,
                   ADDR_NEED_DOMAIN | ADDR_LOWER_LOCAL, &a, &err) < 0)
        return lda_result_set(res, LDA_USAGE, "bad address: %s", err);
    if (strcmp(a.domain, "example.org") != 0)
        return lda_result_set(res, LDA_NOUSER, "no such user");
    if (!strcmp(a.local, "temp"))
        return lda_result_set(res, LDA_TEMP, "database down");
    snprintf(mb->address, sizeof(mb->address), "%s", a.full);
    snprintf(mb->maildir, sizeof(mb->maildir), "vol1/%s", a.local);
    lda_result_set(res, LDA_OK, "ok");
}

void lda_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                 const struct lda_mailbox *mb, struct lda_msg *m,
                 struct lda_result *res)
{
    (void)ctx;
    (void)mb;
    if (env->sender == NULL || env->recipient == NULL)
        abort();
    if (m->too_big)
        return lda_result_set(res, LDA_TOOBIG, "too big");
    if (m->fd < 0 && (m->memlen != m->size ||
                      (m->memlen && memchr(m->mem, '\0', m->memlen))))
        abort();
    (void)lda_header_has_value(m, "Delivered-To", env->recipient);
    lda_result_set(res, LDA_OK, "delivered");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_open("fuzz_lmtp", LOG_TO_STDERR, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lda_config cfg;
    struct fuzz_in in = {(const char *)data, size};
    unsigned seed = fuzz_byte(&in);
    struct conn c = {STR_INIT, 0};
    struct str buf = STR_INIT, err = STR_INIT;
    void *app, *sess;

    memset(&cfg, 0, sizeof(cfg));
    cfg.max_message_size = seed & 1 ? 200 : 10 * 1024 * 1024;
    cfg.spool_memory = 1 << 20;
    cfg.temp_dir = "/tmp";
    cfg.lmtp_max_recipients = 5;
    cfg.lmtp_max_processes = 1;
    cfg.recipient_delimiter = "+";
    cfg.lmtp_extension_folder = (seed & 2) != 0;
    cfg.lookup = LDA_LOOKUP_MAPS;
    cfg.hostname = "fuzz.example";
    if ((app = lda_lmtp_init(&cfg, NULL, &err)) == NULL)
        abort();
    sess = lda_lmtp_ops.open(&c, app);
    while (in.left > 0 && !c.closing) {
        size_t n = 1 + ((seed = seed * 1103515245u + 12345u) >> 16) % 512;
        ssize_t used;
        if (n > in.left)
            n = in.left;
        str_append(&buf, in.p, n);
        in.p += n;
        in.left -= n;
        while (buf.len > 0 && !c.closing &&
               (used = lda_lmtp_ops.input(&c, sess, buf.data, buf.len)) != 0) {
            if (used < 0)
                goto out;
            if ((size_t)used > buf.len)
                abort(); /* consumed more than it was given */
            str_consume(&buf, (size_t)used);
        }
    }
out:
    lda_lmtp_ops.close(&c, sess);
    lda_lmtp_fini(app);
    str_free(&buf);
    str_free(&err);
    str_free(&c.out);
    return 0;
}
