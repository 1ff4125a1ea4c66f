/*
 * proto - the ManageSieve protocol of postern-managesieve (RFC 5804):
 * configuration ([managesieve], [database], [ldap]), connections, and the
 * commands CAPABILITY, STARTTLS, AUTHENTICATE (PLAIN), LOGOUT, NOOP,
 * LISTSCRIPTS, GETSCRIPT, PUTSCRIPT, CHECKSCRIPT, SETACTIVE, DELETESCRIPT,
 * RENAMESCRIPT, HAVESPACE.
 *
 * Every input byte is taken from the server loop at once: plaintext goes
 * to the connection's own buffer, TLS records through tls.c first.  The
 * buffer is bounded (max_script_size plus MS_LINE_MAX); a literal larger
 * than max_script_size is answered NO (QUOTA/MAXSIZE) and its bytes are
 * skipped, so the client stays in step.  PUTSCRIPT and CHECKSCRIPT compile
 * with postern-lda's Sieve compiler; its "NAME:LINE: error: ..." lines are
 * the NO text.  With require_tls (the default) SASL is offered only after
 * STARTTLS.  After MS_AUTH_FAILS_MAX failed logins the connection ends.
 *
 * Login throttle (lib/penalty.h, as Dovecot's auth_penalty): failed logins
 * are counted per source (the client address; IPv6 per /48) and per
 * account (the login, lower-cased).  An AUTHENTICATE under a key with
 * failures waits auth_penalty_initial, doubling per failure up to
 * auth_penalty_max, before its password is checked at all (a right one
 * too); the wait is a timer of the event loop (ms_tick), never a sleep, so
 * other sessions go on.  A second attempt under a key while one waits is
 * refused at once (NO (TRYLATER), counted as a failure of the session).
 * A key is forgotten auth_penalty_forget after its last failure; a
 * successful login forgets its account (not its source).
 *
 * Diagnostics (logged): logins (user, peer, ok/failed), TLS errors,
 * backend failures, protocol violations that close the connection.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "cidr.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "penalty.h"
#include "mem.h"
#include "msieve.h"
#include "sieve.h"

/* postern_managesieve_logins_total (lib/metrics.h) */
static struct metrics_family *ms_logins;

struct ms_state {
    struct ms_config *cfg;
    struct ms_tls_ctx *tls;
    struct ms_auth *auth;
    struct str sieve_caps;
    struct penalty *penalty;  /* failed logins per source and account */
    struct ms_conn *delayed;  /* logins waiting out a penalty */
};

#define MS_PENALTY_KEYS 65536 /* sources and accounts remembered */
#define MS_TICK_MS 50         /* granularity of the login delays */

struct ms_conn {
    struct conn *c;
    struct ms_state *st;
    struct str in, out, wire;
    struct ms_tls *tls;
    struct ms_cmd cmd;
    int authed, fails, closing, pending_auth;
    unsigned long long skip; /* bytes of a refused literal still to skip */
    int skip_line;           /* then the rest of its command line */
    struct ms_store store;
    char user[ADDR_MAX + 1];
    /* a login waiting out a penalty (ms_tick runs it at auth_at) */
    int delayed;
    long long auth_at;
    struct str held;          /* its decoded SASL response */
    struct ms_conn *dprev, *dnext;
    char login[ADDR_MAX + 1]; /* the login of the latest attempt */
    char pk_src[CIDR_TEXT_MAX + 8], pk_user[ADDR_MAX + 8];
};

