#!/bin/bash
# dovecot-auth.sh - issue 14: IMAP logins on postern's tables with the
# passdb/userdb SQL configuration of docs/dovecot.md, extracted from the
# page (its ```dovecot-sql block), so page and test cannot drift.  A
# private Dovecot (Debian dovecot-imapd + dovecot-mysql) on a loopback high
# port against the harness MariaDB: an IMAP login (python imaplib) sees a
# message postern-lda delivered into the hashed maildir path; a wrong
# password, a disabled mailbox, a mailbox of a disabled domain and a closed
# directory account are refused; a {SCHEME} hash and a bare crypt(3) hash
# both log in; `doveadm user` shows the home and the quota (the mailbox's,
# else the domain's).  Before 2026-12-05 there was no such configuration.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
if ! [ -x /usr/lib/dovecot/imap ] || ! [ -e /usr/lib/dovecot/modules/libdriver_mysql.so ]; then
    t_fail "dovecot-imapd and dovecot-mysql are installed (scripts/deps)"
    t_summary; exit 1
fi
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
HASH=$(doveadm pw -s SHA512-CRYPT -p 'right-pw')
CRYPT=$(openssl passwd -6 -salt pepper 'crypt-pw')
h_sql "INSERT INTO domains (name, kind, default_quota_bytes) VALUES ('dc.example', 'local', 2097152);
       INSERT INTO domains (name, kind, active) VALUES ('off.example', 'local', 0);
       INSERT INTO mailboxes (local_part, domain, quota_bytes, password_hash) VALUES
         ('anna', 'dc.example', 1048576, '$HASH'),
         ('bert', 'dc.example', NULL, '$CRYPT');
       INSERT INTO mailboxes (local_part, domain, active, password_hash) VALUES
         ('off', 'dc.example', 0, '$HASH');
       INSERT INTO mailboxes (local_part, domain, password_hash) VALUES
         ('x', 'off.example', '$HASH'), ('gone', 'dc.example', '$HASH');
       UPDATE mailboxes SET state = 'closed' WHERE address = 'gone@dc.example'"
. "$(dirname "$0")/dovecot-common.sh"
# --- postern-lda delivers a message (pipe mode, as nobody; the password
# file readable by its group, as docs/lda.md asks)
dovecot_lda_conf
out=$(printf 'Subject: for dovecot\nFrom: s@ext.example\n\nread me over IMAP\n' |
      "$BUILD/postern-lda" -c "$H_DIR/lda.conf" -f s@ext.example -a anna@dc.example)
t_match "postern-lda delivers to anna@dc.example" '^2\.0\.0 ' "$out"
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@dc.example'")

# --- the SQL configuration of docs/dovecot.md
D=$H_DIR/dovecot
mkdir -p "$D"
awk '/^```dovecot-sql$/{b=1; next} /^```$/{b=0} b' docs/dovecot.md > "$D/sql.literal"
t_ok "docs/dovecot.md has the dovecot-sql.conf.ext block" grep -q '^password_query' "$D/sql.literal"
sed -e "s|^connect = .*|connect = host=127.0.0.1 port=$H_DB_PORT dbname=postern user=postern password=$H_DB_PASSWORD|" \
    -e "s|'/var/mail/postern/'|'$MAIL/'|" "$D/sql.literal" > "$D/dovecot-sql.conf.ext"
chmod 600 "$D/dovecot-sql.conf.ext"
dovecot_start "$D" "a private dovecot starts with that configuration"

# imap LOGIN PASSWORD: "login ok N SUBJECT" or "login refused"
imap() {
    python3 - "$IP" "$1" "$2" <<'PY'
import imaplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4("127.0.0.1", port)
try:
    c.login(user, pw)
except imaplib.IMAP4.error:
    print("login refused"); sys.exit(0)
typ, data = c.select("INBOX")
n = int(data[0])
subj = ""
if n:
    typ, msg = c.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    subj = msg[0][1].decode().strip()
print("login ok", n, subj)
c.logout()
PY
}
t_eq "IMAP login sees the message postern-lda delivered" \
    "login ok 1 Subject: for dovecot" "$(imap anna@dc.example right-pw)"
t_eq "... the login is case-insensitive (%Lu)" \
    "login ok 1 Subject: for dovecot" "$(imap Anna@DC.example right-pw)"
t_eq "a bare crypt(3) hash logs in too (default_pass_scheme = CRYPT)" \
    "login ok 0 " "$(imap bert@dc.example crypt-pw)"
t_eq "a wrong password is refused" "login refused" "$(imap anna@dc.example wrong-pw)"
t_eq "a disabled mailbox (active = 0) is refused" "login refused" "$(imap off@dc.example right-pw)"
t_eq "a mailbox of a disabled domain is refused" "login refused" "$(imap x@off.example right-pw)"
t_eq "a closed directory account is refused" "login refused" "$(imap gone@dc.example right-pw)"

out=$(doveadm -c "$D/dovecot.conf" user anna@dc.example 2>&1)
t_match "doveadm user: home is mail_root + the hashed maildir" "home[[:space:]]+$MAIL/$MD" "$out"
t_match "... the quota is the mailbox's quota_bytes" 'quota_rule[[:space:]]+\*:bytes=1048576' "$out"
out=$(doveadm -c "$D/dovecot.conf" user bert@dc.example 2>&1)
t_match "... else the domain's default_quota_bytes" 'quota_rule[[:space:]]+\*:bytes=2097152' "$out"
out=$(doveadm -c "$D/dovecot.conf" user off@dc.example 2>&1)
t_match "... and a disabled mailbox is no user" "doesn't exist" "$out"
doveadm -c "$D/dovecot.conf" stop 2>/dev/null
t_summary
