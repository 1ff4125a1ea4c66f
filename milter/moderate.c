/*
 * moderate - postern-milter's side of moderated groups (docs/milter.md
 * "Moderated groups", sql/migrations/0014_moderation.sql).
 *
 * Holding: a group_send_rules row with group_moderators rows turns a
 * refusal into RIGHTS_HOLD (rights.c).  At end of message callbacks.c
 * expands the groups as for any message, puts the message into Postfix's
 * hold queue (smfi_quarantine) and calls moderate_hold, which records it
 * in moderation_queue (this host: [milter] moderation_host, else the
 * host name; the queue ID, the group, the sender,
 * the Subject and the first lines of the body, sanitized and cut).  No
 * row, no hold: a database error is a temporary failure (451), so the
 * sender retries and nothing is held that nobody knows about.  Approval
 * releases the held copy (postsuper -H, `postern moderate`): it was
 * expanded when it was held, so it goes to the members of that moment.
 *
 * Replies: `postern moderate` mails the moderators a one-time address
 * LOCAL+TOKEN@DOMAIN ([milter] moderation_address LOCAL@DOMAIN), TOKEN
 * 32 hex digits (128 bits from getrandom) of which SQL keeps only the
 * SHA-256.  moderate_token_of recognizes such a recipient (before the
 * +extension is stripped); moderate_known refuses an unknown or used
 * token at RCPT (550 5.1.1); moderate_reply, at end of message, checks
 * that the reply comes from a moderator of the message's rule (the SASL
 * login's LDAP addresses, or the login when it is an address LDAP does
 * not know; else the envelope sender: spoofable, the token is
 * what proves the mail reached a moderator) and records the decision
 * found in the Subject ("approve"/"yes"/"ok" or "reject"/"no", after any
 * "Re:"), once: the token is cleared in the same UPDATE.  A reply from
 * someone else, or without a decision word, changes nothing and is
 * logged.  The reply itself is discarded.  The host that holds the
 * message carries the decision out (`postern moderate run`).
 *
 * Moderators (group_moderators.moderator): an address; an LDAP group's
 * address (its members, nested groups included); the name of a policy
 * group (membership as rights.c asks it: addresses, domains, LDAP groups,
 * nested policy groups, over the snapshot of groups.c).
 *
 * Limits: MODERATE_SUBJECT_MAX, MODERATE_EXCERPT_MAX bytes kept;
 * MODERATE_MODERATORS_MAX moderators per rule read.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "milter.h"

#define MODERATE_MODERATORS_MAX 256

int moderate_token_hash(const char *token, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";

    if (EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL) != 1 ||
        n != 32)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}

int moderate_token_of(const struct milter_config *cfg, const char *addr,
                      char token[MODERATE_TOKEN_LEN + 1])
{
    const char *at = strrchr(cfg->moderation_address, '@');
    const char *aat = strrchr(addr, '@');
    size_t local = at ? (size_t)(at - cfg->moderation_address) : 0;
    size_t i;

    if (!at || !aat || strcasecmp(at, aat) != 0 ||
        strncasecmp(addr, cfg->moderation_address, local) != 0 ||
        addr[local] != '+' || (size_t)(aat - addr) != local + 1 +
                                                       MODERATE_TOKEN_LEN)
        return 0;
    for (i = 0; i < MODERATE_TOKEN_LEN; i++) {
        char ch = (char)tolower((unsigned char)addr[local + 1 + i]);
        if (!isxdigit((unsigned char)ch))
            return 0;
        token[i] = ch;
    }
    token[i] = '\0';
    return 1;
}

/* sanitize - printable ASCII and UTF-8 bytes kept, control characters
   (line breaks of an excerpt excepted) made spaces, cut at max bytes */
static void sanitize(struct str *out, const char *s, size_t len, size_t max,
                     int lines)
{
    for (size_t i = 0; i < len && out->len < max; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' && lines)
            str_append(out, "\n", 1);
        else if (ch == '\r' && lines)
            continue;
        else if (ch < 0x20 || ch == 0x7f)
            str_append(out, " ", 1);
        else
            str_append(out, (const char *)&ch, 1);
    }
}

void moderate_note_subject(struct str *subject, const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    str_truncate(subject, 0);
    sanitize(subject, value, strlen(value), MODERATE_SUBJECT_MAX, 0);
}

