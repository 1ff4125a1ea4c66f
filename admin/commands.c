/*
 * commands.c - the table of postern's commands (admin.h).  One line per
 * command; its module is admin/NAME.c.
 */
#include "admin.h"
#include "commands.h"

const struct admin_cmd admin_commands[] = {
    {"version", "version                      print the version", cmd_version},
    {NULL, NULL, NULL},
};
