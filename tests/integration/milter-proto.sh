#!/bin/bash
# milter-proto.sh - protocol-level tests of postern-milter with miltertest(8)
# (Debian package miltertest): the Lua scripts in tests/milter/ play the MTA
# (connect, helo, MAIL with {auth_authen}, RCPT, headers, body, end of
# message) against the real milter, real slapd, real MariaDB and a private
# DNS server, and check the replies and the end-of-message actions:
#   expand.lua   group recipients replaced by their members (nested, once,
#                cycle, sender not copied)
#   rights.lua   refused senders at RCPT (550 5.7.1 in the log)
#   limits.lua   a signature that dkimverify (python3-dkim) accepts with the
#                key from the private DNS; max_headers / max_header_bytes
#                for signing, forged
#                Authentication-Results removed, ours at the top, 550 5.7.0
#                over the limit
#   ldapdown.lua slapd stopped: 451 4.4.3 at RCPT; then recovery
#   eomdown.lua  slapd stopped between RCPT and end of message: 451 4.4.3
# Each "ok - ..." / "not ok - ..." line of a script becomes one assertion.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
MTDIR=$(cd "$(dirname "$0")/../milter" && pwd)
if ! command -v miltertest >/dev/null; then
    t_fail "miltertest is installed (scripts/deps)"
    t_summary
    exit 1
fi
h_start_mariadb
h_sql_file sql/schema.sql
h_start_slapd

KDIR=$MDIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KDIR/bns.key" 2>/dev/null
chmod 644 "$KDIR/bns.key"
pub=$(openssl pkey -in "$KDIR/bns.key" -pubout -outform DER 2>/dev/null | base64 -w0)
h_start_dns "sender.example TXT v=spf1 ip4:192.0.2.10 -all" \
    "t1._domainkey.bns.school.example TXT v=DKIM1; k=rsa; p=$pub"

h_sql "
INSERT INTO domains (name, kind) VALUES ('bns.school.example', 'local');
INSERT INTO dkim_keys (domain, selector, algorithm, key_path)
  VALUES ('bns.school.example', 't1', 'rsa-sha256', '$KDIR/bns.key');
-- ldapdown/eomdown send as bernd.lehrer with slapd stopped: his From is
-- his by a send-as grant in SQL, so only the group decisions need LDAP
INSERT INTO sender_grants (login, match_type, pattern)
  VALUES ('bernd.lehrer', 'address', 'bernd.lehrer@bns.school.example');
INSERT INTO policy_groups (name) VALUES ('bns-teachers');
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'ldap_group', 'lehrer@bns.school.example' FROM policy_groups WHERE name = 'bns-teachers';
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text) VALUES
  ('9a@bns.school.example', 'groups', 1, 'Only teachers may write to this class'),
  ('lehrer@bns.school.example', 'members', 1, NULL);
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g
   WHERE r.group_address = '9a@bns.school.example' AND g.name = 'bns-teachers';
" || t_fail "the SQL rows load"

milter_conf "$MDIR/postern.conf" "group_domains = bns.school.example" \
    "max_headers = 10" "max_header_bytes = 1k" "authserv_id = mx.test.example" \
    "trusted_networks = 203.0.113.0/24"
h_with_resolver "$MILTER" -f -c "$MDIR/postern.conf" </dev/null >> "$MDIR/milter.log" 2>&1 &
MPID=$!
h_track_pid "$MPID"
t_ok "milter starts" milter_up

