/*
 * fuzz_maps - postern-maps' socketmap requests: the input is the byte
 * stream a client sends, read as maps/proto.c reads it (netstrings of at
 * most MAPS_MAX_REQUEST bytes, "NAME KEY", a name of at most
 * MAPS_NAME_MAX bytes) and answered by maps_lookup (maps/resolve.c) from
 * a hand-built snapshot (alias domains, a chain and a loop, catch-alls,
 * transports, relayhosts, grants) or by maps_srs_lookup (srsencode,
 * srsdecode).  proto.c's connection code is not linked (it needs a
 * server); the split of a request into name and key is repeated here.
 * Checks: every answer is one of the LK_* outcomes and fits a socketmap
 * reply (MAPS_MAX_REPLY).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "maps.h"
#include "netstring.h"
#include "srs.h"

#define ROW(s, t, ...)                                                         \
    snapshot_add_row((s), (t), (const char *const[SNAP_COLS_MAX]){__VA_ARGS__})

static struct snapshot *snap;
static struct srs srs;

static struct snapshot *build(void)
{
    struct snapshot *s = snapshot_new();

    ROW(s, SNAP_DOMAINS, "example.org", "local", NULL, NULL, NULL, NULL);
    ROW(s, SNAP_DOMAINS, "ALIAS.Example", "alias", "Example.ORG", NULL, NULL,
        NULL);
    ROW(s, SNAP_DOMAINS, "hop1.example", "alias", "example.org");
    ROW(s, SNAP_DOMAINS, "hop2.example", "alias", "hop1.example");
    ROW(s, SNAP_DOMAINS, "loop-a.example", "alias", "loop-b.example");
    ROW(s, SNAP_DOMAINS, "loop-b.example", "alias", "loop-a.example");
    ROW(s, SNAP_DOMAINS, "relay.example", "relay");
    ROW(s, SNAP_DOMAINS, "legacy.example", "legacy", NULL, NULL,
        "smtp:[old-store.legacy.example]");
    ROW(s, SNAP_DOMAINS, "mixed.example", "local", NULL, "smtp:[mixed-mx]");
    ROW(s, SNAP_DOMAINS, "rh.example", "local", NULL, NULL, NULL,
        "[rh-column.example]:25");
    ROW(s, SNAP_MAILBOXES, "alice@example.org", "vol1/ab/alice", "migrated");
    ROW(s, SNAP_MAILBOXES, "bob@example.org", "vol2/bob", "migrated",
        "lmtp:unix:private/bob", "[bob-relay.example]:587");
    ROW(s, SNAP_MAILBOXES, "carol@example.org", "vol1/carol", "legacy");
    ROW(s, SNAP_MAILBOXES, "dave@mixed.example", "vol1/dave", "migrated");
    ROW(s, SNAP_ALIASES, "info@example.org", "Alice@Example.ORG", "0");
    ROW(s, SNAP_ALIASES, "team@example.org", "alice@example.org", "0");
    ROW(s, SNAP_ALIASES, "team@example.org", "bob@example.org", "0");
    ROW(s, SNAP_ALIASES, "bob@example.org", "bob@elsewhere.example", "1");
    ROW(s, SNAP_ALIASES, "alice+list@example.org", "list@remote.example", "0");
    ROW(s, SNAP_ALIASES, "@example.org", "catchall@example.org", "0");
    ROW(s, SNAP_ALIASES, "@mixed.example", "a@example.org", "0");
    ROW(s, SNAP_TRANSPORTS, "default", "", "delivery", "smtp:[smarthost]:587");
    ROW(s, SNAP_TRANSPORTS, "default", "", "local", "lmtp:unix:private/lda");
    ROW(s, SNAP_TRANSPORTS, "default", "", "legacy", "smtp:[legacy]");
    ROW(s, SNAP_TRANSPORTS, "address", "special@example.org", "delivery",
        "smtp:[special-host]");
    ROW(s, SNAP_TRANSPORTS, "domain", ".sub.example", "delivery",
        "smtp:[sub-mx]");
    ROW(s, SNAP_RELAYHOSTS, "default", "", "[relay.provider.example]:587");
    ROW(s, SNAP_RELAYHOSTS, "address", "bob@example.org", "[bob-relay]:25");
    ROW(s, SNAP_RELAYHOSTS, "domain", "mixed.example", "[mixed-relay]:587");
    ROW(s, SNAP_GRANTS, "admin@example.org", "address", "noreply@example.org");
    ROW(s, SNAP_GRANTS, "Helpdesk", "domain", "example.org");
    snapshot_done(s);
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct str err = STR_INIT;

    (void)argc;
    (void)argv;
    snap = build();
    if (srs_setup(&srs, "srs.example.org", '=', 21, 4, SRS_SHA1, &err) < 0 ||
        srs_add_secret(&srs, "fuzz-secret-0123456789", 22, &err) < 0)
        abort();
    return 0;
}

/* answer - maps/proto.c's answer() without the connection */
static void answer(const char *req, size_t len)
{
    char name[MAPS_NAME_MAX + 1];
    const char *sp = memchr(req, ' ', len);
    struct str out = STR_INIT;
    int rc;

    if (sp == NULL || (size_t)(sp - req) > MAPS_NAME_MAX)
        return;
    memcpy(name, req, (size_t)(sp - req));
    name[sp - req] = '\0';
    if (maps_srs_name(name))
        rc = maps_srs_lookup(&srs, snap, "+-", name, sp + 1,
                             len - (size_t)(sp + 1 - req), &out);
    else if (maps_known_name(name))
        rc = maps_lookup(snap, "+-", name, sp + 1,
                         len - (size_t)(sp + 1 - req), &out);
    else
        return;
    if (rc != LK_FOUND && rc != LK_NOTFOUND && rc != LK_TEMP)
        abort();
    if (rc == LK_FOUND && out.len > MAPS_MAX_REPLY)
        abort();
    str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *d;
    size_t off = 0, len, used;

    while (off < size &&
           netstring_decode(buf + off, size - off, MAPS_MAX_REQUEST, &d, &len,
                            &used) == NETSTRING_OK) {
        answer(d, len);
        off += used;
    }
    return 0;
}
