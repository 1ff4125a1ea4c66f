# e2e-lib.sh - the whole postern stack behind a real Postfix, shared by
# tests/integration/e2e.sh, e2e-faults.sh, scripts/demo and bench/e2e
# (sourced, not executable, so tests/run does not run it by itself).
# Needs harness.sh sourced and h_init done; BUILD set (default build).
#
#   e2e_start_stack       MariaDB (schema + both samples + data/e2e/stack.sql),
#                         slapd (school.ldif), a private DNS, three sinks
#                         (smarthost: AUTH over STARTTLS; legacy; other-mx),
#                         a Dovecot-protocol SASL server, postern-maps,
#                         -policyd, -milter, -lda --lmtp, and Postfix wired by
#                         scripts/postern-postconf (port 25 + submission)
#   e2e_send ARGS...      h_smtp to port 25 (E2E_R = the reply line)
#   e2e_submit LOGIN ARGS h_smtp to submission with STARTTLS + AUTH
#   e2e_maildir ADDR      the mailbox's Maildir path
#   e2e_count ADDR        messages in its INBOX (new/ + cur/)
#   e2e_find ADDR PATTERN Maildir file of ADDR whose content matches (grep -l)
#   e2e_sink_has SINK RCPT PATTERN  a sink message to RCPT matching PATTERN
#
# Variables: E2E_DIR, E2E_CONF (postern.conf), E2E_MAIL_ROOT, E2E_SUB_PORT,
# E2E_MAPS_PORT, E2E_POLICYD_PORT, E2E_MILTER_PORT, E2E_LDA_PORT,
# E2E_SMARTHOST_LOGIN, E2E_SRS (yes/no), E2E_VACATION (yes/no), E2E_PIDS.
# Issue 19 in postern.conf: [policyd] contain_notify (it-support@school.example)
# and contain_sendmail, [milter] moderation_address (moderate@bns.school.example),
# moderation_sendmail ($E2E_DIR/sendmail, SMTP into this Postfix) and
# moderation_postsuper ($E2E_DIR/postsuper: postsuper -c of this Postfix).
# Options (set before e2e_start_stack): E2E_IPV6=1 (Postfix also on ::1),
# E2E_GROUP_DOMAINS (the milter's group_domains; default the sample school's),
# E2E_CONF_EXTRA ("SECTION KEY VALUE" lines for postern.conf),
# E2E_LOG=FILE (progress lines), E2E_SUPERVISE=1 (each postern daemon runs
# under tests/harness/supervise with its conf/systemd unit's Restart=;
# E2E_<NAME>_PID is then the supervisor's PID, $E2E_DIR/NAME.pid the
# daemon's).

BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR=$H_DIR/e2e
E2E_SMARTHOST_LOGIN=relay-user:relay-secret
E2E_SASL_PASSWORD=test
E2E_IPV6=${E2E_IPV6:-0}
E2E_PIDS=()

e2e_log() { [ -n "${E2E_LOG:-}" ] && printf '%s\n' "$*" >> "$E2E_LOG"; return 0; }
e2e_die() { echo "e2e: $*" >&2; return 1; }

# e2e_conf_set FILE SECTION KEY VALUE - set (or add) KEY in [SECTION]
e2e_conf_set() {
    "$H_PYTHON" - "$@" <<'PYEOF'
import sys
path, sec, key, val = sys.argv[1:5]
lines = open(path).read().split("\n")
cur = None; done = False; out = []; last_in_sec = None
for l in lines:
    s = l.strip()
    if s.startswith("[") and s.endswith("]"):
        cur = s[1:-1]
    elif cur == sec and not s.startswith(("#", ";")) and "=" in s \
            and s.split("=", 1)[0].strip() == key:
        l = "%s = %s" % (key, val); done = True
    out.append(l)
    if cur == sec:
        last_in_sec = len(out)
if not done:
    if last_in_sec is None:
        out += ["[%s]" % sec, "%s = %s" % (key, val)]
    else:
        out.insert(last_in_sec, "%s = %s" % (key, val))
open(path, "w").write("\n".join(out))
PYEOF
}

