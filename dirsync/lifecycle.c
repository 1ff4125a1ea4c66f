/*
 * lifecycle - the timed steps of the directory account life cycle, and
 * the purge command.
 *
 * ds_lifecycle_run(db, cfg, now) walks the owner = 'ldap' mailboxes:
 *
 *   leaving, grace_until <= now           -> closed (state_since = now,
 *                                            state_reason 'grace period
 *                                            over', directory_log)
 *   leaving, no notice_sent_at            -> the leaving notice, then
 *                                            notice_sent_at = now
 *   leaving, grace_until - reminder_before
 *   <= now, no reminder_sent_at           -> the reminder, then
 *                                            reminder_sent_at = now
 *   ldap-owned aliases past expires_at    -> deleted
 *
 * A notice sent when the reminder time has already come (a grace period
 * shorter than reminder_before) counts as the reminder too: the person
 * gets one mail, not two at once.  Closing comes first, so nobody is told
 * "still delivered until" a day that has passed.
 *
 * Notices go to the mailbox address itself through sendmail(1)
 * ([directory] sendmail -i -f <> -- ADDRESS), so they land in the INBOX
 * through the normal delivery path.  The envelope sender is the null
 * sender (RFC 3834: an automatic message must not draw replies or
 * bounces to a person), the message carries Auto-Submitted:
 * auto-generated, Date, Message-ID and a UTF-8 text body in German and
 * English.  From: is [directory] notice_from, or postmaster@ the
 * mailbox's domain.  notice_sent_at / reminder_sent_at are set only after
 * sendmail exited 0; a failing sendmail is logged and the notice is sent
 * on a later run.  Marking is after sending: if the database fails
 * between the two, the notice goes out once more (at least once, never
 * silently lost).
 *
 * Every account changes in its own transaction (db_transaction); a
 * failure is logged and the others go on.  Each UPDATE repeats the
 * condition it acts on, so an account the sync made active again in the
 * meantime is not touched.
 *
 * ds_purge(db, cfg, address, force) removes a closed directory account:
 * its ldap-owned aliases and policy_group_members (by dir_uuid), its
 * vacation_responses, its mailbox row, and writes directory_log 'purged',
 * in one transaction; after the commit the Maildir (mail_root/maildir) is
 * renamed to archive_dir/ADDRESS-YYYYmmdd-HHMMSS (UTC) or removed
 * (purge_action).  It refuses, before changing anything: a mailbox that
 * is not owner = 'ldap' or not closed, one closed for less than
 * closed_retention (unless force), a Maildir path with an empty, "." or
 * ".." component or an absolute one (it would leave mail_root), a Maildir
 * that is a symbolic link or not a directory, and an archive_dir on
 * another filesystem (rename(2) cannot move there; copying is not done).
 * A move that still fails after the commit is reported: the rows are
 * gone, the Maildir stays where it was, and directory_log says so.
 *
 * Limits: DS_LC_BATCH accounts closed and aliases removed per run,
 * DS_LC_NOTICES_MAX notices and reminders per run, sendmail killed after
 * DS_LC_SENDMAIL_TIMEOUT_MS, a run stops sending after
 * DS_LC_SENDMAIL_FAILS_MAX failed sendmail runs (the rest wait for the
 * next run).
 *
 * Diagnostics: log_info for every state change, notice and alias removed;
 * log_warn for a failed account or sendmail; errors of ds_purge in *err.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dirsync.h"
#include "log.h"
#include "sendmail.h"
#include "lookup.h"
#include "mem.h"

#define DS_LC_BATCH 1000              /* accounts closed, aliases removed */
#define DS_LC_NOTICES_MAX 1000        /* notices + reminders per run */
#define DS_LC_SENDMAIL_TIMEOUT_MS 30000
#define DS_LC_SENDMAIL_FAILS_MAX 3    /* then the run stops sending */
#define DS_LC_TX_TRIES 3
#define DS_LC_REASON_MAX 255          /* directory_log.reason */
#define DS_UUID_MAX 36

