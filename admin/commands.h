/*
 * commands.h - the run function of each postern command (admin/NAME.c),
 * listed in admin_commands[] (admin/commands.c).
 */
#ifndef POSTERN_ADMIN_COMMANDS_H
#define POSTERN_ADMIN_COMMANDS_H

struct admin;

int cmd_version(struct admin *a, int argc, char **argv);

#endif
