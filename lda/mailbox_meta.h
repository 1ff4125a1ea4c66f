/*
 * mailbox_meta - what postern-lda keeps beside the messages of a Maildir++
 * mailbox so that Dovecot (and the mail clients behind it) see the same
 * thing Sieve asked for (lda/mailbox_meta.c): IMAP keywords, folder
 * subscriptions, special-use folders and mailbox ids, and the fcc copy.
 */
#ifndef POSTERN_LDA_MAILBOX_META_H
#define POSTERN_LDA_MAILBOX_META_H

#include "sieve_bridge.h"

#define MBMETA_KEYWORDS_MAX 26           /* letters a..z, as Dovecot */
#define MBMETA_KEYWORD_LEN_MAX 255       /* bytes of one keyword */
#define MBMETA_FILE_MAX (64 * 1024)      /* dovecot-keywords, subscriptions */
#define MBMETA_LETTERS_MAX 40            /* "DFPRST" + a..z + NUL */
#define MBMETA_LOCK_WAIT_MS 2000         /* waiting for a dot-lock */
#define MBMETA_LOCK_STALE_S 30           /* an older lock is removed */
#define MBMETA_SCAN_MAX 10000            /* folders looked at for an id */

/*
 * mbmeta_letters - the Maildir info letters for the flags of a Sieve
 * action, to be stored in the folder directory fdir (which must exist):
 * the system flags as D F R S T, then one letter a..z per keyword as the
 * folder's dovecot-keywords file maps it, adding keywords that are new
 * (under Dovecot's dot-lock, written to the lock file and renamed over).
 * Keywords that are not IMAP atoms, system-looking flags Maildir cannot
 * hold ("\Recent", "\Junk"), keywords over the 26 a folder holds and
 * keywords the file cannot take now are dropped: each is named in *warn
 * (the message is stored all the same).  out: sorted letters.
 */
void mbmeta_letters(const char *fdir, const char *const *flags, int dosync,
                    char *out, size_t size, struct str *warn);

/* mbmeta_subscribe - add the Maildir++ folder dir (".A.B", "" = INBOX:
   nothing) to root/subscriptions as Dovecot 2.3 writes it ("V\t2" header,
   levels separated by a tab, names as on disk); 0 (added or there
   already) or -1 with *err */
int mbmeta_subscribe(const char *root, const char *dir, int dosync,
                     struct str *err);

/* a delivery without Sieve (-m FOLDER, LMTP user+folder@): mbmeta_missing
   before the store (1: root/dir does not exist yet), then
   mbmeta_subscribe_new after it subscribes the folder if it exists now
   (failures logged) */
int mbmeta_missing(const char *root, const char *dir);
void mbmeta_subscribe_new(const struct lda_config *cfg, const char *root,
                          const char *dir, const char *who);

/* mbmeta_guid - the mailbox GUID Dovecot keeps in fdir/dovecot-uidlist
   (the "G" field of its header; IMAP MAILBOXID): LK_FOUND with out
   (32 hex digits), LK_NOTFOUND (no file, no GUID), LK_TEMP */
int mbmeta_guid(const char *fdir, char *out, size_t size);

/* mbmeta_find_id - the folder of root whose GUID is id: LK_FOUND with
   *dir (".A.B", "" = INBOX), LK_NOTFOUND, LK_TEMP */
int mbmeta_find_id(const char *root, const char *id, struct str *dir);

/* mbmeta_special_folder - the folder [lda] special_use gives the flag
   ("\Junk=Junk \Sent=Sent ..."; flags compared without case): LK_FOUND
   with *folder, LK_NOTFOUND */
int mbmeta_special_folder(const char *conf, const char *flag,
                          struct str *folder);

/* the Sieve host callbacks (special-use, mailboxid) over one mailbox */
struct mbmeta_host {
    const char *root;
    const char *special_use;
};
void mbmeta_host_setup(struct sieve_host *h, struct mbmeta_host *c,
                       const char *root, const struct lda_config *cfg);

/* one store of a keep/fileinto (sieve_bridge.c): the folder directory
   (:mailboxid, :specialuse, then the name), the flag letters, and whether
   the folder is new (then it is subscribed once stored) */
struct mbmeta_target {
    struct str dir;
    char letters[MBMETA_LETTERS_MAX];
    int fresh;
};
/* mbmeta_prepare - 0, or -1 with *err (an unusable folder name: the
   caller stores in INBOX) */
int mbmeta_prepare(struct mbmeta_target *t, const struct lda_config *cfg,
                   const char *root, const struct sieve_action *a,
                   const char *who, const char **err);
/* mbmeta_stored - after a good store: subscribe a new folder (logged) */
void mbmeta_stored(const struct mbmeta_target *t, const struct lda_config *cfg,
                   const char *root, const char *who);
void mbmeta_target_free(struct mbmeta_target *t);

/* mbmeta_fcc - file msg (a vacation reply or notification just sent) as
   fcc asks; failures are logged, never fail the delivery */
void mbmeta_fcc(const struct sieve_lda_run *run, const struct sieve_fcc *f,
                const struct str *msg);

#endif
