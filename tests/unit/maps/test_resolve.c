/*
 * test_resolve - the routing semantics of postern-maps (maps/resolve.c),
 * table-driven over a snapshot built by hand (snapshot_new /
 * snapshot_add_row, the loader's own indexing) instead of MariaDB: every
 * map name x found / not found / temporary failure, alias domains and an
 * alias-domain chain up to and past ADDR_ALIAS_DOMAIN_DEPTH, +extensions,
 * catch-alls that do not swallow existing mailboxes, case, the migration
 * switch, the relayhost default, and replies over MAPS_MAX_REPLY.
 *
 * Not here: TEMP for a missing or stale snapshot is answered by
 * maps/proto.c before maps_lookup is called, on a server connection; the
 * integration suites (maps.sh) cover it against a stopped database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "snaptest.h"
#include "unit.h"


#define MAILDIR_ALICE "vol1/ab/abcd/alice@example.org"
#define SMARTHOST "smtp:[smarthost.example]:587"
#define LDA "lmtp:unix:private/postern-lda"
#define LEGACY_DEFAULT "smtp:[legacy-default.example]"
#define RH_DEFAULT "[relay.provider.example]:587"

/* the routing data of a small ISP with one school-style alias domain */
static struct snapshot *snap_full(void)
{
    struct snapshot *s = snapshot_new();

    /* name, kind, alias_target, transport, legacy_transport, relayhost */
    ROW(s, SNAP_DOMAINS, "example.org", "local", NULL, NULL, NULL, NULL);
    ROW(s, SNAP_DOMAINS, "ALIAS.Example", "alias", "Example.ORG", NULL, NULL,
        NULL);
    /* hopN.example reaches example.org after N alias hops */
    ROW(s, SNAP_DOMAINS, "hop1.example", "alias", "example.org");
    ROW(s, SNAP_DOMAINS, "hop2.example", "alias", "hop1.example");
    ROW(s, SNAP_DOMAINS, "hop3.example", "alias", "hop2.example");
    ROW(s, SNAP_DOMAINS, "hop4.example", "alias", "hop3.example");
    ROW(s, SNAP_DOMAINS, "hop5.example", "alias", "hop4.example");
    ROW(s, SNAP_DOMAINS, "loop-a.example", "alias", "loop-b.example");
    ROW(s, SNAP_DOMAINS, "loop-b.example", "alias", "loop-a.example");
    ROW(s, SNAP_DOMAINS, "relay.example", "relay");
    ROW(s, SNAP_DOMAINS, "legacy.example", "legacy", NULL, NULL,
        "smtp:[old-store.legacy.example]");
    ROW(s, SNAP_DOMAINS, "migrate.example", "local");
    ROW(s, SNAP_DOMAINS, "mixed.example", "local", NULL, "smtp:[mixed-mx]");
    ROW(s, SNAP_DOMAINS, "local2.example", "local");
    ROW(s, SNAP_DOMAINS, "rh.example", "local", NULL, NULL, NULL,
        "[rh-column.example]:25");
    ROW(s, SNAP_DOMAINS, "empty.example", "local", NULL, "", "", "");

    /* address, maildir, migration_state, transport, relayhost */
    ROW(s, SNAP_MAILBOXES, "alice@example.org", MAILDIR_ALICE, "migrated");
    ROW(s, SNAP_MAILBOXES, "bob@example.org", "vol2/cd/cdef/bob@example.org",
        "migrated", "lmtp:unix:private/bob", "[bob-relay.example]:587");
    ROW(s, SNAP_MAILBOXES, "carol@example.org", "vol1/ef/carol@example.org",
        "legacy");
    ROW(s, SNAP_MAILBOXES, "Mixed.Case@Example.ORG", "vol3/mixed", "migrated");
    ROW(s, SNAP_MAILBOXES, "dave@migrate.example", "vol1/da/dave", "legacy");
    ROW(s, SNAP_MAILBOXES, "eve@migrate.example", "vol1/ev/eve", "migrated");
    ROW(s, SNAP_MAILBOXES, "sales@example.org", "vol1/sa/sales", "migrated");

