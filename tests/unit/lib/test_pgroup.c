/*
 * test_pgroup - lib/pgroup over hand-built snapshots: addresses, domains
 * and subdomains, nesting, cycles and diamonds, the nesting LIMIT (and
 * that a definite hit elsewhere wins over it), LDAP members through the
 * callback with each outcome, several addresses at once.
 */
#include <stdio.h>
#include <string.h>

#include "aliasdom.h"
#include "lookup.h"
#include "pgroup.h"
#include "unit.h"

/* a fake LDAP: group "cn=staff" has a@x.example; "cn=down" is TEMP;
   "cn=huge" is LIMIT */
static int calls;

static int fake_ldap(void *ctx, const char *group, const char *addr,
                     struct str *err)
{
    (void)ctx;
    calls++;
    if (!strcmp(group, "cn=down"))
        return str_appendf(err, "ldap down"), LK_TEMP;
    if (!strcmp(group, "cn=huge"))
        return str_appendf(err, "ldap group too big"), LK_LIMIT;
    return !strcmp(group, "cn=staff") && !strcmp(addr, "a@x.example")
               ? LK_FOUND : LK_NOTFOUND;
}

static const struct pgroup_ldap ldap = {fake_ldap, NULL};

static int has(const struct pgroup_set *s, const char *group,
               const char *addr)
{
    struct str err = STR_INIT;
    int rc = pgroup_has(s, pgroup_by_name(s, group), addr, &ldap, &err);

    str_free(&err);
    return rc;
}

static void add(struct pgroup_set *s, unsigned long id, const char *type,
                const char *value)
{
    struct str err = STR_INIT;

    if (pgroup_set_add_member(s, id, type, value, &err) < 0)
        printf("# %s\n", str_cstr(&err));
    str_free(&err);
}

static void test_direct(void)
{
    struct pgroup_set *s = pgroup_set_new();
    struct str err = STR_INIT;

    pgroup_set_add_group(s, 1, "Parents");
    add(s, 1, "address", "boss@school.example");
    add(s, 1, "domain", "eltern.school.example");
    add(s, 1, "domain", ".sub.example");
    CHECK(pgroup_set_add_member(s, 9, "address", "x@y.z", &err) < 0,
          "a member of an unknown group id is refused");
    CHECK(pgroup_set_add_member(s, 1, "bogus", "x", &err) < 0,
          "an unknown member type is refused");
    CHECK(pgroup_set_finish(s) == 0, "finish: no dangling names");
    CHECK(pgroup_by_id(s, 1) == pgroup_by_name(s, "parents"),
          "by id and by (lower-cased) name");
    CHECK(has(s, "parents", "boss@school.example") == LK_FOUND, "address");
    CHECK(has(s, "parents", "BOSS@School.Example") == LK_FOUND,
          "address, any case");
    CHECK(has(s, "parents", "other@school.example") == LK_NOTFOUND,
          "other address of the domain");
    CHECK(has(s, "parents", "mum@eltern.school.example") == LK_FOUND,
          "domain");
    CHECK(has(s, "parents", "mum@x.eltern.school.example") == LK_NOTFOUND,
          "a subdomain is not the domain");
    CHECK(has(s, "parents", "a@b.sub.example") == LK_FOUND,
          ".domain: subdomain");
    CHECK(has(s, "parents", "a@c.b.sub.example") == LK_FOUND,
          ".domain: deeper subdomain");
    CHECK(has(s, "parents", "a@sub.example") == LK_NOTFOUND,
          ".domain: not the domain itself");
    CHECK(has(s, "parents", "") == LK_NOTFOUND, "the null sender: in no group");
    str_free(&err);
    pgroup_set_free(s);
}

