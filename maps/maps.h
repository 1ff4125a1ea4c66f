/*
 * maps - shared declarations of postern-maps, the socketmap routing service.
 *
 * Data flow: a loader thread (loader.c) polls the change_counter table and,
 * when a generation moved, reads the routing tables into a new immutable
 * snapshot (snapshot.c) and hands it to the event loop, which swaps it in.
 * Requests (proto.c) are answered by resolve.c from the current snapshot
 * only; the database is never queried on the request path.  When the loader
 * has not reached the database for [maps] max_staleness, answers are TEMP.
 */
#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H

#include <stddef.h>

#include "arena.h"
#include "lookup.h"
#include "daemon.h"
#include "reloader.h"
#include "srs.h"
#include "db.h"
#include "str.h"
#include "strmap.h"

#define MAPS_MAX_REQUEST 10000 /* socketmap request, bytes (Postfix's own) */
#define MAPS_MAX_REPLY 100000  /* socketmap reply, bytes (Postfix's own) */
#define MAPS_NAME_MAX 32

struct maps_config {
    struct server_config srv;
    char *recipient_delimiter;
    long long poll_interval;  /* ms */
    long long max_staleness;  /* ms */
    long long full_reload_interval; /* ms, 0 = only when needed */
    struct srs_config srs;    /* srs_* keys (lib/srs.h) */
    char *closed_text;        /* rcptcheck's text for a closed mailbox */
    struct db_config db;
};

/* --- the snapshot -------------------------------------------------------- */

enum dom_kind { DOM_LOCAL, DOM_ALIAS, DOM_RELAY, DOM_LEGACY };

struct dom {
    const char *name;
    enum dom_kind kind;
    const char *alias_target;     /* DOM_ALIAS */
    const char *transport;        /* override or NULL */
    const char *legacy_transport; /* or NULL */
    const char *relayhost;        /* or NULL */
    long long default_quota;      /* default_quota_bytes; -1 = NULL */
};

/* mailboxes.state (sql/migrations/0006_directory.sql): leaving is
   answered as active; closed is refused at RCPT (rcptcheck) or forwarded
   to closed_forward (alias), and owns no sender address (senderlogin) */
enum mbox_state { MBOX_ACTIVE, MBOX_LEAVING, MBOX_CLOSED };

struct mbox {
    const char *address;
    const char *maildir;
    int legacy;                   /* migration_state = 'legacy' */
    const char *transport;        /* override or NULL */
    const char *relayhost;        /* or NULL */
    enum mbox_state state;
    const char *closed_forward;   /* MBOX_CLOSED: forward here, or NULL */
    long long quota;              /* quota_bytes; -1 = NULL (the domain's) */
};

/* A list of strings with a flag (alias targets with keep_copy, logins). */
struct sval {
    const char *s;
    int flag;
    struct sval *next;
};

struct slist {
    struct sval *head, *tail;
    size_t n;
};

struct snapshot {
    struct arena arena;
    struct strmap domains;      /* name -> struct dom */
    struct strmap mailboxes;    /* address -> struct mbox */
    struct strmap aliases;      /* "local@dom" or "@dom" -> struct slist */
    struct strmap tr_addr;      /* address -> transport */
    struct strmap tr_dom;       /* "dom" or ".dom" -> transport */
    const char *tr_default, *tr_local, *tr_legacy;
    struct strmap rh_addr;      /* address -> [host]:port */
    struct strmap rh_dom;       /* dom -> [host]:port */
    const char *rh_default;
    struct strmap grant_addr;   /* sender address -> struct slist of logins */
    struct strmap grant_dom;    /* sender domain -> struct slist of logins */
    struct strmap rcpt_doms;    /* domains with a mailbox row: their
                                   recipients are listed (relayrecipient) */
    struct strmap groups;       /* directory_groups address -> address */
    size_t rows;
    long long load_ms;          /* how long the full load took */
    size_t base_used;           /* arena bytes after the full load: what
                                   deltas add beyond it is mostly garbage */
};

/* snapshot_load - read every routing table; NULL + *err on failure. */
struct snapshot *snapshot_load(struct db *db, struct str *err);
void snapshot_free(struct snapshot *s);

/*
 * snapshot_new, snapshot_add_row, snapshot_done - a snapshot built without
 * a database (unit tests), indexed as the loader indexes.  Each row holds
 * the columns the loader's SELECT returns (NULL = SQL NULL):
 *   SNAP_DOMAINS     name, kind, alias_target, transport, legacy_transport,
 *                    relayhost, default_quota_bytes
 *   SNAP_MAILBOXES   address, maildir, migration_state, transport, relayhost,
 *                    state, closed_forward, quota_bytes
 *   SNAP_ALIASES     source, target, keep_copy
 *   SNAP_TRANSPORTS  match_type, pattern, purpose, transport
 *   SNAP_RELAYHOSTS  match_type, pattern, nexthop
 *   SNAP_GRANTS      login, match_type, pattern
 *   SNAP_GROUPS      address (directory_groups)
 * Mailboxes before aliases; snapshot_done after the last row.  Free with
 * snapshot_free.
 */