    /* source, target, keep_copy */
    ROW(s, SNAP_ALIASES, "info@example.org", "Alice@Example.ORG", "0");
    ROW(s, SNAP_ALIASES, "team@example.org", "alice@example.org", "0");
    ROW(s, SNAP_ALIASES, "team@example.org", "bob@example.org", "0");
    ROW(s, SNAP_ALIASES, "fwd@example.org", "someone@remote.example", "0");
    ROW(s, SNAP_ALIASES, "bob@example.org", "bob@elsewhere.example", "1");
    ROW(s, SNAP_ALIASES, "alice+list@example.org", "list@remote.example", "0");
    ROW(s, SNAP_ALIASES, "@example.org", "catchall@example.org", "0");
    ROW(s, SNAP_ALIASES, "Upper@Example.Org", "bob@example.org", "0");

    /* match_type, pattern, purpose, transport */
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", SMARTHOST);
    ROW(s, SNAP_TRANSPORTS, "default", "", "local", LDA);
    ROW(s, SNAP_TRANSPORTS, "default", "", "legacy", LEGACY_DEFAULT);
    ROW(s, SNAP_TRANSPORTS, "address", "special@example.org", "delivery",
        "smtp:[special-host]");
    ROW(s, SNAP_TRANSPORTS, "domain", "remote.example", "delivery",
        "smtp:[remote-mx]");
    ROW(s, SNAP_TRANSPORTS, "domain", ".sub.example", "delivery",
        "smtp:[sub-mx]");
    ROW(s, SNAP_TRANSPORTS, "domain", "migrate.example", "legacy",
        "smtp:[migrate-legacy]");
    ROW(s, SNAP_TRANSPORTS, "domain", "local2.example", "local",
        "lmtp:[other-lda]:24");

    /* match_type, pattern, nexthop */
    ROW(s, SNAP_RELAYHOSTS, "default", "", RH_DEFAULT);
    ROW(s, SNAP_RELAYHOSTS, "address", "sales@example.org", "[sales-relay]:25");
    ROW(s, SNAP_RELAYHOSTS, "domain", "mixed.example", "[mixed-relay]:587");

    /* login, match_type, pattern */
    ROW(s, SNAP_GRANTS, "admin@example.org", "address", "noreply@example.org");
    ROW(s, SNAP_GRANTS, "Helpdesk", "domain", "example.org");
    ROW(s, SNAP_GRANTS, "alice@example.org", "domain", "example.org");
    snapshot_done(s);
    return s;
}

struct rcase {
    const char *map, *key;
    int rc;
    const char *want; /* LK_FOUND: the value; LK_TEMP: a substring */
};

#define F(m, k, v) {m, k, LK_FOUND, v}
#define N(m, k) {m, k, LK_NOTFOUND, NULL}
#define T(m, k, why) {m, k, LK_TEMP, why}

