#!/bin/bash
# lda.sh - postern-lda behind a real Postfix: virtual mailboxes delivered
# through a pipe(8) transport running postern-lda, then through Postfix's
# lmtp(8) client to `postern-lda --lmtp` on a unix socket.
#
# Pipe run: the message lands in new/ of the DB-derived hashed maildir with
# Return-Path and Delivered-To (once each); user+folder@ (-m ${extension})
# lands in a Maildir++ folder created on demand, a UTF-8 folder in modified
# UTF-7; unknown mailbox -> bounce with 5.1.1 (log and DSN), a local
# sender's DSN stored with Return-Path: <>; over max_message_size -> 5.3.4;
# MariaDB stopped -> deferred, then delivered exactly once after restart
# and flush; quota full (maildirsize) -> 5.2.2 bounce, with quota_full =
# defer a deferral that is delivered once the quota is raised; Dovecot's
# dovecot-lda reads and writes the same maildirsize with the same result;
# an unwritable mailbox and a full disk (a 256 KB tmpfs volume) -> deferred,
# nothing partial, delivered once fixed; a Delivered-To loop -> 5.4.6.
#
# LMTP run: a raw session with 3 recipients (one unknown, one over quota)
# gets 250/550 at RCPT and 250/552 after DATA; the same through Postfix in
# one transaction, logged per recipient; user+ext@ to INBOX, or to the
# folder after lmtp_extension_folder = yes and a SIGHUP; database down ->
# 451 -> deferred, then delivered once.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('lda.example', 'local');
       INSERT INTO mailboxes (local_part, domain, quota_bytes) VALUES
         ('anna', 'lda.example', NULL), ('full', 'lda.example', 0),
         ('ro', 'lda.example', NULL), ('loop', 'lda.example', NULL),
         ('dbdown', 'lda.example', NULL),
         ('lm1', 'lda.example', NULL), ('lm2', 'lda.example', NULL),
         ('lmfull', 'lda.example', 100);" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@lda.example'"; }
md_anna=$(md anna); md_full=$(md full); md_ro=$(md ro); md_loop=$(md loop)
md_dbdown=$(md dbdown); md_lm1=$(md lm1); md_lm2=$(md lm2); md_lmfull=$(md lmfull)
t_match "maildir derived: volume/xx/xxxx/address/" '^vol01/[0-9a-f]{2}/[0-9a-f]{4}/anna@lda\.example/$' "$md_anna"

# --- files the pipe(8) user (nobody) reads and writes -----------------------
ROOT=$H_DIR/mail
mkdir -p "$ROOT" "$H_DIR/spool" "$H_DIR/lmtp"
chown nobody:nogroup "$ROOT" "$H_DIR/spool"
chmod 755 "$H_DIR/lmtp"
cp "$BUILD/postern-lda" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
LDA=$H_DIR/postern-lda
cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"; chmod 600 "$H_DIR/dbpw"
SOCK=$H_DIR/lmtp/lda.sock
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
listen = unix:$SOCK
user = nobody
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
# the quota tests below count files and bytes exactly: no quota warnings
# (tests/integration/lda-quota.sh tests those)
quota_warning =
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
EOC
chmod 644 "$CONF"
t_ok "-t accepts the test configuration" "$LDA" -c "$CONF" -t

# --- Postfix: virtual domain -> pipe transport "postern" ---------------------
h_start_smtp_sink ext            # the sender's MX: receives the bounces
cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $CONF -f \${sender} -a \${recipient} -m \${extension}
EOM
h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = lda.example
virtual_mailbox_maps = static:ok
virtual_transport = postern
postern_destination_recipient_limit = 1
recipient_delimiter = +
relayhost = [127.0.0.1]:$H_SINK_EXT_PORT
EOF

