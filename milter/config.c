/*
 * config - the configuration of postern-milter: the [milter] table, the
 * shared [ldap] and [database] sections, cross-field checks, and helpers
 * that read list-valued settings (group domains, trusted networks).
 * An empty authserv_id becomes the host name (gethostname) here.
 *
 * Listen specs are written like the other postern daemons'
 * ("inet:127.0.0.1:10027", "inet:[::1]:10027", "unix:/run/postern/milter")
 * and converted to libmilter's "inet:PORT@HOST" / "inet6:PORT@HOST" /
 * "unix:PATH" by milter_listen_spec().  Only one listen spec is supported.
 * The socket keys are listen, user and unix_socket_mode; the server-loop
 * keys max_connections and idle_timeout are not accepted in [milter].
 *
 * Diagnostics: configuration errors name the key; -t reports them.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mem.h"
#include "milter.h"

static const struct cfg_def milter_defs[] = {
    /* libmilter serves the connections: no max_connections, idle_timeout
       (milter_timeout is libmilter's I/O timeout) */
    SERVER_LISTEN_CFG_DEFS(struct milter_config, srv, "inet:127.0.0.1:10027"),
    SERVER_PID_CFG_DEF(struct milter_config, srv, "/run/postern/milter.pid"),
    {"group_domains", CFG_STR, "", 0, 4096,
     offsetof(struct milter_config, group_domains), NULL},
    {"max_recipients", CFG_INT, "25000", 1, 100000,
     offsetof(struct milter_config, max_recipients), NULL},
    {"copy_to_sender", CFG_BOOL, "no", 0, 0,
     offsetof(struct milter_config, copy_to_sender), NULL},
    {"send_rules_sql", CFG_BOOL, "yes", 0, 0,
     offsetof(struct milter_config, send_rules_sql), NULL},
    {"send_rule_attribute", CFG_STR, "", 0, 64,
     offsetof(struct milter_config, send_rule_attribute), NULL},
    {"reject_text", CFG_STR, "You may not send to this group address", 1, 200,
     offsetof(struct milter_config, reject_text), NULL},
    {"milter_timeout", CFG_TIME, "300s", 1000, 3600000,
     offsetof(struct milter_config, milter_timeout), NULL},
    {"connections", CFG_INT, "8", 1, 256,
     offsetof(struct milter_config, connections), NULL},
    {"dkim_sign", CFG_BOOL, "yes", 0, 0,
     offsetof(struct milter_config, dkim_sign), NULL},
    {"trusted_networks", CFG_STR, "", 0, 2048,
     offsetof(struct milter_config, trusted_networks), NULL},
    {"dkim_missing_key", CFG_ENUM, "pass", 0, 0,
     offsetof(struct milter_config, dkim_missing_key), "pass|tempfail"},
    {"dkim_fallback", CFG_STR, "none", 1, 253,
     offsetof(struct milter_config, dkim_fallback), NULL},
    {"unowned_from", CFG_ENUM, "reject", 0, 0,
     offsetof(struct milter_config, unowned_from), "reject|unsigned"},
    {"max_headers", CFG_INT, "1000", 10, 100000,
     offsetof(struct milter_config, max_headers), NULL},
    {"max_header_bytes", CFG_SIZE, "1M", 1024, 64LL * 1024 * 1024,
     offsetof(struct milter_config, max_header_bytes), NULL},
    {"authserv_id", CFG_STR, "", 0, 255,
     offsetof(struct milter_config, authserv_id), NULL},
    {"verify", CFG_BOOL, "yes", 0, 0,
     offsetof(struct milter_config, verify), NULL},
    {"spf", CFG_BOOL, "yes", 0, 0, offsetof(struct milter_config, spf), NULL},
    {"max_signatures", CFG_INT, "8", 1, 64,
     offsetof(struct milter_config, max_signatures), NULL},
    {"poll_interval", CFG_TIME, "250ms", 10, 60000,
     offsetof(struct milter_config, poll_interval), NULL},
    {"recipient_delimiter", CFG_STR, "+", 0, ADDR_DELIM_MAX,
     offsetof(struct milter_config, recipient_delimiter), NULL},
    {"dmarc", CFG_BOOL, "yes", 0, 0, offsetof(struct milter_config, dmarc),
     NULL},
    {"dmarc_action", CFG_ENUM, "reject", 0, 0,
     offsetof(struct milter_config, dmarc_action), "reject|quarantine|record"},
    {"dmarc_quarantine", CFG_ENUM, "header", 0, 0,
     offsetof(struct milter_config, dmarc_quarantine), "header|hold"},
    {"dmarc_trusted_forwarders", CFG_STR, "", 0, 2048,
     offsetof(struct milter_config, dmarc_trusted_forwarders), NULL},
    {"dmarc_mailing_lists", CFG_STR, "", 0, 2048,
     offsetof(struct milter_config, dmarc_mailing_lists), NULL},
    {"dmarc_own_networks", CFG_STR, "127.0.0.0/8, ::1/128", 0, 2048,
     offsetof(struct milter_config, dmarc_own_networks), NULL},
    {"dmarc_psl_file", CFG_STR,
     "/usr/share/publicsuffix/public_suffix_list.dat", 1, 1024,
     offsetof(struct milter_config, dmarc_psl_file), NULL},
    {"dmarc_dns_timeout", CFG_TIME, "2s", 1000, 30000,
     offsetof(struct milter_config, dmarc_dns_timeout), NULL},
    {"dmarc_queue_max", CFG_INT, "100000", 100, 10000000,
     offsetof(struct milter_config, dmarc_queue_max), NULL},
    {"dmarc_record", CFG_BOOL, "yes", 0, 0,
     offsetof(struct milter_config, dmarc_record), NULL},
    /* moderated groups (moderate.c, admin/moderate.c) */
    {"moderation_address", CFG_STR, "", 0, 320,
     offsetof(struct milter_config, moderation_address), NULL},
    {"moderation_timeout", CFG_TIME, "7d", 1000, 90LL * 86400 * 1000,
     offsetof(struct milter_config, moderation_timeout), NULL},
    {"moderation_sendmail", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     offsetof(struct milter_config, moderation_sendmail), NULL},
    {"moderation_postsuper", CFG_STR, "/usr/sbin/postsuper", 1, 1024,
     offsetof(struct milter_config, moderation_postsuper), NULL},
    {"moderation_host", CFG_STR, "", 0, 255,
     offsetof(struct milter_config, moderation_host), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def ldap_defs[] = {
    LDAPC_CFG_DEFS(struct milter_config, ldap)};

static const struct cfg_def db_defs[] = {
    DB_CFG_DEFS(struct milter_config, db)};

static size_t milter_sections(void *cfg, struct cfg_section *secs)
{
    secs[0] = (struct cfg_section){"milter", milter_defs, cfg};
    secs[1] = (struct cfg_section){"ldap", ldap_defs, cfg};
    secs[2] = (struct cfg_section){"database", db_defs, cfg};
    return 3;
}

static int check_networks(const char *key, const char *list, int hosts,
                          struct str *err)
{
    char item[80], addr[64];
    const char *cur = list;
    unsigned char buf[16];
    int rc;

    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        char *slash = strchr(item, '/');
        long bits = -1;
        if (hosts && item[0] == '.' && item[1] && !strchr(item, '/'))
            continue; /* a host-name suffix */
        if (slash) {
            char *end;
            bits = strtol(slash + 1, &end, 10);
            if (*end || bits < 0 || bits > 128)
                goto bad;
            *slash = '\0';
        }
        if (str_copy_bounded(addr, sizeof(addr), item, strlen(item)) < 0)
            goto bad;
        if (inet_pton(AF_INET, addr, buf) == 1 ? bits > 32
                                                : inet_pton(AF_INET6, addr, buf) != 1)
            goto bad;
    }
    if (rc == 0)
        return 0;
bad:
    str_appendf(err, "[milter] %s: bad %s '%s'", key,
                hosts ? "network or .host-suffix" : "network", item);
    return -1;
}