# e2e_write_conf - conf/postern.conf with this stack's ports and paths
e2e_write_conf() {
    local f=$E2E_CONF s k v
    cp "$E2E_ROOT/conf/postern.conf" "$f"
    while read -r s k v; do
        e2e_conf_set "$f" "$s" "$k" "$v" || return 1
    done <<EOF
database hosts 127.0.0.1:$H_DB_PORT
database password_file $E2E_DIR/db.secret
database connect_timeout 1s
database retry_interval 0
ldap uri $H_LDAP_URI
ldap base $H_LDAP_BASE
ldap connect_timeout 1s
ldap query_timeout 2s
ldap retry_interval 0
ldap cache_ttl 2s
maps listen inet:127.0.0.1:$E2E_MAPS_PORT
maps user nobody
policyd user nobody
milter user nobody
maps max_staleness 3s
maps srs_domain school.example
maps srs_secret_file $E2E_DIR/srs-secrets
policyd listen inet:127.0.0.1:$E2E_POLICYD_PORT
policyd hostname mx.test.example
milter listen inet:127.0.0.1:$E2E_MILTER_PORT
milter authserv_id mx.test.example
milter group_domains ${E2E_GROUP_DOMAINS:-bns.school.example, gym.school.example, school.example}
lda listen inet:127.0.0.1:$E2E_LDA_PORT
lda user nobody
lda mail_root $E2E_MAIL_ROOT
lda fsync no
lda temp_dir $E2E_DIR/tmp
lda sieve_global_dir $E2E_DIR/sieve-global
lda sendmail_path $E2E_DIR/sendmail
forward sendmail_path $E2E_DIR/sendmail
policyd contain_notify it-support@school.example
policyd contain_contact it-support@school.example
policyd contain_sendmail $E2E_DIR/sendmail
milter moderation_address moderate@bns.school.example
milter moderation_sendmail $E2E_DIR/sendmail
milter moderation_postsuper $E2E_DIR/postsuper
EOF
    # E2E_CONF_EXTRA: more "SECTION KEY VALUE" lines from the caller
    while read -r s k v; do
        [ -z "$s" ] || e2e_conf_set "$f" "$s" "$k" "$v" || return 1
    done <<< "${E2E_CONF_EXTRA:-}"
    chmod 644 "$f"
}

