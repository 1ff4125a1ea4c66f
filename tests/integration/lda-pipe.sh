#!/bin/bash
# lda-pipe.sh - postern-lda in pipe mode against a real MariaDB, without
# Postfix: exit codes and status lines (0, 67, 75, 77), the Maildir file
# and its headers, -m folders, -t, alias domains (a chain up to 4 levels
# delivered, a longer one or a cycle 67), malformed input (bare LF, CRLF, NUL,
# no header, 10,000 headers, a message over max_message_size), a database
# that is down (75, never 67), a read-only mailbox, and a process killed
# while reading its input (nothing in new/).
set -u
. "$(dirname "$0")/../harness/harness.sh"
# AddressSanitizer (make asan) multiplies memory use: the RSS bounds scale
RSS_SCALE=1
[ -n "${ASAN_OPTIONS:-}" ] && RSS_SCALE=4
BUILD=${BUILD:-build}
LDA=$PWD/$BUILD/postern-lda
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('lda.example', 'local');
       INSERT INTO domains (name, kind, alias_target) VALUES ('alias.example', 'alias', 'lda.example');
       INSERT INTO mailboxes (local_part, domain, quota_bytes) VALUES ('anna', 'lda.example', NULL), ('full', 'lda.example', 700), ('ro', 'lda.example', NULL);
       INSERT INTO mailboxes (local_part, domain, active) VALUES ('off', 'lda.example', 0);"
md_anna=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@lda.example'")
md_full=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'full@lda.example'")
md_ro=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'ro@lda.example'")
ROOT=$H_DIR/mail
mkdir -p "$ROOT"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $ROOT
max_message_size = 10M
spool_memory = 64k
temp_dir = $H_DIR
hostname = mx1.test.example
# the quota test counts files: no quota warnings (lda-quota.sh tests them)
quota_warning =
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
EOC

lda() { "$LDA" -c "$CONF" "$@"; }
newcount() { ls "$ROOT/$1/new" 2>/dev/null | wc -l; }

t_ok "-t accepts the configuration" lda -t
printf '[lda]\nbogus = 1\n' > "$H_DIR/bad.conf"
out=$("$LDA" -c "$H_DIR/bad.conf" -t 2>&1); rc=$?
t_eq "-t refuses an unknown key" 1 "$rc"
t_match "-t names file:line" 'bad.conf:2' "$out"
out=$("$LDA" -c "$H_DIR/bad.conf" -f a@b -a anna@lda.example </dev/null); rc=$?
t_eq "a broken configuration defers (75)" 75 "$rc"
t_match "with 4.3.5" '^4\.3\.5 ' "$out"

msg='Subject: test one
From: Sender <s@ext.example>

Hello.
'
out=$(printf '%s' "$msg" | lda -f s@ext.example -a anna@lda.example); rc=$?
t_eq "delivery exits 0" 0 "$rc"
t_match "status line 2.0.0" '^2\.0\.0 <anna@lda.example>: delivered to INBOX' "$out"
t_eq "one message in new/" 1 "$(newcount "$md_anna")"
f=$(ls "$ROOT/$md_anna/new/"* | head -n 1)
t_eq "Return-Path first" "Return-Path: <s@ext.example>" "$(sed -n 1p "$f")"
t_eq "Delivered-To second" "Delivered-To: anna@lda.example" "$(sed -n 2p "$f")"
t_eq "message follows unchanged" "Subject: test one" "$(sed -n 3p "$f")"
t_match "name time.MusecPpid.host,S=,W=" '/[0-9]+\.M[0-9]+P[0-9]+Q[0-9]+\.mx1\.test\.example,S=[0-9]+,W=[0-9]+$' "$f"
t_eq "S= is the file size" "$(stat -c %s "$f")" "$(echo "$f" | sed -E 's/.*,S=([0-9]+),.*/\1/')"
t_eq "tmp/ empty" 0 "$(ls "$ROOT/$md_anna/tmp" | wc -l)"

out=$(printf 'Subject: x\r\n\r\nCRLF body\r\n' | lda -f '' -a Anna+news@LDA.example -m Sent); rc=$?
t_eq "CRLF input, extension, folder: 0" 0 "$rc"
f=$(ls "$ROOT/$md_anna/.Sent/new/"* 2>/dev/null | head -n 1)
t_ok "delivered into .Sent" test -n "$f"
t_eq "null sender as <>" "Return-Path: <>" "$(sed -n 1p "$f" 2>/dev/null)"
t_not "no CR left" grep -q $'\r' "$f"
t_ok "maildirfolder marker" test -f "$ROOT/$md_anna/.Sent/maildirfolder"
printf 'Subject: u\n\nx\n' | lda -f a@b -a anna@lda.example -m 'Entwürfe/2024' >/dev/null
t_eq "UTF-8 folder in modified UTF-7" 1 "$(newcount "$md_anna/.Entw&APw-rfe.2024")"
printf 'Subject: u\n\nx\n' | lda -f a@b -a anna@alias.example >/dev/null
t_eq "alias domain followed to the mailbox" 2 "$(newcount "$md_anna")"

