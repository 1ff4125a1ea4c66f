/*
 * sieve_bridge - Sieve in postern-lda: which scripts run, and carrying out the
 * action list they produce.
 *
 * Scripts, in this order, sharing one result: [lda] sieve_before (a file,
 * "" = none), the script generated from the mailbox's settings rows
 * (vacation, forward, spam: sieve_settings.c; unreadable = deferred),
 * the mailbox's active script <mailbox>/.postern.sieve (a
 * symlink to sieve/NAME.sieve as ManageSieve writes it, or a file;
 * missing = none; the layout is lib-sieve/storage.h), [lda] sieve_after.
 * "stop" in sieve_before or the user's script skips to sieve_after;
 * sieve_after always runs.  include :personal finds scripts in
 * <mailbox>/sieve, include :global in [lda] sieve_global_dir.
 *
 * A script that does not compile is skipped (logged; for the user's
 * script the errors are also written to <mailbox>/.postern.sieve.log, as
 * is a run-time error of the user's script, e.g. a budget spent; both
 * are also delivered to the user's INBOX once per script version:
 * sieve_report.c, [lda] sieve_report_errors).
 * A run-time error in any script drops every action and keeps the
 * message in the default folder: mail is never lost.
 *
 * Actions:
 *   keep        store in the -m folder or INBOX
 *   fileinto    store in the folder (created on demand, modified UTF-7);
 *               an unusable name stores in INBOX (logged)
 *   imap4flags  \Seen \Answered \Flagged \Deleted \Draft become Maildir
 *               info letters, keywords the letters a..z of the folder's
 *               dovecot-keywords (mailbox_meta.c), stored as the message
 *               is written: it goes straight to cur/NAME:2,LETTERS
 *               (maildir_deliver_flags), never through new/, as Dovecot
 *               does
 *   special-use, mailboxid  fileinto :specialuse / :mailboxid store into
 *               the folder with that flag / id when there is one
 *               (mailbox_meta.c); a folder created on delivery is added
 *               to the mailbox's subscriptions
 *   redirect    piped to [lda] sendmail_path -i -f SENDER -- ADDRESS, with
 *               a Delivered-To of this mailbox on top; not done when it
 *               would loop (a Delivered-To or X-Loop naming the target,
 *               or this mailbox redirected the same Message-ID there
 *               before: sieve_state.c); a failed or skipped redirect
 *               stores in the default folder instead
 *   forwarding rate limits  redirects count against the mailbox's
 *               forwarder rules before any action is carried out; over a
 *               limit the whole delivery is deferred (sieve_state.c)
 *   vacation, notify  after a successful delivery only (sieve_state.c)
 *   sending     redirect, notify and vacation share one bound
 *               (sieve_lda_send_claim): [lda] sieve_send_max_per_message
 *               mails per delivery, sieve_send_max_per_period per mailbox
 *               and sieve_send_period (table sieve_sends), all within
 *               sieve_send_timeout (a sendmail still running then is
 *               killed); a redirect over a bound keeps the message, a
 *               notification or reply over it is not sent (logged once
 *               per delivery with the count)
 *   duplicate   the tracked ids are stored after a successful delivery
 *   reject, ereject  outcome LDA_REJECTED (77, 550 5.7.1 reason)
 *   discard     nothing is stored: delivered (2.0.0 "discarded by sieve")
 *
 * Several stores report the worst outcome; a temporary failure after an
 * earlier store may give a duplicate on retry, never a loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sieve_bridge.h"
#include "mailbox_meta.h"
#include "clock.h"
#include "file.h"
#include "log.h"
#include "mem.h"
#include "child.h"
#include "sendmail.h"
#include "storage.h"
#include "sieve_report.h"
#include "sieve_lists.h"
#include "sieve_settings.h"
#include "sieve_mime.h"

static int msg_load(void *ctx, struct str *out)
{
    struct lda_msg *m = ctx;
    unsigned long long want = m->size < SIEVE_BODY_MAX ? m->size
                                                         : SIEVE_BODY_MAX;
    char buf[65536];
    off_t off = 0;

    str_reset(out);
    if (str_reserve(out, (size_t)want) < 0) /* one copy, no doubling */
        return -1;
    if (m->fd < 0)
        return str_append(out, m->mem ? m->mem : "", (size_t)want);
    while ((unsigned long long)off < want) {
        size_t n = sizeof(buf);
        ssize_t r;
        if (want - (unsigned long long)off < n)
            n = (size_t)(want - (unsigned long long)off);
        r = pread(m->fd, buf, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (str_append(out, buf, (size_t)r) < 0)
            return -1;
        off += r;
    }
    return 0;
}

