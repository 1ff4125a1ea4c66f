/*
 * test_ldapgroup - lib/ldapgroup against a fake directory fed through the
 * backend interface (no slapd): group lookup by address, expansion through
 * uniqueMember / member / memberUid, attribute priority lists, nested
 * groups (univentionGroup included), cycles, missing members, the nesting
 * and size LIMITs, TEMP, membership tests, the cache, a login's addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldapgroup.h"
#include "lookup.h"
#include "unit.h"

/* --- the fake directory ----------------------------------------------- */

struct fentry {
    const char *dn;
    const char *attrs[24]; /* name, value, name, value, ..., NULL */
};

static const struct fentry dir[] = {
    {"cn=9a,ou=groups,dc=x",
     {"objectClass", "groupOfUniqueNames", "mailPrimaryAddress", "9a@x.example",
      "description", "members", "description", "group staff@x.example",
      "uniqueMember", "uid=anna,ou=people,dc=x", "uniqueMember",
      "uid=ben,ou=people,dc=x", "uniqueMember", "cn=teachers,ou=groups,dc=x",
      "uniqueMember", "uid=gone,ou=people,dc=x", "memberUid", "anna",
      "memberUid", "ben", NULL}},
    {"cn=teachers,ou=groups,dc=x",
     {"objectClass", "univentionGroup", "mailPrimaryAddress",
      "teachers@x.example", "uniqueMember", "uid=carl,ou=people,dc=x",
      "uniqueMember", "uid=anna,ou=people,dc=x", NULL}},
    {"cn=emptyucs,ou=groups,dc=x",
     {"objectClass", "univentionGroup", "mailPrimaryAddress",
      "empty@x.example", NULL}},
    {"cn=withempty,ou=groups,dc=x",
     {"objectClass", "groupOfNames", "member", "cn=emptyucs,ou=groups,dc=x",
      "member", "uid=ben,ou=people,dc=x", NULL}},
    {"cn=posix,ou=groups,dc=x",
     {"objectClass", "posixGroup", "mail", "posix@x.example", "memberUid",
      "anna", "memberUid", "carl", "memberUid", "ghost", NULL}},
    {"cn=loop1,ou=groups,dc=x",
     {"objectClass", "groupOfUniqueNames", "uniqueMember",
      "cn=loop2,ou=groups,dc=x", NULL}},
    {"cn=loop2,ou=groups,dc=x",
     {"objectClass", "groupOfUniqueNames", "uniqueMember",
      "cn=loop1,ou=groups,dc=x", "uniqueMember", "uid=anna,ou=people,dc=x",
      NULL}},
    {"uid=anna,ou=people,dc=x",
     {"objectClass", "inetOrgPerson", "uid", "anna", "mail",
      "anna.alt@x.example", "mailPrimaryAddress", "Anna@X.example", NULL}},
    {"uid=ben,ou=people,dc=x",
     {"objectClass", "inetOrgPerson", "uid", "ben", "mail", "ben@x.example",
      NULL}},
    {"uid=carl,ou=people,dc=x",
     {"objectClass", "inetOrgPerson", "uid", "carl", "mailPrimaryAddress",
      "carl@x.example", "mailAlternativeAddress", "c@x.example", NULL}},
    {"uid=twin1,ou=people,dc=x", {"uid", "twin", NULL}},
    /* a group without a rule of its own over a protected class (9a, whose
       description holds its rule) and the cycle loop1/loop2 */
    {"cn=all9,ou=groups,dc=x",
     {"objectClass", "groupOfNames", "mailPrimaryAddress", "all9@x.example",
      "member", "cn=9a,ou=groups,dc=x", "member", "cn=loop1,ou=groups,dc=x",
      "member", "uid=ben,ou=people,dc=x", NULL}},
    {"uid=twin2,ou=people,dc=x", {"uid", "twin", NULL}},
};

#define NDIR (sizeof(dir) / sizeof(dir[0]))
#define DEEP 12     /* cn=dN: a chain dN -> dN+1, the last has carl */
#define HUGE_N (LDAPGROUP_MEMBERS_MAX + 1)

struct fake {
    int down;
    unsigned long searches;
};

static int wanted(const char *const *attrs, const char *name)
{
    for (size_t i = 0; attrs && attrs[i]; i++)
        if (!strcasecmp(attrs[i], name))
            return 1;
    return 0;
}

