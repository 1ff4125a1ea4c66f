#!/bin/bash
# contain.sh - a hijacked account is contained, not just counted (issue 19
# part 1; policyd/contain.c, admin/contain.c, migration 0013).
#
# One MariaDB, two postern-policyd instances (two MX hosts' policy
# services), one Postfix with two smtpd listeners: port S1 asks policyd 1,
# port S2 asks policyd 2 (smtpd_recipient_restrictions and
# smtpd_data_restrictions).  Every mail leaves through a sink (the "world"
# and the mailboxes alike).  Clients are made authenticated logins from a
# chosen address with XCLIENT ADDR= LOGIN= (tests/integration/
# xclient_send.py).
#
#  A. rule burst (3 messages per hour, action hold, contain): the 4th
#     message of pupil1 on instance 1 is held and contains the login; its
#     next message on instance 2 is held at once too; mail to pupil1 still
#     arrives; the admin mail arrives once (with both held queue ids), the
#     user notice too; `postern contain clear --release` releases both held
#     messages (delivered) and pupil1 sends again.
#  B. rule roam (more than 2 client networks /24 in 10 minutes, action
#     reject, contain): pupil2 from 127.0.1.5 (S1), 127.0.2.5 (S2),
#     127.0.3.5 (S1): refused with 550 5.7.1 account suspended ..., and on
#     instance 2 within a second; admin mail once with the three client
#     addresses; clear restores sending.
#  D. a second incident of pupil1: `postern contain clear --discard` deletes
#     its held message (never delivered); postern ratelimit takes
#     counts=networks and contain=yes.
#  C. database down: an authenticated login is deferred (4.3.0, nothing
#     sent while its state cannot be read); mail from outside still passes.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SEND="$HERE/xclient_send.py"
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "INSERT INTO ratelimit_rules (name, key_type, counts, action, priority, contain)
  VALUES ('burst', 'sasl_login', 'messages', 'hold', 10, 1),
         ('roam', 'sasl_login', 'networks', 'reject', 20, 1);
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 3 FROM ratelimit_rules WHERE name = 'burst';
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 600, 2 FROM ratelimit_rules WHERE name = 'roam';"

h_start_smtp_sink world
SINK_DIR=$H_SINK_WORLD_DIR
python3 "$HERE/milter-auth.py" --port-file "$H_DIR/auth.port" </dev/null \
    > "$H_DIR/auth.log" 2>&1 &
h_track_pid $!
h_wait_for 10 test -s "$H_DIR/auth.port"
P1=$(h_free_port)
P2=$(h_free_port)
S2=$(h_free_port)

cat > "$H_DIR/main.extra" <<EOF
relayhost = [127.0.0.1]:$H_SINK_WORLD_PORT
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$(cat "$H_DIR/auth.port")
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$P1, permit
smtpd_data_restrictions = check_policy_service inet:127.0.0.1:$P1
p2_rcpt = check_policy_service inet:127.0.0.1:$P2, permit
p2_data = check_policy_service inet:127.0.0.1:$P2
EOF
cat > "$H_DIR/master.extra" <<EOF
127.0.0.1:$S2 inet n - n - - smtpd -o smtpd_recipient_restrictions=\$p2_rcpt -o smtpd_data_restrictions=\$p2_data
EOF
h_start_postfix "$H_DIR/main.extra" "$H_DIR/master.extra"
S1=$H_PF_SMTP_PORT

printf '#!/bin/sh\nexec /usr/sbin/sendmail -C %s "$@"\n' "$H_PF_CONF" > "$H_DIR/sendmail"
printf '#!/bin/sh\necho "$@" >> %s/postsuper.calls\nexec /usr/sbin/postsuper -c %s "$@"\n' \
    "$H_DIR" "$H_PF_CONF" > "$H_DIR/postsuper"
printf '#!/bin/sh\nexec /usr/sbin/postqueue -c %s "$@"\n' "$H_PF_CONF" > "$H_DIR/postqueue"
chmod 755 "$H_DIR/sendmail" "$H_DIR/postsuper" "$H_DIR/postqueue"

