#!/bin/bash
# e2e-restart.sh - daemons that die come back (issue 15, item 12).
#
# 1. conf/systemd/*.service: one unit per daemon, each verified by
#    systemd-analyze (when installed) without a warning, each with
#    Restart=on-failure and the hardening options docs/operations.md names.
# 2. Without systemd: the whole stack (tests/integration/e2e-lib.sh) with
#    every postern daemon under tests/harness/supervise, which restarts it
#    as its unit's Restart= / RestartSec= say.  While a steady trickle of
#    mail flows through Postfix (inbound to LMTP and to pipe(8), class mail
#    through the milter and LDAP, outbound through the smarthost),
#    postern-maps, -policyd, -milter and -lda (LMTP) are killed with
#    SIGKILL one after the other.  Each must be back (a new PID, listening),
#    the sender must see only temporary refusals, the Postfix queue must
#    drain, every message must be at its destination exactly once and
#    nothing may bounce.  postern-managesieve (not in the mail path) is
#    killed too and must greet again.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init

# ------------------------------------------------------------ the units
DAEMONS="maps policyd milter lda managesieve"
for d in $DAEMONS; do
    u=conf/systemd/postern-$d.service
    t_ok "postern-$d has a unit ($u)" test -f "$u"
    [ -f "$u" ] || continue
    t_ok "$u: Restart=on-failure" grep -qx 'Restart=on-failure' "$u"
    t_ok "$u: RestartSec= set" grep -qE '^RestartSec=[0-9]+(ms|s)?$' "$u"
    t_ok "$u: no start limit" grep -qx 'StartLimitIntervalSec=0' "$u"
    for k in PrivateTmp=yes ProtectSystem=strict NoNewPrivileges= CapabilityBoundingSet= \
             RestrictAddressFamilies= ProtectHome= SystemCallFilter=; do
        t_ok "$u: $k" grep -q "^$k" "$u"
    done