newcount() { find "$ROOT/$1/new" -maxdepth 1 -type f 2>/dev/null | wc -l; }
# with_subject DIR SUBJECT - how many files under DIR carry that Subject
with_subject() { grep -rlx -- "Subject: $2" "$ROOT/$1" 2>/dev/null | wc -l; }
# send FROM TO SUBJECT [h_smtp args] - submit over SMTP; sets QID
QID=""
send() {
    local from=$1 to=$2 subj=$3 r
    shift 3
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --from "$from" --to "$to" --subject "$subj" "$@")
    QID=$(printf '%s' "$r" | sed -nE 's/.*queued as ([0-9A-Za-z]+).*/\1/p')
    [ -n "$QID" ] || h_log "submission failed: $r"
}
# status QID RCPT - the last status=... Postfix logged for that delivery
status() {
    logline "$1" "$2" | sed -nE 's/.*status=([a-z]+) .*/\1/p'
}
logline() { grep -F " $1: to=<$2>," "$H_PF_LOG" | tail -n 1; }
has_status() { [ "$(status "$1" "$2")" = "$3" ]; }
sent_count() { grep -F " $1: to=<$2>," "$H_PF_LOG" | grep -c ' status=sent '; }
# has_new DIR N - DIR/new holds N files
has_new() { [ "$(newcount "$1")" = "$2" ]; }
# dsn_with TEXT - a bounce in the ext sink mentions TEXT
dsn_with() { grep -lF -- "$1" "$H_SINK_EXT_DIR"/*.eml >/dev/null 2>&1; }

# --- 1. a plain delivery ---------------------------------------------------------
send s@ext.example anna@lda.example "pipe one"
t_wait "delivered through the pipe transport" 20 has_status "$QID" anna@lda.example sent
t_match "logged via the postern service with 2.0.0" 'relay=postern, .*dsn=2\.0\.0, status=sent \(delivered via postern service \(2\.0\.0 <anna@lda\.example>: delivered to INBOX' "$(logline "$QID" anna@lda.example)"
t_eq "one file in new/ of the DB-derived path" 1 "$(newcount "$md_anna")"
f=$(find "$ROOT/$md_anna/new" -type f | head -n 1)
t_eq "Return-Path first" "Return-Path: <s@ext.example>" "$(sed -n 1p "$f")"
t_eq "Delivered-To second" "Delivered-To: anna@lda.example" "$(sed -n 2p "$f")"
t_eq "exactly one Return-Path and one Delivered-To" "1 1" "$(grep -c '^Return-Path:' "$f") $(grep -c '^Delivered-To:' "$f")"
t_match "Postfix's Received header follows" '^Received: from ' "$(sed -n 3p "$f")"
t_eq "owned by the pipe user" nobody "$(stat -c %U "$f")"
t_eq "tmp/ empty" 0 "$(find "$ROOT/$md_anna/tmp" -type f | wc -l)"

# --- 2. user+folder@ -> -m ${extension} -> Maildir++ folder -----------------------
send s@ext.example anna+Sent@lda.example "to sent"
t_wait "user+Sent@ delivered" 20 has_status "$QID" anna+Sent@lda.example sent
t_eq "in .Sent/new" 1 "$(newcount "$md_anna/.Sent")"
t_ok "folder created with maildirfolder" test -f "$ROOT/$md_anna/.Sent/maildirfolder"
t_ok "folder has tmp/ and cur/" test -d "$ROOT/$md_anna/.Sent/tmp" -a -d "$ROOT/$md_anna/.Sent/cur"
t_eq "INBOX unchanged" 1 "$(newcount "$md_anna")"
printf 'From: s@ext.example\nSubject: utf8 folder\n\nGrüße\n' |
    h_sendmail -f s@ext.example 'anna+Entwürfe@lda.example'
t_wait "UTF-8 extension: delivered to .Entw&APw-rfe (modified UTF-7)" 20 \
    has_new "$md_anna/.Entw&APw-rfe" 1
t_eq "no folder under the raw UTF-8 name" 0 "$(find "$ROOT/$md_anna" -maxdepth 1 -name '*ü*' | wc -l)"

# --- 3. unknown mailbox -> bounce 5.1.1 -------------------------------------------
send s@ext.example nosuch@lda.example "unknown"
t_wait "unknown mailbox bounced" 20 has_status "$QID" nosuch@lda.example bounced
t_match "logged with dsn=5.1.1" 'dsn=5\.1\.1, status=bounced \(.*no such mailbox' "$(logline "$QID" nosuch@lda.example)"
t_wait "a DSN reached the sender with 5.1.1" 20 dsn_with "5.1.1"
t_ok "the DSN names the recipient" dsn_with "nosuch@lda.example"
# a local sender gets its bounce through the same pipe, with the null sender
send anna@lda.example nosuch3@lda.example "bounce home"
t_wait "bounce to a local mailbox: bounced" 20 has_status "$QID" nosuch3@lda.example bounced
t_wait "the DSN lands in anna's INBOX" 20 has_new "$md_anna" 2
dsn=$(grep -l 'nosuch3@lda.example' "$ROOT/$md_anna"/new/* 2>/dev/null | head -n 1)
t_eq "DSN stored with Return-Path: <> (null_sender=)" "Return-Path: <>" "$(sed -n 1p "$dsn" 2>/dev/null)"

# larger than [lda] max_message_size -> 5.3.4
sed -i 's/^\[database\]/max_message_size = 100k\n[database]/' "$CONF"
{ printf 'From: s@ext.example\nTo: anna@lda.example\nSubject: too big\n\n'
  head -c 200000 /dev/zero | tr '\0' 'b' | fold -w 76; echo; } > "$H_DIR/big.eml"
send s@ext.example anna@lda.example "too big" --data "$H_DIR/big.eml"
t_wait "over max_message_size: bounced" 20 has_status "$QID" anna@lda.example bounced
t_match "with 5.3.4" 'dsn=5\.3\.4, status=bounced \(.*larger than 102400 bytes' "$(logline "$QID" anna@lda.example)"
t_eq "not stored" 0 "$(with_subject "$md_anna" "too big")"
sed -i '/^max_message_size = 100k$/d' "$CONF"

# --- 4. MariaDB down -> deferred, then delivered exactly once ---------------------
t_ok "queue empty before the outage (DSNs sent)" h_wait_queue_empty 10
h_stop_mariadb
send s@ext.example dbdown@lda.example "db outage"
t_wait "database down: deferred" 20 has_status "$QID" dbdown@lda.example deferred
t_match "with 4.3.0" 'dsn=4\.3\.0, status=deferred .*mailbox lookup failed' "$(logline "$QID" dbdown@lda.example)"
t_eq "nothing delivered meanwhile" 0 "$(newcount "$md_dbdown")"
t_eq "still queued" 1 "$(h_queue_count)"
h_restart_mariadb
h_postqueue_flush
t_wait "after the restart: delivered" 20 has_status "$QID" dbdown@lda.example sent
t_ok "queue empty" h_wait_queue_empty 10
t_eq "exactly once in the mailbox" 1 "$(with_subject "$md_dbdown" "db outage")"
t_eq "exactly one status=sent" 1 "$(sent_count "$QID" dbdown@lda.example)"

# --- 5. quota: maildirsize full -> 552 5.2.2; defer; Dovecot agrees -----------------
send s@ext.example full@lda.example "quota one"
t_wait "first message under quota delivered" 20 has_status "$QID" full@lda.example sent
s1=$(stat -c %s "$(find "$ROOT/$md_full/new" -type f | head -n 1)")
LIMIT=$((s1 + 100))            # room for ~100 more bytes only
h_sql "UPDATE mailboxes SET quota_bytes = $LIMIT WHERE address = 'full@lda.example'"
send s@ext.example full@lda.example "quota two"
t_wait "over quota: bounced" 20 has_status "$QID" full@lda.example bounced
t_match "logged with 5.2.2" 'dsn=5\.2\.2, status=bounced \(.*mailbox is full' "$(logline "$QID" full@lda.example)"
t_wait "a DSN with 5.2.2 reached the sender" 20 dsn_with "5.2.2"
t_eq "maildirsize rewritten for the new limit" "${LIMIT}S $s1 1" "$(head -n 2 "$ROOT/$md_full/maildirsize" | tr '\n' ' ' | sed 's/ $//')"
t_eq "the bounced message is not stored" 1 "$(newcount "$md_full")"

# quota_full = defer: deferred (4.2.2); raising the quota delivers it, once
sed -i 's/^\[database\]/quota_full = defer\n[database]/' "$CONF"
send s@ext.example full@lda.example "quota deferred"
t_wait "quota_full = defer: deferred" 20 has_status "$QID" full@lda.example deferred
t_match "with 4.2.2" 'dsn=4\.2\.2, status=deferred \(.*mailbox is full' "$(logline "$QID" full@lda.example)"
h_sql "UPDATE mailboxes SET quota_bytes = $((LIMIT + 100000)) WHERE address = 'full@lda.example'"
h_postqueue_flush
t_wait "quota raised: the deferred message is delivered" 20 has_status "$QID" full@lda.example sent
t_eq "exactly once" 1 "$(with_subject "$md_full" "quota deferred")"
sed -i '/^quota_full = defer$/d' "$CONF"

# Dovecot's maildir quota on the same maildirsize (dovecot-lda without the
# daemon, as nobody, HOME = the mailbox).  Usage is the S= sum of every file.
usage_of() { # DIR -> "bytes count" from the S= of every message
    find "$1" -path '*/new/*' -o -path '*/cur/*' | sed -nE 's/.*,S=([0-9]+).*/\1/p' |
        awk '{ b += $1; n++ } END { printf "%d %d", b, n }'
}
mdsize_usage() { # maildirsize -> "bytes count" (sum of the lines after the first)
    awk 'NR > 1 { b += $1; n += $2 } END { printf "%d %d", b, n }' "$1"
}
MB=$ROOT/$md_full
DLIMIT=$(( $(usage_of "$MB" | cut -d' ' -f1) + 300 ))
h_sql "UPDATE mailboxes SET quota_bytes = $DLIMIT WHERE address = 'full@lda.example'"
mkdir -p "$H_DIR/dovecot"
cat > "$H_DIR/dovecot/dovecot.conf" <<EOD
base_dir = $H_DIR/dovecot/run
log_path = $H_DIR/dovecot/dovecot.log
protocols =
ssl = no
mail_location = maildir:~
postmaster_address = postmaster@lda.example
hostname = mx1.test.example
sendmail_path = /bin/false
mail_plugins = quota
plugin {
  quota = maildir:User quota
  quota_rule = *:storage=${DLIMIT}B
}
EOD
chmod -R a+rX "$H_DIR/dovecot"; chown nobody "$H_DIR/dovecot"
dlda() { # deliver stdin with dovecot-lda into the 'full' mailbox
    setpriv --reuid=nobody --regid=nogroup --clear-groups env -i HOME="$MB" USER=full \
        /usr/lib/dovecot/dovecot-lda -c "$H_DIR/dovecot/dovecot.conf" -e \
        -f s@ext.example -a full@lda.example
}
plda() { # the same with postern-lda in pipe mode
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$LDA" -c "$CONF" \
        -f s@ext.example -a full@lda.example
}
# Both recalculate a missing maildirsize from the Maildir: same figures.
rm -f "$MB/maildirsize"
printf 'Subject: dovecot small\n\n%050d\n' 0 | dlda; rc=$?
t_eq "dovecot-lda: a small message fits" 0 "$rc"
t_eq "dovecot's maildirsize header is our limit" "${DLIMIT}S" "$(head -n 1 "$MB/maildirsize" | cut -d, -f1)"
t_eq "dovecot's recalculated usage = sum of S=" "$(usage_of "$MB")" "$(mdsize_usage "$MB/maildirsize")"
dv_file=$(cat "$MB/maildirsize")
rm -f "$MB/maildirsize"
out=$(printf 'Subject: postern small\n\n%030d\n' 0 | plda); rc=$?
t_eq "postern-lda: a small message fits" "0" "$rc"
t_eq "postern's maildirsize header is the same" "$(head -n 1 <<< "$dv_file" | cut -d, -f1)" "$(head -n 1 "$MB/maildirsize")"
t_eq "postern's recalculated usage = sum of S=" "$(usage_of "$MB")" "$(mdsize_usage "$MB/maildirsize")"
# Now both append to one file; each sees what the other added.
left=$(( DLIMIT - $(mdsize_usage "$MB/maildirsize" | cut -d' ' -f1) ))
body=$(( left - 80 ))          # dovecot adds nothing: a message of left-80 bytes fits
printf 'Subject: dovecot fill\n\n%0*d\n' $((body - 24)) 0 | dlda; rc=$?
t_eq "dovecot-lda fills the quota from postern's maildirsize" 0 "$rc"
t_eq "dovecot appended its delivery" "$(usage_of "$MB")" "$(mdsize_usage "$MB/maildirsize")"
out=$(printf 'Subject: postern over\n\n%0100d\n' 0 | plda); rc=$?
t_eq "postern-lda sees dovecot's line: over quota (77)" 77 "$rc"
t_match "with 5.2.2" '^5\.2\.2 ' "$out"
out=$(printf 'Subject: dovecot over\n\n%0200d\n' 0 | dlda 2>&1); rc=$?
t_eq "dovecot-lda refuses the same (77)" 77 "$rc"
t_match "dovecot says quota exceeded" '[Qq]uota' "$out"
t_eq "the file still matches the Maildir" "$(usage_of "$MB")" "$(mdsize_usage "$MB/maildirsize")"
h_sql "UPDATE mailboxes SET quota_bytes = 0 WHERE address = 'full@lda.example'"

