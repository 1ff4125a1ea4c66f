/*
 * policyd - shared declarations of postern-policyd, the Postfix policy
 * delegation server (SMTPD_POLICY_README).
 *
 * Structure (one module per file):
 *   main.c       the entry point
 *   config.c     the [policyd], [database] and [ldap] tables
 *   request.c    one request: "name=value" attributes into struct preq
 *   proto.c      connections: lines in, one reply out; hands requests to
 *                the workers and writes their answers
 *   workers.c    the worker threads (database, DNS and LDAP calls block
 *                there, never in the event loop)
 *   rules.c      the in-memory snapshot of the policy tables (reloaded
 *                within poll_interval of any change, lib/reloader.h)
 *   groups.c     policy group membership (lib/pgroup.h over the
 *                snapshot) with LDAP groups (lib/ldapgroup.h, cached)
 *   decide.c     the order of the checks and the combined answer
 *   senderrules.c, greylist.c, ratelimit.c, spf.c, quota.c   the checks
 *   prune.c      deleting expired greylisting and rate-limit state
 */
#ifndef POSTERN_POLICYD_H
#define POSTERN_POLICYD_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "aliasdom.h"
#include "arena.h"
#include "cidr.h"
#include "daemon.h"
#include "db.h"
#include "ldapc.h"
#include "ldapgroup.h"
#include "lookup.h"
#include "metrics.h"
#include "pgroup.h"
#include "reloader.h"
#include "str.h"
#include "spfq.h"
#include "strmap.h"

#define PD_VALUE_MAX 2048      /* one attribute value kept, bytes */
#define PD_TEXT_MAX 255        /* reply texts */
#define PD_WINDOWS_MAX 16      /* windows per rate-limit rule */
#define PD_HEADERS_MAX 4       /* headers pending for one message */
#define PD_HEADER_MAX 512      /* one pending header */

/* --- configuration (config.c) ---------------------------------------------- */

enum pd_fail { FAIL_DEFER, FAIL_PASS };

/* the protocol states a check can run at ("checks = spf:MAIL, ...") */
enum pd_stage { ST_NONE, ST_MAIL, ST_RCPT, ST_DATA, ST_EOM };
/* pd_stage_of - "RCPT" -> ST_RCPT ...; ST_NONE for other states */
int pd_stage_of(const char *protocol_state);

enum pd_spf_action { SPF_ACT_OFF, SPF_ACT_PREPEND, SPF_ACT_DEFER,
                     SPF_ACT_REJECT };

struct policyd_config {
    struct server_config srv;
    long long max_line;        /* one attribute line, bytes */
    long long max_attrs;       /* attributes per request */
    long long workers;
    long long poll_interval;   /* ms */
    int sender_rules_fail, greylist_fail, ratelimit_fail;
                               /* enum pd_fail: a dependency is down */
    char *checks;              /* RCPT checks in order */
    int sender_rules_on, greylist_on, ratelimit_on, spf_on, quota_on;
                               /* 0 = off, else the enum pd_stage it runs at */
    char *reject_text;         /* sender rules: default text */
    char *defer_text;
    char *greylist_text;
    char *ratelimit_text;
    char *quota_text;          /* 552 5.2.2 TEXT for a full mailbox */
    long long quota_cache_ttl; /* ms, 0 = no cache (quota.c) */
    char *hostname;            /* X-Greylist, Received-SPF; "" = gethostname */
    long long prune_interval;  /* ms */
    int spf_fail, spf_softfail, spf_neutral, spf_none, spf_permerror,
        spf_temperror, spf_helo_fail;
    int spf_header;            /* PREPEND Received-SPF */
    char *spf_skip_networks;   /* trusted relays: no SPF check */
    char *recipient_delimiter;
    int ldap_on;               /* ldap_group members are looked up */
    long long greylist_cache_size; /* entries */
    long long greylist_cache_ttl;  /* ms */
    /* containing a hijacked account (contain.c) */
    char *contain_contact;     /* "contact ..." in the refusal */
    char *contain_notify;      /* the admin's address, "" = no admin mail */
    char *contain_from;        /* sender of the notices, "" = <> */
    char *contain_sendmail;    /* sendmail(1) path for the notices */
    int contain_fail;          /* enum pd_fail: state cannot be read */
    char *contain_postsuper;   /* for postern contain clear (admin) */
    char *contain_postqueue;   /* for postern contain clear (admin) */
    struct db_config db;
    struct ldapc_config ldap;
    /* greylisting that learns (greylist.c, greypool.c; issue 19) */
    char *greylist_pools;          /* "" = the installed file, "none", or
                                      a path */
    struct pd_pools *pools;        /* loaded by policyd_config_check */
    long long greylist_reply_ttl;  /* ms; 0 = no reply whitelist */
    int greylist_reply_domain;     /* replies from the whole domain */
    long long greylist_reply_max;  /* reply rows per local user */
    int greylist_mode;             /* enum pd_grey_mode */
    char *greylist_dynamic;        /* host name patterns (selective) */
    char *greylist_dnsbl;          /* DNS blocklist zones (selective) */
    long long greylist_domain_awl; /* passed triplets; 0 = off */
};

