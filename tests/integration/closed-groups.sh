#!/bin/bash
# closed-groups.sh - issue 15, "Closed groups ... can be bypassed", items 1-3
# and "an authenticated null sender passes every per-login check", through
# a real Postfix (SASL: milter-auth.py, password "test") with
# postern-milter (group send rights) and postern-policyd (sender rules,
# rate limits), a real MariaDB and a real slapd:
#   1. nesting: a group without a rule of its own (alle-9 = 9a + 9b, and
#      alle-59 = alle-9 + 5a, two levels) does not deliver to protected
#      classes: every nested group's rule (SQL or LDAP attribute) applies;
#      policy groups nested in policy groups: a permit for the outer group
#      does not open a closed inner one;
#   2. spellings: upper case, +extension, quoted local part, trailing dot,
#      alias domain (bns-schule.example -> bns.school.example,
#      eltern-alias.example -> eltern.school.example) and combinations reach
#      neither the class address (milter) nor a protected pupil / parent
#      mailbox (policyd);
#   3. the login decides: a pupil who may only write inside the school
#      reaches nobody outside with MAIL FROM:<>, with another spelling of
#      their own address or with another pupil's; a rate limit keyed by
#      sender counts an authenticated null sender as the login.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

K="cn=klassen,cn=schueler,cn=groups,ou=bns,ou=schools,dc=school,dc=example"
G="cn=groups,ou=bns,ou=schools,dc=school,dc=example"
# alle-59: the nested group alle-9 (9a, 9b) and the class 5a, whose rule
# is an LDAP attribute: only teachers (the group lehrer@)
ldapmodify -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >/dev/null <<EOF || t_fail "the LDAP changes load"
dn: cn=bns-alle-59,$G
changetype: add
objectClass: groupOfNames
objectClass: extensibleObject
cn: bns-alle-59
mailPrimaryAddress: alle-59@bns.school.example
member: cn=bns-alle-9,$G
member: cn=bns-5a,$K
uniqueMember: cn=bns-alle-9,$G
uniqueMember: cn=bns-5a,$K

dn: cn=bns-5a,$K
changetype: modify
replace: description
description: group lehrer@bns.school.example
EOF

h_sql "
INSERT INTO domains (name, kind, alias_target) VALUES
  ('bns.school.example', 'local', NULL), ('eltern.school.example', 'local', NULL),
  ('bns-schule.example', 'alias', 'bns.school.example'),
  ('eltern-alias.example', 'alias', 'eltern.school.example');
INSERT INTO policy_groups (name) VALUES ('teachers'), ('parents'), ('staff'),
  ('young'), ('bns-school'), ('all-pupils'), ('rl-pupils');
INSERT INTO policy_group_members (group_id, member_type, value)
            SELECT id, 'ldap_group', 'lehrer@bns.school.example' FROM policy_groups WHERE name = 'teachers'
  UNION ALL SELECT id, 'domain', 'eltern.school.example' FROM policy_groups WHERE name = 'parents'
  UNION ALL SELECT id, 'ldap_group', 'lehrer@bns.school.example' FROM policy_groups WHERE name = 'staff'
  UNION ALL SELECT id, 'ldap_group', 'cn=bns-5a,$K' FROM policy_groups WHERE name = 'young'
  UNION ALL SELECT id, 'domain', 'bns.school.example' FROM policy_groups WHERE name = 'bns-school'
  UNION ALL SELECT id, 'group', 'young' FROM policy_groups WHERE name = 'all-pupils'
  UNION ALL SELECT id, 'address', 'lena.schueler@bns.school.example' FROM policy_groups WHERE name = 'all-pupils'
  UNION ALL SELECT id, 'address', 'lena.schueler@bns-schule.example' FROM policy_groups WHERE name = 'rl-pupils';
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text) VALUES
  ('9a@bns.school.example', 'groups', 1, 'Only teachers may write to this class'),
  ('9b@bns.school.example', 'groups', 1, 'Only teachers may write to 9b');
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g WHERE g.name = 'teachers';
INSERT INTO sender_rules (priority, name, sender_group_id, recipient_group_id, action, require_auth, reject_text)
  SELECT r.priority, r.name, s.id, t.id, r.action, r.auth, r.txt FROM (
              SELECT 10 AS priority, 'parents-from-parents' AS name, 'parents' AS sg, 'parents' AS rg, 'permit' AS action, 1 AS auth, NULL AS txt
    UNION ALL SELECT 20, 'parents-from-staff', 'staff', 'parents', 'permit', 1, NULL
    UNION ALL SELECT 30, 'parents-closed', NULL, 'parents', 'reject', 0, 'Parent mailboxes accept mail only from parents and school staff'
    UNION ALL SELECT 35, 'newsletter', NULL, 'all-pupils', 'permit', 0, NULL
    UNION ALL SELECT 40, 'young-send-inside', 'young', 'bns-school', 'permit', 1, NULL
    UNION ALL SELECT 41, 'young-send-closed', 'young', NULL, 'reject', 0, 'Students of this class may only write to addresses of their school'
    UNION ALL SELECT 50, 'young-receive-inside', 'bns-school', 'young', 'permit', 1, NULL
    UNION ALL SELECT 51, 'young-receive-closed', NULL, 'young', 'reject', 0, 'This mailbox accepts mail only from its school'
  ) r LEFT JOIN policy_groups s ON s.name = r.sg LEFT JOIN policy_groups t ON t.name = r.rg;
