#!/bin/bash
# sieve-mime.sh - issue 18, the MIME extensions of RFC 5703 end to end:
# mail through a private Postfix to postern-lda (pipe, as nobody) running
# the user's script, asserting the Maildir files:
#   foreverypart + mime   a message with a PDF attachment is filed into
#                         Attachments; one without stays in INBOX
#   extracttext           the text of the text/html part (tags stripped,
#                         base64 and ISO-8859-1 decoded) is put into a
#                         header with addheader
#   replace               an .exe attachment is replaced by a note in the
#                         stored message; the other parts are kept
#   enclose               a message is stored wrapped as message/rfc822
#   i;unicode-casemap     a non-ASCII subject in another case matches
# and the same script through postern-sieve (a dry run); then MIME scripts
# through postern-sieve and Pigeonhole's sieve-test, same decisions.
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "INSERT INTO domains (name, kind) VALUES ('mi.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'mi.example')" || exit 1
MAIL=$H_DIR/mail
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@mi.example'")
BOX=$MAIL/$MD
mkdir -p "$BOX" "$H_DIR/spool"
chmod 755 "$H_DIR/mail"
lda_install
CONF=$H_DIR/lda.conf
printf 'user = nobody\n' | lda_conf "$CONF" "$MAIL"
lda_start_postfix mi.example "$CONF"

cat > "$BOX/.postern.sieve" <<'EOS'
require ["foreverypart", "mime", "extracttext", "variables", "fileinto",
         "editheader", "replace", "enclose", "comparator-i;unicode-casemap"];
if header :is :comparator "i;unicode-casemap" "Subject" "ÜBERWEISUNG" {
    enclose :subject "Check this" "Possible fraud, the original is attached.";
    stop;
}
set "pdf" "";
set "html" "";
foreverypart {
    if header :mime :contenttype "Content-Type" "application/pdf" {
        set "pdf" "yes";
    }
    if header :mime :contenttype "Content-Type" "text/html" {
        extracttext :first 60 "html";
    }
    if header :mime :matches :param "filename" "Content-Disposition" "*.exe" {
        replace "[an executable attachment was removed]";
    }
}
if string :is "${html}" "" { } else {
    addheader "X-Html-Text" "${html}";
}
if string "${pdf}" "yes" {
    fileinto "Attachments";
}
EOS
chown -R nobody:nogroup "$MAIL" "$H_DIR/spool"

