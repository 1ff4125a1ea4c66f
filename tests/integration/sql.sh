#!/bin/bash
# sql.sh - the SQL model on a real MariaDB: migrations apply in order and are
# idempotent, both sample data sets load into one database, and the
# constraints refuse an admin's typical typos (sql/test-constraints.sh).
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
h_start_mariadb
cli=(--no-defaults --socket="$H_DB_SOCKET" -uroot postern)
t_ok "migrate applies every migration" sql/migrate "${cli[@]}"
t_eq "schema_version records the migrations" \
    "$(ls sql/migrations/*.sql | wc -l)" "$(h_sql 'SELECT COUNT(*) FROM schema_version')"
t_ok "migrate again is a no-op" sql/migrate "${cli[@]}"
t_eq "nothing applied twice" \
    "$(ls sql/migrations/*.sql | wc -l)" "$(h_sql 'SELECT COUNT(*) FROM schema_version')"
t_ok "the school sample loads" h_sql_file sql/sample-school.sql
t_ok "the ISP sample loads into the same database" h_sql_file sql/sample-isp.sql
t_match "maildir is derived from the address" \
    '^vol[0-9]+/[0-9a-f]{2}/[0-9a-f]{4}/[^/]+@[^/]+/$' \
    "$(h_sql "SELECT maildir FROM mailboxes LIMIT 1")"
t_eq "change counters move with admin edits" 1 \
    "$(h_sql "SELECT generation FROM change_counter WHERE tbl='domains'" >/tmp/.g1; \
       h_sql "UPDATE domains SET active = active WHERE name = (SELECT MIN(name) FROM (SELECT name FROM domains) x)"; \
       h_sql "UPDATE domains SET updated_at = NOW() WHERE name = (SELECT MIN(name) FROM (SELECT name FROM domains) x)"; \
       a=$(cat /tmp/.g1); b=$(h_sql "SELECT generation FROM change_counter WHERE tbl='domains'"); \
       [ "$b" -gt "$a" ] && echo 1 || echo 0)"
rm -f /tmp/.g1
# the constraint checks print their own ok/not ok lines and summary
out=$(sql/test-constraints.sh "${cli[@]}" 2>&1)
echo "$out" | grep -E '^(ok|not ok) '
p=$(echo "$out" | tail -n 1 | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/p')
f=$(echo "$out" | tail -n 1 | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/p')
H_T_PASS=$((H_T_PASS + ${p:-0}))
H_T_FAIL=$((H_T_FAIL + ${f:-1}))
t_summary
