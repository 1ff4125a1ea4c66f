#!/bin/bash
# ldap-fresh.sh - issue 16, item 4: an LDAP membership change reaches
# postern-policyd and postern-milter within seconds, not at cache_ttl.
#
# slapd gets the sample school plus, bulk-loaded (h_slapadd), the staff
# group kollegium@ with 2,000 teachers, anna.lehrer and the nested group
# kollegium-extra (bernd.lehrer).  The policy group 'staff' is that LDAP
# group; parents accept mail only from staff (policyd, sender rules) and
# only staff may write to the class 9a (milter, group send rule).  Both
# daemons run with the default cache_ttl (60 s) and the default
# group_check_interval (5 s), and have the group cached when LDAP changes:
#   1. anna is removed from kollegium: policyd refuses her mail to a parent
#      and the milter her mail to 9a within 15 s;
#   2. max.schueler is added to the nested group kollegium-extra: both let
#      him through within 15 s (a change below the group is seen too).
# (How many searches an expansion takes: tests/unit/lib/test_ldapgroup.c
# and bench/groups.)
# Before 2026-12-04 each change was seen only when the cache expired (61 s).
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

S="ou=bns,ou=schools,$H_LDAP_BASE"
ANNA="uid=anna.lehrer,cn=lehrer,cn=users,$S"
MAX="uid=max.schueler,cn=schueler,cn=users,$S"
KOLL="cn=kollegium,cn=groups,$S"
EXTRA="cn=kollegium-extra,cn=groups,$S"
"$H_PYTHON" - "$H_DIR/staff.ldif" "$S" <<'PY'
import sys
out, school = sys.argv[1], sys.argv[2]
c = "cn=kollegium-users,cn=users," + school
dns = []
with open(out, "w") as f:
    f.write("dn: %s\nobjectClass: organizationalRole\ncn: kollegium-users\n\n" % c)
    for i in range(2000):
        uid = "lehrkraft%04d" % i
        dn = "uid=%s,%s" % (uid, c)
        f.write("dn: %s\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n"
                "uid: %s\ncn: %s\nsn: %s\nmailPrimaryAddress: %s@bns.school.example\n\n"
                % (dn, uid, uid, uid, uid))
        dns.append(dn)
    extra = "cn=kollegium-extra,cn=groups," + school
    f.write("dn: %s\nobjectClass: groupOfNames\nobjectClass: extensibleObject\n"
            "cn: kollegium-extra\n" % extra)
    for attr in ("member", "uniqueMember"):
        f.write("%s: uid=bernd.lehrer,cn=lehrer,cn=users,%s\n" % (attr, school))
    f.write("\n")
    dns += ["uid=anna.lehrer,cn=lehrer,cn=users," + school, extra]
    f.write("dn: cn=kollegium,cn=groups,%s\nobjectClass: groupOfNames\n"
            "objectClass: extensibleObject\ncn: kollegium\n"
            "mailPrimaryAddress: kollegium@bns.school.example\n" % school)
    # each attribute's values together (slapadd -q, see milter-biggroup)
    for attr in ("member", "uniqueMember"):
        for dn in dns:
            f.write("%s: %s\n" % (attr, dn))
    f.write("\n")
PY
t_ok "2,000 teachers and the group kollegium are bulk-loaded" h_slapadd "$H_DIR/staff.ldif"

h_sql "
INSERT INTO domains (name, kind, alias_target) VALUES
  ('bns.school.example', 'local', NULL), ('eltern.school.example', 'local', NULL);
INSERT INTO policy_groups (name) VALUES ('staff'), ('parents');
INSERT INTO policy_group_members (group_id, member_type, value)
            SELECT id, 'ldap_group', 'kollegium@bns.school.example' FROM policy_groups WHERE name = 'staff'
  UNION ALL SELECT id, 'domain', 'eltern.school.example' FROM policy_groups WHERE name = 'parents';
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text) VALUES
  ('9a@bns.school.example', 'groups', 1, 'Only staff may write to this class');
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g WHERE g.name = 'staff';
INSERT INTO sender_rules (priority, name, sender_group_id, recipient_group_id, action, require_auth, reject_text)
  SELECT 10, 'parents-from-staff', s.id, t.id, 'permit', 1, NULL
    FROM policy_groups s, policy_groups t WHERE s.name = 'staff' AND t.name = 'parents'
  UNION ALL SELECT 20, 'parents-closed', NULL, t.id, 'reject', 0, 'Parent mailboxes accept mail only from school staff'
    FROM policy_groups t WHERE t.name = 'parents';
" || t_fail "the SQL rules load"

