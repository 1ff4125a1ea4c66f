/*
 * sieve_report - when the user's Sieve script does not compile, or stops
 * with a run-time error (error "...", a limit, an action conflict), the
 * user is told: a short message in their INBOX with the error lines.
 *
 * Once per script version: the version is the SHA-256 over the active
 * script and the personal scripts it may include (sieve_report_version);
 * after a report is stored it is written to <mailbox>/.postern.sieve.reported
 * (one line, 64 hex digits; a temporary file renamed into place).  The
 * same broken version is not reported again, however many messages
 * arrive; a changed script that is still broken is reported again.  A
 * version that compiled and then fails at run time counts as reported
 * once for either kind.
 *
 * The report goes through the delivery's own checked store (deliver.c:
 * Return-Path <>, Delivered-To, the quota, the crash-safe Maildir write),
 * never through sendmail, so it cannot loop or be bounced.  The message
 * that triggered it is delivered as postern-lda does anyway (kept in the
 * default folder).  [lda] sieve_report_errors = no turns reports off.
 *
 * Not reported: a run-time error that is the server's, not the script's
 * (a list or duplicate lookup that failed temporarily: the database is
 * away; sieve_report_server_fault); it is logged as before.
 *
 * Limits: error lines up to SIEVE_REPORT_ERRORS_MAX bytes (cut with a
 * note); at most SIEVE_REPORT_SCRIPTS_MAX personal scripts are hashed.
 * Two deliveries at the same moment may both report (no lock): a
 * duplicate report, never a lost message.
 *
 * Diagnostics (log): "to=<A>: sieve: errors of the user's script
 * reported to the user (version V)" (info), "... not reported: ..."
 * (warning) when the report could not be stored or the state written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "file.h"
#include "log.h"
#include "mem.h"
#include "sieve.h"
#include "sieve_report.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* hash_file - name, NUL, the file's text, NUL into md; 0 or -1 */
static int hash_file(EVP_MD_CTX *md, const char *path, const char *name)
{
    struct str text = STR_INIT, err = STR_INIT;
    int rc = file_read("script", path, SIEVE_SCRIPT_MAX, 0, &text, &err);

    if (rc == 0)
        rc = EVP_DigestUpdate(md, name, strlen(name) + 1) &&
                     EVP_DigestUpdate(md, text.data ? text.data : "",
                                      text.len) &&
                     EVP_DigestUpdate(md, "", 1)
                 ? 0
                 : -1;
    str_free(&text);
    str_free(&err);
    return rc;
}


/* hash_personal - every personal_dir/NAME.sieve, by name */
static void hash_personal(EVP_MD_CTX *md, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[SIEVE_REPORT_SCRIPTS_MAX];
    size_t n = 0;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL && n < SIEVE_REPORT_SCRIPTS_MAX) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len > 6 &&
            strcmp(e->d_name + len - 6, ".sieve") == 0)
            names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct str path = STR_INIT;
        str_appendf(&path, "%s/%s", dir, names[i]);
        (void)hash_file(md, str_cstr(&path), names[i]);
        str_free(&path);
        free(names[i]);
    }
}

int sieve_report_version(const char *active, const char *personal_dir,
                         char out[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int rc = -1;

    if (md == NULL)
        log_fatal("out of memory");
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
        hash_file(md, active, "") == 0) {
        if (personal_dir && personal_dir[0])
            hash_personal(md, personal_dir);
        if (EVP_DigestFinal_ex(md, dig, &len) && len == 32) {
            for (unsigned i = 0; i < len; i++)
                snprintf(out + 2 * i, 3, "%02x", dig[i]);
            rc = 0;
        }
    }
    EVP_MD_CTX_free(md);
    return rc;
}

void sieve_report_text(struct str *out, const char *address,
                       const char *hostname, const struct sieve_report *r,
                       const char *version, long long now)
{
    const char *at = strrchr(address, '@');
    const char *domain = at ? at + 1 : hostname;
    const char *p = str_cstr(&r->errors);
    size_t shown = 0;
    time_t t = (time_t)now;
    struct tm tm;
    char date[64];

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    str_appendf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
                "To: <%s>\nDate: %s\n"
                "Subject: Your mail filter has errors\n"
                "Message-ID: <sieve-report.%.16s.%lld@%s>\n"
                "Auto-Submitted: auto-generated\n"
                "Precedence: bulk\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n",
                domain, address, date, version, now, hostname);
    str_appendf(out, "Your mail filter (your Sieve script) %s.\n\n",
                r->runtime ? "stopped with an error while it filtered a "
                             "message"
                           : "has errors and cannot be used");
    str_append_cstr(out,
        "Until it is fixed, new messages are delivered to your INBOX without\n"
        "filtering (an automatic reply or forward in the script is not done).\n"
        "The errors:\n\n");
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (shown + n > SIEVE_REPORT_ERRORS_MAX) {
            str_append_cstr(out, "  (more errors not shown)\n");
            break;
        }
        str_append_cstr(out, "  ");
        for (size_t i = 0; i < n; i++) /* no control characters */
            str_append_char(out, (unsigned char)p[i] < 0x20 ? ' ' : p[i]);
        str_append_char(out, '\n');
        shown += n;
        p += n + (nl != NULL);
    }
    str_append_cstr(out,
        "\nYou can correct the script in your mail program's filter settings\n"
        "(ManageSieve).  This notice is sent once for each version of the\n"
        "script.\n");
}

