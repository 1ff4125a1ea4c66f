#!/bin/bash
# sieve-migrate.sh - the migration tools of issue 18:
#   1. postern-sieve --check DIR on a mail root (postern layout and a
#      Dovecot home): every script compiled, includes resolved as
#      postern-lda resolves them, the report, --json, the exit codes, the
#      bounds (depth, script count, links out of DIR, Maildir folders);
#   2. postern-sieve --check on a Cyrus source tree (NAME.script,
#      defaultbc), then postern-sieve convert on Cyrus scripts written for this test
#      (modified UTF-7 names, INBOX. prefixes, '.' separators, imapflags):
#      --dry-run prints a diff and writes nothing, a real run rewrites only
#      the folder strings (comments kept) with a backup, a result that does
#      not compile is refused with the file untouched, DIR mode;
#   3. real Postfix + MariaDB + postern-lda (pipe): a broken user script
#      keeps the message and puts one report into the INBOX, once per
#      script version; a run-time error likewise; sieve_report_errors = no.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
SIEVE=$PWD/$BUILD/postern-sieve
h_init
# has ERE TEXT - some line of TEXT matches ERE
has() { grep -qE -- "$1" <<< "$2"; }

# --- 1. --check -----------------------------------------------------------------
R=$H_DIR/root
OUT=$H_DIR/outside
mkdir -p "$R/ex.org/alice/sieve" "$R/ex.org/bob/sieve" "$R/ex.org/carl/cur" \
    "$R/ex.org/carl/.Sent" "$R/home/dora/sieve" "$R/ex.org/eve" \
    "$R/a/b/c/d/e/f/g/h/i/deep" "$OUT/mb/sieve" "$R/glob"
printf 'require "fileinto";\nfileinto "Lists";\n' > "$R/ex.org/alice/sieve/main.sieve"
printf 'require "include";\ninclude :personal "lib";\ninclude :optional "nope";\ninclude :global "g1";\n' \
    > "$R/ex.org/alice/sieve/inc.sieve"
printf 'keep;\n' > "$R/ex.org/alice/sieve/lib.sieve"
printf 'keep;\n' > "$R/glob/g1.sieve"
ln -s sieve/main.sieve "$R/ex.org/alice/.postern.sieve"
# bob: three errors on lines 2, 3 and 5 in one script, and an active
# script (a file of its own) whose include names a missing script
printf 'require "fileinto";\nfileint "X";\nfileinto;\nkeep;\nstopp;\n' > "$R/ex.org/bob/sieve/broken.sieve"
printf 'require "include";\n\ninclude :personal "missing";\n' > "$R/ex.org/bob/.postern.sieve"
# carl: a plain Maildir; a script inside a Maildir++ folder is not his
printf 'bogus;\n' > "$R/ex.org/carl/.Sent/.postern.sieve"
# dora: a Dovecot home
printf 'require ["fileinto"];\nif header :is "x" "y" { fileinto "A" }\n' > "$R/home/dora/sieve/roundcube.sieve"
ln -s sieve/roundcube.sieve "$R/home/dora/.dovecot.sieve"
# eve: the active link leads out of DIR
printf 'keep;\n' > "$OUT/evil.sieve"
ln -s "$OUT/evil.sieve" "$R/ex.org/eve/.postern.sieve"
# a linked directory with a broken mailbox: not entered
printf 'bogus;\n' > "$OUT/mb/sieve/x.sieve"
ln -s "$OUT" "$R/ex.org/linked"
# below --max-depth (9 levels): not found
printf 'bogus;\n' > "$R/a/b/c/d/e/f/g/h/i/deep/.postern.sieve"

out=$("$SIEVE" --check -G "$R/glob" "$R" 2>&1); rc=$?
t_eq "--check: exit 1 when a script fails" 1 "$rc"
t_eq "--check: the summary line" "7 scripts, 4 failed" "$(echo "$out" | tail -n 1)"
t_ok "--check: a failed script names mailbox and script" has '^ex\.org/bob: sieve/broken\.sieve: failed$' "$out"
t_eq "--check: every error of the script, one per line, with its line" \
    "$(printf '  sieve/broken.sieve:2: error:\n  sieve/broken.sieve:3: error:\n  sieve/broken.sieve:5: error:')" \
    "$(echo "$out" | grep '^  sieve/broken.sieve:' | sed 's/error:.*/error:/')"
