/*
 * postern-policyd - Postfix policy delegation server (SMTPD_POLICY_README).
 *
 * This is the program's entry point: it hands the policy protocol callbacks
 * to daemon_main() (lib/daemon.h): the shared life cycle with the server
 * skeleton on top.
 */
#include "policyd.h"

int main(int argc, char **argv)
{
    return daemon_main(argc, argv, &policyd_app);
}
