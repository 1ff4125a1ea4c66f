/*
 * milter - shared declarations of postern-milter, the Postfix milter for
 * LDAP group expansion, group send rights, DKIM signing and, for inbound
 * mail, SPF and DKIM verification written as Authentication-Results.
 *
 * Structure:
 *   main.c       life cycle (lib/daemon.h), socket, libmilter, SIGHUP
 *   config.c     the [milter] table and its checks, listen spec conversion
 *   callbacks.c  the libmilter callback table and the per-connection state
 *   pool.c       a locked pool of LDAP + database handles for the threads
 *   groups.c     LDAP groups (lib/ldapgroup.h, one cache for all threads)
 *                and the policy-group snapshot (lib/pgroup.h, reloaded
 *                by lib/reloader.h)
 *   rights.c     who may send to a group (SQL rules, LDAP attribute), the
 *                group written to and every group nested below it
 *   moderate.c   moderated groups: the held message's moderation_queue
 *                row, the moderators' one-time reply addresses
 *   sign.c       DKIM signing with libopendkim
 *   fromcheck.c  may the login use the From address (before signing)
 *   verify.c     DKIM verification with libopendkim (inbound)
 *   spf.c        SPF with libspf2 (inbound)
 *   dns.c        the per-thread DNS query service of libopendkim
 *   authres.c    Authentication-Results: reading authserv-ids, quoting
 *   dmarc.c      DMARC (RFC 7489) of inbound mail: policy discovery,
 *                alignment, disposition, the dmarc_results writer thread
 *
 * Threads: libmilter runs callbacks in its own threads.  The only shared
 * mutable state is the handle pool, the LDAP group caches and the policy
 * group snapshot, each behind its mutex;
 * everything about one SMTP session lives in struct mconn (smfi_setpriv).
 */
#ifndef POSTERN_MILTER_H
#define POSTERN_MILTER_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "ldapc.h"
#include "ldapgroup.h"
#include "lookup.h"
#include "metrics.h"
#include "pgroup.h"
#include "str.h"
#include "strvec.h"

#define MILTER_RCPT_MAX 1000        /* envelope recipients per message */
#define MILTER_ADDR_MAX 320
#define MILTER_GROUP_DOMAINS_MAX 64
#define MILTER_NETS_MAX 32

enum missing_key { MISSING_KEY_PASS, MISSING_KEY_TEMPFAIL };
/* an authenticated login's From: it may not use: 550 5.7.1, or unsigned */
enum unowned_from { UNOWNED_FROM_REJECT, UNOWNED_FROM_UNSIGNED };
/* [milter] dmarc_action, domains.dmarc_action: the order of the enum
   strings "reject|quarantine|record", most lenient last */
enum dmarc_action { DMARC_ACT_REJECT, DMARC_ACT_QUARANTINE, DMARC_ACT_RECORD };
enum dmarc_quarantine { DMARC_Q_HEADER, DMARC_Q_HOLD };

struct milter_config {
    struct server_config srv;      /* listen, user, unix_socket_mode */
    char *group_domains;           /* "" = no group lookups, "*" = every
                                      recipient may be a group */
    long long max_recipients;      /* members per expansion */
    int copy_to_sender;
    int send_rules_sql;
    char *send_rule_attribute;     /* LDAP attribute with the rule, "" = off */
    char *reject_text;
    long long milter_timeout;      /* ms, Postfix <-> milter */
    long long connections;         /* LDAP + SQL handle pairs */
    int dkim_sign;
    char *trusted_networks;        /* clients whose mail is signed */
    int dkim_missing_key;          /* enum missing_key */
    char *dkim_fallback;           /* none|parent|DOMAIN (sign.c) */
    int unowned_from;              /* enum unowned_from */
    long long max_headers;
    long long max_header_bytes;
    char *authserv_id;             /* "" in the file = the host name */
    int verify;                    /* DKIM verification of inbound mail */
    int spf;                       /* SPF of inbound mail */
    long long max_signatures;      /* DKIM signatures verified per message */
    long long poll_interval;       /* ms, policy-group snapshot reloads */
    char *recipient_delimiter;     /* addr_canonical: "+" */
    int dmarc;                     /* DMARC evaluation of inbound mail */
    int dmarc_action;              /* enum dmarc_action */
    int dmarc_quarantine;          /* enum dmarc_quarantine */
    char *dmarc_trusted_forwarders; /* networks: evaluated, not enforced */
    char *dmarc_mailing_lists;     /* networks or .host-suffixes: likewise */
    char *dmarc_own_networks;      /* clients never evaluated */
    char *dmarc_psl_file;          /* the Public Suffix List */
    long long dmarc_dns_timeout;   /* ms, per _dmarc lookup */
    long long dmarc_queue_max;     /* result tuples waiting for SQL */
    int dmarc_record;              /* write dmarc_results */
    char *moderation_address;      /* moderate@DOMAIN: replies go to
                                      moderate+TOKEN@DOMAIN; "" = off */
    long long moderation_timeout;  /* ms, held without a decision */
    char *moderation_sendmail;     /* postern moderate: mails */
    char *moderation_postsuper;    /* postern moderate: -H / -d */
    char *moderation_host;         /* moderation_queue.host; "" = the
                                      host name (moderate_host) */
    struct ldapc_config ldap;
    struct db_config db;
};

