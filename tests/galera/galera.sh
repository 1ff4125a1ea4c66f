#!/bin/bash
# tests/galera/galera.sh - postern scaled out on a real MariaDB Galera
# cluster (Debian galera-4): three nodes on 127.0.0.1 and two MX "hosts",
# each a Postfix with its own postern-maps and postern-policyd:
#
#   host A: [database] hosts = node 1, node 3, node 2
#   host B: [database] hosts = node 2, node 3, node 1
#
# It shows, each as assertions:
#   1. greylisting state written through host A is seen by host B: a
#      triplet greylisted by Postfix A passes Postfix B after the delay;
#   2. rate limits hold across hosts writing to different nodes: 8
#      concurrent clients (4 per host) send 160 requests for 4 keys with
#      a limit of 7 each: no key passes more than 7 times, every answer is
#      a pass, the over-limit defer or a temporary failure, and every
#      counter reaches the limit (Galera certification conflicts come back
#      as deadlocks, and db_transaction runs the whole transaction again;
#      a transaction the node aborted behind the client's back is caught
#      by lib/db.c and run again too).  Usually exactly 7 pass per key;
#      fewer when a count was committed by an aborted transaction's
#      statement (a count too many, the safe side) or when the three tries
#      of policyd's transaction were used up (451);
#   3. an admin's change on node 3 (a new mailbox, then deactivating it)
#      reaches both hosts' postern-maps answers within a second (measured;
#      poll_interval 100 ms) and both Postfix accept/refuse accordingly;
#   4. node 1 killed (kill -9) while host A sends: nothing lost (every
#      message reaches the store exactly once), nothing bounced (no 5xx
#      at any attempt, no bounce), host A's daemons fail over to node 3,
#      node 1 rejoins (IST) and the cluster is 3 again, with the state;
#   5. a node that leaves the primary component (gmcast.isolate: it
#      answers every query with 1047 "WSREP has not yet prepared node")
#      is left by the daemons connected to it: host B goes on answering
#      through node 3.
#
# Not in `make check` (about 1-2 minutes, 3 Galera nodes): `make galera`,
# and .ci/run runs it after make check.  docs/operations.md "Galera".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../harness/harness.sh"
. "$HERE/../harness/galera.sh"
cd "$HERE/../.."
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
PC=tests/integration/policy_client.py
SECONDS=0
h_init

# ------------------------------------------------------------------ cluster
h_start_galera 3
t_eq "three nodes in one primary component" 3 "$(h_galera_size g1)"
h_log "cluster up after ${SECONDS}s"
if ! sql/migrate --no-defaults --socket="$H_G1_SOCKET" -uroot postern >"$H_DIR/migrate.log" 2>&1; then
    t_fail "sql/migrate on node 1" "$(tail -n 3 "$H_DIR/migrate.log")"
    t_summary; exit 1
fi
t_eq "the schema migrated on node 1 is on node 3" \
    "$(h_sql_on g1 'SELECT GROUP_CONCAT(version) FROM schema_version')" \
    "$(h_sql_on g3 'SELECT GROUP_CONCAT(version) FROM schema_version')"

LIMIT=7
# the fixture goes in through node 2
if ! h_sql_on g2 "
UPDATE greylist_settings SET delay_seconds = 2, retry_window_seconds = 600 WHERE domain IS NULL;
INSERT INTO domains (name, kind) VALUES ('galera.example', 'local'), ('load.example', 'local');
INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'galera.example'), ('store', 'load.example');
INSERT INTO greylist_settings (domain, enabled) VALUES ('load.example', 0);
INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action, text, priority) VALUES
  ('galera-exact-0', 'sender', 'burst0@rate.example', 'messages', 'defer', 'Slow down', 10),
  ('galera-exact-1', 'sender', 'burst1@rate.example', 'messages', 'defer', 'Slow down', 10),
  ('galera-exact-2', 'sender', 'burst2@rate.example', 'messages', 'defer', 'Slow down', 10),
  ('galera-exact-3', 'sender', 'burst3@rate.example', 'messages', 'defer', 'Slow down', 10),
  ('galera-load', 'sender_domain', 'load.example', 'messages', 'defer', 'Slow down', 20);
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, $LIMIT FROM ratelimit_rules WHERE name LIKE 'galera-exact-%'
  UNION ALL SELECT id, 3600, 1000000 FROM ratelimit_rules WHERE name = 'galera-load';" 2>"$H_DIR/fixture.err"; then
    t_fail "the fixture loads through node 2" "$(cat "$H_DIR/fixture.err")"
    t_summary; exit 1
