#!/bin/bash
# dirsync.sh - issue 13: postern-dirsync keeps SQL in step with a real
# slapd (syncprov, RFC 4533) and MariaDB.
#
# On the sample school directory (tests/harness/ldap/school.ldif):
#   1. one full pass (postern-dirsync once): every person with an address
#      in a local domain is a mailbox owned by 'ldap' and keyed by its
#      entryUUID, alternative addresses are aliases, groups with an address
#      are directory_groups rows, roles make policy-group members, UCS send
#      restrictions a group send rule; an SQL mailbox is never touched, an
#      address an SQL row holds is a logged conflict;
#   2. the daemon (refreshAndPersist): a new person is a mailbox within
#      seconds; an account moved to another school OU keeps its row and
#      Maildir; a changed primary address renames the row, keeps the Maildir
#      and keeps the old address as an alias; a deleted person is leaving
#      (grace period) within seconds; a person made again is active again
#      with the same mailbox; a deleted group's row goes;
#   3. safety: the directory unreachable, a wrong base DN and an empty
#      subtree close nobody; a pass that would move more than the guard
#      allows is held (directory_guard) until an admin confirms.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
DS="$BUILD/postern-dirsync"
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "INSERT INTO domains (name, kind) VALUES ('school.example', 'local'),
  ('bns.school.example', 'local'), ('gym.school.example', 'local'),
  ('eltern.school.example', 'local');
INSERT INTO mailboxes (local_part, domain, display_name) VALUES
  ('admin', 'school.example', 'SQL-owned'), ('tim.klein', 'bns.school.example', 'SQL-owned Tim');"
h_start_slapd
S="ou=bns,ou=schools,$H_LDAP_BASE"
printf '%s' "$H_LDAP_BINDPW" > "$H_DIR/ldap.pw"
lmod() { ldapmodify -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" "$@" >> "$H_DIR/ldapmodify.log" 2>&1; }

# roles and a UCS send restriction on 9b
lmod <<EOF
dn: uid=anna.lehrer,cn=lehrer,cn=users,$S
changetype: modify
add: ucsschoolRole
ucsschoolRole: teacher:school:bns

dn: uid=eltern.mueller,cn=eltern,cn=users,$S
changetype: modify
add: ucsschoolRole
ucsschoolRole: parent:school:bns

dn: uid=bernd.lehrer,cn=lehrer,cn=users,$S
changetype: modify
add: mailForwardAddress
mailForwardAddress: Bernd@Privat.example.
-
add: mailForwardCopyToSelf
mailForwardCopyToSelf: 0
-
add: univentionMailUserQuota
univentionMailUserQuota: 512

dn: cn=bns-9b,cn=klassen,cn=schueler,cn=groups,$S
changetype: modify
add: univentionAllowedEmailUsers
univentionAllowedEmailUsers: uid=anna.lehrer,cn=lehrer,cn=users,$S
EOF

conf() { # conf FILE [BASE]
    cat > "$1" <<CONF
[directory]
base = ${2:-$H_LDAP_BASE}
grace_period = 1h
reminder_before = 10m
transition_period = 30d
max_leave_share = 20
max_leave_floor = 2
full_sync_interval = 1h
retry_interval = 500ms
lifecycle_interval = 1h
disabled_attribute = description
disabled_value = gesperrt
[ldap]
uri = $H_LDAP_URI
bind_dn = $H_LDAP_BINDDN
password_file = $H_DIR/ldap.pw
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
CONF
}
conf "$H_DIR/ds.conf"
persons=$(h_ldapsearch "(&(objectClass=inetOrgPerson)(mailPrimaryAddress=*))" dn | grep -c '^dn:')
groups=$(h_ldapsearch "(&(objectClass=groupOfNames)(mailPrimaryAddress=*))" dn | grep -c '^dn:')

# --- 1. a full pass ---------------------------------------------------------
t_ok "postern-dirsync -t: the configuration is valid" "$DS" -t -c "$H_DIR/ds.conf"
"$DS" -f -c "$H_DIR/ds.conf" once > "$H_DIR/once1.out" 2> "$H_DIR/once1.log"
t_eq "once: exit 0" 0 $?
h_log "$(grep 'full pass' "$H_DIR/once1.log")"
t_eq "every person but the SQL-owned address is an ldap mailbox" $((persons - 1)) \
    "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'")"
t_match "... keyed by entryUUID, the DN kept for admins" \
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}	uid=anna.lehrer,cn=lehrer" \
    "$(h_sql "SELECT dir_uuid, dir_dn FROM mailboxes WHERE address = 'anna.lehrer@bns.school.example'")"