extern const struct daemon_app milter_app;

/* config.c */
/* milter_listen_spec - "inet:HOST:PORT" / "unix:PATH" -> libmilter syntax. */
int milter_listen_spec(const char *spec, struct str *out, struct str *err);
/* milter_net_match - 1 if the address text ip is in the list of networks. */
int milter_net_match(const char *list, const char *ip);
/* milter_group_domain - 1 if addr's domain may hold group addresses
   (listed in group_domains, or group_domains = *); 0 for every address
   when group_domains is empty. */
int milter_group_domain(const struct milter_config *cfg, const char *addr);
/* milter_ldap_on - 1 if LDAP is in use (group_domains is not empty): then
   only does any message wait for LDAP. */
int milter_ldap_on(const struct milter_config *cfg);

/* pool.c: one LDAP and one database handle, used by one thread at a time */
struct mres {
    struct ldapc *ld;
    struct db *db;
    struct mres *next;     /* free list */
    struct mres *all_next; /* every handle */
};

struct milter_pool;
struct milter_pool *milter_pool_create(const struct milter_config *cfg,
                                       struct str *err);
void milter_pool_free(struct milter_pool *p);
/* milter_pool_get - a free handle pair, waiting for one if need be */
struct mres *milter_pool_get(struct milter_pool *p, struct str *err);
void milter_pool_put(struct milter_pool *p, struct mres *r);

/* groups.c: LDAP groups and policy groups for the callbacks */
struct mctx; /* the program's shared state, see below */

/* milter_groups_start - the LDAP group caches and, with send_rules_sql,
   the policy-group snapshot reloader; 0 or -1 + *err. */
int milter_groups_start(struct mctx *m, struct str *err);
void milter_groups_stop(struct mctx *m);
/* milter_groups_ready - wait up to wait_ms for the first policy-group
   snapshot (a program that asks once, postern explain); 1 ready (or no
   send_rules_sql), 0 not loaded in time */
int milter_groups_ready(struct mctx *m, long long wait_ms);

/* milter_group_lookup - is addr a group?  LK_FOUND (info: its DN and the
   values of send_rule_attribute), LK_NOTFOUND, LK_TEMP (+ *err). */
int milter_group_lookup(struct mctx *m, struct mres *r, const char *addr,
                        struct ldapgroup_info *info, struct str *err);
/* milter_group_expand - every member address of the group at dn (nested
   groups included, each once) into out.  LK_FOUND (a group that is gone
   has no members), LK_TEMP, LK_LIMIT (over [milter] max_recipients, or
   lib/ldapgroup.h's limits). */
int milter_group_expand(struct mctx *m, struct mres *r, const char *dn,
                        struct strvec *out, struct str *err);
/* milter_group_has - is one of who's addresses a member of the LDAP group
   (DN or address)?  LK_*. */
int milter_group_has(struct mctx *m, struct mres *r, const char *group,
                     const struct strvec *who, struct str *err);
/* milter_user_addresses - the addresses of a login (LDAP); LK_*. */
int milter_user_addresses(struct mctx *m, struct mres *r, const char *login,
                          struct strvec *out, struct str *err);