static int send_entry(const struct fentry *e, const char *const *attrs,
                      ldapc_entry_fn fn, void *ctx)
{
    fn(ctx, e->dn, NULL, NULL, 0);
    for (size_t i = 0; e->attrs[i]; i += 2)
        if (wanted(attrs, e->attrs[i]))
            fn(ctx, e->dn, e->attrs[i], e->attrs[i + 1],
               strlen(e->attrs[i + 1]));
    return LK_FOUND;
}

/* synthetic entries: cn=dN,ou=deep (a chain), cn=huge (HUGE_N members
   uid=uN,ou=many, each with mail uN@many.example) */
static int synth(const char *base, const char *const *attrs,
                 ldapc_entry_fn fn, void *ctx)
{
    char buf[128];
    int n;

    if (sscanf(base, "cn=d%d,ou=deep", &n) == 1) {
        fn(ctx, base, NULL, NULL, 0);
        if (wanted(attrs, "objectClass"))
            fn(ctx, base, "objectClass", "groupOfUniqueNames", 18);
        if (n < DEEP) {
            snprintf(buf, sizeof(buf), "cn=d%d,ou=deep", n + 1);
        } else {
            snprintf(buf, sizeof(buf), "uid=carl,ou=people,dc=x");
        }
        if (wanted(attrs, "uniqueMember"))
            fn(ctx, base, "uniqueMember", buf, strlen(buf));
        return LK_FOUND;
    }
    if (!strcmp(base, "cn=huge,ou=many")) {
        fn(ctx, base, NULL, NULL, 0);
        for (int i = 0; i < HUGE_N && wanted(attrs, "uniqueMember"); i++) {
            snprintf(buf, sizeof(buf), "uid=u%d,ou=many", i);
            fn(ctx, base, "uniqueMember", buf, strlen(buf));
        }
        return LK_FOUND;
    }
    if (sscanf(base, "uid=u%d,ou=many", &n) == 1) {
        fn(ctx, base, NULL, NULL, 0);
        snprintf(buf, sizeof(buf), "u%d@many.example", n);
        if (wanted(attrs, "mailPrimaryAddress"))
            fn(ctx, base, "mailPrimaryAddress", buf, strlen(buf));
        return LK_FOUND;
    }
    return LK_NOTFOUND;
}

static int fake_search(void *ctx, const char *base, int scope,
                       const char *filter, const char *const *attrs,
                       size_t max_entries, ldapc_entry_fn fn, void *fnctx,
                       struct str *err)
{
    struct fake *f = ctx;
    char attr[64], value[256];
    const struct fentry *hits[NDIR];
    size_t nhits = 0;

    f->searches++;
    if (f->down)
        return str_appendf(err, "fake: server down"), LK_TEMP;
    if (scope == LDAPC_SCOPE_BASE) {
        for (size_t i = 0; i < NDIR; i++)
            if (!strcasecmp(dir[i].dn, base))
                return send_entry(&dir[i], attrs, fn, fnctx);
        return synth(base, attrs, fn, fnctx);
    }
    /* "(attr=value)" only */
    if (sscanf(filter, "(%63[^=]=%255[^)])", attr, value) != 2)
        return str_appendf(err, "fake: bad filter %s", filter), LK_TEMP;
    for (size_t i = 0; i < NDIR; i++)
        for (size_t j = 0; dir[i].attrs[j]; j += 2)
            if (!strcasecmp(dir[i].attrs[j], attr) &&
                !strcasecmp(dir[i].attrs[j + 1], value)) {
                hits[nhits++] = &dir[i];
                break;
            }
    if (nhits > max_entries)
        return str_appendf(err, "fake: more than %zu entries", max_entries),
               LK_TEMP;
    for (size_t i = 0; i < nhits; i++)
        send_entry(hits[i], attrs, fn, fnctx);
    return nhits ? LK_FOUND : LK_NOTFOUND;
}

/* --- helpers ------------------------------------------------------------ */

static struct fake fake;
static const struct ldapgroup_backend be = {fake_search, &fake};

static struct ldapgroup *make(const char *member_attr, const char *mail_attr,
                              long long max_nesting, long long ttl)
{
    struct ldapc_config c = {0};
    struct str err = STR_INIT;
    struct ldapgroup *g;

    c.group_filter = "(mailPrimaryAddress=%s)";
    c.uid_filter = "(uid=%s)";
    c.user_filter = "(uid=%s)";
    c.member_attribute = (char *)member_attr;
    c.mail_attribute = (char *)mail_attr;
    c.max_nesting = max_nesting;
    c.cache_ttl = ttl;
    g = ldapgroup_new(&c, "description", &err);
    if (g == NULL)
        printf("# %s\n", str_cstr(&err));
    str_free(&err);
    return g;
}

