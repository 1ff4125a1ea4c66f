#!/bin/bash
# sieve-bounds.sh - the resource bounds of Sieve in postern-lda and
# postern-managesieve against a real MariaDB (issue 15, items 7 and 8 and
# the fuzzing findings):
#   - CPU: a 1.3 KiB :matches script on a ~760 KB message ends in well
#     under a second of CPU with "script takes too long" logged and the
#     message in INBOX (it took 37 s);
#   - memory: three scripts including each other again and again (2.6 GB)
#     and a 56 KiB editheader script (1.2 GB) end with "script uses too
#     much memory", the message in INBOX, peak RSS under 100 MB;
#   - sending: a script with 1,024 notifications (64 notify actions of 16
#     recipients) sends [lda] sieve_send_max_per_message of them, logs the
#     rest, delivers the message, and the second recipient of the same
#     LMTP transaction gets its reply at once; the next message is cut at
#     sieve_send_max_per_period (the sieve_sends row); 1,024 notify
#     actions of one recipient each exceed SIEVE_ACTIONS_MAX: nothing is
#     sent, the message is kept; a hanging sendmail is killed at
#     sieve_send_timeout and the redirected message is kept;
#   - PUTSCRIPT/CHECKSCRIPT refuse nested-repetition regular expressions
#     in well under a second, and the server keeps serving.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
# the RSS bound (KB); a sanitizer build (make asan sets ASAN_OPTIONS)
# costs about 3 times the memory
RSS_MAX=102400
[ -n "${ASAN_OPTIONS:-}" ] && RSS_MAX=$((4 * RSS_MAX))
LDA=$PWD/$BUILD/postern-lda
HERE="$(cd "$(dirname "$0")" && pwd)"
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
HASH=$(openssl passwd -6 'pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('sb.example', 'local');
       INSERT INTO mailboxes (local_part, domain, password_hash) VALUES
         ('cpu', 'sb.example', NULL), ('inc', 'sb.example', NULL),
         ('edit', 'sb.example', NULL), ('notif', 'sb.example', NULL),
         ('plain', 'sb.example', NULL), ('slow', 'sb.example', NULL),
         ('many', 'sb.example', NULL),
         ('ms', 'sb.example', '{SHA512-CRYPT}$HASH');" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@sb.example'"; }
ROOT=$H_DIR/mail
for u in cpu inc edit notif plain slow many ms; do
    eval "md_$u=\$(md $u)"
    mkdir -p "$ROOT/$(md $u)/sieve"
done
inbox() { ls "$ROOT/$1/new" 2>/dev/null | wc -l; }

# a stand-in sendmail: one file per mail; 50 ms per mail, 30 s for
# slow@remote.example (a hanging sendmail)
SENT=$H_DIR/sent
mkdir -p "$SENT"
cat > "$H_DIR/sendmail" <<EOS
#!/bin/sh
for a in "\$@"; do to=\$a; done
case "\$to" in slow@*) sleep 30 ;; *) sleep 0.05 ;; esac
cat > "$SENT/mail.\$\$.\$to"
EOS
chmod 755 "$H_DIR/sendmail"
CONF=$H_DIR/lda.conf
conf() { # extra [lda] lines on stdin
    cat <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR
hostname = mx1.test.example
fsync = no
log = stderr
listen = unix:$H_DIR/lda.sock
sendmail_path = $H_DIR/sendmail
sieve_send_max_per_period = 15
sieve_send_timeout = 3s
# the user is told of run-time errors elsewhere (sieve-migrate.sh);
# here INBOX holds only the kept messages
sieve_report_errors = no
$(cat)
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
EOC
}
conf < /dev/null > "$CONF"
t_ok "-t accepts the sieve bounds" "$LDA" -c "$CONF" -t
printf 'sieve_max_memory = 512k\n' | conf > "$H_DIR/bad.conf"
t_not "-t refuses sieve_max_memory under 1M" "$LDA" -c "$H_DIR/bad.conf" -t

# deliver FILE to USER in pipe mode under /usr/bin/time; sets RC, CPU
# (user+sys seconds), RSS (KB), LOG
deliver() {
    local file=$1 user=$2
    /usr/bin/time -f '%U %S %M' -o "$H_DIR/time" \
        "$LDA" -c "$CONF" -f s@ext.example -a "$user@sb.example" \
        < "$file" > "$H_DIR/out" 2> "$H_DIR/log"
    RC=$?
    read -r u s RSS < "$H_DIR/time"
    CPU=$(echo "$u + $s" | bc)
    LOG=$(cat "$H_DIR/log")
}