t_match "--check: a missing include is an error as in postern-lda" \
    '\.postern\.sieve:3: error: included script "missing" \(:personal\) not found' "$out"
t_ok "--check: the Dovecot home's active script is checked" has '^home/dora: sieve/roundcube\.sieve \(active\): failed' "$out"
t_ok "--check: a link out of DIR fails and is not read" has '^ex\.org/eve: \.postern\.sieve \(active\): failed' "$out"
t_not "--check: Maildir++ folders are not searched" grep -q 'carl' <<< "$out"
t_not "--check: a linked directory is not entered" grep -q 'linked' <<< "$out"
t_not "--check: nothing below --max-depth" grep -q 'deep' <<< "$out"
t_not "--check: good scripts are not listed without -v" grep -q 'alice' <<< "$out"
out=$("$SIEVE" --check -v -G "$R/glob" "$R/ex.org/alice" 2>&1); rc=$?
t_eq "--check: a good mailbox exits 0" 0 "$rc"
t_ok "--check -v: ok lines, the active script marked" has '^\.: sieve/main\.sieve \(active\): ok$' "$out"
t_eq "--check -v: summary" "3 scripts, 0 failed" "$(echo "$out" | tail -n 1)"
out=$("$SIEVE" --check "$R/ex.org/alice" 2>&1)
t_match "--check: a missing :global script without -G's directory" 'included script "g1" \(:global\) not found' "$out"
json=$("$SIEVE" --check --json -G "$R/glob" "$R" 2>/dev/null)
t_eq "--check --json: counts and the failed scripts" "7 4 4 True" "$(python3 -c '
import json,sys; d=json.loads(sys.stdin.read())
print(d["scripts"], d["failed"], len(d["results"]), d["complete"])' <<< "$json" 2>&1)"
t_eq "--check --json: the errors of one script" "3" "$(python3 -c '
import json,sys; d=json.loads(sys.stdin.read())
print([len(r["errors"]) for r in d["results"] if r["script"]=="sieve/broken.sieve"][0])' <<< "$json" 2>&1)"
"$SIEVE" --check --max-scripts 2 "$R" >/dev/null 2>&1; rc=$?
t_eq "--check --max-scripts: cut short is 75" 75 "$rc"
"$SIEVE" --check "$H_DIR/nonexistent" >/dev/null 2>&1; rc=$?
t_eq "--check: an unreadable DIR is 75" 75 "$rc"
"$SIEVE" --check >/dev/null 2>&1; rc=$?
t_eq "--check without DIR: 64" 64 "$rc"

# --- 2. convert -----------------------------------------------------------------
C=$H_DIR/cyrus
mkdir -p "$C/u/user/anna" "$C/u/user/bert"
S1=$C/u/user/anna/main.script
cat > "$S1" <<'EOS'
# from Cyrus: INBOX.Old stays in this comment
require ["fileinto", "imapflags", "vacation", "mailbox"];
/* "INBOX.Sent" in a comment stays too */
if header :contains "subject" "INBOX.Spam" {
    fileinto "INBOX.Entw&APw-rfe";
} elsif mailboxexists ["INBOX.Archiv.2024", "INBOX"] {
    mark;
    fileinto :create "INBOX.Archiv.2024";
} elsif header :is "x-a" "b" {
    unmark;
    fileinto "INBOX";
}
vacation :days 7 :subject "INBOX.Urlaub" "Bin weg.";
EOS
cat > "$H_DIR/expected" <<'EOS'
# from Cyrus: INBOX.Old stays in this comment
require ["fileinto", "imap4flags", "vacation", "mailbox"];
/* "INBOX.Sent" in a comment stays too */
if header :contains "subject" "INBOX.Spam" {
    fileinto "Entwürfe";
} elsif mailboxexists ["Archiv/2024", "INBOX"] {
    addflag "\\Flagged";
    fileinto :create "Archiv/2024";
} elsif header :is "x-a" "b" {
    removeflag "\\Flagged";
    fileinto "INBOX";
}
vacation :days 7 :subject "INBOX.Urlaub" "Bin weg.";
EOS
ln -s main.bc "$C/u/user/anna/defaultbc"
out=$("$SIEVE" --check "$C/u" 2>&1); rc=$?
t_eq "--check on the Cyrus source tree: exit 1" 1 "$rc"
t_ok "--check on the Cyrus source tree: imapflags is not postern's" \
    has '^user/anna: main\.script \(active\): failed$' "$out"
