#!/bin/bash
# daemon-detach.sh - issue 14, "the first hour": every daemon started the
# Quick-start way, without -f (it forks into the background), through its
# pid file ([section] pid_file): the starting process exits 0, the pid file
# names the daemon, a second start is refused while it runs, SIGHUP keeps
# it (postern-milter too: libmilter would stop on it), SIGTERM/SIGINT stop
# it and the pid file goes.  Before 2026-12-04 the detached daemons ignored
# all three signals (lib/server.c server_detached); there was no pid file
# before 2026-12-05, and postern-dirsync stopped on SIGHUP.
#
# Then the reload with the modes `make install` uses: the configuration
# 0640 root:root and the daemons running as nobody: SIGHUP keeps the old
# configuration and logs how to fix it (readable by the daemon's group);
# with the file 0640 root:nogroup (nobody's group) SIGHUP reloads.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
h_start_slapd
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
PM=$(h_free_port); PP=$(h_free_port); PL=$(h_free_port); PS=$(h_free_port)
PMI=$(h_free_port)
RUN=$H_DIR/run # made by the daemons (the pid file's directory)
mkdir -p "$H_DIR/mail"
# conf FILE [EXTRA-PER-SECTION]: every daemon's section
conf() {
    local x=${2:-}
    cat > "$1" <<EOF
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
[ldap]
uri = $H_LDAP_URI
base = $H_LDAP_BASE
[maps]
listen = inet:127.0.0.1:$PM
pid_file = $RUN/maps.pid
$x
[policyd]
listen = inet:127.0.0.1:$PP
pid_file = $RUN/policyd.pid
$x
[milter]
listen = inet:127.0.0.1:$PMI
pid_file = $RUN/milter.pid
$x
[lda]
listen = inet:127.0.0.1:$PL
pid_file = $RUN/lda.pid
mail_root = $H_DIR/mail
$x
[managesieve]
listen = inet:127.0.0.1:$PS
pid_file = $RUN/managesieve.pid
require_tls = no
auth = sql
mail_root = $H_DIR/mail
$x
[directory]
pid_file = $RUN/dirsync.pid
retry_interval = 500ms
EOF
}
C=$H_DIR/d.conf
conf "$C"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
pid_in() { cat "$RUN/$1.pid" 2>/dev/null; }
# is_prog PID NAME: the process PID runs postern-NAME
is_prog() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q "postern-$2"; }

# check NAME PORT SIGNAL [ARGS...]
check() {
    local name=$1 port=$2 sig=$3 pid out rc
    shift 3
    "$BUILD/postern-$name" "$@" -c "$C" 2> "$H_DIR/$name.err"
    t_eq "postern-$name without -f: the starting process exits 0" 0 $?
    if [ "$port" != - ]; then
        t_wait "... the daemon listens" 10 port_open "$port"
    fi
    t_wait "... writes its pid file" 10 test -s "$RUN/$name.pid"
    pid=$(pid_in "$name")
    [ -n "$pid" ] || return
    h_track_pid "$pid"
    t_ok "... the pid file names the running postern-$name" is_prog "$pid" "$name"
    out=$("$BUILD/postern-$name" "$@" -c "$C" 2>&1); rc=$?
    t_eq "... a second start is refused (exit 1)" 1 "$rc"
    t_match "... saying who holds the pid file" "already running as process $pid" "$out"
    t_eq "... and leaves the pid file alone" "$pid" "$(pid_in "$name")"
    kill -HUP "$(pid_in "$name")"
    sleep 0.5
    t_ok "... SIGHUP does not stop it" kill -0 "$pid"
    kill -HUP "$(pid_in "$name")"
    sleep 0.3
    t_ok "... nor a second SIGHUP" kill -0 "$pid"
    kill "-$sig" "$(pid_in "$name")"
    t_wait "... SIG$sig stops it" 10 gone "$pid"
    t_wait "... and its pid file is removed" 5 test ! -e "$RUN/$name.pid"
}
check maps "$PM" TERM
check policyd "$PP" INT
check milter "$PMI" TERM
check lda "$PL" TERM --lmtp
check managesieve "$PS" TERM
check dirsync - TERM