static const struct cfg_def ms_defs[] = {
    SERVER_CFG_DEFS(struct ms_config, srv, "inet:127.0.0.1:4190"),
    SERVER_PID_CFG_DEF(struct ms_config, srv, "/run/postern/managesieve.pid"),
    {"tls_cert_file", CFG_STR, "", 0, 1024,
     offsetof(struct ms_config, tls_cert_file), NULL},
    {"tls_key_file", CFG_STR, "", 0, 1024,
     offsetof(struct ms_config, tls_key_file), NULL},
    {"require_tls", CFG_BOOL, "yes", 0, 1,
     offsetof(struct ms_config, require_tls), NULL},
    {"max_scripts", CFG_INT, "10", 1, 1000,
     offsetof(struct ms_config, max_scripts), NULL},
    {"max_script_size", CFG_SIZE, "64k", 1024, SIEVE_SCRIPT_MAX,
     offsetof(struct ms_config, max_script_size), NULL},
    {"auth", CFG_ENUM, "ldap", 0, 0, offsetof(struct ms_config, auth),
     "ldap|sql"},
    {"mail_root", CFG_STR, "/var/mail/postern", 1, 1024,
     offsetof(struct ms_config, mail_root), NULL},
    {"auth_penalty_initial", CFG_TIME, "2s", 0, 60000,
     offsetof(struct ms_config, auth_penalty_initial), NULL},
    {"auth_penalty_max", CFG_TIME, "15s", 0, 300000,
     offsetof(struct ms_config, auth_penalty_max), NULL},
    {"auth_penalty_forget", CFG_TIME, "60s", 1000, 86400000,
     offsetof(struct ms_config, auth_penalty_forget), NULL},
    /* the settings script (store.c): as [lda] sieve_spam_score_max */
    {"spam_score_max", CFG_STR, "10", 1, 20,
     offsetof(struct ms_config, spam_score_max), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def ms_db_defs[] = {DB_CFG_DEFS(struct ms_config, db)};
static const struct cfg_def ms_ldap_defs[] = {
    LDAPC_CFG_DEFS(struct ms_config, ldap)};

static size_t ms_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"managesieve", ms_defs, cfg};
    s[1] = (struct cfg_section){"database", ms_db_defs, cfg};
    s[2] = (struct cfg_section){"ldap", ms_ldap_defs, cfg};
    return 3;
}

static int ms_check(void *cfgp, struct str *err)
{
    struct ms_config *cfg = cfgp;
    int cert = cfg->tls_cert_file[0] != '\0', key = cfg->tls_key_file[0] != '\0';

    if (cert != key)
        return str_appendf(err, "[managesieve] tls_cert_file and tls_key_file "
                           "go together"), -1;
    if (cfg->require_tls && !cert)
        return str_appendf(err, "[managesieve] require_tls = yes needs "
                           "tls_cert_file and tls_key_file"), -1;
    if (cfg->auth_penalty_max < cfg->auth_penalty_initial)
        return str_appendf(err, "[managesieve] auth_penalty_max is less than "
                           "auth_penalty_initial"), -1;
    if (cfg->mail_root[0] != '/')
        return str_appendf(err, "[managesieve] mail_root must be an absolute "
                           "path"), -1;
    return 0;
}

static struct server_config *ms_srvcfg(void *cfg)
{
    return &((struct ms_config *)cfg)->srv;
}

/* --- output ----------------------------------------------------------------- */

static void flush(struct ms_conn *mc)
{
    if (mc->out.len == 0)
        return;
    if (ms_tls_up(mc->tls)) {
        str_reset(&mc->wire);
        if (ms_tls_write(mc->tls, mc->out.data, mc->out.len, &mc->wire) < 0) {
            log_warn("%s: TLS write failed, closing", conn_peer(mc->c));
            mc->closing = 1;
            conn_close_after_write(mc->c);
        } else
            conn_write(mc->c, mc->wire.data, mc->wire.len);
    } else
        conn_write(mc->c, mc->out.data, mc->out.len);
    str_reset(&mc->out);
}

/* reply - OK/NO/BYE [(CODE)] "text" */
static void reply(struct ms_conn *mc, const char *status, const char *code,
                  const char *text, size_t len)
{
    str_append_cstr(&mc->out, status);
    if (code)
        str_appendf(&mc->out, " (%s)", code);
    if (text) {
        str_append_char(&mc->out, ' ');
        ms_quote(&mc->out, text, len);
    }
    str_append_cstr(&mc->out, "\r\n");
    flush(mc);
}

static void ok(struct ms_conn *mc, const char *text)
{
    reply(mc, "OK", NULL, text, strlen(text));
}

static void no(struct ms_conn *mc, const char *code, const char *text)
{
    reply(mc, "NO", code, text, strlen(text));
}

