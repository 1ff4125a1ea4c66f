/*
 * test_directory - what postern-maps answers for the rows postern-dirsync
 * writes (sql/migrations/0006_directory.sql), over a snapshot built by
 * hand: mailbox states (leaving answered as active; closed refused by
 * rcptcheck with 550 5.2.1 in every spelling, through alternative
 * addresses, with no sender login; closed with closed_forward rewritten by
 * the alias map instead), directory groups without a mailbox row (mailbox,
 * alias self-mapping, relayrecipient, transport retry:), a mailbox row
 * winning over a group row, and both changed in place as a delta does.
 */
#include <stdio.h>
#include <string.h>

#include "maps.h"
#include "snaptest.h"
#include "unit.h"



#define WANT(s, map, key, want) CHECK_STR(ask(s, map, key), want, "%s %s", map, key)

#define GROUP_TR "OK " MAPS_GROUP_TRANSPORT
#define CLOSED "OK 550 5.2.1 mailbox closed"

static struct snapshot *base(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "school.example", "local");
    ROW(s, SNAP_DOMAINS, "schule.example", "alias", "school.example");
    ROW(s, SNAP_DOMAINS, "catch.example", "local");
    ROW(s, SNAP_DOMAINS, "relay.example", "relay", NULL, "relay:[mx.relay]");
    ROW(s, SNAP_MAILBOXES, "anna@school.example", "v/anna", "migrated", NULL,
        NULL, "active");
    ROW(s, SNAP_MAILBOXES, "leo@school.example", "v/leo", "migrated", NULL,
        NULL, "leaving");
    ROW(s, SNAP_MAILBOXES, "carl@school.example", "v/carl", "migrated", NULL,
        NULL, "closed");
    ROW(s, SNAP_MAILBOXES, "fred@school.example", "v/fred", "migrated", NULL,
        NULL, "closed", "Fred.New@Elsewhere.example");
    /* a forward left over from an active time: only closed uses it */
    ROW(s, SNAP_MAILBOXES, "ina@school.example", "v/ina", "migrated", NULL,
        NULL, "active", "ina@elsewhere.example");
    ROW(s, SNAP_MAILBOXES, "post@catch.example", "v/post", "migrated", NULL,
        NULL, "closed");
    ROW(s, SNAP_MAILBOXES, "r1@relay.example", "v/r1", "migrated");
    /* a placeholder mailbox row for a group address (the old way) */
    ROW(s, SNAP_MAILBOXES, "9b@school.example", "v/9b", "migrated");
    /* carl's alternative address, a chain to it, a list with him */
    ROW(s, SNAP_ALIASES, "c.alt@school.example", "carl@school.example", "0");
    ROW(s, SNAP_ALIASES, "c.old@school.example", "c.alt@school.example", "0");
    ROW(s, SNAP_ALIASES, "team@school.example", "carl@school.example", "0");
    ROW(s, SNAP_ALIASES, "team@school.example", "anna@school.example", "0");
    ROW(s, SNAP_ALIASES, "fred@school.example", "fred@old.example", "1");
    ROW(s, SNAP_ALIASES, "l.alt@school.example", "leo@school.example", "0");
    ROW(s, SNAP_ALIASES, "@catch.example", "post@catch.example", "0");
    ROW(s, SNAP_ALIASES, "@school.example", "anna@school.example", "0");
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "smtp:[smarthost]");
    ROW(s, SNAP_TRANSPORTS, "default", "", "local", "postern-lda:");
    ROW(s, SNAP_GRANTS, "boss@school.example", "address", "carl@school.example");
    ROW(s, SNAP_GRANTS, "boss@school.example", "domain", "school.example");
    ROW(s, SNAP_GROUPS, "9a@school.example");
    ROW(s, SNAP_GROUPS, "9b@school.example");
    ROW(s, SNAP_GROUPS, "Staff@Relay.example");
    snapshot_done(s);
    return s;
}

