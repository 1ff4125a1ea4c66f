/*
 * postern-maps - the socketmap routing service.  Entry point only; see
 * maps.h for the structure of the program.
 */
#include "maps.h"

int main(int argc, char **argv)
{
    db_global_init();
    return daemon_main(argc, argv, &maps_app);
}