static void capabilities(struct ms_conn *mc)
{
    const struct ms_state *st = mc->st;
    int tls_up = ms_tls_up(mc->tls);

    str_append_cstr(&mc->out, "\"IMPLEMENTATION\" \"postern-managesieve\"\r\n");
    str_append_cstr(&mc->out, "\"SIEVE\" ");
    ms_quote(&mc->out, st->sieve_caps.data, st->sieve_caps.len);
    str_appendf(&mc->out, "\r\n\"SASL\" \"%s\"\r\n",
                (st->cfg->require_tls && !tls_up) || mc->authed ? "" : "PLAIN");
    if (st->tls && !tls_up && !mc->authed)
        str_append_cstr(&mc->out, "\"STARTTLS\"\r\n");
    str_appendf(&mc->out, "\"MAXREDIRECTS\" \"%d\"\r\n", SIEVE_REDIRECT_MAX);
    str_append_cstr(&mc->out, "\"VERSION\" \"1.0\"\r\n");
}

/* --- commands ----------------------------------------------------------------- */

static int b64_decode(const char *in, size_t len, struct str *out)
{
    size_t pad = 0;
    int n;

    str_reset(out);
    if (len == 0)
        return 0;
    if (len % 4 != 0 || str_reserve(out, len) < 0)
        return -1;
    if ((n = EVP_DecodeBlock((unsigned char *)out->data,
                             (const unsigned char *)in, (int)len)) < 0)
        return -1;
    while (pad < 2 && in[len - 1 - pad] == '=')
        pad++;
    out->len = (size_t)n - pad;
    out->data[out->len] = '\0';
    return 0;
}

/* login_failed - one failed login of this session: counted against its
   source and account, and the session ends after MS_AUTH_FAILS_MAX */
static void login_failed(struct ms_conn *mc, const char *code, const char *text)
{
    if (++mc->fails >= MS_AUTH_FAILS_MAX) {
        reply(mc, "BYE", NULL, "Too many failed logins", 22);
        mc->closing = 1;
        conn_close_after_write(mc->c);
    } else
        no(mc, code, text);
}

/* check_login - check a decoded SASL PLAIN response now */
static void check_login(struct ms_conn *mc, const struct str *resp)
{
    struct str addr = STR_INIT, md = STR_INIT, err = STR_INIT;
    struct penalty *pen = mc->st->penalty;
    long long now = clock_ms();
    int rc;

    rc = ms_auth_plain(mc->st->auth, resp->data ? resp->data : "", resp->len,
                       &addr, &md, &err);
    if (rc == 1 && (md.len == 0 || strstr(md.data, "..") != NULL ||
                    md.data[0] == '/')) {
        log_error("mailbox %s has an unusable maildir '%s'", str_cstr(&addr),
                  log_safe(md.data, md.len));
        rc = -1;
    }
    if (rc == 1) {
        while (md.len && md.data[md.len - 1] == '/')
            md.data[--md.len] = '\0';
        snprintf(mc->store.dir, sizeof(mc->store.dir), "%s/%s",
                 mc->st->cfg->mail_root, md.data);
        snprintf(mc->user, sizeof(mc->user), "%s", addr.data);
        mc->store.db = ms_auth_db(mc->st->auth); /* settings script */
        mc->store.user = mc->user;
        mc->store.spam_score_max = strtod(mc->st->cfg->spam_score_max, NULL);
        mc->authed = 1;
        penalty_clear(pen, mc->pk_user);
        metrics_inc(ms_logins, METRICS_L("ok"));
        log_info("%s: login %s", conn_peer(mc->c), mc->user);
        ok(mc, "Logged in");
    } else if (rc == 0) {
        penalty_fail(pen, mc->pk_src, now);
        penalty_fail(pen, mc->pk_user, now);
        metrics_inc(ms_logins, METRICS_L("failed"));
        log_info("%s: login failed for %s (failures: %u from this source, "
                 "%u for this account)", conn_peer(mc->c),
                 log_safe_cstr(mc->login), penalty_failures(pen, mc->pk_src, now),
                 penalty_failures(pen, mc->pk_user, now));
        login_failed(mc, NULL, "Authentication failed");
    } else {
        metrics_inc(ms_logins, METRICS_L("temp"));
        log_error("%s: authentication backend: %s", conn_peer(mc->c),
                  str_cstr(&err));
        no(mc, "TRYLATER", "Authentication is temporarily unavailable");
    }
    str_free(&addr);
    str_free(&md);
    str_free(&err);
}

/* penalty_keys - the session's source key (its address, IPv6 per /48) and
   the attempt's account key */
