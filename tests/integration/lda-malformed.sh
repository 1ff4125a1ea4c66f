#!/bin/bash
# lda-malformed.sh - malformed and extreme messages through postern-lda
# (pipe mode, lookup = maps through a scripted socketmap server, a Sieve
# script active that files "Subject: file-me" into the folder Filed).
#
# Every message must end with a clear status: exit 0, 75 or 77 with an
# "X.Y.Z text" status line, never a signal.  Cases: no header section at
# all; bare LF and mixed CRLF/LF/CR line ends; NUL bytes (stored as 0x80);
# a header line without a colon; 8-bit bytes and invalid UTF-8 in header
# fields; 10,000 header fields (Sieve still sees the last one; the
# 10,001st is past SIEVE_HEADERS_MAX and not seen); one header
# line of 2 MB (over the 1 MB kept for Sieve: delivered whole, filed by
# what Sieve saw); no final newline (stored byte for byte); an empty
# message; a header section without body; a leading mbox "From " line; a
# 100 MB body (streamed: peak RSS stays under 16 MB, also with a `body`
# test, which reads at most 16 MB); a message over max_message_size
# (5.3.4, nothing stored).
set -u
. "$(dirname "$0")/../harness/harness.sh"
# AddressSanitizer (make asan) multiplies memory use: the RSS bounds scale
RSS_SCALE=1
[ -n "${ASAN_OPTIONS:-}" ] && RSS_SCALE=4
BUILD=${BUILD:-build}
h_init
W=$H_DIR
mkdir -p "$W/mail" "$W/spool"
FS=$W/maps.sock
"$H_PYTHON" "$(dirname "$0")/lda-fakemaps.py" "$FS" ok vol01 &
h_track_pid $!
h_wait_for 10 test -S "$FS" || { t_fail "fake maps server"; t_summary; exit 1; }
CONF=$W/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $W/mail
temp_dir = $W/spool
hostname = mx1.test.example
lookup = maps
maps_server = unix:$FS
max_message_size = 200M
[database]
password_file = /nonexistent
EOC
MB=$W/mail/vol01/m@mal.example
mkdir -p "$MB"
printf 'require "fileinto";\nif header :contains "Subject" "file-me" { fileinto "Filed"; }\n' > "$MB/.postern.sieve"
PFX=$(printf "Return-Path: <s@ext.example>\nDelivered-To: m@mal.example\n" | wc -c) # bytes we add on top

