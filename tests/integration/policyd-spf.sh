#!/bin/bash
# policyd-spf.sh - SPF in postern-policyd against a private DNS server
# (dnsmasq on 127.0.53.N, reached through a private resolv.conf): every
# result and its configured action, the HELO check, the null sender,
# Received-SPF once per message, skipped clients, DNS outage (temperror ->
# defer), the SPF pool for greylisting, require_spf_pass in a sender rule,
# and through a real Postfix (XCLIENT makes the client look remote).
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
h_start_smtp_sink mx
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "
INSERT INTO domains (name, kind) VALUES ('bns.school.example', 'local'), ('grey.example', 'local');
UPDATE greylist_settings SET enabled = 0, delay_seconds = 2, retry_window_seconds = 600 WHERE domain IS NULL;
INSERT INTO greylist_settings (domain, enabled) VALUES ('grey.example', 1);
INSERT INTO policy_groups (name) VALUES ('pass-senders'), ('board');
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'domain', 'pass.example' FROM policy_groups WHERE name = 'pass-senders'
  UNION ALL SELECT id, 'domain', 'soft.example' FROM policy_groups WHERE name = 'pass-senders'
  UNION ALL SELECT id, 'address', 'board@bns.school.example' FROM policy_groups WHERE name = 'board';
INSERT INTO sender_rules (priority, name, sender_group_id, recipient_group_id, action, require_spf_pass, reject_text)
  SELECT 10, 'board-from-spf-pass', s.id, r.id, 'permit', 1, NULL FROM policy_groups s, policy_groups r
   WHERE s.name = 'pass-senders' AND r.name = 'board'
  UNION ALL SELECT 20, 'board-closed', NULL, id, 'reject', 0, 'Board accepts only verified partners' FROM policy_groups WHERE name = 'board';
" || { t_fail "fixture loads"; t_summary; exit 1; }

cat > "$H_DIR/zone" <<'ZONE'
pass.example TXT v=spf1 ip4:192.0.2.0/24 -all
fail.example TXT v=spf1 ip4:198.51.100.1 -all
soft.example TXT v=spf1 ~all
neutral.example TXT v=spf1 ?all
perm.example TXT v=spf1 bogus-mechanism -all
helo-fail.example TXT v=spf1 -all
pool.example TXT v=spf1 ip4:192.0.2.0/24 ip4:198.18.0.0/16 -all
late.example TXT v=spf1 ip4:192.0.2.0/24 -all
late2.example TXT v=spf1 ip4:192.0.2.0/24 -all
ZONE
h_start_dns "$H_DIR/zone"

PORT=$(h_free_port)
cat > "$H_DIR/p.conf" <<EOF
[policyd]
listen = inet:127.0.0.1:$PORT
workers = 2
poll_interval = 100ms
checks = spf, sender_rules, greylist
hostname = mx1.test.example
spf_skip_networks = 10.0.0.0/8, 2001:db8:ffff::/48
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
EOF
(h_with_resolver "$BUILD/postern-policyd" -f -c "$H_DIR/p.conf" 2> "$H_DIR/p.log") &
PID=$!
h_track_pid $PID
PC="$(dirname "$0")/policy_client.py"
pc() { python3 "$PC" "$PORT" "$@"; }
t_wait "policyd answers" 10 bash -c "[ \"\$(python3 $PC $PORT protocol_state=CONNECT)\" = DUNNO ]"

R=recipient=max@bns.school.example
t_match "pass: Received-SPF prepended" \
    '^PREPEND Received-SPF: pass .*client-ip=192\.0\.2\.10;.*envelope-from=.?a@pass\.example' \
    "$(pc client_address=192.0.2.10 sender=a@pass.example $R instance=s1)"
t_match "fail: 550 5.7.23" '^550 5\.7\.23 SPF fail: 192\.0\.2\.10 is not allowed to send mail for this sender$' \
    "$(pc client_address=192.0.2.10 sender=a@fail.example $R instance=s2)"
t_match "softfail: prepend only (default)" '^PREPEND Received-SPF: softfail' \
    "$(pc client_address=192.0.2.10 sender=a@soft.example $R instance=s3)"
t_match "neutral: prepend" '^PREPEND Received-SPF: neutral' \
    "$(pc client_address=192.0.2.10 sender=a@neutral.example $R instance=s4)"
t_match "none (no record): prepend" '^PREPEND Received-SPF: none' \
    "$(pc client_address=192.0.2.10 sender=a@none.example $R instance=s5)"
