/*
 * routing.h - what the routing commands (postern domain, mailbox, alias,
 * transport, relayhost) share: the domain a name refers to, the syntax the
 * CHECK constraints of sql/schema.sql demand of transports and relay
 * hosts (checked here first, so the admin reads an explanation instead of
 * "CONSTRAINT ... failed"), and the alias graph followed the way
 * postern-maps follows it, to refuse a loop before it is stored.
 *
 * Limits: RT_WALK_MAX addresses visited per loop check (more: the check
 * gives up and says so; the alias map refuses such a loop at RCPT time).
 */
#ifndef POSTERN_ADMIN_ROUTING_H
#define POSTERN_ADMIN_ROUTING_H

#include "util.h"

#define RT_WALK_MAX 2000
#define RT_NAME_MAX 320

struct rt_domain {
    char kind[16];                       /* local, alias, relay, legacy */
    char target[ADDR_DOMAIN_MAX + 1];    /* alias_target, "" if none */
    int active;
};

/*
 * rt_domain - the domains row of name: 0; or missing_status with
 * "no domain NAME; did you mean NEAR?" printed; or ADMIN_EX_TEMPFAIL.
 */
int rt_domain(struct db *db, const char *what, const char *name,
              struct rt_domain *d, int missing_status);

/*
 * rt_no_mailbox - the error for a mailbox address ad that has no row,
 * printed under what: its domain unknown ("did you mean" a domain), a near
 * address ("did you mean" it), or a note that the domain is an alias
 * domain.  ADMIN_EX_NOINPUT, or ADMIN_EX_TEMPFAIL.
 */
int rt_no_mailbox(struct db *db, const char *what, const struct addr *ad);

/* rt_check_transport, rt_check_relayhost - the syntax of a Postfix
   transport:nexthop and of a [host]:port relay host; 0 or
   ADMIN_EX_DATAERR with the reason printed under what/key */
int rt_check_transport(const char *what, const char *key, const char *v);
int rt_check_relayhost(const char *what, const char *key, const char *v);

/* rt_list - "postern WHAT list", which takes no operands: the rows of sql
   under cols (admin_list); ADMIN_EX_USAGE when argc is not 0 */
int rt_list(struct admin *a, const char *what, int argc,
            const char *const *cols, const char *sql);

/* rt_null - NULL for "" and "null" (clears a nullable column), else v */
const char *rt_null(const char *v);

/* rt_exists - LK_FOUND when sql with one string parameter returns a row */
int rt_exists(struct db *db, const char *what, const char *sql,
              const char *param);

/*
 * rt_alias_cycle - would adding source -> targets[0..n) make an alias
 * loop?  source is an address or "@domain" (a catch-all).  Follows the
 * active aliases, alias domains and catch-alls as postern-maps does (a
 * mailbox ends a path).  LK_FOUND with the cycle written into *cycle
 * ("a@x -> b@x -> a@x"), LK_NOTFOUND, LK_TEMP (message printed).
 */
int rt_alias_cycle(struct db *db, const char *what, const char *source,
                   const char *const *targets, unsigned n, struct str *cycle);

/* one changing statement, run as a whole transaction by rt_stmt_run */
#define RT_STMT_PARAMS 8
struct rt_stmt {
    const char *sql;
    struct db_param p[RT_STMT_PARAMS];
    size_t np;
    unsigned long long rows; /* set by rt_stmt_run: the rows it changed */
};

/* rt_stmt_run - run t as one transaction (admin_transaction) and, when it
   went through, say what was done (admin_done: what, action, key, the rows
   changed); admin_transaction's status */
int rt_stmt_run(struct admin *a, struct rt_stmt *t, const char *what,
                const char *action, const char *key);
/* rt_done - what a disable, enable or remove verb did: "disabled", ... */
const char *rt_done(const char *verb);

/* rt_tx_exec - one changing statement inside admin_transaction's body:
   0 with *rows added to, or -1 (err set by lib/db) */
int rt_tx_exec(struct db *db, const char *sql, const struct db_param *p,
               size_t np, unsigned long long *rows, struct str *err);

/*
 * rt_parse_pattern - the key of a transports or relayhosts row: "default"
 * (match_type default, pattern ""), an address (address), or a domain /
 * ".domain" for its subdomains (domain).  type gets the match_type, pattern
 * (RT_NAME_MAX + 1) the stored pattern.  0 or ADMIN_EX_DATAERR.
 */
int rt_parse_pattern(const char *what, const char *in, const char **type,
                     char *pattern);

#endif
