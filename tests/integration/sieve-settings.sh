#!/bin/bash
# sieve-settings.sh - settings without Sieve (issue 18): rows in
# mailbox_settings / mailbox_forwards, written by `postern vacation|forward|
# spam`, applied by postern-lda as a generated Sieve script through real
# Postfix + MariaDB, shown read-only by postern-managesieve.
#   1. the admin commands: set/show/off, validation (dates, addresses,
#      limits, unknown mailbox), audit rows;
#   2. delivery: vacation inside its window replies (and the user's own
#      script still files the message), outside it does not; forward with
#      and without a kept copy (the user's script still files its copy);
#      spam at or over the threshold lands in Junk, under it in INBOX;
#   3. the settings unreadable (table gone) or the database down: 4xx, the
#      message waits in Postfix's queue and is delivered with the settings
#      once the database answers;
#   4. ManageSieve: LISTSCRIPTS shows "postern-settings", GETSCRIPT its
#      text, every change to that name is refused;
#   5. import of a PostfixAdmin vacation table (dry run, unknown addresses,
#      a bad row, run twice).
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
HERE="$(cd "$(dirname "$0")" && pwd)"
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('va.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'va.example'), ('bert', 'va.example'),
         ('carl', 'va.example'), ('dora', 'va.example'), ('emil', 'va.example');" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@va.example'"; }
md_anna=$(md anna); md_bert=$(md bert); md_carl=$(md carl); md_dora=$(md dora); md_emil=$(md emil)
ROOT=$H_DIR/mail
for m in "$md_anna" "$md_bert" "$md_carl" "$md_dora" "$md_emil"; do mkdir -p "$ROOT/$m"; done
lda_install
CONF=$H_DIR/postern.conf
lda_conf "$CONF" "$ROOT" < /dev/null
ACONF=$H_DIR/admin.conf
printf '[database]\nhosts = 127.0.0.1:%s\nuser = postern\npassword_file = %s\nconnect_timeout = 1s\n' \
    "$H_DB_PORT" "$H_DB_PASSWORD_FILE" > "$ACONF"
OUT=$H_DIR/out ERR=$H_DIR/err
pa() { "$BUILD/postern" -c "$ACONF" --user admin-test "$@" > "$OUT" 2> "$ERR"; }

# --- 1. admin commands ---------------------------------------------------------------
day() { date -u -d "$1" +%Y-%m-%d; }
pa vacation set anna@va.example --subject "Out of office" --text "I am away until Monday." \
    --from "$(day yesterday)" --until "$(day tomorrow)" --days 2
t_eq "vacation set: exit 0" 0 $?
pa vacation show anna@va.example
t_match "vacation show: in the window now" $'in_window_now\t1' "$(cat "$OUT")"
t_match "vacation show: the until date is the end of that day" "until_utc	$(day tomorrow) 23:59:59" "$(cat "$OUT")"
pa vacation set anna@va.example --text x --from 2026-02-30
t_eq "vacation set: a date that does not exist: 65" 65 $?
pa vacation set anna@va.example --text x --from 2030-01-02 --until 2030-01-01
t_eq "vacation set: from after until: 65" 65 $?
pa vacation set anna@va.example --subject x
t_eq "vacation set: no text: 64" 64 $?
pa vacation set nobody@va.example --text x
t_eq "vacation set: no such mailbox: 66" 66 $?
t_match "vacation set: did you mean" "no mailbox nobody@va.example" "$(cat "$ERR")"
head -c 9000 /dev/zero | tr '\0' 'a' > "$H_DIR/long.txt"
pa vacation set anna@va.example --text-file "$H_DIR/long.txt"
t_eq "vacation set: a text over 8000 characters: 65" 65 $?
pa vacation set anna@va.example --text "$(printf 'a\001b')"
t_eq "vacation set: a control character: 65" 65 $?
pa forward set carl@va.example 'not an address'
t_eq "forward set: a bad target: 65" 65 $?
pa forward set carl@va.example carl@va.example
t_eq "forward set: the mailbox itself: 65" 65 $?
pa spam set emil@va.example --threshold lots
t_eq "spam set: a threshold that is no number: 65" 65 $?
pa spam set emil@va.example --threshold 5 --folder INBOX
t_eq "spam set: INBOX as the folder: 65" 65 $?
t_eq "nothing refused was written" 1 "$(h_sql 'SELECT COUNT(*) FROM mailbox_settings')"
printf 'Grüße,\r\nich bin "weg" \\ bis Mai.\r\n' > "$H_DIR/text.txt"
pa vacation set carl@va.example --text-file "$H_DIR/text.txt"
t_eq "vacation set --text-file" 0 $?
t_eq "--text-file: UTF-8 kept, CR LF -> LF, the last line break dropped" \
    "$(printf 'Grüße,\\nich bin "weg" \\\\ bis Mai.')" \
    "$(h_sql "SELECT vacation_body FROM mailbox_settings s JOIN mailboxes m ON m.id = s.mailbox_id WHERE m.address = 'carl@va.example'")"
