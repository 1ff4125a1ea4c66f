/*
 * postern-dirsync - keeps postern's SQL model in step with an LDAP
 * directory (UCS@school or plain OpenLDAP): people become mailboxes, their
 * other addresses aliases, groups with a mail address valid recipients,
 * directory attributes policy-group members; an account gone from the
 * directory walks the life cycle active -> leaving -> closed -> purged.
 * docs/directory.md is the admin's view, docs/dev/directory.md ours.
 *
 * Structure:
 *   config.c     [directory] and the presets (ucs, inetorgperson)
 *   sync.c       the LDAP Content Synchronization session (RFC 4533,
 *                libldap's ldap_sync API): a full refresh, then persist
 *   entry.c      one directory entry -> its SQL rows (person or group),
 *                in one transaction, keyed by entryUUID
 *   reconcile.c  the end of a full refresh: who was not seen leaves,
 *                behind the mass-change guard
 *   lifecycle.c  the timed steps: notice, reminder, leaving -> closed,
 *                expired transition aliases; the purge command
 *   main.c       the command line and the loop
 *
 * Rows it writes carry owner = 'ldap' and the entry's dir_uuid; rows with
 * owner = 'sql' are never changed or removed.
 */
#ifndef POSTERN_DIRSYNC_H
#define POSTERN_DIRSYNC_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "hash.h"
#include "ldapc.h"
#include "server.h" /* struct server_config: its pid_file */
#include "str.h"
#include "strvec.h"

#define DS_ATTRS_MAX 8           /* attributes in one list setting */
#define DS_ROLE_MAP_MAX 16       /* role -> policy group pairs */
#define DS_ADDR_MAX 320
#define DS_ALIASES_MAX 64        /* alternative addresses per person */
#define DS_FORWARDS_MAX 16       /* forward addresses per person */

struct ds_role_map {
    char role[64];               /* the value's part before the first ':' */
    char group[65];              /* policy_groups.name */
};

/* [directory] */
struct ds_config {
    char *name;                  /* directory_sync.name */
    int preset;                  /* DS_PRESET_* */
    char *base;                  /* "" = [ldap] base */
    char *person_filter;         /* persons with mail */
    char *group_filter;          /* groups with mail */
    char *mail_attribute;        /* primary address */
    char *alias_attributes;      /* alternative addresses (list) */
    char *forward_attribute;     /* forward addresses */
    char *forward_copy_attribute;   /* "0" = forward without a copy */
    char *quota_attribute;
    long long quota_unit;        /* bytes per unit of quota_attribute */
    char *name_attribute;        /* display name */
    char *disabled_attribute;    /* a person with this attribute = value */
    char *disabled_value;        /*   is leaving, as if gone */
    char *role_attribute;        /* e.g. ucsschoolRole */
    char *role_groups;           /* "parent=parents, teacher=teachers" */
    char *allowed_users_attribute;  /* univentionAllowedEmailUsers */
    char *allowed_groups_attribute; /* univentionAllowedEmailGroups */
    char *member_attribute;         /* member DNs of a group (count only) */
    long long full_sync_interval;   /* ms: reconciliation period */
    long long retry_interval;       /* ms: after a failed session */
    long long lifecycle_interval;   /* ms: how often lifecycle runs */
    long long grace_period;         /* ms: leaving -> closed */
    long long reminder_before;      /* ms before grace_until */
    long long closed_retention;     /* ms: closed accounts purgeable */
    long long transition_period;    /* ms: old address kept as alias */
    long long max_leave_share;      /* per mille of active accounts one
                                       pass may move out of active */
    long long max_leave_floor;      /* this many always allowed */
    char *notice_from;
    char *sendmail;                 /* path of sendmail(1) */
    char *mail_root;                /* for purge: Maildirs below it */
    int purge_action;               /* DS_PURGE_* */
    char *archive_dir;

    struct ds_role_map roles[DS_ROLE_MAP_MAX];
    int nroles;
};

enum { DS_PRESET_UCS, DS_PRESET_INETORGPERSON };
enum { DS_PURGE_ARCHIVE, DS_PURGE_REMOVE };

struct dirsync_config {
    struct ds_config dir;
    struct ldapc_config ldap;
    struct db_config db;
    struct server_config srv; /* [directory] pid_file only (lib/daemon.h) */
};

/* One directory entry as the sync hands it over (the attributes
   [directory] names, nothing else).  Lists are bounded (DS_*_MAX): more
   values are ignored with a log line. */
