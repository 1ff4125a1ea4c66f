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
#include <time.h>

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
    /* a uid two entries answer; member DNs spelt otherwise than the
       directory does, with an escape, below a parent that does not exist */
    {"cn=twins,ou=groups,dc=x",
     {"objectClass", "posixGroup", "memberUid", "anna", "memberUid", "twin",
      NULL}},
    {"cn=spelt,ou=groups,dc=x",
     {"objectClass", "groupOfNames", "member", "uid=carl,ou=people,dc=x",
      "member", "UID=Ben, OU=People, DC=X", "member",
      "cn=a\\,b,ou=people,dc=x", "member", "uid=x,ou=nowhere,dc=x",
      NULL}},
    /* the changing group cn=mut (synthetic) inside a group */
    {"cn=outer,ou=groups,dc=x",
     {"objectClass", "groupOfNames", "member", "cn=mut,ou=groups,dc=x",
      "member", "uid=ben,ou=people,dc=x", NULL}},
};

#define NDIR (sizeof(dir) / sizeof(dir[0]))
#define DEEP 12     /* cn=dN: a chain dN -> dN+1, the last has carl */
#define HUGE_N (LDAPGROUP_MEMBERS_MAX + 1)
#define FEW_N 1200  /* the children of ou=few: uid=u0 .. uid=u1199 */

struct fake {
    int down;
    unsigned long searches;
    unsigned long batches;      /* searches with an OR of several terms */
    size_t terms_max;           /* the most terms in one search */
};

static struct fake fake;

/* the mutable group cn=mut,ou=groups,dc=x: its members uid=uN,ou=many for
   the N in mut_members, its entryCSN "mut-<mut_gen>" */
static int mut_members[8] = {1, 2, -1};
static int mut_gen = 1;

static int wanted(const char *const *attrs, const char *name)
{
    for (size_t i = 0; attrs && attrs[i]; i++)
        if (!strcasecmp(attrs[i], name))
            return 1;
    return 0;
}

/* stamp - every entry has an entryCSN: "csn-DN" (never changes) */
static void stamp(const char *dn, const char *const *attrs, ldapc_entry_fn fn,
                  void *ctx)
{
    char buf[160];

    if (wanted(attrs, "entryCSN")) {
        snprintf(buf, sizeof(buf), "csn-%s", dn);
        fn(ctx, dn, "entryCSN", buf, strlen(buf));
    }
}

static int send_entry(const struct fentry *e, const char *const *attrs,
                      ldapc_entry_fn fn, void *ctx)
{
    fn(ctx, e->dn, NULL, NULL, 0);
    for (size_t i = 0; e->attrs[i]; i += 2)
        if (wanted(attrs, e->attrs[i]))
            fn(ctx, e->dn, e->attrs[i], e->attrs[i + 1],
               strlen(e->attrs[i + 1]));
    stamp(e->dn, attrs, fn, ctx);
    return LK_FOUND;
}

/* synthetic entries: cn=dN,ou=deep (a chain), cn=huge (HUGE_N members
   uid=uN,ou=many, each with uid uN and mail uN@many.example), cn=kN,ou=many
   (N members uid=uN,ou=many), cn=pN,ou=many (a posixGroup: N memberUid
   uN), cn=mut,ou=groups,dc=x (see mut_members) */
