#!/bin/bash
# metrics.sh - the Prometheus endpoints (lib/metrics.h) and the decision
# logs (docs/logging.md) on the whole stack behind a real Postfix
# (tests/integration/e2e-lib.sh) plus postern-managesieve:
#   - every daemon's GET /metrics parses as the text format 0.0.4 (a strict
#     parser in metrics_client.py) and GET /health answers 200 "ok";
#   - counters move by what was done: 3 socketmap lookups found -> +3, one
#     not found -> +1; a greylisted mail -> postern_greylist_total defer +1
#     and a policy decision check=greylist; a delivered mail -> an LMTP
#     delivery +1 and a milter decision; ManageSieve logins ok/failed +1;
#   - the queue id of a mail through Postfix is in policyd's and the
#     milter's decision lines (Postfix's maillog gives it);
#   - a bad HTTP request gets 400 (a wrong method 405, another path 404, an
#     over-long head 400) and the daemon goes on serving;
#   - MariaDB stopped: /health of postern-maps and postern-policyd says 503
#     with the reason.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init
. tests/integration/e2e-lib.sh
MC="$H_PYTHON tests/integration/metrics_client.py"

h_tls_cert
M_MAPS=$(h_free_port); M_POLICYD=$(h_free_port); M_MILTER=$(h_free_port)
M_LDA=$(h_free_port); M_MS=$(h_free_port); MS_PORT=$(h_free_port)
E2E_CONF_EXTRA="maps metrics_listen 127.0.0.1:$M_MAPS
policyd metrics_listen 127.0.0.1:$M_POLICYD
milter metrics_listen 127.0.0.1:$M_MILTER
lda metrics_listen 127.0.0.1:$M_LDA
managesieve metrics_listen [::1]:$M_MS
managesieve listen inet:127.0.0.1:$MS_PORT
managesieve user nobody
managesieve require_tls no
managesieve auth sql
managesieve tls_cert_file $H_TLS_CERT
managesieve tls_key_file $H_TLS_KEY
managesieve mail_root $H_DIR/e2e/mail
managesieve auth_penalty_initial 0"

e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts with metrics_listen in every daemon's section"
HASH=$(openssl passwd -6 'ms-pw')
h_sql "UPDATE mailboxes SET password_hash='{SHA512-CRYPT}$HASH' WHERE local_part='m.mueller' AND domain='bns.school.example'"
e2e_start_daemon managesieve "$MS_PORT" || t_fail "postern-managesieve starts"

# -t checks the address
cp "$E2E_CONF" "$H_DIR/bad.conf"
e2e_conf_set "$H_DIR/bad.conf" maps metrics_listen "localhost:9771"
r=$("$BUILD/postern-maps" -t -c "$H_DIR/bad.conf" 2>&1)
t_match "postern-maps -t refuses a metrics_listen that is not numeric HOST:PORT" "metrics_listen 'localhost:9771'" "$r"
cp "$E2E_CONF" "$H_DIR/bad2.conf"
e2e_conf_set "$H_DIR/bad2.conf" directory metrics_listen "127.0.0.1"
r=$("$BUILD/postern-dirsync" -t -c "$H_DIR/bad2.conf" 2>&1)
t_match "postern-dirsync -t refuses a metrics_listen without a port" "metrics_listen '127.0.0.1': expected HOST:PORT" "$r"
t_ok "... and accepts the stack's configuration" "$BUILD/postern-dirsync" -t -c "$E2E_CONF"