# --- the daemons: default cache_ttl (60 s) and group_check_interval (5 s) ---
{
    echo "[milter]"
    echo "listen = inet:127.0.0.1:$MPORT"
    echo "user = nobody"
    echo "connections = 4"
    echo "group_domains = bns.school.example"
    echo "poll_interval = 100ms"
    echo "[ldap]"
    echo "uri = $H_LDAP_URI"
    echo "base = $H_LDAP_BASE"
    echo "[database]"
    echo "hosts = 127.0.0.1:$H_DB_PORT"
    echo "password_file = $H_DB_PASSWORD_FILE"
    echo "connect_timeout = 1s"
} > "$MDIR/postern.conf"
start_milter "$MDIR/postern.conf"
t_ok "milter starts" milter_up

PP=$(h_free_port)
{
    echo "[policyd]"
    echo "listen = inet:127.0.0.1:$PP"
    echo "workers = 2"
    echo "poll_interval = 100ms"
    echo "checks = sender_rules"
    echo "ldap = yes"
    echo "[database]"
    echo "hosts = 127.0.0.1:$H_DB_PORT"
    echo "password_file = $H_DB_PASSWORD_FILE"
    echo "connect_timeout = 1s"
    echo "[ldap]"
    echo "uri = $H_LDAP_URI"
    echo "base = $H_LDAP_BASE"
} > "$H_DIR/policyd.conf"
"$BUILD/postern-policyd" -f -c "$H_DIR/policyd.conf" 2> "$H_DIR/policyd.log" &
h_track_pid $!
P=$(dirname "$0")/policy_client.py
pd_up() { [ "$(python3 "$P" "$PP" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 pd_up

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
EOF
sleep 0.5 # the milter's policy-group snapshot is loaded

# pd LOGIN - policyd's answer to LOGIN (logged in) writing to a parent
pd() {
    python3 "$P" "$PP" "sender=$1@bns.school.example" "sasl_username=$1" \
        recipient=eltern.mueller@eltern.school.example
}
pd_permits() { [ "$(pd "$1")" = DUNNO ]; }
pd_refuses() { pd "$1" | grep -q '^550 5\.7\.1 Parent mailboxes accept mail only from school staff$'; }
# milter_ok / milter_refused LOGIN - LOGIN's mail to the class 9a
milter_ok() { send_auth "$1" "$1@bns.school.example" 9a@bns.school.example; [[ "$r" == *"DATA 250 "* ]]; }
milter_refused() {
    send_auth "$1" "$1@bns.school.example" 9a@bns.school.example
    [[ "$r" == *"RCPT 550 5.7.1 Only staff may write to this class"* ]]
}

# by DEADLINE CMD... - CMD succeeds before the wall-clock second DEADLINE
# (h_wait_for counts tries, and a try through Postfix takes a while)
by() {
    local end=$1
    shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# --- before any change: both have the group cached -----------------------------
t_ok "policyd: anna (staff) -> a parent: permitted" pd_permits anna.lehrer
t_ok "policyd: bernd (staff through kollegium-extra) -> a parent: permitted" pd_permits bernd.lehrer
t_ok "policyd: max (a pupil) -> a parent: refused" pd_refuses max.schueler
t_ok "milter: anna -> 9a: accepted" milter_ok anna.lehrer
t_ok "milter: max -> 9a: refused" milter_refused max.schueler

# --- 1. a member removed ------------------------------------------------------------
ldapmodify -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >/dev/null <<EOF || t_fail "anna is removed in LDAP"
dn: $KOLL
changetype: modify
delete: member
member: $ANNA
-
delete: uniqueMember
uniqueMember: $ANNA
EOF
t0=$(date +%s)
t_ok "policyd refuses anna -> a parent within 15 s (cache_ttl 60 s)" by $((t0 + 15)) pd_refuses anna.lehrer
t_ok "milter refuses anna -> 9a within 15 s" by $((t0 + 15)) milter_refused anna.lehrer
h_log "removal seen after $(( $(date +%s) - t0 )) s"
t_ok "bernd is still staff" pd_permits bernd.lehrer

# --- 2. a member added to the nested group ------------------------------------------
ldapmodify -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >/dev/null <<EOF || t_fail "max is added in LDAP"
dn: $EXTRA
changetype: modify
add: member
member: $MAX
-
add: uniqueMember
uniqueMember: $MAX
EOF
t0=$(date +%s)
t_ok "policyd permits max (now staff, nested) -> a parent within 15 s" by $((t0 + 15)) pd_permits max.schueler
t_ok "milter accepts max -> 9a within 15 s" by $((t0 + 15)) milter_ok max.schueler
h_log "addition seen after $(( $(date +%s) - t0 )) s"
t_ok "anna stays refused" pd_refuses anna.lehrer
t_not "no LDAP group over a limit" grep -Eq 'over [0-9]+ (member addresses|nested groups)|nested deeper' "$H_DIR/policyd.log" "$MDIR/milter.log"
t_summary
