/*
 * version.c - postern version: the version of the tree (lib/version.h).
 */
#include <stdio.h>

#include "admin.h"
#include "commands.h"
#include "version.h"

int cmd_version(struct admin *a, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return admin_error(ADMIN_EX_USAGE, "version", "takes no arguments");
    if (a->json)
        printf("{\"version\": \"%s\"}\n", POSTERN_VERSION);
    else
        printf("postern %s\n", POSTERN_VERSION);
    return ADMIN_EX_OK;
}
