/*
 * fuzz_snapshot - maps/snapshot.c's row handling: rows of every routing
 * table with any values (what the database may hold: mixed case, empty
 * strings, SQL NULL in nullable columns, aliases of aliases, catch-alls,
 * loops) go through snapshot_add_row in the loader's order, then
 * snapshot_done indexes them; then every map answers the first column of
 * every row, and a few derived keys (maps_lookup, maps/resolve.c).
 * Input: rows of [table byte][NULL-mask byte][6 NUL-terminated columns].
 * Columns the schema declares NOT NULL (the first of every table, the
 * kind, alias target and grant match_type) are never NULL, and a grant's
 * login is never empty (CHECK sender_grants_login_syntax; an empty one
 * made maps/resolve.c login_add loop for ever, docs/dev/fuzzing.md).
 * Checks: every answer is an LK_* outcome; snapshot_free releases all
 * (LeakSanitizer).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "maps.h"
#include "mem.h"

#define ROWS_MAX 64

struct frow {
    int table;
    const char *v[SNAP_COLS_MAX];
};

static void lookups(const struct snapshot *s, const char *key)
{
    static const char *const names[] = {
        "domain", "mailboxdomain", "relaydomain", "mailbox", "alias",
        "transport", "relayhost", "senderlogin", "maildir",
        "relayrecipient", "rcptcheck"};
    struct str out = STR_INIT;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int rc;
        if (!maps_known_name(names[i]))
            continue; /* a map that went away */
        rc = maps_lookup(s, "+", names[i], key, strlen(key), &out);
        if (rc != LK_FOUND && rc != LK_NOTFOUND && rc != LK_TEMP)
            abort();
        str_reset(&out);
    }
    str_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char notnull[] = {
        [SNAP_DOMAINS] = 0x03, [SNAP_MAILBOXES] = 0x01,
        [SNAP_ALIASES] = 0x03, [SNAP_TRANSPORTS] = 0x01,
        [SNAP_RELAYHOSTS] = 0x01, [SNAP_GRANTS] = 0x03};
    struct fuzz_in in = {(const char *)data, size};
    struct frow rows[ROWS_MAX];
    char *strs[ROWS_MAX * SNAP_COLS_MAX];
    size_t n = 0, ns = 0;
    struct snapshot *s;

    while (in.left > 0 && n < ROWS_MAX) {
        struct frow *r = &rows[n++];
        unsigned nullmask;
        r->table = (int)(fuzz_byte(&in) % 6);
        nullmask = fuzz_byte(&in) & ~notnull[r->table];
        for (int c = 0; c < SNAP_COLS_MAX; c++) {
            size_t len;
            const char *f = fuzz_field(&in, &len);
            char *v = xstrndup(f ? f : "", len);
            strs[ns++] = v;
            r->v[c] = (nullmask & (1u << c)) ? NULL : v;
        }
    }
    s = snapshot_new();
    for (int t = SNAP_DOMAINS; t <= SNAP_GRANTS; t++)
        for (size_t i = 0; i < n; i++)
            if (rows[i].table == t &&
                /* sender_grants_login_syntax: a login is never empty
                   (FUZZ_NO_SCHEMA=1: let it through, fuzz/run --repro) */
                (t != SNAP_GRANTS || rows[i].v[0][0] != '\0' ||
                 getenv("FUZZ_NO_SCHEMA") != NULL))
                snapshot_add_row(s, (enum snap_table)t, rows[i].v);
    snapshot_done(s);
    for (size_t i = 0; i < n; i++) {
        char key[600];
        lookups(s, rows[i].v[0]);
        if (rows[i].v[1]) {
            lookups(s, rows[i].v[1]);
            snprintf(key, sizeof(key), "x+y@%s", rows[i].v[0]);
            lookups(s, key);
        }
    }
    snapshot_free(s);
    for (size_t i = 0; i < ns; i++)
        free(strs[i]);
    return 0;
}
