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
h_init
. "$(dirname "$0")/milter-common.sh"
h_start_mariadb
h_sql_file sql/schema.sql
h_start_slapd
h_start_smtp_sink smarthost

# --- configuration check ------------------------------------------------------
milter_conf "$MDIR/bad.conf" "max_recipients = 0"
out=$("$MILTER" -t -c "$MDIR/bad.conf" 2>&1); rc=$?
t_eq "-t: a bad value exits 1" 1 "$rc"
t_match "-t: the error names file:line" "bad.conf:5: \[milter\] max_recipients" "$out"
printf '[milter]\nlisten = inet:127.0.0.1\n' > "$MDIR/bad2.conf"
out=$("$MILTER" -t -c "$MDIR/bad2.conf" 2>&1); rc=$?
t_eq "-t: a listen spec without port exits 1" 1 "$rc"
printf '[milter]\nbogus = 1\n' > "$MDIR/bad3.conf"
out=$("$MILTER" -t -c "$MDIR/bad3.conf" 2>&1)
t_match "-t: unknown key" "bad3.conf:2: unknown key 'bogus'" "$out"

milter_conf "$MDIR/postern.conf" "group_domains = *"
out=$("$MILTER" -t -c "$MDIR/postern.conf" 2>&1); rc=$?
t_eq "-t: the test configuration is valid" 0 "$rc"

# --- start under Postfix --------------------------------------------------------
start_milter "$MDIR/postern.conf"
t_ok "milter starts and listens" milter_up
t_match "start is logged" "postern-milter [0-9.]+ started \(listening on inet:127.0.0.1:$MPORT\)" \
    "$(cat "$MDIR/milter.log")"
t_eq "runs as nobody" nobody "$(ps -o user= -p "$MPID" | tr -d ' ')"

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
EOF

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
t_match "expansion is logged" "action=expand check=groups rule=- client=[^ ]+ from=<[^>]*> to=<9a@bns.school.example> login=[^ ]+: group expanded to 2 addresses" \
    "$(cat "$MDIR/milter.log")"
t_not "the group address never reaches the smarthost" \
    grep -rq '^RCPT TO:<\(9a\|9b\|5a\|alle-9\|zyklus-a\|zyklus-b\)@' "$H_SINK_SMARTHOST_DIR"

# --- LDAP down, then back -------------------------------------------------------
h_stop_slapd
send outsider@example.org 9a@bns.school.example
t_match "slapd stopped: 4xx" '^RCPT 451 4\.4\.3 ' "$r"
t_match "the outage is logged" "group lookup failed: ldap" "$(cat "$MDIR/milter.log")"
send outsider@example.org plain@example.net
t_match "slapd stopped: every possible group address waits (group_domains = *)" \
    '^RCPT 451 ' "$r"
h_restart_slapd
send outsider@example.org 9a@bns.school.example; n=$((n + 1))
t_match "slapd back: accepted again" '^DATA 250 ' "$r"
t_ok "slapd back: delivered" h_wait_sink_count smarthost $n
t_eq "slapd back: expanded" \
    "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"

# --- clean stop, then group_domains and the limit -------------------------------
stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_match "stop is logged" "postern-milter stopping" "$(cat "$MDIR/milter.log")"
send outsider@example.org 9a@bns.school.example
t_match "milter gone: Postfix tempfails (milter_default_action)" '^[A-Z]+ 4[0-9][0-9] ' "$r"

milter_conf "$MDIR/limit.conf" "max_recipients = 2" "group_domains = bns.school.example"
start_milter "$MDIR/limit.conf"
t_ok "milter restarts with max_recipients = 2" milter_up
send outsider@example.org alle-9@bns.school.example
t_match "over the limit: 452 at end of data" '^DATA 452 4\.5\.3 ' "$r"
t_match "over the limit: a clear log line" "to=<alle-9@bns.school.example>: group expansion over the limit: more than 2 member addresses" \
    "$(cat "$MDIR/milter.log")"
send outsider@example.org 9a@bns.school.example; n=$((n + 1))
t_match "at the limit: accepted" '^DATA 250 ' "$r"
t_ok "at the limit: delivered" h_wait_sink_count smarthost $n
h_stop_slapd
send outsider@example.org plain@example.net; n=$((n + 1))
t_match "slapd stopped, recipient outside group_domains: accepted" '^DATA 250 ' "$r"
t_ok "... and delivered" h_wait_sink_count smarthost $n
h_restart_slapd
t_summary
