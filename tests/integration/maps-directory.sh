#!/bin/bash
# maps-directory.sh - what postern-maps answers for the rows postern-dirsync
# writes (issue 13; sql/migrations/0006_directory.sql), through a real
# MariaDB and a real Postfix, with no milter:
#   - a directory group address without a mailbox row is accepted at RCPT
#     (250), and mail that reaches it without postern-milter's expansion
#     is deferred (retry:), never delivered into a Maildir nor bounced;
#     a placeholder mailbox row for a group address still wins;
#   - a closed mailbox is refused with 550 5.2.1 at RCPT in every spelling
#     (case, +ext, trailing dot, quoted, alias domain, an alternative
#     address); with closed_forward its mail goes to the forward target;
#     nobody may send as it (senderlogin);
#   - a leaving mailbox gets its mail;
#   - a state changed in SQL, a group added or removed, is answered within
#     two seconds as a delta (no full reload), with no TEMP answer.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
h_start_smtp_sink ext
h_start_smtp_sink store
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null

U=00000000-0000-4000-8000-0000000000
if ! h_sql "
INSERT INTO domains (name, kind, alias_target) VALUES
  ('school.example', 'local', NULL), ('schule.example', 'alias', 'school.example');
INSERT INTO mailboxes (local_part, domain, owner, dir_uuid, state, grace_until, closed_forward) VALUES
  ('anna', 'school.example', 'ldap', '${U}01', 'active',  NULL, NULL),
  ('leo',  'school.example', 'ldap', '${U}02', 'leaving', NOW() + INTERVAL 56 DAY, NULL),
  ('carl', 'school.example', 'ldap', '${U}03', 'closed',  NULL, NULL),
  ('fred', 'school.example', 'ldap', '${U}04', 'closed',  NULL, 'fred.new@elsewhere.example'),
  ('9b',   'school.example', 'sql',  NULL,     'active',  NULL, NULL);
INSERT INTO aliases (domain, local_part, target, owner, dir_uuid) VALUES
  ('school.example', 'c.alt', 'carl@school.example', 'ldap', '${U}03'),
  ('school.example', 'l.alt', 'leo@school.example',  'ldap', '${U}02');
INSERT INTO directory_groups (dir_uuid, address, dn, name, members) VALUES
  ('${U}0a', '9a@school.example', 'cn=bns-9a,cn=klassen,dc=school,dc=example', 'bns-9a', 2),
  ('${U}0b', '9b@school.example', 'cn=bns-9b,cn=klassen,dc=school,dc=example', 'bns-9b', 2);
INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('default', '', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_EXT_PORT'),
  ('default', '', 'local',    'smtp:[127.0.0.1]:$H_SINK_STORE_PORT');
"; then
    t_fail "the directory rows load"; t_summary; exit 1
fi

MPORT=$(h_free_port)
cat > "$H_DIR/postern.conf" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
poll_interval = 100ms
max_staleness = 1s
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
CONF
"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f 2> "$H_DIR/maps.log" &
MPID=$!
h_track_pid $MPID
SM="socketmap:inet:127.0.0.1:$MPORT"

# closed_text: bounded, printable
sed 's/^\[maps\]$/&\nclosed_text = account closed, ask the school office/' \
    "$H_DIR/postern.conf" > "$H_DIR/text.conf"
t_ok "postern-maps -t accepts a closed_text" "$BUILD/postern-maps" -t -c "$H_DIR/text.conf"
sed 's/^\[maps\]$/&\nclosed_text = a\x01b/' "$H_DIR/postern.conf" > "$H_DIR/bad.conf"
t_match "postern-maps -t refuses a closed_text with a control character" \
    'closed_text' "$("$BUILD/postern-maps" -t -c "$H_DIR/bad.conf" 2>&1)"
sed "s/^\[maps\]\$/&\nclosed_text = $(printf '%0201d' 0)/" "$H_DIR/postern.conf" > "$H_DIR/bad.conf"
t_match "postern-maps -t refuses a closed_text over 200 bytes" \
    'closed_text' "$("$BUILD/postern-maps" -t -c "$H_DIR/bad.conf" 2>&1)"

h_start_postfix - <<EOF
virtual_mailbox_domains = $SM:mailboxdomain
virtual_mailbox_maps = $SM:mailbox
virtual_alias_maps = $SM:alias
transport_maps = $SM:transport
virtual_transport = error:no local transport
recipient_delimiter = +
smtpd_recipient_restrictions = check_recipient_access $SM:rcptcheck, reject_unlisted_recipient, permit_mynetworks, reject_unauth_destination
EOF
q() { h_postmap_q "$1" "$SM:$2" 2>&1; }
t_wait "postern-maps answers after loading the tables" 10 \
    bash -c "postmap -c $H_PF_CONF -q school.example $SM:domain >/dev/null"

# --- the answers ------------------------------------------------------------------
TR="retry:4.3.0 directory group address was not expanded by postern-milter"
t_eq "mailbox: a group address without a mailbox row" "directory-group" "$(q 9a@school.example mailbox)"
t_eq "mailbox: the group through the alias domain, +ext" "directory-group" "$(q 9A+x@schule.example mailbox)"
t_eq "maildir: a group has none" "" "$(q 9a@school.example maildir)"
t_eq "alias: the group maps to itself" "9a@school.example" "$(q 9a@school.example alias)"
t_eq "transport: the group waits" "$TR" "$(q 9a@school.example transport)"
t_match "mailbox: the placeholder row wins" '^vol01/.*/9b@school\.example/$' "$(q 9b@school.example mailbox)"
t_eq "rcptcheck: closed" "550 5.2.1 mailbox closed" "$(q carl@school.example rcptcheck)"
t_eq "rcptcheck: the alternative address of a closed mailbox" "550 5.2.1 mailbox closed" "$(q c.alt@school.example rcptcheck)"
t_eq "rcptcheck: closed with a forward: no opinion" "" "$(q fred@school.example rcptcheck)"
t_eq "alias: closed with a forward" "fred.new@elsewhere.example" "$(q fred@school.example alias)"
t_eq "rcptcheck: leaving: no opinion" "" "$(q leo@school.example rcptcheck)"
t_eq "senderlogin: closed: nobody" "" "$(q carl@school.example senderlogin)"
t_eq "senderlogin: the alternative address of a closed mailbox: nobody" "" "$(q c.alt@school.example senderlogin)"
t_eq "senderlogin: leaving: the owner" "leo@school.example" "$(q leo@school.example senderlogin)"
t_eq "senderlogin: the alternative address of a leaving mailbox" "leo@school.example" "$(q l.alt@school.example senderlogin)"

# --- through Postfix ------------------------------------------------------------------
P=$H_PF_SMTP_PORT
send() { h_smtp --port $P --from x@gmail.example --to "$1" --subject "$2"; }
for a in carl@school.example Carl@School.Example carl+news@school.example \
         carl@school.example. '"carl"@school.example' '"Carl+x"@schule.example.' \
         carl@schule.example c.alt@school.example C.Alt+y@schule.example; do
    t_match "closed: $a refused 550 5.2.1 at RCPT" \
        '^RCPT 550 5\.2\.1 .*mailbox closed' "$(send "$a" closed)"
done
t_match "unknown address: still 550 5.1.1" '^RCPT 550 5\.1\.1 ' "$(send nobody@school.example t)"

t_match "group without a mailbox row: RCPT 250" '^RCPT 250 ' \
    "$(h_smtp --port $P --from x@gmail.example --to 9A+x@schule.example --stop-after rcpt)"
t_match "group without a mailbox row: mail accepted" '^DATA 250 ' "$(send 9a@school.example group)"
deferred() { grep -q 'to=<9a@school.example>.*status=deferred (directory group address was not expanded by postern-milter)' "$H_PF_LOG"; }
t_wait "... and deferred by retry(8) (no milter expanded it)" 15 deferred
t_match "leaving: mail accepted" '^DATA 250 ' "$(send leo@school.example leaving)"
t_match "closed with a forward: mail accepted" '^DATA 250 ' "$(send Fred+x@schule.example forward)"
t_match "placeholder mailbox row for a group: mail accepted" '^DATA 250 ' "$(send 9b@school.example placeholder)"
t_ok "the store received leo's and the placeholder's mail" h_wait_sink_count store 2 15
t_ok "the forward target received fred's mail" h_wait_sink_count ext 1 15
envs() { cat "$1"/*.env 2>/dev/null; }
t_match "leo's mail is in the store" 'RCPT TO:<leo@school\.example>' "$(envs "$H_SINK_STORE_DIR")"
t_match "the placeholder row still gets the group's mail" 'RCPT TO:<9b@school\.example>' "$(envs "$H_SINK_STORE_DIR")"
t_eq "fred's mail went to the forward only" "RCPT TO:<fred.new@elsewhere.example>" \
    "$(grep -h '^RCPT' "$H_SINK_EXT_DIR"/*.env)"
t_not "nothing for fred reached the store" grep -q fred "$H_SINK_STORE_DIR"/*.env
h_postqueue_flush
sleep 2
t_not "the group's mail was never delivered" grep -q 9a@ "$H_SINK_STORE_DIR"/*.env "$H_SINK_EXT_DIR"/*.env
t_match "... it waits in the queue" '9a@school\.example' "$(postqueue -c "$H_PF_CONF" -p)"
t_not "nothing bounced" grep -q 'status=bounced' "$H_PF_LOG"

# --- live changes: deltas, no TEMP ------------------------------------------------
loads() { grep -c 'routing tables loaded' "$H_DIR/maps.log"; }
loads0=$(loads)
# one connection asks without pause while SQL changes; every answer counted
python3 - "$MPORT" "$H_DIR/watch.stop" > "$H_DIR/watch.out" <<'PY' &
import os, socket, sys, time
sys.path.insert(0, "tests/integration")
from sockmap import ns, read_ns
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
seen = {}
keys = ["rcptcheck anna@school.example", "mailbox 5a@school.example",
        "mailbox 9a@school.example"]
while not os.path.exists(sys.argv[2]):
    for k in keys:
        s.sendall(ns(k.encode()))
        r = read_ns(s)
        word = (r or "CLOSED").split(" ")[0]
        seen[word] = seen.get(word, 0) + 1
    time.sleep(0.002)
print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))
PY
WPID=$!
sleep 0.5
h_sql "UPDATE mailboxes SET state = 'closed', state_reason = 'test' WHERE address = 'anna@school.example'"
t_wait "anna closed in SQL: refused within 2 s" 2 \
    bash -c "[ \"\$(postmap -c $H_PF_CONF -q anna@school.example $SM:rcptcheck)\" = '550 5.2.1 mailbox closed' ]"
t_match "... at RCPT" '^RCPT 550 5\.2\.1 ' "$(send anna@schule.example t)"
h_sql "UPDATE mailboxes SET state = 'leaving', grace_until = NOW() + INTERVAL 1 DAY WHERE address = 'anna@school.example'"
t_wait "anna back (leaving): accepted within 2 s" 2 \
    bash -c "[ -z \"\$(postmap -c $H_PF_CONF -q anna@school.example $SM:rcptcheck)\" ]"
t_match "... and her mail accepted" '^DATA 250 ' "$(send anna@school.example back)"
h_sql "INSERT INTO directory_groups (dir_uuid, address, dn) VALUES ('${U}5a', '5a@school.example', 'cn=bns-5a,dc=school,dc=example')"
t_wait "a new group is a valid recipient within 2 s" 2 \
    bash -c "[ \"\$(postmap -c $H_PF_CONF -q 5a@school.example $SM:mailbox)\" = directory-group ]"
t_match "... at RCPT" '^RCPT 250 ' \
    "$(h_smtp --port $P --from x@gmail.example --to 5a@school.example --stop-after rcpt)"
h_sql "DELETE FROM directory_groups WHERE address = '9a@school.example'"
t_wait "a deleted group is gone within 2 s" 2 \
    bash -c "! postmap -c $H_PF_CONF -q 9a@school.example $SM:mailbox"
# an smtpd process that resolved 9a@ before keeps the retry: route in its
# resolve cache and answers 450 4.3.0 (safe) until it exits; a new one
# refuses the unknown address
r=$(send 9a@school.example gone)
t_match "... refused at RCPT (450 4.3.0 from a cached route, or 550 5.1.1)" \
    '^RCPT (450 4\.3\.0|550 5\.1\.1) ' "$r"
h_postfix_reload
t_match "... 550 5.1.1 from a new smtpd" '^RCPT 550 5\.1\.1 ' "$(send 9a@school.example gone)"
touch "$H_DIR/watch.stop"
wait $WPID
w=$(cat "$H_DIR/watch.out")
t_match "the watcher got answers" 'OK=[0-9]+' "$w"
t_not "no TEMP answer during the changes ($w)" grep -q TEMP "$H_DIR/watch.out"
t_eq "the changes came as deltas (no full load)" "$loads0" "$(loads)"
t_ok "store got anna's mail" h_wait_sink_count store 3 15

kill -TERM $MPID
t_wait "postern-maps stops cleanly" 5 bash -c "! kill -0 $MPID 2>/dev/null"
t_summary