# --- 6. unwritable mailbox -> deferred, delivered after fixing permissions ---------
mkdir -p "$ROOT/$md_ro"/{tmp,new,cur}
chown -R root:root "$ROOT/$md_ro"; chmod -R 555 "$ROOT/$md_ro"
send s@ext.example ro@lda.example "read only"
t_wait "unwritable mailbox: deferred" 20 has_status "$QID" ro@lda.example deferred
t_match "with 4.3.0 and the reason" 'dsn=4\.3\.0, status=deferred \(.*cannot write the mailbox: Permission denied' "$(logline "$QID" ro@lda.example)"
t_eq "nothing in new/" 0 "$(newcount "$md_ro")"
chown -R nobody:nogroup "$ROOT/$md_ro"; chmod -R 700 "$ROOT/$md_ro"
h_postqueue_flush
t_wait "permissions fixed: delivered" 20 has_status "$QID" ro@lda.example sent
t_eq "exactly once" 1 "$(with_subject "$md_ro" "read only")"
t_eq "nothing left in tmp/" 0 "$(find "$ROOT/$md_ro/tmp" -type f | wc -l)"

# --- 6b. disk full (a 256 KB tmpfs volume) -> deferred, nothing partial, then delivered
MNT=$ROOT/vol02
mkdir -p "$MNT"
trap 'rc=$?; umount -l "$MNT" 2>/dev/null; (exit $rc); h__on_exit' EXIT
if mount -t tmpfs -o size=256k,mode=0755 tmpfs "$MNT" 2>/dev/null; then
    chown nobody:nogroup "$MNT"
    h_sql "INSERT INTO mailboxes (local_part, domain, volume) VALUES ('disk', 'lda.example', 'vol02')"
    md_disk=$(md disk)
    { printf 'From: s@ext.example\nTo: disk@lda.example\nSubject: disk full\n\n'
      head -c 400000 /dev/zero | tr '\0' 'd' | fold -w 76; echo; } > "$H_DIR/disk.eml"
    send s@ext.example disk@lda.example "disk full" --data "$H_DIR/disk.eml"
    t_wait "disk full: deferred" 20 has_status "$QID" disk@lda.example deferred
    t_match "with 4.3.0 and ENOSPC" 'dsn=4\.3\.0, status=deferred \(.*No space left on device' "$(logline "$QID" disk@lda.example)"
    t_eq "disk full: nothing in new/" 0 "$(newcount "$md_disk")"
    t_eq "disk full: the partial tmp/ file was removed" 0 "$(find "$ROOT/$md_disk/tmp" -type f | wc -l)"
    mount -o remount,size=4m "$MNT"
    h_postqueue_flush
    t_wait "space again: delivered" 20 has_status "$QID" disk@lda.example sent
    f=$(find "$ROOT/$md_disk/new" -type f | head -n 1)
    t_ok "whole: S= is the file size" test -n "$f" -a "$(stat -c %s "$f" 2>/dev/null)" = "$(sed -E 's/.*,S=([0-9]+).*/\1/' <<< "$f")"
    t_eq "exactly once" 1 "$(with_subject "$md_disk" "disk full")"
    umount "$MNT"
