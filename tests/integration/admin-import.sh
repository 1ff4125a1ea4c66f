#!/bin/bash
# admin-import.sh - postern import (admin/import.c) on a real MariaDB: a
# PostfixAdmin database (its schema as PostfixAdmin's upgrade.php creates
# it: domain, alias_domain, mailbox, alias) with a bad address, an alias
# domain, a multi-target alias, a forward with a copy, a catch-all,
# inactive rows, a backup MX domain, vacation targets and password hashes
# of several schemes is imported through a read-only account; --dry-run
# changes nothing; a second import reports the rows as already present,
# not as errors; CSV imports of mailboxes and aliases with bad lines.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
P=$BUILD/postern
h_init
h_start_mariadb
h_sql_file sql/schema.sql

CONF=$H_DIR/postern.conf
cat > "$CONF" <<EOC
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
EOC
pg() { h_sql "$@"; }

# --- a PostfixAdmin database, read by an account that may only SELECT -----
h_sql "CREATE DATABASE pfa CHARACTER SET utf8mb4;
CREATE TABLE pfa.domain (domain varchar(255) NOT NULL, description varchar(255) NOT NULL DEFAULT '',
  aliases int(10) NOT NULL DEFAULT 0, mailboxes int(10) NOT NULL DEFAULT 0, maxquota bigint(20) NOT NULL DEFAULT 0,
  quota bigint(20) NOT NULL DEFAULT 0, transport varchar(255) DEFAULT NULL, backupmx tinyint(1) NOT NULL DEFAULT 0,
  created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  active tinyint(1) NOT NULL DEFAULT 1, PRIMARY KEY (domain)) COMMENT='Postfix Admin - Virtual Domains';
CREATE TABLE pfa.alias_domain (alias_domain varchar(255) NOT NULL DEFAULT '', target_domain varchar(255) NOT NULL DEFAULT '',
  created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  active tinyint(1) NOT NULL DEFAULT 1, PRIMARY KEY (alias_domain)) COMMENT='Postfix Admin - Domain Aliases';
CREATE TABLE pfa.mailbox (username varchar(255) NOT NULL DEFAULT '', password varchar(255) NOT NULL DEFAULT '',
  name varchar(255) NOT NULL DEFAULT '', maildir varchar(255) NOT NULL DEFAULT '', quota bigint(20) NOT NULL DEFAULT 0,
  local_part varchar(255) NOT NULL DEFAULT '', domain varchar(255) NOT NULL DEFAULT '',
  created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  active tinyint(1) NOT NULL DEFAULT 1, PRIMARY KEY (username)) COMMENT='Postfix Admin - Virtual Mailboxes';
CREATE TABLE pfa.alias (address varchar(255) NOT NULL DEFAULT '', goto text NOT NULL, domain varchar(255) NOT NULL DEFAULT '',
  created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  active tinyint(1) NOT NULL DEFAULT 1, PRIMARY KEY (address)) COMMENT='Postfix Admin - Virtual Aliases';
INSERT INTO pfa.domain (domain, description, transport, backupmx, active) VALUES
  ('ALL', '', NULL, 0, 1),
  ('example.org', 'Example Org', 'virtual', 0, 1),
  ('old.example', 'closed customer', 'virtual', 0, 0),
  ('backup.example', 'we are its backup MX', 'relay', 1, 1);
INSERT INTO pfa.alias_domain (alias_domain, target_domain, active) VALUES ('alias.example', 'example.org', 1);
INSERT INTO pfa.mailbox (username, password, name, maildir, quota, local_part, domain, active) VALUES
  ('anna@example.org', '{SHA512-CRYPT}\$6\$annasalt\$AnnaHash', 'Anna Apfel', 'example.org/anna/', 1024000000, 'anna', 'example.org', 1),
  ('bert@example.org', '\$1\$bertsalt\$BertHash', 'Bert', 'example.org/bert/', 0, 'bert', 'example.org', 0),
  ('carl@example.org', '\$2y\$10\$CarlBcryptHashCarlBcryptHashCarlBcryptHashCarlBcr', '', 'example.org/carl/', 0, 'carl', 'example.org', 1),
  ('dora@example.org', '{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99', 'Dora', 'example.org/dora/', 0, 'dora', 'example.org', 1),
  ('bad address@example.org', '\$6\$x\$y', 'Bad', 'example.org/bad/', 0, 'bad address', 'example.org', 1),
  ('eve@old.example', '{MD5-CRYPT}\$1\$evesalt\$EveHash', 'Eve', 'old.example/eve/', 0, 'eve', 'old.example', 0);