enum pd_grey_mode { GM_ALL, GM_SELECTIVE };
/* host names that look dynamic: "#" is a run of digits, other characters
   match themselves (case-insensitive), anywhere in the name */
#define PD_GREY_DYNAMIC_DEFAULT "dynamic, dyn., dsl, pool, dhcp, dialup, " \
    "ppp, cable, ip-#-#-#-#, #-#-#-#, #.#.#.#"

/* --- provider pools (greypool.c) ----------------------------------------- */

#define PD_POOLS_ETC "/etc/postern/greylist-pools.conf"
#define PD_POOLS_SHARE "/usr/share/postern/greylist-pools.conf"
#define PD_POOLS_LOCAL "/usr/local/share/postern/greylist-pools.conf"
#define PD_POOL_LINE_MAX 512   /* bytes a line */
#define PD_POOL_MAX 10000      /* entries */
#define PD_POOL_FILE_MAX (1024 * 1024)
struct pd_pools;
/* pd_pools_path - the file to read for [policyd] greylist_pools: the
   configured path; for "" the first of PD_POOLS_ETC, PD_POOLS_SHARE,
   PD_POOLS_LOCAL (make install's PREFIX) that exists, else NULL; NULL for
   "none" */
const char *pd_pools_path(const char *configured);
/* pd_pools_load / pd_pools_parse - 0 and *out, or -1 and "FILE:LINE:
   reason" in err */
int pd_pools_load(const char *path, struct pd_pools **out, struct str *err);
int pd_pools_parse(const char *path, const char *text, size_t len,
                   struct pd_pools **out, struct str *err);
void pd_pools_free(struct pd_pools *p);
size_t pd_pools_count(const struct pd_pools *p);
/* pd_pools_report - one line per entry on fp ("PROVIDER KIND VALUE
   CHECKED"), marking entries checked before the date stale (YYYY-MM-DD) */
void pd_pools_report(const struct pd_pools *p, const char *stale, FILE *fp);
/* pd_pools_match - the provider whose pool holds the client (verified host
   name client_name, or address), else NULL; p may be NULL */
const char *pd_pools_match(const struct pd_pools *p, const char *client_name,
                           const char *client_addr);
/* pd_grey_dynamic - 1 when host name h looks dynamic under the pattern
   list pats (greylearn.c; pure) */
int pd_grey_dynamic(const char *pats, const char *h);

/* --- greylisting that learns (greylearn.c) ------------------------------ */

#define PD_DNSBL_CACHE_TTL (5 * 60 * 1000LL) /* ms a DNSBL answer is kept */
#define PD_DNSBL_CACHE_MAX 65536             /* answers kept */
struct pd_eval;
/* pd_dnsbl_cache_new - the DNSBL answer cache the workers share (made at
   start whatever the mode, which a reload may change; empty until used) */
struct ttlcache *pd_dnsbl_cache_new(void);
/* pd_grey_selective - selective mode: 1 when the client looks real
   (verified host name that does not look dynamic, on no blocklist); 0
   and why (a buffer of size bytes) when it is greylisted */
int pd_grey_selective(struct pd_eval *e, char *why, size_t size);
/* pd_grey_reply_record - an authenticated local user writes to an
   outside address: remember it for the replies (bounded per user) */
void pd_grey_reply_record(struct pd_eval *e);