void sieve_lda_message(struct sieve_message *sm, struct lda_msg *m,
                       const char *sender, const char *recipient)
{
    memset(sm, 0, sizeof(*sm));
    sm->header = m->header.data ? m->header.data : "";
    sm->header_len = m->header.len;
    sm->size = m->size;
    sm->load = msg_load;
    sm->ctx = m;
    sm->env_from = sender ? sender : "";
    sm->env_to = recipient;
}

void sieve_maildir_flags(const char *const *flags, char *out, size_t size)
{
    static const struct { const char *flag; char letter; } map[] = {
        {"\\Draft", 'D'}, {"\\Flagged", 'F'}, {"\\Answered", 'R'},
        {"\\Seen", 'S'}, {"\\Deleted", 'T'}};
    size_t k = 0;

    for (size_t i = 0; i < 5 && k + 1 < size; i++)
        for (size_t f = 0; flags && flags[f]; f++)
            if (strcasecmp(flags[f], map[i].flag) == 0) {
                out[k++] = map[i].letter;
                break;
            }
    out[k] = '\0';
}

struct exists_ctx {
    const char *root;
};

static int mailbox_exists(void *ctx, const char *folder)
{
    const struct exists_ctx *c = ctx;
    struct str dir = STR_INIT, path = STR_INIT;
    const char *e;
    struct stat st;
    int rc;

    if (folder_to_maildir(folder, &dir, &e) < 0) {
        str_free(&dir);
        return 0;
    }
    if (dir.len == 0) {
        str_free(&dir);
        return 1;
    }
    str_appendf(&path, "%s/%s", c->root, str_cstr(&dir));
    rc = stat(str_cstr(&path), &st) == 0 && S_ISDIR(st.st_mode);
    str_free(&dir);
    str_free(&path);
    return rc;
}

/* writer_child - in the second child: prefix + m into fd, then exit
   (0 written, 1 not); a broken pipe ends it */
static void writer_child(int fd, const struct str *prefix, struct lda_msg *m)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &dfl, NULL);
    if (file_write_all(fd, prefix->data ? prefix->data : "", prefix->len) < 0 ||
        (m && lda_msg_write_to(m, fd) < 0))
        _exit(1);
    _exit(0);
}

/* spawn sendmail_path -i -f FROM -- TO (its own process group) and a
   writer child feeding it prefix + m, so that a sendmail that hangs is
   killed at the deadline instead of holding the delivery (and, in LMTP
   mode, every other connection); 0 or -1 with *err */
int sieve_lda_sendmail(struct lda_ctx *ctx, const char *from, const char *to,
                       const struct str *prefix, struct lda_msg *m,
                       long long deadline_ms, struct str *err)
{
    int pfd[2], status, wstatus;
    pid_t pid, wpid;

    if (deadline_ms && clock_ms() >= deadline_ms)
        return str_appendf(err, "no time left ([lda] sieve_send_timeout)"),
               -1;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return str_appendf(err, "pipe: %s", strerror(errno)), -1;
    if ((pid = fork()) < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return str_appendf(err, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        (void)setpgid(0, 0);
        sendmail_exec(ctx->cfg->sendmail_path, pfd[0], from, to);
    }
    (void)setpgid(pid, pid);
    close(pfd[0]);
    if ((wpid = fork()) < 0) {
        close(pfd[1]);
        (void)kill(pid, SIGKILL);
        (void)child_reap(pid, 0);
        return str_appendf(err, "fork: %s", strerror(errno)), -1;
    }
    if (wpid == 0) {
        (void)setpgid(0, 0);
        writer_child(pfd[1], prefix, m);
    }
    (void)setpgid(wpid, wpid);
    close(pfd[1]);
    wstatus = child_reap(wpid, deadline_ms);
    status = child_reap(pid, wstatus == -2 ? clock_ms() : deadline_ms);
    if (wstatus == -2 || status == -2) {
        if (wstatus != -2)
            (void)kill(wpid, SIGKILL);
        str_appendf(err, "%s did not finish in time ([lda] "
                    "sieve_send_timeout); killed", ctx->cfg->sendmail_path);
        return -1;
    }
    if (wstatus == -1 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        str_appendf(err, "writing to %s failed", ctx->cfg->sendmail_path);
        return -1;
    }
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        str_appendf(err, "%s exited with status %d", ctx->cfg->sendmail_path,
                    status != -1 && WIFEXITED(status) ? WEXITSTATUS(status)
                                                      : -1);
        return -1;
    }
    return 0;
}