done
t_ok "the LDA unit may write the mail store" grep -qx 'ReadWritePaths=/var/mail/postern' conf/systemd/postern-lda.service
t_ok "the LDA unit starts LMTP mode" grep -q '^ExecStart=.*postern-lda --lmtp -f' conf/systemd/postern-lda.service
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$H_DIR/units"
    bin=$BUILD; case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
    for d in $DAEMONS; do
        sed "s|/usr/local/sbin/|$bin/|" "conf/systemd/postern-$d.service" > "$H_DIR/units/postern-$d.service"
    done
    out=$(systemd-analyze verify "$H_DIR"/units/*.service 2>&1); rc=$?
    t_eq "systemd-analyze verify: every unit is valid, no warning" "0:" "$rc:$out"
else
    echo "# systemd-analyze not installed: units not verified"
fi

# make install puts the units into SYSTEMD_UNIT_DIR with the install's paths
ST=$H_DIR/stage
out=$(make --no-print-directory BUILD="$BUILD" install DESTDIR="$ST" PREFIX=/opt/pst \
      SYSCONFDIR=/etc/pst SYSTEMD_UNIT_DIR=/lib/systemd/system 2>&1); rc=$?
t_eq "make install (staged) exits 0" 0 "$rc" || echo "$out" | tail -n 5
for d in $DAEMONS; do
    f=$ST/lib/systemd/system/postern-$d.service
    t_ok "make install: postern-$d.service installed" test -f "$f"
    t_ok "... ExecStart uses PREFIX and SYSCONFDIR" grep -qE "^ExecStart=/opt/pst/sbin/postern-$d .*-c /etc/pst/postern.conf\$" "$f"
done

# ------------------------------------------------------------ the supervisor itself
# it follows Restart= / RestartPreventExitStatus= of the unit it is given
SV=tests/harness/supervise
mkdir -p "$H_DIR/sv"
printf '[Service]\nRestart=no\n' > "$H_DIR/sv/no.service"
printf '[Service]\nRestart=on-failure\nRestartSec=200ms\nRestartPreventExitStatus=1 64\n' > "$H_DIR/sv/onfail.service"
sv_pid() { cat "$H_DIR/sv/$1.pid" 2>/dev/null; }
"$SV" --unit "$H_DIR/sv/no.service" --pidfile "$H_DIR/sv/no.pid" --log "$H_DIR/sv/no.log" -- sleep 60 &
svno=$!; h_track_pid "$svno"
h_wait_for 5 test -s "$H_DIR/sv/no.pid"; kill -9 "$(sv_pid no)"
t_wait "Restart=no: a killed daemon stays dead (supervise ends)" 5 bash -c "! kill -0 $svno 2>/dev/null"
"$SV" --unit "$H_DIR/sv/onfail.service" --pidfile "$H_DIR/sv/of.pid" --log "$H_DIR/sv/of.log" -- sleep 60 &
svof=$!; h_track_pid "$svof"
h_wait_for 5 test -s "$H_DIR/sv/of.pid"; p1=$(sv_pid of); kill -9 "$p1"
t_wait "Restart=on-failure: a killed daemon is restarted" 5 bash -c "p=\$(cat $H_DIR/sv/of.pid); [ \"\$p\" != $p1 ] && kill -0 \$p"
kill "$svof"; wait "$svof" 2>/dev/null
t_not "SIGTERM to supervise stops the daemon too" kill -0 "$(sv_pid of)"
"$SV" --unit "$H_DIR/sv/onfail.service" --pidfile "$H_DIR/sv/ex.pid" --log "$H_DIR/sv/ex.log" -- sh -c 'exit 1' &
svex=$!; h_track_pid "$svex"
t_wait "RestartPreventExitStatus=1: exit 1 is not restarted" 5 bash -c "! kill -0 $svex 2>/dev/null"
t_eq "... started once" 1 "$(grep -c ' start ' "$H_DIR/sv/ex.log")"

# ------------------------------------------------------------ kill -9 under load
E2E_SUPERVISE=1   # read by e2e-lib.sh (e2e_start_daemon)
. tests/integration/e2e-lib.sh
e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts (daemons under tests/harness/supervise)"

# postern-managesieve under the supervisor too (plain TCP, SQL logins)
MS_PORT=$(h_free_port)
cp "$E2E_CONF" "$E2E_DIR/managesieve.conf"
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve listen "inet:127.0.0.1:$MS_PORT"
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve require_tls no
# the example names Debian's snakeoil pair (package ssl-cert): the harness's own
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve tls_cert_file "$H_TLS_CERT"
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve tls_key_file "$H_TLS_KEY"
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve auth sql
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve user nobody
e2e_conf_set "$E2E_DIR/managesieve.conf" managesieve mail_root "$E2E_MAIL_ROOT"
E2E_CONF_SAVED=$E2E_CONF
E2E_CONF=$E2E_DIR/managesieve.conf
e2e_start_daemon managesieve "$MS_PORT" || t_fail "postern-managesieve starts"
E2E_CONF=$E2E_CONF_SAVED

ms_greets() {
    "$H_PYTHON" - "$MS_PORT" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3)
s.settimeout(3)
buf = b""
while b"\r\nOK" not in buf and not buf.startswith(b"OK"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
sys.exit(0 if b'"IMPLEMENTATION"' in buf else 1)
PYEOF
}
t_ok "postern-managesieve greets" ms_greets

routes=("port25|besucher@outside.example|m.mueller@bns.school.example"
        "port25|besucher@outside.example|info@kunde1.example"
        "submit:anna.lehrer@bns.school.example|anna.lehrer@bns.school.example|9a@bns.school.example"
        "submit:m.mueller@bns.school.example|m.mueller@bns.school.example|freundin@web-mail.example")
stop=$H_DIR/trickle.stop
"$H_PYTHON" tests/integration/data/e2e/trickle.py --port "$H_PF_SMTP_PORT" \
    --sub-port "$E2E_SUB_PORT" --run r --stopfile "$stop" --log "$H_DIR/trickle.log" \
    --timeout 150 "${routes[@]}" > "$H_DIR/trickle.out" 2>&1 &
TRICKLE=$!
h_track_pid "$TRICKLE"

# back NAME OLDPID PORT - a new daemon PID is alive and its port answers
back() {
    local p
    p=$(cat "$E2E_DIR/$1.pid" 2>/dev/null)
    [ -n "$p" ] && [ "$p" != "$2" ] && h__alive "$p" && h__port_open 127.0.0.1 "$3"
}
declare -A PORT=([maps]=$E2E_MAPS_PORT [policyd]=$E2E_POLICYD_PORT
                 [milter]=$E2E_MILTER_PORT [lda]=$E2E_LDA_PORT [managesieve]=$MS_PORT)
sleep 3
for d in maps policyd milter lda managesieve; do
    old=$(cat "$E2E_DIR/$d.pid")
    kill -9 "$old"
    echo "# postern-$d ($old) killed at $(date +%T)"
    t_wait "postern-$d is back after kill -9 (new PID, listening)" 10 back "$d" "$old" "${PORT[$d]}"
    t_ok "... the supervisor saw the kill and restarted it" \
        grep -q "exit $old signal KILL" "$E2E_DIR/$d.supervise.log"
    sleep 3
done
t_ok "postern-managesieve greets again" ms_greets
touch "$stop"
wait "$TRICKLE"
rc=$?
summary=$(cat "$H_DIR/trickle.out")
echo "# trickle: $summary"
t_eq "the sender got no permanent refusal and has nothing pending" 0 "$rc"
n=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<< "$summary")
t_ok "a steady trickle was sent (${n:-0} messages)" test "${n:-0}" -ge 30

t_ok "the Postfix queue drains" h_wait_queue_empty 60
# count_dir FILES... - "N D": distinct trickle messages, and how many twice
count_dir() { cat "$@" 2>/dev/null | grep -o '^X-Trickle: r-[0-9]*' | sort | uniq -c | awk '{n++; if ($1 > 1) d++} END {print n + 0, d + 0}'; }
exp() { local r=$1 c=0 k; for ((k = 0; k < n; k++)); do [ $((k % 4)) = "$r" ] && c=$((c + 1)); done; echo "$c 0"; }
t_eq "inbound (LMTP): every message delivered once" "$(exp 0)" "$(count_dir "$(e2e_maildir m.mueller@bns.school.example)"/new/*)"
t_eq "inbound (pipe): every message delivered once" "$(exp 1)" "$(count_dir "$(e2e_maildir info@kunde1.example)"/new/*)"
t_eq "class mail: every message reached max.schueler once" "$(exp 2)" "$(count_dir "$(e2e_maildir max.schueler@bns.school.example)"/new/*)"
t_eq "class mail: every message reached lena.schueler once" "$(exp 2)" "$(count_dir "$(e2e_maildir lena.schueler@bns.school.example)"/new/*)"
t_eq "outbound: every message reached the smarthost once" "$(exp 3)" "$(count_dir "$H_SINK_SMARTHOST_DIR"/*.eml)"
t_eq "nothing bounced" 0 "$(grep -c 'status=bounced' "$H_PF_LOG")"
e2e_send --from besucher@outside.example --to k.richter@gym.school.example --subject "after the kills"
t_match "after the kills: mail accepted at once" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 15 e2e_find k.richter@gym.school.example 'after the kills'
echo "# deferrals in the Postfix log: $(grep -c 'status=deferred' "$H_PF_LOG")"
t_summary