static int synth(const char *base, const char *const *attrs,
                 ldapc_entry_fn fn, void *ctx)
{
    char buf[128];
    int n, k = 0;

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
        stamp(base, attrs, fn, ctx);
        return LK_FOUND;
    }
    if (!strcmp(base, "cn=huge,ou=many") ||
        sscanf(base, "cn=k%d,ou=many%n", &n, &k) == 1 ||
        sscanf(base, "cn=f%d,ou=many%n", &n, &k) == 1 ||
        sscanf(base, "cn=p%d,ou=many%n", &n, &k) == 1) {
        int posix = base[3] == 'p';
        const char *ou = base[3] == 'f' ? "few" : "many";
        if (k == 0)
            n = HUGE_N;
        else if ((size_t)k != strlen(base))
            return LK_NOTFOUND;
        fn(ctx, base, NULL, NULL, 0);
        for (int i = 0; i < n; i++) {
            const char *a = posix ? "memberUid" : "uniqueMember";
            if (!wanted(attrs, a))
                break;
            if (posix)
                snprintf(buf, sizeof(buf), "u%d", i);
            else
                snprintf(buf, sizeof(buf), "uid=u%d,ou=%s", i, ou);
            fn(ctx, base, a, buf, strlen(buf));
        }
        stamp(base, attrs, fn, ctx);
        return LK_FOUND;
    }
    if (!strcmp(base, "cn=mut,ou=groups,dc=x")) {
        fn(ctx, base, NULL, NULL, 0);
        for (int i = 0; mut_members[i] >= 0; i++) {
            snprintf(buf, sizeof(buf), "uid=u%d,ou=many", mut_members[i]);
            if (wanted(attrs, "uniqueMember"))
                fn(ctx, base, "uniqueMember", buf, strlen(buf));
        }
        snprintf(buf, sizeof(buf), "mut-%d", mut_gen);
        if (wanted(attrs, "entryCSN"))
            fn(ctx, base, "entryCSN", buf, strlen(buf));
        return LK_FOUND;
    }
    if (((sscanf(base, "uid=u%d,ou=many%n", &n, &k) == 1 &&
          (size_t)k == strlen(base)) ||
         (sscanf(base, "uid=u%d,ou=few%n", &n, &k) == 1 &&
          (size_t)k == strlen(base) && n < FEW_N))) {
        fn(ctx, base, NULL, NULL, 0);
        snprintf(buf, sizeof(buf), "u%d@many.example", n);
        if (wanted(attrs, "mailPrimaryAddress"))
            fn(ctx, base, "mailPrimaryAddress", buf, strlen(buf));
        snprintf(buf, sizeof(buf), "u%d", n);
        if (wanted(attrs, "uid"))
            fn(ctx, base, "uid", buf, strlen(buf));
        stamp(base, attrs, fn, ctx);
        return LK_FOUND;
    }
    return LK_NOTFOUND;
}

/* by_dn - the entry at dn (case-insensitive), sent to fn; LK_* */
static int by_dn(const char *dn, const char *const *attrs, ldapc_entry_fn fn,
                 void *ctx)
{
    for (size_t i = 0; i < NDIR; i++)
        if (!strcasecmp(dir[i].dn, dn))
            return send_entry(&dir[i], attrs, fn, ctx);
    return synth(dn, attrs, fn, ctx);
}

static int count_cb(void *ctx, const char *dn, const char *attr,
                    const char *value, size_t len)
{
    (void)dn, (void)value, (void)len;
    if (attr == NULL)
        ++*(size_t *)ctx;
    return 0;
}

#define TERMS_MAX 1024
static char term_attr[TERMS_MAX][64], term_value[TERMS_MAX][256];

/* terms - "(a=v)" or "(|(a=v)(a=v)...)" into term_attr/term_value;
   their number, or -1 for any other filter */
static int terms(const char *filter)
{
    const char *p = filter;
    int n = 0, len, or = !strncmp(filter, "(|", 2);

    if (or)
        p += 2;
    while (*p == '(' && n < TERMS_MAX) {
        if (sscanf(p, "(%63[^=()]=%255[^)])%n", term_attr[n], term_value[n],
                   &len) != 2)
            return -1;
        p += len;
        n++;
    }
    if (n == 0 || (or ? strcmp(p, ")") != 0 : *p != '\0') || (!or && n != 1))
        return -1;
    return n;
}

static int fake_search(void *ctx, const char *base, int scope,
                       const char *filter, const char *const *attrs,
                       size_t max_entries, ldapc_entry_fn fn, void *fnctx,
                       struct str *err)
{
    struct fake *f = ctx;
    struct str dn = STR_INIT;
    char udn[64];
    const struct fentry *hits[NDIR];
    size_t nhits = 0, nsynth = 0;
    int n, u;

