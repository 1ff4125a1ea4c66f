/*
 * test_ldamailbox - postern-maps' answer to postern-lda ([lda] lookup =
 * maps): the maildir with the mailbox's quota (quota_bytes, else the
 * domain's default_quota_bytes, else none: the LDA's default), through
 * alias domains and +extensions; the maildir map Postfix uses unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "maps.h"
#include "snaptest.h"
#include "unit.h"

int main(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "q.example", "local", NULL, NULL, NULL, NULL,
        "5000");
    ROW(s, SNAP_DOMAINS, "free.example", "local", NULL, NULL, NULL, NULL);
    ROW(s, SNAP_DOMAINS, "alias.example", "alias", "q.example");
    ROW(s, SNAP_MAILBOXES, "own@q.example", "vol1/own", "migrated", NULL,
        NULL, "active", NULL, "1024");
    ROW(s, SNAP_MAILBOXES, "dflt@q.example", "vol1/dflt", "migrated");
    ROW(s, SNAP_MAILBOXES, "zero@q.example", "vol1/zero", "migrated", NULL,
        NULL, "active", NULL, "0");
    ROW(s, SNAP_MAILBOXES, "none@free.example", "vol1/none", "migrated");
    snapshot_done(s);

    CHECK_STR(ask(s, "ldamailbox", "own@q.example"), "OK quota=1024 vol1/own",
              "the mailbox's own quota");
    CHECK_STR(ask(s, "ldamailbox", "dflt@q.example"),
              "OK quota=5000 vol1/dflt", "the domain's default quota");
    CHECK_STR(ask(s, "ldamailbox", "zero@q.example"), "OK quota=0 vol1/zero",
              "0 = unlimited, not the default");
    CHECK_STR(ask(s, "ldamailbox", "none@free.example"), "OK vol1/none",
              "no quota in SQL: no quota= (the LDA's default)");
    CHECK_STR(ask(s, "ldamailbox", "Own+tag@Alias.Example"),
              "OK quota=1024 vol1/own", "alias domain, case, extension");
    CHECK_STR(ask(s, "ldamailbox", "nobody@q.example"), "NOTFOUND ",
              "no mailbox");
    CHECK_STR(ask(s, "maildir", "own@q.example"), "OK vol1/own",
              "the maildir map (Postfix) is unchanged");
    CHECK(maps_known_name("ldamailbox"), "a known map name");
    snapshot_free(s);
    return UNIT_END();
}