extern const struct daemon_app policyd_app;
/* policyd_config_release - the provider pools check read (daemon_app) */
void policyd_config_release(void *cfg);
size_t policyd_config_sections(void *cfg, struct cfg_section *secs);
int policyd_config_check(void *cfg, struct str *err);

/* --- requests (request.c) --------------------------------------------------- */

enum pd_attr {
    A_REQUEST, A_PROTOCOL_STATE, A_PROTOCOL_NAME, A_HELO_NAME, A_QUEUE_ID,
    A_SENDER, A_RECIPIENT, A_RECIPIENT_COUNT, A_CLIENT_ADDRESS, A_CLIENT_NAME,
    A_REVERSE_CLIENT_NAME, A_INSTANCE, A_SASL_METHOD, A_SASL_USERNAME,
    A_SASL_SENDER, A_SIZE, A_CCERT_SUBJECT, A_CCERT_ISSUER,
    A_CCERT_FINGERPRINT, A_CCERT_PUBKEY_FINGERPRINT, A_ENCRYPTION_PROTOCOL,
    A_ENCRYPTION_CIPHER, A_ENCRYPTION_KEYSIZE, A_ETRN_DOMAIN, A_STRESS,
    A_CLIENT_PORT, A_POLICY_CONTEXT, A_SERVER_ADDRESS, A_SERVER_PORT,
    A_COMPATIBILITY_LEVEL, A_MAIL_VERSION,
    A_COUNT
};

struct preq {
    struct str buf;            /* the values, NUL-separated */
    size_t off[A_COUNT];       /* offset+1 into buf, 0 = absent */
    int nattrs;
};

/* preq_add - take one "name=value" line; 0, or -1 + *err (malformed). */
int preq_add(struct preq *r, const char *line, size_t len, const char **err);
/* preq_get - the value of attribute a, "" when absent. */
const char *preq_get(const struct preq *r, enum pd_attr a);
void preq_reset(struct preq *r);
void preq_free(struct preq *r);

/* --- the rule snapshot (rules.c) ------------------------------------------ */

enum pd_rule_action { RA_PERMIT, RA_REJECT, RA_DEFER };

struct pd_sender_rule {
    const char *name;
    const struct pgroup *sender, *recipient; /* NULL = anyone */
    int action;                /* enum pd_rule_action */
    int require_auth, require_spf;
    const char *text;          /* NULL = the configured default */
};

struct pd_grey_settings {
    int enabled, add_header, spf_pool;
    long long delay, window, expiry, awl_after;
    int v4prefix, v6prefix;
};

enum pd_wl_kind { WL_NET, WL_HOST, WL_SENDER_DOMAIN, WL_SENDER,
                  WL_RECIPIENT, WL_RECIPIENT_DOMAIN, WL_KINDS };

struct pd_wl {
    int kind;
    const char *value;         /* names: lower-case, maybe ".suffix" */
    struct cidr net;
};

enum pd_rl_key { RK_LOGIN, RK_SENDER, RK_SENDER_DOMAIN, RK_CLIENT,
                 RK_RECIPIENT, RK_FORWARDER /* not counted by policyd:
                 postern-forward and postern-lda count it; loaded only
                 so that pruning keeps its windows */ };
enum pd_rl_counts { RC_MESSAGES, RC_RECIPIENTS, RC_BYTES,
                    RC_NETWORKS /* distinct client networks (contain.c) */ };
enum pd_rl_action { RL_DEFER, RL_REJECT, RL_HOLD, RL_WARN };

struct pd_rl_window {
    long long seconds, max;
};

struct pd_rl_rule {
    unsigned id;
    const char *name;
    int key, counts, action, priority;
    const char *match;         /* NULL = every key */
    struct cidr match_net;   /* client_address match_value */
    const struct pgroup *group;
    const char *text;
    int v4prefix, v6prefix;
    struct pd_rl_window win[PD_WINDOWS_MAX];
    int nwin;
    int contain;               /* over the limit: the login becomes
                                  receive-only (contain.c) */
};

/* policy_domain_checks: per recipient domain, -1 = as [policyd] checks */
struct pd_domchecks {
    int spf, sender_rules, greylist, ratelimit;
};

struct pd_override {
    long long max;             /* -1 = unlimited */
};

/* a growable list of indexes (rules, groups), ascending where it matters */
struct pd_ids {
    unsigned *v;
    size_t n, cap;
};