chown nobody:nogroup "$S1"; chmod 640 "$S1"
cp "$S1" "$H_DIR/original"
diff=$("$SIEVE" convert --dry-run --from-cyrus "$S1" 2>"$H_DIR/err"); rc=$?
t_eq "convert --dry-run: exit 0" 0 "$rc"
t_ok "convert --dry-run: a unified diff" has '^\+    fileinto "Entwürfe";$' "$diff"
t_ok "convert --dry-run: the old line" has '^-    fileinto "INBOX\.Entw&APw-rfe";$' "$diff"
t_ok "convert --dry-run: the file is untouched" cmp -s "$S1" "$H_DIR/original"
t_not "convert --dry-run: no backup" test -e "$S1.bak"
"$SIEVE" convert --from-cyrus "$S1" 2>"$H_DIR/err"; rc=$?
t_eq "convert: exit 0" 0 "$rc"
t_ok "convert: only the folder strings and imapflags changed" diff -u "$H_DIR/expected" "$S1"
t_ok "convert: the original is kept as .bak" cmp -s "$S1.bak" "$H_DIR/original"
out=$("$SIEVE" --check "$C/u/user/anna" 2>&1); rc=$?
t_eq "--check on the converted Cyrus directory: all good" "0 1 scripts, 0 failed" "$rc $out"
t_eq "convert: owner and mode kept" "nobody 640" "$(stat -c '%U %a' "$S1")"
t_eq "convert: no temporary file left" "" "$(ls -A "$C/u/user/anna" | grep -v '^main\.script\(\.bak\)\?$' | grep -v '^defaultbc$')"
t_match "convert: reported" 'converted \(6 changes, backup .*main\.script\.bak\)' "$(cat "$H_DIR/err")"
t_eq "convert: the result files where Cyrus did" "$(printf 'fileinto Entwürfe')" \
    "$(printf 'Subject: INBOX.Spam now\n\nx\n' | "$SIEVE" "$S1" - | head -n 1)"