/* redirect - pipe the message to sendmail with our Delivered-To on top */
static int redirect(struct lda_ctx *ctx, const struct lda_envelope *env,
                    const struct lda_mailbox *mb, struct lda_msg *m,
                    const char *to, long long deadline, struct str *err)
{
    struct str hdr = STR_INIT;
    int rc;

    str_appendf(&hdr, "Delivered-To: %s\n", mb->address);
    rc = sieve_lda_sendmail(ctx, env->sender, to, &hdr, m, deadline, err);
    str_free(&hdr);
    return rc;
}

static void user_log(const struct sieve_storage *st, const struct str *errors)
{
    char path[SIEVE_STORAGE_PATH_MAX];
    int fd;

    if (sieve_storage_log_path(st, path, sizeof(path)) < 0)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0)
        return;
    (void)file_write_all(fd, errors->data ? errors->data : "", errors->len);
    close(fd);
}

static void log_errors(const char *who, const struct str *errors)
{
    const char *p = str_cstr(errors);

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        log_warn("to=<%s>: sieve: %s", who, log_safe(p, n));
        p += n + (nl != NULL);
    }
}

/* run one script file into res; -1 run-time error, 0 ran, 1 stopped,
   2 skipped */
static int run_one(const char *path, const char *name,
                   const struct sieve_storage *user,
                   const struct sieve_host *host,
                   const struct sieve_message *sm, struct sieve_result *res,
                   const char *who, struct sieve_report *rep)
{
    struct str errors = STR_INIT;
    struct sieve_script *s;
    int rc;

    if (sieve_compile_file(path, name, host, &s, &errors) < 0) {
        log_errors(who, &errors);
        if (user)
            user_log(user, &errors);
        if (rep) /* told to the user once (sieve_report.c) */
            str_append(&rep->errors, errors.data, errors.len);
        str_free(&errors);
        return 2;
    }
    str_reset(&errors);
    rc = sieve_execute(s, sm, host, res);
    if (rc < 0) {
        log_warn("to=<%s>: sieve: %s; keeping the message", who,
                 log_safe(res->error.data, res->error.len));
        if (user) {     /* the user sees it too (a budget spent, ...) */
            str_appendf(&errors, "%s\n", str_cstr(&res->error));
            user_log(user, &errors);
        }
        if (rep) {
            str_append(&rep->errors, errors.data, errors.len);
            rep->runtime = 1;
        }
    }
    str_free(&errors);
    sieve_script_free(s);
    return rc;
}

struct outcome {
    struct lda_result res;
    int stored, have;
    struct str text;
};

static int severity(enum lda_status s)
{
    switch (s) {
    case LDA_OK: return 0;
    case LDA_QUOTA_BOUNCE: return 1;
    case LDA_QUOTA_DEFER: return 2;
    default: return 3;
    }
}

static void store_one(struct lda_ctx *ctx, const struct lda_envelope *env,
                      const struct lda_mailbox *mb, struct lda_msg *m,
                      const char *root, lda_store_fn *store,
                      const struct sieve_action *a, struct outcome *o)
{
    struct mbmeta_target t; /* folder, flags, keywords: mailbox_meta.c */
    struct lda_result r1;
    const char *e = NULL;

    if (mbmeta_prepare(&t, ctx->cfg, root, a, mb->address, &e) < 0)
        log_warn("to=<%s>: sieve: folder '%s': %s; delivering to INBOX",
                 mb->address, log_safe_cstr(a->arg), e);
    store(ctx, env, mb, m, &r1, str_cstr(&t.dir), t.letters, root);
    mbmeta_stored(&t, ctx->cfg, root, mb->address);
    if (r1.status == LDA_OK) {
        o->stored++;
        str_appendf(&o->text, "%s%s", o->text.len ? ", " : "",
                    t.dir.len ? a->arg : "INBOX");
    }
    if (!o->have || severity(r1.status) > severity(o->res.status)) {
        o->res = r1;
        o->have = 1;
    }
    mbmeta_target_free(&t);
}

