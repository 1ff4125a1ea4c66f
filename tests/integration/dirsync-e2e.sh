#!/bin/bash
# dirsync-e2e.sh - issue 13 through the whole stack: a UCS@school-shaped
# directory (tests/tools/gen-directory.py --small: 4 schools, 300 people,
# 20 classes) in slapd, postern-dirsync keeping SQL in step, and mail
# through the real Postfix with postern-maps, -policyd, -milter and -lda:
#   1. a person added in LDAP receives mail; a class address (no mailbox
#      row) expands to the class as it is now; the UCS send restriction of
#      the parents' group lets the teachers in and keeps outsiders out;
#   2. a school-year change (10 % leave, 10 % new, 30 % of the pupils move
#      class, some school) applied to the directory: the guard holds the
#      leavers until an admin confirms; then every arrival receives mail,
#      every mover keeps their Maildir, the class addresses follow, every
#      leaver is leaving: still receives mail and has the notice in the
#      INBOX;
#   3. after the grace period (ended by SQL here) a leaver's mail is refused with
#      550 5.2.1 at RCPT and nothing is bounced late; a returner (made again
#      in LDAP) is active again with the old mail;
#   4. slapd down: nobody leaves; back: the sync goes on.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
. "$(dirname "$0")/e2e-lib.sh"
GEN=tests/tools/gen-directory.py
"$H_PYTHON" "$GEN" --small --seed 7 --base "$H_LDAP_BASE" --no-base --domain-suffix dir.example \
    --out-ldif "$H_DIR/dir.ldif" --out-sql "$H_DIR/dir.sql" --out-state "$H_DIR/state.json" \
    > "$H_DIR/gen.log" 2>&1
t_eq "the generator wrote the directory" 0 $?
doms=$("$H_PYTHON" -c 'import json,sys; print(", ".join(s["domain"] for s in json.load(open(sys.argv[1]))["schools"]))' "$H_DIR/state.json")
E2E_GROUP_DOMAINS="bns.school.example, gym.school.example, school.example, $doms"
e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
h_sql_file "$H_DIR/dir.sql"
ldapadd -x -c -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" -f "$H_DIR/dir.ldif" \
    > "$H_DIR/ldapadd.log" 2>&1
t_eq "the directory is loaded into slapd" 0 $?
printf '%s' "$H_LDAP_BINDPW" > "$H_DIR/ldap.pw"
cp "$E2E_CONF" "$H_DIR/ds.conf"
while read -r s k v; do e2e_conf_set "$H_DIR/ds.conf" "$s" "$k" "$v"; done <<EOF
ldap bind_dn $H_LDAP_BINDDN
ldap password_file $H_DIR/ldap.pw
directory base ou=schools,$H_LDAP_BASE
directory grace_period 1h
directory reminder_before 10m
directory lifecycle_interval 1s
directory sendmail $E2E_DIR/sendmail
directory notice_from schulverwaltung@school.example
EOF
"$BUILD/postern-dirsync" -f -c "$H_DIR/ds.conf" 2> "$H_DIR/dirsync.log" &
DSPID=$!
h_track_pid $DSPID
t_wait "postern-dirsync finished its first full pass" 60 grep -q "full pass in" "$H_DIR/dirsync.log"
h_log "$(grep -m1 'full pass in' "$H_DIR/dirsync.log")"

# state.json -> handy lists
q() { "$H_PYTHON" - "$H_DIR/state.json" "$@" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
what = sys.argv[2]
if what == "persons":
    print(len(st["persons"]))
elif what == "role":           # role school: the first person's address
    for p in sorted(st["persons"].values(), key=lambda p: p["mail"]):
        if p["role"] == sys.argv[3] and p["school"] == sys.argv[4]:
            print(p["mail"]); break
elif what == "class":          # a class with at least 3 pupils: address, then its pupils
    for g in st["groups"].values():
        if g["kind"] == "class":
            pupils = [p["mail"] for p in st["persons"].values()
                      if p["role"] == "student" and p.get("class") == g["class"] and p["school"] == g["school"]]
            if len(pupils) >= 3:
                print(g["mail"]); print("\n".join(pupils)); break
PY
}
persons=$(q persons)
t_eq "every person of the directory is an active mailbox" "$persons" \
    "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active' AND domain LIKE '%.dir.example'")"

