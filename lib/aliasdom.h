/*
 * aliasdom - the alias domains of the SQL domains table (kind = 'alias',
 * active), as one read-only map from alias domain to its target, for
 * addr_canonical (lib/addr.h).  postern-policyd and postern-milter load it
 * into their snapshots so that every rule sees user@alias-domain as
 * user@target, as postern-maps routes it.
 *
 * A finished map is read-only: any number of threads may ask at once.
 * Limits: names longer than ADDR_DOMAIN_MAX are skipped (the column holds
 * 253); a chain alias -> alias -> ... is followed by addr_canonical at most
 * ADDR_ALIAS_DOMAIN_DEPTH times.
 */
#ifndef POSTERN_ALIASDOM_H
#define POSTERN_ALIASDOM_H

#include "arena.h"
#include "db.h"
#include "strmap.h"

struct aliasdom {
    struct arena arena;
    struct strmap map; /* alias domain -> target, both lower-case */
    size_t n;
};

void aliasdom_init(struct aliasdom *m);
/* aliasdom_add - one alias domain (tests and hand-built snapshots). */
void aliasdom_add(struct aliasdom *m, const char *alias, const char *target);
/* aliasdom_load - read the table with the caller's handle (inside its
   snapshot transaction); 0, or LK_TEMP + *err. */
int aliasdom_load(struct aliasdom *m, struct db *db, struct str *err);
/* aliasdom_load_domain - only the alias chain that starts at domain (at
   most ADDR_ALIAS_DOMAIN_DEPTH indexed lookups), for a program that
   canonicalizes one address per run (postern-forward); 0, or LK_TEMP +
   *err. */
int aliasdom_load_domain(struct aliasdom *m, struct db *db,
                         const char *domain, struct str *err);
void aliasdom_free(struct aliasdom *m);

/* aliasdom_target - addr_alias_fn for addr_canonical: ctx is the map. */
const char *aliasdom_target(void *ctx, const char *domain);

#endif
