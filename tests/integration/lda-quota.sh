#!/bin/bash
# lda-quota.sh - the mailbox usage in SQL and the quota warnings, through
# a real Postfix (pipe(8) to postern-lda) and MariaDB (issue 17, part 4).
#
# A mailbox with a 100000-byte quota: every delivery writes its
# mailbox_usage row with the absolute Maildir figures (asserted against
# the files); crossing 80% delivers exactly one warning into the INBOX,
# a further delivery above 80% none, crossing 95% another, a further
# delivery no third; a refusal for a full mailbox still writes the row;
# after files are deleted by hand `postern quota recount` fixes the row
# (and maildirsize, owned by the mailbox owner); dropping below every
# threshold resets the state, so the next crossing warns again; the
# German text with quota_warning_language = de, a reminder after
# quota_warning_reminder (not before, not twice); quota_warning = "" sends
# none; a mailbox without quota gets no row, `recount --all` writes it; a
# bad quota_warning is refused by -t.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('q.example', 'local');
       INSERT INTO mailboxes (local_part, domain, quota_bytes) VALUES
         ('small', 'q.example', 100000), ('de', 'q.example', 100000),
         ('free', 'q.example', NULL), ('quiet', 'q.example', 100000);" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@q.example'"; }
md_small=$(md small); md_de=$(md de); md_free=$(md free); md_quiet=$(md quiet)

ROOT=$H_DIR/mail
mkdir -p "$ROOT" "$H_DIR/spool"
chown nobody:nogroup "$ROOT" "$H_DIR/spool"
cp "$BUILD/postern-lda" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
LDA=$H_DIR/postern-lda
cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"; chmod 600 "$H_DIR/dbpw"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
user = nobody
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
EOC
chmod 644 "$CONF"
t_ok "-t accepts the defaults (quota_warning = 80%,95%)" "$LDA" -c "$CONF" -t
sed 's/^\[database\]/quota_warning = 95%,80%\n[database]/' "$CONF" > "$H_DIR/bad.conf"
out=$("$LDA" -c "$H_DIR/bad.conf" -t 2>&1); rc=$?
t_eq "descending quota_warning refused by -t" 1 "$rc"
t_match "names the key" 'quota_warning' "$out"

h_start_smtp_sink ext
cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $CONF -f \${sender} -a \${recipient} -q \${queue_id}
EOM
h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = q.example
virtual_mailbox_maps = static:ok
virtual_transport = postern
postern_destination_recipient_limit = 1
relayhost = [127.0.0.1]:$H_SINK_EXT_PORT
EOF

