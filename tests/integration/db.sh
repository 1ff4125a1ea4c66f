#!/bin/bash
# db.sh - runs the C test of lib/db.c (tests/unit/lib/test_db.c) against
# two real MariaDB servers: failover, reconnection, temporary failure, and
# transactions (a connection killed mid-way, a real deadlock, whole-body
# retries, consistent snapshots).
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
h_start_mariadb db
h_start_mariadb db2
export H_DB_PORT H_DB_PID H_DB2_PORT H_DB2_PID H_DB_PASSWORD_FILE
"${BUILD:-build}/tests/lib/test_db"
