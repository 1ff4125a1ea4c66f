/*
 * milter - shared declarations of postern-milter, the Postfix milter for
 * LDAP group expansion, group send rights, DKIM signing and, for inbound
 * mail, SPF and DKIM verification written as Authentication-Results.
 *
 * Structure:
 *   main.c       command line, configuration, libmilter start and stop
 *   config.c     the [milter] table and its checks, listen spec conversion
 *   callbacks.c  the libmilter callback table and the per-connection state
 *   pool.c       a locked pool of LDAP + database handles for the threads
 *   cache.c      a TTL cache of group lookups and expansions
 *   groups.c     group lookup and recursive expansion in LDAP
 *   rights.c     who may send to a group (SQL rules, LDAP attribute)
 *   sign.c       DKIM signing with libopendkim
 *   verify.c     DKIM verification with libopendkim (inbound)
 *   spf.c        SPF with libspf2 (inbound)
 *   dns.c        the per-thread DNS query service of libopendkim
 *   authres.c    Authentication-Results: reading authserv-ids, quoting
 *
 * Threads: libmilter runs callbacks in its own threads.  The only shared
 * mutable state is the handle pool and the cache, each behind its mutex;
 * everything about one SMTP session lives in struct mconn (smfi_setpriv).
 */
#ifndef POSTERN_MILTER_H
#define POSTERN_MILTER_H

#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "ldapc.h"
#include "str.h"

#define MILTER_RCPT_MAX 1000        /* envelope recipients per message */
#define MILTER_ADDR_MAX 320
#define MILTER_GROUP_DOMAINS_MAX 64
#define MILTER_NETS_MAX 32

enum missing_key { MISSING_KEY_PASS, MISSING_KEY_TEMPFAIL };

struct milter_config {
    struct server_config srv;      /* listen, user (others unused) */
    char *group_domains;           /* "" = every recipient may be a group */
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
    long long max_headers;
    long long max_header_bytes;
    char *authserv_id;             /* "" in the file = the host name */
    int verify;                    /* DKIM verification of inbound mail */
    int spf;                       /* SPF of inbound mail */
    long long max_signatures;      /* DKIM signatures verified per message */
    struct ldapc_config ldap;
    struct db_config db;
};

extern const struct daemon_app milter_app;

/* config.c */
/* milter_listen_spec - "inet:HOST:PORT" / "unix:PATH" -> libmilter syntax. */
int milter_listen_spec(const char *spec, struct str *out, struct str *err);
/* milter_net_match - 1 if the address text ip is in the list of networks. */
int milter_net_match(const char *list, const char *ip);
/* milter_group_domain - 1 if addr's domain may hold group addresses. */
int milter_group_domain(const struct milter_config *cfg, const char *addr);

/* pool.c: one LDAP and one database handle, used by one thread at a time */
struct mres {
    struct ldapc *ld;
    struct db *db;
    struct mres *next;     /* free list */
    struct mres *all_next; /* every handle */
};

struct mpool;
struct mpool *mpool_create(const struct milter_config *cfg, struct str *err);
void mpool_free(struct mpool *p);
struct mres *mpool_get(struct mpool *p, struct str *err);
void mpool_put(struct mpool *p, struct mres *r);

/* A list of strings (addresses, DNs). */
struct slist {
    char **v;
    size_t n, cap;
};

int slist_add(struct slist *l, const char *s);
int slist_has(const struct slist *l, const char *s); /* case-insensitive */
void slist_free(struct slist *l);
int slist_copy(struct slist *dst, const struct slist *src);

/* cache.c */
struct mcache;
struct mcache *mcache_create(long long ttl_ms);
void mcache_free(struct mcache *c);
/* 1 hit (*found, dn/values copied into out), 0 miss */
int mcache_get(struct mcache *c, const char *key, int *found,
               struct slist *out);
void mcache_put(struct mcache *c, const char *key, int found,
                const struct slist *vals);

/* groups.c */
#define GROUP_OK 0
#define GROUP_TEMP (-1)
#define GROUP_LIMIT (-2)

struct mctx; /* the program's shared state, see below */