# e2e_routes - every next hop of the sample data to a loopback sink
e2e_routes() {
    local lg=$H_SINK_LEGACY_PORT sh=$H_SINK_SMARTHOST_PORT mx=$H_SINK_OTHER_MX_PORT bad
    h_sql "
        UPDATE transports SET transport = CONCAT(IF(transport LIKE 'lmtp:%', 'smtp', SUBSTRING_INDEX(transport, ':', 1)), ':[127.0.0.1]:$lg')
            WHERE purpose = 'legacy';
        UPDATE transports SET transport = CONCAT(SUBSTRING_INDEX(transport, ':', 1), ':[127.0.0.1]:$sh')
            WHERE match_type = 'default' AND purpose = 'delivery';
        UPDATE transports SET transport = CONCAT(SUBSTRING_INDEX(transport, ':', 1), ':[127.0.0.1]:$mx')
            WHERE match_type <> 'default' AND purpose = 'delivery';
        UPDATE domains SET transport = CONCAT(SUBSTRING_INDEX(transport, ':', 1), ':[127.0.0.1]:',
                IF(kind = 'legacy', '$lg', '$mx')) WHERE transport IS NOT NULL;
        UPDATE domains SET legacy_transport = CONCAT(SUBSTRING_INDEX(legacy_transport, ':', 1), ':[127.0.0.1]:$lg')
            WHERE legacy_transport IS NOT NULL;
        UPDATE domains SET relayhost = '[127.0.0.1]:$sh' WHERE relayhost IS NOT NULL;
        UPDATE mailboxes SET transport = CONCAT(SUBSTRING_INDEX(transport, ':', 1), ':[127.0.0.1]:$mx')
            WHERE transport IS NOT NULL;
        UPDATE mailboxes SET relayhost = '[127.0.0.1]:$sh' WHERE relayhost IS NOT NULL;
        UPDATE relayhosts SET nexthop = '[127.0.0.1]:$sh';
        UPDATE transports SET transport = 'postern-lda:inet:127.0.0.1:$E2E_LDA_PORT'
            WHERE match_type = 'default' AND purpose = 'local';
        INSERT INTO transports (match_type, pattern, purpose, transport, comment)
            VALUES ('domain', 'kunde1.example', 'local', 'postern-pipe:', 'e2e: pipe(8) mode of postern-lda');
    " || return 1
    bad=$(h_sql "
        SELECT transport FROM transports WHERE transport NOT LIKE '%:[127.0.0.1]:%' AND transport NOT IN ('postern-lda:inet:127.0.0.1:$E2E_LDA_PORT', 'postern-pipe:')
        UNION ALL SELECT transport FROM domains WHERE transport NOT LIKE '%:[127.0.0.1]:%'
        UNION ALL SELECT legacy_transport FROM domains WHERE legacy_transport NOT LIKE '%:[127.0.0.1]:%'
        UNION ALL SELECT relayhost FROM domains WHERE relayhost NOT LIKE '[127.0.0.1]:%'
        UNION ALL SELECT transport FROM mailboxes WHERE transport NOT LIKE '%:[127.0.0.1]:%'
        UNION ALL SELECT relayhost FROM mailboxes WHERE relayhost NOT LIKE '[127.0.0.1]:%'
        UNION ALL SELECT nexthop FROM relayhosts WHERE nexthop NOT LIKE '[127.0.0.1]:%'") || return 1
    [ -z "$bad" ] || e2e_die "routes still leaving 127.0.0.1: $bad"
}

# e2e_dkim_keys - fresh keys for the active dkim_keys rows; zone for verify
e2e_dkim_keys() {
    local d=$E2E_DIR/dkim dom sel alg f pub
    mkdir -p "$d"; chmod 755 "$d"
    : > "$d/zone"
    while IFS=$'\t' read -r dom sel alg; do
        f=$d/$dom.$sel.key
        if [ "$alg" = ed25519-sha256 ]; then
            openssl genpkey -algorithm ed25519 -out "$f" 2>/dev/null || return 1
            pub=$(openssl pkey -in "$f" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
            printf '%s._domainkey.%s. IN TXT "v=DKIM1; k=ed25519; p=%s"\n' "$sel" "$dom" "$pub" >> "$d/zone"
        else
            openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$f" 2>/dev/null || return 1
            pub=$(openssl pkey -in "$f" -pubout -outform DER 2>/dev/null | base64 -w0)
            printf '%s._domainkey.%s. IN TXT "v=DKIM1; k=rsa; p=%s"\n' "$sel" "$dom" "$pub" >> "$d/zone"
        fi
        chmod 644 "$f"
        h_sql "UPDATE dkim_keys SET key_path = '$f' WHERE domain = '$dom' AND selector = '$sel'" || return 1
    done < <(h_sql "SELECT domain, selector, algorithm FROM dkim_keys WHERE active = 1")
}

# e2e_dkim_verify FILE - the message's DKIM signatures verify (python3-dkim)
e2e_dkim_verify() {
    "$H_PYTHON" - "$E2E_DIR/dkim/zone" "$1" <<'PYEOF'
import re, sys, dkim
zone = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\S+)\s+IN\s+TXT\s+"(.*)"', line)
    if m:
        zone[m.group(1).lower().encode()] = m.group(2).encode()
def dnsfunc(name, timeout=5):
    return zone.get(name.lower())
msg = re.sub(rb'\r?\n', b'\r\n', open(sys.argv[2], 'rb').read())
sys.exit(0 if dkim.verify(msg, dnsfunc=dnsfunc) else 1)
PYEOF
}

e2e__port_up() { h__port_open 127.0.0.1 "$1"; }

# e2e_start_daemon NAME ARGS... - start a postern daemon in the foreground,
# DNS through the private resolver; waits until its port answers
e2e_start_daemon() {
    local name=$1 port=$2 pid
    shift 2
    if [ "${E2E_SUPERVISE:-0}" = 1 ]; then
        # under tests/harness/supervise, restarted as its systemd unit says;
        # $E2E_DIR/NAME.pid holds the daemon's own PID
        h_with_resolver "$E2E_ROOT/tests/harness/supervise" \
            --unit "$E2E_ROOT/conf/systemd/postern-$name.service" \
            --pidfile "$E2E_DIR/$name.pid" --log "$E2E_DIR/$name.supervise.log" -- \
            "$BUILD/postern-$name" -f -c "$E2E_CONF" "$@" \
            </dev/null >> "$E2E_DIR/$name.log" 2>&1 &
    else
        h_with_resolver "$BUILD/postern-$name" -f -c "$E2E_CONF" "$@" \
            </dev/null >> "$E2E_DIR/$name.log" 2>&1 &
    fi
    pid=$!
    h_track_pid "$pid"
    printf -v "E2E_${name^^}_PID" '%s' "$pid"
    E2E_PIDS+=("$name:$pid")
    h_wait_for 15 e2e__port_up "$port" || { tail -n 20 "$E2E_DIR/$name.log" >&2; e2e_die "postern-$name does not listen on $port"; }
}

# e2e_detect - optional features another part of postern may have by now
e2e_detect() {
    local r
    E2E_SRS=no
    r=$("$H_PYTHON" - "$E2E_MAPS_PORT" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3)
q = b"srsencode someone@elsewhere.example"
s.sendall(b"%d:%s," % (len(q), q))
print(s.recv(4096).decode(errors="replace"))
PYEOF
) 2>/dev/null
    case "$r" in *PERM*|"") E2E_SRS=no ;; *) E2E_SRS=yes ;; esac
    E2E_VACATION=no
    printf 'require "vacation";\nvacation :days 1 "away";\n' > "$E2E_DIR/vac-probe.sieve"
    if "$BUILD/postern-sieve" "$E2E_DIR/vac-probe.sieve" </dev/null >/dev/null 2>&1; then
        E2E_VACATION=yes
    fi
}

