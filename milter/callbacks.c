/*
 * callbacks - the libmilter callback table of postern-milter and the state
 * of one SMTP session (struct mconn, attached with smfi_setpriv).  Each
 * mlfi_* function is a short dispatcher:
 *
 *   negotiate ask Postfix for header values with their leading space
 *             (SMFIP_HDR_LEADSPC), so DKIM "simple" headers verify exactly;
 *             and nothing else (milter_protocol: skipping events or
 *             replies brought back a 40 ms stall per message)
 *   connect   remember the client address (trusted_networks for signing)
 *   helo      remember the HELO name (SPF for MAIL FROM:<>)
 *   envfrom   new message: envelope sender, SASL login ({auth_authen}),
 *             whether the message is a signing candidate (authenticated or
 *             trusted client) or inbound (neither, and a client address)
 *   envrcpt   the recipient in canonical form (milter_canonical: case,
 *             quoting, +extension, trailing dot, alias domain; the sender
 *             too, at envfrom); a group address?  (LDAP)  may this sender
 *             write to it and to every group nested below it?
 *             550 5.7.1 when not; 451 4.4.3 when LDAP cannot say whether
 *             it is a group; 451 4.3.0 when the send rights cannot be
 *             checked (LDAP/SQL down, or a group over a limit, LK_LIMIT,
 *             logged apart)
 *             a moderated rule's refusal (RIGHTS_HOLD) is accepted and
 *             the message held at eom; a moderation reply address
 *             (LOCAL+TOKEN@DOMAIN, moderate.c) must name a waiting
 *             message (550 5.1.1 otherwise)
 *   header    buffered for DKIM signing, or fed to DKIM verification
 *             (bounded by max_headers/max_header_bytes); Authentication-
 *             Results headers with our authserv-id are noted by index;
 *             inbound: the From domains (DMARC) and X-Postern-DMARC headers
 *   eoh/body  DKIM: an authenticated login's From must be its own
 *             (fromcheck.c; else 550 5.7.1 or unsigned per unowned_from,
 *             451 4.3.0 when that cannot be checked), then pick the key
 *             for the From domain / fetch the keys of
 *             the signatures; hash the body
 *   eom       expand every group recipient (delrcpt the group, addrcpt
 *             each member once, not the sender unless copy_to_sender);
 *             451 4.4.3 on LDAP trouble, 452 4.5.3 over a limit
 *             (max_recipients, max_nesting: LK_LIMIT);
 *             then add the DKIM-Signature header(s); remove every
 *             Authentication-Results header that claims our authserv-id
 *             (any message), and for inbound mail add ours at the top:
 *             SPF (spf.c), DKIM (verify.c) and DMARC (dmarc.c) results;
 *             then the DMARC disposition: 550 5.7.1, the header
 *             X-Postern-DMARC: quarantine (incoming ones removed) or
 *             Postfix's hold queue
 *             moderation: record the decisions of replies (the reply
 *             is discarded); a held group's message goes, expanded and
 *             signed, to Postfix's hold queue with a moderation_queue
 *             row (451 4.3.0 when the row cannot be written)
 *   abort/close  forget the message / the session
 *
 * Diagnostics: one info line per expanded group and per signature, one
 * per inbound message with its SPF and DKIM results, a warning or error
 * line with the queue ID for every temporary failure.
 *
 * Limits: Authentication-Results headers with our authserv-id: at most
 * max_headers per message (more: 550 5.7.0, the message cannot be cleaned).
 * HELO names over 255 bytes are not used for SPF.
 */
#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"
#include "cidr.h"
#include "hash.h"
#include "log.h"
#include "mem.h"
#include "milter.h"
#include "msghdr.h"

struct mrcpt {
    char *arg;     /* as Postfix sent it (for smfi_delrcpt) */
    char *addr;    /* bare, lower-case */
    char *dn;      /* group DN, NULL for an ordinary recipient */
    int ctl;       /* a moderation reply address (addr is the token) */
};

#define MILTER_HELO_MAX 255
#define AR_NAME "Authentication-Results"
#define XDMARC_NAME "X-Postern-DMARC"

struct mconn {
    char client[64];
    char helo[MILTER_HELO_MAX + 1];
    char host[256];       /* the client's verified name, or "[IP]" */
    int leadspc;          /* header values keep their leading space */
    char *login;          /* SASL login or NULL */
    char *sender;         /* bare envelope sender, lower-case ("" for <>) */
    char *sender_canon;   /* its canonical form (addr_canonical), for rules */
    struct mrcpt *rcpt;
    size_t nrcpt, ngroups;
    struct msign *sign;
    int inbound;          /* unauthenticated, untrusted client */
    struct mverify *verify;
    size_t ar_seen;       /* Authentication-Results headers so far */
    int *ar_ours;         /* 1-based indexes of those claiming our id */
    size_t n_ar_ours;
    int ar_overflow;
    int dmarc;            /* evaluate DMARC (inbound, [milter] dmarc) */
    char *from_dom[DMARC_FROM_MAX]; /* distinct From domains */
    size_t nfrom;
    int from_bad;         /* a From without a usable address, or more
                             than DMARC_FROM_MAX domains */
    size_t n_xdmarc;      /* X-Postern-DMARC headers that came in */
    size_t nheld, nctl;   /* groups held for moderation, reply tokens */
    long long hold_rule;  /* the first held group's moderated rule */
    char *hold_group;     /* and its address */
    struct str subject;   /* for moderation (moderate.c) */
    struct str excerpt;
};

static struct mconn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static const char *queue_id(SMFICTX *ctx)
{
    const char *id = smfi_getsymval(ctx, "i");

    return id ? id : "NOQUEUE";
}

struct milter_metrics milter_metrics;

