#!/bin/bash
# snapshot-consistency.sh - postern-maps loads its snapshot in one
# consistent read-only transaction (lib/reloader.c, db_begin_snapshot):
# a writer moves an address between `aliases` and `mailboxes` in
# transactions, tens of times a second for ~10 s, while a client asks the
# `alias` map for that address over and over through the socketmap.
#
# One `alias` answer shows the state of both tables at once (the domain has
# a catch-all, the alias row keeps a copy):
#   alias only     -> fwd@elsewhere.example              (committed)
#   mailbox only   -> x@a.example                        (committed)
#   neither        -> catch@elsewhere.example            (never committed)
#   both           -> fwd@elsewhere.example,x@a.example  (never committed)
# No answer may show a state that was never committed, whether the change
# reached postern-maps as a full load or as a delta (maps/delta.c: the
# changed keys of both tables, read in one consistent transaction).  20,000 other
# mailboxes make a load take long enough for a torn read to be likely when
# the tables are read in separate autocommit SELECTs.  The same for
# postern-policyd below: a greylisting exemption moved between
# greylist_whitelist and policy_domain_checks.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
SECONDS_RUN=${SNAP_SECONDS:-10}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "INSERT INTO domains (name, kind) VALUES ('a.example', 'local');
INSERT INTO aliases (domain, local_part, target) VALUES ('a.example', NULL, 'catch@elsewhere.example');
INSERT INTO aliases (domain, local_part, target, keep_copy) VALUES ('a.example', 'x', 'fwd@elsewhere.example', 1);
SET SESSION max_recursive_iterations = 100000;
INSERT INTO mailboxes (local_part, domain)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
  SELECT CONCAT('filler', n), 'a.example' FROM s;"
t_eq "fixture: 20000 filler mailboxes" "20000" "$(h_sql "SELECT COUNT(*) FROM mailboxes")"

MPORT=$(h_free_port)
cat > "$H_DIR/postern.conf" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
poll_interval = 10ms
max_staleness = 5s
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 5s
retry_interval = 200ms
CONF
"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f -v 2> "$H_DIR/maps.log" &
MPID=$!
h_track_pid $MPID
SM="$(dirname "$0")/sockmap.py"
t_wait "postern-maps answers" 20 \
    bash -c "python3 $SM 127.0.0.1 $MPORT 'alias x@a.example' | grep -q fwd@"

# the writer: one client, one transaction per move, ~40 moves a second
writer() {
    local i
    for i in $(seq 1 $((SECONDS_RUN * 40 / 2))); do
        printf '%s\n' "START TRANSACTION;" \
            "DELETE FROM aliases WHERE domain = 'a.example' AND local_part = 'x';" \
            "INSERT INTO mailboxes (local_part, domain) VALUES ('x', 'a.example');" \
            "COMMIT;" "DO SLEEP(0.02);" \
            "START TRANSACTION;" \
            "DELETE FROM mailboxes WHERE domain = 'a.example' AND local_part = 'x';" \
            "INSERT INTO aliases (domain, local_part, target, keep_copy) VALUES ('a.example', 'x', 'fwd@elsewhere.example', 1);" \
            "COMMIT;" "DO SLEEP(0.02);"
    done | mariadb --no-defaults -S "$H_DB_SOCKET" -uroot postern
}
writer &
WPID=$!
h_track_pid $WPID
loads0=$(grep -cE 'routing tables( loaded|: [0-9]+ changed keys read)' "$H_DIR/maps.log")
deltas0=$(grep -cE 'routing tables: [0-9]+ changed keys read' "$H_DIR/maps.log")

# the client: one connection, as many lookups as it can until the writer ends
python3 - "$MPORT" "$WPID" > "$H_DIR/answers" <<'PY'
import os, socket, sys, collections
port, wpid = int(sys.argv[1]), int(sys.argv[2])
def ns(b): return str(len(b)).encode() + b":" + b + b","
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
seen = collections.Counter()
def alive():
    try:
        with open("/proc/%d/stat" % wpid) as st:
            return st.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
n = 0
while n % 50 or alive():
    s.sendall(ns(b"alias x@a.example"))
    head = b""
    while not head.endswith(b":"):
        c = f.read(1)
        if not c: sys.exit("connection closed")
        head += c
    data = f.read(int(head[:-1]) + 1)[:-1].decode()
    seen[data] += 1
    n += 1
for k, v in sorted(seen.items()):
    print("%d\t%s" % (v, k))
PY
wait $WPID
t_eq "the writer ran all its transactions" 0 $?
loads=$(( $(grep -cE 'routing tables( loaded|: [0-9]+ changed keys read)' "$H_DIR/maps.log") - loads0 ))
deltas=$(( $(grep -cE 'routing tables: [0-9]+ changed keys read' "$H_DIR/maps.log") - deltas0 ))
h_log "answers (count, reply):"; sed 's/^/# /' "$H_DIR/answers" >&2
h_log "snapshots loaded meanwhile: $loads"
total=$(awk -F'\t' '{s += $1} END {print s + 0}' "$H_DIR/answers")
count() { awk -F'\t' -v k="$1" '$2 == k {print $1}' "$H_DIR/answers" | grep . || echo 0; }
t_ok "many lookups were answered ($total)" test "$total" -gt 1000
t_ok "many snapshots were loaded or changed during the run ($loads)" test "$loads" -gt 20
t_ok "most changes were applied as deltas, not full loads ($deltas of $loads)" test "$deltas" -gt $((loads / 2))
t_ok "the committed alias state was seen" test "$(count 'OK fwd@elsewhere.example')" -gt 0
t_ok "the committed mailbox state was seen" test "$(count 'OK x@a.example')" -gt 0
t_eq "never 'in neither table' (catch-all answer): a state never committed" \
    0 "$(count 'OK catch@elsewhere.example')"
