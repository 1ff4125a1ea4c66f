#!/bin/bash
# milter-rights.sh - who may send to a group, through a real Postfix with
# SASL (a Dovecot-protocol auth server, milter-auth.py; password "test"):
#   - SQL group_send_rules: groups (policy group with an LDAP group and an
#     address), members, authenticated, members with require_auth = 0;
#   - the SASL login decides, a forged envelope sender does not pass;
#   - refused senders get 550 5.7.1 with the rule's text at RCPT;
#   - an LDAP attribute rule when SQL has no row;
#   - policy groups nested 12 levels deep answer like postern-policyd
#     (a member), 17 levels deep (over PGROUP_NEST_MAX 16) are a LIMIT:
#     451 4.3.0 and a log line, never "not allowed";
#   - MariaDB down: 451 4.3.0; back: normal service.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

h_sql "
INSERT INTO domains (name, kind) VALUES ('bns.school.example', 'local');
INSERT INTO policy_groups (name) VALUES ('bns-teachers'), ('staff'), ('loop-a'), ('loop-b');
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'ldap_group', 'lehrer@bns.school.example' FROM policy_groups WHERE name = 'bns-teachers'
  UNION ALL SELECT id, 'address', 'extra.teacher@example.org' FROM policy_groups WHERE name = 'bns-teachers'
  UNION ALL SELECT id, 'group', 'loop-a' FROM policy_groups WHERE name = 'bns-teachers';
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'group', 'loop-b' FROM policy_groups WHERE name = 'loop-a'
  UNION ALL SELECT id, 'group', 'loop-a' FROM policy_groups WHERE name = 'loop-b'
  UNION ALL SELECT id, 'domain', '.staff.example' FROM policy_groups WHERE name = 'loop-b';
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text) VALUES
  ('9a@bns.school.example', 'groups', 1, 'Only teachers may write to this class'),
  ('9b@bns.school.example', 'members', 1, NULL),
  ('5a@bns.school.example', 'authenticated', 1, NULL),
  ('lehrer@bns.school.example', 'members', 0, 'Only teachers'),
  ('ag-robotics@bns.school.example', 'groups', 0, NULL),
  ('alle-9@bns.school.example', 'anyone', 1, NULL);
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g
   WHERE (r.group_address = '9a@bns.school.example' AND g.name = 'bns-teachers')
      OR (r.group_address = 'ag-robotics@bns.school.example' AND g.name = 'bns-teachers');
" || t_fail "the SQL rules load"

# a chain of policy groups deep-0 -> deep-1 -> ... -> deep-17, allowed to
# send to ag-robotics (require_auth 0); mid.sender is 12 levels below
# deep-0, deep.sender 17 (one more than PGROUP_NEST_MAX)
sql="INSERT INTO policy_groups (name) VALUES ('deep-0')"
for i in $(seq 1 17); do sql="$sql, ('deep-$i')"; done
h_sql "$sql;
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'group', CONCAT('deep-', CAST(SUBSTRING(name, 6) AS UNSIGNED) + 1)
  FROM policy_groups WHERE name LIKE 'deep-%' AND name <> 'deep-17';
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'address', 'deep.sender@example.org' FROM policy_groups WHERE name = 'deep-17'
  UNION ALL SELECT id, 'address', 'mid.sender@example.org' FROM policy_groups WHERE name = 'deep-12';
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g
   WHERE r.group_address = 'ag-robotics@bns.school.example' AND g.name = 'deep-0';
" || t_fail "the deep policy groups load"

# an LDAP rule for the cycle groups (no SQL row): members only
ldapmodify -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >/dev/null <<EOF
dn: cn=bns-zyklus-a,cn=groups,ou=bns,ou=schools,dc=school,dc=example
changetype: modify
add: description
description: members
EOF

milter_conf "$MDIR/postern.conf" "send_rule_attribute = description" \
    "group_domains = bns.school.example"
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

# --- groups: teachers (LDAP group lehrer@ inside a policy group) -------------
send outsider@example.org 9a@bns.school.example
t_match "9a, unauthenticated outsider: 550 5.7.1 with the rule's text" \
    '^RCPT 550 5\.7\.1 Only teachers may write to this class' "$r"
send anna.lehrer@bns.school.example 9a@bns.school.example
t_match "9a, unauthenticated but a teacher's envelope sender: refused (require_auth)" \
    '^RCPT 550 5\.7\.1 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example 9a@bns.school.example; n=$((n + 1))