e2e_start_stack() {
    local f
    mkdir -p "$E2E_DIR" "$E2E_DIR/tmp" "$E2E_DIR/sieve-global"
    chmod 755 "$E2E_DIR"
    chmod 1777 "$E2E_DIR/tmp"
    E2E_CONF=$E2E_DIR/postern.conf
    E2E_MAIL_ROOT=$E2E_DIR/mail
    mkdir -p "$E2E_MAIL_ROOT"; chown nobody:nogroup "$E2E_MAIL_ROOT"; chmod 755 "$E2E_MAIL_ROOT"
    e2e_log "dns"
    h_start_dns - <<EOF || return 1
outside.example TXT v=spf1 ip4:127.0.0.1 ip6:::1 -all
web-mail.example TXT v=spf1 -all
EOF
    e2e_log "mariadb"
    h_start_mariadb
    "$E2E_ROOT/sql/migrate" --no-defaults --socket="$H_DB_SOCKET" -uroot postern \
        > "$E2E_DIR/migrate.log" 2>&1 || { cat "$E2E_DIR/migrate.log" >&2; e2e_die "sql/migrate failed"; return 1; }
    for f in sql/sample-school.sql sql/sample-isp.sql tests/integration/data/e2e/stack.sql; do
        h_sql_file "$E2E_ROOT/$f" > "$E2E_DIR/load.log" 2>&1 || { cat "$E2E_DIR/load.log" >&2; e2e_die "loading $f failed"; return 1; }
    done
    install -m 600 -o nobody "$H_DB_PASSWORD_FILE" "$E2E_DIR/db.secret"
    e2e_log "slapd"
    h_start_slapd
    e2e_log "sinks"
    h_start_smtp_sink smarthost --require-auth "$E2E_SMARTHOST_LOGIN" --tls --fail-rcpt 550 --fail-rcpt-match nosuchuser
    h_start_smtp_sink legacy
    h_start_smtp_sink other-mx
    E2E_MAPS_PORT=$(h_free_port); E2E_POLICYD_PORT=$(h_free_port)
    E2E_MILTER_PORT=$(h_free_port); E2E_LDA_PORT=$(h_free_port); E2E_SUB_PORT=$(h_free_port)
    e2e_routes || return 1
    e2e_dkim_keys || return 1
    # SASL for submission: a Dovecot-protocol server (every login, password "test")
    rm -f "$E2E_DIR/auth.port"
    "$H_PYTHON" "$E2E_ROOT/tests/integration/milter-auth.py" --port-file "$E2E_DIR/auth.port" \
        </dev/null >> "$E2E_DIR/auth.log" 2>&1 &
    h_track_pid "$!"
    E2E_PIDS+=("sasl:$!")
    h_wait_for 10 test -s "$E2E_DIR/auth.port" || { e2e_die "SASL server did not start"; return 1; }
    E2E_AUTH_PORT=$(cat "$E2E_DIR/auth.port")
    head -c 24 /dev/urandom | base64 > "$E2E_DIR/srs-secrets"
    chown root:nogroup "$E2E_DIR/srs-secrets"; chmod 640 "$E2E_DIR/srs-secrets"
    e2e_write_conf || return 1
    e2e_log "postern daemons"
    e2e_start_daemon maps "$E2E_MAPS_PORT" || return 1
    e2e_start_daemon policyd "$E2E_POLICYD_PORT" || return 1
    e2e_start_daemon milter "$E2E_MILTER_PORT" || return 1
    e2e_start_daemon lda "$E2E_LDA_PORT" --lmtp || return 1
    e2e_detect
    e2e_log "postfix"
    e2e_start_postfix || return 1
    # Sieve redirects re-inject through this Postfix
    # (Postfix's sendmail refuses -C for the unprivileged LDA: submit over SMTP)
    printf '#!/bin/sh\nexec python3 %s/sendmail_smtp.py %s "$@"\n' \
        "$H_HARNESS_DIR" "$E2E_INJECT_PORT" > "$E2E_DIR/sendmail"
    chmod 755 "$E2E_DIR/sendmail"
    # `postern moderate` (root) releases and deletes held messages here
    printf '#!/bin/sh\nexec /usr/sbin/postsuper -c %s "$@"\n' "$H_PF_CONF" > "$E2E_DIR/postsuper"
    chmod 755 "$E2E_DIR/postsuper"
}