/* milter_pgroups_has - is one of who's addresses in the policy group with
   SQL id gid?  The snapshot lags the database by at most poll_interval: a
   group not in it yet, or no snapshot at all, is LK_TEMP.  LK_*. */
int milter_pgroups_has(struct mctx *m, struct mres *r, unsigned long gid,
                       const struct strvec *who, struct str *err);

/* milter_subgroups - the LDAP groups nested below the group at dn, with
   their addresses and send_rule_attribute values (lib/ldapgroup.h);
   LK_FOUND (a group that is gone has none), LK_TEMP, LK_LIMIT. */
int milter_subgroups(struct mctx *m, struct mres *r, const char *dn,
                     struct ldapgroup_subs *out, struct str *err);
/* milter_canonical - in (a bare address) in the form every rule matches
   (lib/addr.h addr_canonical with [milter] recipient_delimiter and the
   alias domains of the policy-group snapshot: none before the first
   load); flags as for addr_canonical; 0, or -1 for an address that does
   not parse. */
int milter_canonical(struct mctx *m, const char *in, int flags,
                     struct addr *out);

/* rights.c: the answer is a membership question, so an LK_* value (the
   names below say what FOUND and NOTFOUND mean here) */
#define RIGHTS_ALLOW LK_FOUND
#define RIGHTS_DENY LK_NOTFOUND
#define RIGHTS_HOLD 2 /* a moderated rule refuses: hold for moderators */

struct rights_query {
    const char *group_addr;   /* canonical; NULL: a group without address
                                 (only its LDAP rule applies) */
    const char *group_dn;
    const struct strvec *ldap_rules;
    const char *login;        /* SASL login or NULL */
    const char *sender;       /* envelope sender */
    struct strvec *login_addrs; /* NULL, or a cache of the login's
                                   canonical addresses (filled on first
                                   use; n == 0: not read yet) */
    long long *hold_rule;     /* NULL, or set to the id of the moderated
                                 rule that turned a refusal into
                                 RIGHTS_HOLD (the first one) */
};

/* rights_check - may the sender send to the group?  RIGHTS_ALLOW,
   RIGHTS_DENY (the reply text in *text), LK_TEMP, LK_LIMIT (a group over a
   limit: defer, logged apart; the reason in *err). */
int rights_check(struct mctx *m, struct mres *r, const struct rights_query *q,
                 struct str *text, struct str *err);

/* rights_check_nested - may the sender send to every group nested below
   the group q names (q->group_dn)?  RIGHTS_ALLOW, RIGHTS_DENY (the
   refusing group's text in *text, its address or DN in *which: a
   definite refusal wins over trouble with another group), LK_TEMP,
   LK_LIMIT. */
int rights_check_nested(struct mctx *m, struct mres *r,
                        const struct rights_query *q, struct str *text,
                        struct str *which, struct str *err);

/* rights_rcpt - the RCPT decision for addr (canonical), as postern-milter
   makes it and postern explain shows it: is it a group (milter_group_lookup),
   and then may login/sender send to it and to every group nested below it
   (rights_check, rights_check_nested).  r NULL: no handle (LK_TEMP at the
   lookup).  Free with rights_rcpt_free. */
struct rights_rcpt {
    int group;                 /* 1: addr is a group (info filled) */
    int rc;                    /* group 0: the lookup's LK_NOTFOUND or
                                  LK_TEMP; group 1: RIGHTS_ALLOW,
                                  RIGHTS_DENY, RIGHTS_HOLD, LK_TEMP,
                                  LK_LIMIT */
    struct ldapgroup_info info;
    struct str text;           /* RIGHTS_DENY: the reply text */
    struct str nested;         /* RIGHTS_DENY by a nested group: it */
    struct str err;            /* rc < 0: why */
    long long hold_rule;       /* rc RIGHTS_HOLD: the moderated rule */
};
void rights_rcpt(struct mctx *m, struct mres *r, const char *addr,
                 const char *login, const char *sender,
                 struct rights_rcpt *v);
void rights_rcpt_free(struct rights_rcpt *v);

