#!/bin/bash
# milter-socket.sh - postern-milter's own socket and life cycle, without
# Postfix: every key of [milter] does what it says or is refused.
#   - listen = unix:PATH with unix_socket_mode = 0660 and user = nobody:
#     the socket is srw-rw---- nobody:<nobody's group>; nobody completes a
#     milter option negotiation on it, another user (daemon) is refused;
#     with mode 600 the owner alone
#   - the server-loop keys max_connections and idle_timeout are refused by
#     -t with file:line, and so is a mode that is not octal
#   - SIGHUP does not stop it (the configuration is checked and logged);
#     SIGTERM stops it with status 0
#   - postern-maps (the same life cycle under the server loop): its unix
#     socket too has the configured mode and is owned by user
# The milter needs no LDAP or database to start (connections are lazy).
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
BUILD=${BUILD:-build}
MILTER=${MILTER:-$PWD/$BUILD/postern-milter}
MDIR=$H_DIR/milter
mkdir -p "$MDIR"
chmod 755 "$MDIR"
LOG=$MDIR/milter.log
SOCK=$MDIR/milter.sock
NOBODY_GROUP=$(id -gn nobody)

conf() { # FILE [MILTER_LINE...]
    local f=$1
    shift
    {
        echo "[milter]"
        for l in "$@"; do echo "$l"; done
        echo "[ldap]"
        echo "uri = ldap://127.0.0.1:1"
        echo "base = dc=school,dc=example"
        echo "[database]"
        echo "hosts = 127.0.0.1:1"
    } > "$f"
}

# optneg [USER]: a milter option negotiation on $SOCK (as USER); prints OK
# or the error
optneg() {
    local run=()
    [ $# -gt 0 ] && run=(setpriv --reuid="$1" --regid="$(id -g "$1")" --clear-groups)
    "${run[@]}" "$H_PYTHON" - "$SOCK" <<'EOF' 2>&1
import socket, struct, sys
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    body = b'O' + struct.pack('>III', 6, 0x1ff, 0x1fffff)
    s.sendall(struct.pack('>I', len(body)) + body)
    hdr = s.recv(5)
    if len(hdr) == 5 and hdr[4:5] == b'O':
        s.sendall(struct.pack('>I', 1) + b'Q')
        print('OK')
    else:
        print('bad reply %r' % hdr)
except OSError as e:
    print(e.strerror or e)
EOF
}

milter_alive() { [ -d "/proc/$MPID" ] && ! grep -q '^[^ ]* ([^)]*) Z' "/proc/$MPID/stat"; }

# --- -t: keys that cannot apply are refused with file:line ---------------
conf "$MDIR/bad1.conf" "listen = unix:$SOCK" "max_connections = 10"
out=$("$MILTER" -t -c "$MDIR/bad1.conf" 2>&1); rc=$?
t_eq "-t refuses max_connections in [milter]" 1 "$rc"
t_match "... with file:line" "bad1.conf:3: .*max_connections" "$out"
conf "$MDIR/bad2.conf" "listen = unix:$SOCK" "user = nobody" "idle_timeout = 60s"
out=$("$MILTER" -t -c "$MDIR/bad2.conf" 2>&1); rc=$?
t_eq "-t refuses idle_timeout in [milter]" 1 "$rc"
t_match "... with file:line" "bad2.conf:4: .*idle_timeout" "$out"
conf "$MDIR/bad3.conf" "listen = unix:$SOCK" "unix_socket_mode = 0669"
out=$("$MILTER" -t -c "$MDIR/bad3.conf" 2>&1); rc=$?
t_eq "-t refuses a unix_socket_mode that is not octal" 1 "$rc"
t_match "... naming the key" "unix_socket_mode" "$out"
conf "$MDIR/good.conf" "listen = unix:$SOCK" "user = nobody" \
    "unix_socket_mode = 0660"
out=$("$MILTER" -t -c "$MDIR/good.conf" 2>&1); rc=$?
t_eq "-t accepts listen, user, unix_socket_mode" 0 "$rc"

# --- the socket: exactly the configured mode and owner --------------------
start() {
    rm -f "$SOCK"
    "$MILTER" -f -c "$1" </dev/null >>"$LOG" 2>&1 &
    MPID=$!
    h_track_pid "$MPID"
    h_wait_for 10 test -S "$SOCK"
}
start "$MDIR/good.conf"
t_eq "socket mode 660, owner nobody:$NOBODY_GROUP" "660 nobody $NOBODY_GROUP" \
    "$(stat -c '%a %U %G' "$SOCK" 2>&1)"
t_eq "nobody (owner) negotiates on the socket" OK "$(optneg nobody)"
t_match "another user (daemon) is refused" "[Pp]ermission denied" "$(optneg daemon)"

# --- SIGHUP does not stop it ----------------------------------------------
kill -HUP "$MPID"
sleep 0.3
kill -HUP "$MPID"
sleep 0.5
t_ok "alive after two SIGHUPs" milter_alive
t_eq "still answers after SIGHUP" OK "$(optneg nobody)"
t_match "SIGHUP checks the configuration and says so" \
    "SIGHUP: .*good.conf is valid" "$(cat "$LOG")"
# a broken file on SIGHUP: logged, the milter runs on
cp "$MDIR/good.conf" "$MDIR/good.conf.orig"
echo "max_connections = 5" >> "$MDIR/good.conf"
kill -HUP "$MPID"
sleep 0.5
t_ok "alive after SIGHUP with a broken file" milter_alive
t_match "the error is logged with file:line" "good.conf:[0-9]+: .*max_connections" \
    "$(cat "$LOG")"
t_eq "still answers" OK "$(optneg nobody)"
cp "$MDIR/good.conf.orig" "$MDIR/good.conf"

# --- SIGTERM stops it cleanly ---------------------------------------------
kill -TERM "$MPID"
wait "$MPID"
t_eq "SIGTERM: exit status 0" 0 "$?"

# --- mode 600: only the owner ---------------------------------------------
conf "$MDIR/m600.conf" "listen = unix:$SOCK" "user = nobody" \
    "unix_socket_mode = 600"
start "$MDIR/m600.conf"
t_eq "socket mode 600, owner nobody" "600 nobody" \
    "$(stat -c '%a %U' "$SOCK" 2>&1)"
t_eq "the owner negotiates" OK "$(optneg nobody)"
kill -TERM "$MPID"
wait "$MPID"

# --- the same life cycle under the server loop: postern-maps --------------
# (no database needed to start: its snapshot loader answers TEMP meanwhile)
MAPS=${MAPS:-$PWD/$BUILD/postern-maps}
MSOCK=$MDIR/maps.sock
printf '[maps]\nlisten = unix:%s\nuser = nobody\nunix_socket_mode = 660\n[database]\nhosts = 127.0.0.1:1\nconnect_timeout = 1s\n' \
    "$MSOCK" > "$MDIR/maps.conf"
"$MAPS" -f -c "$MDIR/maps.conf" </dev/null >>"$MDIR/maps.log" 2>&1 &
PPID_MAPS=$!
h_track_pid "$PPID_MAPS"
h_wait_for 10 grep -q started "$MDIR/maps.log"
t_eq "postern-maps: socket mode 660, owner nobody:$NOBODY_GROUP" \
    "660 nobody $NOBODY_GROUP" "$(stat -c '%a %U %G' "$MSOCK" 2>&1)"
kill -TERM "$PPID_MAPS"
wait "$PPID_MAPS"
t_eq "postern-maps: SIGTERM, exit status 0" 0 "$?"

t_summary