else
    t_fail "disk full test: cannot mount a tmpfs (needs root with mount rights)"
fi

# --- 7. Delivered-To loop -> 5.4.6 --------------------------------------------------
send s@ext.example loop@lda.example "looping" --header "Delivered-To: loop@lda.example"
t_wait "loop bounced" 20 has_status "$QID" loop@lda.example bounced
t_match "logged with 5.4.6" 'dsn=5\.4\.6, status=bounced \(.*mail loop' "$(logline "$QID" loop@lda.example)"
t_wait "a DSN with 5.4.6 reached the sender" 20 dsn_with "5.4.6"
t_eq "not stored" 0 "$(newcount "$md_loop")"
t_ok "queue empty after the pipe run" h_wait_queue_empty 10

# --- LMTP ------------------------------------------------------------------------------
"$BUILD/postern-lda" --lmtp -c "$CONF" -f 2> "$H_DIR/lmtp.log" &
LPID=$!
h_track_pid "$LPID"
t_wait "LMTP server listening on $SOCK" 10 test -S "$SOCK"
t_eq "LMTP server runs as nobody" nobody "$(ps -o user= -p "$LPID" | tr -d ' ')"

# a raw session: 3 recipients, replies at RCPT and one per recipient after DATA
lmtp_session() {
    "$H_PYTHON" - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode().rstrip("\r\n")
        lines.append(l)
        if len(l) < 4 or l[3] != "-":
            return lines[-1]
out = [reply()]
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    out.append(c.split(":")[0] + " -> " + reply())
cmd("LHLO client.test.example")
cmd("MAIL FROM:<s@ext.example>")
for r in ("lm1@lda.example", "nosuch@lda.example", "lmfull@lda.example"):
    cmd("RCPT TO:<%s>" % r)
cmd("DATA")
s.sendall(b"Subject: raw lmtp\r\n\r\n" + b"x" * 300 + b"\r\n..dot-stuffed\r\n.\r\n")
out.append("after DATA -> " + reply())
out.append("after DATA -> " + reply())
cmd("QUIT")
print("\n".join(out))
PY
}
out=$(lmtp_session 2>&1)
if ! [[ $out =~ ^220\  ]]; then
    # every check below would time out one by one: report the cause once
    t_fail "LMTP server greets with 220" "no greeting: $(tail -n 1 <<< "$out")"
    t_summary
    exit
