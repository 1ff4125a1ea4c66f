#!/bin/bash
# milter-sec.sh - postern-milter against a hostile client and a careless
# setup, through a real Postfix (issue 15, items 4 and 5, and "the milter
# cannot run without LDAP"):
#   - no group_domains and slapd stopped: nothing waits for LDAP; inbound
#     mail (even to an address that would be a group) is accepted and gets
#     its Authentication-Results (a signed message: dkim=pass, keys from a
#     private DNS server), authenticated mail is signed;
#   - DKIM signing only for a From: the login owns (lib/sendas.h: the login
#     itself in any spelling, alias domains, a sender_grants row, an alias
#     whose only target is the login's mailbox; with LDAP in use the login's
#     directory addresses): a pupil with From: Schulleitung <head@...> and
#     an ISP customer with From: admin@other-tenant get 550 5.7.1 and no
#     signature with another tenant's key; several From addresses, several
#     From fields and a display name that looks like an address are never
#     signed; unowned_from = unsigned passes them unsigned;
#   - SQL or LDAP down while the From must be checked: 451, never a wrong
#     signature or a bounce;
#   - forged Authentication-Results claiming our authserv-id are removed
#     however they are written (comments nested deeper than any fixed
#     limit, quoted, upper case, a version, folded, several instances) and
#     the others stay.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

ID=mx.test.example

# --- keys for three domains (and the school's alias domain) -------------------
KDIR=$MDIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
: > "$KDIR/zone"
for d in bns.school.example bns-schule.example kunde1.example kunde2.example; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KDIR/$d.key" 2>/dev/null
    chmod 644 "$KDIR/$d.key"
    pub=$(openssl pkey -in "$KDIR/$d.key" -pubout -outform DER 2>/dev/null | base64 -w0)
    printf 's1._domainkey.%s. IN TXT "v=DKIM1; k=rsa; p=%s"\n' "$d" "$pub" >> "$KDIR/zone"
done

h_sql "
INSERT INTO domains (name, kind) VALUES ('bns.school.example', 'local'),
  ('kunde1.example', 'local'), ('kunde2.example', 'local');
INSERT INTO domains (name, kind, alias_target) VALUES
  ('bns-schule.example', 'alias', 'bns.school.example');
INSERT INTO mailboxes (local_part, domain) VALUES
  ('max.schueler', 'bns.school.example'), ('head', 'bns.school.example'),
  ('sekretariat', 'bns.school.example'), ('customer', 'kunde1.example'),
  ('admin', 'kunde2.example');
INSERT INTO aliases (domain, local_part, target) VALUES
  ('kunde1.example', 'info', 'customer@kunde1.example');
INSERT INTO sender_grants (login, match_type, pattern) VALUES
  ('sekretariat@bns.school.example', 'address', 'head@bns.school.example');
INSERT INTO dkim_keys (domain, selector, key_path) VALUES
  ('bns.school.example', 's1', '$KDIR/bns.school.example.key'),
  ('bns-schule.example', 's1', '$KDIR/bns-schule.example.key'),
  ('kunde1.example', 's1', '$KDIR/kunde1.example.key'),
  ('kunde2.example', 's1', '$KDIR/kunde2.example.key');
" || t_fail "the SQL rows load"

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
sys.exit(0 if dkim.verify(msg, dnsfunc=dnsfunc) else 1)
EOF
verify() { "$H_PYTHON" "$MDIR/verify.py" "$KDIR/zone" "$(h_sink_last smarthost)"; }
sig() { sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$(h_sink_last smarthost)" | sed '$d' | tr -d ' \t\n'; }
log() { cat "$MDIR/milter.log"; }

# msg FILE HEADER... : a message with these header lines and a short body
msg() {
    local f=$1
    shift
    {
        for h in "$@"; do printf '%s\n' "$h"; done
        printf 'To: someone@example.net\nSubject: test\nDate: Fri, 04 Dec 2026 10:00:00 +0000\n'
        printf 'Message-ID: <%s@client.test.example>\n\ntest message\n' "$(basename "$f")"
    } > "$f"
}
# asend LOGIN ENVFROM FILE : authenticated submission of FILE
asend() {
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth "$1:test" --from "$2" \
        --to someone@example.net --data "$3")
}

# --- signing and A-R, LDAP in use (group_domains set) ------------------------------
milter_conf "$MDIR/postern.conf" "authserv_id = $ID" "group_domains = groups.invalid"
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

# the owner's own From, any spelling
msg "$MDIR/own1" "From: Max <max.schueler@bns.school.example>"
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/own1"; n=$((n + 1))
t_match "own From: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed as the school" 'd=bns\.school\.example' "$(sig)"
t_ok "... the signature verifies" verify

msg "$MDIR/own2" 'From: "Schueler, Max" <"MAX.Schueler+abc"@BNS.School.Example.>'
asend Max.Schueler@bns.school.example max.schueler@bns.school.example "$MDIR/own2"; n=$((n + 1))
t_match "own From in another spelling (case, quotes, +ext, root dot): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed" 'd=bns\.school\.example' "$(sig)"

