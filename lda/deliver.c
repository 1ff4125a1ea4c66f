/*
 * deliver - one delivery of a spooled message to one mailbox, and the
 * recipient resolution before it.  Used by pipe mode (main.c) and LMTP
 * (lmtp.c) alike.
 *
 * Order of checks: spool error (temporary) -> over max_message_size
 * (5.3.4) -> loop: our Delivered-To already in the header (5.4.6) ->
 * folder name (an unusable name falls back to INBOX, logged) -> Sieve
 * (sieve_bridge.c, when the mailbox or [lda] has a script; each store
 * comes back here) -> quota (5.2.2 bounce or 4.2.2 defer, [lda]
 * quota_full) -> Maildir write.
 *
 * After a store, and after a refusal for a full mailbox, the usage row
 * in SQL is written and a quota warning delivered when a threshold was
 * crossed (quota_warn.c); neither changes the outcome.
 *
 * Headers added on top: "Return-Path: <sender>" and "Delivered-To:
 * mailbox-address".  A message without a header section gets an empty
 * line after them so its first line stays in the body.
 *
 * Diagnostics: one log line per outcome ("to=<..> ... status=..."), the
 * text for the reply in res->text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lda.h"
#include "mailbox_meta.h"

void lda_ctx_init(struct lda_ctx *ctx, const struct lda_config *cfg,
                  struct db *db)
{
    char host[256];

    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = cfg;
    ctx->db = db;
    if (cfg->hostname[0])
        snprintf(host, sizeof(host), "%s", cfg->hostname);
    else if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    maildir_hostname(host, ctx->hostname, sizeof(ctx->hostname));
    ctx->md.hostname = ctx->hostname;
    ctx->md.fsync = cfg->fsync;
}

void lda_resolve(struct lda_ctx *ctx, const char *recipient,
                 struct lda_mailbox *mb, struct lda_result *res)
{
    struct str err = STR_INIT;
    const char *e;
    struct addr a;
    int rc;

    if (addr_parse(recipient, strlen(recipient),
                   ctx->cfg->recipient_delimiter,
                   ADDR_LOWER_LOCAL | ADDR_NEED_DOMAIN, &a, &e) < 0) {
        lda_result_set(res, LDA_NOUSER, "<%s>: bad recipient address: %s",
                       log_safe_cstr(recipient), e);
        return;
    }
    if (ctx->cfg->lookup == LDA_LOOKUP_MAPS) {
        rc = lda_maps_lookup(ctx->cfg, &a, mb, &err);
    } else if (ctx->db == NULL) {
        lda_result_set(res, LDA_TEMP, "<%s>: database not available",
                       a.full);
        return;
    } else {
        rc = lda_lookup(ctx->db, ctx->cfg, &a, mb, &err);
    }
    if (rc == LK_FOUND)
        lda_result_set(res, LDA_OK, "<%s>: mailbox %s", a.full, mb->address);
    else if (rc == LK_NOTFOUND)
        lda_result_set(res, LDA_NOUSER, "<%s>: no such mailbox", a.full);
    else {
        log_warn("to=<%s>: mailbox lookup: %s", a.full, str_cstr(&err));
        lda_result_set(res, LDA_TEMP,
                       "<%s>: mailbox lookup failed, try again later",
                       a.full);
    }
    str_free(&err);
}

/* prefix - the headers we add, with the sender made safe for a header. */
static void build_prefix(struct str *p, const char *sender,
                         const char *mailbox, int has_fields)
{
    str_append_cstr(p, "Return-Path: <");
    for (const char *c = sender; *c && p->len < 1024; c++)
        str_append_char(p, (unsigned char)*c < 0x20 || *c == 0x7f ||
                                   *c == '<' || *c == '>' ? '?' : *c);
    str_appendf(p, ">\nDelivered-To: %s\n", mailbox);
    if (!has_fields)
        str_append_char(p, '\n');
}