val() { $MC value "$@"; }
# ------------------------------------------------------------ format, health
for d in maps:$M_MAPS policyd:$M_POLICYD milter:$M_MILTER lda:$M_LDA; do
    n=${d%%:*}; p=${d#*:}
    r=$($MC check "$p" 2>&1)
    t_match "postern-$n: GET /metrics parses strictly ($r)" '^[0-9]+ series$' "$r"
    t_wait "postern-$n: GET /health is 200 ok" 10 bash -c "[ \"\$($MC get $p /health)\" = '200 ok' ]"
done
# managesieve on ::1
r=$("$H_PYTHON" - "$M_MS" <<'PYEOF'
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(4096)
    if not c: break
    d += c
print(d.split(b"\r\n")[0].decode(), d.split(b"\r\n\r\n", 1)[1].decode().strip())
PYEOF
)
t_eq "postern-managesieve: the endpoint on [::1] answers /health" "HTTP/1.1 200 OK ok" "$r"

# ------------------------------------------------------------ maps counters
f0=$(val "$M_MAPS" postern_maps_requests_total map=domain outcome=found)
n0=$(val "$M_MAPS" postern_maps_requests_total map=domain outcome=notfound)
for i in 1 2 3; do
    "$H_PYTHON" tests/integration/sockmap.py 127.0.0.1 "$E2E_MAPS_PORT" "domain bns.school.example" >/dev/null
done
"$H_PYTHON" tests/integration/sockmap.py 127.0.0.1 "$E2E_MAPS_PORT" "domain nowhere.example" >/dev/null
t_eq "maps: 3 lookups found -> found counter +3" "$((f0 + 3))" \
    "$(val "$M_MAPS" postern_maps_requests_total map=domain outcome=found)"
t_eq "maps: 1 lookup not found -> notfound counter +1" "$((n0 + 1))" \
    "$(val "$M_MAPS" postern_maps_requests_total map=domain outcome=notfound)"
t_match "maps: connections counted" '^[1-9]' "$(val "$M_MAPS" postern_connections_total)"
t_match "maps: the snapshot generation is exported" '^[1-9]' \
    "$(val "$M_MAPS" postern_snapshot_generation 'what=routing tables')"
body=$($MC get "$M_MAPS" /metrics)
t_match "maps: the snapshot age is exported" 'postern_snapshot_age_seconds\{what="routing tables"\} [0-9]+\.[0-9]{3}' "$body"

# ------------------------------------------------------------ a greylisted mail
g0=$(val "$M_POLICYD" postern_greylist_total result=defer)
e2e_send --from neu@unknown-sender.example --to bernd.lehrer@bns.school.example --subject metrics-grey
t_match "a mail from an unknown sender is greylisted" '^RCPT 45[0-9] .*[Gg]reylist' "$E2E_R"
t_eq "policyd: postern_greylist_total{result=defer} +1" "$((g0 + 1))" \
    "$(val "$M_POLICYD" postern_greylist_total result=defer)"
t_match "policyd: a decision counted with check=greylist" '^[1-9]' \
    "$(val "$M_POLICYD" postern_policy_decisions_total check=greylist action=defer_if_permit rule=-)"
t_match "policyd: the decision line (NOQUEUE: Postfix has no queue file yet)" \
    'NOQUEUE: action=defer_if_permit check=greylist rule=- state=RCPT client=[^ ]*\[127\.0\.0\.1\] sasl_username=- from=<neu@unknown-sender\.example> to=<bernd\.lehrer@bns\.school\.example>' \
    "$(cat "$E2E_DIR/policyd.log")"

# ------------------------------------------------------------ a delivered mail
d0=$(val "$M_LDA" postern_lda_deliveries_total outcome=delivered)
a0=$(val "$M_MILTER" postern_milter_decisions_total check=inbound action=authres)
e2e_send --from besucher@outside.example --to m.mueller@bns.school.example --subject metrics-inbound
t_match "an inbound mail is accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered by postern-lda (LMTP)" 15 e2e_find m.mueller@bns.school.example metrics-inbound
t_wait "lda: postern_lda_deliveries_total{outcome=delivered} +1 (counted in a worker process, served by the master)" 5 \
    bash -c "[ \"\$($MC value $M_LDA postern_lda_deliveries_total outcome=delivered)\" = $((d0 + 1)) ]"
t_eq "milter: postern_milter_decisions_total{check=inbound,action=authres} +1" "$((a0 + 1))" \
    "$(val "$M_MILTER" postern_milter_decisions_total check=inbound action=authres)"
t_match "policyd: the SPF result counted" '^[1-9]' \
    "$(val "$M_POLICYD" postern_spf_results_total identity=mail_from result=pass)"
qid=$(grep 'to=<m.mueller@bns.school.example>' "$H_PF_LOG" | grep -o ' [0-9A-F]\{6,\}: to=' | tail -n 1 | grep -o '[0-9A-F]\{6,\}')
t_match "Postfix logged the queue id ($qid)" '^[0-9A-F]{6,}$' "$qid"
pl=$(grep -F "$qid: action=" "$E2E_DIR/policyd.log")
t_match "policyd: a decision line carries the queue id" \
    "$qid: action=dunno check=[^ ]+ rule=[^ ]+ state=(DATA|END-OF-MESSAGE) client=[^ ]*\\[127\\.0\\.0\\.1\\] sasl_username=- from=<besucher@outside\\.example> to=<" "$pl"
ml=$(grep -F "$qid: action=" "$E2E_DIR/milter.log")
t_match "milter: the decision line carries the queue id" \
    "$qid: action=authres check=inbound rule=- client=[^ ]+ from=<besucher@outside\\.example> to=<> login=-: helo=<client\\.outside\\.example> spf=[a-z-]+; dkim=none" "$ml"
t_match "grep QUEUEID over Postfix's and postern's logs tells the story" \
    "postfix/smtpd.*$qid: client=.*postfix/qmgr.*$qid: from=<.*postfix/lmtp.*$qid: to=<m.mueller@bns.school.example>.*status=sent.*postern-milter\\[[0-9]+\\]: $qid: action=authres.*postern-policyd\\[[0-9]+\\]: $qid: action=dunno" \
    "$(grep -hF "$qid" "$H_PF_LOG" "$E2E_DIR/milter.log" "$E2E_DIR/policyd.log" | tr '\n' ' ')"

# ------------------------------------------------------------ managesieve
ms_val() {  # RESULT: the managesieve login counter (endpoint on ::1)
    "$H_PYTHON" - "$M_MS" "$1" <<'PYEOF'
import socket, sys, re
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(65536)
    if not c: break
    d += c
m = re.search(r'^postern_managesieve_logins_total\{result="%s"\} (\d+)$' % sys.argv[2],
              d.decode(), re.M)
print(m.group(1) if m else 0)
PYEOF
}
ok0=$(ms_val ok); bad0=$(ms_val failed)
$H_PYTHON tests/integration/managesieve_client.py "$MS_PORT" '@AUTH m.mueller@bns.school.example ms-pw' LOGOUT > "$H_DIR/ms1.out" 2>&1
$H_PYTHON tests/integration/managesieve_client.py "$MS_PORT" '@AUTH m.mueller@bns.school.example wrong' LOGOUT > "$H_DIR/ms2.out" 2>&1
t_match "managesieve: the right password logs in" '^OK' "$(sed -n '/>>> @AUTH/,/>>>/p' "$H_DIR/ms1.out" | grep -m1 -E '^(OK|NO)')"
t_eq "managesieve: postern_managesieve_logins_total{result=ok} +1" "$((ok0 + 1))" "$(ms_val ok)"
t_eq "managesieve: postern_managesieve_logins_total{result=failed} +1" "$((bad0 + 1))" "$(ms_val failed)"
"$H_PYTHON" - "$M_MS" > "$H_DIR/ms-metrics.txt" <<'PYEOF'
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
d = b""
while True:
    c = s.recv(65536)
    if not c: break
    d += c
sys.stdout.write(d.split(b"\r\n\r\n", 1)[1].decode())
PYEOF

# ------------------------------------------------------------ a sender rule
e2e_send --from besucher@outside.example --to eltern.mueller@eltern.school.example --subject metrics-rule
t_match "a parent mailbox refuses an outside sender" '^RCPT 5[0-9][0-9] ' "$E2E_R"
rule=$(grep 'sender rule .*: reject from=<besucher@outside.example>' "$E2E_DIR/policyd.log" | tail -n 1 | sed 's/.*sender rule \([^:]*\): reject.*/\1/')
t_match "policyd logged the rule's name ($rule)" '^[^ ]+$' "$rule"
t_eq "policyd: postern_policy_decisions_total{check=sender_rules,action=reject,rule=$rule} 1" 1 \
    "$(val "$M_POLICYD" postern_policy_decisions_total check=sender_rules action=reject "rule=$rule")"
t_match "policyd: the decision line names the rule" \
    "NOQUEUE: action=reject check=sender_rules rule=$rule state=RCPT client=[^ ]+ sasl_username=- from=<besucher@outside\\.example> to=<eltern\\.mueller@eltern\\.school\\.example>" \
    "$(cat "$E2E_DIR/policyd.log")"

# ------------------------------------------------------------ a Sieve action
printf 'require "fileinto";\nif header :contains "subject" "metrics-sieve" {\n  fileinto "Metrics";\n}\n' > "$H_DIR/m.sieve"
$H_PYTHON tests/integration/managesieve_client.py "$MS_PORT" '@AUTH m.mueller@bns.school.example ms-pw' \
    "@PUT m $H_DIR/m.sieve" 'SETACTIVE "m"' LOGOUT > "$H_DIR/ms3.out" 2>&1
t_match "managesieve: the script is stored and activated" 'SETACTIVE "m"[^>]*OK' "$(tr '\n' ' ' < "$H_DIR/ms3.out")"
f0=$(val "$M_LDA" postern_lda_sieve_actions_total action=fileinto)
e2e_send --from besucher@outside.example --to m.mueller@bns.school.example --subject metrics-sieve
t_wait "... the mail is filed into Metrics by the script" 15 \
    bash -c "ls '$(e2e_maildir m.mueller@bns.school.example)/.Metrics/new/' 2>/dev/null | grep -q ."
t_eq "lda: postern_lda_sieve_actions_total{action=fileinto} +1" "$((f0 + 1))" \
    "$(val "$M_LDA" postern_lda_sieve_actions_total action=fileinto)"

# ------------------------------------------------------------ the dashboard
# every metric conf/grafana/postern-dashboard.json asks for is exported by
# one of the daemons
exported=$( (for p in "$M_MAPS" "$M_POLICYD" "$M_MILTER" "$M_LDA"; do $MC get "$p" /metrics; done
             cat "$H_DIR/ms-metrics.txt") | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort -u)
missing=""
for m in $(grep -o 'postern_[a-z_]*' conf/grafana/postern-dashboard.json | sort -u); do
    grep -qx "$m" <<< "$exported" || missing="$missing $m"
done
t_eq "every metric of the Grafana dashboard is exported" "" "$missing"
t_ok "the dashboard is valid JSON" "$H_PYTHON" -c "import json,sys; json.load(open(sys.argv[1]))" conf/grafana/postern-dashboard.json

# ------------------------------------------------------------ bad requests
t_eq "a malformed request line gets 400" 400 "$($MC raw "$M_POLICYD" 'HELLO\r\n\r\n')"
t_eq "a request line with extra words gets 400" 400 "$($MC raw "$M_POLICYD" 'GET /metrics HTTP/1.1 x\r\n\r\n')"
t_eq "a wrong method gets 405" 405 "$($MC raw "$M_POLICYD" 'POST /metrics HTTP/1.1\r\n\r\n')"
t_eq "another path gets 404" 404 "$($MC raw "$M_POLICYD" 'GET /admin HTTP/1.1\r\n\r\n')"
big=$(head -c 6000 /dev/zero | tr '\0' 'a')
t_eq "a request head over METRICS_HTTP_REQUEST_MAX gets 400" 400 \
    "$($MC raw "$M_POLICYD" "GET /metrics HTTP/1.1\\r\\nX-Big: $big\\r\\n\\r\\n")"
# a client that sends nothing holds the endpoint for at most 2 s; the
# daemon's own serving goes on meanwhile
exec 7<>/dev/tcp/127.0.0.1/"$M_MAPS"
t0=$(date +%s%N)
r=$("$H_PYTHON" tests/integration/sockmap.py 127.0.0.1 "$E2E_MAPS_PORT" "domain bns.school.example")
t1=$(date +%s%N)
t_match "maps answers while a scrape connection hangs ($(( (t1 - t0) / 1000000 )) ms)" '^OK' "$r"
exec 7>&-
t_eq "... and the endpoint still serves after the bad requests" "200 ok" "$($MC get "$M_POLICYD" /health)"
r=$($MC check "$M_POLICYD" 2>&1)
t_match "... /metrics too" '^[0-9]+ series$' "$r"

# ------------------------------------------------------------ database down
h_stop_mariadb
t_wait "maps: /health 503 once the snapshot is stale" 15 \
    bash -c "$MC get $M_MAPS /health | grep -q '^503 routing tables: database not reached'"
t_wait "policyd: /health 503 with the reason" 15 \
    bash -c "$MC get $M_POLICYD /health | grep -q '^503 .*database not reached'"
t_eq "lda (LMTP, no snapshot): /health stays 200" "200 ok" "$($MC get "$M_LDA" /health)"
"$H_PYTHON" tests/integration/sockmap.py 127.0.0.1 "$E2E_MAPS_PORT" "domain bns.school.example" >/dev/null
t_match "maps: the TEMP answer is counted" '^[1-9]' \
    "$(val "$M_MAPS" postern_maps_requests_total map=domain outcome=temp)"
t_match "maps: the database errors are counted" '^[1-9]' \
    "$(val "$M_MAPS" postern_snapshot_loads_total 'what=routing tables' kind=error)"

t_summary
