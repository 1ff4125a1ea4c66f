#!/bin/bash
# sieve.sh - the Sieve engine: every tests/sieve/*.svtest through
# postern-sieve-test (one assertion per test), postern-sieve dry runs
# (the documented output format, exit codes, compile errors with line
# numbers), a differential run of the same scripts and messages through
# Pigeonhole's sieve-test (when installed), and postern-lda running the
# user's .postern.sieve plus
# [lda] sieve_before / sieve_after against a real MariaDB: fileinto into
# Maildir++ folders, imap4flags into cur/, discard, reject (77, 5.7.1),
# redirect through a stand-in sendmail, and the fall back to INBOX when a
# script does not compile, fails at run time or a redirect fails.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
SIEVE=$PWD/$BUILD/postern-sieve
SIEVETEST=$PWD/$BUILD/postern-sieve-test
LDA=$PWD/$BUILD/postern-lda
h_init

# --- the .svtest suites ----------------------------------------------------------
for f in tests/sieve/*.svtest; do
    name=$(basename "$f" .svtest)
    out=$("$SIEVETEST" "$f" 2>&1); rc=$?
    while IFS= read -r line; do
        case "$line" in
        "ok "*) t_pass "$name: ${line#ok * - }" ;;
        "not ok "*) t_fail "$name: ${line#not ok * - }" ;;
        esac
    done <<< "$out"
    summary=$(echo "$out" | tail -n 1)
    if ! [[ "$summary" =~ ^[0-9]+\ passed,\ 0\ failed$ ]] || [ "$rc" -ne 0 ]; then
        t_fail "$name.svtest as a whole" "$(echo "$out" | grep -v '^ok' | head -n 5)"
    fi
done
out=$("$SIEVETEST" 2>&1); rc=$?
t_eq "postern-sieve-test without a file: 64" 64 "$rc"
# -p: Pigeonhole's closing "validation failed" line after compile errors
out=$("$SIEVETEST" -p tests/sieve/compat/errors-count.svtest 2>&1); rc=$?
t_eq "postern-sieve-test -p: error list as Pigeonhole counts it" \
    "0 2 passed, 0 failed" "$rc $(echo "$out" | tail -n 1)"

# --- postern-sieve dry runs ---------------------------------------------------------
D=$H_DIR/dry
mkdir -p "$D"
printf 'From: Ann <ann@example.org>\nTo: me+lists@example.com\nSubject: [acme] news\n\nHello\n' > "$D/msg"
dry() { local s=$1; shift; printf '%s\n' "$s" > "$D/s.sieve"; "$SIEVE" "$@" "$D/s.sieve" "$D/msg"; }

t_eq "empty script: implicit keep" "keep" "$(dry '')"
t_eq "discard" "discard" "$(dry 'discard;')"
t_eq "fileinto" "fileinto Lists/acme" "$(dry 'require ["fileinto","variables"];
if header :matches "subject" "[*]*" { fileinto "Lists/${1}"; }')"
t_eq "fileinto with flags" 'fileinto Junk [\Seen $Junk]' "$(dry 'require ["fileinto","imap4flags"];
fileinto :flags ["\\Seen", "$Junk"] "Junk";')"
t_eq "implicit keep with internal flags" 'keep [\Flagged]' "$(dry 'require "imap4flags"; addflag "\\Flagged";')"
t_eq "redirect and keep with :copy" "$(printf 'redirect bob@example.net\nkeep')" "$(dry 'require "copy"; redirect :copy "bob@example.net";')"
t_eq "reject text escaped" 'reject line one\nline two\n' "$(dry 'require "reject"; reject text:
line one
line two
.
;')"
t_eq "ereject" "ereject Go away" "$(dry 'require "ereject"; ereject "Go away";')"
t_eq "envelope to with -a and :detail" "discard" "$(dry 'require ["envelope","subaddress"]; if envelope :detail "to" "lists" { discard; }' -a me+lists@example.com)"
t_eq "null sender with -f <>" "discard" "$(dry 'require "envelope"; if envelope :is "from" "" { discard; }' -f '<>')"
t_eq "without -f the sender is unknown" "keep" "$(dry 'require "envelope"; if envelope :matches "from" "*" { discard; }')"
t_eq "body test" "discard" "$(dry 'require "body"; if body :contains "hello" { discard; }')"

printf 'keep;\nif header :is "x" {\n  frob;\n}\n' > "$D/bad.sieve"
err=$("$SIEVE" "$D/bad.sieve" "$D/msg" 2>&1 >/dev/null); rc=$?
t_eq "compile error: exit 1" 1 "$rc"
t_eq "compile error: SCRIPT:LINE: error:" "$D/bad.sieve:2: error: 'header' expects 2 positional argument(s), but 1 were found" \
    "$(echo "$err" | head -n 1)"
printf 'require "reject";\nkeep;\nreject "no";\n' > "$D/rt.sieve"
out=$("$SIEVE" "$D/rt.sieve" "$D/msg" 2>"$D/rt.err"); rc=$?
t_eq "run-time error: exit 2" 2 "$rc"
t_eq "run-time error: falls back to keep" "keep" "$out"
t_match "run-time error names the line" 'rt.sieve:3: error: reject action conflicts' "$(cat "$D/rt.err")"
out=$("$SIEVE" 2>&1); rc=$?
t_eq "usage: 64" 64 "$rc"
out=$("$SIEVE" "$D/rt.sieve" "$D/nonexistent" 2>&1); rc=$?
t_eq "unreadable message: 66" 66 "$rc"

# --- differential: the same scripts through Pigeonhole's sieve-test ------------------------
# Both outputs are reduced to "keep", "fileinto F", "redirect A", "reject T"
# lines with their flags, lower-cased and sorted; "discard" only when
# nothing else is done.
if [ -x /usr/bin/sieve-test ]; then
    X=$H_DIR/diff
    mkdir -p "$X/Maildir"
    printf 'protocols =\nssl = no\nbase_dir = %s/base\nlog_path = /dev/null\nmail_location = maildir:%s/Maildir\nrecipient_delimiter = +\n' "$X" "$X" > "$X/dovecot.conf"
    printf 'From: "Ann A." <ann@example.org>\nTo: me+lists@example.com, Bob <bob@example.net>\nCc: carl@example.net\nSubject: [acme-users] [fwd] version 1.0\nDate: Tue, 1 Apr 2008 10:15:30 +0200\nX-Score: 12\n\nHello World\n' > "$X/m1"
    printf 'From: zed@spam.example\nTo: me@example.com\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nQ2hlYXAgcGlsbHM=\n--b\nContent-Type: application/pdf\n\nPDFDATA\n--b--\n' > "$X/m2"
    cat > "$X/s1.sieve" <<'EOS'
require ["fileinto", "variables"];
if header :matches "subject" "[*] *" { fileinto "Lists/${1}"; }
EOS
    cat > "$X/s2.sieve" <<'EOS'
require ["imap4flags", "fileinto"];
if address :domain "from" "example.org" { addflag "\\Flagged"; }
if header :contains "subject" "version" { fileinto :flags "\\Seen" "Versions"; }
EOS
    cat > "$X/s3.sieve" <<'EOS'
require ["copy", "fileinto"];
fileinto :copy "Archive";
if anyof (header :contains "to" "bob", exists "x-none") { redirect "bob@example.net"; }
EOS
    cat > "$X/s4.sieve" <<'EOS'
require ["reject", "body"];
if body :contains "cheap pills" { reject "No spam, thanks."; }
EOS
    cat > "$X/s5.sieve" <<'EOS'
require ["envelope", "subaddress", "fileinto"];
if envelope :detail "to" "lists" { fileinto "Detail"; stop; }
if header :is "subject" "Grüße" { discard; }
EOS
    cat > "$X/s6.sieve" <<'EOS'
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "Many"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-score" "10" { fileinto "High"; }
EOS
    cat > "$X/s7.sieve" <<'EOS'
require ["date", "fileinto", "body", "regex"];
if date :originalzone :is "date" "year" "2008" { fileinto "Y2008"; }
if body :content "application" :contains "PDFDATA" { fileinto "Pdf"; }
if header :regex "subject" "^\\[[a-z-]+\\]" { fileinto "Tagged"; }
EOS
    cat > "$X/s8.sieve" <<'EOS'
if header :matches "from" "*@spam.example" { discard; stop; }
keep;
EOS
    chown -R nobody "$X"
    pigeon() {
        setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
            HOME="$X" USER=nobody sieve-test -c "$X/dovecot.conf" "$@" 2>/dev/null
    }
    norm_pigeon() {
        awk '
        function flush() { if (cur != "") { print cur (fl != "" ? " [" fl "]" : "") } cur = ""; fl = "" }
        /^ *\* store message in folder: / { flush(); sub(/^ *\* store message in folder: /, "");
            cur = (tolower($0) == "inbox") ? "keep" : "fileinto " $0; next }
        /^ *\* redirect message to: / { flush(); sub(/^ *\* redirect message to: </, ""); sub(/>$/, ""); cur = "redirect " $0; next }
        /^ *\* reject message with reason: / { flush(); sub(/^ *\* reject message with reason: /, ""); cur = "reject " $0; next }
        /^ *\* discard/ { flush(); cur = "discard"; next }
        /^ *\+ add IMAP flags: / { sub(/^ *\+ add IMAP flags: /, ""); fl = (fl == "" ? $0 : fl " " $0); next }
        END { flush() }' | norm
    }
    # lower-case, sort flags inside [], drop discard unless alone, sort lines
    norm() {
        tr 'A-Z' 'a-z' | awk '{
            if (match($0, /\[.*\]$/)) { n = split(substr($0, RSTART + 1, RLENGTH - 2), f, " ");
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (f[j] < f[i]) { t = f[i]; f[i] = f[j]; f[j] = t }
                s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") f[i]; $0 = substr($0, 1, RSTART - 1) "[" s "]" }
            print }' | grep -v '^discard$' | sort | { out=$(cat); [ -n "$out" ] && echo "$out" || echo discard; }
    }
    for s in "$X"/s*.sieve; do
        for m in m1 m2; do
            a=$(pigeon -f zed@spam.example -a me+lists@example.com "$s" "$X/$m" | norm_pigeon)
            b=$("$SIEVE" -f zed@spam.example -a me+lists@example.com "$s" "$X/$m" 2>/dev/null | norm)
            t_eq "same as Pigeonhole: $(basename "$s") on $m" "$a" "$b"
        done
    done
else
    echo "# Pigeonhole sieve-test not installed: differential cases skipped"
fi

# --- postern-lda with Sieve ------------------------------------------------------------
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('sv.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'sv.example'), ('bert', 'sv.example'), ('carl', 'sv.example');"
md=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@sv.example'")
md_b=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'bert@sv.example'")
md_c=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'carl@sv.example'")
ROOT=$H_DIR/mail
mkdir -p "$ROOT/$md/sieve" "$ROOT/$md_b/sieve" "$ROOT/$md_c"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "%s/sendmail.args"\ncat > "%s/sendmail.msg"\n' "$H_DIR" "$H_DIR" > "$H_DIR/sendmail"
chmod 755 "$H_DIR/sendmail"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR
hostname = mx1.test.example
fsync = no
sendmail_path = $H_DIR/sendmail
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
EOC
lda() { "$LDA" -c "$CONF" "$@"; }
count() { ls "$ROOT/$1" 2>/dev/null | wc -l; }
deliver() { printf 'From: Sender <s@ext.example>\nTo: anna@sv.example\nSubject: %s\n\nbody\n' "$1" | lda -f s@ext.example -a "${2:-anna@sv.example}"; }

t_ok "-t accepts the sieve keys" lda -t
cat > "$ROOT/$md/sieve/main.sieve" <<'EOS'
require ["fileinto", "imap4flags", "reject", "envelope", "subaddress", "mailbox"];
if header :is "subject" "work" { fileinto "Work"; stop; }
if header :is "subject" "flagonly" { fileinto :flags "\\Seen" "Flagged"; stop; }
if header :is "subject" "seen" { addflag "\\Seen"; fileinto :flags "\\Seen \\Flagged" "Read"; keep; stop; }
if header :is "subject" "junk" { discard; stop; }
if header :is "subject" "spam" { reject "We do not want spam."; stop; }
if header :is "subject" "fwd" { redirect "elsewhere@remote.example"; stop; }
if envelope :detail "to" "news" { fileinto :create "Entwürfe/News"; stop; }
EOS
ln -s sieve/main.sieve "$ROOT/$md/.postern.sieve"

out=$(deliver work); rc=$?
t_eq "fileinto: delivered" 0 "$rc"
t_match "fileinto: status names the folder" '^2\.0\.0 .*sieve: Work' "$out"
t_eq "fileinto: in .Work/new" 1 "$(count "$md/.Work/new")"
t_eq "fileinto: not in INBOX" 0 "$(count "$md/new")"
t_ok "fileinto: folder marked" test -f "$ROOT/$md/.Work/maildirfolder"

out=$(deliver seen); rc=$?
t_eq "flags: delivered" 0 "$rc"
t_eq "flags: nothing left in .Read/new" 0 "$(count "$md/.Read/new")"
t_match "flags: .Read/cur has :2,FS" ':2,FS$' "$(ls "$ROOT/$md/.Read/cur/")"
t_match "flags: keep got the internal flag :2,S" ':2,S$' "$(ls "$ROOT/$md/cur/")"

# flags are stored at write time: a flagged message goes straight to
# cur/NAME:2,FLAGS and never through new/ (here new/ is not even a
# directory: a write into it, or a rename out of it, would fail)
mkdir -p "$ROOT/$md/.Flagged/tmp" "$ROOT/$md/.Flagged/cur"
: > "$ROOT/$md/.Flagged/new"
out=$(deliver flagonly); rc=$?
t_eq "flags at write time: delivered without new/" 0 "$rc"
t_match "flags at write time: .Flagged/cur has :2,S" ':2,S$' "$(ls "$ROOT/$md/.Flagged/cur/")"
t_ok "flags at write time: new/ untouched" test -f "$ROOT/$md/.Flagged/new"

out=$(deliver junk); rc=$?
t_eq "discard: exit 0" 0 "$rc"
t_match "discard: status" 'discarded by sieve' "$out"
t_eq "discard: nothing stored" 0 "$(count "$md/new")"

out=$(deliver spam); rc=$?
t_eq "reject: 77" 77 "$rc"
t_match "reject: 5.7.1 with the reason" '^5\.7\.1 .*We do not want spam\.' "$out"
t_eq "reject: nothing stored" 0 "$(count "$md/new")"

out=$(deliver fwd); rc=$?
t_eq "redirect: 0" 0 "$rc"
t_eq "redirect: sendmail arguments" "$(printf -- '-i\n-f\ns@ext.example\n--\nelsewhere@remote.example')" "$(cat "$H_DIR/sendmail.args" 2>/dev/null)"
t_eq "redirect: Delivered-To on top" "Delivered-To: anna@sv.example" "$(head -n 1 "$H_DIR/sendmail.msg" 2>/dev/null)"
t_ok "redirect: the message follows" grep -q '^Subject: fwd$' "$H_DIR/sendmail.msg"
t_eq "redirect: nothing stored" 0 "$(count "$md/new")"

out=$(deliver other anna+news@sv.example); rc=$?
t_eq ":detail of the recipient: delivered" 0 "$rc"
t_eq ":detail: into the UTF-7 folder" 1 "$(count "$md/.Entw&APw-rfe.News/new")"

out=$(deliver plain); rc=$?
t_eq "no rule: implicit keep in INBOX" "0 1" "$rc $(count "$md/new")"
out=$(printf 'Subject: plain\n\nb\n' | lda -f s@ext.example -a anna@sv.example -m Sent); rc=$?
t_eq "implicit keep honours -m" "0 1" "$rc $(count "$md/.Sent/new")"

sed -i "s|^sendmail_path = .*|sendmail_path = /bin/false|" "$CONF"
out=$(deliver fwd); rc=$?
t_eq "failed redirect: still delivered" 0 "$rc"
t_eq "failed redirect: kept in INBOX" 2 "$(count "$md/new")"
sed -i "s|^sendmail_path = .*|sendmail_path = $H_DIR/sendmail|" "$CONF"

# a script that does not compile: INBOX, and the error left for the user
cat > "$ROOT/$md_b/sieve/broken.sieve" <<'EOS'
require "fileinto";
if header :is "subject" "x" {
    fileinto "X"
}
EOS
ln -s sieve/broken.sieve "$ROOT/$md_b/.postern.sieve"
out=$(printf 'Subject: x\n\nb\n' | lda -f s@ext.example -a bert@sv.example); rc=$?
t_eq "broken script: delivered" 0 "$rc"
# 2: the message and the report to the user (sieve_report.c)
t_eq "broken script: kept in INBOX, the user told" 2 "$(count "$md_b/new")"
t_match "broken script: error log for the user" '\.postern\.sieve:4: error: ' "$(cat "$ROOT/$md_b/.postern.sieve.log" 2>/dev/null)"

# a run-time error: INBOX, nothing else
printf 'require ["reject", "fileinto"];\nfileinto "A";\nreject "no";\n' > "$ROOT/$md_b/sieve/rt.sieve"
ln -sfn sieve/rt.sieve "$ROOT/$md_b/.postern.sieve"
out=$(printf 'Subject: y\n\nb\n' | lda -f s@ext.example -a bert@sv.example); rc=$?
t_eq "run-time error: delivered to INBOX, the user told" "0 4" "$rc $(count "$md_b/new")"
t_eq "run-time error: no partial actions" 0 "$(count "$md_b/.A/new")"

# global scripts: sieve_before and sieve_after around the user's script
mkdir -p "$H_DIR/global"
printf 'require ["fileinto", "copy"];\nfileinto :copy "Before";\n' > "$H_DIR/before.sieve"
printf 'require ["fileinto", "copy"];\nif header :is "subject" "stop" { discard; }\nfileinto :copy "After";\n' > "$H_DIR/after.sieve"
printf 'require ["include", "fileinto"];\ninclude :global "common";\n' > "$H_DIR/user.sieve"
printf 'require "fileinto";\nfileinto "Common";\n' > "$H_DIR/global/common.sieve"
cp "$H_DIR/user.sieve" "$ROOT/$md_c/.postern.sieve"
sed -i "s|^\[database\]|sieve_before = $H_DIR/before.sieve\nsieve_after = $H_DIR/after.sieve\nsieve_global_dir = $H_DIR/global\n[database]|" "$CONF"
t_ok "-t accepts sieve_before/after" lda -t
out=$(printf 'Subject: g\n\nb\n' | lda -f s@ext.example -a carl@sv.example); rc=$?
t_eq "global scripts: delivered" 0 "$rc"
t_eq "sieve_before ran" 1 "$(count "$md_c/.Before/new")"
t_eq "user script with include :global ran" 1 "$(count "$md_c/.Common/new")"
t_eq "sieve_after ran" 1 "$(count "$md_c/.After/new")"
t_eq "no implicit keep (fileinto in the user's script)" 0 "$(count "$md_c/new")"
rm -f "$ROOT/$md_c/.postern.sieve"
out=$(printf 'Subject: h\n\nb\n' | lda -f s@ext.example -a carl@sv.example); rc=$?
t_eq "global scripts without a user script: implicit keep" "0 1" "$rc $(count "$md_c/new")"

# --- LMTP mode: what the sendmail child inherits -------------------------------------
# The LMTP server blocks SIGTERM/SIGINT/SIGHUP (signalfd) and ignores
# SIGPIPE; a redirect's sendmail must start with nothing blocked and
# nothing ignored (bash even starts the background server with SIGINT and
# SIGQUIT ignored).  The stand-in sendmail records its own mask; it is
# Perl because shells change the mask themselves (dash clears the blocked
# set, bash ignores SIGQUIT; Perl only ignores SIGFPE).
printf '#!/usr/bin/perl\nopen(my $in, "<", "/proc/self/status") or die;\nmy @sig = grep { /^Sig(Blk|Ign):/ } <$in>;\nclose($in);\nopendir(my $d, "/proc/self/fd") or die;\nmy @fd = sort { $a <=> $b } grep { /^\\d+$/ && $_ != fileno($d) } readdir($d);\nclosedir($d);\nopen(my $out, ">", "%s/sendmail.sig") or die;\nprint $out @sig, "fds: @fd\\n";\nclose($out);\nwhile (<STDIN>) {}\n' "$H_DIR" > "$H_DIR/sendmail-sig"
chmod 755 "$H_DIR/sendmail-sig"
LSOCK=$H_DIR/lmtp.sock
LCONF=$H_DIR/lmtp.conf
cat > "$LCONF" <<EOC
[lda]
listen = unix:$LSOCK
mail_root = $ROOT
temp_dir = $H_DIR
hostname = mx1.test.example
fsync = no
sendmail_path = $H_DIR/sendmail-sig
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
EOC
"$LDA" --lmtp -c "$LCONF" -f 2> "$H_DIR/lmtp.log" &
LPID=$!
h_track_pid "$LPID"
t_wait "LMTP server listening" 10 test -S "$LSOCK"
# files in .Read/new that look like this process's own deliveries: a
# delivery with flags must not move them (flags are set at write time)
mkdir -p "$ROOT/$md/.Read/new"
for q in 1 2 3 4; do echo planted > "$ROOT/$md/.Read/new/1.M1P${LPID}Q$q.planted"; done
lmtp_send() {
    "$H_PYTHON" - "$LSOCK" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode().rstrip("\r\n")
        if len(l) < 4 or l[3] != "-":
            return l
out = [reply()]
def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    out.append(reply())
cmd("LHLO client.test.example")
for subj in sys.argv[2:]:
    cmd("MAIL FROM:<s@ext.example>")
    cmd("RCPT TO:<anna@sv.example>")
    cmd("DATA")
    s.sendall(("Subject: %s\r\n\r\nbody\r\n.\r\n" % subj).encode())
    out.append(reply())
cmd("QUIT")
print("\n".join(out))
PY
}
out=$(lmtp_send fwd seen 2>&1)
t_match "LMTP redirect: delivered" '^250 2\.0\.0 <anna@sv\.example>: sieve: redirect' "$(sed -n 6p <<< "$out")"
t_match "LMTP flags: delivered" '^250 2\.0\.0 <anna@sv\.example>: sieve: Read' "$(sed -n 10p <<< "$out")"
t_eq "LMTP: sendmail child, nothing blocked" "SigBlk:	0000000000000000" "$(grep SigBlk "$H_DIR/sendmail.sig" 2>/dev/null)"
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$H_DIR/sendmail.sig" 2>/dev/null)
# HUP INT QUIT (0x7), PIPE (0x1000), TERM (0x4000)
t_eq "LMTP: sendmail child, SIGHUP/INT/QUIT/PIPE/TERM not ignored" 0 "$(( 0x${ign:-ffff} & 0x5007 ))"
t_eq "LMTP: sendmail child inherits no descriptor but 0 1 2" "fds: 0 1 2" "$(grep '^fds:' "$H_DIR/sendmail.sig" 2>/dev/null)"
t_eq "LMTP flags: look-alike files in new/ untouched" 4 "$(ls "$ROOT/$md/.Read/new/" | grep -c '\.planted$')"
kill "$LPID" 2>/dev/null
t_summary
