#!/bin/bash
# audit.sh - the audit log (sql/migrations/0007_audit.sql, admin/audit.c,
# docs/audit.md) on a real MariaDB: a hand-written UPDATE is recorded with
# the database user and no postern user; SET @postern_user, `postern
# --user` and postern-dirsync name who changed what; a DELETE keeps the old
# values; secrets (password hashes; DKIM keys live in files) never reach
# the log; an UPDATE that changes nothing is not logged; state tables are
# not audited; `postern audit` filters and prints; prune removes only old
# rows.  AUDIT_SCHEMA=FILE loads another schema (e.g. one without 0007, to
# see this test fail).
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
P=$BUILD/postern
h_init
h_start_mariadb
h_sql_file "${AUDIT_SCHEMA:-sql/schema.sql}"

CONF=$H_DIR/postern.conf
cat > "$CONF" <<EOC
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
[audit]
retention = 100d
EOC
# a hand-written statement: the mysql client as the postern account
client() {
    mariadb --no-defaults -h 127.0.0.1 -P "$H_DB_PORT" -u "$H_DB_USER" \
        -p"$(cat "$H_DB_PASSWORD_FILE")" -N -B postern -e "$*"
}
last() { h_sql "SELECT $1 FROM audit_log ORDER BY id DESC LIMIT 1"; }
count() { h_sql "SELECT COUNT(*) FROM audit_log${1:+ WHERE $1}"; }

h_sql "INSERT INTO domains (name, kind) VALUES ('example.org', 'local');
       INSERT INTO mailboxes (local_part, domain, display_name, password_hash)
         VALUES ('anna', 'example.org', 'Anna', '{SHA512-CRYPT}\$6\$saltsalt\$SECRETHASH');
       INSERT INTO aliases (domain, local_part, target) VALUES
         ('example.org', 'info', 'anna@example.org'),
         ('example.org', 'info', 'boss@elsewhere.example')"
t_eq "inserts are logged, one row each (domain, mailbox, 2 aliases)" 4 "$(count)"
t_eq "an INSERT has the new row, no old one" "INSERT|NULL|Anna" \
    "$(h_sql "SELECT CONCAT_WS('|', op, IFNULL(old_values, 'NULL'), JSON_VALUE(new_values, '$.display_name')) FROM audit_log WHERE table_name = 'mailboxes'")"

# --- a hand-written UPDATE -------------------------------------------------
t_ok "hand-written UPDATE through the mysql client" \
    client "UPDATE mailboxes SET quota_bytes = 1000, display_name = 'Anna A.' WHERE address = 'anna@example.org'"
t_match "recorded with the database user" '^postern@' "$(last db_user)"
t_eq "no postern user for hand-written SQL" NULL "$(last 'IFNULL(admin_user, "NULL")')"
t_eq "table, op, key, address" "mailboxes UPDATE anna@example.org anna@example.org example.org" \
    "$(last "CONCAT_WS(' ', table_name, op, row_key, address, domain)")"
t_eq "only the changed columns, old and new" \
    '{"display_name":"Anna","quota_bytes":null} {"display_name":"Anna A.","quota_bytes":1000}' \
    "$(last "CONCAT(JSON_COMPACT(old_values), ' ', JSON_COMPACT(new_values))")"
n=$(count)
client "UPDATE mailboxes SET quota_bytes = 1000 WHERE address = 'anna@example.org'"
t_eq "an UPDATE that changes nothing is not logged" "$n" "$(count)"
client "UPDATE mailboxes SET display_name = 'anna a.' WHERE address = 'anna@example.org'"
t_eq "a change of letter case is a change" '{"display_name":"anna a."}' "$(last 'JSON_COMPACT(new_values)')"

# --- @postern_user -----------------------------------------------------------
client "SET @postern_user = 'alice'; UPDATE aliases SET active = 0 WHERE target = 'boss@elsewhere.example'"
t_eq "SET @postern_user names the admin" "alice aliases UPDATE info@example.org -> boss@elsewhere.example" \
    "$(last "CONCAT_WS(' ', admin_user, table_name, op, row_key)")"
r=$("$P" -c "$CONF" --user bob mailbox set anna@example.org quota=2G 2>&1)
t_eq "postern --user bob mailbox set succeeds" 0 "$?"
t_eq "postern names its admin (--user)" "bob@mailboxes@UPDATE@2147483648" \
    "$(last "CONCAT_WS('@', admin_user, table_name, op, JSON_VALUE(new_values, '$.quota_bytes'))")"

# --- a DELETE keeps the old values ------------------------------------------
client "DELETE FROM aliases WHERE target = 'boss@elsewhere.example'"
t_eq "DELETE recorded with the old row" "DELETE|info@example.org|boss@elsewhere.example|0|NULL" \
    "$(last "CONCAT_WS('|', op, address, JSON_VALUE(old_values, '$.target'), JSON_VALUE(old_values, '$.active'), IFNULL(new_values, 'NULL'))")"