t_eq "the display name comes from the directory" "Anna Lehrer" \
    "$(h_sql "SELECT display_name FROM mailboxes WHERE address = 'anna.lehrer@bns.school.example'")"
t_eq "the alternative address is an alias to the mailbox" "anna.lehrer@bns.school.example	ldap" \
    "$(h_sql "SELECT target, owner FROM aliases WHERE source = 'a.lehrer@bns.school.example'")"
t_eq "a forward is an alias from the mailbox (canonical target; CopyToSelf 0: no copy)" \
    "bernd@privat.example	0	ldap" \
    "$(h_sql "SELECT target, keep_copy, owner FROM aliases WHERE source = 'bernd.lehrer@bns.school.example'")"
t_eq "the quota comes from univentionMailUserQuota (MiB)" "$((512 * 1048576))" \
    "$(h_sql "SELECT quota_bytes FROM mailboxes WHERE address = 'bernd.lehrer@bns.school.example'")"
t_eq "the SQL mailbox with a directory address is untouched" "sql	SQL-owned Tim	NULL" \
    "$(h_sql "SELECT owner, display_name, IFNULL(dir_uuid, 'NULL') FROM mailboxes WHERE address = 'tim.klein@bns.school.example'")"
t_match "... and the conflict is logged" "tim.klein@bns.school.example belongs to an SQL mailbox" \
    "$(cat "$H_DIR/once1.log")"
t_eq "the SQL mailbox outside the directory is untouched" "sql	active" \
    "$(h_sql "SELECT owner, state FROM mailboxes WHERE address = 'admin@school.example'")"
t_eq "every group with an address is a directory_groups row" "$groups" \
    "$(h_sql "SELECT COUNT(*) FROM directory_groups")"
t_eq "... 9a among them" "cn=bns-9a,cn=klassen,cn=schueler,cn=groups,$S" \
    "$(h_sql "SELECT dn FROM directory_groups WHERE address = '9a@bns.school.example'")"
t_eq "roles make policy-group members (teacher -> teachers, parent -> parents)" \
    "parents eltern.mueller@eltern.school.example
teachers anna.lehrer@bns.school.example" \
    "$(h_sql "SELECT CONCAT(g.name, ' ', m.value) FROM policy_group_members m JOIN policy_groups g ON g.id = m.group_id WHERE m.owner = 'ldap' AND m.member_type = 'address' AND g.name NOT LIKE 'dir-send-%' ORDER BY 1")"
t_eq "the UCS send restriction of 9b is a group send rule" "groups	ldap" \
    "$(h_sql "SELECT may_send, owner FROM group_send_rules WHERE group_address = '9b@bns.school.example'")"
t_eq "... that lets anna (the allowed user) send" "anna.lehrer@bns.school.example" \
    "$(h_sql "SELECT m.value FROM group_send_rules r JOIN group_send_allowed a ON a.rule_id = r.id
        JOIN policy_group_members m ON m.group_id = a.policy_group_id WHERE r.group_address = '9b@bns.school.example'")"
t_eq "directory_log: one 'new' row per account" $((persons - 1)) \
    "$(h_sql "SELECT COUNT(*) FROM directory_log WHERE old_state IS NULL AND new_state = 'active'")"
"$DS" -f -c "$H_DIR/ds.conf" once 2> "$H_DIR/once2.log"
t_eq "a second pass changes nothing" "$((persons - 1)) 0" \
    "$(h_sql "SELECT COUNT(*) FROM directory_log WHERE new_state = 'active'") $(h_sql "SELECT COUNT(*) FROM directory_log WHERE new_state <> 'active'")"

# --- 2. the daemon ------------------------------------------------------------
"$DS" -f -v -c "$H_DIR/ds.conf" 2> "$H_DIR/daemon.log" &
DPID=$!
h_track_pid $DPID
t_wait "the daemon finished its refresh" 20 grep -q "full pass in" "$H_DIR/daemon.log"

lmod <<EOF
dn: uid=neu.schueler,cn=schueler,cn=users,$S
changetype: add
objectClass: inetOrgPerson
objectClass: extensibleObject
uid: neu.schueler
cn: Neu Schueler
sn: Schueler
mailPrimaryAddress: neu.schueler@bns.school.example
ucsschoolRole: student:school:bns
EOF
t0=$(date +%s%N)
new_mb() { [ "$(h_sql "SELECT state FROM mailboxes WHERE address = 'neu.schueler@bns.school.example'")" = active ]; }
t_wait "a person added in LDAP is a mailbox within 5 s" 5 new_mb
h_log "new person: mailbox after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
t_eq "... in the pupils group" "pupils" \
    "$(h_sql "SELECT g.name FROM policy_group_members m JOIN policy_groups g ON g.id = m.group_id WHERE m.value = 'neu.schueler@bns.school.example'")"