INSERT INTO ratelimit_rules (name, key_type, group_id, counts, action, text, priority)
  SELECT 'pupil-sender', 'sender', id, 'messages', 'defer', 'Too many messages from this pupil', 10
  FROM policy_groups WHERE name = 'rl-pupils';
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 2 FROM ratelimit_rules WHERE name = 'pupil-sender';
" || t_fail "the SQL rules load"

# --- the daemons ----------------------------------------------------------------
milter_conf "$MDIR/postern.conf" "send_rule_attribute = description" \
    "group_domains = bns.school.example" "poll_interval = 100ms"
start_milter "$MDIR/postern.conf"
t_ok "milter starts" milter_up

PP=$(h_free_port)
{
    echo "[policyd]"
    echo "listen = inet:127.0.0.1:$PP"
    echo "workers = 2"
    echo "poll_interval = 100ms"
    echo "checks = sender_rules, ratelimit"
    echo "ldap = yes"
    echo "[database]"
    echo "hosts = 127.0.0.1:$H_DB_PORT"
    echo "password_file = $H_DB_PASSWORD_FILE"
    echo "connect_timeout = 1s"
    echo "[ldap]"
    echo "uri = $H_LDAP_URI"
    echo "base = $H_LDAP_BASE"
    echo "cache_ttl = 0"
} > "$H_DIR/policyd.conf"
"$BUILD/postern-policyd" -f -c "$H_DIR/policyd.conf" 2> "$H_DIR/policyd.log" &
h_track_pid $!
pd_up() { [ "$(python3 "$(dirname "$0")/policy_client.py" "$PP" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 pd_up

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$PP, permit
EOF
sleep 0.5 # the milter's and policyd's snapshots (alias domains) are loaded

T9A="Only teachers may write to this class"
# --- 1. nesting: a group without a rule over protected classes ------------------
send outsider@example.org alle-9@bns.school.example
t_match "alle-9 (no rule), outsider: 550 5.7.1 with 9a's text (was delivered)" \
    "^RCPT 550 5\.7\.1 $T9A" "$r"
t_match "... logged with the nested group" \
    'action=reject check=send_rights rule=- client=[^ ]+ from=<outsider@example.org> to=<alle-9@bns.school.example> login=-: not allowed to send to this group \(nested group 9a@bns.school.example\)' \
    "$(cat "$MDIR/milter.log")"
send_auth eltern.mueller@eltern.school.example eltern.mueller@eltern.school.example alle-9@bns.school.example
t_match "alle-9, a parent logged in: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
send_auth max.schueler max.schueler@bns.school.example alle-9@bns.school.example
t_match "alle-9, a pupil logged in: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example alle-9@bns.school.example; n=$((n + 1))
t_match "alle-9, a teacher (passes 9a's and 9b's rules): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to both classes" \
    "jonas.schueler@bns.school.example lena.schueler@bns.school.example max.schueler@bns.school.example " \
    "$(rcpts)"
send outsider@example.org alle-59@bns.school.example
t_match "alle-59 (alle-9 two levels down), outsider: 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$r"
send_auth tim.klein tim.klein@bns.school.example alle-59@bns.school.example
t_match "alle-59, a 5a pupil: 550 5.7.1 (9a's rule, through alle-9)" '^RCPT 550 5\.7\.1 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example alle-59@bns.school.example; n=$((n + 1))
t_match "alle-59, a teacher (also passes 5a's LDAP rule): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to three classes" \
    "jonas.schueler@bns.school.example lena.schueler@bns.school.example max.schueler@bns.school.example tim.klein@bns.school.example " \
    "$(rcpts)"
h_sql "DELETE FROM group_send_allowed; DELETE FROM group_send_rules WHERE group_address = '9b@bns.school.example';
INSERT INTO group_send_rules (group_address, may_send, require_auth) VALUES ('9b@bns.school.example', 'members', 1);
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g WHERE g.name = 'teachers' AND r.may_send = 'groups';"
send_auth anna.lehrer anna.lehrer@bns.school.example alle-9@bns.school.example
t_match "9b now members only: the teacher is refused for alle-9 (every rule on the way)" \
    '^RCPT 550 5\.7\.1 You may not send to this group address' "$r"

# policy groups nested in policy groups: newsletter permits all-pupils, which
# holds the closed group young
P=$(dirname "$0")/policy_client.py
t_match "policyd: outsider -> lena (all-pupils, not young): permitted" '^DUNNO$' \
    "$(python3 "$P" "$PP" sender=x@example.org recipient=lena.schueler@bns.school.example)"
t_match "policyd: outsider -> tim (young, inside all-pupils): the inner rule refuses" \
    '^550 5\.7\.1 This mailbox accepts mail only from its school$' \
    "$(python3 "$P" "$PP" sender=x@example.org recipient=tim.klein@bns.school.example)"
t_match "... logged with the outer rule" \
    'sender rule young-receive-closed: reject from=<x@example.org> to=<tim.klein@bns.school.example> login=- \(nested in the group of rule newsletter\)' \
    "$(cat "$H_DIR/policyd.log")"
t_match "policyd: a teacher logged in -> tim: permitted (the inner group's permit)" '^DUNNO$' \
    "$(python3 "$P" "$PP" sender=anna.lehrer@bns.school.example sasl_username=anna.lehrer@bns.school.example recipient=tim.klein@bns.school.example)"

# --- 2. spellings ----------------------------------------------------------------
# spell LOCAL DOMAIN ALIAS: 13 spellings of one address, one per line
spell() {
    local l=$1 d=$2 a=$3 L D A
    L=$(echo "$l" | tr a-z A-Z); D=$(echo "$d" | tr a-z A-Z); A=$(echo "$a" | tr a-z A-Z)
    printf '%s\n' "$l@$d" "$L@$d" "$l@$D" "$l+x@$d" "\"$l\"@$d" "$l@$d." \
        "$l@$a" "$L@$a" "$l+x@$a" "\"$l+x\"@$a" "$l@$a." "\"$L\"@$A." "$L+Ext@$D."
}
mapfile -t S9A < <(spell 9a bns.school.example bns-schule.example)
for s in "${S9A[@]}"; do
    send outsider@example.org "$s"
    t_match "class address spelled <$s>, outsider: 550 5.7.1 (the group's rule)" \
        "^RCPT 550 5\.7\.1 $T9A" "$r"
done
send_auth anna.lehrer anna.lehrer@bns.school.example '"9A+x"@BNS-Schule.example.'; n=$((n + 1))
t_match "a teacher to <\"9A+x\"@BNS-Schule.example.>: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... expanded to the class, not sent to a placeholder mailbox" \
    "lena.schueler@bns.school.example max.schueler@bns.school.example " "$(rcpts)"

mapfile -t STIM < <(spell tim.klein bns.school.example bns-schule.example)
for s in "${STIM[@]}"; do
    send outsider@example.org "$s"
    t_match "protected pupil spelled <$s>, outsider: 550 5.7.1" \
        '^RCPT 550 5\.7\.1 .*This mailbox accepts mail only from its school' "$r"
done
mapfile -t SPAR < <(spell eltern.mueller eltern.school.example eltern-alias.example)
for s in "${SPAR[@]}"; do
    send outsider@example.org "$s"
    t_match "parent mailbox spelled <$s>, outsider: 550 5.7.1" \
        '^RCPT 550 5\.7\.1 .*Parent mailboxes accept mail only' "$r"
done
send_auth anna.lehrer@bns.school.example anna.lehrer@bns.school.example '"Eltern.Mueller+x"@ELTERN-alias.example.'; n=$((n + 1))
t_match "a teacher logged in to a parent spelled oddly: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n

# --- 3. the login decides ----------------------------------------------------------
TY="Students of this class may only write to addresses of their school"
for f in "" "tim.klein@bns-schule.example" "TIM.KLEIN+x@bns.school.example" \
         '"tim.klein"@bns.school.example.' "max.schueler@bns.school.example"; do
    send_auth tim.klein@bns.school.example "$f" friend@example.net
    t_match "pupil tim (login) with MAIL FROM:<$f> to outside: 550 5.7.1" "^RCPT 550 5\.7\.1 .*$TY" "$r"
done
send_auth tim.klein "" friend@example.net
t_match "pupil tim (uid login, LDAP address) with MAIL FROM:<> to outside: 550 5.7.1" \
    "^RCPT 550 5\.7\.1 .*$TY" "$r"
t_match "... logged as the login's address" \
    'sender rule young-send-closed: reject from=<tim.klein@bns.school.example> \(null sender\) to=<friend@example.net> login=tim.klein' \
    "$(cat "$H_DIR/policyd.log")"
# (the header From: is the login's: the milter signs only what it owns)
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth tim.klein@bns.school.example:test --from "" \
    --to max.schueler@bns.school.example --data - <<EOF
From: tim.klein@bns.school.example
Subject: null sender inside

hello
EOF
); n=$((n + 1))
t_match "pupil tim with MAIL FROM:<> inside the school: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send_auth max.schueler max.schueler@bns.school.example friend@example.net; n=$((n + 1))
t_match "another pupil (no closed rule) to outside: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
send_auth max.schueler "" 9a@bns.school.example
t_match "milter: a pupil with MAIL FROM:<> to 9a: 550 5.7.1 (the login decides)" "^RCPT 550 5\.7\.1 $T9A" "$r"

# a rate limit keyed by sender (rl-pupils: lena, 2 per hour)
send_auth lena.schueler@bns.school.example lena.schueler@bns.school.example friend@example.net; n=$((n + 1))
t_match "rate limit by sender: message 1 accepted" '^DATA 250 ' "$r"
send_auth lena.schueler@bns.school.example LENA.Schueler+a@bns-schule.example friend@example.net; n=$((n + 1))
t_match "... message 2 (another spelling, the same key) accepted" '^DATA 250 ' "$r"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth lena.schueler@bns.school.example:test --from "" \
    --to friend@example.net --data - <<EOF
From: lena.schueler@bns.school.example
Subject: null sender

hello
EOF
)
t_match "... message 3 with MAIL FROM:<>: counted as the login, 450 4.7.1" \
    '^RCPT 450 4\.7\.1 .*Too many messages from this pupil' "$r"