t_match "permerror: prepend" '^PREPEND Received-SPF: permerror' \
    "$(pc client_address=192.0.2.10 sender=a@perm.example $R instance=s6)"
t_match "HELO fail is refused even when MAIL FROM would pass" '^550 5\.7\.23 SPF fail: .* this HELO name$' \
    "$(pc client_address=192.0.2.10 helo_name=helo-fail.example sender=a@pass.example $R instance=s7)"
t_match "null sender: the HELO identity is checked" '^PREPEND Received-SPF: pass' \
    "$(pc client_address=192.0.2.10 helo_name=pass.example sender= $R instance=s8)"
t_eq "authenticated clients are not checked" "DUNNO" \
    "$(pc client_address=192.0.2.99 sasl_username=a@fail.example sender=a@fail.example $R instance=s9)"
t_eq "clients in spf_skip_networks are not checked" "DUNNO" \
    "$(pc client_address=10.1.2.3 sender=a@fail.example $R instance=s10)"
{ for r in one two; do printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.10\nsender=b@pass.example\nrecipient=%s@bns.school.example\ninstance=s11\n\n' $r; done; } > "$H_DIR/two"
t_eq "Received-SPF only once per message" "PREPEND DUNNO" \
    "$(python3 "$PC" "$PORT" --raw "$H_DIR/two" | sed -n 's/^action=\([A-Z]*\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
t_match "IPv6 client against an ip4-only record: fail" '^550 5\.7\.23 ' \
    "$(pc client_address=2001:db8::5 sender=a@pass.example $R instance=s12)"

# require_spf_pass in a sender rule
t_match "sender rule with require_spf_pass: SPF pass permits" '^PREPEND Received-SPF: pass' \
    "$(pc client_address=192.0.2.10 sender=partner@pass.example recipient=board@bns.school.example instance=s13)"
t_match "... a group member whose SPF is only softfail does not match it: the next rule refuses" \
    '^550 5\.7\.1 Board accepts only verified partners$' \
    "$(pc client_address=192.0.2.10 sender=partner@soft.example recipient=board@bns.school.example instance=s14)"

# greylisting with the SPF pool: first attempt from one /24, retry from another
G="sender=news@pool.example recipient=anna@grey.example"
t_match "pool: first attempt greylisted" '^DEFER_IF_PERMIT ' "$(pc client_address=192.0.2.20 $G instance=g1)"
sleep 2.2
t_match "pool: the retry from another network of the same SPF record passes" \
    '^PREPEND ' "$(pc client_address=198.18.44.1 $G instance=g2)"
sleep 0.5
t_eq "pool: the triplet is keyed by spf:DOMAIN" "1" \
    "$(h_sql "SELECT COUNT(*) FROM greylist_triplets WHERE client_net = 'spf:pool.example'")"

# through a real Postfix
h_start_postfix - <<EOF
relay_domains = bns.school.example, grey.example
transport_maps = inline:{ bns.school.example=smtp:[127.0.0.1]:$H_SINK_MX_PORT }
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service inet:127.0.0.1:$PORT, permit
smtpd_data_restrictions = check_policy_service inet:127.0.0.1:$PORT
EOF
XS="$(dirname "$0")/xclient_send.py"
r=$(python3 "$XS" "$H_PF_SMTP_PORT" 192.0.2.10 mail.pass.example x@fail.example max@bns.school.example)
t_match "SMTP: SPF fail refused at RCPT with 550 5.7.23" '^RCPT 550 5\.7\.23 ' "$r"
r=$(python3 "$XS" "$H_PF_SMTP_PORT" 192.0.2.10 mail.pass.example x@pass.example max@bns.school.example)
t_match "SMTP: SPF pass accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count mx 1
t_match "... with Received-SPF: pass" '^Received-SPF: pass ' "$(cat "$(h_sink_last mx)")"

# DNS outage
h_stop_dns
t_match "DNS down: temperror defers with 451 4.7.24" '^451 4\.7\.24 SPF temperror' \
    "$(pc client_address=192.0.2.10 sender=c@late.example $R instance=d1)"
r=$(python3 "$XS" "$H_PF_SMTP_PORT" 192.0.2.10 mail.pass.example y@late2.example max@bns.school.example)
t_match "SMTP with DNS down: deferred, not bounced" '^RCPT 451 4\.7\.24 ' "$r"
h_start_dns "$H_DIR/zone"
t_wait "DNS back: pass again" 5 bash -c "python3 $PC $PORT client_address=192.0.2.10 sender=d@late.example $R instance=d2 | grep -q '^PREPEND Received-SPF: pass'"
t_summary
