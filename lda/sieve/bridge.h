/*
 * bridge - glue between postern-lda's message spool and the Sieve engine
 * (bridge.c).  lda_sieve_deliver() itself is declared in lda.h.
 */
#ifndef POSTERN_SIEVE_BRIDGE_H
#define POSTERN_SIEVE_BRIDGE_H

#include "../lda.h"
#include "sieve.h"

/* sieve_lda_message - a sieve_message over a spooled message; sender ""
   is the null sender.  m must stay put while sm is used. */
void sieve_lda_message(struct sieve_message *sm, struct lda_msg *m,
                       const char *sender, const char *recipient);

/* sieve_maildir_flags - "\Seen \Flagged" -> "FS" (Maildir info letters,
   sorted); keywords are left out. */
void sieve_maildir_flags(const char *const *flags, char *out, size_t size);

#endif
