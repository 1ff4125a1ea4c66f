#!/bin/bash
# tests/run: alone
# server-pressure.sh - a local process holding thousands of idle connections to
# postern-maps or postern-policyd must not stall Postfix (issue 15, item 9):
# past the reserve the oldest idle connections are shed, so a fresh client
# is answered within a bound; with a low file limit (ulimit -n 1024) the
# daemon neither spins on accept() nor floods its log, and it serves again
# when the load goes.  The shared loop is lib/server.c.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "INSERT INTO domains (name, kind) VALUES ('a.example', 'local')" ||
    { t_fail "fixture"; t_summary; exit 1; }
ulimit -n 16384 # the flood client's own connections
FLOOD="$(dirname "$0")/idle_flood.py"
SM="$(dirname "$0")/sockmap.py"
PC="$(dirname "$0")/policy_client.py"
ms() { date +%s%3N; }
dbconf() {
    printf '[database]\nhosts = 127.0.0.1:%s\npassword_file = %s\n' \
        "$H_DB_PORT" "$H_DB_PASSWORD_FILE"
    printf 'connect_timeout = 1s\nquery_timeout = 2s\nretry_interval = 200ms\n'
}
maps_ok() { [ "$(timeout 10 python3 "$SM" 127.0.0.1 "$1" 'domain a.example' 2>/dev/null)" = "OK local" ]; }
policy_ok() { [ "$(timeout 10 python3 "$PC" "$1" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
# fresh WHAT PORT: a new client's answer, in ms (10000 = none within 10 s;
# without the shedding the client waits for idle_timeout, 300 s).  The
# bound is the same client's time without the flood (BASE, measured just
# before) plus SLACK ms: this machine is shared, and python's start-up
# alone can take seconds under load.
SLACK=3000
fresh() {
    local t0=$(ms)
    "$1" "$2" || { echo 10000; return; }
    echo $(( $(ms) - t0 ))
}
# flood PORT N SECONDS OUT: hold N idle connections in the background
flood() {
    python3 "$FLOOD" "$1" "$2" "$3" > "$4" 2>&1 &
    FLOOD_PID=$!
    h_wait_for 15 grep -q '^opened' "$4"
}

# --- postern-maps, default max_connections (4096), 5000 idle connections ----
MPORT=$(h_free_port)
{ printf '[maps]\nlisten = inet:127.0.0.1:%s\npoll_interval = 100ms\n' "$MPORT"; dbconf; } > "$H_DIR/maps.conf"
"$BUILD/postern-maps" -f -c "$H_DIR/maps.conf" 2> "$H_DIR/maps.log" &
h_track_pid $!
t_wait "postern-maps answers" 10 maps_ok "$MPORT"
BASE=$(fresh maps_ok "$MPORT")
flood "$MPORT" 5000 6 "$H_DIR/flood1.out"
t_match "5000 idle connections to postern-maps" '^opened (4[5-9]|5)[0-9]{2,3}$' "$(cat "$H_DIR/flood1.out")"
sleep 0.5
el=$(fresh maps_ok "$MPORT")
t_ok "postern-maps: a fresh client is answered within $SLACK ms of its time without the flood meanwhile (${el} ms; ${BASE} ms)" test "$el" -lt $((BASE + SLACK))
el=$(fresh maps_ok "$MPORT")
t_ok "... and again (${el} ms)" test "$el" -lt $((BASE + SLACK))
t_match "shedding is logged" 'closing idle connections, oldest first' "$(cat "$H_DIR/maps.log")"
wait $FLOOD_PID

# --- postern-maps with ulimit -n 1024: more connections than descriptors ----
MPORT2=$(h_free_port)
sed "s/:$MPORT\$/:$MPORT2/" "$H_DIR/maps.conf" > "$H_DIR/maps2.conf"
(ulimit -n 1024 && exec "$BUILD/postern-maps" -f -c "$H_DIR/maps2.conf") 2> "$H_DIR/maps2.log" &
h_track_pid $!
t_wait "postern-maps (ulimit -n 1024) answers" 10 maps_ok "$MPORT2"
BASE=$(fresh maps_ok "$MPORT2")
flood "$MPORT2" 1500 6 "$H_DIR/flood2.out"
el=$(fresh maps_ok "$MPORT2")
t_ok "ulimit -n 1024, 1500 idle connections: a fresh client is answered within $SLACK ms of its time without them (${el} ms; ${BASE} ms)" test "$el" -lt $((BASE + SLACK))
sleep 3
lines=$(grep -cE 'accept|connections' "$H_DIR/maps2.log")
t_ok "... and the log stays bounded ($lines lines about connections in ~4 s)" test "$lines" -le 6
t_match "the lowered connection limit is logged at start" 'file descriptor limit leaves room for 896 connections' "$(cat "$H_DIR/maps2.log")"
wait $FLOOD_PID
t_wait "served as usual when the load is gone" 5 maps_ok "$MPORT2"

# --- postern-policyd, default max_connections, 5000 idle connections -------
PPORT=$(h_free_port)
{ printf '[policyd]\nlisten = inet:127.0.0.1:%s\nworkers = 2\npoll_interval = 100ms\nchecks = greylist\n' "$PPORT"; dbconf; } > "$H_DIR/p.conf"
"$BUILD/postern-policyd" -f -c "$H_DIR/p.conf" 2> "$H_DIR/p.log" &
h_track_pid $!
t_wait "postern-policyd answers" 10 policy_ok "$PPORT"
BASE=$(fresh policy_ok "$PPORT")
flood "$PPORT" 5000 6 "$H_DIR/flood3.out"
sleep 0.5
el=$(fresh policy_ok "$PPORT")
t_ok "postern-policyd: a fresh client is answered within $SLACK ms of its time without the flood meanwhile (${el} ms; ${BASE} ms)" test "$el" -lt $((BASE + SLACK))
wait $FLOOD_PID
t_wait "postern-policyd answers when the load is gone" 5 policy_ok "$PPORT"
if [ "$H_T_FAIL" -gt 0 ]; then
    for f in maps.log maps2.log p.log; do tail -n 20 "$H_DIR/$f" | sed "s/^/# $f: /"; done
fi
t_summary