    f->searches++;
    if (f->down)
        return str_appendf(err, "fake: server down"), LK_TEMP;
    if (scope == LDAPC_SCOPE_BASE)
        return by_dn(base, attrs, fn, fnctx);
    if ((n = terms(filter)) < 0)
        return str_appendf(err, "fake: bad filter %s", filter), LK_TEMP;
    f->batches += n > 1;
    if ((size_t)n > f->terms_max)
        f->terms_max = (size_t)n;
    if (scope == LDAPC_SCOPE_ONE && !strcmp(filter, "(objectClass=*)")) {
        /* all the children: ou=few's, ou=many's (too many), dir's */
        const char *comma;
        if (!strcasecmp(base, "ou=many") ||
            (!strcasecmp(base, "ou=few") && FEW_N > max_entries))
            return str_appendf(err, "fake: size limit exceeded"), LK_TEMP;
        if (!strcasecmp(base, "ou=few")) {
            for (int i = 0; i < FEW_N; i++) {
                snprintf(udn, sizeof(udn), "uid=u%d,ou=few", i);
                synth(udn, attrs, fn, fnctx);
            }
            return LK_FOUND;
        }
        for (size_t i = 0; i < NDIR; i++)
            if ((comma = strchr(dir[i].dn, ',')) != NULL &&
                !strcasecmp(comma + 1, base))
                hits[nhits++] = &dir[i];
        if (nhits > max_entries)
            return str_appendf(err, "fake: size limit exceeded"), LK_TEMP;
        for (size_t i = 0; i < nhits; i++)
            send_entry(hits[i], attrs, fn, fnctx);
        return nhits ? LK_FOUND : LK_NOTFOUND;
    }
    if (scope == LDAPC_SCOPE_ONE) {
        /* an OR of RDNs below base: the entries at "RDN,base" */
        for (int t = 0; t < n; t++) {
            str_reset(&dn);
            str_appendf(&dn, "%s=%s,%s", term_attr[t], term_value[t], base);
            if (by_dn(str_cstr(&dn), NULL, count_cb, &nsynth) == LK_FOUND &&
                nsynth > max_entries)
                return str_free(&dn), str_appendf(err, "fake: more than %zu "
                                   "entries", max_entries), LK_TEMP;
        }
        for (int t = 0; t < n; t++) {
            str_reset(&dn);
            str_appendf(&dn, "%s=%s,%s", term_attr[t], term_value[t], base);
            by_dn(str_cstr(&dn), attrs, fn, fnctx);
        }
        str_free(&dn);
        return nsynth ? LK_FOUND : LK_NOTFOUND;
    }
    for (size_t i = 0; i < NDIR; i++)
        for (size_t j = 0; dir[i].attrs[j]; j += 2) {
            int match = 0;
            for (int t = 0; t < n && !match; t++)
                match = !strcasecmp(dir[i].attrs[j], term_attr[t]) &&
                        !strcasecmp(dir[i].attrs[j + 1], term_value[t]);
            if (match) {
                hits[nhits++] = &dir[i];
                break;
            }
        }
    /* uid=uN: the synthetic users below ou=many */
    for (int t = 0; t < n; t++)
        if (!strcasecmp(term_attr[t], "uid") &&
            sscanf(term_value[t], "u%d", &u) == 1)
            nsynth++;
    if (nhits + nsynth > max_entries)
        return str_appendf(err, "fake: more than %zu entries", max_entries),
               LK_TEMP;
    for (size_t i = 0; i < nhits; i++)
        send_entry(hits[i], attrs, fn, fnctx);
    for (int t = 0; t < n; t++)
        if (!strcasecmp(term_attr[t], "uid") &&
            sscanf(term_value[t], "u%d", &u) == 1) {
            snprintf(udn, sizeof(udn), "uid=u%d,ou=many", u);
            synth(udn, attrs, fn, fnctx);
        }
    return nhits + nsynth ? LK_FOUND : LK_NOTFOUND;
}

/* --- helpers ------------------------------------------------------------ */

static const struct ldapgroup_backend be = {fake_search, &fake};