fi
t_pass "LMTP server greets with 220"
t_match "RCPT known: 250" 'RCPT TO -> 250 2\.1\.5' "$(sed -n 4p <<< "$out")"
t_match "RCPT unknown: 550 5.1.1" 'RCPT TO -> 550 5\.1\.1 <nosuch@lda\.example>' "$(sed -n 5p <<< "$out")"
t_match "RCPT over-quota mailbox accepted at RCPT" 'RCPT TO -> 250 2\.1\.5' "$(sed -n 6p <<< "$out")"
t_match "DATA 354" 'DATA -> 354' "$(sed -n 7p <<< "$out")"
t_match "after DATA, lm1: 250" 'after DATA -> 250 2\.0\.0 <lm1@lda\.example>' "$(sed -n 8p <<< "$out")"
t_match "after DATA, lmfull: 552 5.2.2" 'after DATA -> 552 5\.2\.2 <lmfull@lda\.example>' "$(sed -n 9p <<< "$out")"
t_eq "raw session: delivered to lm1" 1 "$(newcount "$md_lm1")"
f=$(find "$ROOT/$md_lm1/new" -type f | head -n 1)
t_eq "dot-unstuffed, CRLF -> LF" ".dot-stuffed" "$(tail -n 1 "$f")"
t_eq "LMTP: Delivered-To" "Delivered-To: lm1@lda.example" "$(sed -n 2p "$f")"
t_eq "written as nobody" nobody "$(stat -c %U "$f")"
t_eq "nothing for lmfull" 0 "$(newcount "$md_lmfull")"