void milter_metrics_register(void)
{
    struct milter_metrics *m = &milter_metrics;

    m->decisions = metrics_register(
        METRICS_COUNTER, "postern_milter_decisions_total",
        "Milter decisions by check (send_rights, groups, from, dkim_sign) "
        "and action (reject, tempfail, expand, sign, ...).", "check,action");
    m->expansions = metrics_register(
        METRICS_COUNTER, "postern_group_expansions_total",
        "Group recipients expanded, by result (expanded, limit, error).",
        "result");
    m->expanded = metrics_register(
        METRICS_COUNTER, "postern_group_expanded_recipients_total",
        "Recipients added by group expansion.", NULL);
    m->refusals = metrics_register(
        METRICS_COUNTER, "postern_send_right_refusals_total",
        "RCPT TO a group refused: the sender may not send to it.", NULL);
    m->dkim_sign = metrics_register(
        METRICS_COUNTER, "postern_dkim_sign_total",
        "DKIM signing by result (signed, error, unowned_from).", "result");
    m->dkim_verify = metrics_register(
        METRICS_COUNTER, "postern_dkim_verify_total",
        "DKIM verification results of inbound signatures (pass, fail, none, "
        "...).", "result");
    m->spf = metrics_register(
        METRICS_COUNTER, "postern_milter_spf_total",
        "SPF results of inbound mail (pass, fail, softfail, none, ...).",
        "result");
    m->dmarc = metrics_register(
        METRICS_COUNTER, "postern_milter_dmarc_total",
        "DMARC results of inbound mail per From domain (pass, fail, none, "
        "temperror, permerror).", "result");
    m->dmarc_action = metrics_register(
        METRICS_COUNTER, "postern_milter_dmarc_actions_total",
        "Inbound messages acted on for DMARC (rejected, quarantined, held).",
        "action");
    m->dmarc_dropped = metrics_register(
        METRICS_COUNTER, "postern_milter_dmarc_results_dropped_total",
        "DMARC results not written to dmarc_results (queue over "
        "dmarc_queue_max while the database was away).", NULL);
    metrics_series(m->dmarc_dropped, NULL);
    metrics_series(m->expanded, NULL);
    metrics_series(m->refusals, NULL);
}

/* decision - the one greppable line of a decision (docs/logging.md), and
   its count; detail is trusted text (or NULL) */
static void decision(SMFICTX *ctx, struct mconn *c, const char *action,
                     const char *check, const char *to, const char *detail)
{
    struct str line = STR_INIT; /* a field at a time: log_safe_cstr has
                                   only a few buffers */

    metrics_inc(milter_metrics.decisions, METRICS_L(check, action));
    str_appendf(&line, "%s: action=%s check=%s rule=- client=%s",
                log_safe_cstr(queue_id(ctx)), action, check,
                c->client[0] ? c->client : "local");
    str_appendf(&line, " from=<%s>", log_safe_cstr(c->sender ? c->sender
                                                              : ""));
    str_appendf(&line, " to=<%s>", log_safe_cstr(to ? to : ""));
    str_appendf(&line, " login=%s", c->login ? log_safe_cstr(c->login) : "-");
    if (detail)
        str_appendf(&line, ": %s", detail);
    log_info("%s", str_cstr(&line));
    str_free(&line);
}

static void message_reset(struct mconn *c)
{
    for (size_t i = 0; i < c->nrcpt; i++) {
        free(c->rcpt[i].arg);
        free(c->rcpt[i].addr);
        free(c->rcpt[i].dn);
    }
    free(c->rcpt);
    c->rcpt = NULL;
    c->nrcpt = c->ngroups = 0;
    free(c->login);
    free(c->sender);
    free(c->sender_canon);
    c->login = c->sender = c->sender_canon = NULL;
    sign_free(c->sign);
    c->sign = NULL;
    verify_free(c->verify);
    c->verify = NULL;
    free(c->ar_ours);
    c->ar_ours = NULL;
    c->n_ar_ours = c->ar_seen = 0;
    c->ar_overflow = c->inbound = 0;
    for (size_t i = 0; i < c->nfrom; i++)
        free(c->from_dom[i]);
    c->nfrom = c->n_xdmarc = 0;
    c->from_bad = c->dmarc = 0;
    c->nheld = c->nctl = 0;
    c->hold_rule = 0;
    free(c->hold_group);
    c->hold_group = NULL;
    str_free(&c->subject);
    str_free(&c->excerpt);
}

/* bare_address - "<User@Dom>" -> "user@dom" (local part kept as sent). */
static char *bare_address(const char *arg)
{
    size_t len = strlen(arg);
    char *a, *at;

    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
        arg++;
        len -= 2;
    }
    if (len > MILTER_ADDR_MAX)
        return NULL;
    a = xstrndup(arg, len);
    if ((at = strrchr(a, '@')) != NULL)
        str_lower(at, strlen(at));
    return a;
}

/* canonical_address - bare (lower-case) in the form rules match (case,
   quoting, +extension, trailing dot, alias domain); an address that does
   not parse stays as it is; NULL when it parses but its alias domains
   form a chain that does not end (a misconfiguration: temporary). */
static char *canonical_address(const char *bare)
{
    struct addr a;
    const char *why;

    if (milter_canonical(milter_ctx, bare, ADDR_ALLOW_EMPTY, &a) == 0)
        return xstrdup(a.full);
    if (addr_parse(bare, strlen(bare), NULL, ADDR_ALLOW_EMPTY, &a, &why) == 0)
        return NULL;
    return xstrdup(bare);
}

static sfsistat tempfail(SMFICTX *ctx, const char *code, const char *xcode,
                         const char *text)
{
    smfi_setreply(ctx, (char *)code, (char *)xcode, (char *)text);
    return SMFIS_TEMPFAIL;
}

/* conn_get - the session state, created on first use */
static struct mconn *conn_get(SMFICTX *ctx)
{
    struct mconn *c = conn_of(ctx);

    if (c == NULL) {
        c = xcalloc(1, sizeof(*c));
        smfi_setpriv(ctx, c);
    }
    return c;
}

unsigned long milter_protocol(unsigned long offered)
{
    /* Nothing else, measured on 2026-12-04: asking for SMFIP_NODATA and
       SMFIP_NOUNKNOWN, with or without SMFIP_NR_* for connect, HELO,
       headers and body, made one of Postfix's small writes wait for a
       delayed ACK: 40 ms per message at end of data instead of 3
       (tests/integration/e2e-latency.sh). */
    return offered & SMFIP_HDR_LEADSPC;
}

