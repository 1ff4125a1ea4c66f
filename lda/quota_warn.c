/*
 * quota_warn - the mailbox's usage in SQL (mailbox_usage,
 * sql/migrations/0010_quota_usage.sql) and the quota warnings.
 *
 * After every store into a mailbox with a quota, and after a refusal for
 * a full mailbox, postern-lda writes the absolute figures of the
 * Maildir++ state (quota.c quota_usage: maildirsize, self-correcting, not
 * an increment) with the limit in force, source 'lda'.  A mailbox without
 * a quota (0) is not counted on delivery; with lookup = sql an existing
 * row of it gets quota_bytes = 0, so the RCPT check stops refusing it
 * (with lookup = maps no connection is opened for it: postern quota
 * recount corrects such a row).
 *
 * Warnings ([lda] quota_warning, default 80%,95%): quota_warning_step
 * decides from the usage and the state kept in the row (warned_percent,
 * warned_at); the new state is written with a compare-and-set UPDATE, and
 * only the process whose UPDATE changed the row delivers the warning, so
 * two deliveries at once send one.  The warning is written straight into
 * the INBOX Maildir (never through SMTP, so a full mailbox cannot refuse
 * it), about 1 KB, counted in maildirsize.  It is sent at most once per
 * crossing (the state is written first): a warning that cannot be written
 * is logged and not retried until the reminder.
 *
 * The database: [database] of postern-lda.  With lookup = sql the LDA's
 * own connection; with lookup = maps one opened on the first delivery to
 * a mailbox with a quota, for this only (the password file must be
 * readable by [lda] user); [lda] quota_usage = no keeps postern-lda off
 * the database altogether.
 *
 * Diagnostics: nothing here fails a delivery.  A database that cannot be
 * reached is logged once ("mailbox usage not written: ...") until it
 * answers again; a warning that cannot be written is logged as a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lda.h"
#include "log.h"
#include "mem.h"

/* --- the decision --------------------------------------------------------- */

int quota_warning_parse(const char *spec, unsigned *pct, size_t max,
                        struct str *err)
{
    const char *cur = spec;
    char item[16];
    size_t n = 0;
    int r;

    while ((r = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        char *end;
        unsigned long v = strtoul(item, &end, 10);
        if (end == item || (*end && strcmp(end, "%")) || v < 1 || v > 100)
            return str_appendf(err, "'%s': a percentage 1..100 (80%%)",
                               item), -1;
        if (n > 0 && v <= pct[n - 1])
            return str_appendf(err, "thresholds must ascend (80%%,95%%)"),
                   -1;
        if (n == max)
            return str_appendf(err, "at most %zu thresholds", max), -1;
        pct[n++] = (unsigned)v;
    }
    if (r < 0)
        return str_appendf(err, "an item is too long"), -1;
    return (int)n;
}

int quota_warning_step(unsigned long long usage, unsigned long long limit,
                       const unsigned *pct, size_t n,
                       struct quota_warn_state cur, long long now,
                       long long reminder, struct quota_warn_state *next)
{
    int reached = -1;

    for (size_t i = 0; limit > 0 && i < n; i++)
        if ((unsigned __int128)usage * 100 >=
            (unsigned __int128)limit * pct[i])
            reached = (int)pct[i];
    if (reached < 0) { /* below every threshold (or unlimited): reset */
        *next = (struct quota_warn_state){-1, -1};
        return 0;
    }
    if (cur.percent < reached) { /* a crossing upward */
        *next = (struct quota_warn_state){reached, now};
        return reached;
    }
    if (cur.percent > reached) { /* dropped below the one warned about */
        *next = (struct quota_warn_state){reached, cur.at};
        return 0;
    }
    if (reminder > 0 && (cur.at < 0 || now - cur.at >= reminder)) {
        *next = (struct quota_warn_state){reached, now};
        return reached;
    }
    *next = cur;
    return 0;
}

/* --- the message ---------------------------------------------------------- */

/* human - bytes as "8.2 MB" (powers of 1024, as [lda] sizes are);
   decimal comma for German */
static void human(char *buf, size_t size, unsigned long long b, int comma)
{
    static const char *const unit[] = {"KB", "MB", "GB", "TB", "PB"};
    double v = (double)b / 1024;
    size_t u = 0;
    char *dot;

    while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0]))
        v /= 1024, u++;
    snprintf(buf, size, "%.1f %s", v, unit[u]);
    if (comma && (dot = strchr(buf, '.')) != NULL)
        *dot = ',';
}