# --- CPU: :matches budget per run --------------------------------------------------
"$H_PYTHON" - "$H_DIR" <<'PY'
import sys
d = sys.argv[1]
hdr = "".join("X-A: " + "a" * 7500 + "\n" for i in range(100))
open(d + "/big.eml", "w").write("From: x@example.org\nTo: cpu@sb.example\n"
                                "Subject: hi\n" + hdr + "\nbody\n")
keys = ", ".join('"*a*a*a*a*a*a*a*a*a*a*a*b%d"' % i for i in range(40))
open(d + "/matches.sieve", "w").write(
    'require "fileinto";\nif header :matches ["x-a", "subject"] [%s] '
    '{ fileinto "Junk"; }\n' % keys)
PY
cp "$H_DIR/matches.sieve" "$ROOT/$md_cpu/.postern.sieve"
t_match "matches: a 1.3 KiB script" '^1[23][0-9][0-9]$' "$(wc -c < "$H_DIR/matches.sieve")"
deliver "$H_DIR/big.eml" cpu
t_eq "matches: delivered" 0 "$RC"
t_ok "matches: well under a second of CPU ($CPU s; was 37 s)" test "$(echo "$CPU < 0.8" | bc)" = 1
t_match "matches: the error is logged" 'sieve: .*script takes too long.*keeping the message' "$LOG"
t_eq "matches: the message is in INBOX" 1 "$(inbox "$md_cpu")"
t_eq "matches: not in Junk" 0 "$(ls "$ROOT/$md_cpu/.Junk/new" 2>/dev/null | wc -l)"
t_match "matches: the user sees the error in .postern.sieve.log" 'script takes too long' "$(cat "$ROOT/$md_cpu/.postern.sieve.log" 2>/dev/null)"

# --- memory: includes re-running each other ----------------------------------------
S=$ROOT/$md_inc/sieve
{ echo 'require ["include", "variables"];'; for i in $(seq 100); do echo 'include "b";'; done; } > "$S/main.sieve"
{ echo 'require ["include", "variables"];'; for i in $(seq 100); do echo 'include "c";'; done; } > "$S/b.sieve"
{ echo 'require "variables";'; printf 'set "y" "%s";\n' "$(head -c 4000 /dev/zero | tr '\0' x)"
  for i in $(seq 60); do echo 'set "z" "${y}";'; done; } > "$S/c.sieve"
ln -s sieve/main.sieve "$ROOT/$md_inc/.postern.sieve"
printf 'From: a@b.example\nSubject: inc\n\nhello\n' > "$H_DIR/small.eml"
deliver "$H_DIR/small.eml" inc
t_eq "includes: delivered" 0 "$RC"
t_match "includes: the error is logged" 'script uses too much memory \(more than 67108864 bytes\); keeping' "$LOG"
t_eq "includes: the message is in INBOX" 1 "$(inbox "$md_inc")"
t_ok "includes: peak RSS $RSS KB < $((RSS_MAX / 1024)) MB (was 4.7 GB)" test "$RSS" -lt $RSS_MAX

# --- memory: a 56 KiB editheader script ----------------------------------------------
{ echo 'require ["editheader", "variables"];'; printf 'set "v" "%s";\n' "$(head -c 3900 /dev/zero | tr '\0' v)"
  for i in $(seq 140); do echo 'addheader "X-F" "${v}";'; done
  for i in $(seq 650); do echo 'deleteheader :index 1 "x-f"; addheader :last "X-F" "${v}"; if exists "y" {}'; done
} > "$ROOT/$md_edit/.postern.sieve"
t_match "editheader: a 56 KiB script" '^5[0-9]{4}$' "$(wc -c < "$ROOT/$md_edit/.postern.sieve")"
deliver "$H_DIR/small.eml" edit
t_eq "editheader: delivered" 0 "$RC"
t_match "editheader: the error is logged" 'script (uses too much memory|takes too long).*keeping' "$LOG"
t_eq "editheader: the message is in INBOX" 1 "$(inbox "$md_edit")"
t_ok "editheader: peak RSS $RSS KB < $((RSS_MAX / 1024)) MB (was 600 MB)" test "$RSS" -lt $RSS_MAX
printf 'sieve_max_memory = 4M\n' | conf > "$H_DIR/small.conf"
"$LDA" -c "$H_DIR/small.conf" -f s@ext.example -a edit@sb.example < "$H_DIR/small.eml" 2> "$H_DIR/log"
t_match "sieve_max_memory sets the limit" 'more than 4194304 bytes' "$(cat "$H_DIR/log")"
printf 'sieve_max_steps = 2000000\n' | conf > "$H_DIR/steps.conf"
"$LDA" -c "$H_DIR/steps.conf" -f s@ext.example -a cpu@sb.example < "$H_DIR/big.eml" 2> "$H_DIR/log"
t_match "sieve_max_steps sets the CPU budget" 'CPU budget of 2000000 steps spent' "$(cat "$H_DIR/log")"