static void test_states(const struct snapshot *s)
{
    static const char *const carl[] = {
        "carl@school.example", "CARL@School.Example", "carl+x@school.example",
        "carl@school.example.", "\"carl\"@school.example",
        "\"Carl+x\"@schule.example.", "carl@schule.example",
        "c.alt@school.example", "c.old+y@schule.example"};

    /* leaving: mail and sending as for an active mailbox */
    WANT(s, "mailbox", "leo@school.example", "OK v/leo");
    WANT(s, "alias", "leo@school.example", "OK leo@school.example");
    WANT(s, "transport", "leo@school.example", "OK postern-lda:");
    WANT(s, "rcptcheck", "leo@school.example", "NOTFOUND ");
    WANT(s, "rcptcheck", "l.alt@school.example", "NOTFOUND ");
    WANT(s, "senderlogin", "leo@school.example", "OK leo@school.example,boss@school.example");
    WANT(s, "senderlogin", "l.alt@school.example", "OK leo@school.example,boss@school.example");

    /* closed: refused at RCPT in every spelling, alternative addresses
       and alias domains included */
    for (size_t i = 0; i < sizeof(carl) / sizeof(carl[0]); i++)
        WANT(s, "rcptcheck", carl[i], CLOSED);
    /* a list with a closed member goes on to the others */
    WANT(s, "rcptcheck", "team@school.example", "NOTFOUND ");
    /* a catch-all whose one target is closed: refused too */
    WANT(s, "rcptcheck", "anyone@catch.example", CLOSED);
    /* mail accepted before the close still finds the kept Maildir */
    WANT(s, "mailbox", "carl@school.example", "OK v/carl");
    WANT(s, "maildir", "carl@school.example", "OK v/carl");
    /* nobody sends as it, not even with a grant */
    WANT(s, "senderlogin", "carl@school.example", "NOTFOUND ");
    WANT(s, "senderlogin", "\"Carl\"@schule.example", "NOTFOUND ");
    WANT(s, "senderlogin", "c.alt@school.example", "OK boss@school.example");
    /* an active mailbox is untouched */
    WANT(s, "rcptcheck", "anna@school.example", "NOTFOUND ");
    WANT(s, "senderlogin", "anna@school.example", "OK anna@school.example,boss@school.example");

    /* closed with a forward: the forward replaces delivery and the
       mailbox's own alias rows; rcptcheck has no opinion */
    WANT(s, "alias", "fred@school.example", "OK fred.new@elsewhere.example");
    WANT(s, "alias", "Fred+x@school.example", "OK fred.new@elsewhere.example");
    WANT(s, "alias", "fred@schule.example", "OK fred@school.example");
    WANT(s, "rcptcheck", "fred@school.example", "NOTFOUND ");
    WANT(s, "rcptcheck", "fred@schule.example", "NOTFOUND ");
    WANT(s, "senderlogin", "fred@school.example", "NOTFOUND ");
    /* an active mailbox's closed_forward means nothing */
    WANT(s, "alias", "ina@school.example", "OK ina@school.example");

    /* the text is the admin's */
    maps_set_closed_text("account closed, write to office@school.example");
    WANT(s, "rcptcheck", "carl@school.example",
         "OK 550 5.2.1 account closed, write to office@school.example");
    maps_set_closed_text("bad\r\ntext");
    WANT(s, "rcptcheck", "carl@school.example", "OK 550 5.2.1 bad??text");
    maps_set_closed_text("mailbox closed");
}

static void test_groups(const struct snapshot *s)
{
    /* a group address without a mailbox row is a valid recipient */
    WANT(s, "mailbox", "9a@school.example", "OK " MAPS_GROUP_MAILBOX);
    WANT(s, "mailbox", "9A+x@schule.example.", "OK " MAPS_GROUP_MAILBOX);
    WANT(s, "mailbox", "\"9a\"@school.example", "OK " MAPS_GROUP_MAILBOX);
    WANT(s, "maildir", "9a@school.example", "NOTFOUND ");
    /* it maps to itself: the catch-all does not take it */
    WANT(s, "alias", "9a@school.example", "OK 9a@school.example");
    WANT(s, "alias", "9a@schule.example", "OK 9a@school.example");
    WANT(s, "alias", "9c@school.example", "OK anna@school.example");
    /* reached without the milter's expansion: it waits */
    WANT(s, "transport", "9a@school.example", GROUP_TR);
    WANT(s, "transport", "9a+x@school.example", GROUP_TR);
    WANT(s, "rcptcheck", "9a@school.example", "NOTFOUND ");
    WANT(s, "senderlogin", "9a@school.example", "OK boss@school.example");
    /* a mailbox row for the same address wins (placeholder rows) */
    WANT(s, "mailbox", "9b@school.example", "OK v/9b");
    WANT(s, "transport", "9b@school.example", "OK postern-lda:");
    /* relay domain with a list: the group is listed, and a group alone
       does not make a list */
    WANT(s, "relayrecipient", "staff@relay.example", "OK listed");
    WANT(s, "relayrecipient", "nobody@relay.example", "NOTFOUND ");
    WANT(s, "transport", "staff@relay.example", GROUP_TR);
}

static void test_delta(void)
{
    struct snapshot *s = base();

    /* carl comes back: the changed row replaces the old one */
    snapshot_remove(s, SNAP_MAILBOXES, "Carl@School.example");
    ROW(s, SNAP_MAILBOXES, "carl@school.example", "v/carl", "migrated", NULL,
        NULL, "active");
    WANT(s, "rcptcheck", "carl@school.example", "NOTFOUND ");
    WANT(s, "rcptcheck", "c.alt@school.example", "NOTFOUND ");
    WANT(s, "senderlogin", "c.alt@school.example", "OK carl@school.example,boss@school.example");
    /* anna closes */
    snapshot_remove(s, SNAP_MAILBOXES, "anna@school.example");
    ROW(s, SNAP_MAILBOXES, "anna@school.example", "v/anna", "migrated", NULL,
        NULL, "closed");
    WANT(s, "rcptcheck", "anna+x@schule.example", CLOSED);
    /* a group deleted, another added */
    snapshot_remove(s, SNAP_GROUPS, "9A@school.example");
    WANT(s, "mailbox", "9a@school.example", "NOTFOUND ");
    WANT(s, "transport", "9a@school.example", "OK postern-lda:");
    ROW(s, SNAP_GROUPS, "5a@school.example");
    WANT(s, "mailbox", "5a@school.example", "OK " MAPS_GROUP_MAILBOX);
    /* the placeholder row goes: the group row answers */
    snapshot_remove(s, SNAP_MAILBOXES, "9b@school.example");
    WANT(s, "transport", "9b@school.example", GROUP_TR);
    WANT(s, "alias", "9b@school.example", "OK 9b@school.example");
    snapshot_free(s);
}

int main(void)
{
    struct snapshot *s = base();

    test_states(s);
    test_groups(s);
    snapshot_free(s);
    test_delta();
    return UNIT_END();
}