# --- secrets -----------------------------------------------------------------
KEYFILE=$H_DIR/example.org.key
printf -- '-----BEGIN PRIVATE KEY-----\nKEYMATERIALXYZ\n-----END PRIVATE KEY-----\n' > "$KEYFILE"
client "INSERT INTO dkim_keys (domain, selector, algorithm, key_path) VALUES ('example.org', 's1', 'rsa-sha256', '$KEYFILE')"
client "UPDATE dkim_keys SET key_path = '$KEYFILE.new' WHERE selector = 's1'"
t_eq "a DKIM key change is recorded (the path)" "s1._domainkey.example.org $KEYFILE.new" \
    "$(last "CONCAT_WS(' ', row_key, JSON_VALUE(new_values, '$.key_path'))")"
client "UPDATE mailboxes SET password_hash = '{SHA512-CRYPT}\$6\$othersalt\$NEWSECRETHASH' WHERE address = 'anna@example.org'"
t_eq "a password change is recorded as a change, not a value" '{"password_hash":"(set)"} {"password_hash":"(changed)"}' \
    "$(last "CONCAT(JSON_COMPACT(old_values), ' ', JSON_COMPACT(new_values))")"
t_eq "no key material and no password hash anywhere in the log" 0 \
    "$(count "CONCAT_WS(' ', old_values, new_values) REGEXP 'KEYMATERIAL|PRIVATE KEY|SECRETHASH|saltsalt|othersalt'")"
out=$("$P" -c "$CONF" audit example.org table=dkim_keys 2>&1)
t_match "postern audit shows the DKIM change" "dkim_keys	UPDATE	s1._domainkey.example.org	key_path: \"$KEYFILE\" -> \"$KEYFILE.new\"" "$out"

# --- state tables are not audited -------------------------------------------
n=$(count)
h_sql "INSERT INTO greylist_triplets (triplet_hash, client_net, sender, recipient, first_seen, last_seen)
       VALUES (UNHEX(SHA2('t', 256)), '192.0.2.0/24', 's@x.example', 'anna@example.org', 1, 1);
       UPDATE greylist_triplets SET block_count = 2"
t_eq "greylist_triplets (state) is not logged" "$n" "$(count)"
t_eq "no audit trigger on a state table" 0 \
    "$(h_sql "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'postern' AND trigger_name LIKE '%audit%' AND event_object_table IN ('greylist_triplets', 'greylist_clients', 'ratelimit_keys', 'ratelimit_events', 'change_log', 'sieve_duplicates', 'sieve_sends', 'vacation_responses', 'directory_sync', 'directory_log', 'directory_guard')")"
# 21 tables in 0007/0012, group_moderators in 0014
t_eq "every configuration table has its three audit triggers" 66 \
    "$(h_sql "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'postern' AND trigger_name LIKE '%\\_audit\\_a_'")"