msg "$MDIR/own3" "From: max.schueler@bns-schule.example (Max)"
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/own3"; n=$((n + 1))
t_match "own From in the alias domain: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed with the alias domain's own key" 'd=bns-schule\.example' "$(sig)"
t_ok "... the signature verifies" verify

# a pupil as the head of school
msg "$MDIR/head" "From: Schulleitung <head@bns.school.example>"
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/head"
t_match "pupil with From: Schulleitung <head@...>: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
t_match "... logged with the login and the address" \
    "action=reject check=from rule=- client=[^ ]+ from=<max.schueler@bns.school.example> to=<> login=max.schueler@bns.school.example: From: <head@bns.school.example> is not an address of login" "$(log)"
msg "$MDIR/head2" "From: Schulleitung <HEAD+x@bns-schule.example>"
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/head2"
t_match "... also in another spelling of the head's address" '^DATA 550 5\.7\.1 ' "$r"

# a granted address
asend sekretariat@bns.school.example sekretariat@bns.school.example "$MDIR/head"; n=$((n + 1))
t_match "granted address (sender_grants): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed as the school" 'd=bns\.school\.example' "$(sig)"
t_ok "... the signature verifies" verify

# ISP tenants
msg "$MDIR/tenant" "From: admin@kunde2.example"
asend customer@kunde1.example customer@kunde1.example "$MDIR/tenant"
t_match "customer of tenant 1 with From: admin@tenant 2: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
msg "$MDIR/tenant2" 'From: "customer@kunde1.example" <admin@kunde2.example>'
asend customer@kunde1.example customer@kunde1.example "$MDIR/tenant2"
t_match "... with the own address as display name: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
msg "$MDIR/tenant3" "From: customer@kunde1.example, admin@kunde2.example"
asend customer@kunde1.example customer@kunde1.example "$MDIR/tenant3"
t_match "... two From addresses: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
msg "$MDIR/tenant4" "From: customer@kunde1.example" "From: admin@kunde2.example"
asend customer@kunde1.example customer@kunde1.example "$MDIR/tenant4"
t_match "... two From fields: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
t_not "no message ever left with tenant 2's key" grep -rlq 'd=kunde2\.example' "$H_SINK_SMARTHOST_DIR"
msg "$MDIR/alias" "From: Info <info@kunde1.example>"
asend customer@kunde1.example customer@kunde1.example "$MDIR/alias"; n=$((n + 1))
t_match "the login's alias (one target, its mailbox): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed as tenant 1" 'd=kunde1\.example' "$(sig)"
t_ok "... the signature verifies" verify

# --- forged Authentication-Results ---------------------------------------------
deep="(((((((((((((((((((((((((((((((((forged)))))))))))))))))))))))))))))))))"
{
    printf 'Authentication-Results: %s %s; dkim=pass header.d=bank.example\n' "$deep" "$ID"
    printf 'Authentication-Results: "MX.TEST.EXAMPLE" 1; spf=pass smtp.mailfrom=boss@bank.example\n'
    printf 'Authentication-Results: (a (b \\) c)\n\t(d)) Mx.Test.Example\n\t; dmarc=pass header.from=bank.example\n'
    printf 'Authentication-Results: other.example; spf=fail smtp.mailfrom=x@y.example (%s)\n' "$ID"
    printf 'Authentication-Results: %s.evil; none\n' "$ID"
    printf 'Authentication-Results: %s/x; arc=pass\n' "$ID"
    printf 'From: boss@bank.example\nTo: someone@example.net\nSubject: forged\n\ntest message\n'
} > "$MDIR/forged"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from boss@bank.example --to someone@example.net \
    --data "$MDIR/forged"); n=$((n + 1))
t_match "forged Authentication-Results: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
ar=$(sed -n '/^$/q;p' "$(h_sink_last smarthost)" | sed -e ':a' -e 'N;$!ba' -e 's/\n[ \t]\+/ /g' | grep -i '^Authentication-Results:')
t_eq "... no forged result survives (nested 33 deep, quoted, upper case, version, folded, tspecial)" \
    0 "$(printf '%s\n' "$ar" | grep -c -e bank.example -e arc=pass)"
t_eq "... the two foreign ones and ours remain" 3 "$(printf '%s\n' "$ar" | grep -c .)"
t_match "... ours is at the top" "^Authentication-Results: $ID;" "$(printf '%s\n' "$ar" | head -n 1)"
t_match "... other.example stays" "^Authentication-Results: other\.example; spf=fail" \
    "$(printf '%s\n' "$ar" | grep other.example)"
t_match "... $ID.evil stays" "^Authentication-Results: $ID\.evil; none" \
    "$(printf '%s\n' "$ar" | grep evil)"
t_match "... the removal is logged" "removed 4 Authentication-Results header\(s\) claiming authserv-id $ID" "$(log)"