void moderate_note_body(struct str *excerpt, const unsigned char *buf,
                        size_t len)
{
    if (excerpt->len < MODERATE_EXCERPT_MAX)
        sanitize(excerpt, (const char *)buf, len, MODERATE_EXCERPT_MAX, 1);
}

int moderate_host(const struct milter_config *cfg, char *buf, size_t size)
{
    if (size == 0)
        return -1;
    memset(buf, 0, size);
    if (cfg->moderation_host && cfg->moderation_host[0])
        snprintf(buf, size, "%s", cfg->moderation_host);
    else if (gethostname(buf, size - 1) < 0)
        return -1;
    return buf[0] ? 0 : -1;
}

int moderate_hold(const struct milter_config *cfg, struct mres *r,
                  const struct moderate_msg *msg, struct str *err)
{
    static const char sql[] =
        "INSERT INTO moderation_queue (host, queue_id, rule_id,"
        " group_address, sender, login, subject, excerpt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    char host[256] = "";
    struct db_param p[] = {
        DBP_S(host), DBP_S(msg->queue_id),
        msg->rule_id ? DBP_I(msg->rule_id) : DBP_NUL, DBP_S(msg->group),
        DBP_S(msg->sender), msg->login ? DBP_S(msg->login) : DBP_NUL,
        DBP_S(msg->subject), DBP_S(msg->excerpt)};

    if (moderate_host(cfg, host, sizeof(host)) < 0) {
        str_append_cstr(err, "no host name: set [milter] moderation_host");
        return LK_TEMP;
    }
    p[0] = DBP_S(host);
    return db_exec(r->db, sql, p, 8, NULL, err) < 0 ? LK_TEMP : 0;
}

struct qrow {
    long long id;
    long long rule_id;
    char queue_id[40];
};

static int qrow_fn(void *ctx, unsigned ncols, char **vals,
                   const unsigned long *lens)
{
    struct qrow *q = ctx;

    (void)lens;
    if (ncols < 3 || !vals[0] || !vals[2])
        return 1;
    q->id = atoll(vals[0]);
    q->rule_id = vals[1] ? atoll(vals[1]) : 0;
    snprintf(q->queue_id, sizeof(q->queue_id), "%s", vals[2]);
    return 1;
}

/* find - the waiting row of a token: LK_FOUND, LK_NOTFOUND, LK_TEMP */
static int find(struct mres *r, const char *token, struct qrow *q,
                struct str *err)
{
    static const char sql[] =
        "SELECT id, rule_id, queue_id FROM moderation_queue"
        " WHERE token_hash = ? AND decision IS NULL";
    char hash[65];
    struct db_param p[1];

    if (moderate_token_hash(token, hash) < 0) {
        str_append_cstr(err, "SHA-256 failed");
        return LK_TEMP;
    }
    p[0] = DBP_S(hash);
    return db_query(r->db, sql, p, 1, qrow_fn, q, err);
}

int moderate_known(struct mres *r, const char *token, struct str *err)
{
    struct qrow q = {0, 0, ""};

    return find(r, token, &q, err);
}

static int moderator_row(void *ctx, unsigned ncols, char **vals,
                         const unsigned long *lens)
{
    struct strvec *v = ctx;

    (void)lens;
    if (ncols >= 1 && vals[0] && v->n < MODERATE_MODERATORS_MAX)
        strvec_add(v, vals[0]);
    return 0;
}

static int id_row(void *ctx, unsigned ncols, char **vals,
                  const unsigned long *lens)
{
    (void)lens;
    if (ncols >= 1 && vals[0])
        *(unsigned long *)ctx = strtoul(vals[0], NULL, 10);
    return 1;
}

/* policy_group_has - is one of who in the policy group NAME?  LK_* */
static int policy_group_has(struct mctx *m, struct mres *r, const char *name,
                            const struct strvec *who, struct str *err)
{
    struct db_param p[] = {DBP_S(name)};
    unsigned long id = 0;
    int rc = db_query(r->db, "SELECT id FROM policy_groups WHERE name = ?",
                      p, 1, id_row, &id, err);

    if (rc != LK_FOUND)
        return rc < 0 ? LK_TEMP : LK_NOTFOUND;
    return milter_pgroups_has(m, r, id, who, err);
}

/* is_moderator - is one of who a moderator of rule (an address of the
   list, or a member of a listed LDAP group)?  LK_* */
