/*
 * postern-managesieve - the ManageSieve server (RFC 5804).  Entry point
 * only; see msieve.h for the structure of the program.
 */
#include "msieve.h"

int main(int argc, char **argv)
{
    db_global_init();
    ldapc_global_init();
    return daemon_main(argc, argv, &ms_app);
}