fi

# ------------------------------------------------------------------ two hosts
h_start_smtp_sink store
MA=$(h_free_port); PA=$(h_free_port)
MB=$(h_free_port); PB=$(h_free_port)
host_conf() { # host_conf FILE MAPS_PORT POLICYD_PORT HOSTS
    cat > "$1" <<CONF
[maps]
listen = inet:127.0.0.1:$2
poll_interval = 100ms
max_staleness = 10s
[policyd]
listen = inet:127.0.0.1:$3
workers = 4
poll_interval = 100ms
checks = greylist, ratelimit
ldap = no
[database]
hosts = $4
password_file = $H_G1_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 5s
retry_interval = 200ms
CONF
}
G1=127.0.0.1:$H_G1_PORT G2=127.0.0.1:$H_G2_PORT G3=127.0.0.1:$H_G3_PORT
host_conf "$H_DIR/host-a.conf" "$MA" "$PA" "$G1, $G3, $G2"
host_conf "$H_DIR/host-b.conf" "$MB" "$PB" "$G2, $G3, $G1"
for h in a b; do
    "$BUILD/postern-maps" -f -c "$H_DIR/host-$h.conf" 2> "$H_DIR/maps-$h.log" &
    h_track_pid $!
    "$BUILD/postern-policyd" -f -c "$H_DIR/host-$h.conf" 2> "$H_DIR/policyd-$h.log" &
    h_track_pid $!