pa vacation off carl@va.example
t_eq "vacation off" 0 $?
t_eq "vacation off keeps the text" "0 1" \
    "$(h_sql "SELECT CONCAT(vacation_active, ' ', vacation_body IS NOT NULL) FROM mailbox_settings s JOIN mailboxes m ON m.id = s.mailbox_id WHERE m.address = 'carl@va.example'")"
pa audit table=mailbox_settings
t_match "postern audit table=mailbox_settings shows the change" 'carl@va.example' "$(cat "$OUT")"

pa vacation set bert@va.example --text "Away later." --from "$(day '+2 days')"
t_eq "vacation set (a window in the future)" 0 $?
pa forward set carl@va.example fwd1@remote.example --keep
t_eq "forward set --keep" 0 $?
pa forward set dora@va.example fwd2@remote.example
t_eq "forward set (no copy)" 0 $?
pa forward show dora@va.example
t_match "forward show" $'targets\tfwd2@remote.example\nkeep_copy\t0' "$(cat "$OUT")"
pa spam set emil@va.example --threshold 5
t_eq "spam set" 0 $?
pa spam show emil@va.example
t_match "spam show: the default folder Junk" $'threshold\t5.00\nfolder\tJunk' "$(cat "$OUT")"
pa vacation script anna@va.example
t_match "vacation script: the generated text uses currentdate" 'currentdate :zone "\+0000" :value "ge" "iso8601"' "$(cat "$OUT")"
t_eq "audit: the settings rows are recorded with the admin's name" 5 \
    "$(h_sql "SELECT COUNT(DISTINCT address) FROM audit_log WHERE table_name IN ('mailbox_settings', 'mailbox_forwards') AND admin_user = 'admin-test'")"
t_eq "audit: the forward target's row" 1 \
    "$(h_sql "SELECT COUNT(*) FROM audit_log WHERE table_name = 'mailbox_forwards' AND row_key = 'dora@va.example -> fwd2@remote.example'")"

# --- 2. delivery through Postfix + postern-lda ------------------------------------------
lda_start_postfix va.example "$CONF" relay
# the users' own scripts: anna files everything into Own; dora files
# subjects with "keepme" into Kept
printf 'require "fileinto";\nfileinto "Own";\n' > "$ROOT/$md_anna/.postern.sieve"
printf 'require "fileinto";\nif header :contains "subject" "keepme" { fileinto "Kept"; }\n' > "$ROOT/$md_dora/.postern.sieve"
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"

