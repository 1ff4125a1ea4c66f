/*
 * commands.c - the table of postern's commands (admin.h).  One line per
 * command; its module is admin/NAME.c.
 */
#include "admin.h"
#include "commands.h"

const struct admin_cmd admin_commands[] = {
    {"version", "version                      print the version", cmd_version, NULL, NULL},
    {"audit", "audit [ADDRESS|DOMAIN] [table=T since=TIME until=TIME user=U limit=N] | audit prune [older-than=365d]  the audit log", cmd_audit, NULL, NULL},
    {"import", "import csv FILE kind=mailboxes|aliases | import postfixadmin host=H db=D user=U password_file=F  bulk import", cmd_import, NULL, NULL},
    {"explain", "explain recipient=A [sender=A client=IP helo=H login=L message=F] | explain queue QUEUEID [log=F]", cmd_explain, NULL, NULL},
    {"domain", "domain list|show|add|set|disable|enable|remove ...  hosted domains", NULL, domain_verbs, "--force"},
    {"mailbox", "mailbox list|show|add|set|disable|enable|remove ...  mailboxes, states, quotas", NULL, mailbox_verbs, "--cascade"},
    {"alias", "alias list|show|add|set|disable|enable|remove ...  aliases, forwards, catch-alls", NULL, alias_verbs, "--force"},
    {"transport", "transport list|show|add|set|disable|enable|remove ...  transport routes", NULL, transport_verbs, NULL},
    {"relayhost", "relayhost list|show|add|set|disable|enable|remove ...  sender-dependent relay hosts", NULL, relayhost_verbs, NULL},
    {"group", "group list|show|add|set|remove|add-member|remove-member ...  policy groups", cmd_group, NULL, NULL},
    {"sendrule", "sendrule list|show|add|set|close|disable|enable|remove ...  who may send to whom", cmd_sendrule, NULL, NULL},
    {"grant", "grant list|add|set|disable|enable|remove LOGIN ADDRESS|DOMAIN  send-as", cmd_grant, NULL, NULL},
    {"dkim", "dkim list|show|add|import|disable|enable|remove|check DOMAIN selector=S  DKIM keys", cmd_dkim, NULL, NULL},
    {"ratelimit", "ratelimit list|show|add|set|disable|enable|remove|override|override-remove NAME ...  rate limits", cmd_ratelimit, NULL, NULL},
    {"greylist", "greylist show|set|remove [DOMAIN] ... | whitelist list|add|disable|enable|remove KIND VALUE | pools check [FILE]", cmd_greylist, NULL, NULL},
    {"dmarc", "dmarc report [--day YYYY-MM-DD --domain D --out DIR --dry-run] | dmarc summary [--maildir DIR | FILE...] [--domain D --since DATE]  DMARC aggregate reports", NULL, dmarc_verbs, NULL},
    {"quota", "quota recount ADDRESS|--domain DOMAIN|--all | quota report ...  mailbox usage", NULL, quota_verbs, NULL},
    {"vacation", "vacation set|off|show|script MAILBOX ... | vacation import-postfixadmin schema=S|host=H db=D user=U password_file=F  out-of-office reply", NULL, vacation_verbs, NULL},
    {"forward", "forward set MAILBOX TARGET... [--keep] | forward off|show MAILBOX  forward a mailbox's mail", NULL, forward_verbs, "--keep"},
    {"spam", "spam set MAILBOX --threshold N [--folder F] | spam off|show MAILBOX  file spam into a folder", NULL, spam_verbs, NULL},
    {"contain", "contain list | contain show LOGIN | contain clear LOGIN [--release|--discard]  logins made receive-only", cmd_contain, NULL, NULL},
    {"moderate", "moderate list [--all] | approve ID | reject ID [--reason TEXT] | expire | run  mail held for a group's moderators", NULL, moderate_verbs, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};