done
maps_up() { [ "$(python3 tests/integration/sockmap.py 127.0.0.1 "$1" 'mailbox anna@galera.example' 2>/dev/null | cut -c1-3)" = "OK " ]; }
policyd_up() { [ "$(python3 "$PC" "$1" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "host A: postern-maps answers" 15 maps_up "$MA"
t_wait "host B: postern-maps answers" 15 maps_up "$MB"
t_wait "host A: postern-policyd answers" 15 policyd_up "$PA"
t_wait "host B: postern-policyd answers" 15 policyd_up "$PB"

pf_extra() { # pf_extra MAPS_PORT POLICYD_PORT
    cat <<EOF
virtual_mailbox_domains = socketmap:inet:127.0.0.1:$1:mailboxdomain
virtual_mailbox_maps = socketmap:inet:127.0.0.1:$1:mailbox
virtual_transport = smtp:[127.0.0.1]:$H_SINK_STORE_PORT
smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:$2
EOF
}
pf_extra "$MA" "$PA" > "$H_DIR/pf-a.cf"
pf_extra "$MB" "$PB" > "$H_DIR/pf-b.cf"
h_start_postfix "$H_DIR/pf-a.cf"
h_start_postfix_copy b "$H_DIR/pf-b.cf"
PFA=$H_PF_SMTP_PORT PFB=$H_PF_B_SMTP_PORT

# postern connections per node (information_schema.processlist)
conns_on() { h_sql_on "$1" "SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'postern'" 2>/dev/null; }
has_conns() { [ "$(conns_on "$1")" -gt 0 ] 2>/dev/null; }
t_ok "host A's daemons use node 1" has_conns g1
t_ok "host B's daemons use node 2" has_conns g2
t_eq "nobody uses node 3 yet" 0 "$(conns_on g3)"
h_log "stack up after ${SECONDS}s"

# ------------------------------------------------------------------ 1. greylisting across hosts
r=$(h_smtp --port "$PFA" --from grey@outside.example --to anna@galera.example --subject grey-a)
t_match "host A greylists a new triplet" '^RCPT 450 .*[Gg]reylist' "$r"
triplet_on() { [ "$(h_sql_on "$1" "SELECT COUNT(*) FROM greylist_triplets WHERE sender = 'grey@outside.example' AND passed_at IS NULL")" = 1 ]; }
t_wait "the triplet written through host A (node 1) is on node 2" 5 triplet_on g2
sleep 3   # delay_seconds = 2 on whole seconds
r=$(h_smtp --port "$PFB" --from grey@outside.example --to anna@galera.example --subject grey-b)
t_match "host B lets the retry pass after the delay (it never saw the first attempt)" '^DATA 250 ' "$r"
grey_delivered() { grep -lq '^Subject: grey-b' "$H_SINK_STORE_DIR"/*.eml 2>/dev/null; }
t_wait "... and the message is delivered" 20 grey_delivered
r=$(h_smtp --port "$PFA" --from grey2@outside.example --to anna@galera.example --stop-after rcpt)
t_match "a triplet host A has not seen is still greylisted" '^RCPT 450 ' "$r"

# ------------------------------------------------------------------ 2. exact rate limits across nodes
cert_conflicts() { # wsrep_local_cert_failures + wsrep_local_bf_aborts on nodes 1 and 2
    local n=0 g v
    for g in g1 g2; do
        for v in wsrep_local_cert_failures wsrep_local_bf_aborts; do
            n=$((n + $(h_galera_status "$g" "$v")))
        done
    done
    echo "$n"
}
KEYS=4 PER=4 REQS=20
ALL=$((2 * PER * REQS))
c0=$(cert_conflicts)
python3 "$HERE/policy_burst.py" "$PA,$PB" "$PER" "$REQS" "$KEYS" \
    'sender=burst{k}@rate.example' recipient=store@load.example > "$H_DIR/burst.out"
c1=$(cert_conflicts)
sleep 0.5   # node 3 applies what nodes 1 and 2 committed
total=$(wc -l < "$H_DIR/burst.out")
deferred=$(grep -c $'\t450 4.7.1 Slow down' "$H_DIR/burst.out")
perkey="" dbkey=""
for k in $(seq 0 $((KEYS - 1))); do
    perkey="$perkey $(grep -c $'\t'"$k"$'\tDUNNO$' "$H_DIR/burst.out")"
    dbkey="$dbkey $(h_sql_on g3 "SELECT COALESCE(SUM(amount), 0) FROM ratelimit_events WHERE key_value = 'burst$k@rate.example'")"
done
h_log "rate limit: $total answers; passed per key:$perkey (through A $(grep -c "^$PA"$'\t.*\tDUNNO$' "$H_DIR/burst.out"), through B $(grep -c "^$PB"$'\t.*\tDUNNO$' "$H_DIR/burst.out")); $deferred deferred over the limit; certification conflicts and aborts on nodes 1+2: $((c1 - c0))"
h_log "rate limit answers neither pass nor over-limit: $(grep -v -e $'\tDUNNO$' -e $'\t450 4.7.1 Slow down' "$H_DIR/burst.out" | sort | uniq -c | tr '\n' ';')"
h_log "rate limit buckets: $(h_sql_on g3 "SELECT GROUP_CONCAT(key_value, '@', bucket, '=', amount) FROM ratelimit_events WHERE key_value LIKE 'burst%'")"
temp=$(grep -c $'\t451 ' "$H_DIR/burst.out")
other=$(grep -v -e $'\tDUNNO$' -e $'\t450 4.7.1 Slow down' -e $'\t451 ' "$H_DIR/burst.out" | wc -l)
t_eq "every one of $ALL requests ($KEYS keys, 8 clients, 2 hosts) was answered" "$ALL" "$total"
over="" short=""
set -- $dbkey
for n in $perkey; do
    [ "$n" -gt "$LIMIT" ] && over="$over $n"
    [ "$1" -lt "$LIMIT" ] || [ "$1" -lt "$n" ] && short="$short $1"
    shift
done
t_eq "no key passed more than $LIMIT times, through two hosts on two nodes" "" "$over"
t_eq "every answer is a pass, the over-limit defer or a temporary failure (never a 5xx)" 0 "$other"
t_eq "every key's counter (on node 3) reached the limit and holds every pass" "" "$short"
h_log "rate limit: keys at exactly $LIMIT passes: $(for n in $perkey; do [ "$n" = "$LIMIT" ] && echo x; done | wc -l) of $KEYS; temporary failures (db_transaction gave up after its tries): $temp"

# ------------------------------------------------------------------ 3. an admin's change on node 3
mysql_g3() { echo "mariadb --no-defaults -uroot --socket=$H_G3_SOCKET postern -e"; }
worst=0
for i in 1 2 3; do
    out=$(python3 "$HERE/propagation.py" mailbox "new$i@load.example" found 5 "$MA,$MB" -- \
        $(mysql_g3) "INSERT INTO mailboxes (local_part, domain) VALUES ('new$i', 'load.example')")
    h_log "INSERT on node 3 -> maps A, maps B answer after (ms): $out"
    for ms in $out; do
        { [ "$ms" -lt 0 ] || [ "$ms" -gt "$worst" ]; } && worst=$ms
        [ "$ms" -lt 0 ] && break 2
    done
done
t_ok "a mailbox INSERTed on node 3 is answered by both hosts' maps within 1 s (worst ${worst} ms)" \
    test "$worst" -ge 0 -a "$worst" -lt 1000
r=$(h_smtp --port "$PFA" --from admin-test@outside.example --to new1@load.example --stop-after rcpt)
t_match "Postfix A accepts the new mailbox" '^RCPT 250 ' "$r"
r=$(h_smtp --port "$PFB" --from admin-test@outside.example --to new1@load.example --stop-after rcpt)
t_match "Postfix B accepts the new mailbox" '^RCPT 250 ' "$r"
out=$(python3 "$HERE/propagation.py" mailbox new1@load.example notfound 5 "$MA,$MB" -- \
    $(mysql_g3) "UPDATE mailboxes SET active = 0 WHERE address = 'new1@load.example'")
h_log "deactivation on node 3 -> maps A, maps B after (ms): $out"
w=0; for ms in $out; do { [ "$ms" -lt 0 ] || [ "$ms" -gt "$w" ]; } && w=$ms; [ "$ms" -lt 0 ] && break; done
t_ok "a mailbox deactivated on node 3 is gone from both hosts' maps within 1 s (${w} ms)" \
    test "$w" -ge 0 -a "$w" -lt 1000
r=$(h_smtp --port "$PFB" --from admin-test@outside.example --to new1@load.example --stop-after rcpt)
t_match "Postfix B now refuses it" '^RCPT 550 ' "$r"

# ------------------------------------------------------------------ 4. node 1 killed under load
K=40
# paced (0.3 s after each accepted message, at least 12 s in all) so
# that node 1 dies while the load is running, not after it on a fast run
SMTP_LOAD_GAP=0.3 SMTP_LOAD_PROGRESS=$H_DIR/load.progress \
    python3 "$HERE/smtp_load.py" "$PFA" "$K" sender@load.example store@load.example \
    load 120 0.5 > "$H_DIR/load.out" 2>"$H_DIR/load.err" &
LPID=$!
h_track_pid $LPID
progress_ge() { [ "$(cat "$H_DIR/load.progress" 2>/dev/null || echo 0)" -ge "$1" ]; }
t_wait "host A accepts mail under load" 30 progress_ge 8
before=$(cat "$H_DIR/load.progress")
# and policy requests straight to host A's policyd, each a counting
# transaction (rule galera-load), in flight when node 1 dies
python3 "$HERE/policy_burst.py" "$PA" 2 150 1 sender=direct@load.example \
    recipient=store@load.example > "$H_DIR/kill-burst.out" &
BPID=$!
h_track_pid $BPID
sleep 0.5
h_kill_mariadb g1
killed_at=$SECONDS
h_log "node 1 killed (kill -9) after $before messages"
t_wait "nodes 2 and 3 go on as a primary component of 2" 20 h_galera_size_is g2 2
h_log "cluster of 2 after $((SECONDS - killed_at))s"
t_wait "host A's daemons fail over to node 3" 20 has_conns g3
wait $LPID
wait $BPID
kb_total=$(wc -l < "$H_DIR/kill-burst.out")
kb_pass=$(grep -c $'\tDUNNO$' "$H_DIR/kill-burst.out")
kb_other=$(grep -v -e $'\tDUNNO$' -e $'\t4[0-9][0-9] ' "$H_DIR/kill-burst.out" | wc -l)
h_log "direct policy requests to host A across the kill: $kb_total answered, $kb_pass DUNNO, $((kb_total - kb_pass - kb_other)) 4xx, $kb_other other"
t_eq "host A's policyd answered all 300 direct requests across the kill" 300 "$kb_total"
t_eq "... each DUNNO or a 4xx, never a 5xx or no answer" 0 "$kb_other"
accepted=$(grep -c $'\t250\t' "$H_DIR/load.out")
perm=$(awk -F'\t' '$2 ~ /^5/' "$H_DIR/load.out" | wc -l)
anyperm=$(cut -f4 "$H_DIR/load.out" | tr ',' '\n' | grep -c '^5')
temp=$(cut -f4 "$H_DIR/load.out" | tr ',' '\n' | grep -vc '^250$')
h_log "load: $accepted of $K accepted; attempts answered 4xx or dropped: $temp; 5xx: $anyperm; after the kill $((accepted - before))"
t_eq "every message was accepted in the end (4xx retried, as an MTA does)" "$K" "$accepted"
t_eq "no attempt got a 5xx" 0 "$anyperm"
t_eq "no message was refused for good" 0 "$perm"
t_ok "messages were accepted after the kill ($((accepted - before)))" test $((accepted - before)) -gt 0
load_in_store() { [ "$(grep -l '^Subject: load-' "$H_SINK_STORE_DIR"/*.eml 2>/dev/null | wc -l)" -ge "$K" ]; }
t_wait "all $K messages reached the store" 60 load_in_store
dups=$(grep -h '^Subject: load-' "$H_SINK_STORE_DIR"/*.eml | sort | uniq -d | tr '\n' ' ')
t_eq "... each exactly once" "" "$dups"
missing=""
for i in $(seq 0 $((K - 1))); do
    grep -q "^Subject: load-$i\$" "$H_SINK_STORE_DIR"/*.eml || missing="$missing $i"
done
t_eq "... none missing" "" "$missing"
t_ok "Postfix A's queue is empty" h_wait_queue_empty 30
bounced=$(grep -c 'status=bounced' "$H_PF_LOG")
t_eq "Postfix A bounced nothing" 0 "$bounced"
nullsender=$(grep -l '^MAIL FROM:<>' "$H_SINK_STORE_DIR"/*.env 2>/dev/null | wc -l)
t_eq "no bounce or notice reached the store" 0 "$nullsender"

h_galera_restart_node g1
t_wait "node 1 rejoined: the cluster is 3 again" 30 h_galera_size_is g2 3
t_ok "node 1 is Synced in a component of 3" h_galera_size_is g1 3
if grep -q 'IST received' "$H_DIR/mariadb-g1/error.log"; then how=IST; else how=SST; fi
h_log "node 1 rejoined by $how, $((SECONDS - killed_at))s after the kill"
q_load="SELECT SUM(amount) FROM ratelimit_events e JOIN ratelimit_rules r ON r.id = e.rule_id WHERE r.name = 'galera-load'"
t_eq "node 1 has every count written while it was down" \
    "$(h_sql_on g2 "$q_load")" "$(h_sql_on g1 "$q_load")"
r=$(h_smtp --port "$PFA" --from sender@load.example --to store@load.example --subject after-rejoin)
t_match "host A still accepts mail" '^DATA 250 ' "$r"

# ------------------------------------------------------------------ 5. a node out of the primary component
# gmcast.isolate=1 cuts node 2 off: it is non-primary and answers queries
# with 1047 "WSREP has not yet prepared node for application use" until
# it is let back.  Host B's daemons (node 2 first) must move on to node 3.
h_sql_on g2 "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"
not_primary() { [ "$(h_galera_status g2 wsrep_cluster_status)" != Primary ]; }
t_wait "node 2 is cut off (non-primary)" 20 not_primary
t_wait "nodes 1 and 3 go on as a primary component of 2" 20 h_galera_size_is g3 2
# a sender of load.example is counted (rule galera-load): a write transaction
b_answers() { [ "$(python3 "$PC" "$PB" sender=iso@load.example recipient=store@load.example)" = DUNNO ]; }
t_wait "host B's policyd counts through another node" 10 b_answers
out=$(python3 "$HERE/propagation.py" mailbox iso@load.example found 10 "$MA,$MB" -- \
    $(mysql_g3) "INSERT INTO mailboxes (local_part, domain) VALUES ('iso', 'load.example')")
h_log "INSERT on node 3 while node 2 is cut off -> maps A, maps B after (ms): $out"
t_match "host B's maps see a change made on node 3 (they left node 2)" '^[0-9]+ [0-9]+$' "$out"
r=$(h_smtp --port "$PFB" --from sender@load.example --to iso@load.example --subject isolated)
t_match "Postfix B accepts mail for it" '^DATA 250 ' "$r"
h_sql_on g2 "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'" 2>/dev/null
t_wait "node 2 is back: the cluster is 3 again" 30 h_galera_size_is g2 3

h_log "done after ${SECONDS}s"
t_summary