/* moderate.c: moderated groups (see the top of moderate.c) */
#define MODERATE_TOKEN_LEN 32       /* hex digits: 128 bits */
#define MODERATE_SUBJECT_MAX 255
#define MODERATE_EXCERPT_MAX 1000
struct moderate_msg {
    const char *queue_id, *group, *sender, *login; /* login NULL: none */
    long long rule_id;
    const char *subject, *excerpt;
};
/* moderate_token_hash - SHA-256 of token in hex; 0, -1 */
int moderate_token_hash(const char *token, char out[65]);
/* moderate_token_of - is addr (bare, as sent) LOCAL+TOKEN@DOMAIN of
   [milter] moderation_address?  1 with token (lower case) set, or 0 */
int moderate_token_of(const struct milter_config *cfg, const char *addr,
                      char token[MODERATE_TOKEN_LEN + 1]);
/* moderate_note_subject / _body - keep the Subject and the first bytes
   of the body, sanitized and bounded */
void moderate_note_subject(struct str *subject, const char *value);
void moderate_note_body(struct str *excerpt, const unsigned char *buf,
                        size_t len);
/* moderate_host - this MX host's name in moderation_queue.host: [milter]
   moderation_host, else gethostname; 0, or -1 (no name) */
int moderate_host(const struct milter_config *cfg, char *buf, size_t size);
/* moderate_hold - record a held message in moderation_queue; 0, LK_TEMP */
int moderate_hold(const struct milter_config *cfg, struct mres *r,
                  const struct moderate_msg *msg, struct str *err);
/* moderate_known - does token name a message waiting for a decision?
   LK_FOUND, LK_NOTFOUND, LK_TEMP */
int moderate_known(struct mres *r, const char *token, struct str *err);
/* moderate_reply - a reply to token from who (canonical addresses, the
   login's or the envelope sender) with this Subject: LK_FOUND decision
   recorded, LK_NOTFOUND ignored, LK_TEMP; what it did in *what */
int moderate_reply(struct mctx *m, struct mres *r, const char *token,
                   const struct strvec *who, const char *subject,
                   struct str *what, struct str *err);

/* callbacks.c */
/* milter_protocol - the SMFIP_* protocol flags asked of an MTA that offers
   offered: header values with their leading space, no DATA and no
   unknown-command events (there is no callback for them), no reply
   awaited after connect, HELO, a header or a body chunk (they always
   continue); never fewer replies for MAIL, RCPT, end of headers or end
   of message, which can refuse. */
unsigned long milter_protocol(unsigned long offered);

/* sign.c */
struct msign;
int sign_global_init(struct str *err);
void sign_global_end(void);
struct msign *sign_begin(void);
void sign_free(struct msign *s);
/* sign_header - buffer one header (bounded) and follow the From; 0, or
   -1 once when the limits are passed (the message is then never signed,
   its From still followed) */
int sign_header(struct mctx *m, struct msign *s, const char *name,
                const char *value);
/* sign_eoh - find keys for the From domain and start signing; 0, -1 temp */
int sign_eoh(struct mctx *m, struct mres *r, struct msign *s,
             struct str *err);
int sign_body(struct msign *s, const unsigned char *buf, size_t len);
/* sign_eom - the DKIM-Signature header values (appended to out); 0, -1 */
int sign_eom(struct msign *s, struct strvec *out, struct str *err);
int sign_active(const struct msign *s);
/* sign_key_same - is a key file whose stat is now the one whose stat was
   was (device, inode, size, mtime, ctime)?  1 or 0 */
struct stat;
int sign_key_same(const struct stat *was, const struct stat *now);
/* sign_key_settled - may the contents of a file with this stat be kept:
   a regular file neither written nor chmod'ed in the last
   SIGN_KEY_SETTLE_S seconds before now?  1 or 0 */
int sign_key_settled(const struct stat *st, time_t now);
/* sign_from - the address of the message's single From mailbox as written
   (lib/msghdr.h msghdr_mailbox), or NULL: no From, several From fields or
   mailboxes, a group, malformed.  Valid after the headers. */
const char *sign_from(const struct msign *s);
/* sign_fallback_check - is [milter] dkim_fallback none, parent or a domain
   name (lower-cased in place); 0, or -1 + *err */
int sign_fallback_check(char *value, struct str *err);
/* sign_parent_domains - the parent domains of domain, nearest first, not
   above its organizational domain (org, from the Public Suffix List; NULL
   or "" = none known), into out; the number added */