/* redirect, unless it would loop (then the message is kept) */
static int redirect_one(const struct sieve_lda_run *run, struct lda_msg *m,
                        const char *to, struct outcome *o)
{
    const char *who = run->mb->address, *why;
    struct str err = STR_INIT;
    int rc = 0;

    if ((why = sieve_lda_redirect_loop(run, m, to)) != NULL) {
        log_warn("to=<%s>: sieve redirect to <%s> skipped: %s; keeping the "
                 "message", who, log_safe_cstr(to), why);
        return -1;
    }
    if (!sieve_lda_send_claim(run, "redirect", to))
        return -1;      /* logged; the message is kept */
    if (redirect(run->ctx, run->env, run->mb, m, to, run->sends->deadline,
                 &err) < 0) {
        log_error("to=<%s>: sieve redirect to <%s>: %s; keeping the message",
                  who, log_safe_cstr(to), str_cstr(&err));
        rc = -1;
    } else {
        log_info("to=<%s>: sieve: redirected to <%s>", who,
                 log_safe_cstr(to));
        sieve_lda_redirect_done(run, to);
        str_appendf(&o->text, "%sredirect <%s>", o->text.len ? ", " : "",
                    log_safe_cstr(to));
    }
    str_free(&err);
    return rc;
}

static void execute(const struct sieve_lda_run *run, struct lda_msg *m,
                    const char *root, lda_store_fn *store,
                    struct sieve_result *sr, struct lda_result *res)
{
    struct lda_ctx *ctx = run->ctx;
    const struct lda_envelope *env = run->env;
    const struct lda_mailbox *mb = run->mb;
    struct outcome o;
    int redirected = 0, fallback = 0;

    memset(&o, 0, sizeof(o));
    run->sends->deadline = clock_ms() + ctx->cfg->sieve_send_timeout;
    for (size_t i = 0; i < sr->n; i++) {
        static const char *const names[] = {
            "keep", "fileinto", "redirect", "reject", "ereject", "discard",
            "vacation", "notify"};
        unsigned k = (unsigned)sr->acts[i].kind;
        metrics_inc(lda_metrics.sieve,
                    METRICS_L(k < sizeof(names) / sizeof(names[0]) ? names[k]
                                                                   : "other"));
    }
    for (size_t i = 0; i < sr->n; i++) {
        const struct sieve_action *a = &sr->acts[i];
        if (a->kind == SIEVE_ACT_REJECT || a->kind == SIEVE_ACT_EREJECT) {
            char reason[256];
            log_sanitize(reason, sizeof(reason), a->arg, strlen(a->arg));
            lda_result_set(res, LDA_REJECTED, "<%s>: rejected: %s",
                           mb->address, reason);
            str_free(&o.text);
            return;
        }
    }
    if (sieve_lda_forward_limit(run, m, sr, res) < 0) {
        str_free(&o.text); /* deferred before anything was done */
        return;
    }
    for (size_t i = 0; i < sr->n; i++) {
        const struct sieve_action *a = &sr->acts[i];
        if (a->note)    /* the engine changed the action (sverr) */
            log_info("to=<%s>: sieve: %s", mb->address,
                     log_safe_cstr(a->note));
        if (a->kind == SIEVE_ACT_KEEP || a->kind == SIEVE_ACT_FILEINTO)
            store_one(ctx, env, mb, m, root, store, a, &o);
        else if (a->kind == SIEVE_ACT_REDIRECT) {
            if (redirect_one(run, m, a->arg, &o) < 0)
                fallback = 1;
            else
                redirected++;
        }
    }
    if (fallback && o.stored == 0) {
        struct sieve_action keep;
        memset(&keep, 0, sizeof(keep));
        keep.kind = SIEVE_ACT_KEEP;
        keep.arg = sr->default_folder;
        store_one(ctx, env, mb, m, root, store, &keep, &o);
    }
    if (o.have && o.res.status != LDA_OK) {
        *res = o.res;
        str_free(&o.text);
        return;
    }
    /* delivered: now the side effects that must happen once */
    sieve_lda_duplicate_commit(run, sr);
    for (size_t i = 0; i < sr->n; i++) {
        if (sr->acts[i].kind == SIEVE_ACT_VACATION)
            sieve_lda_vacation(run, sr->acts[i].vac);
        else if (sr->acts[i].kind == SIEVE_ACT_NOTIFY)
            sieve_lda_notify(run, sr->acts[i].notify);
    }
    sieve_lda_send_summary(run);
    if (o.stored || redirected)
        lda_result_set(res, LDA_OK, "<%s>: sieve: %s", mb->address,
                       str_cstr(&o.text));
    else
        lda_result_set(res, LDA_OK, "<%s>: discarded by sieve",
                       mb->address);
    str_free(&o.text);
}

