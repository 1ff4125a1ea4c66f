#!/bin/bash
# dirsync-lifecycle.sh - the directory account life cycle of postern-dirsync
# (dirsync/lifecycle.c: notice, reminder, leaving -> closed, expired
# transition aliases, the purge command) through its C test
# (tests/unit/dirsync/test_lifecycle.c) against a real MariaDB (schema by
# sql/migrate) and a real Postfix: the notices go through Postfix's
# sendmail(1) and a pipe(8) transport to postern-lda, into the leaver's
# Maildir INBOX, where the test reads them (envelope sender <>, headers,
# text).  Here the script also checks Postfix's log: the notices were
# queued with from=<> and delivered, nothing bounced.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern

# --- the Maildir root (the pipe user writes there), archive, postern-lda ----
ROOT=$H_DIR/mail
ARCHIVE=$H_DIR/archive
mkdir -p "$ROOT" "$ARCHIVE" "$H_DIR/spool"
chown nobody:nogroup "$ROOT" "$H_DIR/spool"
cp "$BUILD/postern-lda" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
LDA=$H_DIR/postern-lda
cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"; chmod 600 "$H_DIR/dbpw"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
user = nobody
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
EOC
chmod 644 "$CONF"

# --- Postfix: school.example -> pipe transport to postern-lda ----------------
h_start_smtp_sink ext            # anything sent elsewhere (bounces) lands here
cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $CONF -f \${sender} -a \${recipient}
EOM
h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = school.example
virtual_mailbox_maps = static:ok
virtual_transport = postern
postern_destination_recipient_limit = 1
relayhost = [127.0.0.1]:$H_SINK_EXT_PORT
EOF

# --- sendmail for postern-dirsync: Postfix's, and one that fails -------------
SMLOG=$H_DIR/sendmail.log
cat > "$H_DIR/sendmail" <<EOS
#!/bin/sh
echo "ok \$*" >> '$SMLOG'
exec /usr/sbin/sendmail -C '$H_PF_CONF' "\$@"
EOS
cat > "$H_DIR/sendmail-fail" <<EOS
#!/bin/sh
echo "fail \$*" >> '$SMLOG'
cat > /dev/null
exit 75
EOS
chmod 755 "$H_DIR/sendmail" "$H_DIR/sendmail-fail"

# an archive on another filesystem (refused): /dev/shm is a tmpfs
OTHER=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    OTHER=$(mktemp -d /dev/shm/postern-lc.XXXXXX)
fi

export H_DB_PORT H_DB_PASSWORD_FILE
LC_MAIL_ROOT=$ROOT LC_ARCHIVE=$ARCHIVE LC_SENDMAIL=$H_DIR/sendmail \
LC_SENDMAIL_FAIL=$H_DIR/sendmail-fail LC_SENDMAIL_LOG=$SMLOG \
LC_OTHER_FS=$OTHER \
    "$BUILD/tests/dirsync/test_lifecycle" > "$H_DIR/c.out" 2> "$H_DIR/c.err"
crc=$?
[ -n "$OTHER" ] && rm -rf "${OTHER:?}"
sed -E 's/^([0-9]+ passed, [0-9]+ failed)$/# test_lifecycle: \1/' "$H_DIR/c.out"
sed 's/^/# stderr: /' "$H_DIR/c.err" | head -n 60
H_T_PASS=$((H_T_PASS + $(grep -c '^ok ' "$H_DIR/c.out")))
H_T_FAIL=$((H_T_FAIL + $(grep -c '^not ok ' "$H_DIR/c.out")))
[ "$crc" = 0 ] || t_fail "test_lifecycle exited with status $crc"
grep -q '^[0-9]* passed, [0-9]* failed$' "$H_DIR/c.out" || t_fail "test_lifecycle printed no summary"

# --- what Postfix saw --------------------------------------------------------
t_eq "sendmail: 3 failed runs, 4 real ones (3 notices, 1 reminder)" "3 4" \
    "$(grep -c '^fail ' "$SMLOG") $(grep -c '^ok ' "$SMLOG")"
t_eq "called as sendmail -i -f <> -- ADDRESS" "ok -i -f <> -- leaver@school.example" \
    "$(grep '^ok .*leaver@' "$SMLOG" | head -n 1)"
t_wait "Postfix queued the notices with the null sender" 10 \
    sh -c "[ \$(grep -c 'from=<>' '$H_PF_LOG') -ge 4 ]"
t_eq "4 delivered through postern-lda" 4 "$(grep -c 'relay=postern, .*status=sent' "$H_PF_LOG")"
t_eq "nothing bounced or deferred" 0 "$(grep -cE 'status=(bounced|deferred)' "$H_PF_LOG")"
t_eq "nothing reached the outside sink" 0 "$(h_sink_count ext)"
t_summary