t_eq "every column of an audited table is in its audit trigger (a migration adding one recreates them)" NULL \
    "$(h_sql "SELECT IFNULL(GROUP_CONCAT(CONCAT(c.table_name, '.', c.column_name)), 'NULL') FROM information_schema.columns c
              JOIN information_schema.triggers t ON t.trigger_schema = c.table_schema AND t.trigger_name = CONCAT(c.table_name, '_audit_ai')
              WHERE c.table_schema = 'postern' AND c.column_name NOT IN ('created_at', 'updated_at', 'maildir', 'scope', 'member_group')
                AND LOCATE(CONCAT('''', c.column_name, ''', '), t.action_statement) = 0")"
t_eq "the change_log triggers still run (change_log rows for mailboxes)" 1 \
    "$(h_sql "SELECT COUNT(*) > 0 FROM change_log WHERE tbl = 'mailboxes' AND pk = 'anna@example.org'")"

# --- postern-dirsync names itself -------------------------------------------
cat > "$H_DIR/dirsync.conf" <<EOC
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
[directory]
base = dc=example,dc=org
sendmail = /bin/false
mail_root = $H_DIR/mail
EOC
h_sql "INSERT INTO mailboxes (local_part, domain, owner, dir_uuid, state, state_since, grace_until, notice_sent_at, reminder_sent_at)
       VALUES ('gone', 'example.org', 'ldap', '0a0a0a0a-0000-4000-8000-000000000001', 'leaving', NOW() - INTERVAL 60 DAY,
               NOW() - INTERVAL 1 DAY, NOW() - INTERVAL 60 DAY, NOW() - INTERVAL 8 DAY)"
"$BUILD/postern-dirsync" -c "$H_DIR/dirsync.conf" lifecycle > "$H_DIR/dirsync.out" 2>&1
t_eq "postern-dirsync closed the account" closed \
    "$(h_sql "SELECT state FROM mailboxes WHERE local_part = 'gone'")"
t_eq "postern-dirsync's changes are attributed to it" "postern-dirsync" \
    "$(h_sql "SELECT admin_user FROM audit_log WHERE address = 'gone@example.org' AND op = 'UPDATE' ORDER BY id DESC LIMIT 1")"

# --- postern audit -----------------------------------------------------------
out=$("$P" -c "$CONF" audit anna@example.org 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
t_match "the listing has a header" '^# at	db_user	admin_user	table	op	key	change' "$out"
t_match "hand-written UPDATE shown with db user and no admin" \
    '	postern@[^	]+	-	mailboxes	UPDATE	anna@example.org	display_name: "Anna" -> "Anna A.", quota_bytes: null -> 1000' "$out"
t_match "bob's change shown" '	bob	mailboxes	UPDATE	anna@example.org	quota_bytes: 1000 -> 2147483648' "$out"
t_eq "user=alice" 1 "$("$P" -c "$CONF" audit user=alice | grep -c '	alice	aliases	UPDATE')"
t_eq "table=aliases: 2 inserts, 1 update, 1 delete" 4 "$("$P" -c "$CONF" audit table=aliases | grep -vc '^#')"
t_eq "limit=2 gives the newest two" 2 "$("$P" -c "$CONF" audit limit=2 | grep -vc '^#')"
t_eq "since in the future: nothing" 0 "$("$P" -c "$CONF" audit since=2999-01-01 | grep -vc '^#')"
t_eq "until=1h (older than an hour): nothing" 0 "$("$P" -c "$CONF" audit until=1h | grep -vc '^#')"
t_eq "since=1h: everything" "$(count)" "$("$P" -c "$CONF" audit since=1h limit=1000 | grep -vc '^#')"
t_ok "--json is one JSON array with the stored objects" python3 -c '
import json, sys
rows = json.loads(sys.stdin.read())
u = [r for r in rows if r["op"] == "UPDATE" and r["admin_user"] is None and r["table"] == "mailboxes"][0]
assert u["old"]["quota_bytes"] is None and u["new"]["quota_bytes"] == 1000, u
assert rows[0]["id"] < rows[-1]["id"]
' < <("$P" -c "$CONF" --json audit anna@example.org)
"$P" -c "$CONF" audit tabel=aliases > /dev/null 2> "$H_DIR/err"
t_eq "unknown key: usage (64)" 64 "$?"
t_match "... with a suggestion" "did you mean 'table'" "$(cat "$H_DIR/err")"
"$P" -c "$CONF" audit table=greylist_triplets > /dev/null 2> "$H_DIR/err"
t_eq "a table that is not audited: 65" 65 "$?"
"$P" -c "$CONF" audit 'not an address@' > /dev/null 2>&1
t_eq "a bad address: 65" 65 "$?"
"$P" -c "$CONF" audit since=yesterday > /dev/null 2>&1
t_eq "a bad time: 65" 65 "$?"

# --- prune -------------------------------------------------------------------
total=$(count)
h_sql "UPDATE audit_log SET at = NOW(6) - INTERVAL 400 DAY WHERE table_name = 'domains';
       UPDATE audit_log SET at = NOW(6) - INTERVAL 200 DAY WHERE table_name = 'dkim_keys';
       UPDATE audit_log SET at = NOW(6) - INTERVAL 50 DAY WHERE table_name = 'aliases'"
old400=$(count "table_name = 'domains'"); old200=$(count "table_name = 'dkim_keys'")
r=$("$P" -c "$CONF" --dry-run audit prune older-than=365d)
t_eq "--dry-run counts" "would prune $old400 rows older than 31536000 s" "$r"
t_eq "--dry-run deletes nothing" "$total" "$(count)"
r=$("$P" -c "$CONF" audit prune older-than=365d)
t_eq "prune older-than=365d" "pruned $old400 rows older than 31536000 s" "$r"
t_eq "only the 400-day-old rows are gone" "$((total - old400))" "$(count)"
r=$("$P" -c "$CONF" audit prune)
t_eq "prune with [audit] retention = 100d" "pruned $old200 rows older than 8640000 s" "$r"
t_eq "the 50-day-old and new rows stay" "$((total - old400 - old200))" "$(count)"
t_eq "the 50-day-old alias rows stay" 4 "$(count "table_name = 'aliases'")"
"$P" -c "$CONF" audit prune older-than=0 > /dev/null 2>&1
t_eq "older-than=0 is refused (65)" 65 "$?"
t_summary
