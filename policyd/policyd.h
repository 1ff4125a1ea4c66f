/*
 * policyd - shared declarations of postern-policyd.
 */
#ifndef POSTERN_POLICYD_H
#define POSTERN_POLICYD_H

#include <stddef.h>

#include "daemon.h"
#include "db.h"

struct policyd_config {
    struct server_config srv;
    long long max_line;       /* one attribute line, bytes */
    long long max_attrs;      /* attributes per request */
    struct db_config db;
};

extern const struct daemon_app policyd_app;

#endif
