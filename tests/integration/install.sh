#!/bin/bash
# tests/run: alone
# install.sh - `make install` into a staging directory (DESTDIR): every
# program, the example configuration (valid for every daemon's -t), the
# schema with its migrations and the docs land under PREFIX; the installed
# migrate script builds the schema in a real MariaDB; every daemon starts,
# logs and stops cleanly on SIGTERM with the installed example.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
D=$H_DIR/stage
P=/usr/local
out=$(make --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX="$P" 2>&1); rc=$?
t_eq "make install DESTDIR=... exits 0" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | tail -n 20
for b in postern-maps postern-policyd postern-milter postern-lda postern-sieve \
         postern-sieve-test postern-managesieve postern-dirsync postern-forward postern-postconf; do
    t_ok "$b installed and executable" test -x "$D$P/sbin/$b"
done
EX=$D/etc/postern/postern.conf.example
t_ok "example configuration installed" test -s "$EX"
t_eq "example configuration is not world-readable (it may name password files)" \
    "640" "$(stat -c %a "$EX")"
for b in maps policyd milter lda dirsync; do
    t_ok "postern-$b -t accepts the example" "$D$P/sbin/postern-$b" -t -c "$EX"
done
t_ok "schema installed" test -s "$D$P/share/postern/sql/schema.sql"
t_ok "migrations installed" test -s "$D$P/share/postern/sql/migrations/0001_initial.sql"
t_ok "docs installed" test -s "$D$P/share/doc/postern/policyd.md"

h_start_mariadb
t_ok "the installed migrate script builds the schema" \
    "$D$P/share/postern/sql/migrate" --no-defaults --socket="$H_DB_SOCKET" -uroot postern
t_eq "... every migration recorded" \
    "$(ls "$D$P/share/postern/sql/migrations" | wc -l)" "$(h_sql 'SELECT COUNT(*) FROM schema_version')"

# start, log, stop: each daemon with a private configuration
PM=$(h_free_port); PP=$(h_free_port); PMI=$(h_free_port); PL=$(h_free_port)
cat > "$H_DIR/run.conf" <<EOF
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
[maps]
listen = inet:127.0.0.1:$PM
[policyd]
listen = inet:127.0.0.1:$PP
[milter]
listen = inet:127.0.0.1:$PMI
[lda]
listen = inet:127.0.0.1:$PL
mail_root = $H_DIR/mail
EOF
mkdir -p "$H_DIR/mail"
for d in maps policyd milter; do
    "$D$P/sbin/postern-$d" -f -c "$H_DIR/run.conf" 2> "$H_DIR/$d.log" &
    pid=$!
    h_track_pid $pid
    t_wait "postern-$d logs that it started" 10 grep -q 'started\|starting\|listening' "$H_DIR/$d.log"
    kill -TERM $pid
    wait $pid; rc=$?
    t_eq "postern-$d stops cleanly on SIGTERM (exit 0)" 0 "$rc"
done
"$D$P/sbin/postern-lda" --lmtp -c "$H_DIR/run.conf" -f 2> "$H_DIR/lda.log" &
pid=$!
h_track_pid $pid
t_wait "postern-lda --lmtp answers" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PL && head -c 3 <&3 | grep -q 220"
kill -TERM $pid
wait $pid; rc=$?
t_eq "postern-lda --lmtp stops cleanly on SIGTERM (exit 0)" 0 "$rc"
t_summary