size_t sign_parent_domains(const char *domain, const char *org,
                           struct strvec *out);

/* fromcheck.c */
/* from_owned - may the SASL login use the From address from (NULL: none
   usable)?  lib/sendas.h over SQL, then, with LDAP in use, the login's
   LDAP addresses; every address in canonical form.  LK_FOUND, LK_NOTFOUND
   (the reason in *why), LK_TEMP (+ *err). */
int from_owned(struct mctx *m, struct mres *r, const char *login,
               const char *from, struct str *why, struct str *err);

/* verify.c */
struct mverify;
int verify_global_init(long long max_signatures, struct str *err);
void verify_global_end(void);
struct mverify *verify_begin(void); /* never NULL */
void verify_free(struct mverify *v);
/* verify_header - value as Postfix sent it; leadspc: it keeps its space */
void verify_header(struct mctx *m, struct mverify *v, const char *name,
                   const char *value, int leadspc);
void verify_eoh(struct mverify *v);
void verify_body(struct mverify *v, const unsigned char *buf, size_t len);
/* verify_eom - append ";\n\tdkim=..." per signature to ar, one log text
   per result to logs */
void verify_eom(struct mverify *v, struct str *ar, struct strvec *logs);
/* verify_results - after verify_eom: each signature's d=, s= and result
   word into in->dkim (for DMARC; strings allocated, freed by
   dmarc_input_free) */
struct dmarc_input;
void verify_results(struct mverify *v, struct dmarc_input *in);
void dmarc_input_free(struct dmarc_input *in);

/* dns.c */
struct dkim_lib;
void dns_attach(struct dkim_lib *lib);

/* spf.c */
int milter_spf_global_init(struct str *err);
void milter_spf_global_end(void);
/* milter_spf_check - "pass", "fail", ..., "temperror", "permerror"; NULL when SPF
   does not apply (no or loopback client address) */
const char *milter_spf_check(const char *ip, const char *helo, const char *sender);

/* authres.c */
/* ar_authserv_id - the authserv-id of an A-R value; 0, -1 if unreadable */
int ar_authserv_id(const char *value, char *out, size_t outsize);
/* ar_is_ours - 1 if the A-R value's authserv-id is ours (RFC 8601: CFWS,
   token or quoted-string; ASCII case-less, one trailing dot ignored), or
   it cannot be read and names ours anywhere */
int ar_is_ours(const char *value, const char *authserv_id);
/* ar_append_value - v as a token or a quoted-string; 0 or -1 */
int ar_append_value(struct str *s, const char *v);

/* dmarc.c: see the top of dmarc.c for the whole design */
enum dmarc_result { DMARC_RES_NONE, DMARC_RES_PASS, DMARC_RES_FAIL,
                    DMARC_RES_TEMPERROR, DMARC_RES_PERMERROR };
enum dmarc_policy { DMARC_POL_UNSET = -1, DMARC_POL_NONE,
                    DMARC_POL_QUARANTINE, DMARC_POL_REJECT };
enum dmarc_reason { DMARC_WHY_NONE, DMARC_WHY_SAMPLED_OUT,
                    DMARC_WHY_TRUSTED_FORWARDER, DMARC_WHY_MAILING_LIST,
                    DMARC_WHY_LOCAL_POLICY };
/* enum dmarc_policy values double as dispositions: none, quarantine,
   reject */

/* dmarc_decide - the disposition of one evaluated message, a pure
   function (RFC 7489 6.6.4 and 6.7): result and the applied policy (p, or
   sp for a subdomain), pct and a draw in 0..99 (the message is sampled in
   when draw < pct), exempt (DMARC_WHY_NONE, _TRUSTED_FORWARDER or
   _MAILING_LIST) and the recipient domain's action.  The disposition
   (DMARC_POL_NONE/QUARANTINE/REJECT) is returned, the reason why it
   differs from the policy in *reason. */
int dmarc_decide(int result, int policy, int pct, int draw, int exempt,
                 int action, int *reason);
/* dmarc_aligned - do domains a and b align (RFC 7489 3.1): strict: equal;
   relaxed: the same organizational domain (orgdomain: NULL = the last two
   labels, for tests without a list).  1 or 0. */
typedef const char *(*dmarc_org_fn)(const char *domain, char *buf,
                                    size_t size);