# a move to another school OU: the same row, the same Maildir
before=$(h_sql "SELECT CONCAT(id, ' ', maildir) FROM mailboxes WHERE address = 'lena.schueler@bns.school.example'")
lmod <<EOF
dn: uid=lena.schueler,cn=schueler,cn=users,$S
changetype: modrdn
newrdn: uid=lena.schueler
deleteoldrdn: 1
newsuperior: cn=schueler,cn=users,ou=gym,ou=schools,$H_LDAP_BASE
EOF
moved() { h_sql "SELECT dir_dn FROM mailboxes WHERE address = 'lena.schueler@bns.school.example'" | grep -q 'ou=gym'; }
t_wait "an account moved to another school OU: the row follows its new DN" 5 moved
t_eq "... same row and Maildir" "$before" \
    "$(h_sql "SELECT CONCAT(id, ' ', maildir) FROM mailboxes WHERE address = 'lena.schueler@bns.school.example'")"
t_eq "... still active, nothing logged as leaving" "active 0" \
    "$(h_sql "SELECT state FROM mailboxes WHERE address = 'lena.schueler@bns.school.example'") $(h_sql "SELECT COUNT(*) FROM directory_log WHERE address = 'lena.schueler@bns.school.example' AND new_state <> 'active'")"

# a new primary address
before=$(h_sql "SELECT CONCAT(id, ' ', maildir) FROM mailboxes WHERE address = 'jonas.schueler@bns.school.example'")
lmod <<EOF
dn: uid=jonas.schueler,cn=schueler,cn=users,$S
changetype: modify
replace: mailPrimaryAddress
mailPrimaryAddress: Jonas.Neumann@BNS.school.example
EOF
renamed() { [ -n "$(h_sql "SELECT id FROM mailboxes WHERE address = 'jonas.neumann@bns.school.example'")" ]; }
t_wait "a changed primary address renames the mailbox (canonical form)" 5 renamed
t_eq "... same row and Maildir" "$before" \
    "$(h_sql "SELECT CONCAT(id, ' ', maildir) FROM mailboxes WHERE address = 'jonas.neumann@bns.school.example'")"
t_eq "... the old address is an alias for the transition period" "jonas.neumann@bns.school.example	1" \
    "$(h_sql "SELECT target, expires_at > NOW() + INTERVAL 29 DAY FROM aliases WHERE source = 'jonas.schueler@bns.school.example'")"

# a deleted person: leaving
lmod <<EOF
dn: uid=max.schueler,cn=schueler,cn=users,$S
changetype: delete
EOF
leaving() { [ "$(h_sql "SELECT state FROM mailboxes WHERE address = 'max.schueler@bns.school.example'")" = leaving ]; }
t_wait "a person deleted in LDAP is leaving within 5 s" 5 leaving
t_eq "... with a grace period of [directory] grace_period" 1 \
    "$(h_sql "SELECT grace_until BETWEEN NOW() + INTERVAL 59 MINUTE AND NOW() + INTERVAL 61 MINUTE FROM mailboxes WHERE address = 'max.schueler@bns.school.example'")"
t_eq "... logged with the reason" "active leaving gone from the directory" \
    "$(h_sql "SELECT CONCAT(old_state, ' ', new_state, ' ', reason) FROM directory_log WHERE address = 'max.schueler@bns.school.example' AND new_state = 'leaving'")"
id_max=$(h_sql "SELECT id FROM mailboxes WHERE address = 'max.schueler@bns.school.example'")

# made again (a new entry, a new entryUUID): active again, the same mailbox
lmod <<EOF
dn: uid=max.schueler,cn=schueler,cn=users,$S
changetype: add
objectClass: inetOrgPerson
objectClass: extensibleObject
uid: max.schueler
cn: Max Schueler
sn: Schueler
mailPrimaryAddress: max.schueler@bns.school.example
EOF
back() { [ "$(h_sql "SELECT state FROM mailboxes WHERE address = 'max.schueler@bns.school.example'")" = active ]; }
t_wait "a returner is active again" 5 back
t_eq "... with the same mailbox row" "$id_max" \
    "$(h_sql "SELECT id FROM mailboxes WHERE address = 'max.schueler@bns.school.example'")"

