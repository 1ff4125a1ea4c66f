/*
 * settings - a mailbox's settings without Sieve (tables mailbox_settings
 * and mailbox_forwards, migration 0012) and the Sieve script generated
 * from them: the one description that postern-lda runs and
 * postern-managesieve shows (read-only, as SIEVE_SETTINGS_NAME).
 *
 * The generated script (docs/sieve.md "Settings without Sieve"), in this
 * order:
 *   spam      spamtest :percent at or over the threshold (the score over
 *             [lda] sieve_spam_score_max): fileinto the folder; stop (no
 *             forward, no reply, the user's script does not run)
 *   vacation  vacation [:days N] [:subject S] [:addresses [...]] TEXT,
 *             inside currentdate :zone "+0000" tests for the window
 *   forward   redirect :copy TARGET per target when a copy is kept,
 *             else redirect TARGET (cancels the implicit keep; the
 *             user's script still runs and may file a copy itself)
 * Nothing set: the empty text (no script).
 *
 * Limits: SIEVE_SETTINGS_TEXT_MAX bytes of reply text,
 * SIEVE_SETTINGS_FORWARDS_MAX targets; longer values from the database
 * are refused (LK_TEMP + *err: an admin must look).
 */
#ifndef POSTERN_SIEVE_SETTINGS_H
#define POSTERN_SIEVE_SETTINGS_H

#include "db.h"
#include "str.h"

#define SIEVE_SETTINGS_NAME "postern-settings" /* reserved script name */
#define SIEVE_SETTINGS_TEXT_MAX 32000   /* bytes of vacation_body (8000 chars) */
#define SIEVE_SETTINGS_SUBJECT_MAX 1020 /* bytes of vacation_subject */
#define SIEVE_SETTINGS_FORWARDS_MAX 10  /* targets per mailbox */
#define SIEVE_SETTINGS_ADDRS_MAX 2000   /* bytes of vacation_addresses */

struct sieve_settings {
    int vacation;              /* vacation_active */
    struct str subject;        /* len 0: none */
    struct str body;
    char from[32], until[32];  /* "YYYY-MM-DDTHH:MM:SS" UTC, "" = open */
    int days;                  /* 0 = the default period */
    struct str addresses;      /* "a@x,b@y" */
    int keep;                  /* forward_keep */
    struct str forwards;       /* "t1 t2": space-separated targets */
    int spam;                  /* a threshold is set */
    double spam_threshold;
    struct str spam_folder;
};

void sieve_settings_init(struct sieve_settings *s);
void sieve_settings_free(struct sieve_settings *s);

/*
 * sieve_settings_load - the settings of the mailbox `address` (as in
 * mailboxes.address), one prepared query.  LK_FOUND (a row or a forward),
 * LK_NOTFOUND (no settings), LK_TEMP + *err (database, or a value over a
 * limit).
 */
int sieve_settings_load(struct db *db, const char *address,
                        struct sieve_settings *s, struct str *err);

/*
 * sieve_settings_script - the generated script into out (appended; ""
 * when nothing is set).  spam_score_max: the score that is 100 % ([lda]
 * sieve_spam_score_max; <= 0: 10).
 */
void sieve_settings_script(const struct sieve_settings *s,
                           double spam_score_max, struct str *out);

/* sieve_settings_quote - s as a Sieve quoted string ("\"" and "\\"
   escaped), appended to out */
void sieve_settings_quote(struct str *out, const char *s, size_t len);

#endif
