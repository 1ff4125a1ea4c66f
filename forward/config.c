/*
 * config - postern-forward's settings: [forward], [database], and the
 * srs_* keys of [maps] (lib/srs.h SRS_CFG_DEFS), read from there so that
 * the secret postern-forward signs with is the one postern-maps'
 * srsdecode verifies; the other keys of [maps] are not checked here.
 *
 * Diagnostics: FILE:LINE for a bad value; "[maps] srs_domain is empty"
 * when SRS is off (postern-forward then defers every copy, logged).
 */
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "mem.h"

#define C(f) offsetof(struct fwd_config, f)

static const struct cfg_def fwd_defs[] = {
    {"sendmail_path", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     C(sendmail_path), NULL},
    {"sendmail_timeout", CFG_TIME, "60s", 1000, 3600000, C(sendmail_timeout),
     NULL},
    {"ratelimit_fail", CFG_ENUM, "defer", 0, 0, C(ratelimit_fail),
     "defer|pass"},
    {"ratelimit_text", CFG_STR, "Forwarding rate limit exceeded", 1, 255,
     C(ratelimit_text), NULL},
    {"recipient_delimiter", CFG_STR, "+", 0, 8, C(recipient_delimiter), NULL},
    {"log", CFG_ENUM, "syslog", 0, 0, C(log_to), "syslog|stderr"},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def fwd_db_defs[] = {
    DB_CFG_DEFS(struct fwd_config, db)};

static const struct cfg_def fwd_srs_defs[] = {
    SRS_CFG_DEFS(struct fwd_config, srs),
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static size_t fwd_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"forward", fwd_defs, cfg};
    s[1] = (struct cfg_section){"database", fwd_db_defs, cfg};
    return 2;
}

static int fwd_check(void *cfgp, struct str *err)
{
    struct fwd_config *cfg = cfgp;

    for (const char *p = cfg->ratelimit_text; *p; p++)
        if (*p < ' ' || *p > '~')
            return str_appendf(err, "[forward] ratelimit_text: printable "
                               "ASCII only (it goes into a DSN)"), -1;
    return 0;
}

const struct daemon_app fwd_app = {
    .name = "postern-forward",
    .config_size = sizeof(struct fwd_config),
    .sections = fwd_sections,
    .check = fwd_check,
};

struct fwd_config *fwd_load_config(const char *path, struct str *err)
{
    struct fwd_config *cfg = daemon_load_config(&fwd_app, path, err);

    if (cfg == NULL)
        return NULL;
    if (cfg_load_keys(path, "maps", fwd_srs_defs, cfg, err) < 0 ||
        srs_load_config(&cfg->srs, "maps", &cfg->srs_state, err) < 0) {
        fwd_free_config(cfg);
        return NULL;
    }
    return cfg;
}

void fwd_free_config(struct fwd_config *cfg)
{
    struct cfg_section s = {"maps", fwd_srs_defs, cfg};

    if (cfg == NULL)
        return;
    srs_free(cfg->srs_state);
    cfg_free(&s, 1);
    daemon_free_config(&fwd_app, cfg);
}