static void penalty_keys(struct ms_conn *mc, const struct str *resp)
{
    const char *peer = conn_peer(mc->c), *end;
    char host[CIDR_TEXT_MAX], net[CIDR_TEXT_MAX];
    size_t n;

    if (ms_auth_plain_login(resp->data ? resp->data : "", resp->len,
                            mc->login, sizeof(mc->login)) < 0)
        mc->login[0] = '\0';
    snprintf(mc->pk_user, sizeof(mc->pk_user), "u:%s", mc->login);
    if (peer[0] == '[')
        peer++, end = strchr(peer, ']');
    else
        end = strrchr(peer, ':');
    n = end ? (size_t)(end - peer) : strlen(peer);
    if (str_copy_bounded(host, sizeof(host), peer, n) < 0 ||
        cidr_mask(host, 32, 48, net, sizeof(net)) < 0)
        snprintf(net, sizeof(net), "%s", "local");
    snprintf(mc->pk_src, sizeof(mc->pk_src), "s:%s", net);
}

static void delayed_unlink(struct ms_conn *mc)
{
    struct ms_state *st = mc->st;

    if (!mc->delayed)
        return;
    if (mc->dprev)
        mc->dprev->dnext = mc->dnext;
    else
        st->delayed = mc->dnext;
    if (mc->dnext)
        mc->dnext->dprev = mc->dprev;
    mc->dprev = mc->dnext = NULL;
    mc->delayed = 0;
    penalty_hold(st->penalty, mc->pk_src, -1);
    penalty_hold(st->penalty, mc->pk_user, -1);
    conn_set_busy(mc->c, 0);
}

/* login_gate - 1 when the attempt may be checked now; 0 when it waits out
   a penalty (resp moved into the session) or was refused */
static int login_gate(struct ms_conn *mc, struct str *resp)
{
    struct ms_state *st = mc->st;
    long long now = clock_ms(), d, du;

    d = penalty_delay_ms(st->penalty, mc->pk_src, now);
    du = penalty_delay_ms(st->penalty, mc->pk_user, now);
    if (du > d)
        d = du;
    if (d <= 0)
        return 1;
    if (penalty_held(st->penalty, mc->pk_src) > 0 ||
        penalty_held(st->penalty, mc->pk_user) > 0) {
        metrics_inc(ms_logins, METRICS_L("throttled"));
        log_warn("%s: login for %s refused: another one from this source or "
                 "for this account is waiting out a penalty",
                 conn_peer(mc->c), log_safe_cstr(mc->login));
        login_failed(mc, "TRYLATER", "Too many failed logins, try later");
        return 0;
    }
    log_warn("%s: login for %s delayed %lld ms after failed logins "
             "(%u from this source, %u for this account)", conn_peer(mc->c),
             log_safe_cstr(mc->login), d,
             penalty_failures(st->penalty, mc->pk_src, now),
             penalty_failures(st->penalty, mc->pk_user, now));
    penalty_hold(st->penalty, mc->pk_src, 1);
    penalty_hold(st->penalty, mc->pk_user, 1);
    mc->held = *resp;
    *resp = (struct str)STR_INIT;
    mc->auth_at = now + d;
    mc->delayed = 1;
    mc->dprev = NULL;
    mc->dnext = st->delayed;
    if (st->delayed)
        st->delayed->dprev = mc;
    st->delayed = mc;
    conn_set_busy(mc->c, 1);
    return 0;
}

static void do_login(struct ms_conn *mc, const char *b64, size_t len)
{
    struct str resp = STR_INIT;

    if (b64_decode(b64, len, &resp) < 0) {
        no(mc, NULL, "Invalid base64 in the SASL response");
    } else {
        penalty_keys(mc, &resp);
        if (mc->st->cfg->auth_penalty_initial <= 0 || login_gate(mc, &resp))
            check_login(mc, &resp);
    }
    explicit_bzero(resp.data ? resp.data : (char *)"", resp.len);
    str_free(&resp);
}

static void cmd_authenticate(struct ms_conn *mc, struct ms_cmd *cmd)
{
    if (mc->authed)
        return no(mc, NULL, "Already authenticated");
    if (mc->st->cfg->require_tls && !ms_tls_up(mc->tls))
        return no(mc, "ENCRYPT-NEEDED", "Use STARTTLS first");
    if (cmd->nargs < 1 || strcasecmp(str_cstr(&cmd->arg[0]), "PLAIN") != 0)
        return no(mc, NULL, "Only the PLAIN mechanism is supported");
    if (cmd->nargs >= 2)
        return do_login(mc, cmd->arg[1].data, cmd->arg[1].len);
    mc->pending_auth = 1;
    str_append_cstr(&mc->out, "\"\"\r\n");
    flush(mc);
}