static const struct rcase full_cases[] = {
    /* domain: every kind, case, trailing dot, catch-all key */
    F("domain", "example.org", "local"),
    F("domain", "EXAMPLE.Org", "local"),
    F("domain", "example.org.", "local"),
    F("mailbox", "alice@example.org.", MAILDIR_ALICE),
    F("alias", "@example.org.", "catchall@example.org"),
    F("domain", "alias.example", "alias"),
    F("domain", "relay.example", "relay"),
    F("domain", "legacy.example", "legacy"),
    F("domain", "@example.org", "local"),
    N("domain", "nowhere.example"),
    N("domain", "sub.example.org"),
    N("domain", "not a domain"),
    /* mailboxdomain: local and alias domains only */
    F("mailboxdomain", "example.org", "local"),
    F("mailboxdomain", "alias.example", "alias"),
    N("mailboxdomain", "relay.example"),
    N("mailboxdomain", "legacy.example"),
    N("mailboxdomain", "alice@example.org"),
    N("mailboxdomain", "nowhere.example"),
    /* relaydomain: relay and legacy domains only */
    F("relaydomain", "relay.example", "relay"),
    F("relaydomain", "legacy.example", "legacy"),
    N("relaydomain", "example.org"),
    N("relaydomain", "alias.example"),
    N("relaydomain", "nowhere.example"),
    /* mailbox: case, extension, alias domains up to the depth limit */
    F("mailbox", "alice@example.org", MAILDIR_ALICE),
    F("mailbox", "ALICE@Example.ORG", MAILDIR_ALICE),
    F("mailbox", "alice+anything@example.org", MAILDIR_ALICE),
    F("mailbox", "mixed.case@example.org", "vol3/mixed"),
    F("mailbox", "alice@alias.example", MAILDIR_ALICE),
    F("mailbox", "alice@hop1.example", MAILDIR_ALICE),
    F("mailbox", "alice@hop4.example", MAILDIR_ALICE),
    N("mailbox", "alice@hop5.example"),
    N("mailbox", "alice@loop-a.example"),
    N("mailbox", "nobody@example.org"),
    N("mailbox", "info@example.org"),
    N("mailbox", "example.org"),
    N("mailbox", "@example.org"),
    N("mailbox", "alice@nowhere.example"),
    N("mailbox", "alice@@example.org"),
    /* maildir: the same lookup, the derived path */
    F("maildir", "alice@example.org", MAILDIR_ALICE),
    F("maildir", "Alice+x@Alias.Example", MAILDIR_ALICE),
    F("maildir", "bob@example.org", "vol2/cd/cdef/bob@example.org"),
    N("maildir", "nobody@example.org"),
    N("maildir", "alice@hop5.example"),
    /* alias: explicit aliases, lists, forwards with a copy, extensions */
    F("alias", "info@example.org", "alice@example.org"),
    F("alias", "INFO@example.org", "alice@example.org"),
    F("alias", "team@example.org", "alice@example.org,bob@example.org"),
    F("alias", "fwd@example.org", "someone@remote.example"),
    F("alias", "bob@example.org", "bob@elsewhere.example,bob@example.org"),
    F("alias", "upper@example.org", "bob@example.org"),
    F("alias", "alice+list@example.org", "list@remote.example"),
    F("alias", "info+x@example.org", "alice@example.org"),
    /* an existing mailbox maps to itself: the catch-all never takes it */
    F("alias", "alice@example.org", "alice@example.org"),
    F("alias", "Alice@Example.Org", "alice@example.org"),
    F("alias", "alice+other@example.org", "alice+other@example.org"),
    F("alias", "eve@migrate.example", "eve@migrate.example"),
    /* the catch-all for everything else in its domain */
    F("alias", "nobody@example.org", "catchall@example.org"),
    F("alias", "@example.org", "catchall@example.org"),
    N("alias", "nobody@migrate.example"),
    N("alias", "@migrate.example"),
    N("alias", "nobody@relay.example"),
    N("alias", "x@nowhere.example"),
    N("alias", "example.org"),
    /* alias domains rewrite to the target where the target resolves */
    F("alias", "alice@alias.example", "alice@example.org"),
    F("alias", "info@alias.example", "info@example.org"),
    F("alias", "alice+x@alias.example", "alice+x@example.org"),
    F("alias", "nobody@alias.example", "nobody@example.org"),
    F("alias", "alice@hop4.example", "alice@example.org"),
    N("alias", "alice@hop5.example"),
    N("alias", "alice@loop-b.example"),
    N("alias", "@alias.example"),
    /* transport: address row, mailbox override, migration switch, domain
       rows (".parent" = subdomains only), domain column, by kind */
    F("transport", "special@example.org", "smtp:[special-host]"),
    F("transport", "special+x@example.org", "smtp:[special-host]"),
    F("transport", "bob@example.org", "lmtp:unix:private/bob"),
    F("transport", "carol@example.org", LEGACY_DEFAULT),
    F("transport", "dave@migrate.example", "smtp:[migrate-legacy]"),
    F("transport", "eve@migrate.example", LDA),
    F("transport", "alice@example.org", LDA),
    F("transport", "ALICE@EXAMPLE.ORG", LDA),
    F("transport", "nobody@example.org", LDA),
    F("transport", "example.org", LDA),
    F("transport", "alice@alias.example", LDA),
    F("transport", "x@remote.example", "smtp:[remote-mx]"),
    F("transport", "x@a.sub.example", "smtp:[sub-mx]"),
    F("transport", "x@b.a.sub.example", "smtp:[sub-mx]"),
    F("transport", "x@sub.example", SMARTHOST),
    F("transport", "x@nowhere.example", SMARTHOST),
    F("transport", "x@legacy.example", "smtp:[old-store.legacy.example]"),
    F("transport", "x@mixed.example", "smtp:[mixed-mx]"),
    F("transport", "x@local2.example", "lmtp:[other-lda]:24"),
    F("transport", "x@empty.example", LDA),
    N("transport", "x@relay.example"),
    N("transport", "@example.org"),
    F("transport", "nowhere", SMARTHOST),
    N("transport", "not a key"),
    /* relayhost: address row, mailbox, domain row, domain column, default */
    F("relayhost", "<>", RH_DEFAULT),
    F("relayhost", "sales@example.org", "[sales-relay]:25"),
    F("relayhost", "Sales+x@Example.org", "[sales-relay]:25"),
    F("relayhost", "bob@example.org", "[bob-relay.example]:587"),
    F("relayhost", "bob@alias.example", "[bob-relay.example]:587"),
    F("relayhost", "x@mixed.example", "[mixed-relay]:587"),
    F("relayhost", "x@rh.example", "[rh-column.example]:25"),
    F("relayhost", "alice@example.org", RH_DEFAULT),
    F("relayhost", "x@empty.example", RH_DEFAULT),
    F("relayhost", "x@nowhere.example", RH_DEFAULT),
    F("relayhost", "example.org", RH_DEFAULT),
    N("relayhost", ""),
    /* senderlogin: the mailbox, the owner of a one-target alias, grants;
       no duplicates */
    F("senderlogin", "alice@example.org", "alice@example.org,helpdesk"),
    F("senderlogin", "Alice+x@Example.org", "alice@example.org,helpdesk"),
    F("senderlogin", "info@example.org", "alice@example.org,helpdesk"),
    F("senderlogin", "team@example.org", "helpdesk,alice@example.org"),
    F("senderlogin", "noreply@example.org",
      "admin@example.org,helpdesk,alice@example.org"),
    F("senderlogin", "alice@alias.example", "alice@example.org"),
    F("senderlogin", "info@alias.example", "alice@example.org"),
    F("senderlogin", "@example.org", "helpdesk,alice@example.org"),
    F("senderlogin", "eve@migrate.example", "eve@migrate.example"),
    N("senderlogin", "x@migrate.example"),
    N("senderlogin", "x@remote.example"),
    N("senderlogin", "example.org"),
};

