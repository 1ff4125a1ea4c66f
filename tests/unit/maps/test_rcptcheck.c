/*
 * test_rcptcheck - the RCPT-time maps of postern-maps (maps/resolve.c):
 * rcptcheck (address literals, alias loops as Postfix's cleanup would
 * expand them), relayrecipient (relay domains with and without a list of
 * recipients) and the transport map for address literals, over a snapshot
 * built by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "snaptest.h"
#include "unit.h"


static struct snapshot *snap(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "example.org", "local");
    ROW(s, SNAP_DOMAINS, "alias.example", "alias", "example.org");
    ROW(s, SNAP_DOMAINS, "listed.example", "relay", NULL, "relay:[mx.listed]");
    ROW(s, SNAP_DOMAINS, "open.example", "relay", NULL, "relay:[mx.open]");
    ROW(s, SNAP_DOMAINS, "legacy.example", "legacy", NULL, "smtp:[old]");
    ROW(s, SNAP_DOMAINS, "[192.0.2.25]", "alias", "example.org");

    ROW(s, SNAP_MAILBOXES, "alice@example.org", "vol1/alice", "migrated");
    ROW(s, SNAP_MAILBOXES, "bob@example.org", "vol1/bob", "migrated");
    ROW(s, SNAP_MAILBOXES, "known@listed.example", "x", "migrated");
    ROW(s, SNAP_MAILBOXES, "old@legacy.example", "x", "legacy");

    /* two-address loop, three-address loop reached through a list */
    ROW(s, SNAP_ALIASES, "ping@example.org", "pong@example.org", "0");
    ROW(s, SNAP_ALIASES, "pong@example.org", "PING@example.org", "0");
    ROW(s, SNAP_ALIASES, "l1@example.org", "l2@example.org", "0");
    ROW(s, SNAP_ALIASES, "l2@example.org", "l3@example.org", "0");
    ROW(s, SNAP_ALIASES, "l3@example.org", "l1@example.org", "0");
    ROW(s, SNAP_ALIASES, "list@example.org", "alice@example.org", "0");
    ROW(s, SNAP_ALIASES, "list@example.org", "l2@example.org", "0");
    /* no loops: forward with a copy (bob -> bob + remote), a chain, an
       address that reaches itself through another one that keeps a copy */
    ROW(s, SNAP_ALIASES, "bob@example.org", "bob@remote.example", "1");
    ROW(s, SNAP_ALIASES, "chain@example.org", "list2@example.org", "0");
    ROW(s, SNAP_ALIASES, "list2@example.org", "alice@example.org", "0");
    ROW(s, SNAP_ALIASES, "list2@example.org", "bob@example.org", "0");
    ROW(s, SNAP_ALIASES, "w@example.org", "x@example.org", "0");
    ROW(s, SNAP_ALIASES, "x@example.org", "y@example.org", "0");
    ROW(s, SNAP_ALIASES, "x@example.org", "x@example.org", "0");
    ROW(s, SNAP_ALIASES, "y@example.org", "w@example.org", "0");
    ROW(s, SNAP_ALIASES, "alias@listed.example", "known@listed.example", "0");
    /* an alias alone does not make a list (the sample's kunde3.example) */
    ROW(s, SNAP_ALIASES, "webmaster@open.example", "it@open.example", "0");

    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "smtp:[smarthost]");
    ROW(s, SNAP_TRANSPORTS, "default", "", "local", "postern-lda:");
    snapshot_done(s);
    return s;
}

static int q(const struct snapshot *s, const char *map, const char *key,
             struct str *out)
{
    return maps_lookup(s, "+", map, key, strlen(key), out);
}

static void want(const struct snapshot *s, const char *map, const char *key,
                 int rc, const char *prefix)
{
    struct str out = STR_INIT;
    int got = q(s, map, key, &out);

    CHECK(got == rc, "%s %s -> %s (want %s) %s", map, key, lookup_name(got),
          lookup_name(rc), str_cstr(&out));
    if (got == rc && prefix)
        CHECK(strncmp(str_cstr(&out), prefix, strlen(prefix)) == 0,
              "%s %s -> \"%s\" starts with \"%s\"", map, key, str_cstr(&out),
              prefix);
    str_free(&out);
}

int main(void)
{
    struct snapshot *s = snap();

    CHECK(maps_known_name("rcptcheck"), "rcptcheck is a map name");
    CHECK(maps_known_name("relayrecipient"), "relayrecipient is a map name");

    /* address literals: refused unless a domains row names them */
    want(s, "rcptcheck", "root@[127.0.0.1]", LK_FOUND, "550 5.1.2 ");
    want(s, "rcptcheck", "nosuchuser@[127.0.0.1]", LK_FOUND, "550 5.1.2 ");
    want(s, "rcptcheck", "postmaster@[IPv6:::1]", LK_FOUND, "550 5.1.2 ");
    want(s, "rcptcheck", "alice@[192.0.2.25]", LK_NOTFOUND, NULL);
    want(s, "transport", "root@[127.0.0.1]", LK_NOTFOUND, NULL);
    want(s, "transport", "root@[192.0.2.25]", LK_FOUND, "postern-lda:");
    want(s, "transport", "x@remote.example", LK_FOUND, "smtp:[smarthost]");

    /* alias loops: certain -> 550 5.4.6; the rest passes */
    want(s, "rcptcheck", "ping@example.org", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "pong@example.org", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "Ping+tag@Example.org", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "ping@alias.example", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "l1@example.org", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "list@example.org", LK_FOUND, "550 5.4.6 ");
    want(s, "rcptcheck", "alice@example.org", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "bob@example.org", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "chain@example.org", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "w@example.org", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "nobody@example.org", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "someone@remote.example", LK_NOTFOUND, NULL);
    want(s, "rcptcheck", "example.org", LK_NOTFOUND, NULL);

    /* relay recipients: listed domain, open domain, legacy, other */
    want(s, "relayrecipient", "known@listed.example", LK_FOUND, "listed");
    want(s, "relayrecipient", "Known+x@Listed.example", LK_FOUND, "listed");
    want(s, "relayrecipient", "alias@listed.example", LK_FOUND, "listed");
    want(s, "relayrecipient", "unknown@listed.example", LK_NOTFOUND, NULL);
    want(s, "relayrecipient", "anyone@open.example", LK_FOUND, "unlisted");
    want(s, "relayrecipient", "it@open.example", LK_FOUND, "unlisted");
    want(s, "relayrecipient", "anyone@legacy.example", LK_FOUND, "unlisted");
    want(s, "relayrecipient", "@listed.example", LK_NOTFOUND, NULL);

    snapshot_free(s);
    return UNIT_END();
}