/* joined - expand group and join the addresses with ' ' (or the outcome) */
static const char *joined(struct ldapgroup *g, const char *group)
{
    static char buf[512];
    struct strvec out = STRVEC_INIT;
    struct str err = STR_INIT;
    int rc = ldapgroup_expand(g, &be, group, &out, &err);

    buf[0] = '\0';
    if (rc != LK_FOUND)
        snprintf(buf, sizeof(buf), "(%s)", lookup_name(rc));
    for (size_t i = 0; i < out.n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
                 i ? " " : "", out.v[i]);
    strvec_free(&out);
    str_free(&err);
    return buf;
}

static int has(struct ldapgroup *g, const char *group, const char *addr)
{
    struct str err = STR_INIT;
    int rc = ldapgroup_has(g, &be, group, addr, &err);

    str_free(&err);
    return rc;
}

/* --- tests --------------------------------------------------------------- */

static void test_find(void)
{
    struct ldapgroup *g = make("uniqueMember", "mailPrimaryAddress", 10,
                               60000);
    struct ldapgroup_info info = {NULL, STRVEC_INIT};
    struct str err = STR_INIT;
    unsigned long before;

    CHECK(ldapgroup_find(g, &be, "9a@x.example", &info, &err) == LK_FOUND,
          "find a group by address");
    CHECK_STR(info.dn, "cn=9a,ou=groups,dc=x", "its DN");
    CHECK(info.values.n == 2 && !strcmp(info.values.v[1],
                                        "group staff@x.example"),
          "the extra attribute's values");
    ldapgroup_info_free(&info);
    before = fake.searches;
    CHECK(ldapgroup_find(g, &be, "9A@X.EXAMPLE", &info, &err) == LK_FOUND &&
              fake.searches == before && info.dn != NULL,
          "the second lookup (other case) comes from the cache");
    ldapgroup_info_free(&info);
    CHECK(ldapgroup_find(g, &be, "nobody@x.example", &info, &err) ==
              LK_NOTFOUND && info.dn == NULL,
          "not a group");
    before = fake.searches;
    CHECK(ldapgroup_find(g, &be, "nobody@x.example", &info, &err) ==
              LK_NOTFOUND && fake.searches == before,
          "negative answers are cached");
    fake.down = 1;
    CHECK(ldapgroup_find(g, &be, "teachers@x.example", &info, &err) == LK_TEMP,
          "LDAP down: TEMP");
    fake.down = 0;
    CHECK(ldapgroup_find(g, &be, "teachers@x.example", &info, &err) ==
              LK_FOUND,
          "TEMP was not cached");
    ldapgroup_info_free(&info);
    str_free(&err);
    ldapgroup_free(g);
}

static void test_expand(void)
{
    struct ldapgroup *g = make("uniqueMember, member, memberUid",
                               "mailPrimaryAddress, mail", 10, 60000);
    struct ldapgroup_stats st;
    unsigned long before;

    CHECK_STR(joined(g, "9a@x.example"),
              "Anna@X.example ben@x.example carl@x.example",
              "uniqueMember first (memberUid not read twice), nested "
              "univentionGroup, anna once, mail when no mailPrimaryAddress");
    ldapgroup_stats(g, &st);
    CHECK(st.missing == 1, "the missing member DN was skipped and counted");
    before = fake.searches;
    CHECK_STR(joined(g, "cn=9a,ou=groups,dc=x"),
              "Anna@X.example ben@x.example carl@x.example",
              "by DN: the same set");
    CHECK(fake.searches == before, "from the cache");
    CHECK_STR(joined(g, "posix@x.example"), "(not found)",
              "posix@ has no mailPrimaryAddress: group_filter misses");
    CHECK_STR(joined(g, "cn=posix,ou=groups,dc=x"),
              "Anna@X.example carl@x.example",
              "posixGroup: memberUid through uid_filter, ghost skipped");
    CHECK_STR(joined(g, "cn=withempty,ou=groups,dc=x"), "ben@x.example",
              "groupOfNames member; an empty univentionGroup is a group, "
              "not a user");
    CHECK_STR(joined(g, "cn=loop1,ou=groups,dc=x"), "Anna@X.example",
              "a cycle ends");
    CHECK_STR(joined(g, "cn=nosuch,dc=x"), "(not found)", "no such group");
    ldapgroup_free(g);

    g = make("memberUid", "mailPrimaryAddress", 10, 60000);
    CHECK_STR(joined(g, "cn=9a,ou=groups,dc=x"), "Anna@X.example",
              "memberUid only: ben has no mailPrimaryAddress");
    ldapgroup_free(g);
}

