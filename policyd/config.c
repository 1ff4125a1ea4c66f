/*
 * config - the configuration tables of postern-policyd: [policyd], the
 * shared [database] and [ldap] sections, and the cross-field checks (the
 * list of checks, the trusted networks).  Every key, its default and bounds
 * are documented in docs/policyd.md (and printed by postern-policyd -d).
 */
#include <string.h>
#include <strings.h>

#include "log.h"
#include "policyd.h"

#define SPF_CHOICES "off|prepend|defer|reject"
#define C(m) offsetof(struct policyd_config, m)

static const struct cfg_def policyd_defs[] = {
    SERVER_CFG_DEFS(struct policyd_config, srv, "inet:127.0.0.1:10040"),
    SERVER_PID_CFG_DEF(struct policyd_config, srv, "/run/postern/policyd.pid"),
    {"max_line", CFG_SIZE, "8k", 256, 1024 * 1024, C(max_line), NULL},
    {"max_attrs", CFG_INT, "100", 10, 10000, C(max_attrs), NULL},
    {"workers", CFG_INT, "4", 1, 256, C(workers), NULL},
    {"poll_interval", CFG_TIME, "250ms", 10, 60000, C(poll_interval), NULL},
    {"sender_rules_fail", CFG_ENUM, "defer", 0, 0, C(sender_rules_fail),
     "defer|pass"},
    {"greylist_fail", CFG_ENUM, "pass", 0, 0, C(greylist_fail), "defer|pass"},
    {"ratelimit_fail", CFG_ENUM, "defer", 0, 0, C(ratelimit_fail),
     "defer|pass"},
    {"checks", CFG_STR, "spf, sender_rules, quota, greylist, ratelimit", 0,
     256,
     C(checks), NULL},
    {"reject_text", CFG_STR, "Sender not allowed to write to this recipient",
     1, PD_TEXT_MAX, C(reject_text), NULL},
    {"defer_text", CFG_STR, "Try again later", 1, PD_TEXT_MAX, C(defer_text),
     NULL},
    {"greylist_text", CFG_STR, "Greylisted, please try again later", 1,
     PD_TEXT_MAX, C(greylist_text), NULL},
    {"ratelimit_text", CFG_STR, "Sending rate limit exceeded", 1, PD_TEXT_MAX,
     C(ratelimit_text), NULL},
    {"quota_text", CFG_STR, "Mailbox is full", 1, PD_TEXT_MAX, C(quota_text),
     NULL},
    {"quota_cache_ttl", CFG_TIME, "30s", 0, 3600000, C(quota_cache_ttl),
     NULL},
    {"hostname", CFG_STR, "", 0, 253, C(hostname), NULL},
    {"prune_interval", CFG_TIME, "10m", 1000, 86400000, C(prune_interval),
     NULL},
    {"spf_fail", CFG_ENUM, "reject", 0, 0, C(spf_fail), SPF_CHOICES},
    {"spf_softfail", CFG_ENUM, "prepend", 0, 0, C(spf_softfail), SPF_CHOICES},
    {"spf_neutral", CFG_ENUM, "prepend", 0, 0, C(spf_neutral), SPF_CHOICES},
    {"spf_none", CFG_ENUM, "prepend", 0, 0, C(spf_none), SPF_CHOICES},
    {"spf_permerror", CFG_ENUM, "prepend", 0, 0, C(spf_permerror),
     SPF_CHOICES},
    {"spf_temperror", CFG_ENUM, "defer", 0, 0, C(spf_temperror), SPF_CHOICES},
    {"spf_helo_fail", CFG_ENUM, "reject", 0, 0, C(spf_helo_fail),
     SPF_CHOICES},
    {"spf_header", CFG_BOOL, "yes", 0, 0, C(spf_header), NULL},
    {"spf_skip_networks", CFG_STR, "", 0, 2048, C(spf_skip_networks), NULL},
    {"recipient_delimiter", CFG_STR, "+", 0, ADDR_DELIM_MAX,
     C(recipient_delimiter), NULL},
    {"ldap", CFG_BOOL, "no", 0, 0, C(ldap_on), NULL},
    {"greylist_cache_size", CFG_INT, "1000000", 1000, 100000000,
     C(greylist_cache_size), NULL},
    {"greylist_cache_ttl", CFG_TIME, "60s", 0, 3600000, C(greylist_cache_ttl),
     NULL},
    {"greylist_pools", CFG_STR, "", 0, 255, C(greylist_pools), NULL},
    {"greylist_reply_ttl", CFG_TIME, "60d", 0, 3650LL * 86400000,
     C(greylist_reply_ttl), NULL},
    {"greylist_reply_domain", CFG_BOOL, "no", 0, 0, C(greylist_reply_domain),
     NULL},
    {"greylist_reply_max", CFG_INT, "1000", 1, 1000000, C(greylist_reply_max),
     NULL},
    {"greylist_mode", CFG_ENUM, "all", 0, 0, C(greylist_mode),
     "all|selective"},
    {"greylist_dynamic_patterns", CFG_STR, PD_GREY_DYNAMIC_DEFAULT, 0, 1024,
     C(greylist_dynamic), NULL},
    {"greylist_dnsbl", CFG_STR, "", 0, 1024, C(greylist_dnsbl), NULL},
    {"greylist_domain_awl", CFG_INT, "0", 0, 1000000, C(greylist_domain_awl),
     NULL},
    {"contain_contact", CFG_STR, "your administrator", 1, PD_TEXT_MAX - 64,
     C(contain_contact), NULL},
    {"contain_notify", CFG_STR, "", 0, 320, C(contain_notify), NULL},
    {"contain_from", CFG_STR, "", 0, 320, C(contain_from), NULL},
    {"contain_sendmail", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     C(contain_sendmail), NULL},
    {"contain_fail", CFG_ENUM, "defer", 0, 0, C(contain_fail), "defer|pass"},
    {"contain_postsuper", CFG_STR, "/usr/sbin/postsuper", 1, 1024,
     C(contain_postsuper), NULL}, /* read by postern contain clear */
    {"contain_postqueue", CFG_STR, "/usr/sbin/postqueue", 1, 1024,
     C(contain_postqueue), NULL}, /* read by postern contain clear */
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def policyd_db_defs[] = {
    DB_CFG_DEFS(struct policyd_config, db)};

static const struct cfg_def policyd_ldap_defs[] = {
    LDAPC_CFG_DEFS(struct policyd_config, ldap)};

size_t policyd_config_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"policyd", policyd_defs, cfg};
    s[1] = (struct cfg_section){"database", policyd_db_defs, cfg};
    s[2] = (struct cfg_section){"ldap", policyd_ldap_defs, cfg};
    return 3;
}

