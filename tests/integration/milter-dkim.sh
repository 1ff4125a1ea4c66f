#!/bin/bash
# milter-dkim.sh - DKIM signing by postern-milter through a real Postfix:
#   - mail from an authenticated client whose From domain has a key in
#     dkim_keys leaves signed (relaxed/relaxed, rsa-sha256, From oversigned),
#     and the signature verifies with python3-dkim against the public key
#     (served by a DNS function reading a local zone file: no real DNS);
#   - a changed body fails that verification (the check is real);
#   - unauthenticated (inbound) mail is not signed; a trusted network is;
#   - a From the login does not own: 550 5.7.1 (the uid logins own their
#     LDAP addresses: group_domains = * puts LDAP in use; milter-sec.sh
#     tests the From rules); our domain without a key passes
#     unsigned with an error line (dkim_missing_key = pass) or gets 451
#     (tempfail);
#   - group expansion and signing in one message.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

# keys: readable by the milter's user (nobody) after the privilege drop
KDIR=$MDIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KDIR/bns.key" 2>/dev/null
chmod 644 "$KDIR/bns.key"
pub=$(openssl pkey -in "$KDIR/bns.key" -pubout -outform DER 2>/dev/null | base64 -w0)
printf 't2025._domainkey.bns.school.example. IN TXT "v=DKIM1; k=rsa; p=%s"\n' "$pub" > "$KDIR/zone"

h_sql "
INSERT INTO domains (name, kind) VALUES ('bns.school.example', 'local'), ('gym.school.example', 'local');
INSERT INTO dkim_keys (domain, selector, algorithm, key_path)
  VALUES ('bns.school.example', 't2025', 'rsa-sha256', '$KDIR/bns.key');
" || t_fail "the SQL rows load"

# verify FILE - python3-dkim with a DNS function reading the zone file
cat > "$MDIR/verify.py" <<'EOF'
import re, sys, dkim
zone = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\S+)\s+IN\s+TXT\s+"(.*)"', line)
    if m:
        zone[m.group(1).lower().encode()] = m.group(2).encode()
def dnsfunc(name, timeout=5):
    return zone.get(name.lower())
msg = re.sub(rb'\r?\n', b'\r\n', open(sys.argv[2], 'rb').read())
if len(sys.argv) > 3:
    msg = msg.replace(b'test message', b'tampered message')
sys.exit(0 if dkim.verify(msg, dnsfunc=dnsfunc) else 1)
EOF
verify() { "$H_PYTHON" "$MDIR/verify.py" "$KDIR/zone" "$@"; }
sig() { sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$(h_sink_last smarthost)" | sed '$d' | tr -d ' \t\n'; }

milter_conf "$MDIR/postern.conf" "trusted_networks = 192.0.2.0/24" "group_domains = *"
start_milter "$MDIR/postern.conf"
t_ok "milter starts" milter_up

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
EOF

send_auth anna.lehrer anna.lehrer@bns.school.example someone@example.net; n=$((n + 1))
t_match "authenticated, our domain: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... with a DKIM-Signature" 'd=bns\.school\.example' "$(sig)"
t_match "relaxed/relaxed" 'c=relaxed/relaxed' "$(sig)"
t_match "rsa-sha256, selector t2025" 'a=rsa-sha256.*s=t2025|s=t2025.*a=rsa-sha256' "$(sig)"
t_match "From is oversigned" 'h=[^;]*[Ff]rom:[^;]*[Ff]rom' "$(sig)"
t_ok "the signature verifies (python3-dkim, key from the zone file)" verify "$(h_sink_last smarthost)"
t_not "a changed body does not verify" verify "$(h_sink_last smarthost)" tamper
t_match "signing is logged" "action=sign check=dkim_sign .*: 1 DKIM signature\(s\) added" "$(cat "$MDIR/milter.log")"

send anna.lehrer@bns.school.example someone@example.net; n=$((n + 1))
t_match "unauthenticated (inbound) with our From: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... not signed" "" "$(sig)"

send_auth anna.lehrer anna@other.example someone@example.net
t_match "authenticated, a From the login does not own: 550 5.7.1 (milter-sec.sh has more)" \
    '^DATA 550 5\.7\.1 ' "$r"

send_auth paul.lehrer paul.lehrer@gym.school.example someone@example.net; n=$((n + 1))
t_match "our domain without a key: accepted (dkim_missing_key = pass)" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... unsigned" "" "$(sig)"
t_match "... with an error line" "no usable DKIM key for gym.school.example" "$(cat "$MDIR/milter.log")"

send_auth bernd.lehrer bernd.lehrer@bns.school.example 9a@bns.school.example; n=$((n + 1))
t_match "a class, authenticated teacher: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... expanded" "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"
t_ok "... and signed, verifiable" verify "$(h_sink_last smarthost)"

# a message with folded and repeated headers
cat > "$MDIR/folded.eml" <<'EOF'
From: Anna Lehrer <anna.lehrer@bns.school.example>
To: someone@example.net,
	other@example.net
Subject: a long subject line
  folded onto a second line
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <folded@client.test.example>
X-Extra: one
X-Extra: two

test message
with  two  spaces and trailing blanks   

EOF
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth anna.lehrer:test --from anna.lehrer@bns.school.example \
    --to someone@example.net --data "$MDIR/folded.eml"); n=$((n + 1))
t_ok "folded headers: delivered" h_wait_sink_count smarthost $n
t_ok "folded headers: the signature verifies" verify "$(h_sink_last smarthost)"

# dkim_missing_key = tempfail, trusted networks
stop_milter
milter_conf "$MDIR/tempfail.conf" "dkim_missing_key = tempfail" "trusted_networks = 127.0.0.1" \
    "group_domains = *"
start_milter "$MDIR/tempfail.conf"
t_ok "milter restarts (tempfail, trusted 127.0.0.1)" milter_up
send_auth paul.lehrer paul.lehrer@gym.school.example someone@example.net
t_match "our domain without a key, dkim_missing_key = tempfail: 451" '^DATA 451 4\.3\.0 ' "$r"
send anna.lehrer@bns.school.example someone@example.net; n=$((n + 1))
t_ok "trusted network, unauthenticated: delivered" h_wait_sink_count smarthost $n
t_ok "... signed and verifiable" verify "$(h_sink_last smarthost)"
stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_summary