# a chain of alias domains, followed up to ADDR_ALIAS_DOMAIN_DEPTH (4)
# levels as postern-maps does: a -> b -> c holds user@c; h0 -> h1 -> ... ->
# h5 holds deep@h5 (from h1 4 levels, from h0 5); loop1 <-> loop2 a cycle.
# The schema refuses chains (trigger domains_bi_check, and the foreign key
# wants the target first): this private database drops both rules to
# build the rows the lookup must survive (older data, a hand-made edit).
h_sql "DROP TRIGGER domains_bi_check;
       SET foreign_key_checks = 0;
       INSERT INTO domains (name, kind) VALUES ('c.example', 'local'), ('h5.example', 'local');
       INSERT INTO domains (name, kind, alias_target) VALUES
         ('a.example', 'alias', 'b.example'), ('b.example', 'alias', 'c.example'),
         ('h0.example', 'alias', 'h1.example'), ('h1.example', 'alias', 'h2.example'),
         ('h2.example', 'alias', 'h3.example'), ('h3.example', 'alias', 'h4.example'),
         ('h4.example', 'alias', 'h5.example'),
         ('loop1.example', 'alias', 'loop2.example'), ('loop2.example', 'alias', 'loop1.example');
       INSERT INTO mailboxes (local_part, domain) VALUES ('user', 'c.example'), ('deep', 'h5.example');"
md_user=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'user@c.example'")
md_deep=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'deep@h5.example'")
out=$(printf 'Subject: chain\n\nb\n' | lda -f a@b -a user@a.example); rc=$?
t_eq "alias chain a -> b -> c: delivered (0)" 0 "$rc"
t_match "status names the mailbox at the end of the chain" '^2\.0\.0 <user@c\.example>: delivered' "$out"
t_eq "into user@c.example's Maildir" 1 "$(newcount "$md_user")"
f=$(ls "$ROOT/$md_user/new/"* 2>/dev/null | head -n 1)
t_eq "Delivered-To: the mailbox" "Delivered-To: user@c.example" "$(sed -n 2p "$f" 2>/dev/null)"
out=$(printf 'Subject: deep4\n\nb\n' | lda -f a@b -a deep@h1.example); rc=$?
t_eq "a chain of exactly 4 alias domains: delivered (0)" "0 1" "$rc $(newcount "$md_deep")"
out=$(printf 'Subject: deep5\n\nb\n' | timeout 20 "$LDA" -c "$CONF" -f a@b -a deep@h0.example); rc=$?
t_eq "a chain of 5 alias domains: unknown user (67)" 67 "$rc"
t_match "with 5.1.1" '^5\.1\.1 ' "$out"
t_eq "nothing delivered past the depth" 1 "$(newcount "$md_deep")"
out=$(printf 'Subject: cycle\n\nb\n' | timeout 20 "$LDA" -c "$CONF" -f a@b -a user@loop1.example); rc=$?
t_eq "alias domains in a cycle: unknown user (67), no endless loop" 67 "$rc"

out=$(printf 'Subject: x\n\nb\n' | lda -f a@b -a nobody@lda.example); rc=$?
t_eq "unknown mailbox: 67" 67 "$rc"
t_match "with 5.1.1" '^5\.1\.1 ' "$out"
out=$(printf 'Subject: x\n\nb\n' | lda -f a@b -a off@lda.example); rc=$?
t_eq "inactive mailbox: 67" 67 "$rc"

out=$(printf 'Delivered-To: anna@lda.example\nSubject: loop\n\nb\n' | lda -f a@b -a anna@lda.example); rc=$?
t_eq "loop: 77" 77 "$rc"
t_match "with 5.4.6" '^5\.4\.6 ' "$out"

# malformed input
before=$(newcount "$md_anna")
printf 'no header at all\njust text\n' | lda -f a@b -a anna@lda.example >/dev/null; rc=$?
t_eq "headerless message delivered" 0 "$rc"
printf 'Subject: nul\n\na\0b\n' | lda -f a@b -a anna@lda.example >/dev/null; rc=$?
t_eq "NUL bytes delivered" 0 "$rc"
t_ok "no NUL stored" bash -c "! grep -rlaP '\x00' '$ROOT/$md_anna/new'"
{ for i in $(seq 1 10000); do echo "X-H-$i: v"; done; printf '\nbody\n'; } > "$H_DIR/manyhdr.eml"
lda -f a@b -a anna@lda.example < "$H_DIR/manyhdr.eml" >/dev/null; rc=$?
t_eq "10,000 headers delivered" 0 "$rc"
t_eq "three more messages" $((before + 3)) "$(newcount "$md_anna")"
head -c 11000000 /dev/zero | tr '\0' 'a' | fold -w 100 | sed '1i Subject: big\n' > "$H_DIR/big.eml"
out=$(lda -f a@b -a anna@lda.example < "$H_DIR/big.eml"); rc=$?
t_eq "over max_message_size: 77" 77 "$rc"
t_match "with 5.3.4" '^5\.3\.4 ' "$out"
t_eq "nothing stored" $((before + 3)) "$(newcount "$md_anna")"
head -c 9000000 /dev/zero | tr '\0' 'b' | fold -w 100 | sed '1i Subject: big\n' > "$H_DIR/big9.eml"
# streaming: the 9 MB message costs at most 2 MB more than a tiny one
# (the libraries postern-lda links set the base, not the message)
printf 'Subject: tiny\n\nb\n' > "$H_DIR/tiny.eml"
/usr/bin/time -q -f '%M' -o "$H_DIR/rss0" "$LDA" -c "$CONF" -f a@b -a anna@lda.example < "$H_DIR/tiny.eml" >/dev/null
/usr/bin/time -q -f '%M' -o "$H_DIR/rss" "$LDA" -c "$CONF" -f a@b -a anna@lda.example < "$H_DIR/big9.eml" >/dev/null; rc=$?
t_eq "9 MB message delivered" 0 "$rc"
t_ok "streamed: peak RSS $(cat "$H_DIR/rss") KB, at most 2 MB over a tiny message's $(cat "$H_DIR/rss0") KB" \
    test "$(cat "$H_DIR/rss")" -lt $(( $(cat "$H_DIR/rss0") + 2048 * RSS_SCALE ))