NMSG=0
# send SUBJECT FILE-WITH-MIME-HEADER-AND-BODY
send() {
    local f
    NMSG=$((NMSG + 1)); f=$H_DIR/send.$NMSG
    { printf 'From: sam@remote.example\nTo: anna@mi.example\nSubject: %s\nMessage-ID: <m%s.%s@remote.example>\nMIME-Version: 1.0\n' \
          "$1" "$NMSG" "$$"; cat "$2"; } > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from sam@remote.example --to anna@mi.example --data "$f" >/dev/null
    h_wait_queue_empty 20 >/dev/null
}
count() { find "$BOX/$1/new" "$BOX/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
last() { ls -t "$BOX/$1/new/"* "$BOX/$1/cur/"* 2>/dev/null | head -n 1; }

# a PDF attachment and an HTML part in ISO-8859-1, base64
HTML64=$(printf '<html><body><p>Rechnung f\xfcr M\xe4rz</p><p>Betrag &amp; Steuer</p></body></html>' | base64 -w0)
cat > "$H_DIR/pdf.body" <<EOM
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

Invoice attached.
--alt
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: base64

$HTML64
--alt--
--outer
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==
--outer--
EOM
send "invoice" "$H_DIR/pdf.body"
t_eq "foreverypart + :mime: the message with a PDF is in Attachments" "1 0" "$(count .Attachments) $(count .)"
F=$(last .Attachments)
# the header as a mail client shows it (RFC 2047 decoded)
hdr=$(grep '^X-Html-Text:' "$F" 2>&1 | sed 's/^X-Html-Text: //' | python3 -c '
import email.header, sys
print(str(email.header.make_header(email.header.decode_header(sys.stdin.read().strip()))))' 2>&1)
t_eq "extracttext of the text/html part (decoded, converted, tags stripped) in a header" \
    'Rechnung für MärzBetrag & Steuer' "$hdr"
t_ok "the PDF is stored unchanged" grep -q '^JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK' "$F"

# an .exe attachment: replaced
cat > "$H_DIR/exe.body" <<'EOM'
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

See the program.
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA
--b--
EOM
send "program" "$H_DIR/exe.body"
t_eq "replace: stored in INBOX" 1 "$(count .)"
F=$(last .)
t_not "replace: the executable is gone from the Maildir file" grep -q 'TVqQAAMAAAAEAAAA' "$F"
t_ok "replace: the note is there" grep -q '^\[an executable attachment was removed\]' "$F"
t_ok "replace: the text part is kept" grep -q '^See the program\.' "$F"
t_ok "replace: the header is kept" grep -q '^Subject: program' "$F"

# i;unicode-casemap + enclose
printf 'Content-Type: text/plain; charset=utf-8\n\nPlease pay now.\n' > "$H_DIR/plain.body"
send "$(printf '=?utf-8?q?=C3=BCberweisung?=')" "$H_DIR/plain.body"
t_eq "i;unicode-casemap matched; enclose: stored in INBOX" 2 "$(count .)"
F=$(last .)
t_ok "enclose: the new Subject" grep -q '^Subject: Check this' "$F"
t_ok "enclose: multipart/mixed" grep -q '^Content-Type: multipart/mixed; boundary=' "$F"
t_ok "enclose: the original as message/rfc822" grep -q '^Content-Type: message/rfc822' "$F"
t_ok "enclose: the original text inside" grep -q '^Please pay now\.' "$F"
t_ok "enclose: the explanation" grep -q '^Possible fraud, the original is attached\.' "$F"

# the same script in a dry run
t_eq "postern-sieve: the dry run files the PDF message" "fileinto Attachments" \
    "$("$BUILD/postern-sieve" -a anna@mi.example "$BOX/.postern.sieve" "$H_DIR/send.1" 2>&1)"
# --- differential: the same MIME scripts through Pigeonhole's sieve-test ----------------
# (Pigeonhole 0.5 in Debian 12 has mime, foreverypart and extracttext;
# not replace, enclose or i;unicode-casemap.)  Both outputs reduced to sorted "keep" / "fileinto F".
if [ -x /usr/bin/sieve-test ]; then
    X=$H_DIR/diff
    mkdir -p "$X/Maildir"
    printf 'protocols =\nssl = no\nbase_dir = %s/base\nlog_path = /dev/null\nmail_location = maildir:%s/Maildir\n' "$X" "$X" > "$X/dovecot.conf"
    cat > "$X/d1.sieve" <<'EOS'
require ["foreverypart", "mime", "variables", "fileinto"];
foreverypart {
    if header :mime :matches :contenttype "Content-Type" "*/*" { fileinto "ct-${1}-${2}"; }
}
EOS
    cat > "$X/d2.sieve" <<'EOS'
require ["mime", "variables", "fileinto"];
if header :mime :anychild :matches :param "filename" "Content-Disposition" "*.*" {
    fileinto "file-${2}";
}
if exists :mime :anychild "Content-Disposition" { fileinto "has-disposition"; }
if header :mime :anychild :param "charset" "Content-Type" "iso-8859-1" { fileinto "latin1"; }
if header :mime :type "Content-Type" "multipart" { fileinto "top-multipart"; }
EOS
    cat > "$X/d3.sieve" <<'EOS'
require ["foreverypart", "mime", "variables", "fileinto", "extracttext"];
foreverypart {
    if header :mime :contenttype "Content-Type" "text/plain" {
        extracttext :lower :first 7 "t";
        fileinto "txt-${t}";
        break;
    }
}
EOS
    chown -R nobody "$X"; chmod -R a+r "$H_DIR"/send.*
    pigeon() {
        setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
            HOME="$X" USER=nobody sieve-test -c "$X/dovecot.conf" "$@" 2>/dev/null |
            sed -n 's/^ *\* store message in folder: //p' |
            awk '{ print (tolower($0) == "inbox") ? "keep" : "fileinto " $0 }' | sort
    }
    for s in "$X"/d*.sieve; do
        for m in 1 2 3; do
            a=$(pigeon "$s" "$H_DIR/send.$m")
            b=$("$BUILD/postern-sieve" "$s" "$H_DIR/send.$m" 2>&1 | sort)
            t_eq "same as Pigeonhole: $(basename "$s") on message $m" "$a" "$b"
        done
    done
else
    echo "# Pigeonhole sieve-test not installed: differential cases skipped"
fi
t_summary