/* compile - 0 ok (the compiler's warnings, if any, in *warnings), or -1
   with its messages in *errors */
static int compile(struct ms_conn *mc, const char *name, const struct str *text,
                   struct str *errors, struct str *warnings)
{
    struct sieve_script *s = NULL;
    struct sieve_host host;
    char dir[SIEVE_STORAGE_PATH_MAX];

    ms_store_personal_dir(&mc->store, dir, sizeof(dir));
    memset(&host, 0, sizeof(host));
    host.personal_dir = dir;
    host.delimiters = "+";
    host.default_folder = "INBOX";
    host.hostname = "localhost";
    if (sieve_compile(name, text->data ? text->data : "", text->len, &host, &s,
                      errors) < 0)
        return -1;
    str_append_cstr(warnings, sieve_script_warnings(s));
    while (warnings->len && warnings->data[warnings->len - 1] == '\n')
        warnings->data[--warnings->len] = '\0';
    sieve_script_free(s);
    return 0;
}

/* ok_warnings - OK, or OK (WARNINGS) "the compiler's warnings" (RFC 5804
   2.6: the script is valid, but...) */
static void ok_warnings(struct ms_conn *mc, const struct str *warnings,
                        const char *done)
{
    if (warnings->len)
        reply(mc, "OK", "WARNINGS", warnings->data, warnings->len);
    else
        ok(mc, done);
}

static void store_result(struct ms_conn *mc, int rc, const char *code,
                         struct str *err, const char *done)
{
    if (rc == 0)
        ok(mc, done);
    else {
        if (code == NULL)
            log_error("%s %s: %s", conn_peer(mc->c), mc->user, str_cstr(err));
        no(mc, code, str_cstr(err));
    }
}

static int name_arg(struct ms_conn *mc, struct ms_cmd *cmd, size_t i)
{
    if (cmd->nargs <= i || cmd->is_atom[i]) {
        no(mc, NULL, "Missing script name (a quoted string)");
        return 0;
    }
    if (!ms_name_ok(cmd->arg[i].data ? cmd->arg[i].data : "", cmd->arg[i].len)) {
        no(mc, NULL, "Invalid script name");
        return 0;
    }
    return 1;
}

