#!/bin/bash
# lmtp-concurrent.sh - postern-lda --lmtp delivers on parallel connections
# in parallel, within [lda] lmtp_max_processes, and a worker that dies
# loses no mail.
#
# The mailbox lookups go to a scripted socketmap server
# (lmtp-gatemaps.py, [lda] lookup = maps) that holds every lookup of a
# "slow..." address until the test opens its gate, so a delivery stalls
# at RCPT exactly as long as the test wants, with no timing involved:
#   - one connection stalled at RCPT, a second connection is served and its
#     message delivered meanwhile; the stalled one is delivered once its
#     lookup answers (with the old single event loop the second connection
#     got no greeting until the first lookup returned);
#   - lmtp_max_processes = 2: two stalled connections hold both workers, a
#     third waits (no greeting, no lookup: the gate server never holds
#     more than 2) and the master reports every worker busy; once the
#     gates open all three are delivered, once each;
#   - a worker killed (SIGKILL) in the middle of a session: its client sees
#     the connection close without a reply (Postfix would defer and
#     retry), nothing is stored, another connection that was open meanwhile
#     is not disturbed, the master logs the death and starts a new worker,
#     and the retry is delivered once;
#   - a worker stopped with SIGTERM on its own does not remove the unix
#     socket (the master's), and a SIGTERM to the master stops every worker.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init

ROOT=$H_DIR/mail
STATE=$H_DIR/gate
mkdir -p "$ROOT" "$H_DIR/spool" "$STATE"
"$H_PYTHON" "$(dirname "$0")/lmtp-gatemaps.py" "$H_DIR/maps.sock" "$STATE" 2> "$H_DIR/maps.log" &
h_track_pid $!
t_wait "gate socketmap server listening" 10 test -S "$H_DIR/maps.sock"

SOCK=$H_DIR/lmtp.sock
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
lookup = maps
maps_server = unix:$H_DIR/maps.sock
maps_timeout = 60s
listen = unix:$SOCK
lmtp_max_processes = 2
[database]
hosts = 127.0.0.1:1
EOC
"$BUILD/postern-lda" --lmtp -c "$CONF" -f 2> "$H_DIR/lmtp.log" &
LPID=$!
h_track_pid "$LPID"
t_wait "LMTP server listening" 10 test -S "$SOCK"
workers_are() { test "$(pgrep -P "$LPID" | wc -l)" = "$1"; }
t_wait "the master started 2 worker processes" 10 workers_are 2

