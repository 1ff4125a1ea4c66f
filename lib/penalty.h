/*
 * penalty - growing delays after failed logins, the way Dovecot's
 * auth_penalty works: each key (a source network, an account) counts its
 * failures; an attempt under a key with n failures waits
 * min(initial * 2^(n-1), max) before it is checked (2, 4, 8, 15 s with
 * Dovecot's figures), whether its password is right or wrong, so guessing
 * gains nothing from the right one coming along.  A key is forgotten once
 * forget_ms have passed since its last failure; a success forgets it at
 * once (callers decide which keys a success clears).
 *
 * The table also counts the attempts held now under each key
 * (penalty_hold), so a caller can refuse a second attempt while one waits:
 * parallel sessions from one source then gain nothing either.
 *
 * The caller delays; this module only says how long (it never sleeps).
 * Limits: max_entries keys (at least 16); when full, keys with no attempt
 * held are dropped, oldest failure first, to make room (a flood of
 * distinct keys weakens the throttle for old keys, never blocks anyone).
 * Time is whatever clock the caller passes (clock_ms()).  Not thread-safe.
 */
#ifndef POSTERN_PENALTY_H
#define POSTERN_PENALTY_H

#include <stddef.h>

struct penalty_settings {
    long long initial_ms; /* the delay after the first failure */
    long long max_ms;     /* the delay never grows past this */
    long long forget_ms;  /* a key without failures this long is forgotten */
};

struct penalty;

struct penalty *penalty_new(const struct penalty_settings *set,
                            size_t max_entries);
void penalty_free(struct penalty *p);
void penalty_set(struct penalty *p, const struct penalty_settings *set);

/* penalty_delay_ms - how long an attempt under key must wait now (0: none) */
long long penalty_delay_ms(struct penalty *p, const char *key, long long now);
/* penalty_failures - failures counted under key now (0 when forgotten) */
unsigned penalty_failures(struct penalty *p, const char *key, long long now);
/* penalty_fail - one more failure under key */
void penalty_fail(struct penalty *p, const char *key, long long now);
/* penalty_clear - forget key (a success) */
void penalty_clear(struct penalty *p, const char *key);
/* penalty_hold - +1: an attempt under key starts waiting; -1: it ended */
void penalty_hold(struct penalty *p, const char *key, int delta);
/* penalty_held - attempts under key waiting now */
unsigned penalty_held(struct penalty *p, const char *key);

#endif