enum snap_table { SNAP_DOMAINS, SNAP_MAILBOXES, SNAP_ALIASES, SNAP_TRANSPORTS,
                  SNAP_RELAYHOSTS, SNAP_GRANTS, SNAP_GROUPS };
#define SNAP_TABLES (SNAP_GROUPS + 1)
#define SNAP_COLS_MAX 8
struct snapshot *snapshot_new(void);
void snapshot_add_row(struct snapshot *s, enum snap_table t,
                      const char *const *v);
void snapshot_done(struct snapshot *s);
/*
 * snapshot_remove, snapshot_clear - a change in place (maps/delta.c):
 * snapshot_remove drops what is indexed under key (any case) in table t
 * (transports and relayhosts: the whole table, which is small and read
 * again whole); snapshot_add_row then adds the rows as they are now.
 */
#define SNAP_KEY_MAX 320 /* the longest key column (VARCHAR(320)) */
void snapshot_remove(struct snapshot *s, enum snap_table t, const char *key);
/* snapshot_sql - the SELECT of table t: all its rows, or (by_key) the rows
   of one key, "?" (NULL for transports and relayhosts: read whole). */
const char *snapshot_sql(enum snap_table t, int by_key);
void snapshot_clear(struct snapshot *s, enum snap_table t);
/* snapshot_alias_owner - the mailbox an alias source belongs to: its only
   target, when that is a mailbox that is not closed (senderlogin); NULL if
   none. */
const char *snapshot_alias_owner(const struct snapshot *s, const char *src);
/* slist_add - append to a list kept in the snapshot's arena. */
void slist_add(struct arena *a, struct slist *l, const char *s, int flag);

/* --- lookups --------------------------------------------------------------- */

/* maps_known_name - 1 if name is a map postern-maps answers (SRS apart). */
int maps_known_name(const char *name);

/*
 * maps_lookup - answer one socketmap request (name, key) from snapshot s
 * into out (the reply data: the value for LK_FOUND, a reason otherwise).
 * name must be a known map (maps_known_name).  LK_FOUND, LK_NOTFOUND or
 * LK_TEMP (lookup.h).
 */
int maps_lookup(const struct snapshot *s, const char *delims,
                               const char *name, const char *key,
                               size_t keylen, struct str *out);

/* maps_set_closed_text - the text rcptcheck answers after "550 5.2.1 " for
   a closed mailbox ([maps] closed_text, printable ASCII, at most
   MAPS_CLOSED_TEXT_MAX bytes; longer is cut); default "mailbox closed".
   Called from the event loop, which does every lookup. */
#define MAPS_CLOSED_TEXT_MAX 200
void maps_set_closed_text(const char *text);

/* the transport of a directory group address without a mailbox row: mail
   that reached it without postern-milter's expansion waits (retry(8)) */
#define MAPS_GROUP_TRANSPORT                                                   \
    "retry:4.3.0 directory group address was not expanded by postern-milter"
/* the mailbox map's answer for such an address (no Maildir) */
#define MAPS_GROUP_MAILBOX "directory-group"

/* --- SRS (srsmap.c) --------------------------------------------------------- */

struct srs;

/* maps_srs_load - the SRS state for cfg (*out NULL when srs_domain is
   empty); reads the secret file.  0, or -1 + *err. */
int maps_srs_load(const struct maps_config *cfg, struct srs **out,
                  struct str *err);
void maps_srs_free(struct srs *srs);
/* maps_srs_lookup - answer srsencode / srsdecode / forwardtransport /
   srstransport (s may be NULL for srsdecode, which needs no snapshot);
   srs must not be NULL. */
int maps_srs_lookup(const struct srs *srs, const struct snapshot *s,
                    const char *delims, const char *name, const char *key,
                    size_t len, struct str *out);
/* maps_srs_name - 1 if name is one of the SRS names above */
int maps_srs_name(const char *name);
/* the transport forwardtransport names for forwarded copies (master.cf) */
#define MAPS_FORWARD_TRANSPORT "postern-forward:"

/* the snapshot as the reloader thread loads it (lib/reloader.h) */
extern const struct reloader_ops maps_reloader_ops;

extern const struct daemon_app maps_app;

#endif