/* edited_msg - a new spool: the header editheader left + the original
   body; 0 or -1 (the caller keeps the original) */
static int edited_msg(const struct lda_config *cfg, struct lda_msg *m,
                      const struct str *hdr, struct lda_msg *out)
{
    unsigned long long off = m->header.len;
    char buf[65536];

    if (m->header_truncated)
        return -1;
    lda_msg_init(out, m->max_size + LDA_HDR_KEEP_MAX,
                 (size_t)cfg->spool_memory, cfg->temp_dir);
    if (lda_msg_feed(out, hdr->data ? hdr->data : "", hdr->len) < 0)
        return -1;
    if (m->header.len == 0 && lda_msg_feed(out, "\n", 1) < 0)
        return -1;
    while (off < m->size) {
        size_t n = sizeof(buf);
        ssize_t r;
        if (m->size - off < n)
            n = (size_t)(m->size - off);
        if (m->fd < 0) {
            memcpy(buf, m->mem + off, n);
            r = (ssize_t)n;
        } else if ((r = pread(m->fd, buf, n, (off_t)off)) < 0 &&
                   errno == EINTR)
            continue;
        if (r <= 0 || lda_msg_feed(out, buf, (size_t)r) < 0)
            return -1;
        off += (unsigned long long)r;
    }
    return lda_msg_finish(out) < 0 || out->io_error ? -1 : 0;
}

static int file_exists(const char *path)
{
    struct stat st;

    return path[0] && stat(path, &st) == 0;
}

int lda_sieve_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                      const struct lda_mailbox *mb, struct lda_msg *m,
                      const char *root, lda_store_fn *store,
                      struct lda_result *res)
{
    const struct lda_config *cfg = ctx->cfg;
    char user[SIEVE_STORAGE_PATH_MAX], personal[SIEVE_STORAGE_PATH_MAX];
    struct sieve_storage st;
    struct exists_ctx ectx = {root};
    struct mbmeta_host mctx;  /* special-use, mailboxid: mailbox_meta.c */
    struct sieve_lda_run run;
    struct sieve_send_budget sends;
    struct sieve_message sm;
    struct sieve_result sr;
    struct sieve_host host;
    struct sieve_lists lists;       /* extlists (sieve_lists.c) */
    const char *at = strrchr(mb->address, '@');
    int rc = 0, has_user;
    struct str settings = STR_INIT; /* generated script (sieve_settings.c) */
    struct sieve_report rep = {STR_INIT, 0}; /* user script errors */