static void cmd_scripts(struct ms_conn *mc, struct ms_cmd *cmd)
{
    struct str err = STR_INIT, text = STR_INIT, warn = STR_INIT;
    const char *code = NULL, *n = cmd->nargs ? str_cstr(&cmd->arg[0]) : "";
    int rc;

    mc->store.max_scripts = mc->st->cfg->max_scripts;
    mc->store.max_size = mc->st->cfg->max_script_size;
    if (!strcmp(cmd->name, "LISTSCRIPTS")) {
        if (ms_store_list(&mc->store, &mc->out, &err) < 0)
            no(mc, NULL, str_cstr(&err));
        else
            ok(mc, "Listscripts completed");
    } else if (!strcmp(cmd->name, "GETSCRIPT")) {
        if (name_arg(mc, cmd, 0)) {
            if ((rc = ms_store_get(&mc->store, n, &text, &code, &err)) == 0) {
                str_appendf(&mc->out, "{%zu}\r\n", text.len);
                str_append(&mc->out, text.data ? text.data : "", text.len);
                str_append_cstr(&mc->out, "\r\n");
            }
            store_result(mc, rc, code, &err, "Getscript completed");
        }
    } else if (!strcmp(cmd->name, "PUTSCRIPT") || !strcmp(cmd->name, "CHECKSCRIPT")) {
        int put = cmd->name[0] == 'P';
        size_t ti = put ? 1 : 0;
        if (put && !name_arg(mc, cmd, 0))
            goto out;
        if (cmd->nargs <= ti || cmd->is_atom[ti]) {
            no(mc, NULL, "Missing script (a string or literal)");
            goto out;
        }
        if (cmd->arg[ti].len > (size_t)mc->store.max_size) {
            no(mc, MS_QUOTA_SIZE, "The script is larger than the allowed size");
            goto out;
        }
        if (compile(mc, put ? n : "script", &cmd->arg[ti], &err, &warn) < 0) {
            while (err.len && (err.data[err.len - 1] == '\n'))
                err.data[--err.len] = '\0';
            reply(mc, "NO", NULL, err.data ? err.data : "compile error", err.len);
            goto out;
        }
        if (!put) {
            ok_warnings(mc, &warn, "Script is valid");
            goto out;
        }
        rc = ms_store_put(&mc->store, n, cmd->arg[1].data ? cmd->arg[1].data : "",
                          cmd->arg[1].len, &code, &err);
        if (rc == 0)
            ok_warnings(mc, &warn, "Putscript completed");
        else
            store_result(mc, rc, code, &err, "Putscript completed");
    } else if (!strcmp(cmd->name, "SETACTIVE")) {
        if (cmd->nargs >= 1 && cmd->arg[0].len == 0 && !cmd->is_atom[0])
            rc = ms_store_activate(&mc->store, "", &code, &err);
        else if (!name_arg(mc, cmd, 0))
            goto out;
        else
            rc = ms_store_activate(&mc->store, n, &code, &err);
        store_result(mc, rc, code, &err, "Setactive completed");
    } else if (!strcmp(cmd->name, "DELETESCRIPT")) {
        if (name_arg(mc, cmd, 0)) {
            rc = ms_store_delete(&mc->store, n, &code, &err);
            store_result(mc, rc, code, &err, "Deletescript completed");
        }
    } else if (!strcmp(cmd->name, "RENAMESCRIPT")) {
        if (name_arg(mc, cmd, 0) && name_arg(mc, cmd, 1)) {
            rc = ms_store_rename(&mc->store, n, str_cstr(&cmd->arg[1]), &code,
                                 &err);
            store_result(mc, rc, code, &err, "Renamescript completed");
        }
    } else { /* HAVESPACE name size */
        char *end;
        unsigned long long size;
        if (!name_arg(mc, cmd, 0))
            goto out;
        size = cmd->nargs >= 2 && cmd->is_atom[1]
                   ? strtoull(str_cstr(&cmd->arg[1]), &end, 10) : 0;
        if (cmd->nargs < 2 || !cmd->is_atom[1] || *end != '\0' ||
            cmd->arg[1].len == 0) {
            no(mc, NULL, "HAVESPACE needs a name and a size");
            goto out;
        }
        rc = ms_store_space(&mc->store, n, size, &code, &err);
        store_result(mc, rc, code, &err, "Putscript would succeed");
    }
out:
    str_free(&err);
    str_free(&text);
    str_free(&warn);
}

static void feed_tls(struct ms_conn *mc, const char *buf, size_t len);

static void cmd_starttls(struct ms_conn *mc)
{
    struct str rest = STR_INIT;

    if (mc->st->tls == NULL || mc->tls || mc->authed)
        return no(mc, NULL, "STARTTLS is not available");
    if ((mc->tls = ms_tls_new(mc->st->tls)) == NULL)
        return no(mc, NULL, "TLS is not available");
    ok(mc, "Begin TLS negotiation now");
    /* what the client sent after the command is its TLS handshake */
    str_set(&rest, mc->in.data ? mc->in.data : "", mc->in.len);
    str_reset(&mc->in);
    feed_tls(mc, rest.data ? rest.data : "", rest.len);
    str_free(&rest);
}

static void dispatch(struct ms_conn *mc, struct ms_cmd *cmd)
{
    const char *n = cmd->name;

    if (!strcmp(n, "CAPABILITY")) {
        capabilities(mc);
        ok(mc, "Capability completed");
    } else if (!strcmp(n, "NOOP")) {
        if (cmd->nargs >= 1) {
            str_append_cstr(&mc->out, "OK (TAG ");
            ms_quote(&mc->out, cmd->arg[0].data ? cmd->arg[0].data : "",
                     cmd->arg[0].len);
            str_append_cstr(&mc->out, ") \"Done\"\r\n");
            flush(mc);
        } else
            ok(mc, "Done");
    } else if (!strcmp(n, "LOGOUT")) {
        ok(mc, "Logout completed");
        mc->closing = 1;
        conn_close_after_write(mc->c);
    } else if (!strcmp(n, "STARTTLS")) {
        cmd_starttls(mc);
    } else if (!strcmp(n, "AUTHENTICATE")) {
        cmd_authenticate(mc, cmd);
    } else if (!strcmp(n, "LISTSCRIPTS") || !strcmp(n, "GETSCRIPT") ||
               !strcmp(n, "PUTSCRIPT") || !strcmp(n, "CHECKSCRIPT") ||
               !strcmp(n, "SETACTIVE") || !strcmp(n, "DELETESCRIPT") ||
               !strcmp(n, "RENAMESCRIPT") || !strcmp(n, "HAVESPACE")) {
        if (!mc->authed)
            no(mc, NULL, "Authenticate first");
        else
            cmd_scripts(mc, cmd);
    } else {
        no(mc, NULL, "Unknown command");
    }
}

