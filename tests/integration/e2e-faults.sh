#!/bin/bash
# e2e-faults.sh - the whole stack under a steady trickle of mail while its
# parts fail: MariaDB stopped, then slapd, then the smarthost, each for a
# while.  Every message must end up where it belongs exactly as if nothing
# had happened: refused only temporarily (the sender retries), deferred in
# the queue and delivered once the part is back, none bounced or lost; the
# postern daemons recover without a restart (same PIDs at the end).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init
. tests/integration/e2e-lib.sh
OUT=${E2E_FAULT_SECS:-8}     # seconds each part stays down

e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts"

# four routes: inbound to LMTP, inbound to pipe(8), class mail (LDAP),
# outbound through the smarthost
routes=("port25|besucher@outside.example|m.mueller@bns.school.example"
        "port25|besucher@outside.example|info@kunde1.example"
        "submit:anna.lehrer@bns.school.example|anna.lehrer@bns.school.example|9a@bns.school.example"
        "submit:m.mueller@bns.school.example|m.mueller@bns.school.example|freundin@web-mail.example")
stop=$H_DIR/trickle.stop
"$H_PYTHON" tests/integration/data/e2e/trickle.py --port "$H_PF_SMTP_PORT" \
    --sub-port "$E2E_SUB_PORT" --run f --stopfile "$stop" --log "$H_DIR/trickle.log" \
    --timeout 170 "${routes[@]}" > "$H_DIR/trickle.out" 2>&1 &
TRICKLE=$!
h_track_pid "$TRICKLE"

sleep 3
h_stop_mariadb
echo "# MariaDB stopped at $(date +%T)"
sleep "$OUT"
h_restart_mariadb
echo "# MariaDB back at $(date +%T)"
sleep 4
h_stop_slapd
echo "# slapd stopped at $(date +%T)"
sleep "$OUT"
h_restart_slapd
echo "# slapd back at $(date +%T)"
sleep 4
h_stop_smtp_sink smarthost
echo "# smarthost stopped at $(date +%T)"
sleep "$OUT"
h_start_smtp_sink smarthost --port "$H_SINK_SMARTHOST_PORT" --require-auth "$E2E_SMARTHOST_LOGIN" --tls
echo "# smarthost back at $(date +%T)"
sleep 3
touch "$stop"
wait "$TRICKLE"
rc=$?
summary=$(cat "$H_DIR/trickle.out")
echo "# trickle: $summary"
t_eq "the sender got no permanent refusal and has nothing pending" 0 "$rc"
n=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<< "$summary")
t_ok "a steady trickle was sent (${n:-0} messages)" test "${n:-0}" -ge 40
t_match "some attempts were refused temporarily during the outages" 'retries [1-9]' "$summary"

# Postfix retries on its own (backoff 1-2 s in the harness); once in a
# loaded CI run one message deferred during the smarthost outage was not
# retried within 60 s: then flush once (as an admin would) and say so, so
# a repeat shows in the log instead of failing on timing
drain() {
    h_wait_queue_empty 60 && return 0
    echo "# the queue needed a flush: $(postqueue -c "$H_PF_CONF" -p | tail -n 1)"
    postqueue -c "$H_PF_CONF" -f
    h_wait_queue_empty 30
}
t_ok "the queue drains once everything is back" drain
# count every message at its destination
count_dir() { cat "$@" 2>/dev/null | grep -o '^X-Trickle: f-[0-9]*' | sort -u | wc -l; }
exp() { local r=$1 c=0 k; for ((k = 0; k < n; k++)); do [ $((k % 4)) = "$r" ] && c=$((c + 1)); done; echo $c; }
t_eq "inbound (LMTP): every message delivered" "$(exp 0)" "$(count_dir "$(e2e_maildir m.mueller@bns.school.example)"/new/*)"
t_eq "inbound (pipe): every message delivered" "$(exp 1)" "$(count_dir "$(e2e_maildir info@kunde1.example)"/new/*)"
t_eq "class mail: every message reached max.schueler" "$(exp 2)" "$(count_dir "$(e2e_maildir max.schueler@bns.school.example)"/new/*)"
t_eq "class mail: every message reached lena.schueler" "$(exp 2)" "$(count_dir "$(e2e_maildir lena.schueler@bns.school.example)"/new/*)"
t_eq "outbound: every message reached the smarthost" "$(exp 3)" "$(count_dir "$H_SINK_SMARTHOST_DIR"/*.eml)"
t_eq "nothing bounced" 0 "$(grep -c 'status=bounced' "$H_PF_LOG")"
t_ok "Postfix deferred mail during the outages" grep -q 'status=deferred' "$H_PF_LOG"
t_eq "no postern daemon died or was restarted" "" "$(for p in "${E2E_PIDS[@]}"; do h__alive "${p#*:}" || echo "${p%%:*}"; done)"
# and they answer normally again
e2e_send --from besucher@outside.example --to k.richter@gym.school.example --subject "after"
t_match "after the faults: mail accepted at once" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 15 e2e_find k.richter@gym.school.example after
echo "# deferrals in the Postfix log: $(grep -c 'status=deferred' "$H_PF_LOG")"
t_summary
