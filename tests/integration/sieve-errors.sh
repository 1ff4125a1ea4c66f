#!/bin/bash
# sieve-errors.sh - errors like a compiler (issue 18), end to end:
#   1. postern-sieve prints every error of a script in one pass, one
#      "NAME:LINE: error: ..." line each, in line order (3 errors on lines
#      4, 9 and 12), at most 20 plus "too many errors"; run-time errors
#      (duplicate reject, the action and redirect limits) name the limit;
#      -u USER_EMAIL: a redirect to the user's own address is kept;
#   2. postern-managesieve (real MariaDB): CHECKSCRIPT and PUTSCRIPT of a
#      3-error script answer NO with the 3 lines (RFC 5804 literal);
#   3. real Postfix + postern-lda (pipe): a script that redirects to the
#      mailbox's own address (other case, +detail) delivers the message
#      into INBOX and re-injects nothing; postern-lda logs the note.
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
SIEVE=$PWD/$BUILD/postern-sieve
HERE="$(cd "$(dirname "$0")" && pwd)"
CLIENT="$H_PYTHON $HERE/managesieve_client.py"
h_init

# --- 1. postern-sieve ------------------------------------------------------------------
D=$H_DIR/dry
mkdir -p "$D"
printf 'From: Ann <ann@example.org>\nTo: me@example.com\nSubject: hi\n\nHello\n' > "$D/msg"
cp tests/sieve/errors/recover-three.sieve "$D/three.sieve"
err=$("$SIEVE" "$D/three.sieve" "$D/msg" 2>&1 >/dev/null); rc=$?
t_eq "3 errors: exit 1" 1 "$rc"
t_eq "3 errors: three lines" 3 "$(printf '%s\n' "$err" | grep -c ': error: ')"
t_eq "3 errors: on lines 4, 9 and 12" "4 9 12" \
    "$(printf '%s\n' "$err" | sed -E 's/^[^:]*:([0-9]+): error: .*/\1/' | tr '\n' ' ' | sed 's/ $//')"
t_eq "3 errors: the format" "$D/three.sieve:9: error: unknown command 'frobnicate'" \
    "$(printf '%s\n' "$err" | sed -n 2p)"
{ for i in $(seq 1 30); do echo "frob$i;"; done; } > "$D/many.sieve"
err=$("$SIEVE" "$D/many.sieve" "$D/msg" 2>&1 >/dev/null)
t_eq "30 errors: 20 lines and one more" 21 "$(printf '%s\n' "$err" | wc -l)"
t_eq "30 errors: the last line" "$D/many.sieve: error: too many errors" "$(printf '%s\n' "$err" | tail -n 1)"
printf 'require "reject";\nreject "a";\nreject "b";\n' > "$D/rr.sieve"
out=$("$SIEVE" "$D/rr.sieve" "$D/msg" 2>"$D/rr.err"); rc=$?
t_eq "duplicate reject: a run-time error (exit 2)" 2 "$rc"
t_eq "duplicate reject: the message is kept" "keep" "$out"
t_match "duplicate reject: the message" 'rr.sieve:3: error: duplicate reject action not allowed' "$(cat "$D/rr.err")"
{ for i in 1 2 3 4 5; do echo "redirect \"u$i@example.net\";"; done; } > "$D/rl.sieve"
"$SIEVE" "$D/rl.sieve" "$D/msg" >/dev/null 2>"$D/rl.err"
t_match "redirect limit: named" 'rl.sieve:5: error: too many redirects \(limit 4\)' "$(cat "$D/rl.err")"
printf 'redirect "Me+Lists@Example.COM";\n' > "$D/self.sieve"
out=$("$SIEVE" -u me@example.com -a other@example.com "$D/self.sieve" "$D/msg" 2>"$D/self.err"); rc=$?
t_eq "-u: a redirect to oneself is kept" "keep" "$out"
t_match "-u: with a note on stderr" "note: redirect to <Me\+Lists@Example.COM> .* own address: kept instead" "$(cat "$D/self.err")"
out=$("$SIEVE" -a other@example.com "$D/self.sieve" "$D/msg" 2>/dev/null)
t_eq "without -u: redirected" "redirect Me+Lists@Example.COM" "$out"