static void test_nesting_cycles(void)
{
    struct pgroup_set *s = pgroup_set_new();

    /* a -> b -> c -> a (cycle), a -> d, b -> d (diamond) */
    pgroup_set_add_group(s, 1, "a");
    pgroup_set_add_group(s, 2, "b");
    pgroup_set_add_group(s, 3, "c");
    pgroup_set_add_group(s, 4, "d");
    pgroup_set_add_group(s, 5, "lonely");
    add(s, 1, "group", "b");
    add(s, 1, "group", "d");
    add(s, 2, "group", "c");
    add(s, 2, "group", "d");
    add(s, 3, "group", "a");
    add(s, 3, "address", "c@x.example");
    add(s, 4, "address", "d@x.example");
    add(s, 5, "group", "nosuchgroup");
    CHECK(pgroup_set_finish(s) == 1, "one nested name names no group");
    CHECK(pgroup_set_cycles(s) == 3, "a, b and c lie on a cycle");
    CHECK(has(s, "a", "c@x.example") == LK_FOUND, "nested two levels");
    CHECK(has(s, "c", "d@x.example") == LK_FOUND, "through the cycle");
    CHECK(has(s, "a", "nobody@x.example") == LK_NOTFOUND,
          "a cycle ends: not a member");
    CHECK(has(s, "lonely", "d@x.example") == LK_NOTFOUND,
          "a dangling name is no member");
    pgroup_set_free(s);
}

static void test_limit(void)
{
    struct pgroup_set *s = pgroup_set_new();
    char name[32], sub[32];
    struct str err = STR_INIT;
    int rc;

    /* g0 -> g1 -> ... -> g17; the address is in g17 */
    for (int i = 0; i <= PGROUP_NEST_MAX + 1; i++) {
        snprintf(name, sizeof(name), "g%d", i);
        pgroup_set_add_group(s, (unsigned long)i + 1, name);
    }
    for (int i = 0; i <= PGROUP_NEST_MAX; i++) {
        snprintf(sub, sizeof(sub), "g%d", i + 1);
        add(s, (unsigned long)i + 1, "group", sub);
    }
    add(s, PGROUP_NEST_MAX + 2, "address", "deep@x.example");
    pgroup_set_add_group(s, 100, "wide");
    add(s, 100, "group", "g0");
    add(s, 100, "address", "near@x.example");
    pgroup_set_finish(s);
    rc = pgroup_has(s, pgroup_by_name(s, "g1"), "deep@x.example", &ldap,
                    &err);
    CHECK(rc == LK_FOUND, "16 levels below: found");
    str_reset(&err);
    rc = pgroup_has(s, pgroup_by_name(s, "g0"), "deep@x.example", &ldap,
                    &err);
    CHECK(rc == LK_LIMIT, "17 levels below: LK_LIMIT, not 'not a member'");
    CHECK(strstr(str_cstr(&err), "nested deeper than 16") != NULL,
          "the LIMIT says why: %s", str_cstr(&err));
    str_reset(&err);
    rc = pgroup_has(s, pgroup_by_name(s, "g0"), "other@x.example", &ldap,
                    &err);
    CHECK(rc == LK_LIMIT, "an address found nowhere: LIMIT too (cannot tell)");
    str_reset(&err);
    rc = pgroup_has(s, pgroup_by_name(s, "wide"), "near@x.example", &ldap,
                    &err);
    CHECK(rc == LK_FOUND && err.len == 0,
          "a definite hit wins over a LIMIT elsewhere");
    str_free(&err);
    pgroup_set_free(s);
}

static void test_ldap(void)
{
    struct pgroup_set *s = pgroup_set_new();
    struct str err = STR_INIT;
    const char *who[] = {"z@x.example", "a@x.example"};

    pgroup_set_add_group(s, 1, "staff");
    add(s, 1, "ldap_group", "cn=staff");
    pgroup_set_add_group(s, 2, "flaky");
    add(s, 2, "ldap_group", "cn=down");
    add(s, 2, "group", "staff");
    pgroup_set_add_group(s, 3, "big");
    add(s, 3, "ldap_group", "cn=huge");
    pgroup_set_finish(s);
    calls = 0;
    CHECK(has(s, "staff", "A@x.example") == LK_FOUND,
          "LDAP member (asked lower-cased)");
    CHECK(calls == 1, "one LDAP question");
    CHECK(has(s, "staff", "b@x.example") == LK_NOTFOUND, "LDAP non-member");
    CHECK(has(s, "flaky", "a@x.example") == LK_FOUND,
          "TEMP in one branch, found in another: found");
    CHECK(has(s, "flaky", "b@x.example") == LK_TEMP,
          "TEMP and not found elsewhere: TEMP");
    CHECK(has(s, "big", "b@x.example") == LK_LIMIT, "LDAP LIMIT passes up");
    CHECK(pgroup_has(s, pgroup_by_name(s, "staff"), "a@x.example", NULL,
                     &err) == LK_TEMP,
          "no LDAP handler: TEMP, not 'not a member'");
    CHECK(pgroup_has_any(s, pgroup_by_name(s, "staff"), who, 2, &ldap,
                         &err) == LK_FOUND,
          "has_any: the second address is a member");
    CHECK(pgroup_has_any(s, pgroup_by_name(s, "staff"), who, 1, &ldap,
                         &err) == LK_NOTFOUND,
          "has_any: the first alone is not");
    str_free(&err);
    pgroup_set_free(s);
}