/* ---- ds_state_log --------------------------------------------------- */

/* cut s to at most max bytes at a UTF-8 character boundary */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int ds_state_log(struct db *db, const char *uuid, const char *address,
                 const char *old_state, const char *new_state,
                 const char *reason, struct str *err)
{
    struct db_param p[5] = {
        uuid && uuid[0] ? DBP_S(uuid) : DBP_NUL,
        DBP_SN(address, utf8_cut(address, DS_ADDR_MAX)),
        old_state ? DBP_S(old_state) : DBP_NUL,
        DBP_S(new_state),
        DBP_SN(reason, utf8_cut(reason, DS_LC_REASON_MAX)),
    };
    char os[32], ns[32];

    if (db_exec(db, "INSERT INTO directory_log (dir_uuid, address, "
                "old_state, new_state, reason) VALUES (?, ?, ?, ?, ?)",
                p, 5, NULL, err) < 0)
        return LK_TEMP;
    /* log_safe_cstr has 4 rotating buffers: the states go apart */
    log_sanitize(os, sizeof(os), old_state ? old_state : "new",
                 strlen(old_state ? old_state : "new"));
    log_sanitize(ns, sizeof(ns), new_state, strlen(new_state));
    log_info("directory: %s (%s): %s -> %s: %s", log_safe_cstr(address),
             uuid && uuid[0] ? log_safe_cstr(uuid) : "-", os, ns,
             log_safe_cstr(reason));
    return 0;
}

/* ---- candidates ------------------------------------------------------ */

struct lc_account {
    char uuid[DS_UUID_MAX + 1];
    char address[DS_ADDR_MAX + 1];
    char domain[DS_ADDR_MAX + 1];
    long long grace;            /* UNIX_TIMESTAMP(grace_until) */
    int notice_sent;
    long long id;               /* aliases.id */
    char target[DS_ADDR_MAX + 1];
};

struct lc_list {
    struct lc_account *v;
    size_t n, cap;
};

static void copy_col(char *dst, size_t size, const char *v)
{
    snprintf(dst, size, "%s", v ? v : "");
}