# --- 2. ManageSieve -------------------------------------------------------------------
h_start_mariadb
h_tls_cert
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
HASH=$(openssl passwd -6 'anna-pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('va.example', 'local');
INSERT INTO mailboxes (local_part, domain, password_hash) VALUES ('anna', 'va.example', '{SHA512-CRYPT}$HASH');" || exit 1
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address='anna@va.example'")
ROOT=$H_DIR/mail
mkdir -p "$ROOT/$MD"
PORT=$(h_free_port)
cat > "$H_DIR/ms.conf" <<CONF
[managesieve]
listen = inet:127.0.0.1:$PORT
tls_cert_file = $H_TLS_CERT
tls_key_file = $H_TLS_KEY
auth = sql
mail_root = $ROOT
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
CONF
"$BUILD/postern-managesieve" -f -c "$H_DIR/ms.conf" 2> "$H_DIR/ms.log" &
h_track_pid $!
t_wait "managesieve listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
out=$($CLIENT "$PORT" @STARTTLS '@AUTH anna@va.example anna-pw' \
    "@CHECK $D/three.sieve" "@PUT broken $D/three.sieve" LOGOUT)
# (the client prints a literal's text after "NO ")
t_match "CHECKSCRIPT: NO with the first error" "NO script:4: error: " "$out"
t_eq "CHECKSCRIPT and PUTSCRIPT: the 3 lines each" 6 "$(printf '%s\n' "$out" | grep -cE '^(NO )?(script|broken):(4|9|12): error: ')"
t_match "CHECKSCRIPT: line 4" "script:4: error: 'fileinto' takes no test \\(missing ';' before 'if'\\?\\)" "$out"
t_match "CHECKSCRIPT: line 9" "script:9: error: unknown command 'frobnicate'" "$out"
t_match "PUTSCRIPT: line 12" "broken:12: error: argument 1 of 'fileinto' must be a string" "$out"
# a header name Pigeonhole only warns about: the script is stored, the
# client sees the warning (RFC 5804 OK (WARNINGS))
printf 'if header :is "Subject:" "x" { discard; }\nkeep;\n' > "$D/warn.sieve"
out=$($CLIENT "$PORT" @STARTTLS '@AUTH anna@va.example anna-pw' \
    "@CHECK $D/warn.sieve" "@PUT warned $D/warn.sieve" LOGOUT)
t_eq "CHECKSCRIPT and PUTSCRIPT: OK (WARNINGS) with the line" 2 \
    "$(printf '%s\n' "$out" | grep -c 'OK (WARNINGS) .*:1: warning: invalid header name \\"Subject:\\" (never matches)')"
t_ok "PUTSCRIPT with warnings: the script is stored" test -e "$ROOT/$MD/sieve/warned.sieve"
t_not "PUTSCRIPT: the broken script is not stored" test -e "$ROOT/$MD/sieve/broken.sieve"

# --- 3. Postfix + postern-lda: a redirect to oneself ------------------------------------
lda_install
CONF=$H_DIR/lda.conf
lda_conf "$CONF" "$ROOT" < /dev/null
lda_start_postfix va.example "$CONF"
# a sendmail that only records that it was called: nothing may be re-injected
printf '#!/bin/sh\necho "$@" >> %s/reinjected\ncat > /dev/null\n' "$H_DIR" > "$H_DIR/sendmail"
chmod 755 "$H_DIR/sendmail"
printf 'redirect "ANNA+self@VA.example";\n' > "$ROOT/$MD/.postern.sieve"
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"
printf 'From: sam@remote.example\nTo: anna@va.example\nSubject: to myself\nMessage-ID: <self1@remote.example>\n\nbody\n' > "$H_DIR/m1"
h_smtp --port "$H_PF_SMTP_PORT" --from sam@remote.example --to anna@va.example --data "$H_DIR/m1" >/dev/null
h_wait_queue_empty 20 >/dev/null
inbox() { find "$ROOT/$MD/new" "$ROOT/$MD/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
t_wait "redirect to oneself: the message is in INBOX" 10 test "$(inbox)" = 1
t_match "redirect to oneself: it is the message sent" 'Subject: to myself' "$(cat "$ROOT/$MD/new/"* 2>/dev/null)"
t_not "redirect to oneself: nothing re-injected (sendmail not run)" test -e "$H_DIR/reinjected"
t_eq "redirect to oneself: Postfix delivered once" 1 "$(grep -c 'to=<anna@va.example>.*relay=postern.*status=sent' "$H_PF_LOG")"
# the note in postern-lda's log (log = stderr, the same delivery by hand)
sed -i 's/^fsync = no$/fsync = no\nlog = stderr/' "$CONF"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$LDA" -c "$CONF" -f sam@remote.example \
    -a anna@va.example < "$H_DIR/m1" 2> "$H_DIR/lda.log"; rc=$?
t_eq "by hand: delivered" 0 "$rc"
t_match "postern-lda logs the note" 'to=<anna@va.example>: sieve: redirect to <ANNA\+self@VA.example> .* own address: kept instead' "$(cat "$H_DIR/lda.log")"
t_eq "by hand: in INBOX too" 2 "$(inbox)"
t_not "by hand: nothing re-injected" test -e "$H_DIR/reinjected"
t_summary