static void test_many_groups(void)
{
    struct pgroup_set *s = pgroup_set_new();
    char name[32], sub[32];

    /* more groups than the stack mark array holds: a wide tree */
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        pgroup_set_add_group(s, (unsigned long)i + 1, name);
    }
    for (int i = 1; i < 600; i++) {
        snprintf(sub, sizeof(sub), "m%d", i);
        add(s, 1, "group", sub);
    }
    add(s, 600, "address", "last@x.example");
    pgroup_set_finish(s);
    CHECK(has(s, "m0", "last@x.example") == LK_FOUND,
          "600 groups: found in the last");
    CHECK(has(s, "m0", "none@x.example") == LK_NOTFOUND,
          "600 groups: not found");
    pgroup_set_free(s);
}

/* members stored canonical: every spelling an admin writes meets the
   canonical address a daemon asks with */
static void test_canonical(void)
{
    struct pgroup_set *s = pgroup_set_new();
    struct aliasdom alias;

    aliasdom_init(&alias);
    aliasdom_add(&alias, "bns-schule.example", "bns.school.example");
    pgroup_set_canonical(s, "+", aliasdom_target, &alias);
    pgroup_set_add_group(s, 1, "young");
    add(s, 1, "address", "\"Tim.Klein\"@BNS-Schule.example.");
    add(s, 1, "address", "Lena+school@bns.school.example");
    add(s, 1, "domain", "Eltern-Alias.example.");
    add(s, 1, "domain", ".sub.example");
    aliasdom_add(&alias, "eltern-alias.example", "eltern.school.example");
    pgroup_set_finish(s);
    aliasdom_free(&alias); /* used only while members are added */
    CHECK(has(s, "young", "tim.klein@bns.school.example") == LK_FOUND,
          "a quoted, upper-case, alias-domain member with a root dot");
    CHECK(has(s, "young", "lena@bns.school.example") == LK_FOUND,
          "a member written with +extension");
    CHECK(has(s, "young", "x@eltern.school.example") == LK_NOTFOUND,
          "an alias added after the member was read does not count");
    CHECK(has(s, "young", "x@eltern-alias.example") == LK_FOUND,
          "... the member stays as written (lower case, no root dot)");
    CHECK(has(s, "young", "x@a.sub.example") == LK_FOUND,
          "a .suffix member is kept as written");
    pgroup_set_free(s);
}

/* nesting for rules: is one group inside another at any depth? */
static void test_nested_in(void)
{
    struct pgroup_set *s = pgroup_set_new();

    pgroup_set_add_group(s, 1, "all");
    pgroup_set_add_group(s, 2, "pupils");
    pgroup_set_add_group(s, 3, "young");
    pgroup_set_add_group(s, 4, "other");
    pgroup_set_add_group(s, 5, "loop");
    add(s, 1, "group", "pupils");
    add(s, 2, "group", "young");
    add(s, 3, "group", "loop");
    add(s, 5, "group", "young");
    pgroup_set_finish(s);
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 1), pgroup_by_id(s, 2)) == 1,
          "pupils is in all");
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 1), pgroup_by_id(s, 3)) == 1,
          "young is in all, two levels down");
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 3), pgroup_by_id(s, 1)) == 0,
          "all is not in young");
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 1), pgroup_by_id(s, 4)) == 0,
          "other is in nothing");
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 1), pgroup_by_id(s, 1)) == 0,
          "a group is not nested in itself");
    CHECK(pgroup_nested_in(s, pgroup_by_id(s, 3), pgroup_by_id(s, 5)) == 1,
          "a cycle ends");
    pgroup_set_free(s);
}

int main(void)
{
    test_canonical();
    test_nested_in();
    test_direct();
    test_nesting_cycles();
    test_limit();
    test_ldap();
    test_many_groups();
    return UNIT_END();
}