static void run(const struct snapshot *s, const char *delims,
                const struct rcase *k, const char *label)
{
    struct str out = STR_INIT;
    int rc = maps_lookup(s, delims, k->map, k->key, strlen(k->key), &out);

    CHECK(rc == k->rc, "%s: %s %s -> %s (want %s)", label, k->map, k->key,
          lookup_name(rc), lookup_name(k->rc));
    if (rc == k->rc && rc == LK_FOUND)
        CHECK_STR(str_cstr(&out), k->want, "%s: %s %s value", label, k->map,
                  k->key);
    if (rc == k->rc && rc == LK_TEMP)
        CHECK(strstr(str_cstr(&out), k->want) != NULL,
              "%s: %s %s reason: %s", label, k->map, k->key, str_cstr(&out));
    str_free(&out);
}

#define RUN_ALL(s, d, cases, label)                                            \
    for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++)          \
    run((s), (d), &(cases)[i_], (label))

/* another recipient_delimiter set: "-" as well as "+" */
static const struct rcase delim_cases[] = {
    F("mailbox", "alice-foo@example.org", MAILDIR_ALICE),
    F("mailbox", "alice+foo@example.org", MAILDIR_ALICE),
    F("alias", "alice-other@example.org", "alice-other@example.org"),
    F("alias", "info-x@example.org", "alice@example.org"),
};

/* no extension stripping at all */
static const struct rcase nodelim_cases[] = {
    N("mailbox", "alice+foo@example.org"),
    F("mailbox", "alice@example.org", MAILDIR_ALICE),
    F("alias", "alice+list@example.org", "list@remote.example"),
    F("alias", "alice+foo@example.org", "catchall@example.org"),
};

