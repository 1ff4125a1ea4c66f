/*
 * postfixq - Postfix's queue tools as the admin command runs them
 * (postern contain clear, postern moderate): postsuper on the hold queue,
 * with the number of messages Postfix says it acted on, and postqueue -i.
 * Both honour MAIL_CONFIG, so a second Postfix instance is reached by
 * setting it.
 *
 * postsuper exits 0 whether or not it held the queue ID; the count comes
 * from its summary line ("Released from hold: N messages", "Deleted: N
 * messages"), which Postfix prints on stderr after every run.  A program
 * configured in its place must print it too; without it the run counts as
 * failed (nothing is assumed done).
 *
 * Limits: PFQ_IDS_MAX queue IDs per run; each child is killed after
 * PFQ_TIMEOUT_MS.
 */
#ifndef POSTERN_ADMIN_POSTFIXQ_H
#define POSTERN_ADMIN_POSTFIXQ_H

#define PFQ_IDS_MAX 200
#define PFQ_TIMEOUT_MS 60000

struct str;

/*
 * pfq_hold_op - path OP ID [OP ID ...] hold, OP "-H" (release) or "-d"
 * (delete): the number of the n ids (at most PFQ_IDS_MAX) that were in
 * the hold queue and were acted on; -1 with the reason appended to *err.
 */
int pfq_hold_op(const char *path, const char *op, char *const *ids, int n,
                struct str *err);

/* pfq_flush_one - path -i ID (deliver it now); 0 or -1 + *err */
int pfq_flush_one(const char *path, const char *id, struct str *err);

#endif