# --- sending: 1,024 notifications through LMTP ----------------------------------------
{ echo 'require ["enotify"];'
  for a in $(seq 64); do
      printf 'notify :message "m%d" "mailto:' "$a"
      for r in $(seq 16); do printf '%sn%d.%d@remote.example' "$([ "$r" = 1 ] || echo ,)" "$a" "$r"; done
      echo '";'
  done; } > "$ROOT/$md_notif/.postern.sieve"
printf 'require "copy";\nredirect "slow@remote.example";\n' > "$ROOT/$md_slow/.postern.sieve"
"$LDA" --lmtp -c "$CONF" -f 2> "$H_DIR/lmtp.log" &
LPID=$!
h_track_pid "$LPID"
t_wait "LMTP server listening" 10 test -S "$H_DIR/lda.sock"
lmtp() { # subject rcpt... -> one line per reply after DATA: "CODE SECONDS"
    "$H_PYTHON" - "$H_DIR/lda.sock" "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(120)
s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l
reply()
for c in ["LHLO c.example", "MAIL FROM:<s@ext.example>"] + \
         ["RCPT TO:<%s>" % r for r in sys.argv[3:]] + ["DATA"]:
    s.sendall(c.encode() + b"\r\n")
    reply()
t0 = time.time()
s.sendall(b"From: s@ext.example\r\nSubject: " + sys.argv[2].encode() +
          b"\r\n\r\nhello\r\n.\r\n")
for r in sys.argv[3:]:
    l = reply()
    print("%s %.2f" % (l[:3], time.time() - t0))
s.sendall(b"QUIT\r\n")
PY
}
out=$(lmtp first notif@sb.example plain@sb.example)
t_eq "notify: both recipients delivered" "250 250" "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
t_ok "notify: the second recipient's reply came at once ($(echo "$out" | sed -n 2p | cut -d' ' -f2) s)" \
    test "$(echo "$(echo "$out" | sed -n 2p | cut -d' ' -f2) < 3" | bc)" = 1