# an authenticated submission gets the same cleaning
cp "$MDIR/forged" "$MDIR/forged-auth"
sed -i 's/^From: boss@bank.example$/From: customer@kunde1.example/' "$MDIR/forged-auth"
asend customer@kunde1.example customer@kunde1.example "$MDIR/forged-auth"; n=$((n + 1))
t_match "forged A-R in an authenticated submission: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... the forged ones are gone there too" 0 \
    "$(grep -c -e 'bank\.example' -e 'arc=pass' "$(h_sink_last smarthost)")"
t_ok "... and it is signed and verifies" verify

# --- unowned_from = unsigned ----------------------------------------------------
stop_milter
milter_conf "$MDIR/unsigned.conf" "authserv_id = $ID" "unowned_from = unsigned"
start_milter "$MDIR/unsigned.conf"
t_ok "milter restarts with unowned_from = unsigned" milter_up
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/head"; n=$((n + 1))
t_match "unowned_from = unsigned: the pupil's From: head@ passes" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... unsigned" "" "$(sig)"
t_match "... logged" "login=max.schueler@bns.school.example: From: <head@bns.school.example> is not an address of login max.schueler@bns.school.example: passes unsigned" "$(log)"
asend customer@kunde1.example customer@kunde1.example "$MDIR/tenant3"; n=$((n + 1))
t_ok "... two From addresses pass too" h_wait_sink_count smarthost $n
t_eq "... unsigned" "" "$(sig)"

# --- LDAP in use: the login's directory addresses --------------------------------
stop_milter
start_milter "$MDIR/postern.conf"
t_ok "milter restarts with group_domains set (LDAP in use)" milter_up
asend max.schueler max.schueler@bns.school.example "$MDIR/own1"; n=$((n + 1))
t_match "uid login, its LDAP address as From: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed" 'd=bns\.school\.example' "$(sig)"
asend max.schueler max.schueler@bns.school.example "$MDIR/own3"; n=$((n + 1))
t_ok "... its address in the alias domain: delivered" h_wait_sink_count smarthost $n
t_match "... signed" 'd=bns-schule\.example' "$(sig)"
asend max.schueler max.schueler@bns.school.example "$MDIR/head"
t_match "uid login with From: head@: 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
h_stop_slapd
asend max.schueler max.schueler@bns.school.example "$MDIR/own1"
t_match "slapd stopped, the From needs LDAP: 451, never a wrong answer" '^DATA 451 4\.3\.0 ' "$r"
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/own1"; n=$((n + 1))
t_match "slapd stopped, the login is the From: no LDAP needed, accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed" 'd=bns\.school\.example' "$(sig)"

# --- SQL down while the From must be checked -----------------------------------------
h_stop_mariadb
asend sekretariat@bns.school.example sekretariat@bns.school.example "$MDIR/head"
t_match "database stopped: 451, not a refusal" '^DATA 451 4\.3\.0 ' "$r"
h_restart_mariadb

# --- no group_domains, slapd stopped -------------------------------------------
stop_milter
milter_conf "$MDIR/noldap.conf" "authserv_id = $ID"
h_start_dns "$KDIR/zone"   # the public keys, for verifying inbound mail
h_with_resolver "$MILTER" -f -c "$MDIR/noldap.conf" </dev/null >> "$MDIR/milter.log" 2>&1 &
MPID=$!
h_track_pid "$MPID"
t_ok "milter restarts without group_domains, slapd still stopped" milter_up

send outsider@example.org plain@example.net; n=$((n + 1))
t_match "no LDAP: inbound mail accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... with our Authentication-Results (verification ran)" \
    "^Authentication-Results: $ID;" "$(grep -i '^Authentication-Results:' "$(h_sink_last smarthost)")"
send outsider@example.org 9a@bns.school.example; n=$((n + 1))
t_match "no LDAP: an address that would be a group is just an address" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to itself" "9a@bns.school.example " "$(rcpts)"
t_not "... and LDAP was never asked" grep -q "group lookup failed" "$MDIR/milter.log"

asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/own1"; n=$((n + 1))
t_match "no LDAP: an authenticated own From: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... signed" 'd=bns\.school\.example' "$(sig)"
t_ok "... the signature verifies" verify
asend max.schueler@bns.school.example max.schueler@bns.school.example "$MDIR/head"
t_match "no LDAP: the pupil's From: head@ still 550 5.7.1" '^DATA 550 5\.7\.1 ' "$r"
# the signed message comes back in from outside: verified
cp "$(h_sink_last smarthost)" "$MDIR/signed.eml"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from max.schueler@bns.school.example \
    --to someone@example.net --data "$MDIR/signed.eml"); n=$((n + 1))
t_match "no LDAP: a signed message from outside: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... its signature verified: dkim=pass" \
    "dkim=pass header\.d=bns\.school\.example header\.s=s1" \
    "$(sed -n '/^$/q;p' "$(h_sink_last smarthost)" | sed -e ':a' -e 'N;$!ba' -e 's/\n[ \t]\+/ /g' | grep -i "^Authentication-Results: $ID;")"
stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
h_restart_slapd
t_summary
