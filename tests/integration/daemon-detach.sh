#!/bin/bash
# daemon-detach.sh - issue 14, "the first hour": the daemons started the
# Quick-start way, without -f (they fork into the background), stop on
# SIGTERM and on SIGINT and stay up on SIGHUP.  Before 2026-12-04 they
# ignored all three: the event loop's signalfd was made before the fork,
# and a signalfd the parent put into the epoll set wakes it only for the
# parent's signals (lib/server.c server_detached).  Every other test uses
# -f, which is why nobody saw it.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
PM=$(h_free_port); PP=$(h_free_port); PL=$(h_free_port); PS=$(h_free_port)
cat > "$H_DIR/d.conf" <<EOF
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
[maps]
listen = inet:127.0.0.1:$PM
[policyd]
listen = inet:127.0.0.1:$PP
[lda]
listen = inet:127.0.0.1:$PL
[managesieve]
listen = inet:127.0.0.1:$PS
require_tls = no
EOF

# pid_of NAME - the background daemon started with our configuration
pid_of() { pgrep -f -- "$1 .*-c $H_DIR/d.conf" | head -n 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# check NAME PORT SIGNAL [ARGS...]: start without -f, SIGHUP keeps it, SIGNAL stops it
check() {
    local name=$1 port=$2 sig=$3 pid
    shift 3
    "$BUILD/postern-$name" "$@" -c "$H_DIR/d.conf" 2> "$H_DIR/$name.err"
    t_eq "postern-$name without -f: the starting process exits 0" 0 $?
    t_wait "... the daemon listens" 10 port_open "$port"
    pid=$(pid_of "postern-$name")
    t_ok "... runs in the background" test -n "$pid"
    [ -n "$pid" ] || return
    h_track_pid "$pid"
    kill -HUP "$pid"
    sleep 0.5
    t_ok "... SIGHUP does not stop it" kill -0 "$pid"
    kill "-$sig" "$pid"
    t_wait "... SIG$sig stops it" 10 gone "$pid"
}
check maps "$PM" TERM
check policyd "$PP" INT
check lda "$PL" TERM --lmtp
check managesieve "$PS" TERM
t_summary