void quota_warning_text(struct str *out, int lang, const char *from,
                        const char *address, unsigned long long usage,
                        unsigned long long count, unsigned long long limit,
                        const char *hostname, long long now)
{
    char used[32], max[32], date[64];
    time_t t = (time_t)now;
    struct tm tm;
    unsigned long long pct =
        limit ? (unsigned long long)((unsigned __int128)usage * 100 / limit)
              : 0;
    int de = lang == LDA_WARN_DE;

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    human(used, sizeof(used), usage, de);
    human(max, sizeof(max), limit, de);
    str_appendf(out, "From: %s\nTo: <%s>\nDate: %s\n", from, address, date);
    str_appendf(out, "Message-ID: <%lld.%ld.quota-%llu@%s>\n", now,
                (long)getpid(), pct, hostname);
    if (de)
        str_appendf(out, "Subject: Ihr Postfach ist zu %llu %% voll\n", pct);
    else
        str_appendf(out, "Subject: Your mailbox is %llu%% full\n", pct);
    str_appendf(out, "Auto-Submitted: auto-generated\nPrecedence: bulk\n"
                     "MIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=utf-8\n"
                     "Content-Transfer-Encoding: 8bit\n\n");
    if (de)
        str_appendf(out,
            "Ihr Postfach %s ist zu %llu %% voll: %s von %s belegt "
            "(%llu Nachrichten).\n\n"
            "Wenn das Postfach voll ist, wird neue E-Mail an Sie "
            "abgewiesen.\nBitte l\xc3\xb6schen Sie Nachrichten, die Sie "
            "nicht mehr brauchen, vor allem\nsolche mit gro\xc3\x9f" "en "
            "Anh\xc3\xa4ngen, und leeren Sie den Papierkorb.\n\n"
            "Diese Nachricht wurde automatisch erzeugt.\n",
            address, pct, used, max, count);
    else
        str_appendf(out,
            "Your mailbox %s is %llu%% full: %s of %s used "
            "(%llu messages).\n\n"
            "When it is full, new mail to you will be refused.\n"
            "Please delete messages you no longer need, above all those "
            "with large\nattachments, and empty the Trash folder.\n\n"
            "This message was generated automatically.\n",
            address, pct, used, max, count);
}

/* --- the database ----------------------------------------------------------- */

static int db_down_logged; /* "log once" until the database answers */

static void db_failed(const char *address, const struct str *err)
{
    if (!db_down_logged)
        log_warn("to=<%s>: mailbox usage not written: %s (said once until "
                 "the database answers again)", address, str_cstr(err));
    db_down_logged = 1;
}

static void db_answered(void)
{
    if (db_down_logged)
        log_info("mailbox usage: the database answers again");
    db_down_logged = 0;
}

/* usage_db - the LDA's connection, or (lookup = maps) one of our own,
   opened on first use */
static struct db *usage_db(struct lda_ctx *ctx, const char *address)
{
    static struct db *own;
    static const struct lda_config *own_cfg;
    struct str err = STR_INIT;

    if (ctx->db != NULL)
        return ctx->db;
    if (own != NULL && own_cfg != ctx->cfg) { /* reloaded */
        db_close(own);
        own = NULL;
    }
    if (own == NULL) {
        db_global_init();
        if ((own = db_open(&ctx->cfg->db, &err)) == NULL)
            db_failed(address, &err);
        own_cfg = ctx->cfg;
    }
    str_free(&err);
    return own;
}