static void test_limits(void)
{
    struct ldapgroup *g = make("uniqueMember", "mailPrimaryAddress", 10,
                               60000);
    struct strvec out = STRVEC_INIT;
    struct str err = STR_INIT;
    unsigned long before;
    int rc;

    CHECK_STR(joined(g, "cn=d2,ou=deep"), "carl@x.example",
              "10 levels of nesting below the top: expanded");
    rc = ldapgroup_expand(g, &be, "cn=d1,ou=deep", &out, &err);
    CHECK(rc == LK_LIMIT, "11 levels: LK_LIMIT");
    CHECK(strstr(str_cstr(&err), "nested deeper than 10") != NULL,
          "LIMIT says why: %s", str_cstr(&err));
    before = fake.searches;
    str_reset(&err);
    CHECK(ldapgroup_has(g, &be, "cn=d1,ou=deep", "carl@x.example", &err) ==
              LK_LIMIT && fake.searches > before,
          "LIMIT is not cached and is never 'not a member'");
    strvec_free(&out);
    str_reset(&err);
    rc = ldapgroup_expand(g, &be, "cn=huge,ou=many", &out, &err);
    CHECK(rc == LK_LIMIT && out.n == 0,
          "over %d addresses: LK_LIMIT, nothing returned",
          LDAPGROUP_MEMBERS_MAX);
    CHECK(strstr(str_cstr(&err), "member addresses") != NULL, "says why: %s",
          str_cstr(&err));
    fake.down = 1;
    str_reset(&err);
    CHECK(ldapgroup_expand(g, &be, "cn=teachers,ou=groups,dc=x", &out,
                           &err) == LK_TEMP,
          "LDAP down: TEMP");
    fake.down = 0;
    strvec_free(&out);
    str_free(&err);
    ldapgroup_free(g);
}

static void test_has(void)
{
    struct ldapgroup *g = make("uniqueMember", "mailPrimaryAddress, mail", 10,
                               60000);
    unsigned long before;

    CHECK(has(g, "9a@x.example", "CARL@x.example") == LK_FOUND,
          "nested member, any case");
    before = fake.searches;
    CHECK(has(g, "9a@x.example", "anna@x.example") == LK_FOUND &&
              fake.searches == before,
          "the second test is one hash lookup in the cached set");
    CHECK(has(g, "9a@x.example", "anna.alt@x.example") == LK_NOTFOUND,
          "only the first mail attribute counts");
    CHECK(has(g, "nosuch@x.example", "anna@x.example") == LK_NOTFOUND,
          "no such group: not a member");
    ldapgroup_free(g);

    g = make("uniqueMember", "mailPrimaryAddress", 10, 0);
    before = fake.searches;
    has(g, "cn=teachers,ou=groups,dc=x", "carl@x.example");
    has(g, "cn=teachers,ou=groups,dc=x", "carl@x.example");
    CHECK(fake.searches - before == 6, "cache_ttl 0: no cache (%lu searches)",
          fake.searches - before);
    ldapgroup_free(g);
}

static void test_users(void)
{
    struct ldapgroup *g = make("uniqueMember", "mailPrimaryAddress", 10,
                               60000);
    struct strvec out = STRVEC_INIT;
    struct str err = STR_INIT;

    CHECK(ldapgroup_user_addresses(g, &be, "carl", &out, &err) == LK_FOUND &&
              out.n == 2,
          "a login's addresses (mailPrimaryAddress, mailAlternativeAddress)");
    strvec_free(&out);
    CHECK(ldapgroup_user_addresses(g, &be, "x@y.example", &out, &err) ==
              LK_FOUND && out.n == 1,
          "an address login is its own address");
    strvec_free(&out);
    CHECK(ldapgroup_user_addresses(g, &be, "nobody", &out, &err) ==
              LK_NOTFOUND, "unknown login");
    CHECK(ldapgroup_user_addresses(g, &be, "twin", &out, &err) == LK_NOTFOUND,
          "two entries without addresses: none");
    fake.down = 1;
    CHECK(ldapgroup_user_addresses(g, &be, "carl", &out, &err) == LK_TEMP,
          "LDAP down: TEMP");
    fake.down = 0;
    strvec_free(&out);
    str_free(&err);
    ldapgroup_free(g);
}

