/*
 * sieve_lists - the lists of the Sieve "extlists" extension (RFC 6134) in
 * postern-lda: "tag:NAME" is the postern policy group NAME
 * (policy_groups, policy_group_members; lib/pgroup.h), read once per
 * delivery when a script first asks, or with [lda] ldap = yes the
 * directory group NAME (directory_groups, members in LDAP through
 * lib/ldapgroup.h) (sieve_lists.c).
 */
#ifndef POSTERN_SIEVE_LISTS_H
#define POSTERN_SIEVE_LISTS_H

#include "aliasdom.h"
#include "lda.h"
#include "ldapc.h"
#include "ldapload.h"
#include "ldapgroup.h"
#include "pgroup.h"
#include "sieve.h"

/* one delivery's lists */
struct sieve_lists {
    struct lda_ctx *ctx;
    const char *address;        /* the mailbox, for the log */
    int state;                  /* 0 not read, 1 read, LK_TEMP failed */
    struct aliasdom alias;
    struct pgroup_set *groups;
    int ldap_state;             /* 0 not opened, 1 open, LK_TEMP failed */
    const struct ldapload *ldap; /* the LDAP module, loaded on first use */
    struct ldapc *ld;           /* [lda] ldap = yes: opened on first use */
    struct ldapgroup *ldgroups;
};

/* sieve_lists_init - nothing is read until a script asks. */
void sieve_lists_init(struct sieve_lists *l, struct lda_ctx *ctx,
                      const char *address);
/* sieve_lists_host - set h's list callbacks to l. */
void sieve_lists_host(struct sieve_lists *l, struct sieve_host *h);
void sieve_lists_free(struct sieve_lists *l);

/* the callbacks (struct sieve_host), LK_* */
int sieve_lists_member(void *ctx, const char *list, const char *value);
int sieve_lists_valid(void *ctx, const char *list);
int sieve_lists_members(void *ctx, const char *list, struct str *out,
                        size_t max);

#endif