INSERT INTO pfa.alias (address, goto, domain, active) VALUES
  ('anna@example.org', 'anna@example.org', 'example.org', 1),
  ('bert@example.org', 'bert@example.org,bert@mail.elsewhere.example', 'example.org', 0),
  ('carl@example.org', 'carl@example.org,carl#example.org@autoreply.example.org', 'example.org', 1),
  ('info@example.org', 'anna@example.org,carl@example.org', 'example.org', 1),
  ('@example.org', 'anna@example.org', 'example.org', 1),
  ('sales@example.org', 'anna@example.org', 'example.org', 0),
  ('team@example.org', 'anna@example.org, not an address', 'example.org', 1),
  ('x y@example.org', 'anna@example.org', 'example.org', 1),
  ('eve@old.example', 'eve@old.example', 'old.example', 0);
CREATE USER 'pfaread'@'localhost' IDENTIFIED BY 'pfa-read';
CREATE USER 'pfaread'@'127.0.0.1' IDENTIFIED BY 'pfa-read';
GRANT SELECT ON pfa.* TO 'pfaread'@'localhost';
GRANT SELECT ON pfa.* TO 'pfaread'@'127.0.0.1'"
printf 'pfa-read\n' > "$H_DIR/pfa.pw"; chmod 600 "$H_DIR/pfa.pw"
PFA=(host=127.0.0.1:$H_DB_PORT db=pfa user=pfaread password_file=$H_DIR/pfa.pw)

# --- dry run -------------------------------------------------------------------
out=$("$P" -c "$CONF" --dry-run import postfixadmin "${PFA[@]}" 2> "$H_DIR/dry.err")
rc=$?
t_eq "dry run: exit 65 (rows would be skipped)" 65 "$rc"
t_match "dry run: the report" '^would import 13, already present 0, ignored 4, skipped 5$' "$out"
t_eq "dry run: nothing written" "0 0 0" \
    "$(pg "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM mailboxes), (SELECT COUNT(*) FROM aliases))")"

# --- the import -------------------------------------------------------------------
out=$("$P" -c "$CONF" --user importer import postfixadmin "${PFA[@]}" 2> "$H_DIR/imp.err")
rc=$?
sed 's/^/# /' "$H_DIR/imp.err"
t_eq "import: exit 65 (some rows skipped)" 65 "$rc"
t_eq "import: the report" 'imported 13, already present 0, ignored 4, skipped 5' "$out"
err=$(cat "$H_DIR/imp.err")
t_match "skipped: the bad mailbox address, with the reason" "mailbox bad address@example.org: .*skipped: " "$err"
t_match "skipped: the unsupported hash scheme" "mailbox dora@example.org: skipped: password hash: scheme not supported" "$err"
t_match "skipped: the backup MX domain" "domain backup.example: .*skipped: a backup MX domain" "$err"
t_match "skipped: the bad alias address" "alias x y@example.org: .*skipped: " "$err"
t_match "skipped: the bad target of a multi-target alias" "alias team@example.org: skipped: 'not an address'" "$err"
t_eq "domains: local, inactive, alias domain; no ALL, no backup MX" \
    "alias.example alias example.org 1,example.org local - 1,old.example local - 0" \
    "$(pg "SELECT GROUP_CONCAT(CONCAT_WS(' ', name, kind, IFNULL(alias_target, '-'), active) ORDER BY name) FROM domains")"
t_eq "mailboxes: hashes in postern's form, quota, name, inactive kept" \
    "anna@example.org {SHA512-CRYPT}\$6\$annasalt\$AnnaHash 1024000000 Anna Apfel 1
bert@example.org {MD5-CRYPT}\$1\$bertsalt\$BertHash 0 Bert 0
carl@example.org {BLF-CRYPT}\$2y\$10\$CarlBcryptHashCarlBcryptHashCarlBcryptHashCarlBcr 0 - 1
eve@old.example {MD5-CRYPT}\$1\$evesalt\$EveHash 0 Eve 0" \
    "$(pg "SELECT CONCAT_WS(' ', address, password_hash, quota_bytes, IFNULL(display_name, '-'), active) FROM mailboxes ORDER BY address")"
t_eq "aliases: one row per target, copy kept, catch-all, inactive kept, no self rows, no vacation" \
    "@example.org anna@example.org 0 1
bert@example.org bert@mail.elsewhere.example 1 0
info@example.org anna@example.org 0 1
info@example.org carl@example.org 0 1
sales@example.org anna@example.org 0 0
team@example.org anna@example.org 0 1" \
    "$(pg "SELECT CONCAT_WS(' ', source, target, keep_copy, active) FROM aliases ORDER BY source, target")"
t_eq "the catch-all has no local part" NULL "$(pg "SELECT IFNULL(local_part, 'NULL') FROM aliases WHERE source = '@example.org'")"
t_eq "the audit log names the admin who imported" "13 importer" \
    "$(pg "SELECT CONCAT_WS(' ', COUNT(*), MIN(admin_user)) FROM audit_log WHERE op = 'INSERT' AND admin_user = 'importer'")"
