#!/bin/bash
# programs.sh - issue 14, "the first hour": what a new user types first.
# Every daemon's -t accepts the example configuration conf/postern.conf as
# shipped (postern-managesieve refused it: no [managesieve] section, and
# require_tls without a certificate); every program answers -V with the
# version of lib/version.h (none had -V before 2026-12-05); postern-lda's
# pipe mode takes -d; postern-postconf honours -c and sets no placeholder.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
V=$(sed -n 's/^#define POSTERN_VERSION "\(.*\)"$/\1/p' lib/version.h)
t_match "lib/version.h has a version" '^[0-9]+\.[0-9]+\.[0-9]+' "$V"

for p in maps policyd milter managesieve dirsync lda; do
    out=$("$BUILD/postern-$p" -t -c conf/postern.conf 2>&1); rc=$?
    t_eq "postern-$p -t accepts conf/postern.conf" 0 "$rc"
    [ "$rc" = 0 ] || echo "# $out"
done
out=$("$BUILD/postern-lda" --lmtp -t -c conf/postern.conf 2>&1)
t_eq "postern-lda --lmtp -t accepts conf/postern.conf" 0 $?

for p in maps policyd milter managesieve dirsync lda sieve sieve-test; do
    t_eq "postern-$p -V" "postern-$p $V" "$("$BUILD/postern-$p" -V 2>&1)"
done
t_eq "postern-lda --lmtp -V" "postern-lda $V" "$("$BUILD/postern-lda" --lmtp -V 2>&1)"
t_eq "postern-postconf -V" "postern-postconf $V" "$(scripts/postern-postconf -V 2>&1)"

out=$("$BUILD/postern-lda" -d 2>&1); rc=$?
t_eq "postern-lda -d (pipe mode) exits 0" 0 "$rc"
t_match "... and prints [lda] with its defaults" 'mail_root = /var/mail/postern' "$out"
out=$("$BUILD/postern-lda" -h 2>&1)
t_match "postern-lda's usage says -f is the sender in pipe mode" '-f SENDER \(or -r SENDER\) is the' "$out"

# the version is in the first log line
P=$(h_free_port)
printf '[maps]\nlisten = inet:127.0.0.1:%s\n[database]\nhosts = 127.0.0.1:1\n' "$P" > "$H_DIR/m.conf"
"$BUILD/postern-maps" -f -c "$H_DIR/m.conf" 2> "$H_DIR/maps.log" &
pid=$!
h_track_pid $pid
t_wait "postern-maps logs its version at start" 10 grep -q "postern-maps $V started" "$H_DIR/maps.log"
kill -TERM $pid; wait $pid 2>/dev/null

# postern-postconf: no placeholder smarthost, mydestination kept, -c honoured
out=$(scripts/postern-postconf --main)
t_not "--main sets no placeholder relayhost" grep -q '^relayhost' <<< "$out"
t_not "--main keeps mydestination" grep -q '^mydestination' <<< "$out"
t_match "... the files default to the -c directory" \
    'texthash:/tmp/pfx/postern_tls_policy' "$(scripts/postern-postconf -c /tmp/pfx --smarthost '[127.0.0.1]:25' --main)"
t_summary