"$SIEVE" convert --from-cyrus "$S1" 2>"$H_DIR/err"; rc=$?
t_eq "convert: a second run changes nothing" "0 unchanged" "$rc $(grep -o unchanged "$H_DIR/err" | head -n 1)"
# without --from-cyrus: mUTF-7 and separators only
printf 'require "fileinto";\nfileinto "INBOX.Entw&APw-rfe.Alt";\n' > "$C/plain.sieve"
"$SIEVE" convert "$C/plain.sieve" 2>/dev/null
t_eq "convert without --from-cyrus keeps INBOX" 'fileinto "INBOX/Entwürfe/Alt";' "$(tail -n 1 "$C/plain.sieve")"
# --separator /
printf 'require "fileinto";\nfileinto "INBOX/Work/R&AOk-sum&AOk-";\n' > "$C/slash.sieve"
"$SIEVE" convert --from-cyrus --separator / "$C/slash.sieve" 2>/dev/null
t_eq "convert --separator /" 'fileinto "Work/Résumé";' "$(tail -n 1 "$C/slash.sieve")"
# not modified UTF-7, a variable: left alone, noted
printf 'require ["fileinto","variables"];\nset "f" "x";\nfileinto "Tom & Jerry";\nfileinto "INBOX.${f}";\n' > "$C/odd.sieve"
cp "$C/odd.sieve" "$H_DIR/odd.orig"
"$SIEVE" convert --from-cyrus "$C/odd.sieve" 2>"$H_DIR/err"; rc=$?
t_eq "convert: names it cannot convert are left alone" "0" "$rc"
t_ok "convert: ... the file unchanged" cmp -s "$C/odd.sieve" "$H_DIR/odd.orig"
t_match "convert: ... and noted" 'line 4: "INBOX.\$\{f\}": contains a variable' "$(cat "$H_DIR/err")"
# refused: the result does not compile (an unknown Cyrus-only command)
printf 'require ["fileinto"];\nfileinto "INBOX.Entw&APw-rfe";\nnotcyrus;\n' > "$C/u/user/bert/bad.script"
cp "$C/u/user/bert/bad.script" "$H_DIR/bad.orig"
"$SIEVE" convert --from-cyrus "$C/u/user/bert/bad.script" 2>"$H_DIR/err"; rc=$?
t_eq "convert: refused when the result does not compile: exit 1" 1 "$rc"
t_ok "convert: ... the file untouched" cmp -s "$C/u/user/bert/bad.script" "$H_DIR/bad.orig"
t_not "convert: ... no backup" test -e "$C/u/user/bert/bad.script.bak"
t_match "convert: ... the compiler's errors shown" "unknown command 'notcyrus'" "$(cat "$H_DIR/err")"
# DIR mode: every script in the tree, the refused one counted
printf 'require "fileinto";\nfileinto "INBOX.Gesendete Objekte";\n' > "$C/u/user/bert/sent.script"
"$SIEVE" convert --from-cyrus "$C/u" 2>"$H_DIR/err"; rc=$?
t_eq "convert DIR: exit 1 (one refused)" 1 "$rc"
t_eq "convert DIR: the summary" "3 files, 1 converted, 1 unchanged, 1 refused" "$(tail -n 1 "$H_DIR/err")"
t_eq "convert DIR: converted" 'fileinto "Gesendete Objekte";' "$(tail -n 1 "$C/u/user/bert/sent.script")"
"$SIEVE" convert >/dev/null 2>&1; rc=$?
t_eq "convert without files: 64" 64 "$rc"
# after the migration: --check on the converted tree
mkdir -p "$H_DIR/after/anna/sieve"
cp "$S1" "$H_DIR/after/anna/sieve/main.sieve"
out=$("$SIEVE" --check "$H_DIR/after" 2>&1); rc=$?
t_eq "--check after convert: all good" "0 1 scripts, 0 failed" "$rc $out"