e2e_start_postfix() {
    local pc=("$E2E_ROOT/scripts/postern-postconf" --maps "127.0.0.1:$E2E_MAPS_PORT"
        --policyd "127.0.0.1:$E2E_POLICYD_PORT" --milter "127.0.0.1:$E2E_MILTER_PORT"
        --lda lmtp --lda-lmtp "inet:127.0.0.1:$E2E_LDA_PORT"
        --submission "127.0.0.1:$E2E_SUB_PORT"
        --sasl-path "inet:127.0.0.1:$E2E_AUTH_PORT"
        --smarthost "[127.0.0.1]:$H_SINK_SMARTHOST_PORT" --smarthost-tls encrypt
        --sasl-passwords "$E2E_DIR/sasl_passwd" --tls-policy "$E2E_DIR/tls_policy"
        --srs "$E2E_SRS" --mydestination empty
        --forward-path "$BUILD/postern-forward" --forward-user nobody --conf "$E2E_CONF")
    h_tls_cert
    printf '[127.0.0.1]:%s %s\n' "$H_SINK_SMARTHOST_PORT" "$E2E_SMARTHOST_LOGIN" > "$E2E_DIR/sasl_passwd"
    chmod 600 "$E2E_DIR/sasl_passwd"
    printf '[127.0.0.1]:%s encrypt\n' "$H_SINK_SMARTHOST_PORT" > "$E2E_DIR/tls_policy"
    {
        "${pc[@]}" --tls-cert "$H_TLS_CERT" --tls-key "$H_TLS_KEY" --main
        cat <<EOF
# e2e: loopback clients are "the internet"; nothing is trusted by address
mynetworks = 192.0.2.255/32
myhostname = mx.test.example
smtpd_tls_security_level = may
smtp_tls_CAfile =
message_size_limit = 31457280
virtual_mailbox_limit = 31457280
smtpd_recipient_limit = 1000
lmtp_destination_recipient_limit = 50
EOF
    } > "$E2E_DIR/main.cf.add"
    {
        "${pc[@]}" --master
        # pipe(8) mode of postern-lda, for kunde1.example; and a loopback
        # injection port for the LDA's re-injected mail (what sendmail's
        # pickup path is in production: no relay restrictions)
        E2E_INJECT_PORT=$(h_free_port)
        cat <<EOF
127.0.0.1:$E2E_INJECT_PORT inet n - n - - smtpd
  -o mynetworks=127.0.0.0/8 -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_sender_restrictions= -o smtpd_client_restrictions=
postern-pipe unix -       n       n       -       -       pipe
  flags=Xh user=nobody null_sender=
  argv=$BUILD/postern-lda -c $E2E_CONF -f \${sender} -a \${recipient} -m \${extension} -q \${queue_id}
EOF
    } > "$E2E_DIR/master.cf.add"
    echo "postern-pipe_destination_recipient_limit = 1" >> "$E2E_DIR/main.cf.add"
    if [ "$E2E_IPV6" = 1 ]; then
        h_start_postfix --ipv6 "$E2E_DIR/main.cf.add" "$E2E_DIR/master.cf.add"
    else
        h_start_postfix "$E2E_DIR/main.cf.add" "$E2E_DIR/master.cf.add"
    fi
    # what postern-postconf --apply does to the stock port-25 service
    # (--smtpd-max-use; the harness defines that service itself)
    h_postconf -P "127.0.0.1:$H_PF_SMTP_PORT/inet/max_use=10" && h_postfix_reload
    h_wait_for 10 e2e__port_up "$E2E_SUB_PORT" || e2e_die "submission does not listen"
}

