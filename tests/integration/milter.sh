#!/bin/bash
# milter.sh - postern-milter under a real Postfix (smtpd_milters), with the
# harness's slapd (UCS@school-like directory), MariaDB and an SMTP sink as
# the smarthost:
#   - -t accepts a good configuration and names file:line of a bad one;
#   - the daemon starts, serves Postfix and stops cleanly on SIGTERM;
#   - a class address reaches each member once, the group address nowhere;
#     nested groups, a cycle, duplicates, the sender excluded;
#   - over max_recipients: 4xx and a log line; slapd down: 4xx; slapd back:
#     normal service.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
MILTER=$PWD/$BUILD/postern-milter
h_init
h_start_mariadb
h_sql_file sql/schema.sql
h_start_slapd
h_start_smtp_sink smarthost

MPORT=$(h_free_port)
MDIR=$H_DIR/milter
mkdir -p "$MDIR"
chmod 755 "$MDIR"

# write_conf FILE [EXTRA [milter] LINES...]
write_conf() {
    local f=$1
    shift
    {
        echo "[milter]"
        echo "listen = inet:127.0.0.1:$MPORT"
        echo "user = nobody"
        echo "connections = 4"
        for l in "$@"; do echo "$l"; done
        echo "[ldap]"
        echo "uri = ldap://127.0.0.1:1, $H_LDAP_URI"
        echo "base = $H_LDAP_BASE"
        echo "connect_timeout = 1s"
        echo "query_timeout = 2s"
        echo "retry_interval = 0"
        echo "cache_ttl = 0"
        echo "[database]"
        echo "hosts = 127.0.0.1:$H_DB_PORT"
        echo "password_file = $H_DB_PASSWORD_FILE"
    } > "$f"
}

MPID=
milter_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null; }
# start_milter CONF - in this shell (MPID), then t_ok "..." milter_up
start_milter() {
    "$MILTER" -f -c "$1" >> "$MDIR/milter.log" 2>&1 &
    MPID=$!
    h_track_pid "$MPID"
}
milter_up() { h_wait_for 10 milter_port_open; }
stop_milter() {
    local rc
    kill -TERM "$MPID"
    wait "$MPID"
    rc=$?
    echo "$rc"
}

# --- configuration check ------------------------------------------------------
write_conf "$MDIR/bad.conf" "max_recipients = 0"
out=$("$MILTER" -t -c "$MDIR/bad.conf" 2>&1); rc=$?
t_eq "-t: a bad value exits 1" 1 "$rc"
t_match "-t: the error names file:line" "bad.conf:5: \[milter\] max_recipients" "$out"
printf '[milter]\nlisten = inet:127.0.0.1\n' > "$MDIR/bad2.conf"
out=$("$MILTER" -t -c "$MDIR/bad2.conf" 2>&1); rc=$?
t_eq "-t: a listen spec without port exits 1" 1 "$rc"
printf '[milter]\nbogus = 1\n' > "$MDIR/bad3.conf"
out=$("$MILTER" -t -c "$MDIR/bad3.conf" 2>&1)
t_match "-t: unknown key" "bad3.conf:2: unknown key 'bogus'" "$out"

write_conf "$MDIR/postern.conf"
out=$("$MILTER" -t -c "$MDIR/postern.conf" 2>&1); rc=$?
t_eq "-t: the test configuration is valid" 0 "$rc"

# --- start under Postfix --------------------------------------------------------
start_milter "$MDIR/postern.conf"
t_ok "milter starts and listens" milter_up
t_match "start is logged" "postern-milter started \(listening on inet:127.0.0.1:$MPORT\)" \
    "$(cat "$MDIR/milter.log")"
t_eq "runs as nobody" nobody "$(ps -o user= -p "$MPID" | tr -d ' ')"

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
EOF

n=0
# send FROM TO... ; the reply line in $r
send() {
    local from=$1
    shift
    local args=()
    for t in "$@"; do args+=(--to "$t"); done
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --from "$from" "${args[@]}" --subject "test $n")
}
# rcpts: the RCPT lines of the newest message in the sink, sorted, one line
rcpts() {
    sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' "$(h_sink_last smarthost env)" | sort | tr '\n' ' '
}