conf() { # conf FILE PORT
    cat > "$1" <<CONF
[policyd]
listen = inet:127.0.0.1:$2
workers = 2
poll_interval = 100ms
checks = ratelimit
contain_contact = helpdesk@example.org
contain_notify = admin@example.org
contain_from = postmaster@example.org
contain_sendmail = $H_DIR/sendmail
contain_postsuper = $H_DIR/postsuper
contain_postqueue = $H_DIR/postqueue
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 3s
retry_interval = 100ms
CONF
}
conf "$H_DIR/p1.conf" "$P1"
conf "$H_DIR/p2.conf" "$P2"
"$BUILD/postern-policyd" -f -c "$H_DIR/p1.conf" 2> "$H_DIR/p1.log" &
h_track_pid $!
"$BUILD/postern-policyd" -f -c "$H_DIR/p2.conf" 2> "$H_DIR/p2.log" &
h_track_pid $!
PC="$HERE/policy_client.py"
up() { [ "$(python3 "$PC" "$1" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd 1 answers" 10 up "$P1"
t_wait "policyd 2 answers" 10 up "$P2"

ADMIN="$BUILD/postern -c $H_DIR/p1.conf"
# send PORT CLIENT_IP LOGIN ("-": none) SUBJECT FROM TO...
send() {
    local port=$1 client=$2 login=$3 subject=$4
    shift 4
    [ "$login" = - ] && login=""
    XCLIENT_LOGIN=$login XCLIENT_SUBJECT=$subject \
        python3 "$SEND" "$port" "$client" client.test "$@" 2>&1
}
qid_of() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1"; }
# sink_count RCPT [PATTERN]: messages the sink took for RCPT (matching)
sink_count() {
    local n=0 env
    for env in "$SINK_DIR"/*.env; do
        [ -e "$env" ] || continue
        grep -qi "^RCPT TO:<$1>" "$env" || continue
        [ -e "${env%.env}.eml" ] || continue
        [ -z "${2:-}" ] || grep -q -- "$2" "${env%.env}.eml" || continue
        n=$((n + 1))
    done
    echo $n
}
sink_has() { [ "$(sink_count "$@")" -ge 1 ]; }
held() { postqueue -c "$H_PF_CONF" -j | grep -c '"queue_name": *"hold"' || true; }
held_has() { postqueue -c "$H_PF_CONF" -j | grep '"queue_name": *"hold"' | grep -q "\"$1\""; }

# --- A: a burst is held and contains the login ------------------------------
for i in 1 2 3; do
    r=$(send "$S1" 127.0.0.1 pupil1@example.org "burst-$i" pupil1@example.org friend$i@example.net)
    t_match "pupil1 message $i passes" "^DATA 250" "$r"
done
r=$(send "$S1" 127.0.0.1 pupil1@example.org held-1 pupil1@example.org victim1@example.net)
t_match "the 4th message is accepted (held)" "^DATA 250" "$r"
Q1=$(qid_of "$r")
t_eq "the incident is a row" "1	burst	hold" \
    "$(h_sql "SELECT COUNT(*), MAX(rule_name), MAX(action) FROM contained_logins WHERE login = 'pupil1@example.org' AND cleared_at IS NULL")"
r=$(send "$S2" 127.0.0.1 pupil1@example.org held-2 pupil1@example.org victim2@example.net)
t_match "instance 2 holds its next message at once" "^DATA 250" "$r"
Q2=$(qid_of "$r")
t_wait "both messages are in the hold queue" 10 bash -c "[ \"\$(postqueue -c '$H_PF_CONF' -j | grep -c '\"queue_name\": *\"hold\"')\" = 2 ]"
t_ok "held: $Q1 (instance 1)" held_has "$Q1"
t_ok "held: $Q2 (instance 2)" held_has "$Q2"
t_match "the row lists both held queue ids" "$Q1.*$Q2|$Q2.*$Q1" \
    "$(h_sql "SELECT queue_ids FROM contained_logins WHERE login = 'pupil1@example.org'")"
r=$(send "$S2" 127.0.0.9 - inbound-1 parent@example.net pupil1@example.org)
t_match "mail to pupil1 is still accepted" "^DATA 250" "$r"
t_wait "and delivered" 20 sink_has pupil1@example.org "Subject: inbound-1"
t_wait "the admin mail arrives" 20 sink_has admin@example.org "login pupil1@example.org suspended"
t_wait "the user is told" 20 sink_has pupil1@example.org "may not send mail for now"
ADMIN_MAIL=$(grep -l "login pupil1@example.org suspended" "$SINK_DIR"/*.eml | head -1)
t_match "the admin mail names the rule and window" "rule burst.*over 3 messages within 3600 s" "$(tr '\n' ' ' < "$ADMIN_MAIL")"
t_match "the admin mail lists the held queue id" "$Q1" "$(cat "$ADMIN_MAIL")"
t_match "the admin mail lists a recipient" "victim" "$(cat "$ADMIN_MAIL")"
t_match "the admin mail lists the client address" "127.0.0.1" "$(cat "$ADMIN_MAIL")"
t_match "postern contain list shows it" "pupil1@example.org.*burst.*hold" "$($ADMIN contain list)"
# no sender, and a milter that signs nothing it cannot (the test data has
# no mailboxes: explain's model of reject_sender_login_mismatch and the
# milter's From check would refuse first)
{ cat "$H_DIR/p1.conf"; printf '[milter]\nunowned_from = unsigned\n'; } > "$H_DIR/explain.conf"
EXPLAIN="$BUILD/postern -c $H_DIR/explain.conf"
ex=$($EXPLAIN explain client=127.0.0.1 login=pupil1@example.org recipient=victim3@example.net 2>&1)
t_match "explain: a contained login under a hold rule is accepted and held" \
    "verdict: 250 accepted and held in Postfix's hold queue \(postern-policyd at RCPT" "$ex"
t_match "... --json says so too" '"verdict": "accepted and held"' \
    "$($EXPLAIN --json explain client=127.0.0.1 login=pupil1@example.org recipient=victim3@example.net 2>&1)"
sleep 2
t_eq "the admin mail arrived exactly once" 1 "$(sink_count admin@example.org "login pupil1@example.org suspended")"
t_eq "the user notice arrived exactly once" 1 "$(sink_count pupil1@example.org "may not send mail for now")"

out=$($ADMIN contain clear pupil1@example.org --release 2>&1)
t_eq "contain clear --release succeeds" 0 $?
t_match "postsuper released the held ids" "-H .*$Q1" "$(cat "$H_DIR/postsuper.calls")"
t_match "... and says how many were held" "released 2 of the incident's 2 held messages" "$out"
t_wait "the hold queue is empty" 20 bash -c "[ \"\$(postqueue -c '$H_PF_CONF' -j | grep -c '\"queue_name\": *\"hold\"')\" = 0 ]"
t_wait "held-1 is delivered" 20 sink_has victim1@example.net "Subject: held-1"
t_wait "held-2 is delivered" 20 sink_has victim2@example.net "Subject: held-2"
t_match "the row records who cleared it and how" "release" \
    "$(h_sql "SELECT cleared_how FROM contained_logins WHERE login = 'pupil1@example.org'")"
r=$(send "$S2" 127.0.0.1 pupil1@example.org after-clear pupil1@example.org friend9@example.net)
t_match "pupil1 sends again at once" "^DATA 250" "$r"
$ADMIN contain show pupil1@example.org > "$H_DIR/show" 2>&1
t_match "contain show tells it is cleared" "cleared" "$(cat "$H_DIR/show")"

# --- B: too many client networks, refused everywhere -------------------------
r=$(send "$S1" 127.0.1.5 pupil2@example.org roam-1 pupil2@example.org a@example.net)
t_match "pupil2 from network 1 passes" "^DATA 250" "$r"
r=$(send "$S2" 127.0.2.5 pupil2@example.org roam-2 pupil2@example.org b@example.net)
t_match "pupil2 from network 2 passes" "^DATA 250" "$r"
r=$(send "$S1" 127.0.3.5 pupil2@example.org roam-3 pupil2@example.org c@example.net)
t_match "a third network is refused" "^RCPT 550 5.7.1 .*account suspended for sending, contact helpdesk@example.org" "$r"
# the propagation, timed in one process: pupil4 from three networks on
# instance 1 (the third contains it), then at once on instance 2
prop=$(python3 - "$P1" "$P2" <<'PY'
import socket, sys, time
def ask(port, net, n):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "protocol_name=ESMTP\nclient_address=127.0.%d.7\n"
               "sasl_username=pupil4@example.org\nsender=pupil4@example.org\n"
               "recipient=x%d@example.net\ninstance=p4.%d\n\n" % (net, n, n)).encode())
    r = b""
    while not r.endswith(b"\n\n"):
        c = s.recv(4096)
        if not c:
            break
        r += c
    return r.decode().split("\n")[0].partition("=")[2]
for n in (11, 12):
    ask(sys.argv[1], n, n)
a1 = ask(sys.argv[1], 13, 13)
t0 = time.monotonic()
a2 = ask(sys.argv[2], 11, 14)
print("%s|%s|%d" % (a1, a2, (time.monotonic() - t0) * 1000))
PY
)
h_log "propagation: $prop"
t_match "instance 1 contains pupil4" "^550 5.7.1 account suspended" "${prop%%|*}"
a=${prop#*|}
t_eq "instance 2 refuses pupil4 at its next request" "550 5.7.1 account suspended for sending, contact helpdesk@example.org" "${a%%|*}"
t_ok "within a second (${prop##*|} ms)" [ "${prop##*|}" -lt 1000 ]
r=$(send "$S2" 127.0.1.5 pupil2@example.org roam-4 pupil2@example.org d@example.net)
t_match "instance 2 refuses it through Postfix" "^RCPT 550 5.7.1 .*account suspended for sending" "$r"
r=$(send "$S1" 127.0.0.9 - inbound-2 parent@example.net pupil2@example.org)
t_match "mail to pupil2 is still accepted" "^DATA 250" "$r"
t_wait "and delivered" 20 sink_has pupil2@example.org "Subject: inbound-2"
t_wait "the admin mail for pupil2 arrives" 20 sink_has admin@example.org "login pupil2@example.org suspended"
ADMIN_MAIL=$(grep -l "login pupil2@example.org suspended" "$SINK_DIR"/*.eml | head -1)
t_match "it counts the networks" "3 client networks \\(/24, /64\\) within 600 s, limit 2" "$(cat "$ADMIN_MAIL")"
for c in 127.0.1.5 127.0.2.5 127.0.3.5; do
    t_match "it lists the client address $c" "  - $c" "$(cat "$ADMIN_MAIL")"
done
t_wait "pupil2 is told" 20 sink_has pupil2@example.org "may not send mail for now"
sleep 1
t_eq "one admin mail for pupil2" 1 "$(sink_count admin@example.org "login pupil2@example.org suspended")"
$ADMIN contain clear nobody@example.org > /dev/null 2>&1
t_eq "clearing a login that is not contained: 66" 66 $?
$ADMIN contain clear pupil2@example.org > /dev/null 2>&1
t_eq "contain clear pupil2" 0 $?
r=$(send "$S2" 127.0.1.5 pupil2@example.org roam-5 pupil2@example.org e@example.net)
t_match "pupil2 sends again at once" "^DATA 250" "$r"

# --- D: a second incident, its held mail discarded --------------------------
for i in 1 2; do
    r=$(send "$S1" 127.0.0.1 pupil1@example.org "again-$i" pupil1@example.org friend$i@example.net)
    t_match "pupil1 again, message $i passes" "^DATA 250" "$r"
done
r=$(send "$S1" 127.0.0.1 pupil1@example.org spam-1 pupil1@example.org victim3@example.net)
Q3=$(qid_of "$r")
t_match "a new burst is held again" "^DATA 250" "$r"
t_eq "a second incident row" 2 "$(h_sql "SELECT COUNT(*) FROM contained_logins WHERE login = 'pupil1@example.org'")"
t_wait "it is in the hold queue" 10 held_has "$Q3"
out=$($ADMIN contain clear pupil1@example.org --discard 2>&1)
t_eq "contain clear --discard succeeds" 0 $?
t_match "... deleted 1 of 1" "deleted 1 of the incident's 1 held message[^s]" "$out"
t_match "postsuper deleted it from the hold queue" "-d $Q3 hold" "$(cat "$H_DIR/postsuper.calls")"
t_eq "the hold queue is empty" 0 "$(held)"
sleep 2
t_eq "the discarded message was not delivered" 0 "$(sink_count victim3@example.net)"
t_eq "two admin mails for pupil1 in all (one per incident)" 2 "$(sink_count admin@example.org "login pupil1@example.org suspended")"
$ADMIN ratelimit add roam-wide key=sasl_login counts=networks limit=5/1h action=reject contain=yes ipv4_prefix=16 > /dev/null 2>&1
t_eq "postern ratelimit add ... counts=networks contain=yes" 0 $?
t_match "ratelimit show lists contain" "networks.*	yes$" "$($ADMIN ratelimit show roam-wide | tail -1)"
$ADMIN ratelimit add bad-net key=sender counts=networks limit=5/1h > /dev/null 2>&1
t_eq "counts=networks needs key=sasl_login" 65 $?

# --- a message to many recipients asks once (PD_CONTAIN_MEMO_MS) ---------------
h_sql "SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1"
r=$(send "$S1" 127.0.0.1 teacher@example.org many teacher@example.org \
    p1@example.net p2@example.net p3@example.net p4@example.net p5@example.net)
h_sql "SET GLOBAL general_log = 0"
t_match "a message to 5 recipients passes" "^DATA 250" "$r"
asked=$(h_sql "SELECT COUNT(*) FROM mysql.general_log WHERE command_type = 'Execute' AND CONVERT(argument USING utf8mb4) LIKE '%FROM contained_logins WHERE open_login%'")
t_eq "... and asked once whether its login is contained (5 RCPT and DATA requests)" 1 "$asked"

# --- C: the database is down ---------------------------------------------------
h_stop_mariadb
r=$(send "$S1" 127.0.0.1 pupil3@example.org down-1 pupil3@example.org f@example.net)
t_match "an authenticated login is deferred while the state is unknown" "^RCPT 451 4.3.0" "$r"
r=$(send "$S2" 127.0.0.9 - down-2 parent@example.net pupil3@example.org)
t_match "mail from outside still passes" "^DATA 250" "$r"
t_match "policyd logs why" "whether the login is contained" "$(cat "$H_DIR/p1.log")"
t_summary