count() { find "$ROOT/$1/${2:-}new" "$ROOT/$1/${2:-}cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
NMSG=0
send() { # FROM RCPT SUBJECT [EXTRA-HEADER]
    NMSG=$((NMSG + 1)); local f=$H_DIR/send.$NMSG
    printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <s%s.%s@remote.example>\n%s\nbody %s\n' \
        "$1" "$2" "$3" "$NMSG" "$$" "${4:-X-Test: 1}" "$NMSG" > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from "$1" --to "$2" --data "$f" >/dev/null
}
settle() { h_wait_queue_empty 20 >/dev/null; }
sink_rcpts() { grep -h '^RCPT TO' "$H_SINK_SMARTHOST_DIR"/*.env 2>/dev/null | sort | tr '\n' ' '; }

send sam@remote.example anna@va.example "hello anna"
settle
t_ok "vacation in its window: the reply reaches the smarthost" h_wait_sink_count smarthost 1 10
M=$(h_sink_last smarthost eml)
t_eq "vacation: the subject set by the admin" "Subject: Out of office" "$(grep '^Subject:' "$M")"
t_match "vacation: the text set by the admin" 'I am away until Monday.' "$(cat "$M")"
t_eq "the user's own script still ran: the message is in Own" 1 "$(count "$md_anna" .Own/)"
t_eq "... and not in INBOX" 0 "$(count "$md_anna")"
send sam@remote.example anna@va.example "hello again"
settle
sleep 0.5
t_eq "vacation: one reply per sender within :days" 1 "$(h_sink_count smarthost)"
t_eq "vacation_responses recorded the reply" 1 "$(h_sql "SELECT COUNT(*) FROM vacation_responses")"

send sam@remote.example bert@va.example "hello bert"
settle
sleep 0.5
t_eq "vacation outside its window: no reply" 1 "$(h_sink_count smarthost)"
t_eq "vacation outside its window: delivered" 1 "$(count "$md_bert")"

send sam@remote.example carl@va.example "for carl"
settle
t_ok "forward --keep: the copy reaches the target" h_wait_sink_count smarthost 2 10
t_match "forward: to fwd1@remote.example" 'RCPT TO:<fwd1@remote.example>' "$(sink_rcpts)"
t_eq "forward --keep: a copy stays in INBOX" 1 "$(count "$md_carl")"

send sam@remote.example dora@va.example "for dora"
settle
t_ok "forward without a copy: the target gets it" h_wait_sink_count smarthost 3 10
t_match "forward: to fwd2@remote.example" 'RCPT TO:<fwd2@remote.example>' "$(sink_rcpts)"
t_eq "forward without a copy: nothing in INBOX" 0 "$(count "$md_dora")"
send sam@remote.example dora@va.example "please keepme"
settle
t_ok "forward without a copy: forwarded again" h_wait_sink_count smarthost 4 10
t_eq "the user's own script still files its copy (Kept)" 1 "$(count "$md_dora" .Kept/)"
t_eq "... and INBOX still empty" 0 "$(count "$md_dora")"

send sam@remote.example emil@va.example "spam" "X-Spam-Score: 7.5"
send sam@remote.example emil@va.example "ham" "X-Spam-Score: 2.0"
send sam@remote.example emil@va.example "borderline" "X-Spam-Score: 5.0"
settle
t_eq "spam at or over the threshold: Junk (7.5 and 5.0)" 2 "$(count "$md_emil" .Junk/)"
t_eq "spam under the threshold: INBOX" 1 "$(count "$md_emil")"
t_match "Junk holds the spam" 'Subject: spam' "$(cat "$ROOT/$md_emil"/.Junk/new/* 2>/dev/null)"

# --- 3. settings unreadable, database down: 4xx, never delivered without them ----------
# deferred_log TEXT: Postfix logged a 4xx deferral of carl's mail with TEXT
deferred_log() { grep -qE "to=<carl@va.example>.*dsn=4\.[0-9.]+, status=deferred.*$1" "$H_PF_LOG"; }
h_sql "RENAME TABLE mailbox_forwards TO mailbox_forwards_away"
send sam@remote.example carl@va.example "while the settings are unreadable"
t_wait "settings unreadable: Postfix deferred the message (4xx)" 10 deferred_log settings
t_eq "settings unreadable: the message waits in Postfix's queue" 1 "$(h_queue_count)"
t_eq "settings unreadable: nothing delivered without the forward" 1 "$(count "$md_carl")"
h_sql "RENAME TABLE mailbox_forwards_away TO mailbox_forwards"
h_postqueue_flush; settle
t_eq "settings back: delivered from the queue" 2 "$(count "$md_carl")"
t_ok "settings back: forwarded too" h_wait_sink_count smarthost 5 10

h_stop_mariadb
send sam@remote.example carl@va.example "while the database is down"
t_wait "database down: Postfix deferred the message (4xx)" 10 deferred_log 'lookup failed'
t_eq "database down: the message waits in Postfix's queue" 1 "$(h_queue_count)"
t_eq "database down: nothing delivered" 2 "$(count "$md_carl")"
h_restart_mariadb
h_postqueue_flush; settle
t_eq "database back: delivered" 3 "$(count "$md_carl")"
t_ok "database back: forwarded with the settings" h_wait_sink_count smarthost 6 10

# --- 4. ManageSieve: the read-only view -----------------------------------------------
HASH=$(openssl passwd -6 'anna-pw')
h_sql "UPDATE mailboxes SET password_hash = '{SHA512-CRYPT}$HASH' WHERE address = 'anna@va.example'"
MPORT=$(h_free_port)
cat > "$H_DIR/ms.conf" <<CONF
[managesieve]
listen = inet:127.0.0.1:$MPORT
require_tls = no
auth = sql
mail_root = $ROOT
auth_penalty_initial = 0
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
CONF
"$BUILD/postern-managesieve" -f -c "$H_DIR/ms.conf" 2> "$H_DIR/ms.log" &
h_track_pid $!
t_wait "postern-managesieve listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT"
CLIENT="$H_PYTHON $HERE/managesieve_client.py"
printf 'keep;\n' > "$H_DIR/keep.sieve"
out=$($CLIENT "$MPORT" '@AUTH anna@va.example anna-pw' LISTSCRIPTS 'GETSCRIPT "postern-settings"' \
    '@PUT postern-settings '"$H_DIR/keep.sieve" 'DELETESCRIPT "postern-settings"' \
    'SETACTIVE "postern-settings"' 'RENAMESCRIPT "postern-settings" "mine"' \
    '@PUT mine '"$H_DIR/keep.sieve" 'RENAMESCRIPT "mine" "postern-settings"' \
    'HAVESPACE "postern-settings" 10' 2>&1)
printf '%s\n' "$out" > "$H_DIR/ms.out"
blk() { awk -v c="$1" '/^>>> /{p = index($0, c) == 5} p' "$H_DIR/ms.out"; }
t_match "LISTSCRIPTS shows postern-settings" '"postern-settings"' "$(blk LISTSCRIPTS)"
t_not "... never as the ACTIVE script" grep -q '"postern-settings" ACTIVE' "$H_DIR/ms.out"
t_match "GETSCRIPT returns the generated text" 'vacation :days 2 :subject "Out of office"' "$(blk 'GETSCRIPT "postern-settings"')"
t_match "GETSCRIPT ends OK" '^OK' "$(blk 'GETSCRIPT "postern-settings"' | tail -1)"
t_match "PUTSCRIPT on the name: NO, read-only" '^NO .*read-only' "$(blk '@PUT postern-settings' | tail -1)"
t_match "DELETESCRIPT on the name: NO" '^NO .*read-only' "$(blk 'DELETESCRIPT "postern-settings"' | tail -1)"
t_match "SETACTIVE on the name: NO" '^NO .*read-only' "$(blk 'SETACTIVE "postern-settings"' | tail -1)"
t_match "RENAMESCRIPT from the name: NO" '^NO .*read-only' "$(blk 'RENAMESCRIPT "postern-settings" "mine"' | tail -1)"
t_match "RENAMESCRIPT to the name: NO (reserved)" '^NO .*reserved' "$(blk 'RENAMESCRIPT "mine" "postern-settings"' | tail -1)"
t_match "HAVESPACE on the name: NO" '^NO' "$(blk 'HAVESPACE "postern-settings"' | tail -1)"
t_ok "no file named postern-settings was written" test ! -e "$ROOT/$md_anna/sieve/postern-settings.sieve"
HASH=$(openssl passwd -6 'bert-pw')
h_sql "UPDATE mailboxes SET password_hash = '{SHA512-CRYPT}$HASH' WHERE address = 'carl@va.example';
       UPDATE mailboxes SET password_hash = '{SHA512-CRYPT}$HASH' WHERE address = 'bert@va.example'"
pa vacation off bert@va.example
t_eq "vacation off" 0 $?
out=$($CLIENT "$MPORT" '@AUTH bert@va.example bert-pw' LISTSCRIPTS 'GETSCRIPT "postern-settings"' 2>&1)
t_not "a mailbox without settings: not listed" grep -q '"postern-settings"' <<<"$(printf '%s\n' "$out" | sed -n '/^>>> LISTSCRIPTS/,/^>>> GETSCRIPT/p' | sed '$d')"
t_match "a mailbox without settings: GETSCRIPT NONEXISTENT" 'NO \(NONEXISTENT\)' "$out"

# --- 5. import from a PostfixAdmin vacation table -----------------------------------------
mariadb --no-defaults -uroot --socket="$H_DB_SOCKET" <<'SQL'
CREATE DATABASE pfa;
CREATE TABLE pfa.vacation (
  email varchar(255) NOT NULL PRIMARY KEY, subject varchar(255) NOT NULL, body text NOT NULL,
  cache text NOT NULL DEFAULT '', domain varchar(255) NOT NULL,
  created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  active tinyint(1) NOT NULL DEFAULT 1, activefrom timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',
  activeuntil timestamp NOT NULL DEFAULT '2038-01-18 00:00:00', interval_time int NOT NULL DEFAULT 0);
INSERT INTO pfa.vacation (email, subject, body, domain, active, activefrom, activeuntil, interval_time) VALUES
  ('Emil@va.example', 'Urlaub', 'Bin weg.\r\nGrüße', 'va.example', 1, '2026-01-01 00:00:00', '2036-01-01 00:00:00', 172800),
  ('ghost@va.example', 'x', 'y', 'va.example', 1, '2026-01-01', '2036-01-01', 0),
  ('dora@va.example', 'old', 'old text', 'va.example', 0, '2020-01-01', '2020-02-01', 0),
  ('broken@@va.example', 'x', 'y', 'va.example', 1, '2026-01-01', '2036-01-01', 0);
GRANT SELECT ON pfa.* TO 'postern'@'localhost';
GRANT SELECT ON pfa.* TO 'postern'@'127.0.0.1';
SQL
before=$(h_sql "SELECT COUNT(*) FROM mailbox_settings WHERE vacation_body IS NOT NULL")
pa --dry-run vacation import-postfixadmin schema=pfa
t_eq "import --dry-run: exit 65 (a row skipped)" 65 $?
t_eq "import --dry-run: nothing changed" "$before" "$(h_sql "SELECT COUNT(*) FROM mailbox_settings WHERE vacation_body IS NOT NULL")"
pa vacation import-postfixadmin schema=pfa
t_eq "import: exit 65 (a row skipped)" 65 $?
t_eq "import: counts" "$(printf 'imported\t2\nunknown\t1\nskipped\t1')" "$(cat "$OUT")"
t_match "import: the unknown address reported" 'ghost@va.example: no such mailbox' "$(cat "$ERR")"
t_match "import: the bad row reported" 'broken@@va.example.*skipped' "$(cat "$ERR")"
t_eq "import: emil's reply (CR LF -> LF, dates as they are, interval 2 days)" \
    "$(printf 'Urlaub\tBin weg.\\nGrüße\t2026-01-01 00:00:00\t2036-01-01 00:00:00\t2\t1')" \
    "$(h_sql "SELECT s.vacation_subject, s.vacation_body, s.vacation_from, s.vacation_until, s.vacation_days, s.vacation_active FROM mailbox_settings s JOIN mailboxes m ON m.id = s.mailbox_id WHERE m.address = 'emil@va.example'")"
t_eq "import: an inactive reply stays inactive; dora's forward is kept" "0 fwd2@remote.example" \
    "$(h_sql "SELECT CONCAT(s.vacation_active, ' ', f.target) FROM mailbox_settings s JOIN mailboxes m ON m.id = s.mailbox_id JOIN mailbox_forwards f ON f.mailbox_id = m.id WHERE m.address = 'dora@va.example'")"
pa spam show emil@va.example
t_match "import: emil's spam setting untouched" $'threshold\t5.00' "$(cat "$OUT")"
mariadb --no-defaults -uroot --socket="$H_DB_SOCKET" -e "UPDATE pfa.vacation SET subject = 'Urlaub bis Mai' WHERE email = 'Emil@va.example'"
n=$(h_sql "SELECT COUNT(*) FROM mailbox_settings")
pa vacation import-postfixadmin schema=pfa
t_eq "import again: the same rows" "$n" "$(h_sql "SELECT COUNT(*) FROM mailbox_settings")"
t_eq "import again: the changed subject updated" "Urlaub bis Mai" \
    "$(h_sql "SELECT s.vacation_subject FROM mailbox_settings s JOIN mailboxes m ON m.id = s.mailbox_id WHERE m.address = 'emil@va.example'")"
pa vacation import-postfixadmin 'schema=pfa`; DROP TABLE x'
t_eq "import: a schema name that is no identifier: 64" 64 $?
t_summary