# a disabled person (disabled_attribute = disabled_value): leaving too
lmod <<EOF
dn: uid=paul.lehrer,cn=lehrer,cn=users,ou=gym,ou=schools,$H_LDAP_BASE
changetype: modify
replace: description
description: gesperrt
EOF
disabled() { [ "$(h_sql "SELECT CONCAT(state, ' ', state_reason) FROM mailboxes WHERE address = 'paul.lehrer@gym.school.example'")" = "leaving disabled in the directory" ]; }
t_wait "a person disabled in LDAP is leaving within 5 s" 5 disabled

# a deleted group
lmod <<EOF
dn: cn=bns-5a,cn=klassen,cn=schueler,cn=groups,$S
changetype: delete
EOF
gone_group() { [ -z "$(h_sql "SELECT dir_uuid FROM directory_groups WHERE address = '5a@bns.school.example'")" ]; }
t_wait "a group deleted in LDAP is no longer a recipient" 5 gone_group
kill -TERM $DPID
wait $DPID 2>/dev/null
t_match "the daemon stops on SIGTERM" "directory: stopped" "$(cat "$H_DIR/daemon.log")"

# --- 3. safety ----------------------------------------------------------------
active=$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'")
states() { h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'"; }
h_stop_slapd
"$DS" -f -c "$H_DIR/ds.conf" once 2> "$H_DIR/down.log"
t_eq "the directory unreachable: once exits 75 (EX_TEMPFAIL)" 75 $?
t_eq "... and nobody left" "$active" "$(states)"
h_restart_slapd
conf "$H_DIR/wrongbase.conf" "ou=nosuchschool,$H_LDAP_BASE"
"$DS" -f -c "$H_DIR/wrongbase.conf" once 2> "$H_DIR/wrongbase.log"
t_eq "a wrong base DN: once exits 75" 75 $?
t_eq "... and nobody left" "$active" "$(states)"
lmod <<EOF
dn: ou=empty,$H_LDAP_BASE
changetype: add
objectClass: organizationalUnit
ou: empty
EOF
conf "$H_DIR/empty.conf" "ou=empty,$H_LDAP_BASE"
"$DS" -f -c "$H_DIR/empty.conf" once 2> "$H_DIR/empty.log"
t_eq "an empty subtree: the pass completes" 0 $?
t_eq "... and the guard moved nobody" "$active" "$(states)"
t_match "... it says why" "GUARD: this pass would move $active of $active accounts" "$(cat "$H_DIR/empty.log")"
t_eq "... held in directory_sync" 1 "$(h_sql "SELECT held FROM directory_sync")"
h_sql "DELETE FROM directory_guard"

# the guard: 3 leave at once (share 20 per mille, floor 2 -> 2 allowed)
for u in "uid=anna.lehrer,cn=lehrer" "uid=bernd.lehrer,cn=lehrer" "uid=eltern.klein,cn=eltern"; do
    printf 'dn: %s,cn=users,%s\nchangetype: delete\n\n' "$u" "$S"
done | lmod
"$DS" -f -c "$H_DIR/ds.conf" once 2> "$H_DIR/guard.log"
t_eq "three leavers, two allowed: the pass completes" 0 $?
t_eq "... and moves nobody" "$active" "$(states)"
gid=$(h_sql "SELECT id FROM directory_guard WHERE confirmed_at IS NULL")
t_match "status lists the held pass" "$gid	[^	]*	3	$active	" "$("$DS" -c "$H_DIR/ds.conf" status 2>&1)"
t_match "confirm ID" "confirmed" "$("$DS" -c "$H_DIR/ds.conf" confirm "$gid" 2>&1)"
"$DS" -f -c "$H_DIR/ds.conf" once 2> "$H_DIR/guard2.log"
t_eq "after the confirmation the next pass moves the three" "$((active - 3))" "$(states)"
t_eq "... to leaving" 3 "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE state = 'leaving' AND address IN ('anna.lehrer@bns.school.example', 'bernd.lehrer@bns.school.example', 'eltern.klein@eltern.school.example')")"
t_eq "... and the guard row is used" 1 "$(h_sql "SELECT COUNT(*) FROM directory_guard WHERE applied_at IS NOT NULL")"
t_eq "the SQL mailboxes were never touched" "sql active sql active" \
    "$(h_sql "SELECT GROUP_CONCAT(owner, ' ', state ORDER BY id SEPARATOR ' ') FROM mailboxes WHERE address IN ('admin@school.example', 'tim.klein@bns.school.example')")"
t_summary