int dmarc_aligned(const char *a, const char *b, int strict,
                  dmarc_org_fn orgdomain);
/* dmarc_lenient - the more lenient of two actions (record > quarantine >
   reject): a message to several recipient domains */
int dmarc_lenient(int a, int b);
/* dmarc_exempt - is the client a trusted forwarder or a mailing-list host
   ([milter] dmarc_trusted_forwarders, dmarc_mailing_lists: networks, or
   ".suffix"/name of the client's verified host name)?  DMARC_WHY_* */
int dmarc_exempt(const struct milter_config *cfg, const char *ip,
                 const char *host);
/* dmarc_parse_record - the tags of a DMARC record through libopendmarc;
   0 or -1 (not a valid DMARC record) */
struct dmarc_rec {
    int p, sp;              /* enum dmarc_policy; sp DMARC_POL_UNSET */
    int pct;
    char adkim, aspf;       /* 'r' or 's' */
    char fo[17];
    char rua[1001];
};
int dmarc_parse_record(const char *txt, const char *domain,
                       struct dmarc_rec *rec);

/* dmarc_global_init - the suffix list and the dmarc_results writer (it
   borrows a handle of m's pool once a second); 0 or -1 + *err */
struct mctx;
int dmarc_global_init(struct mctx *m, struct str *err);
void dmarc_global_end(void);
/* milter_dmarc_action - the domains.dmarc_action of a recipient domain
   from the policy-group snapshot (groups.c); 1 with out set, 0 none */
struct mctx;
int milter_dmarc_action(struct mctx *m, const char *domain, char *out,
                        size_t outsize);

/* One message's DMARC evaluation (dmarc_eval), filled by callbacks.c */
struct dmarc_dkim {
    char *domain, *selector;
    const char *result;     /* "pass", "fail", ... (static) */
};
#define DMARC_FROM_MAX 4    /* distinct From domains evaluated */
#define DMARC_DKIM_MAX 64
struct dmarc_input {
    const char *client, *host, *helo;
    const char *mailfrom_domain; /* "" for <> */
    const char *spf;             /* result word or NULL (not checked) */
    const char *rcpt_domain;     /* the first recipient's */
    int action;                  /* the most lenient of the recipients' */
    const char *from_domains[DMARC_FROM_MAX];
    size_t nfrom;
    int from_bad;                /* no usable From (none, malformed) */
    struct dmarc_dkim dkim[DMARC_DKIM_MAX];
    size_t ndkim;
};
struct dmarc_outcome {
    int disposition;            /* the strictest over the From domains */
    char reject_domain[256];    /* the domain whose policy rejects */
};
/* dmarc_eval - evaluate, append ";\n\tdmarc=..." per From domain to ar,
   log text per domain to logs, queue the results for SQL, count them */
void dmarc_eval(struct mctx *m, const struct dmarc_input *in, struct str *ar,
                struct strvec *logs, struct dmarc_outcome *out);

/* The program's state, shared by all threads (read-only except the pool,
   the LDAP group caches and the policy-group snapshot, which lock). */
struct mpgroups;
struct mctx {
    const struct milter_config *cfg;
    struct milter_pool *pool;
    struct ldapgroup *ldgroups;  /* LDAP groups, cached */
    struct mpgroups *pgroups;    /* policy groups; NULL without
                                    send_rules_sql */
};

extern struct mctx *milter_ctx; /* set once before smfi_main */

/* callbacks.c */
struct smfiDesc;
extern struct smfiDesc milter_desc;

/* metrics (lib/metrics.h), registered at start (callbacks.c) */
struct milter_metrics {
    struct metrics_family *decisions;   /* check, action */
    struct metrics_family *expansions;  /* result */
    struct metrics_family *expanded;    /* recipients added */
    struct metrics_family *refusals;    /* send-right refusals */
    struct metrics_family *dkim_sign;   /* result */
    struct metrics_family *dkim_verify; /* result */
    struct metrics_family *spf;         /* result */
    struct metrics_family *dmarc;       /* result */
    struct metrics_family *dmarc_action; /* rejected, quarantined, ... */
    struct metrics_family *dmarc_dropped; /* results not written */
};
extern struct milter_metrics milter_metrics;
void milter_metrics_register(void);

#endif
