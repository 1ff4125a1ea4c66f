/*
 * ext_environment - the "environment" test (RFC 5183):
 *
 *   environment [COMPARATOR] [MATCH-TYPE] <name: string> <key-list>
 *
 * Items: "domain" and "host" (from the host), "location" ("MDA"),
 * "name" ("postern"), "phase" ("during"), "remote-host" and "remote-ip"
 * (when the host knows them), "version" (POSTERN_SIEVE_VERSION).  An
 * unknown or unset item makes the test false, whatever the match type
 * (RFC 5183 4: also :count "eq" "0").
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

#define POSTERN_SIEVE_VERSION "1.0"

static const char *item(struct sv_run *r, const char *s, size_t len)
{
    const struct sieve_host *h = r->host;
    struct { const char *name, *val; } items[] = {
        {"domain", h ? h->domain : NULL},
        {"host", h ? h->hostname : NULL},
        {"location", "MDA"},
        {"name", "postern"},
        {"phase", h && h->phase ? h->phase : "during"},
        {"remote-host", h ? h->remote_host : NULL},
        {"remote-ip", h ? h->remote_ip : NULL},
        {"version", POSTERN_SIEVE_VERSION},
    };

    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        if (strlen(items[i].name) == len &&
            strncasecmp(items[i].name, s, len) == 0)
            return items[i].val;
    return NULL;
}

static int environment_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_str name = sv_eval(r, &sv_pos(n, 0)->list.v[0]);
    const char *v = item(r, name.s, name.len);
    struct sv_strlist keys;
    struct sv_str val;

    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    if (v == NULL)
        return 0;
    val = (struct sv_str){v, strlen(v), 0};
    return sv_match(r, n, &val, 1, &keys);
}

static const struct sv_cmddef cmds[] = {
    {"environment", 1, "SL", 0, 0, SV_F_MATCH, NULL, environment_exec},
};

const struct sv_ext sv_ext_environment = {"environment", cmds, 1, NULL, 0, 0,
                                          0};