/* list_add - a new zeroed item at the end of l */
static struct lc_account *list_add(struct lc_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

/* rows: uuid, address, domain, grace, notice_sent (mailboxes) */
static int account_row(void *ctx, unsigned ncols, char **vals,
                       const unsigned long *lens)
{
    struct lc_list *l = ctx;
    struct lc_account *a;

    (void)lens;
    if (ncols < 5)
        return 1;
    a = list_add(l);
    copy_col(a->uuid, sizeof(a->uuid), vals[0]);
    copy_col(a->address, sizeof(a->address), vals[1]);
    copy_col(a->domain, sizeof(a->domain), vals[2]);
    a->grace = vals[3] ? strtoll(vals[3], NULL, 10) : 0;
    a->notice_sent = vals[4] && strcmp(vals[4], "1") == 0;
    return 0;
}

/* rows: id, source, target, dir_uuid (aliases) */
static int alias_row(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    struct lc_list *l = ctx;
    struct lc_account *a;

    (void)lens;
    if (ncols < 4)
        return 1;
    a = list_add(l);
    a->id = vals[0] ? strtoll(vals[0], NULL, 10) : 0;
    copy_col(a->address, sizeof(a->address), vals[1]);
    copy_col(a->target, sizeof(a->target), vals[2]);
    copy_col(a->uuid, sizeof(a->uuid), vals[3]);
    return 0;
}

/* ---- closing --------------------------------------------------------- */

struct close_tx {
    const struct lc_account *a;
    long long now;
    int changed;                /* out */
};

static int close_body(struct db *db, void *p, struct str *err)
{
    struct close_tx *c = p;
    struct db_param q[3] = {DBP_I(c->now), DBP_S(c->a->uuid), DBP_I(c->now)};
    unsigned long long n = 0;

    c->changed = 0;
    if (db_exec(db, "UPDATE mailboxes SET state = 'closed', "
                "state_since = FROM_UNIXTIME(?), "
                "state_reason = 'grace period over' "
                "WHERE dir_uuid = ? AND owner = 'ldap' AND state = 'leaving' "
                "AND grace_until <= FROM_UNIXTIME(?)", q, 3, &n, err) < 0)
        return LK_TEMP;
    if (n == 0)
        return 0;               /* active again, or closed meanwhile */
    if (ds_state_log(db, c->a->uuid, c->a->address, "leaving", "closed",
                     "grace period over", err) < 0)
        return LK_TEMP;
    c->changed = 1;
    return 0;
}

static int close_due(struct db *db, long long now, int *changed,
                     struct str *err)
{
    struct lc_list l = {NULL, 0, 0};
    struct db_param q[2] = {DBP_I(now), DBP_I(DS_LC_BATCH)};

    if (db_query(db, "SELECT dir_uuid, address, domain, "
                 "UNIX_TIMESTAMP(grace_until), notice_sent_at IS NOT NULL "
                 "FROM mailboxes WHERE owner = 'ldap' AND state = 'leaving' "
                 "AND grace_until <= FROM_UNIXTIME(?) "
                 "ORDER BY grace_until LIMIT ?", q, 2, account_row, &l,
                 err) < 0) {
        free(l.v);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct close_tx c = {&l.v[i], now, 0};
        struct str e = STR_INIT;

        if (db_transaction(db, close_body, &c, DS_LC_TX_TRIES, &e) < 0)
            log_warn("directory: %s: closing failed (retried on the next "
                     "run): %s", log_safe_cstr(l.v[i].address),
                     log_safe_cstr(str_cstr(&e)));
        else
            *changed += c.changed;
        str_free(&e);
    }
    free(l.v);
    return 0;
}

/* ---- the notice ------------------------------------------------------ */

/* header-safe: printable ASCII without blanks, '<', '>' */
static int addr_header_safe(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '<' || *s == '>')
            return 0;
    return 1;
}

static void notice_text(struct str *m, const struct ds_config *cfg,
                        const struct lc_account *a, int reminder, time_t wall)
{
    static unsigned long seq;
    char de[32], en[32], date[64];
    time_t g = (time_t)a->grace;
    struct tm tm;

    localtime_r(&g, &tm);
    strftime(de, sizeof(de), "%d.%m.%Y", &tm);
    strftime(en, sizeof(en), "%Y-%m-%d", &tm);
    localtime_r(&wall, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);

    if (cfg->notice_from[0])
        str_appendf(m, "From: %s\n", cfg->notice_from);
    else
        str_appendf(m, "From: postmaster@%s\n", a->domain);
    str_appendf(m, "To: <%s>\n", a->address);
    if (reminder)
        str_appendf(m, "Subject: Erinnerung: Ihr Mailkonto wird am %s "
                    "geschlossen / Reminder: your mail account closes on "
                    "%s\n", de, en);
    else
        str_appendf(m, "Subject: Ihr Mailkonto wird geschlossen / Your mail "
                    "account will be closed\n");
    str_appendf(m, "Date: %s\n", date);
    str_appendf(m, "Message-ID: <dirsync.%s.%lld.%ld.%lu@%s>\n",
                reminder ? "reminder" : "notice", (long long)wall,
                (long)getpid(), ++seq, a->domain);
    str_appendf(m, "Auto-Submitted: auto-generated\n"
                "X-Auto-Response-Suppress: All\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\n\n");

    str_appendf(m, "(English below)\n\nGuten Tag,\n\n");
    if (reminder)
        str_appendf(m, "dies ist eine Erinnerung.\n\n");
    str_appendf(m,
        "Ihr Konto %s ist nicht mehr im Verzeichnis Ihrer\n"
        "Schule eingetragen. Mails an diese Adresse werden noch bis zum\n"
        "%s zugestellt. Danach wird das Postfach geschlossen: neue Mails\n"
        "werden abgewiesen, und Sie können von dieser Adresse keine Mails\n"
        "mehr senden.\n\n"
        "Bitte sichern Sie bis dahin, was Sie behalten möchten, und teilen\n"
        "Sie Ihren Kontakten eine neue Adresse mit.\n\n"
        "Wenn das ein Irrtum ist, wenden Sie sich bitte an die\n"
        "Administration Ihrer Schule.\n\n"
        "Dies ist eine automatische Nachricht. Bitte antworten Sie nicht\n"
        "darauf.\n\n"
        "------------------------------------------------------------\n\n"
        "Hello,\n\n", a->address, de);
    if (reminder)
        str_appendf(m, "this is a reminder.\n\n");
    str_appendf(m,
        "Your account %s is no longer in your school's\n"
        "directory. Mail to this address is still delivered until\n"
        "%s. After that the mailbox is closed: new mail is refused,\n"
        "and you can no longer send mail from this address.\n\n"
        "Please save what you want to keep before then, and give your\n"
        "contacts a new address.\n\n"
        "If this is a mistake, please ask your school's administration.\n\n"
        "This is an automatic message. Please do not reply to it.\n",
        a->address, en);
}