static sfsistat mlfi_negotiate(SMFICTX *ctx, unsigned long f0,
                               unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0,
                               unsigned long *pf1, unsigned long *pf2,
                               unsigned long *pf3)
{
    struct mconn *c = conn_get(ctx);

    (void)f2;
    (void)f3;
    *pf0 = f0 & (SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_ADDHDRS |
                 SMFIF_CHGHDRS | SMFIF_QUARANTINE);
    *pf1 = milter_protocol(f1);
    *pf2 = *pf3 = 0;
    c->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct mconn *c = conn_get(ctx);

    message_reset(c); /* a new client on the same session (XCLIENT) */
    c->client[0] = c->helo[0] = '\0';
    if (!host || str_copy_bounded(c->host, sizeof(c->host), host,
                                  strlen(host)) < 0)
        c->host[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
                  c->client, sizeof(c->client));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr,
                  c->client, sizeof(c->client));
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_helo(SMFICTX *ctx, char *name)
{
    struct mconn *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (str_copy_bounded(c->helo, sizeof(c->helo), name ? name : "",
                         name ? strlen(name) : 0) < 0)
        c->helo[0] = '\0';
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_envfrom(SMFICTX *ctx, char **argv)
{
    struct mconn *c = conn_of(ctx);
    const struct milter_config *cfg = milter_ctx->cfg;
    const char *login = smfi_getsymval(ctx, "{auth_authen}");
    int trusted;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    message_reset(c);
    if ((c->sender = bare_address(argv[0] ? argv[0] : "")) == NULL)
        return tempfail(ctx, "451", "4.3.0", "Sender address too long");
    str_lower(c->sender, strlen(c->sender));
    if ((c->sender_canon = canonical_address(c->sender)) == NULL) {
        log_error("%s: from=<%s>: alias domain chain longer than %d (the "
                  "domains table): temporary failure", queue_id(ctx),
                  log_safe_cstr(c->sender), ADDR_ALIAS_DOMAIN_DEPTH);
        return tempfail(ctx, "451", "4.3.0", "Temporary failure, try again "
                        "later");
    }
    if (login && *login)
        c->login = xstrdup(login);
    trusted = c->login || (c->client[0] &&
                           milter_net_match(cfg->trusted_networks, c->client));
    if (cfg->dkim_sign && trusted)
        c->sign = sign_begin();
    /* no client address: a local submission (non_smtpd_milters) */
    c->inbound = !trusted && c->client[0] &&
                 (cfg->verify || cfg->spf || cfg->dmarc);
    /* our own networks (default loopback: a local submission, a content
       filter's re-injection) are not evaluated */
    c->dmarc = c->inbound && cfg->dmarc &&
               !cidr_list_contains(cfg->dmarc_own_networks, c->client);
    if (c->inbound && cfg->verify)
        c->verify = verify_begin();
    return SMFIS_CONTINUE;
}

static int rcpt_add(struct mconn *c, const char *arg, const char *addr,
                    const char *dn)
{
    struct mrcpt *v;

    if (c->nrcpt >= MILTER_RCPT_MAX)
        return -1;
    v = c->rcpt = xreallocarray(c->rcpt, c->nrcpt + 1, sizeof(*v));
    v[c->nrcpt] = (struct mrcpt){xstrdup(arg), xstrdup(addr),
                                 dn ? xstrdup(dn) : NULL, 0};
    c->nrcpt++;
    c->ngroups += dn != NULL;
    return 0;
}

/* group_rcpt - the RCPT check for an address that may be a group. */
static sfsistat group_rcpt(SMFICTX *ctx, struct mconn *c, const char *arg,
                           const char *addr)
{
    struct str err = STR_INIT;
    struct mres *r = milter_pool_get(milter_ctx->pool, &err);
    struct rights_rcpt v;
    sfsistat st = SMFIS_CONTINUE;

    rights_rcpt(milter_ctx, r, addr, c->login, c->sender_canon, &v);
    if (!r)
        str_set(&v.err, err.data, err.len);
    if (!v.group && v.rc < 0) {
        log_error("%s: to=<%s>: group lookup failed: %s (451)", queue_id(ctx),
                  log_safe_cstr(addr), str_cstr(&v.err));
        st = tempfail(ctx, "451", "4.4.3",
                      "Group directory unavailable, try again later");
    } else if (v.group && v.rc == LK_LIMIT) {
        log_error("%s: to=<%s>: send rights: a group is over a limit: %s "
                  "([ldap] max_nesting, policy groups nested deeper than "
                  "%d): temporary failure", queue_id(ctx),
                  log_safe_cstr(addr), str_cstr(&v.err), PGROUP_NEST_MAX);
        st = tempfail(ctx, "451", "4.3.0",
                      "Cannot check the send rights now, try again later");
    } else if (v.group && v.rc < 0) {
        log_error("%s: to=<%s>: send rights lookup failed: %s (451)",
                  queue_id(ctx), log_safe_cstr(addr), str_cstr(&v.err));
        st = tempfail(ctx, "451", "4.3.0",
                      "Cannot check the send rights now, try again later");
    } else if (v.group && v.rc == RIGHTS_DENY) {
        struct str why = STR_INIT;
        str_appendf(&why, "not allowed to send to this group%s",
                    v.nested.len ? " (nested group " : "");
        if (v.nested.len)
            str_appendf(&why, "%s)", log_safe_cstr(str_cstr(&v.nested)));
        metrics_inc(milter_metrics.refusals, NULL);
        decision(ctx, c, "reject", "send_rights", addr, str_cstr(&why));
        str_free(&why);
        smfi_setreply(ctx, "550", "5.7.1", (char *)str_cstr(&v.text));
        st = SMFIS_REJECT;
    } else if (rcpt_add(c, arg, addr, v.group ? v.info.dn : NULL) < 0) {
        st = tempfail(ctx, "452", "4.5.3", "Too many recipients");
    } else if (v.group && v.rc == RIGHTS_HOLD) {
        c->nheld++;
        if (c->hold_group == NULL) {
            c->hold_group = xstrdup(addr);
            c->hold_rule = v.hold_rule;
        }
        decision(ctx, c, "moderate", "send_rights", addr,
                 "not allowed to send directly: held for the moderators");
    }
    milter_pool_put(milter_ctx->pool, r);
    rights_rcpt_free(&v);
    str_free(&err);
    return st;
}

/* ctl_rcpt - a reply to a moderation notice (moderate.c): its token must
   name a message still waiting (550 5.1.1 otherwise, 451 on trouble) */
static sfsistat ctl_rcpt(SMFICTX *ctx, struct mconn *c, const char *arg,
                         const char *token)
{
    struct str err = STR_INIT;
    struct mres *r = milter_pool_get(milter_ctx->pool, &err);
    int rc = r ? moderate_known(r, token, &err) : LK_TEMP;
    sfsistat st = SMFIS_CONTINUE;

    milter_pool_put(milter_ctx->pool, r);
    if (rc < 0) {
        log_error("%s: moderation reply: %s (451)", queue_id(ctx),
                  str_cstr(&err));
        st = tempfail(ctx, "451", "4.3.0", "Temporary failure, try again "
                      "later");
    } else if (rc == LK_NOTFOUND) {
        log_info("%s: moderation reply from <%s>: unknown or used token: "
                 "refused", queue_id(ctx), log_safe_cstr(c->sender));
        smfi_setreply(ctx, "550", "5.1.1", "Unknown or used moderation "
                      "address");
        st = SMFIS_REJECT;
    } else if (rcpt_add(c, arg, token, NULL) < 0) {
        st = tempfail(ctx, "452", "4.5.3", "Too many recipients");
    } else {
        c->rcpt[c->nrcpt - 1].ctl = 1;
        c->nctl++;
    }
    str_free(&err);
    return st;
}

static sfsistat mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct mconn *c = conn_of(ctx);
    char *addr, token[MODERATE_TOKEN_LEN + 1];
    sfsistat st;

    if (c == NULL || argv[0] == NULL)
        return SMFIS_TEMPFAIL;
    if ((addr = bare_address(argv[0])) == NULL)
        return tempfail(ctx, "452", "4.5.3", "Recipient address too long");
    str_lower(addr, strlen(addr));
    if (milter_ctx->cfg->moderation_address[0] &&
        moderate_token_of(milter_ctx->cfg, addr, token)) {
        st = ctl_rcpt(ctx, c, argv[0], token);
        free(addr);
        return st;
    }
    { /* 9A+x@alias-domain. is the group 9a@domain */
        char *canon = canonical_address(addr);
        if (canon == NULL) {
            log_error("%s: to=<%s>: alias domain chain longer than %d (the "
                      "domains table): temporary failure", queue_id(ctx),
                      log_safe_cstr(addr), ADDR_ALIAS_DOMAIN_DEPTH);
            free(addr);
            return tempfail(ctx, "451", "4.3.0", "Temporary failure, try "
                            "again later");
        }
        free(addr);
        addr = canon;
    }
    if (milter_group_domain(milter_ctx->cfg, addr))
        st = group_rcpt(ctx, c, argv[0], addr);
    else if (rcpt_add(c, argv[0], addr, NULL) < 0)
        st = tempfail(ctx, "452", "4.5.3", "Too many recipients");
    else
        st = SMFIS_CONTINUE;
    free(addr);
    return st;
}

