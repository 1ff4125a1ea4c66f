#!/bin/bash
# lda-maps.sh - postern-lda with [lda] lookup = maps: the mailbox comes from
# postern-maps' socketmap "ldamailbox" map instead of MariaDB.
#
# The quota comes with it: the mailbox's quota_bytes, else the domain's
# default_quota_bytes (over it: 77 / 5.2.2), quota_bytes 0 = unlimited;
# with [database] away a mailbox with a quota is still delivered (the
# usage row is not written, logged).
#
# Against a real postern-maps (over a private MariaDB): a mailbox is found
# and delivered into its hashed maildir, with its Sieve script; an alias
# domain is followed by postern-maps; an unknown address is 67 / 5.1.1; the
# pipe-mode process never initialises libmariadb/OpenSSL (no openssl.cnf
# read, no connection to MariaDB).  postern-maps stopped -> 75 / 4.3.0.
# Against a scripted socketmap server (lda-fakemaps.py): TEMP, PERM, a
# reply that is not a netstring, a path with "..", a closed connection and
# no answer within maps_timeout are all 75 / 4.3.0 with nothing stored;
# LMTP with lookup = maps answers 250 / 550 / 451 at RCPT.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('maps.example', 'local');
       INSERT INTO domains (name, kind, alias_target) VALUES ('alias.example', 'alias', 'maps.example');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'maps.example');
       INSERT INTO domains (name, kind, default_quota_bytes) VALUES ('dq.example', 'local', 1500);
       INSERT INTO mailboxes (local_part, domain, quota_bytes) VALUES
         ('small', 'maps.example', 1000), ('big', 'maps.example', 1000000),
         ('dflt', 'dq.example', NULL), ('free', 'dq.example', 0);" || exit 1
md_anna=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@maps.example'")

MPORT=$(h_free_port)
cat > "$H_DIR/maps.conf" <<EOC
[maps]
listen = inet:127.0.0.1:$MPORT
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
EOC
"$BUILD/postern-maps" -c "$H_DIR/maps.conf" -f 2> "$H_DIR/maps.log" &
MPID=$!
h_track_pid $MPID
t_ok "postern-maps loaded its tables" h_wait_for 30 grep -q 'routing tables loaded' "$H_DIR/maps.log"

ROOT=$H_DIR/mail
mkdir -p "$ROOT" "$H_DIR/spool"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
lookup = maps
maps_server = inet:127.0.0.1:$MPORT
maps_timeout = 500ms
listen = unix:$H_DIR/lmtp.sock
[database]
hosts = 127.0.0.1:1
password_file = /nonexistent
EOC
lda() { "$BUILD/postern-lda" -c "$CONF" "$@"; }
count() { find "$ROOT" -type f \( -path '*/new/*' -o -path '*/cur/*' \) | wc -l; }
t_ok "configuration with lookup = maps is valid" lda -t
sed 's/^lookup = maps/lookup = ldap/' "$CONF" > "$H_DIR/bad.conf"
out=$("$BUILD/postern-lda" -c "$H_DIR/bad.conf" -t 2>&1); rc=$?
t_eq "lookup = ldap refused by -t" 1 "$rc"
t_match "names the key" 'lookup' "$out"

# found, with a Sieve script; alias domain; unknown
mkdir -p "$ROOT/$md_anna"
printf 'require "fileinto";\nif header :contains "Subject" "report" { fileinto "Reports"; }\n' > "$ROOT/$md_anna/.postern.sieve"
out=$(printf 'Subject: weekly report\n\nbody\n' | lda -f s@ext.example -a Anna+x@maps.example); rc=$?
t_eq "found through postern-maps: 0" 0 "$rc"
t_match "2.0.0" '^2\.0\.0 ' "$out"
t_eq "stored in the hashed maildir's folder by Sieve" 1 "$(ls "$ROOT/$md_anna/.Reports/new" 2>/dev/null | wc -l)"
f=$(ls "$ROOT/$md_anna/.Reports/new/"* 2>/dev/null | head -n 1)
t_eq "Delivered-To is the mailbox" "Delivered-To: anna@maps.example" "$(sed -n 2p "$f" 2>/dev/null)"
out=$(printf 'Subject: hi\n\nbody\n' | lda -f s@ext.example -a anna@alias.example); rc=$?
t_eq "alias domain resolved by postern-maps: 0" 0 "$rc"
t_eq "into the same maildir" 1 "$(ls "$ROOT/$md_anna/new" | wc -l)"
out=$(printf 'Subject: hi\n\nbody\n' | lda -f s@ext.example -a nobody@maps.example); rc=$?
t_eq "unknown through postern-maps: 67" 67 "$rc"
t_match "5.1.1" '^5\.1\.1 ' "$out"