struct mark_tx {
    const struct lc_account *a;
    long long now, remind_at;
    int reminder;
    int changed;                /* out */
};

static int mark_body(struct db *db, void *p, struct str *err)
{
    struct mark_tx *m = p;
    unsigned long long n = 0;
    char reason[128], day[32];
    time_t g = (time_t)m->a->grace;
    struct tm tm;
    int rc;

    m->changed = 0;
    if (m->reminder) {
        struct db_param q[2] = {DBP_I(m->now), DBP_S(m->a->uuid)};

        rc = db_exec(db, "UPDATE mailboxes SET reminder_sent_at = "
                     "FROM_UNIXTIME(?) WHERE dir_uuid = ? AND owner = 'ldap' "
                     "AND state = 'leaving' AND reminder_sent_at IS NULL",
                     q, 2, &n, err);
    } else {
        struct db_param q[4] = {DBP_I(m->now), DBP_I(m->remind_at),
                                DBP_I(m->now), DBP_S(m->a->uuid)};

        rc = db_exec(db, "UPDATE mailboxes SET notice_sent_at = "
                     "FROM_UNIXTIME(?), reminder_sent_at = IF(grace_until <= "
                     "FROM_UNIXTIME(?), FROM_UNIXTIME(?), reminder_sent_at) "
                     "WHERE dir_uuid = ? AND owner = 'ldap' "
                     "AND state = 'leaving' AND notice_sent_at IS NULL",
                     q, 4, &n, err);
    }
    if (rc < 0)
        return LK_TEMP;
    if (n == 0)
        return 0;
    localtime_r(&g, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d %H:%M", &tm);
    snprintf(reason, sizeof(reason), "%s sent (mail delivered until %s)",
             m->reminder ? "reminder" : "leaving notice", day);
    if (ds_state_log(db, m->a->uuid, m->a->address, "leaving", "leaving",
                     reason, err) < 0)
        return LK_TEMP;
    m->changed = 1;
    return 0;
}

/* is the account still waiting for this mail? LK_FOUND / NOTFOUND / TEMP */
static int still_due(struct db *db, const struct lc_account *a, int reminder,
                     struct str *err)
{
    struct db_param q[1] = {DBP_S(a->uuid)};

    return db_query(db, reminder
                    ? "SELECT 1 FROM mailboxes WHERE dir_uuid = ? AND owner "
                      "= 'ldap' AND state = 'leaving' AND reminder_sent_at "
                      "IS NULL"
                    : "SELECT 1 FROM mailboxes WHERE dir_uuid = ? AND owner "
                      "= 'ldap' AND state = 'leaving' AND notice_sent_at "
                      "IS NULL",
                    q, 1, db_row_exists, NULL, err);
}

/* one notice or reminder: 1 sent and marked, 0 nothing to do, -1 failed
   (logged), -2 sendmail failed (logged) */
static int notify_one(struct db *db, const struct ds_config *cfg,
                      const struct lc_account *a, long long now,
                      long long remind_at)
{
    int reminder = a->notice_sent;
    const char *what = reminder ? "reminder" : "leaving notice";
    struct str msg = STR_INIT, e = STR_INIT;
    struct mark_tx m = {a, now, remind_at, reminder, 0};
    int rc;

    if (!addr_header_safe(a->address) || !addr_header_safe(a->domain)) {
        log_warn("directory: %s: address unfit for a mail header; no %s",
                 log_safe_cstr(a->address), what);
        return -1;
    }
    if ((rc = still_due(db, a, reminder, &e)) <= 0) {
        if (rc < 0)
            log_warn("directory: %s: %s not sent: %s",
                     log_safe_cstr(a->address), what,
                     log_safe_cstr(str_cstr(&e)));
        str_free(&e);
        return rc < 0 ? -1 : 0;
    }
    notice_text(&msg, cfg, a, reminder, time(NULL));
    rc = sendmail_send(cfg->sendmail, "", a->address, msg.data, msg.len,
                       DS_LC_SENDMAIL_TIMEOUT_MS, &e);
    str_free(&msg);
    if (rc < 0) {
        log_warn("directory: %s: %s not sent (retried on the next run): %s",
                 log_safe_cstr(a->address), what,
                 log_safe_cstr(str_cstr(&e)));
        str_free(&e);
        return -2;
    }
    if (db_transaction(db, mark_body, &m, DS_LC_TX_TRIES, &e) < 0) {
        log_warn("directory: %s: %s sent but not recorded (it is sent "
                 "again on the next run): %s", log_safe_cstr(a->address),
                 what, log_safe_cstr(str_cstr(&e)));
        str_free(&e);
        return -1;
    }
    str_free(&e);
    return m.changed;
}

static int notify_due(struct db *db, const struct ds_config *cfg,
                      long long now, int *changed, struct str *err)
{
    struct lc_list l = {NULL, 0, 0};
    long long remind_at = now + cfg->reminder_before / 1000;
    struct db_param q[3] = {DBP_I(now), DBP_I(remind_at),
                            DBP_I(DS_LC_NOTICES_MAX)};
    int fails = 0;

    if (db_query(db, "SELECT dir_uuid, address, domain, "
                 "UNIX_TIMESTAMP(grace_until), notice_sent_at IS NOT NULL "
                 "FROM mailboxes WHERE owner = 'ldap' AND state = 'leaving' "
                 "AND grace_until > FROM_UNIXTIME(?) "
                 "AND (notice_sent_at IS NULL OR (reminder_sent_at IS NULL "
                 "AND grace_until <= FROM_UNIXTIME(?))) "
                 "ORDER BY grace_until LIMIT ?", q, 3, account_row, &l,
                 err) < 0) {
        free(l.v);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        int rc = notify_one(db, cfg, &l.v[i], now, remind_at);

        if (rc > 0)
            *changed += rc;
        if (rc == -2 && ++fails >= DS_LC_SENDMAIL_FAILS_MAX) {
            log_warn("directory: %d notices failed in this run; the other "
                     "%zu wait for the next run", fails, l.n - i - 1);
            break;
        }
    }
    free(l.v);
    return 0;
}

/* ---- expired transition aliases ------------------------------------- */

static int expire_aliases(struct db *db, long long now, int *changed,
                          struct str *err)
{
    struct lc_list l = {NULL, 0, 0};
    struct db_param q[2] = {DBP_I(now), DBP_I(DS_LC_BATCH)};

    if (db_query(db, "SELECT id, source, target, IFNULL(dir_uuid, '') "
                 "FROM aliases WHERE owner = 'ldap' AND expires_at IS NOT "
                 "NULL AND expires_at <= FROM_UNIXTIME(?) ORDER BY id "
                 "LIMIT ?", q, 2, alias_row, &l, err) < 0) {
        free(l.v);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct db_param d[2] = {DBP_I(l.v[i].id), DBP_I(now)};
        unsigned long long n = 0;
        struct str e = STR_INIT;

        /* one statement: its own transaction */
        if (db_exec(db, "DELETE FROM aliases WHERE id = ? AND owner = "
                    "'ldap' AND expires_at <= FROM_UNIXTIME(?)", d, 2, &n,
                    &e) < 0)
            log_warn("directory: alias %s -> %s: removal failed (retried "
                     "on the next run): %s", log_safe_cstr(l.v[i].address),
                     log_safe_cstr(l.v[i].target),
                     log_safe_cstr(str_cstr(&e)));
        else if (n > 0) {
            log_info("directory: alias %s -> %s (%s) removed: transition "
                     "period over", log_safe_cstr(l.v[i].address),
                     log_safe_cstr(l.v[i].target),
                     l.v[i].uuid[0] ? log_safe_cstr(l.v[i].uuid) : "-");
            (*changed)++;
        }
        str_free(&e);
    }
    free(l.v);
    return 0;
}

int ds_lifecycle_run(struct db *db, const struct ds_config *cfg, time_t now,
                     struct str *err)
{
    int changed = 0;

    if (close_due(db, (long long)now, &changed, err) < 0 ||
        notify_due(db, cfg, (long long)now, &changed, err) < 0 ||
        expire_aliases(db, (long long)now, &changed, err) < 0)
        return -1;
    return changed;
}

/* ---- purge ----------------------------------------------------------- */

/* a relative path of plain components: no "", ".", ".." component, not
   absolute, so mail_root/path stays below mail_root */
static int rel_path_ok(const char *p)
{
    if (*p == '\0' || *p == '/')
        return 0;
    while (*p) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);

        if (n == 0 || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n;
        if (*p == '/')
            p++;
    }
    return 1;
}

