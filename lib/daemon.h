/*
 * daemon - the common life cycle of the postern servers: command line
 * (-c FILE, -f foreground, -t test configuration, -v verbose, -h), loading
 * and checking the configuration, logging to stderr (-f) or syslog,
 * daemonizing, binding, dropping privileges, running the server loop, and
 * SIGHUP reloads.  A daemon's main() is one call to daemon_main().
 *
 * The configuration file is shared by all postern programs; each program
 * checks its own sections and the shared ones it uses, and skips the sections
 * in DAEMON_SECTIONS that belong to the others.
 */
#ifndef POSTERN_DAEMON_H
#define POSTERN_DAEMON_H

#include "config.h"
#include "server.h"

#define DAEMON_DEFAULT_CONFIG "/etc/postern/postern.conf"
#define DAEMON_MAX_SECTIONS 8

/* Every section name a postern configuration file may contain. */
extern const char *const daemon_all_sections[];

struct daemon_app {
    const char *name;    /* "postern-maps" */
    size_t config_size;  /* size of the program's configuration struct */
    /* fill sections[] with the program's sections bound to cfg; count */
    size_t (*sections)(void *cfg, struct cfg_section *sections);
    /* cross-field checks after loading (may be NULL); 0 or -1 + *err */
    int (*check)(void *cfg, struct str *err);
    /* the program's server_config inside cfg */
    struct server_config *(*server_config)(void *cfg);
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
};

int daemon_main(int argc, char **argv, const struct daemon_app *app);

/*
 * daemon_load_config - allocate and load a configuration for app from path.
 * Returns the configuration, or NULL with the message in *err.
 */
void *daemon_load_config(const struct daemon_app *app, const char *path,
                         struct str *err);
void daemon_free_config(const struct daemon_app *app, void *cfg);

#endif