# run NAME FILE [EXPECTED_EXIT] - deliver FILE; checks the status line
N=0
run() {
    local name=$1 file=$2 want=${3:-0} out rc
    out=$("$BUILD/postern-lda" -c "$CONF" -f s@ext.example -a m@mal.example < "$file" 2> "$W/err"); rc=$?
    t_eq "$name: exit $want" "$want" "$rc"
    t_match "$name: clear status line ($out)" '^[245]\.[0-9]{1,3}\.[0-9]{1,3} ' "$out"
    t_not "$name: no crash report" grep -qiE 'sanitizer|segmentation|abort' "$W/err"
}
newest() { ls -t "$MB/$1"/* 2>/dev/null | head -n 1; }
body_of() { sed '1,2d' "$1"; } # drop Return-Path and Delivered-To

printf 'just text, no header\nsecond line\n' > "$W/nohdr.eml"
run "no header section" "$W/nohdr.eml"
f=$(newest new)
t_eq "no header: a blank line separates our fields from the text" "$(printf '\njust text, no header\nsecond line')" "$(body_of "$f")"

printf 'Subject: bare lf\n\nline one\nline two\n' > "$W/lf.eml"
run "bare LF" "$W/lf.eml"
printf 'Subject: mixed\r\nX-A: 1\n\r\nline one\r\nline\rtwo\nend\r\n' > "$W/mixed.eml"
run "mixed CRLF, LF and a bare CR" "$W/mixed.eml"
f=$(newest new)
t_eq "CRLF became LF, bare CR kept" "$(printf 'Subject: mixed\nX-A: 1\n\nline one\nline\rtwo\nend')" "$(body_of "$f")"

printf 'Subject: nul\n\na\0b\0\0c\n' > "$W/nul.eml"
run "NUL bytes" "$W/nul.eml"
f=$(newest new)
t_not "no NUL stored" grep -qaP '\x00' "$f"
t_eq "NUL stored as 0x80" "$(printf 'a\x80b\x80\x80c')" "$(tail -n 1 "$f")"

printf 'Subject: file-me\nthis line has no colon\nX-B: 2\n\nbody\n' > "$W/nocolon.eml"
run "header line without a colon" "$W/nocolon.eml"
printf 'Subject: file-me \xff\xfe caf\xe9\nFrom: \xc3\x28 <x@example.org>\n\nbody\n' > "$W/8bit.eml"
run "8-bit and invalid UTF-8 in header fields" "$W/8bit.eml"
t_eq "Sieve matched both subjects (no-colon line, 8-bit)" 2 "$(ls "$MB/.Filed/new" 2>/dev/null | grep -c .)"

{ for i in $(seq 1 9999); do echo "X-H-$i: value $i"; done; printf 'Subject: file-me 10k\n\nbody\n'; } > "$W/manyhdr.eml"
run "10,000 header fields" "$W/manyhdr.eml"
t_eq "Sieve saw the 10,000th field (SIEVE_HEADERS_MAX)" 3 "$(ls "$MB/.Filed/new" 2>/dev/null | grep -c .)"
f=$(ls -S "$MB"/.Filed/new/* | head -n 1)
t_eq "10,000 headers stored whole" "$(($(stat -c %s "$W/manyhdr.eml") + PFX))" "$(stat -c %s "$f")"
{ echo "X-H-0: one more"; cat "$W/manyhdr.eml"; } > "$W/manyhdr2.eml"
run "10,001 header fields" "$W/manyhdr2.eml"
t_eq "a field after SIEVE_HEADERS_MAX is not seen by Sieve: INBOX" "$MB/new" "$(dirname "$(ls -S "$MB"/new/* | head -n 1)")"

{ printf 'X-Long: '; head -c 2097152 /dev/zero | tr '\0' 'a'; printf '\nSubject: file-me long\n\nbody\n'; } > "$W/longline.eml"
run "one header line of 2 MB" "$W/longline.eml"
f=$(ls -S "$MB"/new/* "$MB"/.Filed/new/* | head -n 1)
t_eq "2 MB line stored whole" "$(($(stat -c %s "$W/longline.eml") + PFX))" "$(stat -c %s "$f")"
t_eq "Sieve did not see the Subject past the 1 MB kept: INBOX" "$MB/new" "${f%/*}"

printf 'Subject: no final newline\n\nlast line without LF' > "$W/nofinal.eml"
run "no final newline" "$W/nofinal.eml"
f=$(newest new)
t_ok "stored byte for byte (no newline added)" cmp -s <(body_of "$f"; printf 'x') <(cat "$W/nofinal.eml"; printf 'x')
t_eq "file ends without LF" "$(tail -c 4 "$W/nofinal.eml")" "$(tail -c 4 "$f")"

: > "$W/empty.eml"
run "empty message" "$W/empty.eml"
printf 'Subject: headers only\nX-C: 3' > "$W/hdronly.eml"
run "header section without body or final newline" "$W/hdronly.eml"
printf 'From sender@example.org Sat Nov 29 12:00:00 2025\nSubject: mbox\n\nbody\n' > "$W/mbox.eml"
run "leading mbox From line" "$W/mbox.eml"
f=$(newest new)
t_eq "From line dropped" "Subject: mbox" "$(sed -n 3p "$f")"

# 100 MB body, streamed
{ printf 'Subject: huge\n\n'; head -c 100000000 /dev/zero | tr '\0' 'z' | fold -w 998; } > "$W/huge.eml"
/usr/bin/time -q -f '%M' -o "$W/rss" "$BUILD/postern-lda" -c "$CONF" -f s@ext.example -a m@mal.example < "$W/huge.eml" > "$W/out"; rc=$?
t_eq "100 MB: delivered" 0 "$rc"
t_ok "100 MB: peak RSS $(cat "$W/rss") KB < 16 MB" test "$(cat "$W/rss")" -lt $((16384 * RSS_SCALE))
f=$(ls -S "$MB"/new/* | head -n 1)
t_eq "100 MB stored whole" "$(($(stat -c %s "$W/huge.eml") + PFX))" "$(stat -c %s "$f")"
rm -f "$f"
cp "$MB/.postern.sieve" "$W/header.sieve"
printf 'require ["fileinto", "body"];\nif body :raw :contains "needle" { fileinto "Found"; }\n' > "$MB/.postern.sieve"
/usr/bin/time -q -f '%M' -o "$W/rss" "$BUILD/postern-lda" -c "$CONF" -f s@ext.example -a m@mal.example < "$W/huge.eml" > "$W/out"; rc=$?
t_eq "100 MB with a body test: delivered" 0 "$rc"
t_ok "100 MB with a body test: peak RSS $(cat "$W/rss") KB < 48 MB" test "$(cat "$W/rss")" -lt $((49152 * RSS_SCALE))
rm -f "$(ls -S "$MB"/new/* | head -n 1)"
cp "$W/header.sieve" "$MB/.postern.sieve"

# over max_message_size: refused, nothing stored
sed -i 's/^max_message_size = .*/max_message_size = 10M/' "$CONF"
before=$(find "$MB" -type f -path '*/new/*' | wc -l)
out=$("$BUILD/postern-lda" -c "$CONF" -f s@ext.example -a m@mal.example < "$W/huge.eml"); rc=$?
t_eq "over max_message_size: 77" 77 "$rc"
t_match "with 5.3.4" '^5\.3\.4 ' "$out"
t_eq "nothing stored" "$before" "$(find "$MB" -type f -path '*/new/*' | wc -l)"
t_eq "tmp/ empty" 0 "$(ls "$MB/tmp" | wc -l)"
t_eq "spool empty (unlinked spool files)" 0 "$(ls "$W/spool" | wc -l)"
rm -f "$W/huge.eml"
t_summary
