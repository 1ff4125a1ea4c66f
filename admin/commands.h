/*
 * commands.h - the run function or the verbs of each postern command
 * (admin/NAME.c), listed in admin_commands[] (admin/commands.c).
 */
#ifndef POSTERN_ADMIN_COMMANDS_H
#define POSTERN_ADMIN_COMMANDS_H

#include "admin.h"

int cmd_version(struct admin *a, int argc, char **argv);
int cmd_audit(struct admin *a, int argc, char **argv);
int cmd_import(struct admin *a, int argc, char **argv);
int cmd_explain(struct admin *a, int argc, char **argv);
int cmd_group(struct admin *a, int argc, char **argv);
int cmd_sendrule(struct admin *a, int argc, char **argv);
int cmd_grant(struct admin *a, int argc, char **argv);
int cmd_dkim(struct admin *a, int argc, char **argv);
int cmd_ratelimit(struct admin *a, int argc, char **argv);
int cmd_greylist(struct admin *a, int argc, char **argv);
/* admin/contain.c: logins made receive-only (migration 0013) */
int cmd_contain(struct admin *a, int argc, char **argv);
/* postern quota report (admin/quota_report.c), a verb of quota_verbs
   (admin/quota.c): argv[0] is the first operand after "report" */
int admin_quota_report(struct admin *a, int argc, char **argv);

/* the commands whose verbs admin_dispatch runs */
extern const struct admin_verb domain_verbs[], mailbox_verbs[], alias_verbs[],
    transport_verbs[], relayhost_verbs[], quota_verbs[];
extern const struct admin_verb dmarc_verbs[]; /* admin/dmarc.c */
/* admin/sieve_settings.c: settings without Sieve (migration 0012) */
extern const struct admin_verb vacation_verbs[], forward_verbs[],
    spam_verbs[];
/* admin/moderate.c: moderated groups (migration 0014) */
extern const struct admin_verb moderate_verbs[];

#endif