# the mailbox's quota comes with postern-maps' answer (ldamailbox map)
big=$(head -c 2000 /dev/zero | tr '\0' 'x' | fold -w 70)
out=$(printf 'Subject: big\n\n%s\n' "$big" | lda -f s@ext.example -a small@maps.example); rc=$?
t_eq "mailbox quota_bytes 1000 via maps: over quota, 77" 77 "$rc"
t_match "5.2.2" '^5\.2\.2 ' "$out"
out=$(printf 'Subject: big\n\n%s\n' "$big" | lda -f s@ext.example -a dflt@dq.example); rc=$?
t_eq "domain default_quota_bytes 1500 via maps: over quota, 77" 77 "$rc"
out=$(printf 'Subject: big\n\n%s\n' "$big" | lda -f s@ext.example -a free@dq.example); rc=$?
t_eq "quota_bytes 0 via maps wins over the domain default: delivered" 0 "$rc"
# a mailbox with a quota: the usage row needs [database], which is away
# here: the delivery succeeds, logged once
out=$(printf 'Subject: big\n\n%s\n' "$big" | lda -v -f s@ext.example -a big@maps.example 2> "$H_DIR/usage.log"); rc=$?
t_eq "usage database away: still delivered, 0" 0 "$rc"
t_ok "the failed usage write is logged" grep -q 'mailbox usage not written' "$H_DIR/usage.log"

# no database work at all in pipe mode with lookup = maps (a mailbox
# without quota: no usage row to write)
printf 'Subject: trace\n\nb\n' > "$H_DIR/m.eml"
# (LeakSanitizer cannot run under ptrace: off for this one run under make asan)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
strace -f -e trace=openat,connect -o "$H_DIR/strace.out" "$BUILD/postern-lda" -c "$CONF" \
    -f s@ext.example -a anna@maps.example < "$H_DIR/m.eml" > /dev/null; rc=$?
t_eq "traced delivery: 0" 0 "$rc"
t_not "OpenSSL not initialised (openssl.cnf not read)" grep -q 'openssl.cnf' "$H_DIR/strace.out"
t_not "MariaDB not contacted" grep -q 'sin_port=htons(1)' "$H_DIR/strace.out"
t_ok "postern-maps contacted" grep -q "sin_port=htons($MPORT)" "$H_DIR/strace.out"

# postern-maps down: temporary
before=$(count)
kill "$MPID"; wait "$MPID" 2>/dev/null
out=$(printf 'Subject: down\n\nb\n' | lda -f s@ext.example -a anna@maps.example); rc=$?
t_eq "postern-maps down: 75" 75 "$rc"
t_match "4.3.0" '^4\.3\.0 ' "$out"

# scripted answers: every unclear answer is temporary
FS=$H_DIR/fake.sock
sed -i "s|^maps_server = .*|maps_server = unix:$FS|" "$CONF"
for mode in temp perm garbage bad close hang; do
    "$H_PYTHON" "$(dirname "$0")/lda-fakemaps.py" "$FS" "$mode" &
    FPID=$!
    h_wait_for 10 test -S "$FS"
    t0=$(date +%s%N)
    out=$(printf 'Subject: %s\n\nb\n' "$mode" | lda -f s@ext.example -a anna@maps.example); rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    t_eq "maps answers '$mode': 75" 75 "$rc"
    t_match "maps answers '$mode': 4.3.0" '^4\.3\.0 ' "$out"
    [ "$mode" = hang ] && t_ok "no answer: gave up after maps_timeout ($ms ms)" test "$ms" -ge 450 -a "$ms" -lt 3000
    kill "$FPID"; wait "$FPID" 2>/dev/null; rm -f "$FS"
done
t_eq "nothing stored on any temporary failure" "$before" "$(count)"

# fake ok: a path from the map
"$H_PYTHON" "$(dirname "$0")/lda-fakemaps.py" "$FS" ok vol09 &
FPID=$!
h_wait_for 10 test -S "$FS"
out=$(printf 'Subject: ok\n\nb\n' | lda -f s@ext.example -a bob@any.example); rc=$?
t_eq "fake ok: delivered" 0 "$rc"
t_eq "into mail_root/PATH" 1 "$(ls "$ROOT/vol09/bob@any.example/new" 2>/dev/null | wc -l)"

# LMTP with lookup = maps: one reply per RCPT
"$BUILD/postern-lda" --lmtp -c "$CONF" -f 2> "$H_DIR/lmtp.log" &
h_track_pid $!
h_wait_for 10 test -S "$H_DIR/lmtp.sock"
r=$("$H_PYTHON" - "$H_DIR/lmtp.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    out = []
    while True:
        l = f.readline().decode().rstrip()
        out.append(l[:3])
        if len(l) < 4 or l[3] != "-":
            return out[-1]
reply()
s.sendall(b"LHLO t\r\n"); reply()
s.sendall(b"MAIL FROM:<s@ext.example>\r\n"); reply()
s.sendall(b"RCPT TO:<carl@any.example>\r\n"); a = reply()
s.sendall(b"DATA\r\n"); reply()
s.sendall(b"Subject: lmtp\r\n\r\nb\r\n.\r\n"); d = reply()
print(a, d)
PY
)
t_eq "LMTP via maps: RCPT 250, delivered 250" "250 250" "$r"
t_eq "LMTP stored it" 1 "$(ls "$ROOT/vol09/carl@any.example/new" 2>/dev/null | wc -l)"
kill "$FPID"; wait "$FPID" 2>/dev/null
t_summary