t_eq "the PostfixAdmin database is unchanged" 6 "$(pg "SELECT COUNT(*) FROM pfa.mailbox")"

# --- a second import: duplicates, not errors -----------------------------------
out=$("$P" -c "$CONF" import postfixadmin "${PFA[@]}" 2> "$H_DIR/imp2.err")
rc=$?
t_eq "re-import: the rows are already present" 'imported 0, already present 13, ignored 4, skipped 5' "$out"
t_eq "re-import: only the bad rows are skipped, never a present one" 0 \
    "$(grep -c 'anna@example.org: skipped\|info@example.org: skipped' "$H_DIR/imp2.err")"
t_eq "re-import: nothing doubled" "3 4 6" \
    "$(pg "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM mailboxes), (SELECT COUNT(*) FROM aliases))")"
out=$("$P" -c "$CONF" --json import postfixadmin "${PFA[@]}" 2>/dev/null)
t_ok "--json: one object with the skipped rows" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["imported"] == 0 and r["already_present"] == 13 and r["skipped"] == 5, r
assert any(s["key"] == "dora@example.org" for s in r["skipped_rows"]), r
' "$out"
"$P" -c "$CONF" import postfixadmin host=127.0.0.1:$H_DB_PORT db=pfa user=pfaread password_file=$H_DIR/nonexistent > /dev/null 2>&1
t_ok "an unreadable password file is refused" test $? -ne 0

# --- CSV -----------------------------------------------------------------------
cat > "$H_DIR/mb.csv" <<'EOF'
address,display_name,password_hash,quota
new1@example.org,"Doe, John",$6$abc$def,2G
New2@Example.ORG,,,
bad@@example.org,Bad,,
new3@example.org,Three,,lots
# a comment line
new4@nowhere.example,Four,,
anna@example.org,Anna again,,
EOF
out=$("$P" -c "$CONF" import csv "$H_DIR/mb.csv" kind=mailboxes 2> "$H_DIR/csv.err")
rc=$?
sed 's/^/# /' "$H_DIR/csv.err"
t_eq "csv mailboxes: exit 65" 65 "$rc"
t_eq "csv mailboxes: the report" 'imported 2, already present 1, ignored 0, skipped 3' "$out"
t_match "csv: the bad line is named with its line number" 'line 4: bad@@example.org: skipped' "$(cat "$H_DIR/csv.err")"
t_match "csv: a bad quota" "line 5: new3@example.org: skipped: quota" "$(cat "$H_DIR/csv.err")"
t_match "csv: an unknown domain" "line 7: new4@nowhere.example: skipped: the domain nowhere.example is not hosted here" "$(cat "$H_DIR/csv.err")"
t_eq "csv: quoted comma, lower-cased address, size, hash prefixed" \
    "new1@example.org|Doe, John|{SHA512-CRYPT}\$6\$abc\$def|2147483648
new2@example.org|-|-|-" \
    "$(pg "SELECT CONCAT_WS('|', address, IFNULL(display_name, '-'), IFNULL(password_hash, '-'), IFNULL(quota_bytes, '-')) FROM mailboxes WHERE local_part LIKE 'new%' ORDER BY address")"
cat > "$H_DIR/al.csv" <<'EOF'
address,goto,keep_copy
list@example.org,"new1@example.org, new2@example.org",0
broken@example.org,,0
new1@example.org,new1@mail.elsewhere.example,yes
EOF
out=$("$P" -c "$CONF" import csv "$H_DIR/al.csv" kind=aliases 2> "$H_DIR/csv2.err")
t_eq "csv aliases: the report" 'imported 3, already present 0, ignored 0, skipped 1' "$out"
t_eq "csv aliases: rows" "list@example.org new1@example.org 0,list@example.org new2@example.org 0,new1@example.org new1@mail.elsewhere.example 1" \
    "$(pg "SELECT GROUP_CONCAT(CONCAT_WS(' ', source, target, keep_copy) ORDER BY source, target) FROM aliases WHERE source IN ('list@example.org', 'new1@example.org')")"
printf 'adress,goto\nx@example.org,y@example.org\n' > "$H_DIR/bad.csv"
"$P" -c "$CONF" import csv "$H_DIR/bad.csv" kind=aliases > /dev/null 2> "$H_DIR/csv3.err"
t_eq "csv: an unknown column is a usage error (64)" 64 "$?"
t_match "... with a suggestion" "did you mean 'address'" "$(cat "$H_DIR/csv3.err")"
"$P" -c "$CONF" import csv "$H_DIR/missing.csv" kind=aliases > /dev/null 2>&1
t_eq "csv: a missing file (66)" 66 "$?"
t_summary