/* note_ar - remember the index of an A-R header that claims our id */
static void note_ar(struct mconn *c, const char *value)
{
    c->ar_seen++;
    if (!ar_is_ours(value, milter_ctx->cfg->authserv_id))
        return;
    if ((long long)c->n_ar_ours >= milter_ctx->cfg->max_headers) {
        c->ar_overflow = 1;
        return;
    }
    c->ar_ours = xreallocarray(c->ar_ours, c->n_ar_ours + 1,
                               sizeof(*c->ar_ours));
    c->ar_ours[c->n_ar_ours++] = (int)c->ar_seen;
}

/* from_domain_add - the domain of one From mailbox (text inside
   v[0..len)), once; a mailbox without a usable domain marks from_bad */
static void from_domain_add(struct mconn *c, const char *v, size_t len)
{
    char box[MILTER_ADDR_MAX + 1];
    const char *at;
    size_t dl;

    if (!msghdr_mailbox(v, len, box, sizeof(box)) ||
        (at = strrchr(box, '@')) == NULL || (dl = strlen(at + 1)) == 0 ||
        dl > 253) {
        c->from_bad = 1;
        return;
    }
    str_lower(box, strlen(box));
    if (at[dl] == '.')
        box[at - box + dl] = '\0'; /* a trailing dot */
    for (const char *p = at + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.')) {
            c->from_bad = 1;
            return;
        }
    for (size_t i = 0; i < c->nfrom; i++)
        if (!strcmp(c->from_dom[i], at + 1))
            return;
    if (c->nfrom >= DMARC_FROM_MAX) {
        c->from_bad = 1;
        return;
    }
    c->from_dom[c->nfrom++] = xstrdup(at + 1);
}

/* note_from - the From field's mailboxes (a comma outside quotes,
   comments and angle brackets separates them: RFC 5322 mailbox-list) */
static void note_from(struct mconn *c, const char *value)
{
    const char *start = value;
    int quoted = 0, angle = 0, comment = 0;

    for (const char *p = value;; p++) {
        if (*p == '\0' || (*p == ',' && !quoted && !angle && !comment)) {
            from_domain_add(c, start, (size_t)(p - start));
            if (*p == '\0')
                break;
            start = p + 1;
        } else if (*p == '\\' && p[1] && (quoted || comment)) {
            p++;
        } else if (*p == '"' && !comment) {
            quoted = !quoted;
        } else if (!quoted && *p == '(') {
            comment++;
        } else if (!quoted && *p == ')' && comment) {
            comment--;
        } else if (!quoted && !comment && *p == '<') {
            angle = 1;
        } else if (!quoted && !comment && *p == '>') {
            angle = 0;
        }
    }
}

static sfsistat mlfi_header(SMFICTX *ctx, char *name, char *value)
{
    struct mconn *c = conn_of(ctx);
    /* signing was written for values without the leading space */
    const char *bare = c && c->leadspc && value[0] == ' ' ? value + 1 : value;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (!strcasecmp(name, AR_NAME))
        note_ar(c, value);
    if (c->dmarc && !strcasecmp(name, "From"))
        note_from(c, value);
    if (c->inbound && !strcasecmp(name, XDMARC_NAME))
        c->n_xdmarc++;
    if ((c->nheld || c->nctl) && !strcasecmp(name, "Subject"))
        moderate_note_subject(&c->subject, value);
    if (c->verify)
        verify_header(milter_ctx, c->verify, name, value, c->leadspc);
    if (c->sign && sign_header(milter_ctx, c->sign, name, bare) < 0)
        log_error("%s: headers over max_headers/max_header_bytes: message "
                  "not signed", queue_id(ctx)); /* its From is still checked */
    return SMFIS_CONTINUE;
}