t_ok "... the two accepted delivered" h_wait_sink_count smarthost $n

# --- a protected pupil reached through a group the milter expands ---------------
# ag-schach (a chess club: tim of the closed group young, and max) has no
# milter rule, so the milter would expand it for anyone; policyd applies
# the members' sender rules to the group address
U="cn=schueler,cn=users,ou=bns,ou=schools,dc=school,dc=example"
ldapadd -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >/dev/null <<EOF || t_fail "the chess club loads"
dn: cn=bns-ag-schach,$G
objectClass: groupOfNames
objectClass: extensibleObject
cn: bns-ag-schach
mailPrimaryAddress: ag-schach@bns.school.example
member: uid=tim.klein,$U
member: uid=max.schueler,$U
uniqueMember: uid=tim.klein,$U
uniqueMember: uid=max.schueler,$U
EOF
t_match "policyd: outsider -> ag-schach (holds tim of young): 550 5.7.1 with young's text" \
    '^550 5\.7\.1 This mailbox accepts mail only from its school$' \
    "$(python3 "$P" "$PP" sender=x@example.org recipient=Ag-Schach+x@bns-schule.example)"
t_match "... logged with the member and the group" \
    'sender rule young-receive-closed: reject from=<x@example.org> to=<tim.klein@bns.school.example> \(member of group ag-schach@bns.school.example\)' \
    "$(cat "$H_DIR/policyd.log")"
send outsider@example.org ag-schach@bns.school.example
t_match "through Postfix, outsider -> ag-schach: RCPT 550 5.7.1 (was delivered to tim)" \
    '^RCPT 550 5\.7\.1 ' "$r"
send_auth anna.lehrer anna.lehrer@bns.school.example ag-schach@bns.school.example; n=$((n + 1))
t_match "a teacher of the school -> ag-schach: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to both members" "max.schueler@bns.school.example tim.klein@bns.school.example " "$(rcpts)"
t_match "policyd: a group without a protected member (9b: jonas) raises no objection" '^DUNNO$' \
    "$(python3 "$P" "$PP" sender=x@example.org recipient=9b@bns.school.example)"
stop_milter; rc=$?
t_eq "milter: SIGTERM, exit status 0" 0 "$rc"
t_summary