f=$(ls -S "$ROOT/$md_anna/new/"* | head -n 1)
t_eq "big message intact" "$(($(stat -c %s "$H_DIR/big9.eml") + 50))" "$(stat -c %s "$f")"

# quota: 700 bytes (214-byte messages), bounce by default
for i in 1 2 3; do printf 'Subject: q%s\n\n%0150d\n' $i 0 | lda -f a@b -a full@lda.example >/dev/null; done
out=$(printf 'Subject: q4\n\n%0150d\n' 0 | lda -f a@b -a full@lda.example); rc=$?
t_eq "over quota: 77" 77 "$rc"
t_match "with 5.2.2" '^5\.2\.2 ' "$out"
t_eq "three messages kept" 3 "$(newcount "$md_full")"
t_match "maildirsize written" '^700S' "$(head -n 1 "$ROOT/$md_full/maildirsize")"
sed -i 's/^\[database\]/quota_full = defer\n[database]/' "$CONF"
out=$(printf 'Subject: q5\n\n%0150d\n' 0 | lda -f a@b -a full@lda.example); rc=$?
t_eq "over quota with quota_full = defer: 75" 75 "$rc"
t_match "with 4.2.2" '^4\.2\.2 ' "$out"

# read-only mailbox (as an unprivileged user: root ignores modes)
chown -R nobody "${ROOT:?}"
mkdir -p "${ROOT:?}/${md_ro:?}"/{tmp,new,cur}
chown -R root "${ROOT:?}/${md_ro:?}"; chmod -R 555 "${ROOT:?}/${md_ro:?}"
chmod 644 "$CONF"; cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"
sed -i "s|^password_file = .*|password_file = $H_DIR/dbpw|" "$CONF"
cp "$LDA" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$H_DIR/postern-lda" -c "$CONF" "$@"; }
out=$(printf 'Subject: ro\n\nb\n' | asnobody -f a@b -a ro@lda.example); rc=$?
t_eq "read-only mailbox: 75" 75 "$rc"
t_match "with 4.3.0" '^4\.3\.0 ' "$out"
t_eq "nothing in new/" 0 "$(newcount "$md_ro")"
chown -R nobody "${ROOT:?}/${md_ro:?}"; chmod -R 700 "${ROOT:?}/${md_ro:?}"
out=$(printf 'Subject: ro\n\nb\n' | asnobody -f a@b -a ro@lda.example); rc=$?
t_eq "writable again: delivered" "0 1" "$rc $(newcount "$md_ro")"

# killed while reading the message: nothing delivered, nothing partial
mkfifo "$H_DIR/fifo"
# not through the asnobody function: $! must be postern-lda itself (setpriv
# execs it), not a subshell whose death would leave the LDA reading on
setpriv --reuid=nobody --regid=nogroup --clear-groups "$H_DIR/postern-lda" \
    -c "$CONF" -f a@b -a ro@lda.example < "$H_DIR/fifo" > /dev/null &
pid=$!
exec 7> "$H_DIR/fifo"
printf 'Subject: partial\n\nfirst part\n' >&7
sleep 0.3
kill -9 "$pid"; wait "$pid" 2>/dev/null
exec 7>&-
t_eq "killed mid-delivery: nothing new in new/" 1 "$(newcount "$md_ro")"

# database down: 75, never 67
h_stop_mariadb
out=$(printf 'Subject: x\n\nb\n' | lda -f a@b -a anna@lda.example); rc=$?
t_eq "database down: 75" 75 "$rc"
t_match "with 4.3.0" '^4\.3\.0 ' "$out"
out=$(printf 'Subject: x\n\nb\n' | lda -f a@b -a nobody@lda.example); rc=$?
t_eq "database down, unknown user: still 75" 75 "$rc"
h_restart_mariadb
out=$(printf 'Subject: x\n\nb\n' | lda -f a@b -a nobody@lda.example); rc=$?
t_eq "database back: 67 again" 67 "$rc"
t_summary