/* sasl_continuation - the client's answer to "": a string, or "*" */
static int sasl_continuation(struct ms_conn *mc)
{
    struct str line = STR_INIT;
    size_t used;
    unsigned long long big;
    enum ms_parse r;

    str_append_cstr(&line, "X ");
    str_append(&line, mc->in.data, mc->in.len);
    r = ms_parse_cmd(line.data, line.len, 8192, &mc->cmd, &used, &big);
    str_free(&line);
    if (r == MS_P_MORE)
        return 0;
    mc->pending_auth = 0;
    if (r != MS_P_OK || used < 2) {
        str_consume(&mc->in, used >= 2 ? used - 2 : mc->in.len);
        no(mc, NULL, "Invalid SASL response");
        return 1;
    }
    str_consume(&mc->in, used - 2);
    if (mc->cmd.nargs == 1 && mc->cmd.is_atom[0] && !strcmp(mc->cmd.arg[0].data, "*"))
        no(mc, NULL, "Authentication cancelled");
    else if (mc->cmd.nargs == 1 && !mc->cmd.is_atom[0])
        do_login(mc, mc->cmd.arg[0].data ? mc->cmd.arg[0].data : "",
                 mc->cmd.arg[0].len);
    else
        no(mc, NULL, "Invalid SASL response");
    return 1;
}

static void process(struct ms_conn *mc)
{
    size_t max_lit = (size_t)mc->st->cfg->max_script_size;

    while (!mc->closing && !mc->delayed && mc->in.len > 0) {
        size_t used = 0;
        unsigned long long big = 0;
        enum ms_parse r;

        if (mc->skip) {
            size_t n = mc->in.len < mc->skip ? mc->in.len : (size_t)mc->skip;
            str_consume(&mc->in, n);
            mc->skip -= n;
            continue;
        }
        if (mc->skip_line) {
            const char *nl = memchr(mc->in.data, '\n', mc->in.len);
            if (nl == NULL) {
                str_reset(&mc->in);
                break;
            }
            str_consume(&mc->in, (size_t)(nl - mc->in.data) + 1);
            mc->skip_line = 0;
            no(mc, MS_QUOTA_SIZE, "The script is larger than the allowed size");
            continue;
        }
        if (mc->pending_auth) {
            if (!sasl_continuation(mc))
                break;
            continue;
        }
        r = ms_parse_cmd(mc->in.data, mc->in.len, max_lit, &mc->cmd, &used, &big);
        if (r == MS_P_MORE || (r == MS_P_BAD && used == 0)) {
            if (r == MS_P_BAD) {
                log_warn("%s: command line too long, closing", conn_peer(mc->c));
                reply(mc, "BYE", NULL, "Command line too long", 21);
                mc->closing = 1;
                conn_close_after_write(mc->c);
            }
            break;
        }
        str_consume(&mc->in, used);
        if (r == MS_P_BAD) {
            no(mc, NULL, "Syntax error");
        } else if (r == MS_P_TOOBIG) {
            mc->skip = big;
            mc->skip_line = 1;
        } else {
            dispatch(mc, &mc->cmd);
        }
    }
}

static void feed_tls(struct ms_conn *mc, const char *buf, size_t len)
{
    int r;

    str_reset(&mc->wire);
    r = ms_tls_input(mc->tls, buf, len, &mc->in, &mc->wire);
    if (mc->wire.len)
        conn_write(mc->c, mc->wire.data, mc->wire.len);
    if (r < 0) {
        log_warn("%s: TLS handshake or read failed, closing", conn_peer(mc->c));
        mc->closing = 1;
        conn_close_after_write(mc->c);
    } else if (r == 1) {
        /* RFC 5804 2.2: the capabilities again, now over TLS */
        capabilities(mc);
        ok(mc, "TLS negotiation successful");
    }
}