t_match "9a, teacher logged in by uid: accepted" '^DATA 250 ' "$r"
t_ok "... and expanded" h_wait_sink_count smarthost $n
t_eq "... to the class" "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"
send_auth max.schueler@bns.school.example anna.lehrer@bns.school.example 9a@bns.school.example
t_match "9a, student logged in with a forged teacher envelope: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
t_match "the refusal is logged with the login" \
    "action=reject check=send_rights rule=- client=[^ ]+ from=<anna.lehrer@bns.school.example> to=<9a@bns.school.example> login=max.schueler@bns.school.example" \
    "$(cat "$MDIR/milter.log")"
send_auth extra.teacher@example.org extra.teacher@example.org 9a@bns.school.example; n=$((n + 1))
t_match "9a, a login listed by address in the policy group: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send_auth someone@x.staff.example someone@x.staff.example 9a@bns.school.example; n=$((n + 1))
t_match "9a, .domain member of a nested policy group (with a cycle): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send_auth someone@staff.example someone@staff.example 9a@bns.school.example
t_match "9a, the parent domain of .staff.example: refused" '^RCPT 550 5\.7\.1 ' "$r"

# --- members -----------------------------------------------------------------
send_auth jonas.schueler jonas.schueler@bns.school.example 9b@bns.school.example; n=$((n + 1))
t_match "9b (members), a member: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send_auth max.schueler max.schueler@bns.school.example 9b@bns.school.example
t_match "9b (members), another class's student: 550 5.7.1 with the default text" \
    '^RCPT 550 5\.7\.1 You may not send to this group address' "$r"
send bernd.lehrer@bns.school.example lehrer@bns.school.example; n=$((n + 1))
t_match "lehrer@ (members, require_auth 0): envelope sender of a member passes" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to the other teacher only" "anna.lehrer@bns.school.example " "$(rcpts)"
send max.schueler@bns.school.example lehrer@bns.school.example
t_match "lehrer@, a student's envelope: 550 5.7.1" '^RCPT 550 5\.7\.1 Only teachers' "$r"

# --- authenticated, anyone, LDAP rule ----------------------------------------------
send outsider@example.org 5a@bns.school.example
t_match "5a (authenticated), unauthenticated: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
send_auth paul.lehrer@gym.school.example paul.lehrer@gym.school.example 5a@bns.school.example; n=$((n + 1))
t_match "5a (authenticated), any login: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send outsider@example.org alle-9@bns.school.example
t_match "alle-9 (anyone, but it nests 9a: teachers only): 550 5.7.1, 9a's rule applies" \
    '^RCPT 550 5\.7\.1 Only teachers may write to this class' "$r"
send_auth tim.klein tim.klein@bns.school.example zyklus-a@bns.school.example
t_match "zyklus-a (LDAP rule: members), a non-member: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
send_auth bernd.lehrer bernd.lehrer@bns.school.example zyklus-a@bns.school.example; n=$((n + 1))
t_match "zyklus-a (LDAP rule), a member through the nested group: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send outsider@example.org zyklus-b@bns.school.example
t_match "zyklus-b (no rule, nests zyklus-a: members), outsider: 550 5.7.1" \
    '^RCPT 550 5\.7\.1 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example zyklus-b@bns.school.example; n=$((n + 1))
t_match "zyklus-b, a member of zyklus-a: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n

# --- policy groups nested deeply: the same answers as postern-policyd --------------
send mid.sender@example.org ag-robotics@bns.school.example; n=$((n + 1))
t_match "ag-robotics, a sender 12 policy-group levels deep: accepted (was 451)" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send deep.sender@example.org ag-robotics@bns.school.example
t_match "ag-robotics, a sender 17 levels deep: LIMIT, 451 4.3.0 (never 550)" \
    '^RCPT 451 4\.3\.0 ' "$r"
t_match "... logged as a limit" \
    'to=<ag-robotics@bns.school.example>: send rights: a group is over a limit: policy groups nested deeper than 16' \
    "$(cat "$MDIR/milter.log")"
send outsider@example.org ag-robotics@bns.school.example
t_match "ag-robotics, a sender in no group: LIMIT too (cannot tell), 451 4.3.0" \
    '^RCPT 451 4\.3\.0 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example ag-robotics@bns.school.example; n=$((n + 1))
t_match "ag-robotics, a teacher (another allowed group): accepted, the hit wins" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n

# --- database down --------------------------------------------------------------
h_stop_mariadb
send_auth anna.lehrer anna.lehrer@bns.school.example 9a@bns.school.example
t_match "MariaDB stopped: 451 4.3.0 at RCPT" '^RCPT 451 4\.3\.0 ' "$r"
send outsider@example.org plain@example.net; n=$((n + 1))
t_match "MariaDB stopped: other mail flows" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
h_restart_mariadb
send_auth anna.lehrer anna.lehrer@bns.school.example 9a@bns.school.example; n=$((n + 1))
t_match "MariaDB back: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_summary