# Postfix lmtp(8) -> postern-lda --lmtp
h_postconf -e "virtual_transport = lmtp:unix:$SOCK"
h_postfix_reload
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from p@ext.example --to lm2@lda.example \
    --to nosuch2@lda.example --to lmfull@lda.example --subject "via lmtp")
QID=$(printf '%s' "$r" | sed -nE 's/.*queued as ([0-9A-Za-z]+).*/\1/p')
t_wait "lm2 delivered through LMTP" 20 has_status "$QID" lm2@lda.example sent
t_wait "unknown bounced" 20 has_status "$QID" nosuch2@lda.example bounced
t_wait "over quota bounced" 20 has_status "$QID" lmfull@lda.example bounced
t_match "lm2: relay=...[socket] said 250 2.0.0" 'relay=[^ ]*\[[^ ]*/lda\.sock\], .* dsn=2\.0\.0, status=sent \(250 2\.0\.0 <lm2@lda\.example>: delivered' "$(logline "$QID" lm2@lda.example)"
t_match "unknown: 550 5.1.1 in reply to RCPT" 'dsn=5\.1\.1, status=bounced \(host .* said: 550 5\.1\.1 .*in reply to RCPT TO command' "$(logline "$QID" nosuch2@lda.example)"
t_match "over quota: 552 5.2.2 in reply to end of DATA" 'dsn=5\.2\.2, status=bounced \(host .* said: 552 5\.2\.2 .*in reply to end of DATA command' "$(logline "$QID" lmfull@lda.example)"
t_eq "one LMTP transaction for the three" 1 "$(grep -c 'lmtp: from=<p@ext.example> size=[0-9]* recipients=2 ' "$H_DIR/lmtp.log")"
t_eq "lm2: the message is there once" 1 "$(with_subject "$md_lm2" "via lmtp")"
t_wait "the bounce DSN for both reached the sender" 20 dsn_with "nosuch2@lda.example"