# mt NAME [-D VAR=VALUE ...] - run tests/milter/NAME.lua, output in $MDIR/NAME.out
mt() {
    local name=$1
    shift
    miltertest -D SOCKET="inet:$MPORT@127.0.0.1" -D DIR="$MTDIR" "$@" \
        -s "$MTDIR/$name.lua" > "$MDIR/$name.out" 2>&1
}
# report NAME RC - one assertion per "ok"/"not ok" line, and the exit status
report() {
    local name=$1 rc=$2 line
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) t_pass "$name: ${line#ok - }" ;;
            "not ok - "*) t_fail "$name: ${line#not ok - }" ;;
        esac
    done < "$MDIR/$name.out"
    [ "$rc" = 0 ] && t_pass "$name: miltertest exits 0" ||
        t_fail "$name: miltertest exits 0" "rc $rc: $(grep -v '^ok - ' "$MDIR/$name.out" | tail -n 3)"
}
log() { cat "$MDIR/milter.log"; }

mt expand; report expand $?
t_match "the expansion is logged with the queue ID" \
    'QEXP1: action=expand check=groups rule=- client=[^ ]+ from=<[^>]*> to=<alle-9@bns\.school\.example> login=[^ ]+: group expanded to 3 addresses' "$(log)"

mt rights; report rights $?
t_match "the refusal is logged with sender and login" \
    'QRIG1: action=reject check=send_rights rule=- client=[^ ]+ from=<max\.schueler@bns\.school\.example> to=<9a@bns\.school\.example> login=max\.schueler: not allowed' "$(log)"
t_match "a forged sender without login is refused" \
    'QRIG3: action=reject check=send_rights rule=- client=[^ ]+ from=<anna\.lehrer@bns\.school\.example> to=<9a@bns\.school\.example> login=-' "$(log)"

mt limits -D SIGNED="$MDIR/signed.eml"; report limits $?
# an independent verifier (python3-dkim's dkimverify) fetching the public
# key from the private DNS server, not from a file
vout=$(h_with_resolver /usr/bin/dkimverify < "$MDIR/signed.eml" 2>&1); vrc=$?
t_eq "dkimverify (key from the local zone over DNS) accepts the signature" \
    "0 signature ok" "$vrc $vout"
sed 's/^test message/tampered message/' "$MDIR/signed.eml" > "$MDIR/tampered.eml"
vout=$(h_with_resolver /usr/bin/dkimverify < "$MDIR/tampered.eml" 2>&1); vrc=$?
t_eq "dkimverify refuses a changed body: exit 1" 1 "$vrc"
t_match "... body hash mismatch" 'body hash mismatch|signature verification failed' "$vout"
t_eq "two messages over the header limits were not signed (logged)" 2 \
    "$(grep -c 'headers over max_headers/max_header_bytes: message not signed' "$MDIR/milter.log")"
t_match "the forged A-R headers were removed (logged)" \
    'QLIM4: removed 2 Authentication-Results header\(s\) claiming authserv-id mx\.test\.example' "$(log)"
t_match "too many forged A-R headers: rejected (logged)" \
    'QLIM5: more than 10 Authentication-Results headers claim our authserv-id: rejected' "$(log)"

h_stop_slapd
mt ldapdown; report ldapdown $?
t_match "LDAP down at RCPT: 451 logged" \
    'QLDP1: to=<9a@bns\.school\.example>: group lookup failed: .*\(451\)' "$(log)"
h_restart_slapd
mt expand; rc=$?
mv "$MDIR/expand.out" "$MDIR/expand-after-restart.out"
report expand-after-restart $rc

# LDAP gone between RCPT and end of message
rm -f "$MDIR/mark" "$MDIR/go"
mt eomdown -D MARK="$MDIR/mark" -D GO="$MDIR/go" &
EPID=$!
if h_wait_for 20 test -e "$MDIR/mark"; then
    h_stop_slapd
    touch "$MDIR/go"
fi
wait $EPID
report eomdown $?
t_match "LDAP down at end of message: the failed expansion is logged" \
    'QEOM1: to=<9a@bns\.school\.example>: group expansion failed: .*\(451\)' "$(log)"
h_restart_slapd

kill -TERM "$MPID" 2>/dev/null
wait "$MPID"
t_eq "SIGTERM: exit status 0" 0 $?
t_summary