static long long check_ms; /* [ldap] group_check_interval of make() */

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
    c.check_interval = check_ms;
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
    CHECK(fake.searches - before == 4, "cache_ttl 0: no cache (%lu searches: "
          "the group, its two members in one batch; twice)",
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

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* members read in batches: few searches, the same outcomes */
static void test_batches(void)
{
    struct ldapgroup *g = make("uniqueMember", "mailPrimaryAddress, mail", 10,
                               60000);
    struct strvec out = STRVEC_INIT;
    struct str err = STR_INIT;
    struct ldapgroup_stats st;
    unsigned long before = fake.searches;
    int rc;

    fake.terms_max = 0;
    rc = ldapgroup_expand(g, &be, "cn=k1000,ou=many", &out, &err);
    CHECK(rc == LK_FOUND && out.n == 1000 && !strcmp(out.v[0],
                                                     "u0@many.example") &&
              !strcmp(out.v[999], "u999@many.example"),
          "a 1,000-member group: 1,000 addresses in member order (%s)",
          str_cstr(&err));
    CHECK(fake.searches - before <= 12,
          "... read with %lu searches (the group, the container's children "
          "over the limit, 10 batches), not 1,001", fake.searches - before);
    CHECK(fake.terms_max <= LDAPGROUP_BATCH_MAX && fake.terms_max >= 2,
          "at most %d members per search (%zu)", LDAPGROUP_BATCH_MAX,
          fake.terms_max);
    strvec_free(&out);
    before = fake.searches;
    rc = ldapgroup_expand(g, &be, "cn=f1000,ou=many", &out, &err);
    CHECK(rc == LK_FOUND && out.n == 1000 && !strcmp(out.v[999],
                                                     "u999@many.example"),
          "1,000 members of a container of %d: 1,000 addresses", FEW_N);
    CHECK(fake.searches - before == 2,
          "... with 2 searches: the group, its members' container (%lu)",
          fake.searches - before);
    strvec_free(&out);
    ldapgroup_free(g);

    g = make("memberUid", "mailPrimaryAddress", 10, 60000);
    before = fake.searches;
    rc = ldapgroup_expand(g, &be, "cn=p1000,ou=many", &out, &err);
    CHECK(rc == LK_FOUND && out.n == 1000,
          "a posixGroup of 1,000 memberUid values: 1,000 addresses (%zu)",
          out.n);
    CHECK(fake.searches - before <= 11, "... with %lu searches",
          fake.searches - before);
    strvec_free(&out);
    str_reset(&err);
    CHECK(ldapgroup_expand(g, &be, "cn=twins,ou=groups,dc=x", &out, &err) ==
              LK_TEMP,
          "a memberUid two entries answer: TEMP, as when read alone (%s)",
          str_cstr(&err));
    strvec_free(&out);
    ldapgroup_free(g);

    g = make("member", "mailPrimaryAddress, mail", 10, 60000);
    ldapgroup_stats(g, &st);
    CHECK_STR(joined(g, "cn=spelt,ou=groups,dc=x"),
              "carl@x.example ben@x.example",
              "a DN spelt with other case and blanks is matched; a DN with "
              "an escape is read alone");
    {
        struct ldapgroup_stats st2;
        ldapgroup_stats(g, &st2);
        CHECK(st2.missing - st.missing == 2,
              "the escaped DN and the one below a missing parent: missing "
              "(%llu)", st2.missing - st.missing);
    }
    ldapgroup_free(g);
    str_free(&err);
}

/* a change in the directory is seen at the next check, not at cache_ttl */
static void test_fresh(void)
{
    struct ldapgroup *g;
    struct ldapgroup_stats st;
    unsigned long before;

    check_ms = 50;
    g = make("uniqueMember, member", "mailPrimaryAddress, mail", 10, 60000);
    mut_members[0] = 1, mut_members[1] = 2, mut_members[2] = -1;
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u2@many.example", "the group as it is");
    CHECK_STR(joined(g, "cn=outer,ou=groups,dc=x"),
              "u1@many.example u2@many.example ben@x.example",
              "... and nested in another");
    mut_members[1] = 3;
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u2@many.example",
              "changed without a new entryCSN, before the check: cached");
    sleep_ms(80);
    before = fake.searches;
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u2@many.example",
              "after group_check_interval, the same entryCSN: still cached");
    ldapgroup_stats(g, &st);
    CHECK(fake.searches - before == 1 && st.checks >= 1,
          "the check was one search (%lu)", fake.searches - before);
    mut_gen++;
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u2@many.example",
              "a new entryCSN within the interval: not seen yet");
    sleep_ms(80);
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u3@many.example",
              "a new entryCSN: seen at the next check, cache_ttl is 60 s");
    CHECK_STR(joined(g, "cn=outer,ou=groups,dc=x"),
              "u1@many.example u3@many.example ben@x.example",
              "... also through the group it is nested in");
    mut_gen++;
    mut_members[1] = 2;
    sleep_ms(80);
    fake.down = 1;
    CHECK_STR(joined(g, "cn=outer,ou=groups,dc=x"),
              "u1@many.example u3@many.example ben@x.example",
              "LDAP down at the check: the cached answer serves (within "
              "cache_ttl), no TEMP");
    fake.down = 0;
    sleep_ms(80);
    CHECK_STR(joined(g, "cn=outer,ou=groups,dc=x"),
              "u1@many.example u2@many.example ben@x.example",
              "LDAP back: the change is seen");
    ldapgroup_free(g);

    /* refresh ahead of expiry: a 200 ms TTL, asked at 180 ms */
    check_ms = 0;
    g = make("uniqueMember, member", "mailPrimaryAddress, mail", 10, 200);
    joined(g, "cn=mut,ou=groups,dc=x");
    mut_members[1] = 4;
    sleep_ms(180);
    CHECK_STR(joined(g, "cn=mut,ou=groups,dc=x"),
              "u1@many.example u4@many.example",
              "past 3/4 of cache_ttl: refreshed by the caller");
    ldapgroup_stats(g, &st);
    CHECK(st.refreshes == 1 && st.loads == 2,
          "one refresh ahead of expiry (refreshes %llu, loads %llu)",
          st.refreshes, st.loads);
    ldapgroup_free(g);
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
    test_batches();
    test_fresh();
    return UNIT_END();
}
