/*
 * config - the configuration tables of postern-lda: [lda], [database] and
 * [ldap] (read only with [lda] ldap = yes: Sieve extlists, sieve_lists.c).
 *
 * [lda] holds the delivery settings and the LMTP listener (the shared
 * SERVER_CFG_DEFS rows: listen, user, max_connections, idle_timeout,
 * unix_socket_mode; lmtp_max_processes, the worker processes).  Every key has a default and bounds; see docs/lda.md.
 *
 * Diagnostics: cross-field errors from lda_check ("[lda] mail_root must be
 * an absolute path"), reported by daemon_load_config with the file name.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lda.h"
#include "ldapgroup.h"

static const struct cfg_def lda_defs[] = {
    SERVER_CFG_DEFS(struct lda_config, srv, "unix:/run/postern/lda.sock"),
    SERVER_PID_CFG_DEF(struct lda_config, srv, "/run/postern/lda.pid"),
    {"mail_root", CFG_STR, "/var/mail/postern", 1, 1024,
     offsetof(struct lda_config, mail_root), NULL},
    {"max_message_size", CFG_SIZE, "50M", 1024, 2LL * 1024 * 1024 * 1024,
     offsetof(struct lda_config, max_message_size), NULL},
    {"default_quota", CFG_SIZE, "0", 0, 1LL << 50,
     offsetof(struct lda_config, default_quota), NULL},
    {"quota_full", CFG_ENUM, "bounce", 0, 0,
     offsetof(struct lda_config, quota_full), "bounce|defer"},
    {"recipient_delimiter", CFG_STR, "+", 0, ADDR_DELIM_MAX,
     offsetof(struct lda_config, recipient_delimiter), NULL},
    {"hostname", CFG_STR, "", 0, 255, offsetof(struct lda_config, hostname),
     NULL},
    {"temp_dir", CFG_STR, "/var/tmp", 1, 1024,
     offsetof(struct lda_config, temp_dir), NULL},
    {"spool_memory", CFG_SIZE, "1M", 0, 256LL * 1024 * 1024,
     offsetof(struct lda_config, spool_memory), NULL},
    {"fsync", CFG_BOOL, "yes", 0, 1, offsetof(struct lda_config, fsync),
     NULL},
    {"log", CFG_ENUM, "syslog", 0, 0, offsetof(struct lda_config, log_to),
     "syslog|stderr"},
    {"lmtp_max_recipients", CFG_INT, "1000", 1, 100000,
     offsetof(struct lda_config, lmtp_max_recipients), NULL},
    {"lmtp_extension_folder", CFG_BOOL, "no", 0, 1,
     offsetof(struct lda_config, lmtp_extension_folder), NULL},
    {"lmtp_max_processes", CFG_INT, "20", 1, 1000,
     offsetof(struct lda_config, lmtp_max_processes), NULL},
    {"sieve_before", CFG_STR, "", 0, 1024,
     offsetof(struct lda_config, sieve_before), NULL},
    {"sieve_after", CFG_STR, "", 0, 1024,
     offsetof(struct lda_config, sieve_after), NULL},
    {"sieve_global_dir", CFG_STR, "/etc/postern/sieve", 0, 1024,
     offsetof(struct lda_config, sieve_global_dir), NULL},
    {"sendmail_path", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     offsetof(struct lda_config, sendmail_path), NULL},
    {"vacation_min_period", CFG_TIME, "1d", 0, 3650LL * 86400000,
     offsetof(struct lda_config, vacation_min_period), NULL},
    {"vacation_default_period", CFG_TIME, "7d", 0, 3650LL * 86400000,
     offsetof(struct lda_config, vacation_default_period), NULL},
    {"vacation_max_period", CFG_TIME, "90d", 0, 3650LL * 86400000,
     offsetof(struct lda_config, vacation_max_period), NULL},
    {"vacation_envelope_sender", CFG_ENUM, "null", 0, 0,
     offsetof(struct lda_config, vacation_envelope_sender),
     "null|recipient"},
    {"sieve_duplicate_period", CFG_TIME, "7d", 1000, 3650LL * 86400000,
     offsetof(struct lda_config, sieve_duplicate_period), NULL},
    {"sieve_duplicate_max_period", CFG_TIME, "30d", 1000, 3650LL * 86400000,
     offsetof(struct lda_config, sieve_duplicate_max_period), NULL},
    {"sieve_spam_score_header", CFG_STR, "X-Spam-Score", 0, 100,
     offsetof(struct lda_config, sieve_spam_score_header), NULL},
    {"sieve_spam_score_max", CFG_STR, "10", 1, 20,
     offsetof(struct lda_config, sieve_spam_score_max), NULL},
    {"sieve_spam_flag_header", CFG_STR, "X-Spam-Flag", 0, 100,
     offsetof(struct lda_config, sieve_spam_flag_header), NULL},
    {"sieve_virus_header", CFG_STR, "X-Virus-Status", 0, 100,
     offsetof(struct lda_config, sieve_virus_header), NULL},
    {"sieve_max_memory", CFG_SIZE, "64M", 1024 * 1024, 1024LL * 1024 * 1024,
     offsetof(struct lda_config, sieve_max_memory), NULL},
    {"sieve_max_steps", CFG_INT, "100000000", 1000000, 10000000000LL,
     offsetof(struct lda_config, sieve_max_steps), NULL},
    {"sieve_send_max_per_message", CFG_INT, "10", 0, 1000,
     offsetof(struct lda_config, sieve_send_max_per_message), NULL},
    {"sieve_send_max_per_period", CFG_INT, "500", 0, 1000000,
     offsetof(struct lda_config, sieve_send_max_per_period), NULL},
    {"sieve_send_period", CFG_TIME, "1h", 1000, 31LL * 86400000,
     offsetof(struct lda_config, sieve_send_period), NULL},
    {"sieve_send_timeout", CFG_TIME, "10s", 100, 600000,
     offsetof(struct lda_config, sieve_send_timeout), NULL},
    {"lookup", CFG_ENUM, "sql", 0, 0, offsetof(struct lda_config, lookup),
     "sql|maps"},
    {"maps_server", CFG_STR, "inet:127.0.0.1:10031", 1, 256,
     offsetof(struct lda_config, maps_server), NULL},
    {"maps_timeout", CFG_TIME, "2s", 100, 60000,
     offsetof(struct lda_config, maps_timeout), NULL},
    {"quota_usage", CFG_BOOL, "yes", 0, 1,
     offsetof(struct lda_config, quota_usage), NULL},
    {"quota_warning", CFG_STR, "80%,95%", 0, 100,
     offsetof(struct lda_config, quota_warning), NULL},
    {"quota_warning_reminder", CFG_TIME, "7d", 0, 365LL * 86400000,
     offsetof(struct lda_config, quota_warning_reminder), NULL},
    {"quota_warning_from", CFG_STR, "", 0, 320,
     offsetof(struct lda_config, quota_warning_from), NULL},
    {"quota_warning_language", CFG_ENUM, "en", 0, 0,
     offsetof(struct lda_config, quota_warning_language), "en|de"},
    /* Sieve special-use (RFC 8579): "\FLAG=Folder ..." (mailbox_meta.c) */
    {"special_use", CFG_STR, "", 0, 1024,
     offsetof(struct lda_config, special_use), NULL},
    /* a broken user script is reported into the INBOX (sieve_report.c) */
    {"sieve_report_errors", CFG_BOOL, "yes", 0, 1,
     offsetof(struct lda_config, sieve_report_errors), NULL},
    /* Sieve extlists: directory groups, ldap_group members ([ldap]) */
    {"ldap", CFG_BOOL, "no", 0, 1, offsetof(struct lda_config, ldap_on),
     NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def lda_db_defs[] = {
    DB_CFG_DEFS(struct lda_config, db)};

static const struct cfg_def lda_ldap_defs[] = {
    LDAPC_CFG_DEFS(struct lda_config, ldap)};

size_t lda_config_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"lda", lda_defs, cfg};
    s[1] = (struct cfg_section){"database", lda_db_defs, cfg};
    s[2] = (struct cfg_section){"ldap", lda_ldap_defs, cfg};
    return 3;
}