int lda_usage_write(struct db *db, const char *address,
                    unsigned long long bytes, unsigned long long count,
                    unsigned long long quota, const char *source,
                    struct str *err)
{
    struct db_param p[5] = {DBP_S(address), DBP_I(bytes), DBP_I(count),
                            DBP_I(quota), DBP_S(source)};

    return db_exec(db,
                   "INSERT INTO mailbox_usage (address, bytes, messages, "
                   "quota_bytes, source) VALUES (?, ?, ?, ?, ?) "
                   "ON DUPLICATE KEY UPDATE bytes = VALUES(bytes), "
                   "messages = VALUES(messages), "
                   "quota_bytes = VALUES(quota_bytes), "
                   "source = VALUES(source), "
                   "updated_at = CURRENT_TIMESTAMP(6)",
                   p, 5, NULL, err) < 0 ? LK_TEMP : 0;
}

static int state_row(void *ctx, unsigned ncols, char **v,
                     const unsigned long *lens)
{
    struct quota_warn_state *s = ctx;

    (void)lens;
    if (ncols == 2) {
        s->percent = v[0] ? atoi(v[0]) : -1;
        s->at = v[1] ? strtoll(v[1], NULL, 10) : -1;
    }
    return 1;
}

/* state_swap - cur -> next if the row still holds cur: 1 changed by us,
   0 changed by another delivery meanwhile, LK_TEMP */
static int state_swap(struct db *db, const char *address,
                      struct quota_warn_state cur,
                      struct quota_warn_state next, struct str *err)
{
    unsigned long long n = 0;
    struct db_param p[5] = {
        next.percent < 0 ? DBP_NUL : DBP_I(next.percent),
        next.at < 0 ? DBP_NUL : DBP_I(next.at), DBP_S(address),
        cur.percent < 0 ? DBP_NUL : DBP_I(cur.percent), DBP_I(cur.at)};

    if (db_exec(db,
                "UPDATE mailbox_usage SET warned_percent = ?, "
                "warned_at = FROM_UNIXTIME(?), updated_at = updated_at "
                "WHERE address = ? AND warned_percent <=> ? "
                "AND IFNULL(UNIX_TIMESTAMP(warned_at), -1) = ?",
                p, 5, &n, err) < 0)
        return LK_TEMP;
    return n > 0;
}

/* --- after a delivery ------------------------------------------------------- */

/* warn_deliver - write the warning into the INBOX; 0 or -1 (logged) */
static int warn_deliver(struct lda_ctx *ctx, const struct lda_mailbox *mb,
                        const char *root, unsigned long long bytes,
                        unsigned long long count, int pct, long long now)
{
    const struct lda_config *cfg = ctx->cfg;
    struct str text = STR_INIT, prefix = STR_INIT, from = STR_INIT,
               err = STR_INIT;
    struct lda_msg *m = xmalloc(sizeof(*m));
    const char *at = strrchr(mb->address, '@');
    unsigned long long size = 0;
    int rc = 0;

    if (cfg->quota_warning_from[0])
        str_append_cstr(&from, cfg->quota_warning_from);
    else
        str_appendf(&from, "postmaster@%s", at ? at + 1 : ctx->hostname);
    quota_warning_text(&text, cfg->quota_warning_language, str_cstr(&from),
                       mb->address, bytes, count, mb->quota, ctx->hostname,
                       now);
    str_appendf(&prefix, "Return-Path: <>\nDelivered-To: %s\n", mb->address);
    lda_msg_init(m, 1024 * 1024, 64 * 1024, cfg->temp_dir);
    if (lda_msg_feed(m, text.data, text.len) < 0 || lda_msg_finish(m) < 0 ||
        maildir_deliver(&ctx->md, cfg->mail_root, mb->maildir, "", &prefix,
                        m, &size, &err) < 0) {
        log_warn("to=<%s>: quota warning (%d%%) not delivered: %s",
                 mb->address, pct, err.len ? str_cstr(&err) : "spool error");
        rc = -1;
    } else {
        str_reset(&err);
        if (quota_add(root, (long long)size, 1, &err) < 0)
            log_warn("to=<%s>: maildirsize: %s", mb->address, str_cstr(&err));
        log_info("to=<%s>: quota warning delivered: %d%% threshold, %llu of "
                 "%llu bytes used", mb->address, pct, bytes, mb->quota);
    }
    lda_msg_free(m);
    free(m);
    str_free(&text);
    str_free(&prefix);
    str_free(&from);
    str_free(&err);
    return rc;
}