struct purge_tx {
    const struct ds_config *cfg;
    const char *address;
    int force;
    long long now;
    /* out */
    char uuid[DS_UUID_MAX + 1];
    char addr[DS_ADDR_MAX + 1];
    char src[4096];             /* the Maildir; "" = none on disk */
    char dst[4096];             /* archive path; "" = remove */
    char maildir[512];
    char owner[16], state[16];
    long long since;
    int found;
};

static int purge_row(void *ctx, unsigned ncols, char **vals,
                     const unsigned long *lens)
{
    struct purge_tx *t = ctx;

    (void)lens;
    if (ncols < 6)
        return 1;
    copy_col(t->owner, sizeof(t->owner), vals[0]);
    copy_col(t->state, sizeof(t->state), vals[1]);
    copy_col(t->uuid, sizeof(t->uuid), vals[2]);
    copy_col(t->addr, sizeof(t->addr), vals[3]);
    copy_col(t->maildir, sizeof(t->maildir), vals[4]);
    t->since = vals[5] ? strtoll(vals[5], NULL, 10) : 0;
    t->found = 1;
    return 1;
}

/* where the Maildir is and goes; 0, or -1 with *err (nothing changed) */
static int purge_paths(struct purge_tx *t, struct str *err)
{
    const struct ds_config *cfg = t->cfg;
    size_t n = strlen(t->maildir);
    struct stat st, ad;
    char stamp[32];
    time_t wall = time(NULL);
    struct tm tm;

    while (n > 0 && t->maildir[n - 1] == '/')
        t->maildir[--n] = '\0';
    if (cfg->mail_root[0] != '/' ||
        (cfg->purge_action == DS_PURGE_ARCHIVE && cfg->archive_dir[0] != '/'))
        return str_appendf(err, "mail_root and archive_dir must be absolute "
                           "paths"), -1;
    if (!rel_path_ok(t->maildir))
        return str_appendf(err, "refused: the Maildir path '%s' would leave "
                           "mail_root", t->maildir), -1;
    if (strchr(t->addr, '/') || t->addr[0] == '.' || t->addr[0] == '\0')
        return str_appendf(err, "refused: address '%s' is unfit for a file "
                           "name", t->addr), -1;
    if (snprintf(t->src, sizeof(t->src), "%s/%s", cfg->mail_root,
                 t->maildir) >= (int)sizeof(t->src))
        return str_appendf(err, "Maildir path too long"), -1;
    t->dst[0] = '\0';
    if (lstat(t->src, &st) < 0) {
        if (errno != ENOENT)
            return str_appendf(err, "%s: %s", t->src, strerror(errno)), -1;
        t->src[0] = '\0';       /* never got mail: nothing on disk */
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return str_appendf(err, "refused: %s is %s, not a directory",
                           t->src, S_ISLNK(st.st_mode) ? "a symbolic link"
                                                       : "something else"),
               -1;
    if (cfg->purge_action != DS_PURGE_ARCHIVE)
        return 0;
    if (stat(cfg->archive_dir, &ad) < 0)
        return str_appendf(err, "archive_dir %s: %s", cfg->archive_dir,
                           strerror(errno)), -1;
    if (!S_ISDIR(ad.st_mode))
        return str_appendf(err, "archive_dir %s: not a directory",
                           cfg->archive_dir), -1;
    if (ad.st_dev != st.st_dev)
        return str_appendf(err, "refused: archive_dir %s is on another "
                           "filesystem than %s; rename(2) cannot move the "
                           "Maildir there (no copy is made): set archive_dir "
                           "on the same filesystem", cfg->archive_dir,
                           t->src), -1;
    gmtime_r(&wall, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
    if (snprintf(t->dst, sizeof(t->dst), "%s/%s-%s", cfg->archive_dir,
                 t->addr, stamp) >= (int)sizeof(t->dst))
        return str_appendf(err, "archive path too long"), -1;
    return 0;
}

static int purge_body(struct db *db, void *p, struct str *err)
{
    struct purge_tx *t = p;
    struct db_param a[1] = {DBP_S(t->address)};
    struct db_param u[1];
    struct db_param r[1];
    struct str reason = STR_INIT;
    int rc;

    t->found = 0;
    rc = db_query(db, "SELECT owner, state, IFNULL(dir_uuid, ''), address, "
                  "maildir, IFNULL(UNIX_TIMESTAMP(state_since), 0) "
                  "FROM mailboxes WHERE address = ? FOR UPDATE", a, 1,
                  purge_row, t, err);
    if (rc < 0)
        return LK_TEMP;
    if (!t->found)
        return str_appendf(err, "no mailbox %s", t->address), -1;
    if (strcmp(t->owner, "ldap") != 0)
        return str_appendf(err, "refused: %s is owned by '%s'; only "
                           "directory accounts are purged", t->addr,
                           t->owner), -1;
    if (strcmp(t->state, "closed") != 0)
        return str_appendf(err, "refused: %s is %s; only closed accounts "
                           "are purged", t->addr, t->state), -1;
    if (!t->force && t->since == 0)
        return str_appendf(err, "refused: %s has no state_since, so its "
                           "closed_retention cannot be told (--force purges "
                           "it)", t->addr), -1;
    if (!t->force && t->now - t->since < t->cfg->closed_retention / 1000)
        return str_appendf(err, "refused: %s was closed %lld s ago; "
                           "closed_retention is %lld s (--force purges "
                           "earlier)", t->addr, t->now - t->since,
                           t->cfg->closed_retention / 1000), -1;
    if (purge_paths(t, err) < 0)
        return -1;
    u[0] = DBP_S(t->uuid);
    r[0] = DBP_S(t->addr);
    if (db_exec(db, "DELETE FROM aliases WHERE owner = 'ldap' AND dir_uuid "
                "= ?", u, 1, NULL, err) < 0 ||
        db_exec(db, "DELETE FROM policy_group_members WHERE owner = 'ldap' "
                "AND dir_uuid = ?", u, 1, NULL, err) < 0 ||
        db_exec(db, "DELETE FROM vacation_responses WHERE recipient = ?", r,
                1, NULL, err) < 0 ||
        db_exec(db, "DELETE FROM mailboxes WHERE dir_uuid = ? AND owner = "
                "'ldap' AND state = 'closed'", u, 1, NULL, err) < 0)
        return LK_TEMP;
    str_appendf(&reason, "purge command%s; Maildir %s%s",
                t->force ? " (forced before closed_retention)" : "",
                t->src[0] == '\0' ? "none on disk"
                : t->dst[0] ? "archived to " : "removed",
                t->src[0] && t->dst[0] ? t->dst : "");
    rc = ds_state_log(db, t->uuid, t->addr, "closed", "purged",
                      str_cstr(&reason), err);
    str_free(&reason);
    return rc < 0 ? LK_TEMP : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* the Maildir after the commit: 0, or -1 with *err */
static int purge_move(const struct purge_tx *t, struct str *err)
{
    if (t->src[0] == '\0')
        return 0;
    if (t->dst[0]) {
        if (renameat2(AT_FDCWD, t->src, AT_FDCWD, t->dst,
                      RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EINVAL || errno == ENOSYS) {
            struct stat st;

            if (lstat(t->dst, &st) == 0)
                errno = EEXIST;
            else if (rename(t->src, t->dst) == 0)
                return 0;
        }
        return str_appendf(err, "moving %s to %s: %s", t->src, t->dst,
                           strerror(errno)), -1;
    }
    if (nftw(t->src, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return str_appendf(err, "removing %s: %s (partly removed)", t->src,
                           strerror(errno)), -1;
    return 0;
}

int ds_purge(struct db *db, const struct ds_config *cfg, const char *address,
             int force, struct str *err)
{
    struct purge_tx *t;
    struct str e = STR_INIT, reason = STR_INIT;

    if (strlen(address) > DS_ADDR_MAX || !addr_header_safe(address))
        return str_appendf(err, "not an address: %s",
                           log_safe_cstr(address)), -1;
    t = xcalloc(1, sizeof(*t));
    t->cfg = cfg;
    t->address = address;
    t->force = force;
    t->now = (long long)time(NULL);
    if (db_transaction(db, purge_body, t, DS_LC_TX_TRIES, err) < 0) {
        free(t);
        return -1;
    }
    if (purge_move(t, &e) == 0) {
        if (t->src[0])
            log_info("directory: %s: Maildir %s%s", log_safe_cstr(t->addr),
                     t->dst[0] ? "archived to " : "removed: ",
                     log_safe_cstr(t->dst[0] ? t->dst : t->src));
        free(t);
        return 0;
    }
    str_appendf(err, "%s: the rows are removed, but the Maildir was not: "
                "%s; it is still at %s", t->addr, str_cstr(&e), t->src);
    str_appendf(&reason, "Maildir not %s: %s", t->dst[0] ? "archived"
                : "removed", str_cstr(&e));
    str_reset(&e);
    (void)ds_state_log(db, t->uuid, t->addr, "purged", "purged",
                       str_cstr(&reason), &e);
    log_warn("directory: %s", log_safe_cstr(str_cstr(err)));
    str_free(&reason);
    str_free(&e);
    free(t);
    return -1;
}
