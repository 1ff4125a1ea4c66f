/*
 * daemon - the life cycle every postern program shares, whatever serves its
 * connections: the command line (-c FILE, -f foreground, -t test
 * configuration, -d print defaults, -v verbose, -V version, -h), logging to
 * stderr (-f, -t) or syslog, loading and checking the configuration,
 * daemonizing with a pid file ([section] pid_file, server_config: checked
 * at start, written after detaching, removed on exit; none with -f),
 * fixing up unix sockets (owner), dropping privileges, and SIGHUP without
 * dying.  It calls nothing of the server loop.
 *
 * Two ways to use it:
 *   - daemon_main() (lib/daemon_server.c): the life cycle with the shared
 *     epoll server skeleton (lib/server.h) on top; a program's main() is one
 *     call.  postern-maps, postern-policyd, postern-managesieve and
 *     postern-lda --lmtp.
 *   - the steps one by one: daemon_start(), open the sockets,
 *     daemon_detach(), daemon_drop_privileges(), serve, daemon_end().
 *     postern-milter, which hands the connections to libmilter.
 *
 * The configuration file is shared by all postern programs; each program
 * checks its own sections and the shared ones it uses, and skips the sections
 * in daemon_all_sections that belong to the others.
 *
 * Diagnostics: configuration errors go to stderr as "FILE:LINE: message" and
 * exit 1 (with -t too); a usage error exits 64; a broken environment at
 * start-up (cannot bind, cannot drop privileges, cannot fork) is fatal (75).
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include <sys/types.h>

#include "config.h"
#include "server.h" /* struct server_config, struct server_ops: types only */

#define DAEMON_DEFAULT_CONFIG "/etc/postern/postern.conf"
#define DAEMON_MAX_SECTIONS 8

/* Every section name a postern configuration file may contain. */
extern const char *const daemon_all_sections[];

/*
 * A program's description.  The life cycle uses name, config_size,
 * sections, check, release and server_config; the other members are for
 * daemon_main() only.
 */
struct daemon_app {
    const char *name;    /* "postern-maps" */
    size_t config_size;  /* size of the program's configuration struct */
    /* fill sections[] with the program's sections bound to cfg; count */
    size_t (*sections)(void *cfg, struct cfg_section *sections);
    /* cross-field checks after loading (may be NULL); 0 or -1 + *err */
    int (*check)(void *cfg, struct str *err);
    /* the program's server_config inside cfg (listen, user, socket mode);
       may be NULL for a program that listens on nothing */
    struct server_config *(*server_config)(void *cfg);
    /* --- daemon_main() only --- */
    const struct server_ops *ops;
    /* create the application state (after listen, before privilege drop) */
    void *(*init)(void *cfg, struct server *srv, struct str *err);
    /* after privilege drop, before serving (may be NULL); 0 or -1 + *err */
    int (*start)(void *app, struct str *err);
    /* a new configuration was loaded on SIGHUP: take it (return the one to
       free: old or new); may be NULL (then reloads only log) */
    void *(*reconfigure)(void *app, void *newcfg);
    void (*fini)(void *app);
    int tick_ms;
    size_t max_input, max_output;
    /* operands after the options the program takes (a command and its
       arguments, postern-dirsync); 0 = none, more is a usage error */
    int max_operands;
    /* frees what check attached to cfg beyond its tables (a parsed file);
       may be NULL; daemon_free_config calls it */
    void (*release)(void *cfg);
};

/* The life cycle's state, filled by daemon_start(). */
struct daemon {
    const struct daemon_app *app;
    const char *config_path;
    void *cfg;          /* the program's configuration (app->config_size) */
    int foreground;     /* -f */
    int verbose;        /* -v count */
    char **operands;    /* what follows the options (app->max_operands) */
    int noperands;
};

/*
 * daemon_start - fds 0-2 opened on /dev/null if closed, the command line,
 * logging, the configuration loaded and checked.  Returns -1 when the
 * program goes on (d filled), or the exit status to return from main(): 0
 * after -t (configuration valid), -d or -h; 1 for a configuration error
 * (printed as FILE:LINE: message) or when a live process holds the pid
 * file (without -f and operands); 64 for a usage error.
 */
int daemon_start(struct daemon *d, const struct daemon_app *app, int argc,
                 char **argv);

/* daemon_detach - unless -f: fork into the background (new session, cwd /,
   fds 0-2 on /dev/null) and write the pid file (its directory created 0755
   if missing; a path that cannot be written: message on stderr, exit 75).
   daemon_end() removes it, or, when the process may not any more (it
   dropped root and the directory is root's), empties it through the
   descriptor opened as root; a start takes over a file whose process is
   gone.  Fatal if fork fails.  Call before any thread. */
void daemon_detach(const struct daemon *d);

/*
 * daemon_socket_owner - a unix socket just bound as root gets the
 * configured user (server_config user) as owner and that user's primary
 * group as group, so the socket mode means what it says once privileges
 * are dropped.  Nothing to do without a user or when not root.  0 or -1 +
 * *err.
 */
int daemon_socket_owner(const struct daemon *d, const char *path,
                        struct str *err);

/* daemon_drop_privileges - to the configured user (server_config user);
   fatal on failure: never serve as root by accident. */
void daemon_drop_privileges(const struct daemon *d);

/*
 * daemon_drop_user - when running as root and user is not empty: initgroups,
 * setgid, setuid to that user, and verify root cannot be regained.  0, or
 * -1 + *err (the caller must exit).  Not root and user empty or equal to the
 * current user: 0.
 */
int daemon_drop_user(const char *user, struct str *err);

/*
 * daemon_reload_config - load and check the configuration file again (on
 * SIGHUP).  Returns the new configuration, to be freed with
 * daemon_free_config(), or NULL with the error logged; d->cfg is not
 * touched.
 */
void *daemon_reload_config(const struct daemon *d);

/* daemon_end - free the configuration (after serving). */
void daemon_end(struct daemon *d);

/*
 * daemon_hup_pipe - from now on SIGHUP does not stop the process: a
 * handler writes the byte 'H' to a pipe whose read end is returned (-1 +
 * *err on failure).  Only threads that do not block SIGHUP receive it:
 * block it in every other thread.  daemon_hup_notify() writes another byte
 * to the same pipe (async-signal-safe, any thread), e.g. to end a wait.
 */
int daemon_hup_pipe(struct str *err);
void daemon_hup_notify(char byte);

/*
 * daemon_load_config - allocate and load a configuration for app from path,
 * with the checks every program shares (unix_socket_mode is octal) and the
 * program's own.  Returns the configuration, or NULL with the message in
 * *err.
 */
void *daemon_load_config(const struct daemon_app *app, const char *path,
                         struct str *err);
void daemon_free_config(const struct daemon_app *app, void *cfg);

/*
 * daemon_main - the whole life of a program served by the epoll server
 * skeleton (lib/daemon_server.c): daemon_start, listen, detach, init, drop
 * privileges, start, serve until SIGTERM/SIGINT, SIGHUP reloads (app->
 * reconfigure), fini.  Returns the exit status.
 */
int daemon_main(int argc, char **argv, const struct daemon_app *app);

#endif