struct pd_rules {
    struct arena arena;
    struct aliasdom alias;          /* alias domain -> target (canonical
                                       addresses, lib/addr.h) */
    struct pgroup_set *groups;      /* policy_groups and their members
                                       (address and domain members in
                                       canonical form) */
    struct pd_sender_rule *srules;
    size_t nsrules;
    /* the sender rules indexed by what their recipient group holds
       (rules.c, rules_srule_cands), so a request evaluates only the rules
       its recipient can meet */
    struct hmap srule_members;      /* "a\x1faddress" / "d\x1fdomain" ->
                                       struct pd_ids: the groups holding it
                                       directly (those a rule consults) */
    struct pd_ids *srule_of_group;  /* per group index: the rules whose
                                       recipient group consults it */
    struct pd_ids srule_any;        /* rules every recipient meets: no
                                       recipient group, or one with LDAP
                                       groups (not indexed) */
    int srules_protect;             /* some rule names a recipient group */
    struct pd_grey_settings grey_default;
    struct strmap grey_domain;      /* domain -> struct pd_grey_settings */
    struct pd_wl *wl;
    size_t nwl;
    struct pd_rl_rule *rl;
    size_t nrl;
    struct strmap overrides;        /* "rule/window/key" -> pd_override */
    struct strmap grants;           /* "login address|domain" -> "",
                                       canonical (pd_canonical) */
    struct strmap domchecks;        /* domain -> struct pd_domchecks */
    long long max_expiry, max_window;
    int refs;                       /* jobs using it (loop thread only) */
};

extern const struct reloader_ops pd_rules_ops;
void rules_free(struct pd_rules *r);
/* rules_domchecks - the per-domain check switches, or NULL. */
const struct pd_domchecks *rules_domchecks(const struct pd_rules *r,
                                           const char *domain);
/* the sender rules a recipient can meet, in priority order (indexes into
   srules); v is buf or allocated (pd_cands_free) */
struct pd_cands {
    unsigned *v;
    size_t n, cap;
    unsigned buf[32];
};
/* rules_srule_cands - the rules whose recipient group can hold rcpt
   (canonical), ascending: every rule that can match, and maybe more (a
   rule's full test still decides); the set does not depend on anything
   but rcpt and the snapshot. */
void rules_srule_cands(const struct pd_rules *r, const char *rcpt,
                       struct pd_cands *c);
/* rules_index_srules - build that index once srules and groups are in
   place (the loader does; a hand-built snapshot calls it) */
void rules_index_srules(struct pd_rules *r);
void pd_cands_free(struct pd_cands *c);
/* rules_grey - the greylisting settings for a recipient domain. */
const struct pd_grey_settings *rules_grey(const struct pd_rules *r,
                                          const char *domain);

/* --- greylisting state cache and write queue (greycache.c) -------------- */

struct gc_state {
    long long first, last, passed; /* triplet: passed -1 = not yet */
    long long pass_count;          /* client: passed triplets */
    long long written;             /* last_seen as last written */
    time_t cached_at;
    int absent;                    /* no such row in the database */
};

/* the greylist_triplets key, computed in SQL from (net, sender, recipient)
   (schema.sql: triplet_hash); three parameters */
#define PD_TRIPLET_HASH "UNHEX(SHA2(CONCAT_WS(' ', ?, ?, ?), 256))"

/* the characters of the state columns (sql/schema.sql): every value is
   bounded to them (lib/dbtext.h) before it is keyed, cached or queued */
#define PD_COL_NET 255         /* greylist_*.client_net */
#define PD_COL_ADDR 320        /* greylist_triplets.sender, .recipient,
                                  ratelimit_keys/events.key_value */

enum gc_op_type { GC_FIRST, GC_RESTART, GC_BLOCK, GC_PASS, GC_SEEN,
                  GC_CLIENT_SEEN,
                  GC_DOMAIN_PASS,  /* sender = the sender domain, first =
                                      the expiry (greylist_domain_awl) */
                  GC_DOMAIN_SEEN };