static int lda_check(void *cfgp, struct str *err)
{
    struct lda_config *cfg = cfgp;

    if (cfg->mail_root[0] != '/')
        return str_appendf(err, "[lda] mail_root must be an absolute path"),
               -1;
    if (cfg->temp_dir[0] != '/')
        return str_appendf(err, "[lda] temp_dir must be an absolute path"),
               -1;
    if (cfg->sendmail_path[0] != '/')
        return str_appendf(err, "[lda] sendmail_path must be an absolute "
                                "path"), -1;
    if (strncmp(cfg->maps_server, "unix:/", 6) &&
        strncmp(cfg->maps_server, "inet:", 5))
        return str_appendf(err, "[lda] maps_server must be unix:/path or "
                                "inet:ADDRESS:PORT"), -1;
    if (cfg->vacation_min_period > cfg->vacation_default_period ||
        cfg->vacation_default_period > cfg->vacation_max_period)
        return str_appendf(err, "[lda] vacation periods: need min <= "
                                "default <= max"), -1;
    if (cfg->sieve_duplicate_period > cfg->sieve_duplicate_max_period)
        return str_appendf(err, "[lda] sieve_duplicate_period is over "
                                "sieve_duplicate_max_period"), -1;
    {
        char *end;
        double max = strtod(cfg->sieve_spam_score_max, &end);
        if (*end != '\0' || !(max > 0))
            return str_appendf(err, "[lda] sieve_spam_score_max: a positive "
                                    "number"), -1;
    }
    {
        unsigned pct[QUOTA_WARN_MAX];
        struct str e = STR_INIT;
        int bad = quota_warning_parse(cfg->quota_warning, pct,
                                      QUOTA_WARN_MAX, &e) < 0;
        if (bad)
            str_appendf(err, "[lda] quota_warning: %s", str_cstr(&e));
        str_free(&e);
        if (bad)
            return -1;
    }
    for (const char *p = cfg->quota_warning_from; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return str_appendf(err, "[lda] quota_warning_from: no control "
                                    "characters (it is a From: field)"), -1;
    if (strchr(cfg->hostname, '/') || strchr(cfg->hostname, ' '))
        return str_appendf(err, "[lda] hostname: no '/' or blanks"), -1;
    if (cfg->ldap_on && ldapgroup_check_config(&cfg->ldap, err) < 0)
        return -1;
    return 0;
}

static struct server_config *lda_srvcfg(void *cfg)
{
    return &((struct lda_config *)cfg)->srv;
}

/* LMTP: a command line is at most 4096 bytes; DATA is consumed as it comes
   (see lmtp.c), so the input buffer needs room for one chunk only. */
const struct daemon_app lda_lmtp_app = {
    "postern-lda", sizeof(struct lda_config), lda_config_sections, lda_check,
    lda_srvcfg, &lda_lmtp_ops, lda_lmtp_init, lda_lmtp_start,
    lda_lmtp_reconfigure,
    lda_lmtp_fini, 1000, 256 * 1024, 1024 * 1024, 0, NULL};
