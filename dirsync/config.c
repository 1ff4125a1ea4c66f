/*
 * config - the configuration of postern-dirsync: [directory], and the
 * shared [ldap] (connection) and [database] sections.
 *
 * The attribute keys default to "" and then take the value of the preset
 * (preset = ucs: UCS@school; inetorgperson: plain OpenLDAP), so a UCS site
 * sets nothing but the connection; any key set in the file wins over the
 * preset.  Every key is documented in docs/directory.md (and printed by
 * postern-dirsync -d).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirsync.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"

#define C(m) offsetof(struct dirsync_config, dir.m)
#define DAY "86400000"

static const struct cfg_def dir_defs[] = {
    {"name", CFG_STR, "default", 1, 64, C(name), NULL},
    SERVER_PID_CFG_DEF(struct dirsync_config, srv, "/run/postern/dirsync.pid"),
    {"metrics_listen", CFG_STR, "", 0, 256,
     offsetof(struct dirsync_config, srv.metrics_listen), NULL},
    {"preset", CFG_ENUM, "ucs", 0, 0, C(preset), "ucs|inetorgperson"},
    {"base", CFG_STR, "", 0, 1024, C(base), NULL},
    {"person_filter", CFG_STR, "", 0, 1024, C(person_filter), NULL},
    {"group_filter", CFG_STR, "", 0, 1024, C(group_filter), NULL},
    {"mail_attribute", CFG_STR, "", 0, 64, C(mail_attribute), NULL},
    {"alias_attributes", CFG_STR, "", 0, 256, C(alias_attributes), NULL},
    {"forward_attribute", CFG_STR, "", 0, 64, C(forward_attribute), NULL},
    {"forward_copy_attribute", CFG_STR, "", 0, 64, C(forward_copy_attribute),
     NULL},
    {"quota_attribute", CFG_STR, "", 0, 64, C(quota_attribute), NULL},
    {"quota_unit", CFG_SIZE, "1M", 1, 1LL << 40, C(quota_unit), NULL},
    {"name_attribute", CFG_STR, "", 0, 64, C(name_attribute), NULL},
    {"disabled_attribute", CFG_STR, "", 0, 64, C(disabled_attribute), NULL},
    {"disabled_value", CFG_STR, "", 0, 256, C(disabled_value), NULL},
    {"role_attribute", CFG_STR, "", 0, 64, C(role_attribute), NULL},
    {"role_groups", CFG_STR, "", 0, 1024, C(role_groups), NULL},
    {"allowed_users_attribute", CFG_STR, "", 0, 64,
     C(allowed_users_attribute), NULL},
    {"allowed_groups_attribute", CFG_STR, "", 0, 64,
     C(allowed_groups_attribute), NULL},
    {"member_attribute", CFG_STR, "", 0, 64, C(member_attribute), NULL},
    {"full_sync_interval", CFG_TIME, "1h", 60000, 7LL * 86400000,
     C(full_sync_interval), NULL},
    {"retry_interval", CFG_TIME, "10s", 100, 3600000, C(retry_interval),
     NULL},
    {"lifecycle_interval", CFG_TIME, "1m", 100, 86400000,
     C(lifecycle_interval), NULL},
    {"grace_period", CFG_TIME, "56d", 0, 3650LL * 86400000, C(grace_period),
     NULL},
    {"reminder_before", CFG_TIME, "7d", 0, 3650LL * 86400000,
     C(reminder_before), NULL},
    {"closed_retention", CFG_TIME, "180d", 0, 3650LL * 86400000,
     C(closed_retention), NULL},
    {"transition_period", CFG_TIME, "90d", 0, 3650LL * 86400000,
     C(transition_period), NULL},
    {"max_leave_share", CFG_INT, "20", 0, 1000, C(max_leave_share), NULL},
    {"max_leave_floor", CFG_INT, "5", 0, 1000000, C(max_leave_floor), NULL},
    {"notice_from", CFG_STR, "", 0, DS_ADDR_MAX, C(notice_from), NULL},
    {"sendmail", CFG_STR, "/usr/sbin/sendmail", 1, 1024, C(sendmail), NULL},
    {"mail_root", CFG_STR, "/var/mail/postern", 1, 1024, C(mail_root), NULL},
    {"purge_action", CFG_ENUM, "archive", 0, 0, C(purge_action),
     "archive|remove"},
    {"archive_dir", CFG_STR, "/var/mail/postern-archive", 1, 1024,
     C(archive_dir), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static const struct cfg_def db_defs[] = {
    DB_CFG_DEFS(struct dirsync_config, db)};

static const struct cfg_def ldap_defs[] = {
    LDAPC_CFG_DEFS(struct dirsync_config, ldap)};

size_t ds_sections(void *cfg, struct cfg_section *s)
{
    s[0] = (struct cfg_section){"directory", dir_defs, cfg};
    s[1] = (struct cfg_section){"database", db_defs, cfg};
    s[2] = (struct cfg_section){"ldap", ldap_defs, cfg};
    return 3;
}

/* the presets: one value per attribute key, in this order */
enum {
    P_PERSON, P_GROUP, P_MAIL, P_ALIAS, P_FORWARD, P_FORWARD_COPY, P_QUOTA,
    P_NAME, P_ROLE, P_ROLE_GROUPS, P_ALLOWED_USERS, P_ALLOWED_GROUPS,
    P_MEMBER, P_N
};