/* a snapshot without default routes: the migration switch has nowhere to
   send a legacy mailbox (TEMP, the mail waits), and no default relayhost */
static const struct rcase bare_cases[] = {
    T("transport", "carol@example.org", "no legacy transport"),
    T("transport", "Carol+x@example.org", "no legacy transport"),
    N("transport", "alice@example.org"),
    N("transport", "x@nowhere.example"),
    N("relayhost", "<>"),
    N("relayhost", "alice@example.org"),
    F("mailbox", "carol@example.org", "vol1/ef/carol@example.org"),
};

static void test_bare(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "example.org", "local");
    ROW(s, SNAP_MAILBOXES, "alice@example.org", MAILDIR_ALICE, "migrated");
    ROW(s, SNAP_MAILBOXES, "carol@example.org", "vol1/ef/carol@example.org",
        "legacy");
    snapshot_done(s);
    RUN_ALL(s, "+", bare_cases, "bare");
    snapshot_free(s);
}

/* empty routes are absent: a default relayhost row with an empty next hop */
static const struct rcase empty_cases[] = {
    N("relayhost", "<>"),
    N("relayhost", "alice@example.org"),
    N("transport", "x@nowhere.example"),
};

static void test_empty_defaults(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "example.org", "local");
    ROW(s, SNAP_RELAYHOSTS, "default", "", "");
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "");
    snapshot_done(s);
    RUN_ALL(s, "+", empty_cases, "empty");
    snapshot_free(s);
}

/* a reply may not pass MAPS_MAX_REPLY - 16 bytes (Postfix's limit with the
   "OK " and netstring framing): at the limit it is found, one byte over it
   is TEMP, never truncated */
static void test_reply_limit(void)
{
    struct snapshot *s = snapshot_new();
    size_t max = MAPS_MAX_REPLY - 16;
    char *at = malloc(max + 2), *over = malloc(max + 2), src[64];

    memset(at, 'a', max);
    memcpy(at + max - 12, "@example.net", 13);
    memset(over, 'b', max + 1);
    memcpy(over + max + 1 - 12, "@example.net", 13);
    ROW(s, SNAP_DOMAINS, "example.org", "local");
    ROW(s, SNAP_ALIASES, "at@example.org", at, "0");
    ROW(s, SNAP_ALIASES, "over@example.org", over, "0");
    /* a big list: 5,000 targets of 26 bytes = 130,000 bytes */
    for (int i = 0; i < 5000; i++) {
        snprintf(src, sizeof(src), "member%05d@list.example.net", i);
        ROW(s, SNAP_ALIASES, "biglist@example.org", src, "0");
    }
    snapshot_done(s);

    struct rcase k[] = {
        F("alias", "at@example.org", at),
        T("alias", "over@example.org", "larger than 100000 bytes"),
        T("alias", "biglist@example.org", "larger than 100000 bytes"),
        T("alias", "biglist+x@example.org", "larger than 100000 bytes"),
    };
    RUN_ALL(s, "+", k, "limit");
    snapshot_free(s);
    free(at);
    free(over);
}

static void test_names(void)
{
    static const char *const names[] = {
        "domain", "mailboxdomain", "relaydomain", "mailbox", "alias",
        "transport", "relayhost", "senderlogin", "maildir"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(maps_known_name(names[i]), "map name %s known", names[i]);
    CHECK(!maps_known_name("virtual"), "map name virtual unknown");
    CHECK(!maps_known_name("srsdecode"), "srsdecode is not a snapshot map");
    CHECK(!maps_known_name("Domain"), "map names are case-sensitive");
}

int main(void)
{
    struct snapshot *s = snap_full();

    test_names();
    RUN_ALL(s, "+", full_cases, "full");
    RUN_ALL(s, "+-", delim_cases, "delims +-");
    RUN_ALL(s, "", nodelim_cases, "no delims");
    snapshot_free(s);
    test_bare();
    test_empty_defaults();
    test_reply_limit();
    return UNIT_END();
}