status() { grep -F " $1: to=<$2>," "$H_PF_LOG" | tail -n 1 | sed -nE 's/.*status=([a-z]+) .*/\1/p'; }
has_status() { [ "$(status "$1" "$2")" = "$3" ]; }
# deliver TO BYTES SUBJECT - send a message with a body of BYTES bytes and
# wait for its final status; prints the status
deliver() {
    local to=$1 n=$2 subj=$3 r qid
    { printf 'Subject: %s\nFrom: s@ext.example\n\n' "$subj"
      head -c "$n" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } > "$H_DIR/msg.eml"
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --from s@ext.example --to "$to" --data "$H_DIR/msg.eml")
    qid=$(printf '%s' "$r" | sed -nE 's/.*queued as ([0-9A-Za-z]+).*/\1/p')
    [ -n "$qid" ] || { echo "notqueued"; return; }
    h_wait_for 20 sh -c "grep -F ' $qid: to=<$to>,' '$H_PF_LOG' | grep -qE 'status=(sent|bounced)'"
    status "$qid" "$to"
}
# files MD - the messages in every folder; sizes MD - their byte sum
files() { find "$ROOT/$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) | wc -l; }
sizes() { find "$ROOT/$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
row() { h_sql "SELECT bytes, messages, quota_bytes, source FROM mailbox_usage WHERE address = '$1@q.example'"; }
state() { h_sql "SELECT IFNULL(warned_percent, 'NULL') FROM mailbox_usage WHERE address = '$1@q.example'"; }
warnings() { grep -l '^Subject: Your mailbox is' "$ROOT/$1"/new/* 2>/dev/null | wc -l; }
used() { h_sql "SELECT bytes FROM mailbox_usage WHERE address = '$1@q.example'"; }
# to_percent ADDR P - a body size that brings the mailbox to about P%
# (Postfix and postern-lda add about 500 bytes of header)
to_percent() { echo $(( $2 * 1000 - $(used "$1") - 700 )); }

# --- 1. the usage row after each delivery ------------------------------------
t_eq "first delivery sent" sent "$(deliver small@q.example 30000 one)"
t_eq "row: the Maildir's bytes and messages, the quota, source lda" \
    "$(sizes "$md_small")	1	100000	lda" "$(row small)"
t_eq "30%: no warning" 0 "$(warnings "$md_small")"
t_eq "no warning state" NULL "$(state small)"

# --- 2. crossing 80% ---------------------------------------------------------------
t_eq "delivery to 85% sent" sent "$(deliver small@q.example "$(to_percent small 85)" two)"
t_eq "crossing 80%: exactly one warning in the INBOX" 1 "$(warnings "$md_small")"
w=$(grep -l '^Subject: Your mailbox is' "$ROOT/$md_small"/new/* | head -n 1)
t_match "it gives the usage figures" 'Your mailbox small@q\.example is 8[0-9]% full: [0-9.]+ KB of 97\.7 KB used \(2 messages\)' "$(cat "$w")"
t_ok "From: postmaster@ the mailbox domain" grep -qx 'From: postmaster@q.example' "$w"
t_ok "Return-Path <> and Delivered-To" sh -c "sed -n 1,2p '$w' | tr '\n' ' ' | grep -qx 'Return-Path: <> Delivered-To: small@q.example '"
t_ok "Auto-Submitted: auto-generated" grep -qx 'Auto-Submitted: auto-generated' "$w"
t_ok "smaller than 2 KB" test "$(stat -c %s "$w")" -lt 2048
t_eq "owned by the mailbox owner" nobody "$(stat -c %U "$w")"
t_eq "state: warned at 80" 80 "$(state small)"
t_eq "the warning is counted in the row" "$(sizes "$md_small")	3	100000	lda" "$(row small)"
t_eq "and in maildirsize" "$(sizes "$md_small")" "$(awk 'NR > 1 {s += $1} END {print s}' "$ROOT/$md_small/maildirsize")"

t_eq "a further delivery above 80% sent" sent "$(deliver small@q.example 1000 three)"
t_eq "no second 80% warning" 1 "$(warnings "$md_small")"

# --- 3. crossing 95%, then no third -------------------------------------------------
t_eq "delivery to 96% sent" sent "$(deliver small@q.example "$(to_percent small 96)" four)"
t_eq "crossing 95%: a second warning" 2 "$(warnings "$md_small")"
t_eq "state: warned at 95" 95 "$(state small)"
t_eq "a further delivery sent" sent "$(deliver small@q.example 300 five)"
t_eq "no third warning" 2 "$(warnings "$md_small")"
t_eq "row still exact" "$(sizes "$md_small")	$(files "$md_small")	100000	lda" "$(row small)"

# --- 4. a full mailbox still writes the row ------------------------------------------
h_sql "UPDATE mailbox_usage SET bytes = 1, messages = 1, source = 'recount' WHERE address = 'small@q.example'"
t_eq "over quota: bounced" bounced "$(deliver small@q.example 20000 six)"
t_eq "the refusal rewrote the row from the Maildir" "$(sizes "$md_small")	$(files "$md_small")	100000	lda" "$(row small)"

# --- 5. postern quota recount after deleting files by hand -----------------------------
PC=$H_DIR/postern.conf
cp "$CONF" "$PC"
for f in $(grep -L '^Subject: Your mailbox is' "$ROOT/$md_small"/new/* | head -n 2); do rm -f "$f"; done
stale=$(row small)
t_ok "the row is stale after deleting by hand" test "$stale" != "$(sizes "$md_small")	$(files "$md_small")	100000	lda"
out=$("$BUILD/postern" -c "$PC" quota recount small@q.example 2>&1); rc=$?
t_eq "recount: exit 0" 0 "$rc"
t_match "recount prints the figures" "small@q\.example	$(sizes "$md_small")	$(files "$md_small")	100000	ok" "$out"
t_eq "recount fixed the row (source recount)" "$(sizes "$md_small")	$(files "$md_small")	100000	recount" "$(row small)"
t_eq "maildirsize rewritten" "100000S" "$(head -n 1 "$ROOT/$md_small/maildirsize")"
t_eq "maildirsize still owned by the mailbox owner" nobody "$(stat -c %U "$ROOT/$md_small/maildirsize")"
out=$("$BUILD/postern" -c "$PC" --dry-run quota recount --domain q.example 2>&1); rc=$?
t_eq "recount --domain --dry-run: 0" 0 "$rc"
t_match "dry run counts" 'counted \(dry run\)' "$out"
t_eq "dry run writes no row for the other mailboxes" 0 "$(h_sql "SELECT COUNT(*) FROM mailbox_usage WHERE address = 'free@q.example'")"
out=$("$BUILD/postern" -c "$PC" quota recount nobody@q.example 2>&1); rc=$?
t_eq "recount of an unknown mailbox: 66" 66 "$rc"
out=$("$BUILD/postern" -c "$PC" quota recount 2>&1); rc=$?
t_eq "recount without an operand: 64" 64 "$rc"

# --- 6. below every threshold resets; the next crossing warns again ----------------------
for f in $(grep -L '^Subject: Your mailbox is' "$ROOT/$md_small"/new/*); do rm -f "$f"; done
"$BUILD/postern" -c "$PC" quota recount small@q.example > /dev/null 2>&1
t_eq "a small delivery after the cleanup sent" sent "$(deliver small@q.example 100 seven)"
t_eq "below every threshold: state reset" NULL "$(state small)"
t_eq "delivery to 85% again sent" sent "$(deliver small@q.example "$(to_percent small 85)" eight)"
t_eq "crossing 80% again: warned again" 3 "$(warnings "$md_small")"

# --- 7. German text; no warnings configured; no quota ----------------------------------
sed -i 's/^\[database\]/quota_warning_language = de\n[database]/' "$CONF"
t_eq "de: delivery to 85% sent" sent "$(deliver de@q.example 84000 neun)"
t_ok "German warning" grep -rqx 'Subject: Ihr Postfach ist zu 8[0-9] % voll' "$ROOT/$md_de/new"
t_ok "German body with the figures" grep -rqE '^Ihr Postfach de@q\.example ist zu 8[0-9] % voll: [0-9,]+ KB von 97,7 KB belegt' "$ROOT/$md_de/new"
dew() { grep -rlx 'Subject: Ihr Postfach ist zu 8[0-9] % voll' "$ROOT/$md_de/new" | wc -l; }
t_eq "de: one warning" 1 "$(dew)"
h_sql "UPDATE mailbox_usage SET warned_at = NOW() - INTERVAL 6 DAY WHERE address = 'de@q.example'"
t_eq "de: a delivery 6 days later sent" sent "$(deliver de@q.example 100 sechs)"
t_eq "before quota_warning_reminder (7d): no reminder" 1 "$(dew)"
h_sql "UPDATE mailbox_usage SET warned_at = NOW() - INTERVAL 8 DAY WHERE address = 'de@q.example'"
t_eq "de: a delivery 8 days later sent" sent "$(deliver de@q.example 100 acht)"
t_eq "after quota_warning_reminder: reminded once" 2 "$(dew)"
t_eq "de: the next delivery sent" sent "$(deliver de@q.example 100 neun)"
t_eq "and not again" 2 "$(dew)"
sed -i 's/^quota_warning_language = de$/quota_warning =/' "$CONF"
t_eq "quota_warning empty: delivery sent" sent "$(deliver quiet@q.example 90000 ten)"
t_eq "quota_warning empty: no warning" 0 "$(grep -rlE '^Subject: (Your mailbox is|Ihr Postfach)' "$ROOT/$md_quiet/new" | wc -l)"
t_eq "but the row is written" "$(sizes "$md_quiet")	1	100000	lda" "$(row quiet)"
t_eq "no quota: delivery sent" sent "$(deliver free@q.example 1000 eleven)"
t_eq "no quota: no row" "" "$(row free)"
out=$("$BUILD/postern" -c "$PC" --json quota recount --all 2>&1); rc=$?
t_eq "recount --all: 0" 0 "$rc"
t_ok "recount --all --json parses, one object per mailbox" \
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert len(d) == 4, d' "$out"
t_eq "recount --all wrote the row of the mailbox without quota" "$(sizes "$md_free")	1	0	recount" "$(row free)"
t_summary