t_eq "never 'in both tables': a state never committed" \
    0 "$(count 'OK fwd@elsewhere.example,x@a.example')"
t_eq "only committed states and nothing else" "$total" \
    "$(( $(count 'OK fwd@elsewhere.example') + $(count 'OK x@a.example') ))"
# after the writer: the final state (alias) is served
t_wait "the last committed state is served" 5 \
    bash -c "python3 $SM 127.0.0.1 $MPORT 'alias x@a.example' | grep -qx 'OK fwd@elsewhere.example'"

# --- postern-policyd: greylisting exemption moved between two tables --------
# Mail from 198.51.100.7 to r@p.example is exempt from greylisting either by
# a greylist_whitelist row (client network) or by a policy_domain_checks row
# (greylist = 0 for p.example).  The writer moves the exemption from one
# table to the other in transactions; every answer must be DUNNO.  A torn
# load (the whitelist read before a move, the domain checks after it) would
# greylist: DEFER_IF_PERMIT or PREPEND X-Greylist.  20,000 sender_grants
# rows (read between the two tables) widen the window.
h_sql "INSERT INTO domains (name, kind) VALUES ('p.example', 'local');
INSERT INTO greylist_whitelist (kind, value) VALUES ('client_network', '198.51.100.0/24');
SET SESSION max_recursive_iterations = 100000;
INSERT INTO sender_grants (login, match_type, pattern)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
  SELECT CONCAT('filler', n, '@a.example'), 'address', CONCAT('filler', n, '@a.example') FROM s;"
PPORT=$(h_free_port)
cat > "$H_DIR/policyd.conf" <<CONF
[policyd]
listen = inet:127.0.0.1:$PPORT
workers = 2
poll_interval = 10ms
checks = greylist
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 5s
retry_interval = 200ms
CONF
"$BUILD/postern-policyd" -f -c "$H_DIR/policyd.conf" 2> "$H_DIR/policyd.log" &
h_track_pid $!
PC="$(dirname "$0")/policy_client.py"
G="client_address=198.51.100.7 sender=s@example.net recipient=r@p.example"
t_wait "postern-policyd answers, whitelisted: DUNNO" 20 \
    bash -c "[ \"\$(python3 $PC $PPORT $G)\" = DUNNO ]"
pwriter() {
    local i
    for i in $(seq 1 $((SECONDS_RUN * 40 / 2))); do
        printf '%s\n' "START TRANSACTION;" \
            "DELETE FROM greylist_whitelist WHERE kind = 'client_network' AND value = '198.51.100.0/24';" \
            "INSERT INTO policy_domain_checks (domain, greylist) VALUES ('p.example', 0);" \
            "COMMIT;" "DO SLEEP(0.02);" \
            "START TRANSACTION;" \
            "DELETE FROM policy_domain_checks WHERE domain = 'p.example';" \
            "INSERT INTO greylist_whitelist (kind, value) VALUES ('client_network', '198.51.100.0/24');" \
            "COMMIT;" "DO SLEEP(0.02);"
    done | mariadb --no-defaults -S "$H_DB_SOCKET" -uroot postern
}
pwriter &
WPID=$!
h_track_pid $WPID
ploads0=$(grep -c 'policy tables loaded' "$H_DIR/policyd.log")
python3 - "$PPORT" "$WPID" > "$H_DIR/panswers" <<'PY'
import socket, sys, collections
port, wpid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
       "client_address=198.51.100.7\nclient_name=unknown\nhelo_name=h.example\n"
       "sender=s@example.net\nrecipient=r@p.example\ninstance=%d\n\n")
seen = collections.Counter()
def alive():
    try:
        with open("/proc/%d/stat" % wpid) as st:
            return st.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
n = 0
while n % 50 or alive():
    s.sendall((req % n).encode())
    action = None
    while True:
        line = f.readline()
        if not line: sys.exit("connection closed")
        line = line.decode().rstrip("\n")
        if line == "": break
        if line.startswith("action="): action = line[7:].split(" ")[0]
    seen[action] += 1
    n += 1
for k, v in sorted(seen.items()):
    print("%d\t%s" % (v, k))
PY
wait $WPID
t_eq "the policy writer ran all its transactions" 0 $?
ploads=$(( $(grep -c 'policy tables loaded' "$H_DIR/policyd.log") - ploads0 ))
h_log "policyd answers (count, action):"; sed 's/^/# /' "$H_DIR/panswers" >&2
h_log "policy snapshots loaded meanwhile: $ploads"
ptotal=$(awk -F'\t' '{s += $1} END {print s + 0}' "$H_DIR/panswers")
t_ok "many policy requests were answered ($ptotal)" test "$ptotal" -gt 500
t_ok "many policy snapshots were loaded during the run ($ploads)" test "$ploads" -gt 20
t_eq "every answer is DUNNO: the exemption was never in neither table" \
    "$ptotal" "$(awk -F'\t' '$2 == "DUNNO" {print $1}' "$H_DIR/panswers" | grep . || echo 0)"
t_summary