int pd_stage_of(const char *st)
{
    if (!strcasecmp(st, "MAIL"))
        return ST_MAIL;
    if (!strcasecmp(st, "RCPT"))
        return ST_RCPT;
    if (!strcasecmp(st, "DATA"))
        return ST_DATA;
    if (!strcasecmp(st, "END-OF-MESSAGE"))
        return ST_EOM;
    return ST_NONE;
}

/*
 * parse the checks list: "name" runs at RCPT, "name:STATE" at that state.
 * Where a check can run: spf at MAIL, RCPT or DATA; sender_rules at RCPT
 * (it needs the recipient); greylist at RCPT or DATA; ratelimit at RCPT,
 * DATA or END-OF-MESSAGE; quota at RCPT (it refuses one recipient).  The order of the checks is fixed (decide.c).
 */
static int parse_checks(struct policyd_config *c, struct str *err)
{
    static const struct {
        const char *name;
        size_t off;
        unsigned allowed; /* bit per enum pd_stage */
    } tab[] = {
        {"spf", offsetof(struct policyd_config, spf_on),
         1u << ST_MAIL | 1u << ST_RCPT | 1u << ST_DATA},
        {"sender_rules", offsetof(struct policyd_config, sender_rules_on),
         1u << ST_RCPT},
        {"greylist", offsetof(struct policyd_config, greylist_on),
         1u << ST_RCPT | 1u << ST_DATA},
        {"ratelimit", offsetof(struct policyd_config, ratelimit_on),
         1u << ST_RCPT | 1u << ST_DATA | 1u << ST_EOM},
        {"quota", offsetof(struct policyd_config, quota_on), 1u << ST_RCPT},
    };
    const char *cur = c->checks;
    char item[64];
    int rc;

    c->sender_rules_on = c->greylist_on = c->ratelimit_on = c->spf_on = 0;
    c->quota_on = 0;
    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        char *colon = strchr(item, ':');
        int stage = ST_RCPT;
        size_t i;
        if (colon) {
            *colon = '\0';
            if ((stage = pd_stage_of(colon + 1)) == ST_NONE)
                return str_appendf(err, "[policyd] checks: unknown protocol "
                                   "state '%s' (MAIL, RCPT, DATA, "
                                   "END-OF-MESSAGE)", colon + 1), -1;
        }
        for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
            if (!strcasecmp(item, tab[i].name))
                break;
        if (i == sizeof(tab) / sizeof(tab[0]))
            return str_appendf(err, "[policyd] checks: unknown check '%s' "
                               "(spf, sender_rules, quota, greylist, "
                               "ratelimit)",
                               item), -1;
        if (!(tab[i].allowed & 1u << stage))
            return str_appendf(err, "[policyd] checks: %s cannot run at "
                               "%s", item, colon + 1), -1;
        *(int *)((char *)c + tab[i].off) = stage;
    }
    if (rc < 0)
        return str_appendf(err, "[policyd] checks: item too long"), -1;
    return 0;
}

/* grey_config_check - the DNSBL zones and the pools file (read here, so
   that -t and SIGHUP check it like the rest of the file) */
static int grey_config_check(struct policyd_config *c, struct str *err)
{
    const char *cur = c->greylist_dnsbl, *path;
    struct str why = STR_INIT;
    char item[256];
    int rc;

    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0)
        if (strlen(item) > 200 || !strchr(item, '.'))
            return str_appendf(err, "[policyd] greylist_dnsbl: '%s' is not "
                               "a DNS zone", item), -1;
    if (rc < 0)
        return str_appendf(err, "[policyd] greylist_dnsbl: item too long"),
               -1;
    pd_pools_free(c->pools);
    c->pools = NULL;
    path = pd_pools_path(c->greylist_pools);
    if (path && pd_pools_load(path, &c->pools, &why) < 0) {
        str_appendf(err, "[policyd] greylist_pools: %s", str_cstr(&why));
        str_free(&why);
        return -1;
    }
    return 0;
}

int policyd_config_check(void *p, struct str *err)
{
    struct policyd_config *c = p;
    const char *cur = c->spf_skip_networks;
    char item[128];
    struct cidr n;
    int rc;

    if (parse_checks(c, err) < 0 ||
        (c->ldap_on && ldapgroup_check_config(&c->ldap, err) < 0))
        return -1;
    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0)
        if (cidr_parse(item, &n) < 0)
            return str_appendf(err, "[policyd] spf_skip_networks: '%s' is "
                               "not an IP address or network", item), -1;
    if (rc < 0)
        return str_appendf(err, "[policyd] spf_skip_networks: item too "
                           "long"), -1;
    return grey_config_check(c, err);
}

void policyd_config_release(void *p)
{
    struct policyd_config *c = p;

    pd_pools_free(c->pools);
    c->pools = NULL;
}