struct greycache;
struct greycache *gc_new(const struct policyd_config *cfg, struct str *err);
void gc_free(struct greycache *gc);
/* gc_reconfigure - a reloaded greylist_cache_ttl, at once */
void gc_reconfigure(struct greycache *gc, const struct policyd_config *cfg);
/* gc_get - 1 and *out when key is cached and fresher than the ttl */
int gc_get(struct greycache *gc, const char *key, time_t now,
           struct gc_state *out);
/* gc_put - a state read from the database (it never replaces one whose
   write by this host is still queued); gc_put_own - a state this host
   changed, seq from gc_queue: served from the cache, whatever the ttl,
   until the writer has committed that change */
void gc_put(struct greycache *gc, const char *key, const struct gc_state *st);
void gc_put_own(struct greycache *gc, const char *key,
                const struct gc_state *st, unsigned long long seq);
/* gc_queue - a state change for the writer (GC_PASS: first = expiry); a
   value that is not UTF-8 or longer than its column (PD_COL_*) is refused
   with a warning (the change stays in the cache only): callers bound them
   first (dbtext_bound).  Its sequence number (for gc_put_own); 0 when it
   was not queued */
unsigned long long gc_queue(struct greycache *gc, int type, const char *net,
                            const char *sender, const char *rcpt,
                            long long now, long long first);

/* the cache alone (gc_get/gc_put use one; tests build their own): at most
   max entries in locked shards, evicted gradually, oldest store first
   (greycache.c); ttl in seconds (0: trusted within the second it was
   stored); an entry put with a write's seq is trusted until
   gc_cache_done has reached that seq */
struct gc_cache;
struct gc_cache *gc_cache_new(size_t max, long long ttl);
void gc_cache_free(struct gc_cache *c);
void gc_cache_set_ttl(struct gc_cache *c, long long ttl);
int gc_cache_get(struct gc_cache *c, const char *key, time_t now,
                 struct gc_state *out);
void gc_cache_put(struct gc_cache *c, const char *key,
                  const struct gc_state *st);
void gc_cache_put_own(struct gc_cache *c, const char *key,
                      const struct gc_state *st, unsigned long long seq);
/* gc_cache_done - every write up to seq is in the database */
void gc_cache_done(struct gc_cache *c, unsigned long long seq);
size_t gc_cache_count(struct gc_cache *c);

/* --- the greylisting state step (greylist.c) ----------------------------- */

#define GC_SEEN_GRAIN 3600     /* last_seen is written at most hourly per row */
#define GREY_NO_OP (-1)        /* grey_outcome.op: nothing to write */

enum grey_verdict {
    GV_DEFER,                  /* greylisted: retry in retry_in seconds */
    GV_PASS,                   /* the triplet passes (first_pass: just now) */
    GV_AWL                     /* the client network is auto-whitelisted */
};

struct grey_outcome {
    int verdict;               /* enum grey_verdict */
    int first_pass;            /* GV_PASS: this retry passed the triplet */
    long long retry_in;        /* GV_DEFER: seconds until a retry passes, >= 1 */
    long long waited;          /* first_pass: seconds since the first sight */
    int op;                    /* the change to queue (GC_*), or GREY_NO_OP;
                                  GC_PASS also counts the client network */
    int put_t, put_c;          /* t / c changed: store them in the cache */
    struct gc_state t, c;      /* the new triplet and client states */
};

/* greylist_step - the greylisting decision for the triplet state t and the
   client network state c (absent = no row) at time now (seconds), under the
   settings g.  Pure: no database, no clock, no globals; the caller loads the
   states, queues out->op and stores out->t / out->c. */
void greylist_step(const struct pd_grey_settings *g, long long now,
                   const struct gc_state *t, const struct gc_state *c,
                   struct grey_outcome *out);

/* --- evaluation context (one request in one worker) ---------------------- */

/* per-worker resources */
struct pd_worker {
    struct db *db;
    struct ldapc *ldap;             /* NULL when [policyd] ldap = no */
    void *spf;                      /* SPF_server_t */
    struct ldapgroup *ldgroups;     /* shared; its caches lock */
    struct greycache *gc;           /* shared, locked */
    struct ttlcache *quota_cache;   /* shared (quota.c); NULL = none */
    struct ttlcache *dnsbl_cache;   /* shared (greylearn.c); NULL = none */
    const struct policyd_config *cfg;
    char hostname[256];
};

/* per-message memory kept on the connection (loop thread) and copied into
   the job */