/* check_authserv_id - empty: the host name; else a host-name-like token */
static int check_authserv_id(struct milter_config *cfg, struct str *err)
{
    char host[256];

    if (cfg->authserv_id[0] == '\0') {
        if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0' ||
            memchr(host, '\0', sizeof(host)) == NULL) {
            str_appendf(err, "[milter] authserv_id: no host name: set it");
            return -1;
        }
        free(cfg->authserv_id);
        cfg->authserv_id = xstrdup(host);
    }
    for (const char *p = cfg->authserv_id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr(".-_", *p))) {
            str_appendf(err, "[milter] authserv_id: only letters, digits, "
                             "'.', '-' and '_', not '%s'", cfg->authserv_id);
            return -1;
        }
    return 0;
}

static int milter_check(void *cfgp, struct str *err)
{
    struct milter_config *cfg = cfgp;
    struct str spec = STR_INIT;
    int rc = 0;

    if (milter_listen_spec(cfg->srv.listen, &spec, err) < 0 ||
        ldapgroup_check_config(&cfg->ldap, err) < 0 ||
        check_networks("trusted_networks", cfg->trusted_networks, 0,
                       err) < 0 ||
        check_networks("dmarc_trusted_forwarders",
                       cfg->dmarc_trusted_forwarders, 0, err) < 0 ||
        check_networks("dmarc_mailing_lists", cfg->dmarc_mailing_lists, 1,
                       err) < 0 ||
        check_networks("dmarc_own_networks", cfg->dmarc_own_networks, 0,
                       err) < 0 ||
        sign_fallback_check(cfg->dkim_fallback, err) < 0 ||
        check_authserv_id(cfg, err) < 0)
        rc = -1;
    str_free(&spec);
    return rc;
}

