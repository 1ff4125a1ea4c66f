#!/bin/bash
# db.sh - runs the C test of lib/db.c (tests/unit/lib/test_db.c) against
# two real MariaDB servers: failover, reconnection, temporary failure, and
# transactions (a connection killed mid-way, a real deadlock, whole-body
# retries, consistent snapshots); and lib/gcommit's shared transactions
# (tests/unit/lib/test_gcommit.c).
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
h_start_mariadb db
h_start_mariadb db2
export H_DB_PORT H_DB_PID H_DB2_PORT H_DB2_PID H_DB_PASSWORD_FILE
# group commit first: test_db kills both servers; one summary for both
"${BUILD:-build}/tests/lib/test_gcommit" | sed -E 's/^([0-9]+ passed, [0-9]+ failed)$/# gcommit: \1/' |
    tee "$H_DIR/gcommit.out"
[ "${PIPESTATUS[0]}" = 0 ] || echo "not ok - test_gcommit exited non-zero" >> "$H_DIR/gcommit.out"
"${BUILD:-build}/tests/lib/test_db" | sed -E 's/^([0-9]+ passed, [0-9]+ failed)$/# db: \1/' |
    tee "$H_DIR/db.out"
[ "${PIPESTATUS[0]}" = 0 ] || echo "not ok - test_db exited non-zero" >> "$H_DIR/db.out"
cat "$H_DIR/gcommit.out" "$H_DIR/db.out" | awk '
    /^ok / { p++ } /^not ok / { f++ }
    END { printf "%d passed, %d failed\n", p, f; exit f > 0 || p == 0 }'