struct pd_msgstate {
    char instance[64];
    unsigned char counted[64];      /* rate-limit rules that counted the
                                       message already (bit per rule index) */
    int spf_done;
    int spf_result;                 /* SPF_RESULT_* */
    char spf_header[PD_HEADER_MAX];
    char headers[PD_HEADERS_MAX][PD_HEADER_MAX];
    int nheaders;
    long long contain_clear_ms;     /* clock_ms() when check_contained last
                                       found this message's login not
                                       contained; 0 = not yet (contain.c) */
};
/* a message's later requests (its other RCPTs, DATA, END-OF-MESSAGE)
   within this many ms of a "not contained" answer skip the query */
#define PD_CONTAIN_MEMO_MS 1000

struct pd_eval {
    const struct preq *req;
    const struct pd_rules *rules;
    struct pd_worker *w;
    struct pd_msgstate *ms;
    time_t now;
    struct addr sender, rcpt;       /* canonical (pd_canonical); full ""
                                       for <>; an authenticated <> is the
                                       login's address (null_sender) */
    int sender_ok, rcpt_ok;
    const char *login;              /* SASL login, "" when none; an
                                       address login in canonical form */
    char login_buf[ADDR_MAX + 1];
    int null_sender;                /* MAIL FROM:<> replaced by the login */
    int alias_loop;                 /* an address whose alias domains
                                       form a chain that does not end */
    struct strvec who;              /* the sender's identity for sender
                                       groups (senderrules.c), canonical */
    int who_done;
    struct str reply;               /* the action line without "action=" */
    struct str err;
    int limit;                      /* a group question hit a limit
                                       (LK_LIMIT): defer whatever the fail
                                       mode, it is no outage */
    const char *via_group;          /* sender rules: the LDAP group address
                                       whose member rcpt is (senderrules.c) */
    int dry;                        /* postern explain: decide as now, but
                                       change no state (greylisting not
                                       stored, rate-limit counts rolled
                                       back) */
    struct str *trace;              /* postern explain: one line per check
                                       run ("NAME: verdict"), or NULL */
    const char *check;              /* the check that decided ("spf",
                                       "sender_rules", ...), NULL = none */
    const char *rule;               /* the rule that fired, NULL = none */
};

/* metrics (lib/metrics.h), registered by policyd_init: decisions by
   check, action and rule; greylisting results; rate-limit hits by rule and
   action; SPF results */
struct pd_metrics {
    struct metrics_family *decisions, *greylist, *ratelimit, *spf, *quota;
};
extern struct pd_metrics pd_metrics;
void pd_metrics_register(void);
/* pd_count - one event of a family, nothing in a dry run (explain) */
void pd_count(const struct pd_eval *e, struct metrics_family *f,
              const char *const *values);

/* a check's verdict; negative is temporary, as everywhere (lib/lookup.h) */
enum pd_verdict { PV_TEMP = -1, PV_DUNNO = 0, PV_DECIDED = 1 };

/* the checks: PV_DUNNO (no objection), PV_DECIDED (e->reply set),
   PV_TEMP (e->err set; the caller defers: test "v < 0") */
int check_sender_rules(struct pd_eval *e);
int check_greylist(struct pd_eval *e);
/* check_ratelimit - at stage; main = the stage the rules count messages and
   recipients at (bytes are always counted at END-OF-MESSAGE) */
int check_ratelimit(struct pd_eval *e, int stage, int main);
int check_spf(struct pd_eval *e);
/* contain.c: check_contained - an authenticated request of a login that
   is contained (contained_logins): its reply (550 5.7.1 or HOLD), its
   recipient, client and queue id kept as evidence; PV_DUNNO for other
   requests; PV_TEMP when the state cannot be read */
int check_contained(struct pd_eval *e, int stage);
/* contain_fire - rule rl (contain) is over its limit for e->login: open an
   incident (one row; the instance that inserts it sends the notices) and
   set the reply; evidence says what the rule saw.  PV_DECIDED or PV_TEMP */
int contain_fire(struct pd_eval *e, const struct pd_rl_rule *rl,
                 const char *evidence);
/* contain_networks - rule rl (counts networks): record the request's
   client network for login key, then 1 when window w holds more distinct
   networks than max[w] (< 0 unlimited) (*win, *count set), 0 within, -1
   database trouble (e->err) */
