/*
 * test_delta - a change applied in place (snapshot_remove, snapshot_clear,
 * snapshot_add_row: what maps/delta.c's apply does with the rows it read)
 * gives the answers a snapshot built from the changed tables gives: a
 * mailbox added, removed, renamed by case; an alias target changed; a
 * relay domain's recipient list that ends with its last mailbox; the
 * senderlogin owner of an alias that follows its mailbox; send-as grants;
 * the transports table replaced whole.
 */
#include <stdio.h>
#include <string.h>

#include "maps.h"
#include "snaptest.h"
#include "unit.h"



static struct snapshot *base(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "example.org", "local");
    ROW(s, SNAP_DOMAINS, "relay.example", "relay");
    ROW(s, SNAP_MAILBOXES, "alice@example.org", "vol1/alice", "migrated");
    ROW(s, SNAP_MAILBOXES, "r1@relay.example", "vol1/r1", "migrated");
    ROW(s, SNAP_ALIASES, "info@example.org", "alice@example.org", "0");
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "smtp:[old]");
    ROW(s, SNAP_TRANSPORTS, "default", "", "local", "lmtp:old");
    ROW(s, SNAP_GRANTS, "boss@example.org", "address", "alice@example.org");
    snapshot_done(s);
    return s;
}

static void test_mailboxes(void)
{
    struct snapshot *s = base();

    CHECK_STR(ask(s, "maildir", "bob@example.org"), "NOTFOUND ", "%s %s", "maildir", "bob@example.org");
    ROW(s, SNAP_MAILBOXES, "bob@example.org", "vol2/bob", "migrated");
    CHECK_STR(ask(s, "maildir", "bob@example.org"), "OK vol2/bob", "%s %s", "maildir", "bob@example.org");
    /* the row changed: removed by its key in another case, added again */
    snapshot_remove(s, SNAP_MAILBOXES, "BOB@Example.org");
    CHECK_STR(ask(s, "maildir", "bob@example.org"), "NOTFOUND ", "%s %s", "maildir", "bob@example.org");
    ROW(s, SNAP_MAILBOXES, "bob@example.org", "vol3/bob", "legacy");
    CHECK_STR(ask(s, "maildir", "bob@example.org"), "OK vol3/bob", "%s %s", "maildir", "bob@example.org");
    snapshot_remove(s, SNAP_MAILBOXES, "nobody@example.org"); /* harmless */
    CHECK_STR(ask(s, "maildir", "alice@example.org"), "OK vol1/alice", "%s %s", "maildir", "alice@example.org");
    snapshot_free(s);
}

static void test_relay_recipients(void)
{
    struct snapshot *s = base();

    CHECK_STR(ask(s, "relayrecipient", "r1@relay.example"), "OK listed", "%s %s", "relayrecipient", "r1@relay.example");
    CHECK_STR(ask(s, "relayrecipient", "zz@relay.example"), "NOTFOUND ", "%s %s", "relayrecipient", "zz@relay.example");
    ROW(s, SNAP_MAILBOXES, "r2@relay.example", "vol1/r2", "migrated");
    snapshot_remove(s, SNAP_MAILBOXES, "r1@relay.example");
    CHECK_STR(ask(s, "relayrecipient", "zz@relay.example"), "NOTFOUND ", "%s %s", "relayrecipient", "zz@relay.example");
    /* the last mailbox of the domain gone: no list, every address passes */
    snapshot_remove(s, SNAP_MAILBOXES, "r2@relay.example");
    CHECK_STR(ask(s, "relayrecipient", "zz@relay.example"), "OK unlisted", "%s %s", "relayrecipient", "zz@relay.example");
    snapshot_free(s);
}

static void test_aliases_and_owner(void)
{
    struct snapshot *s = base();

    CHECK_STR(ask(s, "alias", "info@example.org"), "OK alice@example.org", "%s %s", "alias", "info@example.org");
    CHECK(strstr(ask(s, "senderlogin", "info@example.org"), "alice@example.org") != NULL,
          "%s %s %s alice@example.org", "senderlogin", "info@example.org", "has");
    /* the alias now points elsewhere: its owner is gone with it */
    snapshot_remove(s, SNAP_ALIASES, "info@example.org");
    ROW(s, SNAP_ALIASES, "info@example.org", "x@remote.example", "0");
    CHECK_STR(ask(s, "alias", "info@example.org"), "OK x@remote.example", "%s %s", "alias", "info@example.org");
    CHECK(strstr(ask(s, "senderlogin", "info@example.org"), "alice@example.org") == NULL,
          "%s %s %s alice@example.org", "senderlogin", "info@example.org", "lacks");
    /* back to alice, but alice's mailbox removed: no owner */
    snapshot_remove(s, SNAP_ALIASES, "info@example.org");
    ROW(s, SNAP_ALIASES, "info@example.org", "alice@example.org", "0");
    snapshot_remove(s, SNAP_MAILBOXES, "alice@example.org");
    CHECK(strstr(ask(s, "senderlogin", "info@example.org"), "alice@example.org") == NULL,
          "%s %s %s alice@example.org", "senderlogin", "info@example.org", "lacks");
    snapshot_free(s);
}

static void test_grants(void)
{
    struct snapshot *s = base();

    CHECK(strstr(ask(s, "senderlogin", "alice@example.org"), "boss@example.org") != NULL,
          "%s %s %s boss@example.org", "senderlogin", "alice@example.org", "has");
    snapshot_remove(s, SNAP_GRANTS, "Alice@example.org");
    CHECK(strstr(ask(s, "senderlogin", "alice@example.org"), "boss@example.org") == NULL,
          "%s %s %s boss@example.org", "senderlogin", "alice@example.org", "lacks");
    ROW(s, SNAP_GRANTS, "deputy@example.org", "domain", "example.org");
    CHECK(strstr(ask(s, "senderlogin", "alice@example.org"), "deputy@example.org") != NULL,
          "%s %s %s deputy@example.org", "senderlogin", "alice@example.org", "has");
    snapshot_free(s);
}

static void test_transports_whole(void)
{
    struct snapshot *s = base();

    CHECK_STR(ask(s, "transport", "x@remote.example"), "OK smtp:[old]", "%s %s", "transport", "x@remote.example");
    snapshot_clear(s, SNAP_TRANSPORTS);
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "smtp:[new]");
    CHECK_STR(ask(s, "transport", "x@remote.example"), "OK smtp:[new]", "%s %s", "transport", "x@remote.example");
    /* the local default row was deleted: no local route any more */
    CHECK(strstr(ask(s, "transport", "alice@example.org"), "lmtp:old") == NULL,
          "%s %s %s lmtp:old", "transport", "alice@example.org", "lacks");
    snapshot_free(s);
}

int main(void)
{
    test_mailboxes();
    test_relay_recipients();
    test_aliases_and_owner();
    test_grants();
    test_transports_whole();
    return UNIT_END();
}