# --- 1. a new pupil, a class mail -------------------------------------------
mapfile -t CLS < <(q class)
CLASS=${CLS[0]}; SCHOOLDOM=${CLASS#*@}
NEWDN="uid=neu.schuelerin,cn=schueler,cn=users,ou=${SCHOOLDOM%%.*},ou=schools,$H_LDAP_BASE"
ldapadd -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >> "$H_DIR/ldapadd.log" 2>&1 <<EOF
dn: $NEWDN
objectClass: inetOrgPerson
objectClass: extensibleObject
uid: neu.schuelerin
cn: Neu Schuelerin
sn: Schuelerin
mailPrimaryAddress: neu.schuelerin@$SCHOOLDOM
ucsschoolRole: student:school:${SCHOOLDOM%%.*}
EOF
is_mailbox() { [ -n "$(h_postmap_q "$1" "socketmap:inet:127.0.0.1:$E2E_MAPS_PORT:mailbox" 2>/dev/null)" ]; }
t_wait "a pupil added in LDAP is a mailbox postern-maps knows within 5 s" 5 is_mailbox "neu.schuelerin@$SCHOOLDOM"
e2e_send --from besucher@outside.example --to "neu.schuelerin@$SCHOOLDOM" --subject "welcome-new"
t_match "... mail to the new pupil is accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered to the new Maildir" 30 e2e_find "neu.schuelerin@$SCHOOLDOM" welcome-new
t_eq "the class address has no mailbox row" "" "$(h_sql "SELECT id FROM mailboxes WHERE address = '$CLASS'")"
e2e_send --from besucher@outside.example --to "$CLASS" --subject "class-mail-1"
t_match "mail to the class $CLASS is accepted" '^DATA 250 ' "$E2E_R"
for p in "${CLS[@]:1}"; do
    t_wait "... and reaches its pupil $p" 30 e2e_find "$p" class-mail-1
done

# UCS send restrictions (univentionAllowedEmailGroups of eltern-S: the
# school's teachers) are the group's send rule
SCH=${SCHOOLDOM%%.*}
TEACHER=$(q role teacher "$SCH"); PARENT=$(q role parent "$SCH")
e2e_send --from besucher@outside.example --to "eltern-$SCH@$SCHOOLDOM" --subject "to-parents-outsider"
t_match "an outsider to eltern-$SCH (allowed: the teachers' group): 550 5.7.1" '^RCPT 550 5\.7\.1 ' "$E2E_R"
e2e_submit "$TEACHER" --from "$TEACHER" --to "eltern-$SCH@$SCHOOLDOM" --subject "to-parents-teacher"
t_match "a teacher of the school, logged in: accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and a parent has it" 30 e2e_find "$PARENT" to-parents-teacher

# --- 2. the school-year change ---------------------------------------------------
"$H_PYTHON" "$GEN" --year-change --seed 8 --state "$H_DIR/state.json" --out-ldif "$H_DIR/year.ldif" \
    --summary "$H_DIR/year.json" --out-state "$H_DIR/state2.json" >> "$H_DIR/gen.log" 2>&1
ldapmodify -x -c -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" -f "$H_DIR/year.ldif" \
    > "$H_DIR/year.log" 2>&1
t_eq "the school-year change is applied to the directory" 0 $?
s() { "$H_PYTHON" - "$H_DIR/year.json" "$@" <<'PY'
import json, sys
y = json.load(open(sys.argv[1]))
what = sys.argv[2]
if what in ("left", "arrived", "moved"):
    print("\n".join(i["address"] for i in y[what]))
elif what == "count":
    print(y["counts"][sys.argv[3]])
elif what == "classmove":  # a mover to another class: address, new class address, old class address
    for i in y["moved"]:
        if i.get("class") and i.get("old_class") and i["class"] != i["old_class"]:
            dom = i["address"].split("@")[1]
            odom = i.get("old_address_domain") or dom
            print(i["address"]); print(i["class"] + "@" + dom); break
PY
}
mapfile -t LEFT < <(s left)
mapfile -t ARRIVED < <(s arrived)
mapfile -t MOVED < <(s moved)
h_log "year change: ${#LEFT[@]} left, ${#ARRIVED[@]} arrived, ${#MOVED[@]} moved"
held() { h_sql "SELECT id FROM directory_guard WHERE confirmed_at IS NULL" | grep -q .; }
t_wait "the guard holds the leavers (more than 2 %)" 20 held
t_eq "... nobody was closed, and fewer left than the year change says" 1 \
    "$(h_sql "SELECT COUNT(*) < ${#LEFT[@]} FROM mailboxes WHERE state <> 'active' AND domain LIKE '%.dir.example'")"
gid=$(h_sql "SELECT MAX(id) FROM directory_guard WHERE confirmed_at IS NULL")
t_match "an admin confirms" "confirmed" "$("$BUILD/postern-dirsync" -c "$H_DIR/ds.conf" confirm "$gid" 2>&1)"
all_left() {
    [ "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE state IN ('leaving', 'closed') AND address IN ($(printf "'%s'," "${LEFT[@]}" | sed 's/,$//'))")" = "${#LEFT[@]}" ]
}
t_wait "after the confirmation every leaver is leaving" 30 all_left
all_new() {
    [ "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE state = 'active' AND address IN ($(printf "'%s'," "${ARRIVED[@]}" | sed 's/,$//'))")" = "${#ARRIVED[@]}" ]
}
t_wait "every arrival has an active mailbox" 10 all_new
t_eq "every mover is still active (moves never look like leaving)" 0 \
    "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE state <> 'active' AND address IN ($(printf "'%s'," "${MOVED[@]}" | sed 's/,$//'))")"
e2e_send --from besucher@outside.example --to "${ARRIVED[0]}" --subject "hello-arrival"
t_wait "an arrival receives mail" 30 e2e_find "${ARRIVED[0]}" hello-arrival
mapfile -t MV < <(s classmove)
if [ -n "${MV[0]:-}" ]; then
    e2e_send --from besucher@outside.example --to "${MV[1]}" --subject "class-mail-2"
    t_match "mail to a mover's new class ${MV[1]} is accepted" '^DATA 250 ' "$E2E_R"
    t_wait "... and reaches the mover ${MV[0]}" 30 e2e_find "${MV[0]}" class-mail-2
fi
# the leaver whose grace period ends last (the first ones left before the
# guard held the rest)
L=$(h_sql "SELECT address FROM mailboxes WHERE state = 'leaving' AND address IN ($(printf "'%s'," "${LEFT[@]}" | sed 's/,$//')) ORDER BY grace_until DESC LIMIT 1")
t_wait "the leaver $L has the notice in the INBOX" 30 e2e_find "$L" '^Auto-Submitted: auto-generated'
before=$(e2e_count "$L")
e2e_send --from besucher@outside.example --to "$L" --subject "during-grace"
t_match "mail to a leaver during the grace period is accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 30 e2e_find "$L" during-grace

# --- 3. after the grace period ---------------------------------------------------
# the grace period ends (an admin may shorten it the same way)
h_sql "UPDATE mailboxes SET grace_until = NOW() - INTERVAL 1 SECOND WHERE address = '$L'"
closed() { [ "$(h_sql "SELECT state FROM mailboxes WHERE address = '$L'")" = closed ]; }
t_wait "at the end of the grace period the leaver is closed" 15 closed
maps_closed() { h_postmap_q "$L" "socketmap:inet:127.0.0.1:$E2E_MAPS_PORT:rcptcheck" 2>/dev/null | grep -q '^550 5\.2\.1'; }
t_wait "... postern-maps knows within a few seconds (rcptcheck)" 10 maps_closed
e2e_send --from besucher@outside.example --to "$L" --subject "after-close"
t_match "mail to the closed account is refused at RCPT with 550 5.2.1" '^RCPT 550 5\.2\.1 ' "$E2E_R"
t_eq "nothing waits in Postfix's queue (no late bounce)" 0 "$(h_queue_count)"
n_mail=$(e2e_count "$L")
uid=${L%@*}
sch=$(h_sql "SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(dir_dn, ',ou=schools', 1), 'ou=', -1) FROM mailboxes WHERE address = '$L'")
ldapadd -x -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" >> "$H_DIR/ldapadd.log" 2>&1 <<EOF
dn: uid=$uid,cn=schueler,cn=users,ou=$sch,ou=schools,$H_LDAP_BASE
objectClass: inetOrgPerson
objectClass: extensibleObject
uid: $uid
cn: Returner
sn: Returner
mailPrimaryAddress: $L
EOF
back() { [ "$(h_sql "SELECT state FROM mailboxes WHERE address = '$L'")" = active ]; }
t_wait "a returner made again in LDAP is active again" 10 back
t_eq "... with the old mail still there" "$n_mail" "$(e2e_count "$L")"
maps_open() { ! maps_closed; }
t_wait "... and postern-maps no longer refuses it" 10 maps_open
e2e_send --from besucher@outside.example --to "$L" --subject "welcome-back"
t_match "... mail to the returner is accepted again" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 30 e2e_find "$L" welcome-back

# --- 4. the directory away ------------------------------------------------------
active=$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'")
h_stop_slapd
sleep 3
t_eq "slapd down: nobody leaves" "$active" \
    "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'")"
h_restart_slapd
t_wait "slapd back: postern-dirsync syncs again" 30 bash -c "[ \$(grep -c 'full pass in' '$H_DIR/dirsync.log') -ge 3 ]"
t_eq "... and still nobody left" "$active" \
    "$(h_sql "SELECT COUNT(*) FROM mailboxes WHERE owner = 'ldap' AND state = 'active'")"
t_summary
