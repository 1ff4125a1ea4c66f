/*
 * admin.h - postern, the admin command: shared context and the command
 * table.  The top layer of the tree: it may use every program's public
 * header (postern explain decides with the programs' own code), lib-sieve
 * and lib.
 *
 *   postern [-c FILE] [--json] [--dry-run] [--user NAME] COMMAND ARGS...
 *
 * Each COMMAND is one module (admin/NAME.c) with a run function, or a
 * table of verbs, in admin_commands[] (admin/commands.c).  A command:
 *   - validates everything it can before SQL is touched, printing one
 *     message per problem to stderr ("postern: mailbox add: ...");
 *   - changes SQL only inside admin_transaction(), which names the admin
 *     (@postern_user, read by the audit triggers) and, with --dry-run,
 *     rolls back instead of committing;
 *   - prints tab-separated rows, or one JSON document with --json;
 *   - returns a sysexits(3) status (ADMIN_EX_*).
 */
#ifndef POSTERN_ADMIN_H
#define POSTERN_ADMIN_H

#include <stdio.h>

#include "db.h"
#include "str.h"

/* exit statuses (sysexits.h values, named once) */
#define ADMIN_EX_OK 0
#define ADMIN_EX_USAGE 64       /* wrong command line */
#define ADMIN_EX_DATAERR 65     /* validation refused the input */
#define ADMIN_EX_NOINPUT 66     /* the object named does not exist */
#define ADMIN_EX_UNAVAILABLE 69 /* a service (slapd, a daemon) is not there */
#define ADMIN_EX_SOFTWARE 70    /* a bug */
#define ADMIN_EX_CANTCREAT 73   /* the object exists already */
#define ADMIN_EX_TEMPFAIL 75    /* the database did not answer: try again */
#define ADMIN_EX_CONFIG 78      /* the configuration file is wrong */

#define ADMIN_USER_MAX 80 /* @postern_user, as audit_log.admin_user */

/* the configuration the admin command reads: [database] (other sections
   are read by the commands that need them, e.g. explain) */
struct admin_config {
    struct db_config db;
};

struct admin {
    const char *config_path;
    struct admin_config *cfg;
    struct db *db;    /* opened by admin_db() */
    int json;         /* --json */
    int dry_run;      /* --dry-run: validate and run, then roll back */
    int verbose;      /* -v */
    char user[ADMIN_USER_MAX + 1]; /* --user, else $SUDO_USER, else login */
    const char *verb; /* set by admin_dispatch (util.h): "add" */
    int flag;         /* admin_dispatch: the command's switch was given */
};

/* one verb of a command ("mailbox add"): run gets the operands after the
   verb (argv[0] = the first); the verb and the command's switch are in
   a->verb and a->flag */
struct admin_verb {
    const char *name;
    int (*run)(struct admin *a, int argc, char **argv);
};

struct admin_cmd {
    const char *name;  /* "mailbox" */
    const char *usage; /* one line: "mailbox list|show|add|set|disable|remove ..." */
    int (*run)(struct admin *a, int argc, char **argv); /* argv[0] = name */
    /* or, run NULL: the verbs, ended by a NULL name, run by admin_dispatch
       with flag, the command's switch ("--force"; NULL: none) */
    const struct admin_verb *verbs;
    const char *flag;
};

extern const struct admin_cmd admin_commands[];

/*
 * admin_dispatch - argv[0] is the command, argv[1] its verb: sets a->flag
 * (flag, e.g. "--force", was anywhere on the line: it is taken out; NULL:
 * the command has none) and a->verb, and returns the run of the matching
 * entry of verbs (ended by a NULL name).  A missing verb is refused with
 * the list of verbs ("say what to do: list, show, ..."), an unknown one
 * with the closest verb suggested ("no verb 'x' (did you mean 'y'?)"):
 * ADMIN_EX_USAGE.  (admin/util.c)
 */
int admin_dispatch(struct admin *a, const char *what,
                   const struct admin_verb *verbs, const char *flag,
                   int argc, char **argv);

/* the database connection, opened on first use; NULL + message on stderr
   when it cannot be reached (the caller returns ADMIN_EX_TEMPFAIL) */
struct db *admin_db(struct admin *a);

/*
 * admin_transaction - run body in one transaction (retried whole on a
 * deadlock, lib/db.h db_transaction) after SET @postern_user; with
 * --dry-run the transaction is rolled back after body succeeded.
 * Returns ADMIN_EX_OK, or ADMIN_EX_TEMPFAIL with the message printed, or
 * body's own ADMIN_EX_* status (body returns it through *status: 0 from
 * body means "commit", -1 means a database error in *err).
 */
typedef int (*admin_tx_fn)(struct admin *a, struct db *db, void *ctx,
                           int *status, struct str *err);
int admin_transaction(struct admin *a, admin_tx_fn body, void *ctx);

/* admin_error - "postern: WHAT: message" on stderr; returns status */
int admin_error(int status, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- output: rows as TSV (with a header line), or a JSON array of objects */
struct admin_out {
    struct admin *a;
    const char *const *cols; /* column names, NULL-terminated */
    unsigned ncols;
    unsigned nrows;
};
void admin_out_begin(struct admin_out *o, struct admin *a,
                     const char *const *cols);
/* one row: ncols values, NULL printed as "-" (TSV) or null (JSON) */
void admin_out_row(struct admin_out *o, char *const *vals);
void admin_out_end(struct admin_out *o);
/* a db_row_fn that prints each row through the admin_out in ctx */
int admin_out_dbrow(void *ctx, unsigned ncols, char **vals,
                    const unsigned long *lens);
/* a JSON string literal of s (escaped) appended to out */
void admin_json_str(struct str *out, const char *s);

#endif