static ssize_t ms_input(struct conn *c, void *ctx, const char *buf, size_t len)
{
    struct ms_conn *mc = ctx;

    if (mc->closing)
        return (ssize_t)len;
    if (mc->tls)
        feed_tls(mc, buf, len);
    else if (str_append(&mc->in, buf, len) < 0)
        return -1;
    if (mc->in.len > (size_t)mc->st->cfg->max_script_size + 2 * MS_LINE_MAX &&
        !mc->skip && !mc->skip_line) {
        log_warn("%s: input over the limit, closing", conn_peer(c));
        return -1;
    }
    process(mc);
    return (ssize_t)len;
}

static void *ms_open(struct conn *c, void *app)
{
    struct ms_conn *mc = xcalloc(1, sizeof(*mc));

    mc->c = c;
    mc->st = app;
    capabilities(mc);
    ok(mc, "postern ManageSieve ready");
    return mc;
}

static void ms_close(struct conn *c, void *ctx)
{
    struct ms_conn *mc = ctx;

    (void)c;
    delayed_unlink(mc);
    explicit_bzero(mc->held.data ? mc->held.data : (char *)"", mc->held.len);
    str_free(&mc->held);
    ms_tls_free(mc->tls);
    ms_cmd_free(&mc->cmd);
    str_free(&mc->in);
    str_free(&mc->out);
    str_free(&mc->wire);
    free(mc);
}

static void *ms_init(void *cfgp, struct server *srv, struct str *err)
{
    struct ms_config *cfg = cfgp;
    struct ms_state *st = xcalloc(1, sizeof(*st));

    (void)srv;
    st->cfg = cfg;
    ms_logins = metrics_register(
        METRICS_COUNTER, "postern_managesieve_logins_total",
        "ManageSieve logins by result (ok, failed, temp, throttled).",
        "result");
    metrics_series(ms_logins, METRICS_L("ok"));
    metrics_series(ms_logins, METRICS_L("failed"));
    st->penalty = penalty_new(&(struct penalty_settings){
        cfg->auth_penalty_initial, cfg->auth_penalty_max,
        cfg->auth_penalty_forget}, MS_PENALTY_KEYS);
    sieve_capabilities(&st->sieve_caps);
    if ((cfg->tls_cert_file[0] &&
         (st->tls = ms_tls_ctx_new(cfg->tls_cert_file, cfg->tls_key_file, err)) == NULL) ||
        (st->auth = ms_auth_open(cfg, err)) == NULL) {
        ms_tls_ctx_free(st->tls);
        str_free(&st->sieve_caps);
        penalty_free(st->penalty);
        free(st);
        return NULL;
    }
    return st;
}

static void ms_fini(void *app)
{
    struct ms_state *st = app;

    ms_auth_close(st->auth);
    ms_tls_ctx_free(st->tls);
    str_free(&st->sieve_caps);
    penalty_free(st->penalty);
    free(st);
}

/* ms_reconfigure - the TLS context and the backends were built from the
   configuration at start; a SIGHUP keeps it (listen limits aside) */
static void *ms_reconfigure(void *app, void *newcfg)
{
    (void)app;
    log_warn("[managesieve] settings take effect after a restart");
    return newcfg;
}

/* ms_tick - run the logins whose penalty is over, then what their clients
   sent meanwhile (the loop flushes the replies) */
static void ms_tick(void *app)
{
    struct ms_state *st = app;
    long long now = clock_ms();
    struct ms_conn *mc = st->delayed, *next;

    for (; mc; mc = next) {
        struct str resp;
        next = mc->dnext;
        if (mc->auth_at > now)
            continue;
        delayed_unlink(mc);
        resp = mc->held;
        mc->held = (struct str)STR_INIT;
        check_login(mc, &resp);
        explicit_bzero(resp.data ? resp.data : (char *)"", resp.len);
        str_free(&resp);
        process(mc);
    }
}

static const struct server_ops ms_ops = {ms_open, ms_input, ms_close,
                                         ms_tick, NULL, NULL};

const struct daemon_app ms_app = {
    "postern-managesieve", sizeof(struct ms_config), ms_sections, ms_check,
    ms_srvcfg, &ms_ops, ms_init, NULL, ms_reconfigure, ms_fini,
    MS_TICK_MS, SIEVE_SCRIPT_MAX + 4 * MS_LINE_MAX, 4 * SIEVE_SCRIPT_MAX, 0,
    NULL};
