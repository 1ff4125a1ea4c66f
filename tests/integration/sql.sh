#!/bin/bash
# sql.sh - the SQL model on a real MariaDB: migrations apply in order and are
# idempotent, sql/schema.sql is generated from them and gives the same
# database as sql/migrate, both sample data sets load into one database, and
# the constraints refuse an admin's typical typos (sql/test-constraints.sh).
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

# --- sql/schema.sql is what the migrations give ---------------------------------
# (before the samples: the rows the schema itself inserts are compared too)
t_ok "schema.sql is generated from the migrations (sql/gen-schema --check)" \
    sql/gen-schema --check
sqlq() { local db=$1; shift; mariadb --no-defaults --socket="$H_DB_SOCKET" -uroot -N -B "$db" -e "$*"; }
# describe DB - every table (SHOW CREATE TABLE without AUTO_INCREMENT
# counters) with its rows (time columns left out), every trigger, view and
# routine: what must not depend on how the database was made
describe() {
    local db=$1 t cols
    for t in $(sqlq "$db" "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"); do
        sqlq "$db" "SHOW CREATE TABLE \`$t\`" | sed -E 's/ AUTO_INCREMENT=[0-9]+//'
        cols=$(sqlq "$db" "SELECT GROUP_CONCAT(CONCAT('\`', column_name, '\`') ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '$t' AND data_type NOT IN ('timestamp', 'datetime')")
        sqlq "$db" "SELECT $cols FROM \`$t\` ORDER BY $cols" | sed "s/^/row $t: /"
    done
    sqlq "$db" "SELECT trigger_name, event_object_table, action_timing, event_manipulation, action_order, action_statement, sql_mode, character_set_client, collation_connection, database_collation FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY trigger_name"
    sqlq "$db" "SELECT table_name, view_definition, check_option, security_type FROM information_schema.views WHERE table_schema = DATABASE() ORDER BY table_name" | sed "s/\`$db\`\.//g"
    sqlq "$db" "SELECT routine_name, routine_type, routine_definition, sql_mode FROM information_schema.routines WHERE routine_schema = DATABASE() ORDER BY routine_name"
}
# with the defaults of the harness's database (triggers record them)
h_sql "CREATE DATABASE schema_direct CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
t_ok "schema.sql loads into an empty database" \
    sh -c 'mariadb --no-defaults --socket="$1" -uroot schema_direct < sql/schema.sql' - "$H_DB_SOCKET"
describe postern > "$H_DIR/by-migrate.txt"
describe schema_direct > "$H_DIR/by-schema.txt"
t_match "the description covers the last migration's table and triggers" \
    'CREATE TABLE `policy_domain_checks`.*policy_domain_checks_ad' "$(tr '\n' ' ' < "$H_DIR/by-migrate.txt")"
t_eq "tables, rows and triggers described: same count both ways" \
    "$(wc -l < "$H_DIR/by-migrate.txt")" "$(wc -l < "$H_DIR/by-schema.txt")"
t_ok "schema.sql and sql/migrate give the same tables, rows, triggers, views and routines" \
    diff -u "$H_DIR/by-migrate.txt" "$H_DIR/by-schema.txt"
diff -u "$H_DIR/by-migrate.txt" "$H_DIR/by-schema.txt" | head -n 40 | sed 's/^/# /'
r=$(sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot schema_direct 2>&1)
t_match "sql/migrate after schema.sql applies nothing (schema.sql records every version)" \
    "0 migration\(s\) applied, schema version $(ls sql/migrations/*.sql | wc -l)\$" "$r"
h_sql "DROP DATABASE schema_direct"

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