static void deliver_checked(struct lda_ctx *ctx,
                            const struct lda_envelope *env,
                            const struct lda_mailbox *mb, struct lda_msg *m,
                            struct lda_result *res, const char *folder,
                            const char *flags, const char *root)
{
    const struct lda_config *cfg = ctx->cfg;
    struct str prefix = STR_INIT, err = STR_INIT;
    unsigned long long size;
    enum quota_check q;

    build_prefix(&prefix, env->sender, mb->address, lda_header_has_fields(m));
    size = prefix.len + m->size;
    q = quota_check(root, mb->quota, size, &err);
    if (q < 0) { /* QUOTA_TEMP */
        log_warn("to=<%s>: quota: %s", mb->address, str_cstr(&err));
        lda_result_set(res, LDA_TEMP, "<%s>: quota check failed",
                       mb->address);
    } else if (q == QUOTA_OVER) {
        lda_result_set(res, cfg->quota_full == LDA_QFULL_DEFER
                                ? LDA_QUOTA_DEFER : LDA_QUOTA_BOUNCE,
                       "<%s>: mailbox is full", mb->address);
        lda_usage_update(ctx, mb, root); /* so the RCPT check learns it */
    } else if (maildir_deliver_flags(&ctx->md, cfg->mail_root, mb->maildir,
                                     folder, flags, &prefix, m, &size,
                                     &err) < 0) {
        log_error("to=<%s>: %s", mb->address, str_cstr(&err));
        lda_result_set(res, LDA_TEMP, "<%s>: cannot write the mailbox: %s",
                       mb->address, strerror(errno));
    } else {
        str_reset(&err);
        if (mb->quota && quota_add(root, (long long)size, 1, &err) < 0)
            log_warn("to=<%s>: maildirsize: %s", mb->address,
                     str_cstr(&err));
        lda_result_set(res, LDA_OK, "<%s>: delivered to %s", mb->address,
                       *folder ? folder : "INBOX");
        lda_usage_update(ctx, mb, root); /* never changes the outcome */
    }
    str_free(&prefix);
    str_free(&err);
}

void lda_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                 const struct lda_mailbox *mb, struct lda_msg *m,
                 struct lda_result *res)
{
    struct str folder = STR_INIT, root = STR_INIT;
    const char *e = NULL;

    if (m->io_error)
        lda_result_set(res, LDA_TEMP, "<%s>: spooling the message: %s",
                       mb->address, strerror(m->io_error));
    else if (m->too_big)
        lda_result_set(res, LDA_TOOBIG,
                       "<%s>: message larger than %llu bytes", mb->address,
                       m->max_size);
    else if (lda_header_has_value(m, "Delivered-To", mb->address))
        lda_result_set(res, LDA_LOOP,
                       "<%s>: mail loop: already delivered to this mailbox",
                       mb->address);
    else {
        if (env->folder && folder_to_maildir(env->folder, &folder, &e) < 0) {
            log_warn("to=<%s>: folder '%s': %s; delivering to INBOX",
                     mb->address, log_safe_cstr(env->folder), e);
            str_truncate(&folder, 0);
        }
        str_appendf(&root, "%s/%s", ctx->cfg->mail_root, mb->maildir);
        while (root.len > 1 && root.data[root.len - 1] == '/')
            str_truncate(&root, root.len - 1);
        if (lda_sieve_deliver(ctx, env, mb, m, str_cstr(&root),
                              deliver_checked, res) == 0) {
            /* a folder this delivery creates is subscribed (mailbox_meta.c) */
            int fresh = mbmeta_missing(str_cstr(&root), str_cstr(&folder));
            deliver_checked(ctx, env, mb, m, res, str_cstr(&folder), NULL,
                            str_cstr(&root));
            if (fresh)
                mbmeta_subscribe_new(ctx->cfg, str_cstr(&root),
                                     str_cstr(&folder), mb->address);
        }
    }
    lda_count(res->status);
    log_info("%s%sfrom=<%s> to=<%s> size=%llu status=%s %s",
             env->queue_id ? log_safe_cstr(env->queue_id) : "",
             env->queue_id ? ": " : "", log_safe_cstr(env->sender),
             mb->address, m->size, lda_status_info(res->status).dsn,
             res->text);
    str_free(&folder);
    str_free(&root);
}