static int is_moderator(struct mctx *m, struct mres *r, long long rule,
                        const struct strvec *who, struct str *err)
{
    static const char sql[] =
        "SELECT moderator FROM group_moderators WHERE rule_id = ?";
    struct db_param p[] = {DBP_I(rule)};
    struct strvec mods = STRVEC_INIT;
    int rc = db_query(r->db, sql, p, 1, moderator_row, &mods, err);
    int first_neg = 0;

    if (rc < 0) {
        strvec_free(&mods);
        return LK_TEMP;
    }
    rc = LK_NOTFOUND;
    for (size_t i = 0; i < mods.n && rc != LK_FOUND; i++) {
        struct ldapgroup_info info = {NULL, STRVEC_INIT};
        int g;
        if (strvec_has(who, mods.v[i])) {
            rc = LK_FOUND;
            break;
        }
        if (!strchr(mods.v[i], '@')) { /* a policy group (snapshot) */
            g = policy_group_has(m, r, mods.v[i], who, err);
            if (g == LK_FOUND)
                rc = LK_FOUND;
            else if (g < 0 && first_neg == 0)
                first_neg = g;
            continue;
        }
        if (!milter_ldap_on(m->cfg))
            continue;
        g = milter_group_lookup(m, r, mods.v[i], &info, err);
        if (g == LK_FOUND)
            g = milter_group_has(m, r, info.dn, who, err);
        ldapgroup_info_free(&info);
        if (g == LK_FOUND)
            rc = LK_FOUND;
        else if (g < 0 && first_neg == 0)
            first_neg = g;
    }
    strvec_free(&mods);
    return rc == LK_FOUND ? rc : first_neg ? first_neg : rc;
}

/* decision_of - "approve"/"reject" from a Subject, or NULL */
static const char *decision_of(const char *subject)
{
    static const char *const yes[] = {"approve", "approved", "yes", "ok",
                                      NULL};
    static const char *const no[] = {"reject", "rejected", "no", NULL};
    const char *p = subject;
    char word[16];
    size_t n;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncasecmp(p, "re:", 3) || !strncasecmp(p, "aw:", 3))
            p += 3;
        else
            break;
    }
    for (n = 0; n < sizeof(word) - 1 && isalpha((unsigned char)p[n]); n++)
        word[n] = (char)tolower((unsigned char)p[n]);
    word[n] = '\0';
    for (size_t i = 0; yes[i]; i++)
        if (!strcmp(word, yes[i]))
            return "approve";
    for (size_t i = 0; no[i]; i++)
        if (!strcmp(word, no[i]))
            return "reject";
    return NULL;
}

int moderate_reply(struct mctx *m, struct mres *r, const char *token,
                   const struct strvec *who, const char *subject,
                   struct str *what, struct str *err)
{
    static const char sql[] =
        "UPDATE moderation_queue SET decision = ?, decided_by = ?,"
        " decided_at = NOW(), token_hash = NULL"
        " WHERE id = ? AND decision IS NULL";
    struct qrow q = {0, 0, ""};
    const char *d = decision_of(subject);
    unsigned long long n = 0;
    int rc = find(r, token, &q, err);

    if (rc != LK_FOUND) {
        str_append_cstr(what, rc < 0 ? "cannot read the moderation queue"
                                     : "unknown or used token");
        return rc < 0 ? LK_TEMP : LK_NOTFOUND;
    }
    str_appendf(what, "moderation #%lld (%s): ", q.id, q.queue_id);
    if (who->n == 0 || q.rule_id == 0) {
        str_append_cstr(what, "no identity or no rule: ignored");
        return LK_NOTFOUND;
    }
    rc = is_moderator(m, r, q.rule_id, who, err);
    if (rc != LK_FOUND) {
        str_append_cstr(what, rc < 0 ? "cannot check the moderators"
                                     : "not a moderator: ignored");
        return rc < 0 ? LK_TEMP : LK_NOTFOUND;
    }
    if (d == NULL) {
        str_append_cstr(what, "no approve/reject in the Subject: ignored");
        return LK_NOTFOUND;
    }
    {
        struct db_param p[] = {DBP_S(d), DBP_S(who->v[0]), DBP_I(q.id)};
        if (db_exec(r->db, sql, p, 3, &n, err) < 0)
            return LK_TEMP;
    }
    str_appendf(what, "%s by %s%s", d, who->v[0],
                n ? "" : " (decided meanwhile: ignored)");
    return n ? LK_FOUND : LK_NOTFOUND;
}