# user+ext@ over LMTP: INBOX by default; lmtp_extension_folder = yes (SIGHUP)
send s@ext.example lm2+Archiv@lda.example "ext default"
t_wait "LMTP user+ext@: delivered" 20 has_status "$QID" lm2+Archiv@lda.example sent
t_eq "by default into INBOX" 1 "$(find "$ROOT/$md_lm2/new" -type f | xargs grep -lx 'Subject: ext default' | wc -l)"
sed -i 's/^\[database\]/lmtp_extension_folder = yes\n[database]/' "$CONF"
kill -HUP "$LPID"
t_wait "SIGHUP: configuration reloaded" 10 grep -q 'SIGHUP' "$H_DIR/lmtp.log"
send s@ext.example lm2+Archiv@lda.example "ext folder"
t_wait "LMTP user+ext@ with lmtp_extension_folder: delivered" 20 has_status "$QID" lm2+Archiv@lda.example sent
t_eq "into the .Archiv folder" 1 "$(with_subject "$md_lm2/.Archiv" "ext folder")"
t_match "Postfix logs the folder" 'delivered to \.Archiv\)' "$(logline "$QID" lm2+Archiv@lda.example)"
sed -i '/^lmtp_extension_folder = yes$/d' "$CONF"

# LMTP with the database down: 451 at RCPT -> deferred -> delivered once
h_stop_mariadb
send s@ext.example lm2@lda.example "lmtp db outage"
t_wait "LMTP, database down: deferred" 20 has_status "$QID" lm2@lda.example deferred
t_match "with 451 4.3.0" 'status=deferred \(host .* said: 451 4\.3\.0 ' "$(logline "$QID" lm2@lda.example)"
h_restart_mariadb
h_postqueue_flush
t_wait "database back: delivered" 20 has_status "$QID" lm2@lda.example sent
t_eq "exactly once" 1 "$(with_subject "$md_lm2" "lmtp db outage")"
t_ok "queue empty at the end" h_wait_queue_empty 10
t_eq "LMTP server still running" 0 "$(kill -0 "$LPID" 2>/dev/null; echo $?)"
t_summary