# --- 3. the user is told: Postfix + postern-lda --------------------------------------
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('mg.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'mg.example'), ('bert', 'mg.example');" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@mg.example'"; }
md_anna=$(md anna); md_bert=$(md bert)
ROOT=$H_DIR/mail
for m in "$md_anna" "$md_bert"; do mkdir -p "$ROOT/$m"; done
mkdir -p "$H_DIR/spool"
cp "$BUILD/postern-lda" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
LDA=$H_DIR/postern-lda
cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"; chmod 600 "$H_DIR/dbpw"
for c in yes no; do
    cat > "$H_DIR/lda-$c.conf" <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
fsync = no
log = stderr
sendmail_path = /bin/false
sieve_report_errors = $c
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
EOC
    chmod 644 "$H_DIR/lda-$c.conf"
done
t_ok "-t accepts sieve_report_errors" "$LDA" -c "$H_DIR/lda-yes.conf" -t
cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $H_DIR/lda-yes.conf -f \${sender} -a \${recipient}
posternno unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $H_DIR/lda-no.conf -f \${sender} -a \${recipient}
EOM
h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = mg.example
virtual_mailbox_maps = static:ok
virtual_transport = postern
transport_maps = inline:{ bert@mg.example=posternno: }
postern_destination_recipient_limit = 1
posternno_destination_recipient_limit = 1
EOF
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"
NMSG=0
send() { # RCPT SUBJECT
    NMSG=$((NMSG + 1)); local f=$H_DIR/send.$NMSG
    printf 'From: sam@remote.example\nTo: %s\nSubject: %s\nMessage-ID: <m%s.%s@remote.example>\n\nbody %s\n' \
        "$1" "$2" "$NMSG" "$$" "$NMSG" > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from sam@remote.example --to "$1" --data "$f" >/dev/null
}
settle() { h_wait_queue_empty 20 >/dev/null; }
inbox() { find "$ROOT/$1/new" "$ROOT/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
reports() { grep -l '^Subject: Your mail filter has errors' "$ROOT/$1"/new/* 2>/dev/null | wc -l; }
script() { printf '%s\n' "$2" > "$ROOT/$1/.postern.sieve"; chown nobody "$ROOT/$1/.postern.sieve"; }

script "$md_anna" 'require "fileinto";
fileinto "Lists"
keep;'
send anna@mg.example "first"; settle
t_eq "broken script: the message kept in INBOX and one report" "2 1" "$(inbox "$md_anna") $(reports "$md_anna")"
REP=$(grep -l '^Subject: Your mail filter has errors' "$ROOT/$md_anna"/new/* | head -n 1)
t_match "report: From MAILER-DAEMON" '^From: Mail Delivery System <MAILER-DAEMON@mg.example>' "$(grep '^From:' "$REP")"
t_match "report: Auto-Submitted: auto-generated" '^Auto-Submitted: auto-generated' "$(grep '^Auto-Submitted:' "$REP")"
t_match "report: Return-Path <> (the safe store)" '^Return-Path: <>' "$(head -n 1 "$REP")"
t_ok "report: the compiler's error line" has '^  \.postern\.sieve:[0-9]+: error: ' "$(cat "$REP")"
t_ok "report: the state file" test -s "$ROOT/$md_anna/.postern.sieve.reported"
send anna@mg.example "second"; settle
t_eq "same script version: no second report" "3 1" "$(inbox "$md_anna") $(reports "$md_anna")"
script "$md_anna" 'require "fileinto";
fileinto "Lists"
fileinto "Other";'
send anna@mg.example "third"; settle
t_eq "changed and still broken: a new report" "5 2" "$(inbox "$md_anna") $(reports "$md_anna")"
script "$md_anna" 'require "ihave";
if header :contains "subject" "boom" { error "the filter gave up"; }'
send anna@mg.example "fourth"; settle
t_eq "fixed: no report" "6 2" "$(inbox "$md_anna") $(reports "$md_anna")"
send anna@mg.example "boom"; settle
t_eq "run-time error: kept and reported" "8 3" "$(inbox "$md_anna") $(reports "$md_anna")"
t_match "run-time report: the error text" 'the filter gave up' \
    "$(grep -l 'stopped with an error' "$ROOT/$md_anna"/new/* | xargs cat)"
send anna@mg.example "boom again"; settle
t_eq "run-time error again, same version: no report" "9 3" "$(inbox "$md_anna") $(reports "$md_anna")"
script "$md_bert" 'bogus;'
send bert@mg.example "x"; settle
t_eq "sieve_report_errors = no: kept, no report" "1 0" "$(inbox "$md_bert") $(reports "$md_bert")"
# the admin log: postern-lda in pipe mode by hand (log = stderr)
script "$md_anna" 'stopp;'
printf 'From: sam@remote.example\nSubject: direct\n\nx\n' > "$H_DIR/direct"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$LDA" -c "$H_DIR/lda-yes.conf" \
    -f sam@remote.example -a anna@mg.example < "$H_DIR/direct" 2>"$H_DIR/lda.err"; rc=$?
t_eq "direct delivery with a broken script: delivered (0)" 0 "$rc"
t_match "the admin log: the error line" "sieve: .postern.sieve:1: error: unknown command 'stopp'" "$(cat "$H_DIR/lda.err")"
t_match "the admin log: the report" "compile errors of the user's script reported to the user \(version [0-9a-f]{12}\)" "$(cat "$H_DIR/lda.err")"
t_eq "direct delivery: kept and reported" "11 4" "$(inbox "$md_anna") $(reports "$md_anna")"

t_summary