# client NAME RCPT [WAITFILE] - one LMTP transaction in the background; its
# progress goes to $H_DIR/NAME.out, one line per step: "greeting 220",
# "lhlo 250", "rcpt 250", "final 250", or "closed" when the server closed
# the connection.  With WAITFILE it waits for that file after LHLO.
client() {
    "$H_PYTHON" - "$SOCK" "$2" "$1" "$H_DIR/$1.out" "${3:-}" <<'PY' &
import os, socket, sys, time
sock, rcpt, name, out, waitfile = sys.argv[1:6]
log = open(out, "w", buffering=1)
s = socket.socket(socket.AF_UNIX)
s.settimeout(90)
s.connect(sock)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if not l:
            log.write("closed\n")
            sys.exit(0)
        l = l.rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l[:3]
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()
try:
    log.write("greeting %s\n" % reply())
    log.write("lhlo %s\n" % cmd("LHLO client.example"))
    while waitfile and not os.path.exists(waitfile):
        time.sleep(0.05)
    cmd("MAIL FROM:<s@ext.example>")
    r = cmd("RCPT TO:<%s>" % rcpt)
    log.write("rcpt %s\n" % r)
    if r == "250":
        cmd("DATA")
        s.sendall(("From: s@ext.example\r\nSubject: %s\r\n\r\nhello\r\n.\r\n"
                   % name).encode())
        log.write("final %s\n" % reply())
    cmd("QUIT")
except (OSError, socket.timeout) as e:
    log.write("closed %s\n" % e)
PY
}
outof() { cat "$H_DIR/$1.out" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
has() { grep -q "^$2\$" "$H_DIR/$1.out" 2>/dev/null; }
pending_is() { test "$(cat "$STATE/pending" 2>/dev/null)" = "$1"; }
stored() { # stored ADDRESS SUBJECT - messages with that subject in its INBOX
    grep -lx "Subject: $2" "$ROOT/vol01/$1/new/"* 2>/dev/null | wc -l
}
open_gate() { touch "$STATE/open/$1"; }

# --- one delivery stalled, another delivered meanwhile -----------------------------
client a slow1@c.example
t_wait "A: its lookup is held at RCPT" 10 pending_is 1
client b fast1@c.example
t_wait "B: delivered while A's lookup is held" 20 has b "final 250"
t_eq "B: greeting, LHLO, RCPT and the final reply" "greeting 220 lhlo 250 rcpt 250 final 250" "$(outof b)"
t_eq "B: the message is in its INBOX once" 1 "$(stored fast1@c.example b)"
t_eq "A: still waiting for its RCPT reply" "greeting 220 lhlo 250" "$(outof a)"
t_eq "A: nothing stored yet" 0 "$(stored slow1@c.example a)"
open_gate slow1@c.example
t_wait "A: delivered once its lookup answers" 20 has a "final 250"
t_eq "A: the message is in its INBOX once" 1 "$(stored slow1@c.example a)"

# --- the process limit: 2 workers busy, a third connection waits ----------------
client c slow2@c.example
client d slow3@c.example
t_wait "C and D: both lookups held (both workers busy)" 10 pending_is 2
client e slow4@c.example
t_wait "the master reports every worker busy" 10 grep -q 'all 2 worker processes are busy' "$H_DIR/lmtp.log"
t_eq "E: waits for a worker: no greeting yet" "" "$(outof e)"
t_eq "E: its lookup was not made: at most 2 held at once" 2 "$(cat "$STATE/maxpending")"
t_eq "E: still connected (in the listen backlog), not refused" 1 "$(kill -0 $! 2>/dev/null && echo 1 || echo 0)"
open_gate all
t_wait "C delivered" 20 has c "final 250"
t_wait "D delivered" 20 has d "final 250"
t_wait "E served once a worker was free, and delivered" 20 has e "final 250"
t_eq "E: the whole session" "greeting 220 lhlo 250 rcpt 250 final 250" "$(outof e)"
t_eq "never more than lmtp_max_processes lookups at once" 2 "$(cat "$STATE/maxpending")"
t_eq "C, D, E: each message stored once" "1 1 1" \
    "$(stored slow2@c.example c) $(stored slow3@c.example d) $(stored slow4@c.example e)"
rm -f "$STATE/open/all"

# --- a worker killed mid-session ----------------------------------------------------
client g fast2@c.example "$H_DIR/go-g"
t_wait "G: a session open on one worker (LHLO done)" 10 has g "lhlo 250"
client f slow5@c.example
t_wait "F: its lookup is held on the other worker" 10 pending_is 1
FPID=$(awk '{ print $1; exit }' "$STATE/pids")
t_ok "F: served by a worker of this master ($FPID)" test "$(ps -o ppid= -p "$FPID" | tr -d ' ')" = "$LPID"
kill -KILL "$FPID"
t_wait "F: the connection closed without a reply" 10 has f "closed"
t_eq "F: no reply to RCPT, nothing acknowledged" "greeting 220 lhlo 250 closed" "$(outof f)"
t_wait "the master logs the killed worker" 10 grep -q "worker process $FPID killed by signal 9" "$H_DIR/lmtp.log"
t_wait "the master starts a new worker" 10 workers_are 2
touch "$H_DIR/go-g"
t_wait "G: the other connection goes on and is delivered" 20 has g "final 250"
t_eq "G: stored once" 1 "$(stored fast2@c.example g)"
t_eq "F: nothing stored by the killed worker" 0 "$(stored slow5@c.example f)"
open_gate slow5@c.example
client f slow5@c.example
t_wait "F retried: delivered" 20 has f "final 250"
t_eq "F: stored exactly once" 1 "$(stored slow5@c.example f)"

# --- SIGTERM to one worker, then to the master -------------------------------------
W=$(pgrep -P "$LPID" | head -n 1)
kill -TERM "$W"
t_wait "a worker stopped with SIGTERM is replaced" 10 sh -c "! kill -0 $W 2>/dev/null && test \$(pgrep -P $LPID | wc -l) = 2"
t_ok "the socket is still there" test -S "$SOCK"
client h fast3@c.example
t_wait "and serves: delivered" 20 has h "final 250"
t_eq "H: stored once" 1 "$(stored fast3@c.example h)"
WS=$(pgrep -P "$LPID" | tr '\n' ' ')
kill -TERM "$LPID"
t_wait "SIGTERM to the master: it stops" 10 sh -c "! kill -0 $LPID 2>/dev/null"
t_ok "and every worker with it ($WS)" sh -c "for p in $WS; do ! kill -0 \$p 2>/dev/null || exit 1; done"
t_not "the master removed the socket" test -e "$SOCK"
t_not "nothing crashed" grep -E 'panic|fatal|AddressSanitizer' "$H_DIR/lmtp.log"

t_summary