struct ds_entry {
    char uuid[37];
    char dn[1025];
    int is_group;                /* objectClass names a group class */
    int disabled;                /* disabled_attribute = disabled_value */
    struct strvec mail;          /* mail_attribute values */
    struct strvec aliases, forwards, roles, allowed_users, allowed_groups;
    char name[256];
    long long quota;             /* in quota_unit; -1 = none */
    int forward_copy;            /* -1 none, 0, 1 */
    size_t members;
    int truncated;               /* a list hit its bound */
};

/* What one pass did, for the log and directory_sync. */
struct ds_stats {
    unsigned long persons, groups, created, renamed, reactivated, left,
        skipped, conflicts, groups_removed;
};

/* The session's state: what the refresh saw, and the open batch. */
struct ds_run {
    const struct ds_config *cfg;
    const char *base;
    struct db *db;
    struct hmap *seen;           /* uuids handed over in this session */
    struct hmap *disabled;       /* uuids of persons seen disabled */
    struct hmap *pre_aliases;    /* during the refresh: uuid -> its ldap */
    struct hmap *pre_members;    /*   aliases / memberships (entry.c) */
    struct hmap *group_ids;      /* during the refresh: policy group ids */
    struct hmap *domains;        /* during the refresh: domain -> 1 local,
                                    2 not (a domain added later counts at
                                    once in the persist phase) */
    int refreshed;               /* the refresh is complete (persist) */
    int in_tx;                   /* a batch transaction is open */
    unsigned batch;              /* entries in it */
    long long started_ms, last_lifecycle_ms, persist_leaves;
    long long allowed_leaves;    /* persist-phase leaves allowed */
    int once;                    /* end after the refresh (--once) */
    int held;                    /* the guard holds leavers back */
    struct ds_stats st;
    struct ds_entry cur;
    struct str err;
};

/* entry.c - apply one entry (inside the batch transaction); 0 applied,
   1 skipped (the reason logged), LK_TEMP database trouble */
int ds_apply_person(struct ds_run *r, const struct ds_entry *e);
int ds_apply_group(struct ds_run *r, const struct ds_entry *e);
/* ds_forget - the entry uuid is gone: a person leaves (guarded by the
   caller), a group's rows go; 0 or LK_TEMP */
int ds_leave(struct ds_run *r, const char *uuid, const char *reason);
int ds_drop_group(struct ds_run *r, const char *uuid);
void ds_entry_reset(struct ds_entry *e);
/* ds_preload - read the ldap-owned alias and member rows of every entry
   at the start of a refresh (one query each); 0 or LK_TEMP */
int ds_preload(struct ds_run *r);
void ds_preload_free(struct ds_run *r);
/* ds_canonical - a directory address in the form SQL stores: lower-case,
   no trailing dot, valid local part and domain; 0 or -1 */
int ds_canonical(const char *in, char *out, size_t size);

/* reconcile.c - the end of a full refresh: accounts not seen (or seen
   disabled) leave and groups not seen go, unless more than the guard
   allows would; 0 or LK_TEMP */
int ds_reconcile(struct ds_run *r);
/* ds_guard_allows - may one more account leave in the persist phase? */
int ds_guard_allows(struct ds_run *r);

/* sync.c - one session: refresh, then persist until full_sync_interval;
   0 (ended as planned) or LK_TEMP (retry after retry_interval) */
int ds_session(struct ds_run *r, struct ldapc *lc);

/* config.c */
size_t ds_sections(void *cfg, struct cfg_section *sections);
int ds_check(void *cfg, struct str *err);

/* lifecycle.c - the timed steps for every directory account, at now:
   leaving accounts without a notice get it (delivered into their INBOX
   through sendmail(1)); those within reminder_before of grace_until get
   the reminder; those past grace_until become closed; transition aliases
   past expires_at are removed.  Each account in its own transaction; one
   that fails is logged and retried on the next run.  Returns the number of
   accounts that changed, or -1 when the database could not be reached. */
int ds_lifecycle_run(struct db *db, const struct ds_config *cfg, time_t now,
                     struct str *err);

/* ds_state_log - write a directory_log row and the log line for a state
   change of the mailbox (inside the caller's transaction); 0 or LK_TEMP */
int ds_state_log(struct db *db, const char *uuid, const char *address,
                 const char *old_state, const char *new_state,
                 const char *reason, struct str *err);

/* lifecycle.c - the purge command: removes a closed directory account
   (its mailbox row, its ldap-owned aliases and policy-group members),
   moves its Maildir to archive_dir (or removes it) and writes
   directory_log.  Only closed accounts past closed_retention, unless
   force.  0, or -1 with *err set. */
int ds_purge(struct db *db, const struct ds_config *cfg, const char *address,
             int force, struct str *err);

#endif