static const char *const presets[][P_N] = {
    [DS_PRESET_UCS] = {
        "(&(objectClass=inetOrgPerson)(mailPrimaryAddress=*))",
        "(&(|(objectClass=univentionGroup)(objectClass=posixGroup)"
        "(objectClass=groupOfNames))(mailPrimaryAddress=*))",
        "mailPrimaryAddress", "mailAlternativeAddress", "mailForwardAddress",
        "mailForwardCopyToSelf", "univentionMailUserQuota", "displayName",
        "ucsschoolRole",
        "student=pupils, teacher=teachers, staff=staff, parent=parents",
        "univentionAllowedEmailUsers", "univentionAllowedEmailGroups",
        "uniqueMember"},
    [DS_PRESET_INETORGPERSON] = {
        "(&(objectClass=inetOrgPerson)(mail=*))",
        "(&(objectClass=groupOfNames)(mail=*))",
        "mail", "", "", "", "", "displayName", "employeeType",
        "", "", "", "member"},
};

static void preset(char **key, const char *value)
{
    if ((*key)[0] == '\0') {
        free(*key);
        *key = xstrdup(value);
    }
}

/* role_groups: "role=group, role=group" */
static int parse_roles(struct ds_config *c, struct str *err)
{
    const char *cur = c->role_groups;
    char item[160];
    int rc;

    c->nroles = 0;
    while ((rc = cfg_list_next(&cur, item, sizeof(item))) > 0) {
        char *eq = strchr(item, '=');
        struct ds_role_map *m;

        if (eq == NULL || eq == item || eq[1] == '\0')
            return str_appendf(err, "[directory] role_groups: '%s' is not "
                               "role=group", item), -1;
        if (c->nroles >= DS_ROLE_MAP_MAX)
            return str_appendf(err, "[directory] role_groups: more than %d "
                               "pairs", DS_ROLE_MAP_MAX), -1;
        *eq = '\0';
        m = &c->roles[c->nroles++];
        if (snprintf(m->role, sizeof(m->role), "%s", item) >=
                (int)sizeof(m->role) ||
            snprintf(m->group, sizeof(m->group), "%s", eq + 1) >=
                (int)sizeof(m->group))
            return str_appendf(err, "[directory] role_groups: '%s' too "
                               "long", item), -1;
        for (char *p = m->group; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  ((*p == '.' || *p == '_' || *p == '-') && p > m->group)))
                return str_appendf(err, "[directory] role_groups: '%s' is "
                                   "not a policy group name (a-z 0-9 . _ -)",
                                   m->group), -1;
    }
    if (rc < 0)
        return str_appendf(err, "[directory] role_groups: item too long"), -1;
    return 0;
}

int ds_check(void *p, struct str *err)
{
    struct dirsync_config *cfg = p;
    struct ds_config *c = &cfg->dir;
    const char *const *v = presets[c->preset];

    if (metrics_listen_check(cfg->srv.metrics_listen, err) < 0)
        return -1;
    preset(&c->person_filter, v[P_PERSON]);
    preset(&c->group_filter, v[P_GROUP]);
    preset(&c->mail_attribute, v[P_MAIL]);
    preset(&c->alias_attributes, v[P_ALIAS]);
    preset(&c->forward_attribute, v[P_FORWARD]);
    preset(&c->forward_copy_attribute, v[P_FORWARD_COPY]);
    preset(&c->quota_attribute, v[P_QUOTA]);
    preset(&c->name_attribute, v[P_NAME]);
    preset(&c->role_attribute, v[P_ROLE]);
    preset(&c->role_groups, v[P_ROLE_GROUPS]);
    preset(&c->allowed_users_attribute, v[P_ALLOWED_USERS]);
    preset(&c->allowed_groups_attribute, v[P_ALLOWED_GROUPS]);
    preset(&c->member_attribute, v[P_MEMBER]);
    if (c->person_filter[0] != '(' || c->group_filter[0] != '(')
        return str_appendf(err, "[directory] person_filter and group_filter "
                           "must be LDAP filters in parentheses"), -1;
    if (c->mail_attribute[0] == '\0')
        return str_appendf(err, "[directory] mail_attribute is empty"), -1;
    if ((c->disabled_attribute[0] == '\0') != (c->disabled_value[0] == '\0'))
        return str_appendf(err, "[directory] disabled_attribute and "
                           "disabled_value go together"), -1;
    if (c->reminder_before > c->grace_period)
        return str_appendf(err, "[directory] reminder_before is longer than "
                           "grace_period"), -1;
    if (c->base[0] == '\0' && cfg->ldap.base[0] == '\0')
        return str_appendf(err, "[directory] base (or [ldap] base) must be "
                           "set"), -1;
    return parse_roles(c, err);
}