static void test_config(void)
{
    struct ldapc_config c = {0};
    struct str err = STR_INIT;

    c.group_filter = c.uid_filter = c.user_filter = "(x=%s)";
    c.member_attribute = "a b c d e";
    c.mail_attribute = "mail";
    CHECK(ldapgroup_new(&c, "", &err) == NULL && err.len > 0,
          "more than %d member attributes: refused", LDAPGROUP_ATTRS_MAX);
    str_reset(&err);
    CHECK(ldapgroup_check_config(&c, &err) < 0, "-t: the same refusal");
    str_reset(&err);
    c.member_attribute = "uniqueMember, memberUid";
    CHECK(ldapgroup_check_config(&c, &err) == 0, "-t: a list of two is fine");
    c.uid_filter = "uid=%s";
    CHECK(ldapgroup_check_config(&c, &err) < 0 &&
              strstr(str_cstr(&err), "uid_filter") != NULL,
          "-t: a filter without parentheses is refused");
    str_free(&err);
}

/* the groups an expansion passes through, with their rules: what
   postern-milter applies to a group nested in the one written to */
static void test_subgroups(void)
{
    struct ldapgroup *g = make("uniqueMember, member",
                               "mailPrimaryAddress, mail", 10, 60000);
    struct ldapgroup_subs subs = {NULL, 0};
    struct str err = STR_INIT;
    unsigned long before;
    int rc;

    rc = ldapgroup_subgroups(g, &be, "all9@x.example", &subs, &err);
    CHECK(rc == LK_FOUND, "subgroups of all9: found (%s)", str_cstr(&err));
    CHECK(subs.n == 4, "9a, teachers (inside 9a), loop1, loop2: %zu", subs.n);
    CHECK(subs.n > 0 && !strcmp(subs.v[0].dn, "cn=9a,ou=groups,dc=x") &&
              subs.v[0].mail && !strcmp(subs.v[0].mail, "9a@x.example"),
          "the first is 9a with its address");
    CHECK(subs.n > 0 && subs.v[0].values.n == 2 &&
              !strcmp(subs.v[0].values.v[0], "members"),
          "... and its rule values (description)");
    CHECK(subs.n > 1 && !strcmp(subs.v[1].dn, "cn=teachers,ou=groups,dc=x"),
          "a group nested two levels down is there too");
    CHECK(subs.n > 2 && subs.v[2].mail == NULL, "loop1 has no address: NULL");
    ldapgroup_subs_free(&subs);
    before = fake.searches;
    rc = ldapgroup_subgroups(g, &be, "cn=all9,ou=groups,dc=x", &subs, &err);
    CHECK(rc == LK_FOUND && subs.n == 4 && fake.searches == before,
          "the second question comes from the cache");
    ldapgroup_subs_free(&subs);
    rc = ldapgroup_subgroups(g, &be, "cn=teachers,ou=groups,dc=x", &subs,
                             &err);
    CHECK(rc == LK_FOUND && subs.n == 0, "a group of users only: none");
    CHECK(!strcmp(joined(g, "all9@x.example"),
                  "Anna@X.example ben@x.example carl@x.example"),
          "the expansion itself is unchanged: %s", joined(g, "all9@x.example"));
    ldapgroup_subs_free(&subs);
    CHECK(ldapgroup_subgroups(g, &be, "none@x.example", &subs, &err) ==
              LK_NOTFOUND, "no such group: not found");
    fake.down = 1;
    ldapgroup_free(g);
    g = make("uniqueMember, member", "mailPrimaryAddress", 10, 60000);
    CHECK(ldapgroup_subgroups(g, &be, "cn=all9,ou=groups,dc=x", &subs, &err)
              == LK_TEMP, "LDAP down: temporary failure, never none");
    fake.down = 0;
    ldapgroup_subs_free(&subs);
    ldapgroup_free(g);
    g = make("uniqueMember, member", "mailPrimaryAddress", 0, 60000);
    CHECK(ldapgroup_subgroups(g, &be, "cn=all9,ou=groups,dc=x", &subs, &err)
              == LK_LIMIT, "max_nesting 0: a nested group is a LIMIT");
    ldapgroup_subs_free(&subs);
    ldapgroup_free(g);
    str_free(&err);
}

int main(void)
{
    test_subgroups();
    test_find();
    test_expand();
    test_limits();
    test_has();
    test_users();
    test_config();
    return UNIT_END();
}
