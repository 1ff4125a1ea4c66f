/*
 * group-expand - the LDAP group expansion of bench/groups: expands each
 * group DN given, cold (no cache), and prints one line per group:
 *
 *   DN MEMBERS MS SEARCHES
 *
 * Modes: -m postern   lib/ldapgroup as postern-policyd and postern-milter
 *                     use it (members read in batches)
 *        -m permember the peer: the group entry, then one base search per
 *                     member DN for its address (what Postfix's ldap: table
 *                     does with special_result_attribute, and what postern
 *                     did before issue 16)
 * Usage: group-expand -H URI -b BASE [-m MODE] DN...
 * Built by bench/groups against BUILD/libpostern.a.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "hash.h"
#include "ldapc.h"
#include "ldapgroup.h"
#include "lookup.h"
#include "strvec.h"

struct pm_read {
    struct strvec *members;     /* the group's uniqueMember values */
    char *mail;
};

static int pm_cb(void *ctx, const char *dn, const char *attr,
                 const char *value, size_t len)
{
    struct pm_read *r = ctx;

    (void)dn, (void)len;
    if (attr && r->members && !strcasecmp(attr, "uniqueMember"))
        strvec_add(r->members, value);
    else if (attr && !strcasecmp(attr, "mailPrimaryAddress") && !r->mail)
        r->mail = strdup(value);
    return 0;
}

/* permember - the peer: one base search per member; addresses or -1 */
static long permember(struct ldapc *lc, const char *group, unsigned long *n,
                      struct str *err)
{
    const char *attrs[] = {"uniqueMember", "mailPrimaryAddress", NULL};
    struct strvec members = STRVEC_INIT;
    struct pm_read r = {&members, NULL};
    struct hmap seen;
    long count = 0;

    hmap_init(&seen, 1024, HMAP_NOCASE | HMAP_COPYKEYS);
    (*n)++;
    if (ldapc_search(lc, group, LDAPC_SCOPE_BASE, "(objectClass=*)", attrs, 1,
                     pm_cb, &r, err) != LK_FOUND)
        return -1;
    for (size_t i = 0; i < members.n; i++) {
        struct pm_read m = {NULL, NULL};
        (*n)++;
        if (ldapc_search(lc, members.v[i], LDAPC_SCOPE_BASE, "(objectClass=*)",
                         attrs + 1, 1, pm_cb, &m, err) < 0)
            return -1;
        if (m.mail && !hmap_get(&seen, m.mail)) {
            hmap_put(&seen, m.mail, &seen);
            count++;
        }
        free(m.mail);
    }
    free(r.mail);
    strvec_free(&members);
    hmap_free(&seen, NULL);
    return count;
}

int main(int argc, char **argv)
{
    struct ldapc_config cfg = {0};
    const char *mode = "postern";
    struct str err = STR_INIT;
    struct ldapgroup *g;
    struct ldapc *lc;
    int opt;

    cfg.uri = "ldap://127.0.0.1:389";
    cfg.base = "";
    cfg.bind_dn = "";
    cfg.password_file = "";
    cfg.connect_timeout = 2000;
    cfg.query_timeout = 60000;
    cfg.retry_interval = 1000;
    cfg.group_filter = "(mailPrimaryAddress=%s)";
    cfg.user_filter = "(uid=%s)";
    cfg.uid_filter = "(uid=%s)";
    cfg.member_attribute = "uniqueMember";
    cfg.mail_attribute = "mailPrimaryAddress";
    cfg.max_nesting = 10;
    cfg.cache_ttl = 0; /* every expansion cold */
    while ((opt = getopt(argc, argv, "H:b:m:")) != -1) {
        switch (opt) {
        case 'H': cfg.uri = optarg; break;
        case 'b': cfg.base = optarg; break;
        case 'm': mode = optarg; break;
        default:
            fprintf(stderr, "usage: group-expand -H URI -b BASE [-m postern|"
                            "permember] DN...\n");
            return 2;
        }
    }
    ldapc_global_init();
    if ((lc = ldapc_open(&cfg, &err)) == NULL ||
        (g = ldapgroup_new(&cfg, "", &err)) == NULL) {
        fprintf(stderr, "group-expand: %s\n", str_cstr(&err));
        return 1;
    }
    if (ldapc_ping(lc, &err) < 0) {
        fprintf(stderr, "group-expand: %s\n", str_cstr(&err));
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        struct ldapgroup_backend be = ldapgroup_backend_ldapc(lc);
        struct ldapgroup_stats a, b;
        struct strvec out = STRVEC_INIT;
        unsigned long searches = 0;
        long long t0 = clock_us();
        long members;
        int rc;

        if (!strcmp(mode, "permember")) {
            members = permember(lc, argv[i], &searches, &err);
            rc = members < 0 ? LK_TEMP : LK_FOUND;
        } else {
            ldapgroup_stats(g, &a);
            rc = ldapgroup_expand(g, &be, argv[i], &out, &err);
            ldapgroup_stats(g, &b);
            members = (long)out.n;
            searches = (unsigned long)(b.searches - a.searches);
        }
        if (rc != LK_FOUND) {
            fprintf(stderr, "group-expand: %s: %s %s\n", argv[i],
                    lookup_name(rc), str_cstr(&err));
            return 1;
        }
        printf("%s %ld %.1f %lu\n", argv[i], members,
               (double)(clock_us() - t0) / 1000.0, searches);
        strvec_free(&out);
    }
    ldapgroup_free(g);
    ldapc_close(lc);
    str_free(&err);
    return 0;
}
