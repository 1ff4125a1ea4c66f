/*
 * test_sieve_lists - postern-lda's extlists answers (lda/sieve_lists.c)
 * over a hand-built group snapshot: canonical addresses (case,
 * +extension, alias domains), domain and nested members, unknown lists,
 * the members redirect :list gets, ldap_group members (cannot tell), and
 * no database (a temporary failure, never "not a member").
 */
#include <string.h>

#include "sieve_lists.h"
#include "unit.h"

static void add(struct pgroup_set *s, unsigned long id, const char *type,
                const char *value)
{
    struct str err = STR_INIT;

    CHECK(pgroup_set_add_member(s, id, type, value, &err) == 0,
          "member %s %s added", type, value);
    str_free(&err);
}

static void build(struct sieve_lists *l)
{
    struct pgroup_set *s = pgroup_set_new();

    aliasdom_add(&l->alias, "old-school.example", "school.example");
    pgroup_set_canonical(s, "+", aliasdom_target, &l->alias);
    pgroup_set_add_group(s, 1, "parents");
    pgroup_set_add_group(s, 2, "parents-9a");
    pgroup_set_add_group(s, 3, "staff");
    pgroup_set_add_group(s, 4, "ldapg");
    add(s, 1, "address", "anna@home.example");
    add(s, 1, "domain", "parents.example");
    add(s, 1, "group", "parents-9a");
    add(s, 2, "address", "bert@elsewhere.example");
    add(s, 3, "address", "head@old-school.example");
    add(s, 3, "address", "deputy@school.example");
    add(s, 4, "address", "known@school.example");
    add(s, 4, "ldap_group", "cn=class,dc=example");
    pgroup_set_finish(s);
    l->groups = s;
    l->state = 1;
}

int main(void)
{
    struct lda_config cfg;
    struct lda_ctx ctx;
    struct sieve_lists l;
    struct sieve_host h;
    struct str out = STR_INIT;

    memset(&cfg, 0, sizeof(cfg));
    memset(&ctx, 0, sizeof(ctx));
    cfg.recipient_delimiter = (char *)"+";
    ctx.cfg = &cfg;

    /* no database: cannot tell */
    sieve_lists_init(&l, &ctx, "teacher@school.example");
    CHECK(sieve_lists_member(&l, "tag:parents", "anna@home.example") ==
              LK_TEMP, "no database: LK_TEMP, not 'no member'");
    CHECK(sieve_lists_valid(&l, "tag:parents") == LK_TEMP,
          "no database: valid_ext_list cannot tell");
    sieve_lists_free(&l);

    sieve_lists_init(&l, &ctx, "teacher@school.example");
    build(&l);
    memset(&h, 0, sizeof(h));
    sieve_lists_host(&l, &h);
    CHECK(h.list_member == sieve_lists_member && h.list_ctx == &l,
          "host callbacks set");
    CHECK(sieve_lists_member(&l, "tag:parents", "anna@home.example") ==
              LK_FOUND, "address member");
    CHECK(sieve_lists_member(&l, "TAG:Parents", "ANNA+school@Home.Example") ==
              LK_FOUND, "canonical: case, +extension; list name any case");
    CHECK(sieve_lists_member(&l, "tag:parents", "\"anna\"@home.example") ==
              LK_FOUND, "canonical: quoted local part");
    CHECK(sieve_lists_member(&l, "tag:parents", "eve@home.example") ==
              LK_NOTFOUND, "non-member");
    CHECK(sieve_lists_member(&l, "tag:parents", "carla@parents.example") ==
              LK_FOUND, "domain member");
    CHECK(sieve_lists_member(&l, "tag:parents", "x@sub.parents.example") ==
              LK_NOTFOUND, "a subdomain is not the domain");
    CHECK(sieve_lists_member(&l, "tag:parents", "bert@elsewhere.example") ==
              LK_FOUND, "member of a nested group");
    CHECK(sieve_lists_member(&l, "tag:staff", "head@school.example") ==
              LK_FOUND, "a member written with an alias domain");
    CHECK(sieve_lists_member(&l, "tag:staff", "deputy@old-school.example") ==
              LK_FOUND, "a value with an alias domain");
    CHECK(sieve_lists_member(&l, "tag:parents", "homework") == LK_NOTFOUND,
          "a value that is no address is no member");
    CHECK(sieve_lists_member(&l, "tag:nosuch", "anna@home.example") ==
              LK_NOTFOUND, "unknown list: no member");
    CHECK(sieve_lists_member(&l, "parents", "anna@home.example") ==
              LK_NOTFOUND, "a name without tag: is no list");
    CHECK(sieve_lists_member(&l, "tag:ldapg", "known@school.example") ==
              LK_FOUND, "ldap group: an address member is found");
    CHECK(sieve_lists_member(&l, "tag:ldapg", "other@school.example") ==
              LK_TEMP, "ldap group: otherwise cannot tell (LK_TEMP)");

    CHECK(sieve_lists_valid(&l, "tag:staff") == LK_FOUND, "valid: staff");
    CHECK(sieve_lists_valid(&l, "tag:nosuch") == LK_NOTFOUND,
          "valid: unknown group");

    CHECK(sieve_lists_members(&l, "tag:staff", &out, 4) == LK_FOUND,
          "members of staff");
    CHECK(strstr(str_cstr(&out), "head@school.example\n") != NULL &&
              strstr(str_cstr(&out), "deputy@school.example\n") != NULL &&
              out.len == strlen("head@school.example\n"
                                "deputy@school.example\n"),
          "members: both staff addresses, canonical, once each");
    str_reset(&out);
    CHECK(sieve_lists_members(&l, "tag:staff", &out, 1) == LK_LIMIT &&
              out.len == 0, "members over max: LK_LIMIT, nothing");
    CHECK(sieve_lists_members(&l, "tag:parents", &out, 4) == LK_LIMIT,
          "members of a group with a domain member: LK_LIMIT");
    CHECK(sieve_lists_members(&l, "tag:ldapg", &out, 4) == LK_LIMIT,
          "members of a group with an LDAP member: LK_LIMIT");
    CHECK(sieve_lists_members(&l, "tag:nosuch", &out, 4) == LK_NOTFOUND,
          "members of an unknown group: LK_NOTFOUND");
    str_free(&out);
    sieve_lists_free(&l);
    return UNIT_END();
}