static struct server_config *milter_srvcfg(void *cfg)
{
    return &((struct milter_config *)cfg)->srv;
}

const struct daemon_app milter_app = {
    .name = "postern-milter",
    .config_size = sizeof(struct milter_config),
    .sections = milter_sections,
    .check = milter_check,
    .server_config = milter_srvcfg,
};

int milter_listen_spec(const char *spec, struct str *out, struct str *err)
{
    const char *colon;

    if (strchr(spec, ',') || strchr(spec, ' ')) {
        str_appendf(err, "[milter] listen: one address only: '%s'", spec);
        return -1;
    }
    if (!strncmp(spec, "unix:", 5) && spec[5] == '/')
        return str_append_cstr(out, spec);
    if (strncmp(spec, "inet:", 5) != 0 || (colon = strrchr(spec, ':')) == spec + 4)
        goto bad;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            goto bad;
    if (colon[1] == '\0' || atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)
        goto bad;
    if (spec[5] == '[') {
        if (colon[-1] != ']')
            goto bad;
        return str_appendf(out, "inet6:%s@%.*s", colon + 1,
                           (int)(colon - spec - 7), spec + 6);
    }
    if (colon - spec - 5 == 1 && spec[5] == '*')
        return str_appendf(out, "inet:%s", colon + 1);
    return str_appendf(out, "inet:%s@%.*s", colon + 1, (int)(colon - spec - 5),
                       spec + 5);
bad:
    str_appendf(err, "[milter] listen: expected inet:HOST:PORT, "
                     "inet:[V6]:PORT or unix:/PATH, not '%s'", spec);
    return -1;
}

static int net_match_one(const char *net, const char *ip)
{
    unsigned char a[16], b[16];
    char addr[64];
    const char *slash = strchr(net, '/');
    size_t alen = slash ? (size_t)(slash - net) : strlen(net);
    int fam, bits, full;

    if (str_copy_bounded(addr, sizeof(addr), net, alen) < 0)
        return 0;
    fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
    full = fam == AF_INET ? 32 : 128;
    bits = slash ? atoi(slash + 1) : full;
    if (inet_pton(fam, addr, a) != 1 || inet_pton(fam, ip, b) != 1)
        return 0;
    for (int i = 0; i < bits / 8; i++)
        if (a[i] != b[i])
            return 0;
    if (bits % 8) {
        unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));
        if ((a[bits / 8] & mask) != (b[bits / 8] & mask))
            return 0;
    }
    return 1;
}

int milter_net_match(const char *list, const char *ip)
{
    char item[80];
    const char *cur = list;

    while (cfg_list_next(&cur, item, sizeof(item)) > 0)
        if (net_match_one(item, ip))
            return 1;
    return 0;
}

int milter_group_domain(const struct milter_config *cfg, const char *addr)
{
    const char *at = strrchr(addr, '@'), *cur = cfg->group_domains;
    char item[256];

    while (cfg_list_next(&cur, item, sizeof(item)) > 0)
        if (!strcmp(item, "*") || (at && !strcasecmp(at + 1, item)))
            return 1;
    return 0; /* "": no group lookups at all */
}

int milter_ldap_on(const struct milter_config *cfg)
{
    const char *cur = cfg->group_domains;
    char item[256];

    return cfg_list_next(&cur, item, sizeof(item)) > 0;
}