/* from_gate - an authenticated login signs only as a From it owns
   (fromcheck.c); else 550 5.7.1 or unsigned per [milter] unowned_from.
   SMFIS_CONTINUE (c->sign dropped when unsigned), or the reply. */
static sfsistat from_gate(SMFICTX *ctx, struct mconn *c, struct mres *r)
{
    struct str why = STR_INIT, err = STR_INIT;
    sfsistat st = SMFIS_CONTINUE;
    int rc = from_owned(milter_ctx, r, c->login, sign_from(c->sign), &why,
                        &err);

    if (rc < 0) {
        log_error("%s: login=%s: cannot check the From: address: %s (451)",
                  queue_id(ctx), log_safe_cstr(c->login), str_cstr(&err));
        st = tempfail(ctx, "451", "4.3.0",
                      "Cannot check the From address now, try again later");
    } else if (rc == LK_NOTFOUND &&
               milter_ctx->cfg->unowned_from == UNOWNED_FROM_REJECT) {
        str_append_cstr(&why, " (unowned_from = reject)");
        decision(ctx, c, "reject", "from", NULL, str_cstr(&why));
        smfi_setreply(ctx, "550", "5.7.1",
                      "The From: address is not one of your addresses");
        st = SMFIS_REJECT;
    } else if (rc == LK_NOTFOUND) {
        str_append_cstr(&why, ": passes unsigned (unowned_from = unsigned)");
        metrics_inc(milter_metrics.dkim_sign, METRICS_L("unowned_from"));
        decision(ctx, c, "unsigned", "from", NULL, str_cstr(&why));
        sign_free(c->sign);
        c->sign = NULL;
    }
    str_free(&why);
    str_free(&err);
    return st;
}

static sfsistat mlfi_eoh(SMFICTX *ctx)
{
    struct mconn *c = conn_of(ctx);
    struct str err = STR_INIT;
    struct mres *r;
    sfsistat st;
    int rc;

    if (c && c->verify)
        verify_eoh(c->verify);
    if (c == NULL || c->sign == NULL)
        return SMFIS_CONTINUE;
    r = milter_pool_get(milter_ctx->pool, &err);
    if (r && c->login && (st = from_gate(ctx, c, r)) != SMFIS_CONTINUE) {
        milter_pool_put(milter_ctx->pool, r);
        str_free(&err);
        return st;
    }
    rc = r == NULL ? -1 : c->sign ? sign_eoh(milter_ctx, r, c->sign, &err) : 0;
    milter_pool_put(milter_ctx->pool, r);
    if (rc < 0) {
        log_error("%s: DKIM: %s (451)", queue_id(ctx), str_cstr(&err));
        str_free(&err);
        return tempfail(ctx, "451", "4.3.0",
                        "Signing keys unavailable, try again later");
    }
    if (err.len)
        log_error("%s: DKIM: %s", queue_id(ctx), str_cstr(&err));
    str_free(&err);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct mconn *c = conn_of(ctx);

    if (c && c->verify)
        verify_body(c->verify, buf, len);
    if (c && c->nheld)
        moderate_note_body(&c->excerpt, buf, len);
    if (c && c->sign && sign_active(c->sign) &&
        sign_body(c->sign, buf, len) < 0) {
        log_error("%s: DKIM: body hashing failed: message not signed",
                  queue_id(ctx));
        sign_free(c->sign);
        c->sign = NULL;
    }
    return SMFIS_CONTINUE;
}

/* expand_all - expand every group recipient into add: each address once,
   none that is a plain recipient already (hash sets, so a group of many
   thousand members costs linear time). */
static sfsistat expand_all(SMFICTX *ctx, struct mconn *c, struct strvec *add,
                           size_t *excluded)
{
    const struct milter_config *cfg = milter_ctx->cfg;
    struct str err = STR_INIT;
    struct mres *r = milter_pool_get(milter_ctx->pool, &err);
    sfsistat st = SMFIS_CONTINUE;
    struct hmap seen; /* plain recipients and added members (borrowed) */

    hmap_init(&seen, c->nrcpt + 64, HMAP_NOCASE);
    for (size_t k = 0; k < c->nrcpt; k++)
        if (!c->rcpt[k].dn && !c->rcpt[k].ctl)
            hmap_put(&seen, c->rcpt[k].addr, c);
    for (size_t i = 0; r && i < c->nrcpt && st == SMFIS_CONTINUE; i++) {
        struct strvec members = STRVEC_INIT;
        size_t added = 0;
        int rc;
        if (c->rcpt[i].dn == NULL)
            continue;
        rc = milter_group_expand(milter_ctx, r, c->rcpt[i].dn, &members, &err);
        if (rc < 0)
            metrics_inc(milter_metrics.expansions,
                        METRICS_L(rc == LK_LIMIT ? "limit" : "error"));
        if (rc == LK_LIMIT) {
            log_error("%s: to=<%s>: group expansion over the limit: %s "
                      "([milter] max_recipients, [ldap] max_nesting): "
                      "temporary failure", queue_id(ctx),
                      log_safe_cstr(c->rcpt[i].addr), str_cstr(&err));
            st = tempfail(ctx, "452", "4.5.3",
                          "Group too large to expand, try again later");
        } else if (rc < 0) {
            log_error("%s: to=<%s>: group expansion failed: %s (451)",
                      queue_id(ctx), log_safe_cstr(c->rcpt[i].addr),
                      str_cstr(&err));
            st = tempfail(ctx, "451", "4.4.3",
                          "Group directory unavailable, try again later");
        }
        for (size_t j = 0; st == SMFIS_CONTINUE && j < members.n; j++) {
            const char *mbr = members.v[j];
            if (!cfg->copy_to_sender && (!strcasecmp(mbr, c->sender) ||
                                         !strcasecmp(mbr, c->sender_canon))) {
                (*excluded)++;
            } else if (hmap_get(&seen, mbr) == NULL) {
                strvec_add(add, mbr);
                hmap_put(&seen, add->v[add->n - 1], c);
                added++;
            }
        }
        if (st == SMFIS_CONTINUE) {
            char why[96];
            snprintf(why, sizeof(why), "group expanded to %zu addresses "
                     "(%zu new)", members.n, added);
            metrics_inc(milter_metrics.expansions, METRICS_L("expanded"));
            metrics_add(metrics_series(milter_metrics.expanded, NULL),
                        (long long)added);
            decision(ctx, c, "expand", "groups", c->rcpt[i].addr, why);
        }
        strvec_free(&members);
    }
    hmap_free(&seen, NULL);
    if (r == NULL) {
        log_error("%s: %s (451)", queue_id(ctx), str_cstr(&err));
        st = tempfail(ctx, "451", "4.4.3", "Temporary failure, try again later");
    }
    milter_pool_put(milter_ctx->pool, r);
    str_free(&err);
    return st;
}