/*
 * group_lookup - is addr a group?  1 found (*dn set, rule values of the
 * configured send_rule_attribute in *rules), 0 not a group, GROUP_TEMP.
 */
int group_lookup(struct mctx *m, struct mres *r, const char *addr,
                 struct slist *dn, struct slist *rules, struct str *err);
/*
 * group_expand - every member address of the group at dn, nested groups
 * included (cycles and duplicates removed), into out.  GROUP_OK,
 * GROUP_TEMP or GROUP_LIMIT (over max_recipients).
 */
int group_expand(struct mctx *m, struct mres *r, const char *dn,
                 struct slist *out, struct str *err);
/* user_addresses - the mail addresses of a login or address (LDAP). */
int user_addresses(struct mctx *m, struct mres *r, const char *login,
                   struct slist *out, struct str *err);

/* rights.c */
#define RIGHTS_ALLOW 1
#define RIGHTS_DENY 0
#define RIGHTS_TEMP (-1)

struct rights_query {
    const char *group_addr;   /* lower-case */
    const char *group_dn;
    const struct slist *ldap_rules;
    const char *login;        /* SASL login or NULL */
    const char *sender;       /* envelope sender */
};

/* rights_check - may the sender send to the group?  RIGHTS_*; on DENY the
   reply text is in *text. */
int rights_check(struct mctx *m, struct mres *r, const struct rights_query *q,
                 struct str *text, struct str *err);

/* sign.c */
struct msign;
int sign_global_init(struct str *err);
void sign_global_end(void);
struct msign *sign_begin(void);
void sign_free(struct msign *s);
/* sign_header - buffer one header (bounded); 0 or -1 over the limits */
int sign_header(struct mctx *m, struct msign *s, const char *name,
                const char *value);
/* sign_eoh - find keys for the From domain and start signing; 0, -1 temp */
int sign_eoh(struct mctx *m, struct mres *r, struct msign *s,
             struct str *err);
int sign_body(struct msign *s, const unsigned char *buf, size_t len);
/* sign_eom - the DKIM-Signature header values (appended to out); 0, -1 */
int sign_eom(struct msign *s, struct slist *out, struct str *err);
int sign_active(const struct msign *s);

/* verify.c */
struct mverify;
int verify_global_init(long long max_signatures, struct str *err);
void verify_global_end(void);
struct mverify *verify_begin(void);
void verify_free(struct mverify *v);
/* verify_header - value as Postfix sent it; leadspc: it keeps its space */
void verify_header(struct mctx *m, struct mverify *v, const char *name,
                   const char *value, int leadspc);
void verify_eoh(struct mverify *v);
void verify_body(struct mverify *v, const unsigned char *buf, size_t len);
/* verify_eom - append ";\n\tdkim=..." per signature to ar, one log text
   per result to logs; 0 or -1 (out of memory) */
int verify_eom(struct mverify *v, struct str *ar, struct slist *logs);

/* dns.c */
struct dkim_lib;
void dns_attach(struct dkim_lib *lib);

/* spf.c */
int spf_global_init(struct str *err);
void spf_global_end(void);
/* spf_check - "pass", "fail", ..., "temperror", "permerror"; NULL when SPF
   does not apply (no or loopback client address) */
const char *spf_check(const char *ip, const char *helo, const char *sender);

/* authres.c */
/* ar_authserv_id - the authserv-id of an A-R value; 0, -1 if unreadable */
int ar_authserv_id(const char *value, char *out, size_t outsize);
/* ar_is_ours - 1 if the A-R value's authserv-id is ours (ASCII case-less) */
int ar_is_ours(const char *value, const char *authserv_id);
/* ar_append_value - v as a token or a quoted-string; 0 or -1 */
int ar_append_value(struct str *s, const char *v);

/* The program's state, shared by all threads (read-only except pool/cache). */
struct mctx {
    const struct milter_config *cfg;
    struct mpool *pool;
    struct mcache *groups;   /* group address -> dn + rule values */
    struct mcache *members;  /* group dn -> member addresses */
};

extern struct mctx *milter_ctx; /* set once before smfi_main */

/* callbacks.c */
struct smfiDesc;
extern struct smfiDesc milter_desc;

#endif