send outsider@example.org plain@example.net; n=$((n + 1))
t_match "an ordinary recipient is accepted" '^DATA 250 ' "$r"
t_ok "it is delivered" h_wait_sink_count smarthost $n
t_eq "untouched" "plain@example.net " "$(rcpts)"

send bernd.lehrer@bns.school.example 9a@bns.school.example; n=$((n + 1))
t_match "class 9a accepted" '^DATA 250 ' "$r"
t_ok "class 9a delivered" h_wait_sink_count smarthost $n
t_eq "9a reaches its members, not the class address" \
    "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"

send bernd.lehrer@bns.school.example alle-9@bns.school.example max.schueler@bns.school.example; n=$((n + 1))
t_match "nested group accepted" '^DATA 250 ' "$r"
t_ok "nested group delivered" h_wait_sink_count smarthost $n
t_eq "nested groups: each member once, no address-less member" \
    "jonas.schueler@bns.school.example lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"

send outsider@example.org zyklus-a@bns.school.example; n=$((n + 1))
t_match "cyclic group accepted" '^DATA 250 ' "$r"
t_ok "cyclic group delivered" h_wait_sink_count smarthost $n
t_eq "cycle zyklus-a <-> zyklus-b ends: anna and bernd" \
    "anna.lehrer@bns.school.example bernd.lehrer@bns.school.example " "$(rcpts)"

send anna.lehrer@bns.school.example zyklus-b@bns.school.example; n=$((n + 1))
t_ok "sender's own group delivered" h_wait_sink_count smarthost $n
t_eq "the sender gets no copy" "bernd.lehrer@bns.school.example " "$(rcpts)"

send outsider@example.org 9a@bns.school.example 9b@bns.school.example 5a@bns.school.example; n=$((n + 1))
t_ok "three groups delivered" h_wait_sink_count smarthost $n
t_eq "three groups in one message" \
    "jonas.schueler@bns.school.example lena.schueler@bns.school.example max.schueler@bns.school.example tim.klein@bns.school.example " "$(rcpts)"
t_match "expansion is logged" "to=<9a@bns.school.example>: group expanded to 2 addresses" \
    "$(cat "$MDIR/milter.log")"

# --- LDAP down, then back -------------------------------------------------------
h_stop_slapd
send outsider@example.org 9a@bns.school.example
t_match "slapd stopped: 4xx" '^RCPT 451 4\.4\.3 ' "$r"
t_match "the outage is logged" "group lookup failed: ldap" "$(cat "$MDIR/milter.log")"
h_restart_slapd
send outsider@example.org 9a@bns.school.example; n=$((n + 1))
t_match "slapd back: accepted again" '^DATA 250 ' "$r"
t_ok "slapd back: delivered" h_wait_sink_count smarthost $n
t_eq "slapd back: expanded" \
    "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"

# --- clean stop, then the limit -------------------------------------------------
kill -TERM "$MPID"; wait "$MPID"; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_match "stop is logged" "postern-milter stopping" "$(cat "$MDIR/milter.log")"
send outsider@example.org 9a@bns.school.example
t_match "milter gone: Postfix tempfails (milter_default_action)" '^[A-Z]+ 4[0-9][0-9] ' "$r"

write_conf "$MDIR/limit.conf" "max_recipients = 2"
start_milter "$MDIR/limit.conf"
t_ok "milter restarts with max_recipients = 2" milter_up
send outsider@example.org alle-9@bns.school.example
t_match "over the limit: 452 at end of data" '^DATA 452 4\.5\.3 ' "$r"
t_match "over the limit: a clear log line" "to=<alle-9@bns.school.example>: group expansion over the limit: more than 2 member addresses" \
    "$(cat "$MDIR/milter.log")"
send outsider@example.org 9a@bns.school.example; n=$((n + 1))
t_match "at the limit: accepted" '^DATA 250 ' "$r"
t_ok "at the limit: delivered" h_wait_sink_count smarthost $n
t_summary