/* warnings - decide, swap the state, deliver; the usage row exists */
static void warnings(struct lda_ctx *ctx, struct db *db,
                     const struct lda_mailbox *mb, const char *root,
                     unsigned long long bytes, unsigned long long count)
{
    const struct lda_config *cfg = ctx->cfg;
    struct quota_warn_state cur = {-1, -1}, next;
    struct db_param p[1] = {DBP_S(mb->address)};
    struct str err = STR_INIT;
    unsigned pct[QUOTA_WARN_MAX];
    long long now = (long long)time(NULL);
    int n, warn, rc;

    n = quota_warning_parse(cfg->quota_warning, pct, QUOTA_WARN_MAX, &err);
    if (n <= 0)
        goto out; /* none configured (lda_check refused a bad list) */
    if (db_query(db, "SELECT warned_percent, "
                     "IFNULL(UNIX_TIMESTAMP(warned_at), -1) "
                     "FROM mailbox_usage WHERE address = ?",
                 p, 1, state_row, &cur, &err) < 0) {
        db_failed(mb->address, &err);
        goto out;
    }
    warn = quota_warning_step(bytes, mb->quota, pct, (size_t)n, cur, now,
                              cfg->quota_warning_reminder / 1000, &next);
    if (next.percent == cur.percent && next.at == cur.at)
        goto out;
    if ((rc = state_swap(db, mb->address, cur, next, &err)) < 0) {
        db_failed(mb->address, &err);
        goto out;
    }
    if (rc == 1 && warn > 0 &&
        warn_deliver(ctx, mb, root, bytes, count, warn, now) == 0) {
        str_reset(&err);
        if (quota_usage(root, mb->quota, &bytes, &count, &err) == 0 &&
            lda_usage_write(db, mb->address, bytes, count, mb->quota, "lda",
                            &err) < 0)
            db_failed(mb->address, &err);
    }
out:
    str_free(&err);
}

void lda_usage_update(struct lda_ctx *ctx, const struct lda_mailbox *mb,
                      const char *root)
{
    struct str err = STR_INIT;
    unsigned long long bytes, count;
    struct db *db;

    if (!ctx->cfg->quota_usage || (mb->quota == 0 && ctx->db == NULL))
        return; /* lookup = maps: no connection for an unlimited mailbox */
    if ((db = usage_db(ctx, mb->address)) == NULL)
        return;
    if (mb->quota == 0) { /* unlimited: not counted; a stale limit goes */
        struct db_param p[1] = {DBP_S(mb->address)};
        if (db_exec(db, "UPDATE mailbox_usage SET quota_bytes = 0, "
                        "source = 'lda' WHERE address = ? "
                        "AND (quota_bytes IS NULL OR quota_bytes <> 0)",
                    p, 1, NULL, &err) < 0)
            db_failed(mb->address, &err);
        else
            db_answered();
    } else if (quota_usage(root, mb->quota, &bytes, &count, &err) < 0) {
        log_warn("to=<%s>: mailbox usage: %s", mb->address, str_cstr(&err));
    } else if (lda_usage_write(db, mb->address, bytes, count, mb->quota,
                               "lda", &err) < 0) {
        db_failed(mb->address, &err);
    } else {
        db_answered();
        warnings(ctx, db, mb, root, bytes, count);
    }
    str_free(&err);
}