# ---------------------------------------------------------------- clients

e2e_send() { E2E_R=$(h_smtp --port "$H_PF_SMTP_PORT" --helo client.outside.example "$@"); }
e2e_submit() {
    local login=$1
    shift
    E2E_R=$(h_smtp --port "$E2E_SUB_PORT" --starttls --auth "$login:$E2E_SASL_PASSWORD" \
        --helo laptop.outside.example "$@")
}

e2e_maildir() {
    local p
    p=$(h_postmap_q "$1" "socketmap:inet:127.0.0.1:$E2E_MAPS_PORT:maildir" 2>/dev/null) || return 1
    printf '%s/%s' "$E2E_MAIL_ROOT" "${p%/}"
}
e2e_count() {
    local d
    d=$(e2e_maildir "$1") || { echo 0; return; }
    find "$d/new" "$d/cur" -maxdepth 1 -type f 2>/dev/null | wc -l
}
# e2e_find ADDR ERE - newest INBOX file of ADDR whose content matches
e2e_find() {
    local d
    d=$(e2e_maildir "$1") || return 1
    grep -l -E -e "$2" "$d"/new/* "$d"/cur/* 2>/dev/null | tail -n 1 | grep .
}
# e2e_sink_has SINK RCPT ERE - a message in SINK for RCPT whose text matches
e2e_sink_has() {
    local sink=$1 rcpt=$2 re=$3 env up
    up=$(h__upper "$sink")
    local dir_var="H_SINK_${up}_DIR"
    for env in "${!dir_var}"/*.env; do
        [ -f "$env" ] || continue
        grep -qixF "RCPT TO:<$rcpt>" "$env" || continue
        [ -f "${env%.env}.eml" ] || continue
        grep -qE -e "$re" "${env%.env}.eml" && { echo "${env%.env}.eml"; return 0; }
    done
    return 1
}