static sfsistat apply_expansion(SMFICTX *ctx, struct mconn *c)
{
    struct strvec add = {0};
    size_t excluded = 0, remaining = c->nrcpt - c->ngroups - c->nctl;
    sfsistat st = expand_all(ctx, c, &add, &excluded);

    if (st != SMFIS_CONTINUE) {
        strvec_free(&add);
        return st;
    }
    if (remaining + add.n == 0 && excluded) {
        /* the sender is the only member: deliver to the sender rather
           than let the message vanish */
        log_info("%s: groups have no other member than the sender: "
                 "delivered to the sender", queue_id(ctx));
        strvec_add(&add, c->sender);
    } else if (remaining + add.n == 0) {
        log_info("%s: groups have no member addresses: rejected",
                 queue_id(ctx));
        strvec_free(&add);
        smfi_setreply(ctx, "550", "5.1.1",
                      "The group has no members with a mail address");
        return SMFIS_REJECT;
    }
    for (size_t i = 0; i < add.n && st == SMFIS_CONTINUE; i++) {
        struct str a = STR_INIT;
        str_appendf(&a, "<%s>", add.v[i]);
        if (smfi_addrcpt(ctx, a.data) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot add recipients");
        str_free(&a);
    }
    for (size_t i = 0; i < c->nrcpt && st == SMFIS_CONTINUE; i++)
        if (c->rcpt[i].dn && smfi_delrcpt(ctx, c->rcpt[i].arg) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot remove recipients");
    strvec_free(&add);
    return st;
}

/* insert_header - at the top; with the leading space when negotiated */
static int insert_header(SMFICTX *ctx, struct mconn *c, const char *name,
                         const char *value)
{
    struct str v = STR_INIT;
    int rc;

    /* a signature or our A-R header: bounded by max_header_bytes */
    str_appendf(&v, "%s%s", c->leadspc ? " " : "", value);
    rc = smfi_insheader(ctx, 0, (char *)name, v.data);
    str_free(&v);
    return rc;
}

static sfsistat apply_signatures(SMFICTX *ctx, struct mconn *c)
{
    struct strvec sigs = {0};
    struct str err = STR_INIT;
    sfsistat st = SMFIS_CONTINUE;

    if (sign_eom(c->sign, &sigs, &err) < 0) {
        metrics_inc(milter_metrics.dkim_sign, METRICS_L("error"));
        log_error("%s: DKIM: %s: message not signed", queue_id(ctx),
                  str_cstr(&err));
    }
    for (size_t i = sigs.n; i-- > 0 && st == SMFIS_CONTINUE;)
        if (insert_header(ctx, c, "DKIM-Signature", sigs.v[i]) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot add the signature");
    if (sigs.n && st == SMFIS_CONTINUE) {
        char why[64];
        snprintf(why, sizeof(why), "%zu DKIM signature(s) added", sigs.n);
        metrics_inc(milter_metrics.dkim_sign, METRICS_L("signed"));
        decision(ctx, c, "sign", "dkim_sign", NULL, why);
    }
    strvec_free(&sigs);
    str_free(&err);
    return st;
}

/* remove_forged_ar - delete A-R headers with our authserv-id, last first
   (so the indexes of the others stay valid) */
static sfsistat remove_forged_ar(SMFICTX *ctx, struct mconn *c)
{
    if (c->ar_overflow) {
        log_error("%s: more than %lld Authentication-Results headers claim "
                  "our authserv-id: rejected", queue_id(ctx),
                  milter_ctx->cfg->max_headers);
        smfi_setreply(ctx, "550", "5.7.0",
                      "Too many Authentication-Results header fields");
        return SMFIS_REJECT;
    }
    for (size_t i = c->n_ar_ours; i-- > 0;)
        if (smfi_chgheader(ctx, AR_NAME, c->ar_ours[i], NULL) != MI_SUCCESS)
            return tempfail(ctx, "451", "4.3.0", "Cannot remove a header");
    if (c->n_ar_ours)
        log_info("%s: removed %zu Authentication-Results header(s) claiming "
                 "authserv-id %s", queue_id(ctx), c->n_ar_ours,
                 milter_ctx->cfg->authserv_id);
    return SMFIS_CONTINUE;
}

/* count_dkim - one verification result ("dkim=RESULT ...") counted */
static void count_dkim(const char *entry)
{
    char word[32];
    const char *p = strstr(entry, "dkim=");
    size_t n = 0;

    if (p == NULL)
        return;
    for (p += 5; n < sizeof(word) - 1 && p[n] >= 'a' && p[n] <= 'z'; n++)
        word[n] = p[n];
    word[n] = '\0';
    metrics_inc(milter_metrics.dkim_verify, METRICS_L(n ? word : "other"));
}

/* rcpt_action - the DMARC action for this message: each recipient
   domain's domains.dmarc_action or [milter] dmarc_action, the most
   lenient of them (record > quarantine > reject: one recipient domain
   that only records keeps the message for all, rather than refusing mail
   that domain wants) */
static int rcpt_action(struct mconn *c)
{
    static const char *const names[] = {"reject", "quarantine", "record"};
    int act = -1;

    for (size_t i = 0; i < c->nrcpt; i++) {
        const char *at = strrchr(c->rcpt[i].addr, '@');
        char v[16];
        int a = milter_ctx->cfg->dmarc_action;
        if (at && milter_dmarc_action(milter_ctx, at + 1, v, sizeof(v)))
            for (int k = 0; k < 3; k++)
                if (!strcmp(v, names[k]))
                    a = k;
        act = act < 0 ? a : dmarc_lenient(act, a);
    }
    return act < 0 ? milter_ctx->cfg->dmarc_action : act;
}

/* dmarc_message - evaluate DMARC (dmarc.c) into ar and logs */
static void dmarc_message(struct mconn *c, const char *spf, struct str *ar,
                          struct strvec *logs, struct dmarc_outcome *out)
{
    struct dmarc_input in = {0};
    const char *at = strrchr(c->sender, '@');
    const char *rat = c->nrcpt ? strrchr(c->rcpt[0].addr, '@') : NULL;

    in.client = c->client;
    in.host = c->host;
    in.helo = c->helo;
    in.mailfrom_domain = at ? at + 1 : "";
    in.spf = spf;
    in.rcpt_domain = rat ? rat + 1 : NULL;
    in.action = rcpt_action(c);
    for (size_t i = 0; i < c->nfrom; i++)
        in.from_domains[i] = c->from_dom[i];
    in.nfrom = c->nfrom;
    in.from_bad = c->from_bad;
    verify_results(c->verify, &in);
    dmarc_eval(milter_ctx, &in, ar, logs, out);
    dmarc_input_free(&in);
}

/* dmarc_act - the disposition: 550 5.7.1, or quarantine (header or
   Postfix's hold queue); forged X-Postern-DMARC headers are removed */
static sfsistat dmarc_act(SMFICTX *ctx, struct mconn *c,
                          const struct dmarc_outcome *o)
{
    const struct milter_config *cfg = milter_ctx->cfg;
    struct str text = STR_INIT;
    sfsistat st = SMFIS_CONTINUE;

    for (size_t i = c->n_xdmarc; i > 0 && st == SMFIS_CONTINUE; i--)
        if (smfi_chgheader(ctx, XDMARC_NAME, (int)i, NULL) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot remove a header");
    if (st != SMFIS_CONTINUE || o->disposition == DMARC_POL_NONE)
        return st;
    if (o->disposition == DMARC_POL_REJECT) {
        str_appendf(&text, "Message rejected: it fails the DMARC policy "
                    "(p=reject) of its From domain %s", o->reject_domain);
        metrics_inc(milter_metrics.dmarc_action, METRICS_L("rejected"));
        decision(ctx, c, "reject", "dmarc", NULL, str_cstr(&text));
        smfi_setreply(ctx, "550", "5.7.1", (char *)str_cstr(&text));
        str_free(&text);
        return SMFIS_REJECT;
    }
    str_appendf(&text, "quarantined: fails the DMARC policy of %s",
                o->reject_domain);
    if (cfg->dmarc_quarantine == DMARC_Q_HOLD) {
        if (smfi_quarantine(ctx, (char *)str_cstr(&text)) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot quarantine");
        else
            metrics_inc(milter_metrics.dmarc_action, METRICS_L("held"));
    } else if (insert_header(ctx, c, XDMARC_NAME, "quarantine") !=
               MI_SUCCESS) {
        st = tempfail(ctx, "451", "4.3.0", "Cannot add a header");
    } else {
        metrics_inc(milter_metrics.dmarc_action, METRICS_L("quarantined"));
    }
    if (st == SMFIS_CONTINUE)
        decision(ctx, c, cfg->dmarc_quarantine == DMARC_Q_HOLD ? "hold"
                                                               : "quarantine",
                 "dmarc", NULL, str_cstr(&text));
    str_free(&text);
    return st;
}

/* add_auth_results - SPF, DKIM and DMARC results of inbound mail, one
   header; then the DMARC disposition */
static sfsistat add_auth_results(SMFICTX *ctx, struct mconn *c)
{
    const struct milter_config *cfg = milter_ctx->cfg;
    const char *spf = cfg->spf ? milter_spf_check(c->client, c->helo, c->sender)
                               : NULL;
    struct str ar = STR_INIT, dkim = STR_INIT;
    struct strvec dlog = {0}, mlog = {0};
    struct dmarc_outcome dm = {DMARC_POL_NONE, ""};
    sfsistat st = SMFIS_CONTINUE;

    /* bounded: an address, a HELO name, one result per signature (at most
       max_headers signatures within max_header_bytes) */
    str_append_cstr(&ar, cfg->authserv_id);
    if (spf && *c->sender) {
        str_appendf(&ar, ";\n\tspf=%s smtp.mailfrom=", spf);
        ar_append_value(&ar, c->sender);
    } else if (spf) {
        str_appendf(&ar, ";\n\tspf=%s smtp.helo=", spf);
        ar_append_value(&ar, c->helo);
    }
    if (c->verify) {
        verify_eom(c->verify, &dkim, &dlog);
        str_append(&ar, dkim.data ? dkim.data : "", dkim.len);
    }
    if (c->dmarc)
        dmarc_message(c, spf, &ar, &mlog, &dm);
    if ((spf || c->verify || c->dmarc) &&
        insert_header(ctx, c, AR_NAME, ar.data) != MI_SUCCESS)
        st = tempfail(ctx, "451", "4.3.0", "Cannot add a header");
    if (st == SMFIS_CONTINUE && (spf || c->verify || c->dmarc)) {
        struct str line = STR_INIT;
        str_appendf(&line, "helo=<%s> spf=%s; ", log_safe_cstr(c->helo),
                    spf ? spf : "-");
        for (size_t i = 0; i < dlog.n; i++) {
            str_appendf(&line, "%s%s", i ? ", " : "",
                        log_safe_cstr(dlog.v[i]));
            count_dkim(dlog.v[i]);
        }
        if (c->verify && dlog.n == 0)
            metrics_inc(milter_metrics.dkim_verify, METRICS_L("none"));
        str_append_cstr(&line, !c->verify ? "dkim -"
                               : dlog.n ? "" : "dkim=none");
        for (size_t i = 0; i < mlog.n; i++)
            str_appendf(&line, "; %s", log_safe_cstr(mlog.v[i]));
        if (spf)
            metrics_inc(milter_metrics.spf, METRICS_L(spf));
        decision(ctx, c, "authres", "inbound", NULL, str_cstr(&line));
        str_free(&line);
    }
    if (st == SMFIS_CONTINUE && c->dmarc)
        st = dmarc_act(ctx, c, &dm);
    str_free(&ar);
    str_free(&dkim);
    strvec_free(&dlog);
    strvec_free(&mlog);
    return st;
}

/* reply_identity - who replies: the SASL login's addresses (LDAP), else
   the envelope sender; canonical.  0 or LK_TEMP. */
static int reply_identity(struct mconn *c, struct mres *r, struct strvec *who,
                          struct str *err)
{
    struct strvec raw = STRVEC_INIT;
    struct addr a;

    if (c->login == NULL || !milter_ldap_on(milter_ctx->cfg)) {
        if (c->sender_canon[0])
            strvec_add(who, c->sender_canon);
        return 0;
    }
    if (milter_user_addresses(milter_ctx, r, c->login, &raw, err) < 0) {
        strvec_free(&raw);
        return LK_TEMP;
    }
    for (size_t i = 0; i < raw.n; i++)
        if (milter_canonical(milter_ctx, raw.v[i], ADDR_NEED_DOMAIN, &a) == 0 &&
            !strvec_has(who, a.full))
            strvec_add(who, a.full);
    /* a login outside LDAP that is an address (an SQL mailbox) */
    if (who->n == 0 && strchr(c->login, '@') &&
        milter_canonical(milter_ctx, c->login, ADDR_NEED_DOMAIN, &a) == 0)
        strvec_add(who, a.full);
    strvec_free(&raw);
    return 0;
}

/* apply_replies - record the moderators' decisions (moderate.c), then
   drop the reply addresses: the reply itself is discarded when it has no
   other recipient */
static sfsistat apply_replies(SMFICTX *ctx, struct mconn *c)
{
    struct str err = STR_INIT;
    struct mres *r = milter_pool_get(milter_ctx->pool, &err);
    struct strvec who = STRVEC_INIT;
    sfsistat st = SMFIS_CONTINUE;

    if (r == NULL || reply_identity(c, r, &who, &err) < 0)
        st = tempfail(ctx, "451", "4.3.0", "Temporary failure, try again "
                      "later");
    for (size_t i = 0; i < c->nrcpt && st == SMFIS_CONTINUE; i++) {
        struct str what = STR_INIT;
        int rc;
        if (!c->rcpt[i].ctl)
            continue;
        rc = moderate_reply(milter_ctx, r, c->rcpt[i].addr, &who,
                            str_cstr(&c->subject), &what, &err);
        if (rc < 0)
            st = tempfail(ctx, "451", "4.3.0", "Temporary failure, try "
                          "again later");
        else
            log_info("%s: moderation reply from <%s> login=%s: %s",
                     queue_id(ctx), log_safe_cstr(c->sender),
                     c->login ? log_safe_cstr(c->login) : "-",
                     log_safe_cstr(str_cstr(&what)));
        str_free(&what);
    }
    if (st != SMFIS_CONTINUE)
        log_error("%s: moderation reply: %s (451)", queue_id(ctx),
                  str_cstr(&err));
    milter_pool_put(milter_ctx->pool, r);
    strvec_free(&who);
    str_free(&err);
    if (st == SMFIS_CONTINUE && c->nctl == c->nrcpt)
        return SMFIS_DISCARD;
    for (size_t i = 0; i < c->nrcpt && st == SMFIS_CONTINUE; i++)
        if (c->rcpt[i].ctl && smfi_delrcpt(ctx, c->rcpt[i].arg) != MI_SUCCESS)
            st = tempfail(ctx, "451", "4.3.0", "Cannot remove recipients");
    return st;
}

/* apply_hold - into Postfix's hold queue, and a moderation_queue row
   (moderate.c); without the row the whole message is a temporary
   failure, so nothing is held that nobody knows about */
static sfsistat apply_hold(SMFICTX *ctx, struct mconn *c)
{
    struct str err = STR_INIT, why = STR_INIT;
    struct mres *r;
    struct moderate_msg msg = {queue_id(ctx), c->hold_group, c->sender,
                               c->login, c->hold_rule,
                               str_cstr(&c->subject), str_cstr(&c->excerpt)};
    int rc;

    str_appendf(&why, "moderation: %s", c->hold_group);
    if (smfi_quarantine(ctx, (char *)str_cstr(&why)) != MI_SUCCESS) {
        str_free(&why);
        return tempfail(ctx, "451", "4.3.0", "Cannot hold the message");
    }
    r = milter_pool_get(milter_ctx->pool, &err);
    rc = r ? moderate_hold(milter_ctx->cfg, r, &msg, &err) : LK_TEMP;
    milter_pool_put(milter_ctx->pool, r);
    str_free(&why);
    if (rc < 0) {
        log_error("%s: cannot record the message held for moderation: %s "
                  "(451)", queue_id(ctx), str_cstr(&err));
        str_free(&err);
        return tempfail(ctx, "451", "4.3.0", "Temporary failure, try again "
                        "later");
    }
    decision(ctx, c, "hold", "moderation", c->hold_group,
             "held in the hold queue for the moderators");
    str_free(&err);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_eom(SMFICTX *ctx)
{
    struct mconn *c = conn_of(ctx);
    sfsistat st = SMFIS_CONTINUE;

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    if (c->nctl)
        st = apply_replies(ctx, c);
    if (st == SMFIS_CONTINUE && c->ngroups)
        st = apply_expansion(ctx, c);
    if (st == SMFIS_CONTINUE && c->sign && sign_active(c->sign))
        st = apply_signatures(ctx, c);
    if (st == SMFIS_CONTINUE)
        st = remove_forged_ar(ctx, c);
    if (st == SMFIS_CONTINUE && c->inbound)
        st = add_auth_results(ctx, c);
    if (st == SMFIS_CONTINUE && c->nheld)
        st = apply_hold(ctx, c);
    message_reset(c);
    return st;
}

static sfsistat mlfi_abort(SMFICTX *ctx)
{
    struct mconn *c = conn_of(ctx);

    if (c)
        message_reset(c);
    return SMFIS_CONTINUE;
}

static sfsistat mlfi_close(SMFICTX *ctx)
{
    struct mconn *c = conn_of(ctx);

    if (c) {
        message_reset(c);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = "postern-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_ADDHDRS | SMFIF_CHGHDRS |
                  SMFIF_QUARANTINE,
    .xxfi_connect = mlfi_connect,
    .xxfi_helo = mlfi_helo,
    .xxfi_envfrom = mlfi_envfrom,
    .xxfi_envrcpt = mlfi_envrcpt,
    .xxfi_header = mlfi_header,
    .xxfi_eoh = mlfi_eoh,
    .xxfi_body = mlfi_body,
    .xxfi_eom = mlfi_eom,
    .xxfi_abort = mlfi_abort,
    .xxfi_close = mlfi_close,
    .xxfi_negotiate = mlfi_negotiate,
};
