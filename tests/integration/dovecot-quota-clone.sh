#!/bin/bash
# dovecot-quota-clone.sh - issue 17: Dovecot's quota_clone plugin keeps
# mailbox_usage current after IMAP changes, with the dict configuration of
# docs/dovecot.md (its ```dovecot-usage block, extracted from the page so
# page and test cannot drift) and a database user that has only the
# column grants the page names.  A private Dovecot (Debian dovecot-imapd +
# dovecot-mysql) against the harness MariaDB: postern-lda delivers three
# messages (row source lda); an IMAP login deletes one and expunges: the
# row's bytes and messages drop to what the Maildir holds, quota_bytes and
# source stay; an IMAP APPEND to a mailbox without a row creates one with
# source dovecot and quota_bytes NULL.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
if ! [ -x /usr/lib/dovecot/imap ] || ! [ -e /usr/lib/dovecot/modules/libdriver_mysql.so ] ||
   ! [ -e /usr/lib/dovecot/modules/lib20_quota_clone_plugin.so ]; then
    t_fail "dovecot-imapd and dovecot-mysql are installed (scripts/deps)"
    t_summary; exit 1
fi
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
HASH=$(doveadm pw -s SHA512-CRYPT -p 'pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('dc.example', 'local');
       INSERT INTO mailboxes (local_part, domain, quota_bytes, password_hash) VALUES
         ('anna', 'dc.example', 1048576, '$HASH'), ('bert', 'dc.example', 1048576, '$HASH');
       CREATE USER 'dovecot'@'127.0.0.1' IDENTIFIED BY 'dove-pw';
       GRANT SELECT, INSERT (address, bytes, messages), UPDATE (address, bytes, messages)
         ON postern.mailbox_usage TO 'dovecot'@'127.0.0.1';"
. "$(dirname "$0")/dovecot-common.sh"
dovecot_lda_conf
for i in 1 2 3; do
    out=$({ printf 'Subject: m%s\nFrom: s@ext.example\n\n' "$i"; head -c 3000 /dev/zero | tr '\0' 'y' | fold -w 60; } |
          "$BUILD/postern-lda" -c "$H_DIR/lda.conf" -f s@ext.example -a anna@dc.example)
done
t_match "postern-lda delivers to anna@dc.example" '^2\.0\.0 ' "$out"
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@dc.example'")
sizes() { find "$MAIL/$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
row() { h_sql "SELECT bytes, messages, IFNULL(quota_bytes, 'NULL'), source FROM mailbox_usage WHERE address = '$1'"; }
t_eq "the row postern-lda wrote" "$(sizes "$MD")	3	1048576	lda" "$(row anna@dc.example)"

# --- Dovecot with the passdb/userdb of docs/dovecot.md and its quota_clone dict
D=$H_DIR/dovecot
mkdir -p "$D/run" "$D/state"
awk '/^```dovecot-sql$/{b=1; next} /^```$/{b=0} b' docs/dovecot.md |
    sed -e "s|^connect = .*|connect = host=127.0.0.1 port=$H_DB_PORT dbname=postern user=postern password=$H_DB_PASSWORD|" \
        -e "s|'/var/mail/postern/'|'$MAIL/'|" > "$D/dovecot-sql.conf.ext"
awk '/^```dovecot-usage$/{b=1; next} /^```$/{b=0} b' docs/dovecot.md > "$D/usage.literal"
t_ok "docs/dovecot.md has the dovecot-usage block" grep -q 'table = mailbox_usage' "$D/usage.literal"
sed -e "s|^connect = .*|connect = host=127.0.0.1 port=$H_DB_PORT dbname=postern user=dovecot password=dove-pw|" \
    "$D/usage.literal" > "$D/dovecot-dict-usage.conf.ext"
chmod 644 "$D/dovecot-sql.conf.ext" "$D/dovecot-dict-usage.conf.ext"
dovecot_start "$D" "a private dovecot starts with quota_clone" "$(cat <<EOF
mail_plugins = \$mail_plugins quota quota_clone
plugin {
  quota = maildir:User quota
  quota_clone_dict = proxy::postern-usage
}
dict {
  postern-usage = mysql:$D/dovecot-dict-usage.conf.ext
}
EOF
)" "$(cat <<'EOF'
service dict {
  unix_listener dict {
    mode = 0666
  }
}
EOF
)"

# imap USER ACTION: "expunge" deletes message 1, "append" stores one
imap() {
    python3 - "$IP" "$1" "$2" <<'PY'
import imaplib, sys
port, user, action = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = imaplib.IMAP4("127.0.0.1", port)
c.login(user, "pw")
c.select("INBOX")
if action == "expunge":
    c.store("1", "+FLAGS", "\\Deleted")
    c.expunge()
else:
    c.append("INBOX", None, None, b"Subject: appended\r\n\r\n" + b"z" * 2000 + b"\r\n")
print(action, "done")
c.logout()
PY
}
t_eq "IMAP: anna deletes and expunges one message" "expunge done" "$(imap anna@dc.example expunge)"
t_wait "quota_clone lowered the row to what the Maildir holds" 10 \
    sh -c "[ \"\$(mariadb --no-defaults -S '$H_DB_SOCKET' -uroot -N -B postern -e \"SELECT CONCAT(bytes, ' ', messages) FROM mailbox_usage WHERE address = 'anna@dc.example'\")\" = '$(sizes "$MD") 2' ]"
t_eq "... quota_bytes and source kept" "$(sizes "$MD")	2	1048576	lda" "$(row anna@dc.example)"
t_eq "IMAP: bert appends (no row yet)" "append done" "$(imap bert@dc.example append)"
MDB=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'bert@dc.example'")
t_wait "quota_clone created bert's row" 10 \
    sh -c "[ -n \"\$(mariadb --no-defaults -S '$H_DB_SOCKET' -uroot -N -B postern -e \"SELECT 1 FROM mailbox_usage WHERE address = 'bert@dc.example'\")\" ]"
t_eq "... source dovecot, quota_bytes NULL, the Maildir's figures" "$(sizes "$MDB")	1	NULL	dovecot" "$(row bert@dc.example)"
grep -i 'error' "$D/dovecot.log" | head -n 5 | sed 's/^/# /'
doveadm -c "$D/dovecot.conf" stop 2>/dev/null
t_summary