# a stale pid file (its process is gone) is taken over
echo 999999 > "$RUN/maps.pid"
"$BUILD/postern-maps" -c "$C" 2> "$H_DIR/maps-stale.err"
t_eq "a stale pid file does not stop a start" 0 $?
t_wait "... the pid file is taken over" 10 sh -c "[ \"\$(cat $RUN/maps.pid)\" != 999999 ]"
pid=$(pid_in maps)
[ -n "$pid" ] && h_track_pid "$pid" && kill -TERM "$pid"
t_wait "... and stops as before" 10 gone "${pid:-0}"
# a pid file naming a live process of another program (its pid reused)
echo $$ > "$RUN/maps.pid"
"$BUILD/postern-maps" -c "$C" 2> "$H_DIR/maps-reused.err"
t_eq "a pid file naming another program's process does not stop a start" 0 $?
t_wait "... the pid file is taken over" 10 sh -c "[ \"\$(cat $RUN/maps.pid)\" != $$ ]"
pid=$(pid_in maps)
[ -n "$pid" ] && h_track_pid "$pid" && kill -TERM "$pid"
t_wait "... and stops as before" 10 gone "${pid:-0}"

# ------------------------------------------------- reload as nobody, 0640
R=$H_DIR/etc/postern.conf
mkdir -p "$H_DIR/etc"
conf "$R" "user = nobody"
# the password file, as docs/configuration.md asks: the daemons' group
chgrp nogroup "$H_DB_PASSWORD_FILE"; chmod 640 "$H_DB_PASSWORD_FILE"
chown -R nobody "$H_DIR/mail"
chown root:root "$R"; chmod 640 "$R"

# reload NAME PORT RELOADED-RE [ARGS...]: -f, logs on stderr
reload() {
    local name=$1 port=$2 re=$3 pid
    shift 3
    chgrp root "$R"
    "$BUILD/postern-$name" "$@" -f -c "$R" 2> "$H_DIR/$name-r.log" &
    pid=$!
    h_track_pid "$pid"
    t_wait "postern-$name as nobody: listens" 10 port_open "$port"
    t_eq "... runs as nobody" nobody "$(ps -o user= -p "$pid" | tr -d ' ')"
    kill -HUP "$pid"
    t_wait "... SIGHUP with $R 0640 root:root: says how to fix it" 10 \
        grep -q "not readable by the user this daemon runs as.*chown root:postern" "$H_DIR/$name-r.log"
    t_ok "... keeps running" kill -0 "$pid"
    chgrp nogroup "$R"
    kill -HUP "$pid"
    t_wait "... with 0640 root:nogroup (the daemon's group) SIGHUP reloads" 10 \
        grep -Eq "$re" "$H_DIR/$name-r.log"
    t_ok "... and keeps running" kill -0 "$pid"
    kill -TERM "$pid"
    t_wait "... SIGTERM stops it" 10 gone "$pid"
    wait "$pid" 2>/dev/null
}
reload maps "$PM" "configuration reloaded from $R"
reload policyd "$PP" "configuration reloaded from $R"
reload milter "$PMI" "SIGHUP: $R is valid"
reload lda "$PL" "configuration reloaded from $R" --lmtp
reload managesieve "$PS" "configuration reloaded from $R"

# postern-dirsync has no user of its own: SIGHUP rereads [directory]
"$BUILD/postern-dirsync" -f -c "$C" 2> "$H_DIR/dirsync-f.log" &
pid=$!
h_track_pid "$pid"
t_wait "postern-dirsync -f: a first full pass" 15 grep -q 'full pass' "$H_DIR/dirsync-f.log"
kill -HUP "$pid"
t_wait "... SIGHUP rereads [directory] and starts a full pass" 10 \
    grep -q "SIGHUP: \[directory\] reloaded from $C" "$H_DIR/dirsync-f.log"
t_ok "... and it keeps running" kill -0 "$pid"
kill -TERM "$pid"
t_wait "... SIGTERM stops it" 10 gone "$pid"
t_summary