/* reported - 1 if version is the one in the state file */
static int reported(const char *state, const char *version)
{
    struct str text = STR_INIT, err = STR_INIT;
    int rc = 0;

    if (file_read("state", state, 256, 0, &text, &err) == 0)
        rc = text.len >= 64 && memcmp(text.data, version, 64) == 0;
    str_free(&text);
    str_free(&err);
    return rc;
}

/* remember - the version into the state file (temporary file, rename) */
static int remember(const char *state, const char *version, struct str *err)
{
    struct str tmp = STR_INIT, line = STR_INIT;
    int fd, rc = -1;

    str_appendf(&tmp, "%s.%ld.tmp", state, (long)getpid());
    str_appendf(&line, "%s\n", version);
    fd = open(str_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
                                  O_NOFOLLOW, 0600);
    if (fd < 0) {
        str_appendf(err, "%s: %s", str_cstr(&tmp), strerror(errno));
    } else {
        if (file_write_all(fd, line.data, line.len) < 0 || close(fd) < 0)
            str_appendf(err, "%s: %s", str_cstr(&tmp), strerror(errno));
        else if (rename(str_cstr(&tmp), state) < 0)
            str_appendf(err, "%s: %s", state, strerror(errno));
        else
            rc = 0;
        if (rc < 0)
            (void)unlink(str_cstr(&tmp));
    }
    str_free(&tmp);
    str_free(&line);
    return rc;
}

int sieve_report_server_fault(const char *errors)
{
    /* the engine's wording when a host lookup answered LK_TEMP
       (ext_extlists.c, ext_duplicate.c) */
    return strstr(errors, "temporary failure") != NULL ||
           strstr(errors, "state database failed") != NULL;
}

void sieve_report_deliver(struct lda_ctx *ctx, const struct lda_envelope *env,
                          const struct lda_mailbox *mb, const char *root,
                          lda_store_fn *store, const char *active,
                          const char *personal_dir,
                          const struct sieve_report *r)
{
    const struct lda_config *cfg = ctx->cfg;
    struct str state = STR_INIT, text = STR_INIT, err = STR_INIT;
    struct lda_envelope renv;
    struct lda_result res;
    struct lda_msg *m;
    char version[65];

    if (!cfg->sieve_report_errors || r->errors.len == 0 ||
        (r->runtime && sieve_report_server_fault(str_cstr(&r->errors))))
        return;
    if (sieve_report_version(active, personal_dir, version) < 0)
        return; /* the script vanished meanwhile: nothing to report */
    str_appendf(&state, "%s/%s", root, SIEVE_REPORT_STATE);
    if (reported(str_cstr(&state), version)) {
        str_free(&state);
        return;
    }
    sieve_report_text(&text, mb->address, ctx->hostname, r, version,
                      (long long)time(NULL));
    m = xmalloc(sizeof(*m));
    lda_msg_init(m, 1024 * 1024, 64 * 1024, cfg->temp_dir);
    memset(&renv, 0, sizeof(renv));
    renv.sender = "";
    renv.recipient = env->recipient;
    renv.queue_id = env->queue_id;
    memset(&res, 0, sizeof(res));
    if (lda_msg_feed(m, text.data, text.len) < 0 || lda_msg_finish(m) < 0) {
        log_warn("to=<%s>: sieve: errors of the user's script not reported "
                 "to the user: spool error", mb->address);
    } else {
        store(ctx, &renv, mb, m, &res, "", NULL, root);
        if (res.status != LDA_OK)
            log_warn("to=<%s>: sieve: errors of the user's script not "
                     "reported to the user: %s", mb->address, res.text);
        else if (remember(str_cstr(&state), version, &err) < 0)
            log_warn("to=<%s>: sieve: report state: %s", mb->address,
                     str_cstr(&err));
        else
            log_info("to=<%s>: sieve: %s errors of the user's script "
                     "reported to the user (version %.12s)", mb->address,
                     r->runtime ? "run-time" : "compile", version);
    }
    lda_msg_free(m);
    free(m);
    str_free(&state);
    str_free(&text);
    str_free(&err);
}
