# lda-common.sh - postern-lda behind a real Postfix, for the Sieve suites
# (sourced after harness.sh and h_start_mariadb):
#
#   lda_install            $LDA: a copy of postern-lda that nobody may run
#                          (and its LDAP module, lib/ldapload.h, beside it),
#                          $H_DIR/dbpw: the database password readable by
#                          nobody, $H_DIR/spool: its temp_dir
#   lda_conf FILE ROOT     writes FILE: [lda] with mail_root ROOT, the spool,
#                          sendmail_path $H_DIR/sendmail, then the lines on
#                          stdin (more [lda] keys, or whole sections), then
#                          [database] as nobody; mode 644
#   lda_start_postfix DOMAIN CONF [relay]
#                          Postfix delivering DOMAIN through a pipe
#                          transport "postern" (as nobody, one recipient
#                          per delivery) to $LDA -c CONF; with "relay",
#                          mail to other domains goes to an SMTP sink
#                          (h_start_smtp_sink smarthost) and
#                          $H_DIR/sendmail injects into this Postfix, so
#                          redirects and replies land in the sink
#
#   send FROM RCPT         one message through Postfix's port 25 whose From:
#                          is FROM (a name and <address>, or an address);
#                          NMSG counts them, the Message-ID is
#                          <lNMSG.PID@remote.example>
#   settle                 wait until Postfix's queue is empty
#
# A suite that needs another sendmail writes $H_DIR/sendmail itself after
# lda_start_postfix (or without "relay").

lda_install() {
    mkdir -p "$H_DIR/spool"
    cp "$BUILD/postern-lda" "$BUILD/postern-ldap.so" "$H_DIR/"
    chmod 755 "$H_DIR/postern-lda"
    LDA=$H_DIR/postern-lda
    cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"
    chown nobody "$H_DIR/dbpw"
    chmod 600 "$H_DIR/dbpw"
}

lda_conf() {
    local file=$1 root=$2
    {
        cat <<EOC
[lda]
mail_root = $root
temp_dir = $H_DIR/spool
hostname = mx1.test.example
fsync = no
sendmail_path = $H_DIR/sendmail
EOC
        cat
        cat <<EOC
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
query_timeout = 2s
retry_interval = 100ms
EOC
    } > "$file"
    chmod 644 "$file"
}

lda_start_postfix() {
    local domain=$1 conf=$2 relay=${3:-}
    cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $conf -f \${sender} -a \${recipient}
EOM
    if [ "$relay" = relay ]; then
        h_start_smtp_sink smarthost
        h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = $domain
virtual_mailbox_maps = static:ok
virtual_transport = postern
postern_destination_recipient_limit = 1
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
EOF
        printf '#!/bin/sh\nexec python3 %s/sendmail_smtp.py %s "$@"\n' \
            "$H_HARNESS_DIR" "$H_PF_SMTP_PORT" > "$H_DIR/sendmail"
        chmod 755 "$H_DIR/sendmail"
    else
        h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = $domain
virtual_mailbox_maps = static:ok
virtual_transport = postern
postern_destination_recipient_limit = 1
EOF
    fi
}

NMSG=0
send() {
    local f
    NMSG=$((NMSG + 1)); f=$H_DIR/send.$NMSG
    printf 'From: %s\nTo: %s\nSubject: message %s\nMessage-ID: <l%s.%s@remote.example>\n\nbody %s\n' \
        "$1" "$2" "$NMSG" "$NMSG" "$$" "$NMSG" > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from "${1##*<}" --to "$2" --data "$f" >/dev/null
}

settle() { h_wait_queue_empty 20 >/dev/null; }