int contain_networks(struct pd_eval *e, const struct pd_rl_rule *rl,
                     const char *key, const long long *max, int *win,
                     long long *count);
/* check_quota - 552 5.2.2 for a local mailbox whose usage row says it is
   full (quota.c); PV_TEMP only for database trouble, which decide.c
   always passes (never refuse on doubt) */
int check_quota(struct pd_eval *e);
#define PD_QUOTA_CACHE_MAX 200000 /* addresses in the quota cache */
/* a mailbox's figures as the quota check reads them: -1 = NULL */
struct pd_quota_row {
    long long bytes;           /* mailbox_usage.bytes */
    long long row_limit;       /* mailbox_usage.quota_bytes, 0 unlimited */
    long long cur_limit;       /* mailboxes.quota_bytes, else the domain's
                                  default_quota_bytes; 0 unlimited */
};
/* pd_quota_limit - the limit the check holds the mailbox to: the larger
   of the known ones; 0 = none (unlimited, or no limit known) */
long long pd_quota_limit(const struct pd_quota_row *q);
/* pd_quota_full - 1 when a message of size bytes (< 1: 1) does not fit:
   bytes + size > limit.  Pure. */
int pd_quota_full(const struct pd_quota_row *q, long long size);
struct ttlcache;
/* pd_quota_cache_new - the cache the workers share ([policyd]
   quota_cache_ttl) */
struct ttlcache *pd_quota_cache_new(const struct policyd_config *cfg);
void *pd_spf_server_new(void);
void pd_spf_server_free(void *s);
/* pd_spf_result - run SPF for MAIL FROM (HELO when <>) once per message;
   the SPF_RESULT_* value or -1 (temporary trouble) */
int pd_spf_result(struct pd_eval *e);

/* groups.c: is addr in policy group g?  LK_FOUND, LK_NOTFOUND, LK_TEMP,
   LK_LIMIT (+ e->err; LK_LIMIT also sets e->limit) */
int pd_group_has(struct pd_eval *e, const struct pgroup *g, const char *addr);
/* pd_ldgroups_new - the LDAP group cache the workers share (NULL when
   [policyd] ldap = no); NULL + *err for bad [ldap] attribute lists */
struct ldapgroup *pd_ldgroups_new(const struct policyd_config *cfg,
                                  struct str *err);

/* decide.c: pd_canonical - in as rules match it (lib/addr.h
   addr_canonical with [policyd] recipient_delimiter and the snapshot's
   alias domains; r may be NULL); 0 or -1 (does not parse) */
int pd_canonical(const struct policyd_config *cfg, const struct pd_rules *r,
                 const char *in, int flags, struct addr *out);
/* senderrules.c: pd_login_addresses - the login's addresses, canonical:
   itself when it is an address, and with [policyd] ldap = yes the
   addresses LDAP has for it (lib/ldapgroup.h); LK_* (+ e->err) */
int pd_login_addresses(struct pd_eval *e, struct strvec *out);

/* decide.c: the answer to one request into e->reply */
void pd_decide(struct pd_eval *e);
/* prune.c: delete expired state; 0 or LK_TEMP */
int prune_state(struct pd_worker *w, const struct pd_rules *r, time_t now);

/* workers.c */
struct pd_job {
    struct pd_job *next;
    void *owner;                    /* the connection context */
    struct preq req;
    struct pd_msgstate ms;
    struct pd_rules *rules;
    const struct policyd_config *cfg;
    int prune;                      /* a pruning job, no request */
    struct str reply;               /* "action=...\n\n" */
};

struct pd_pool;
struct pd_pool *pd_pool_start(const struct policyd_config *cfg,
                           struct server *srv, struct str *err);
void pd_pool_submit(struct pd_pool *p, struct pd_job *j);
/* pd_pool_done - finished jobs (loop thread), a list linked by next */
struct pd_job *pd_pool_done(struct pd_pool *p);
void pd_pool_stop(struct pd_pool *p);
int pd_pool_idle(struct pd_pool *p);
/* pd_pool_reconfigure - what the pool keeps of a reloaded configuration
   (the greylisting cache's ttl); call it while the pool is idle */
void pd_pool_reconfigure(struct pd_pool *p, const struct policyd_config *cfg);

#endif