    if (sieve_storage_init(&st, root, 0, SIEVE_SCRIPT_MAX) < 0 ||
        sieve_storage_active_path(&st, user, sizeof(user)) < 0 ||
        sieve_storage_dir_path(&st, personal, sizeof(personal)) < 0) {
        log_warn("to=<%s>: sieve: mailbox path too long; no user script",
                 mb->address);
        user[0] = personal[0] = '\0';
    }
    has_user = file_exists(user);
    if (sieve_lda_settings(ctx, mb, &settings, res) < 0)
        return 1; /* settings unreadable: deferred, never ignored */
    if (!has_user && !cfg->sieve_before[0] && !cfg->sieve_after[0] &&
        settings.len == 0)
        return 0;
    memset(&host, 0, sizeof(host));
    host.personal_dir = personal;
    host.global_dir = cfg->sieve_global_dir;
    host.delimiters = cfg->recipient_delimiter;
    host.default_folder = env->folder ? env->folder : "INBOX";
    host.domain = at ? at + 1 : "";
    host.hostname = ctx->hostname;
    host.user_email = mb->address;  /* redirect to oneself: kept (sverr) */
    host.mailbox_exists = mailbox_exists;
    host.ctx = &ectx;
    mbmeta_host_setup(&host, &mctx, root, cfg);
    sieve_lda_message(&sm, m, env->sender, env->recipient);
    run.ctx = ctx;
    run.env = env;
    run.mb = mb;
    run.sm = &sm;
    memset(&sends, 0, sizeof(sends));
    sends.left = cfg->sieve_send_max_per_message;
    run.sends = &sends;
    host.max_memory = (size_t)cfg->sieve_max_memory;
    host.max_steps = (unsigned long long)cfg->sieve_max_steps;
    host.duplicate = sieve_lda_duplicate;
    host.dup_ctx = &run;
    host.duplicate_default = cfg->sieve_duplicate_period / 1000;
    host.duplicate_max = cfg->sieve_duplicate_max_period / 1000;
    host.spam_score_header = cfg->sieve_spam_score_header;
    host.spam_score_max = strtod(cfg->sieve_spam_score_max, NULL);
    host.spam_flag_header = cfg->sieve_spam_flag_header;
    host.virus_header = cfg->sieve_virus_header;
    sieve_lists_init(&lists, ctx, mb->address);
    sieve_lists_host(&lists, &host);
    sieve_result_init(&sr, host.default_folder);
    if (file_exists(cfg->sieve_before))
        rc = run_one(cfg->sieve_before, "sieve_before", NULL, &host, &sm,
                     &sr, mb->address, NULL);
    else if (cfg->sieve_before[0])
        log_warn("[lda] sieve_before %s: not found", cfg->sieve_before);
    if (rc >= 0 && rc != 1 && settings.len &&
        (rc = sieve_lda_settings_run(&settings, &host, &sm, &sr,
                                     mb->address, res)) == -2) {
        sieve_result_free(&sr);
        str_free(&settings);
        sieve_lists_free(&lists);
        return 1;
    }
    str_free(&settings);
    if (rc >= 0 && rc != 1 && has_user)
        rc = run_one(user, SIEVE_STORAGE_ACTIVE, &st, &host, &sm, &sr,
                     mb->address, &rep);
    if (rc >= 0 && file_exists(cfg->sieve_after))
        run_one(cfg->sieve_after, "sieve_after", NULL, &host, &sm, &sr,
                mb->address, NULL);
    sieve_lists_free(&lists);
    sieve_result_finish(&sr);
    if (sr.new_message && !sr.failed) { /* replace/enclose (sieve_mime.c) */
        struct lda_msg *em = xcalloc(1, sizeof(*em));
        em->fd = -1;
        if (sieve_mime_message(cfg, m, sr.new_message, em) == 0) {
            execute(&run, em, root, store, &sr, res);
        } else {
            log_warn("to=<%s>: sieve replace/enclose: cannot spool the new "
                     "message; storing it unchanged", mb->address);
            execute(&run, m, root, store, &sr, res);
        }
        lda_msg_free(em);
        free(em);
    } else if (sr.new_header && !sr.failed) {
        struct lda_msg *em = xcalloc(1, sizeof(*em));
        em->fd = -1; /* lda_msg_free closes fd; edited_msg may fail first */
        if (edited_msg(cfg, m, sr.new_header, em) == 0) {
            execute(&run, em, root, store, &sr, res);
        } else {
            log_warn("to=<%s>: sieve editheader: cannot rewrite the "
                     "message; storing it unchanged", mb->address);
            execute(&run, m, root, store, &sr, res);
        }
        lda_msg_free(em);
        free(em);
    } else
        execute(&run, m, root, store, &sr, res);
    sieve_result_free(&sr);
    if (rep.errors.len) /* the user is told, once per script version */
        sieve_report_deliver(ctx, env, mb, root, store, user, personal, &rep);
    str_free(&rep.errors);
    return 1;
}