t_eq "notify: at most sieve_send_max_per_message (10) sent" 10 "$(ls "$SENT" | wc -l)"
t_match "notify: the first refusal is logged" 'notify to <n[0-9.]+@remote\.example> not sent: over \[lda\] sieve_send_max_per_message' "$(cat "$H_DIR/lmtp.log")"
t_match "notify: the rest counted in one line" '1014 mails of redirect, notify or vacation not sent' "$(cat "$H_DIR/lmtp.log")"
t_eq "notify: the message is in notif's INBOX" 1 "$(inbox "$md_notif")"
t_eq "notify: and in plain's" 1 "$(inbox "$md_plain")"
t_eq "notify: counted in sieve_sends" 10 "$(h_sql "SELECT sent FROM sieve_sends WHERE mailbox = 'notif@sb.example'")"
rm -f "$SENT"/*
out=$(lmtp second notif@sb.example)
t_eq "period: delivered" 250 "$(echo "$out" | cut -d' ' -f1)"
t_eq "period: only 5 more (sieve_send_max_per_period = 15)" 5 "$(ls "$SENT" | wc -l)"
t_match "period: refusal logged" 'not sent: over \[lda\] sieve_send_max_per_period' "$(cat "$H_DIR/lmtp.log")"
t_eq "period: the row stops at 15" 15 "$(h_sql "SELECT sent FROM sieve_sends WHERE mailbox = 'notif@sb.example'")"
t_eq "period: the message is in INBOX" 2 "$(inbox "$md_notif")"
# 1,024 notify actions (distinct methods): over SIEVE_ACTIONS_MAX, the
# script fails, nothing is sent, the message is kept
{ echo 'require ["enotify"];'
  for a in $(seq 1024); do printf 'notify "mailto:m%d@remote.example";\n' "$a"; done
} > "$ROOT/$md_many/.postern.sieve"
rm -f "$SENT"/*
deliver "$H_DIR/small.eml" many
t_eq "1,024 notify actions: delivered" 0 "$RC"
t_match "1,024 notify actions: the error is logged" 'too many actions \(limit 64\).*keeping the message' "$LOG"
t_eq "1,024 notify actions: nothing sent" 0 "$(ls "$SENT" | wc -l)"
t_eq "1,024 notify actions: the message is in INBOX" 1 "$(inbox "$md_many")"
# a sendmail that hangs: killed at sieve_send_timeout (3 s), message kept
out=$(lmtp hang slow@sb.example plain@sb.example)
t_eq "timeout: both delivered" "250 250" "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
t_ok "timeout: within the timeout ($(echo "$out" | sed -n 2p | cut -d' ' -f2) s)" \
    test "$(echo "$(echo "$out" | sed -n 2p | cut -d' ' -f2) < 8" | bc)" = 1
t_match "timeout: logged" 'sieve redirect to <slow@remote\.example>: .*did not finish in time' "$(cat "$H_DIR/lmtp.log")"
t_eq "timeout: the message is in slow's INBOX" 1 "$(inbox "$md_slow")"
t_eq "timeout: no sendmail left running" "" "$(pgrep -f "$H_DIR/sendmail" || true)"

# --- ManageSieve: nested repetition refused at PUTSCRIPT --------------------------------
h_tls_cert
MPORT=$(h_free_port)
cat > "$H_DIR/ms.conf" <<CONF
[managesieve]
listen = inet:127.0.0.1:$MPORT
tls_cert_file = $H_TLS_CERT
tls_key_file = $H_TLS_KEY
auth = sql
mail_root = $ROOT
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
CONF
"$BUILD/postern-managesieve" -f -c "$H_DIR/ms.conf" 2> "$H_DIR/ms.log" &
h_track_pid $!
t_wait "managesieve listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT"
printf 'require "regex";\nif header :regex "subject" "((a{1,100}){1,100}){1,100}" { discard; }\n' > "$H_DIR/nested.sieve"
printf 'require "regex";\nif header :regex "subject" "(a*)*b" { discard; }\n' > "$H_DIR/star.sieve"
{ echo 'require "regex";'; for i in $(seq 300); do printf 'if header :regex "s%d" "(x%d){200}y" { discard; }\n' "$i" "$i"; done; } > "$H_DIR/many.sieve"
printf 'require "regex";\nif header :regex "subject" "^(re: *)?\\\\[list\\\\]" { discard; }\n' > "$H_DIR/fine.sieve"
start=$(date +%s.%N)
out=$($H_PYTHON "$HERE/managesieve_client.py" "$MPORT" @STARTTLS "@AUTH ms@sb.example pw" \
      "@PUT nested $H_DIR/nested.sieve" "@CHECK $H_DIR/star.sieve" "@PUT many $H_DIR/many.sieve" \
      "@PUT fine $H_DIR/fine.sieve" LISTSCRIPTS 2>&1)
took=$(echo "$(date +%s.%N) - $start" | bc)
t_match "PUTSCRIPT: nested bounds refused" 'PUT nested[^>]*NO [^>]*too complex: a repetition of a repetition' "$(echo "$out" | tr '\n' ' ')"
t_match "CHECKSCRIPT: (a*)*b refused" 'CHECK[^>]*NO [^>]*too complex' "$(echo "$out" | tr '\n' ' ')"
t_match "PUTSCRIPT: too many regex bytes refused" 'PUT many[^>]*NO [^>]*too (many regular expressions|complex)' "$(echo "$out" | tr '\n' ' ')"
t_match "PUTSCRIPT: an ordinary regex is stored" 'PUT fine[^>]*OK' "$(echo "$out" | tr '\n' ' ')"
t_ok "the session took well under a second of server time ($took s)" test "$(echo "$took < 3" | bc)" = 1
t_ok "nothing stored for the refused scripts" test ! -e "$ROOT/$md_ms/sieve/nested.sieve" -a ! -e "$ROOT/$md_ms/sieve/many.sieve"
t_summary
