#!/bin/bash
# moderation.sh - moderated group mail (issue 19 section 2, migration 0014,
# milter/moderate.c, admin/moderate.c) through a real Postfix, MariaDB and
# slapd (SASL: milter-auth.py, password "test"):
#   - a sender the rule refuses is accepted and held: Postfix's hold queue
#     (postqueue -j), a moderation_queue row, one log line;
#   - `postern moderate run` mails the moderators (a person; an LDAP group
#     at each member's address) a one-time reply address;
#   - a reply from a non-moderator changes nothing (logged); the
#     moderator's reply approves; the next run releases the message and it
#     reaches every member of the class (expanded from LDAP); the token
#     cannot be used again (550 5.1.1);
#   - rejected by command with a reason: deleted from the hold queue, the
#     sender told with the reason;
#   - not decided within moderation_timeout: deleted, the sender told;
#   - allowed senders (an SQL policy group, LDAP membership) are not held;
#   - a decision for a message no longer held (released by hand, or a run
#     with another Postfix's MAIL_CONFIG) stays to be carried out, exit 69
#     with the reason, until `postern moderate settle ID`.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

. "$(dirname "$0")/moderation-common.sh"

D=bns.school.example
moderation_rules "$D" || t_fail "the SQL rules load"
h_sql "
INSERT INTO group_moderators (rule_id, moderator)
  SELECT id, 'anna.lehrer@$D' FROM group_send_rules WHERE group_address = '9a@$D';
" || t_fail "the moderator loads"

milter_conf "$MDIR/postern.conf" "group_domains = $D" \
    "moderation_address = moderate@$D"
# the admin side: postsuper and sendmail of the test's Postfix
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
export MAIL_CONFIG=$H_PF_CONF
OUT=$H_DIR/mod.out
ERR=$H_DIR/mod.err
P() { "$BUILD/postern" -c "$MDIR/postern.conf" --user admin-test "$@" > "$OUT" 2> "$ERR"; RC=$?; }

# 9b's moderators through the admin command: the LDAP group of teachers
P sendrule set 9b@$D moderators=Lehrer@$D
t_eq "postern sendrule set moderators=: exit 0" 0 "$RC"
P sendrule show 9b@$D
t_match "... sendrule show lists them" "	lehrer@$D\$" "$(cat "$OUT")"
t_eq "... audited" "group_moderators INSERT admin-test" \
    "$(q "SELECT table_name, op, admin_user FROM audit_log WHERE table_name = 'group_moderators' AND address = 'lehrer@$D'" | tr '\t' ' ')"

P sendrule add 5a@$D allow=members moderators=ag-leitung
t_eq "postern sendrule add with a policy group as moderators: exit 0" 0 "$RC"
P sendrule add 5b@$D allow=members moderators=no-such-group
t_eq "... a policy group that does not exist: 65" 65 "$RC"

# --- allowed senders pass unheld -----------------------------------------
send_auth anna.lehrer anna.lehrer@$D 9a@$D; n=$((n + 1))
t_match "9a, a teacher (SQL policy group): accepted" '^DATA 250 ' "$r"
t_ok "... and delivered, not held" h_wait_sink_count smarthost $n
t_eq "... no message held" "" "$(held_ids)"

# --- 1. held, moderator mailed, a non-moderator's reply, approved ----------
send outsider@example.org 9a@$D
t_match "9a, an outsider: accepted (moderated, not refused)" '^DATA 250 ' "$r"
t_wait "... a moderation_queue row" 10 row_for "SELECT queue_id FROM moderation_queue WHERE group_address = '9a@$D'"
QID1=$(q "SELECT queue_id FROM moderation_queue WHERE group_address = '9a@$D'")
ID1=$(q "SELECT id FROM moderation_queue WHERE queue_id = '$QID1'")
t_match "... in Postfix's hold queue (postqueue -j)" "$QID1" "$(held_ids)"
t_match "... logged as held" "$QID1: action=hold check=moderation .*to=<9a@$D>" "$(cat "$MDIR/milter.log")"
t_eq "... nothing delivered" "$n" "$(h_sink_count smarthost)"
t_eq "... the row: sender and subject" "outsider@example.org	test $n" \
    "$(q "SELECT sender, subject FROM moderation_queue WHERE id = $ID1")"

P moderate list
t_match "postern moderate list shows it" "$ID1	.*	$QID1	9a@$D	outsider@example.org" "$(cat "$OUT")"
P moderate run
t_eq "postern moderate run: exit 0" 0 "$RC"
n=$((n + 1))
t_ok "the moderator's request arrives" h_wait_sink_count smarthost $n
REQ=$(sink_to "anna.lehrer@$D")
t_ok "... to the moderator" test -n "$REQ"
TOKEN=$(grep -o "moderate+[0-9a-f]\{32\}@$D" "$REQ" | head -n 1)
t_match "... with a one-time reply address" "^moderate\+[0-9a-f]{32}@$D$" "$TOKEN"
t_match "... with the sender and the subject" "From: +outsider@example.org" "$(cat "$REQ")"
t_match "... and the first lines" "The first lines:.*test message" "$(cat "$REQ")"
t_eq "SQL keeps only the token's SHA-256" \
    "$(tok=${TOKEN#moderate+}; printf '%s' "${tok%@*}" | sha256sum | cut -c1-64)" \
    "$(q "SELECT token_hash FROM moderation_queue WHERE id = $ID1")"

r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth "max.schueler:test" --from "max.schueler@$D" \
    --to "$TOKEN" --subject "approve")
t_match "a reply from a student (not a moderator): accepted at SMTP" '^DATA 250 ' "$r"
t_wait "... logged and ignored" 5 grep -q "moderation reply from <max.schueler@$D>.*not a moderator: ignored" "$MDIR/milter.log"
t_eq "... no decision" "NULL" "$(q "SELECT IFNULL(decision, 'NULL') FROM moderation_queue WHERE id = $ID1")"
t_eq "... the reply itself is discarded" "$n" "$(h_sink_count smarthost)"

r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth "anna.lehrer:test" --from "anna.lehrer@$D" \
    --to "$TOKEN" --subject "Re: approve")
t_match "the moderator replies 'approve'" '^DATA 250 ' "$r"
t_eq "... the decision is in SQL" "approve	anna.lehrer@$D" \
    "$(q "SELECT decision, decided_by FROM moderation_queue WHERE id = $ID1")"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth "anna.lehrer:test" --from "anna.lehrer@$D" \
    --to "$TOKEN" --subject "reject")
t_match "the token cannot be used again: 550 5.1.1" '^RCPT 550 5\.1\.1 ' "$r"
P moderate run
t_match "the next run releases it" "^$ID1	released	$QID1	approve" "$(cat "$OUT")"
n=$((n + 1))
t_ok "... it is delivered" h_wait_sink_count smarthost $n
t_eq "... to every member of the class (expanded from LDAP)" \
    "lena.schueler@$D max.schueler@$D " \
    "$(sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' "$(sink_to "lena.schueler@$D" | sed 's/eml$/env/')" | sort | tr '\n' ' ')"
t_eq "... and the hold queue is empty" "" "$(held_ids)"
t_ok "... the row says applied" test -n "$(q "SELECT applied_at FROM moderation_queue WHERE id = $ID1 AND applied_at IS NOT NULL")"

# --- 2. an LDAP group of moderators; rejected by command -------------------
send_auth max.schueler max.schueler@$D 9b@$D
t_match "9b (members), a student of another class: accepted and held" '^DATA 250 ' "$r"
t_wait "... a row" 10 row_for "SELECT id FROM moderation_queue WHERE group_address = '9b@$D'"
ID2=$(q "SELECT id FROM moderation_queue WHERE group_address = '9b@$D'")
QID2=$(q "SELECT queue_id FROM moderation_queue WHERE id = $ID2")
t_match "... held" "$QID2" "$(held_ids)"
P moderate run
n=$((n + 2))
t_ok "the LDAP group's members (lehrer@) get the request" h_wait_sink_count smarthost $n
t_ok "... anna" has_sink_to "bernd.lehrer@$D"
t_ok "... bernd" test "$(sink_to "anna.lehrer@$D")" != "$REQ"
P moderate reject "$ID2" --reason "not for the whole class"
t_eq "postern moderate reject: exit 0" 0 "$RC"
t_match "... deleted from the hold queue" "$ID2	deleted	$QID2	reject" "$(cat "$OUT")"
t_eq "... gone from the hold queue" "" "$(held_ids)"
n=$((n + 1))
t_ok "... the sender is told" h_wait_sink_count smarthost $n
t_match "... with the reason" "not for the whole class" "$(cat "$(sink_to "max.schueler@$D")")"
t_eq "... the row" "reject	admin-test	not for the whole class" \
    "$(q "SELECT decision, decided_by, reason FROM moderation_queue WHERE id = $ID2")"
P moderate reject "$ID2"
t_eq "rejecting it again: 66 (no such waiting message)" 66 "$RC"

# --- 3. expiry -------------------------------------------------------------
send outsider2@example.org 9a@$D
t_match "9a, another outsider: held" '^DATA 250 ' "$r"
t_wait "... a row" 10 row_for "SELECT id FROM moderation_queue WHERE sender = 'outsider2@example.org'"
ID3=$(q "SELECT id FROM moderation_queue WHERE sender = 'outsider2@example.org'")
QID3=$(q "SELECT queue_id FROM moderation_queue WHERE id = $ID3")
P moderate expire
t_eq "expire within moderation_timeout (7d): nothing" "" "$(cat "$OUT")"
t_match "... still held" "$QID3" "$(held_ids)"
sed 's/^moderation_address = .*/&\nmoderation_timeout = 1s/' "$MDIR/postern.conf" > "$MDIR/short.conf"
sleep 2
"$BUILD/postern" -c "$MDIR/short.conf" moderate expire > "$OUT" 2> "$ERR"
t_match "with moderation_timeout = 1s: expired and deleted" "^$ID3	deleted	$QID3	expire" "$(cat "$OUT")"
t_eq "... gone from the hold queue" "" "$(held_ids)"
n=$((n + 1))
t_ok "... the sender is told" h_wait_sink_count smarthost $n
t_match "... that nobody decided in time" "no moderator decided in time" "$(cat "$(sink_to "outsider2@example.org")")"
t_eq "... the row" "expire	timeout" "$(q "SELECT decision, decided_by FROM moderation_queue WHERE id = $ID3")"

# --- 4. a policy group of moderators (SQL) ------------------------------------
send outsider3@example.org 5a@$D
t_match "5a (members), an outsider: held" '^DATA 250 ' "$r"
t_wait "... a row" 10 row_for "SELECT id FROM moderation_queue WHERE sender = 'outsider3@example.org'"
ID4=$(q "SELECT id FROM moderation_queue WHERE sender = 'outsider3@example.org'")
QID4=$(q "SELECT queue_id FROM moderation_queue WHERE id = $ID4")
P moderate run
n=$((n + 1))
t_ok "the policy group's address member gets the request" h_wait_sink_count smarthost $n
REQ4=$(sink_to "extra.teacher@example.org")
TOKEN4=$(grep -o "moderate+[0-9a-f]\{32\}@$D" "$REQ4" | head -n 1)
t_match "... with its own token" "^moderate\+[0-9a-f]{32}@$D$" "$TOKEN4"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from "extra.teacher@example.org" --to "$TOKEN4" --subject "Yes")
t_match "the member replies 'yes' (envelope sender, no login)" '^DATA 250 ' "$r"
t_eq "... approved in SQL" "approve	extra.teacher@example.org" \
    "$(q "SELECT decision, decided_by FROM moderation_queue WHERE id = $ID4")"
P moderate run
t_match "... released by the next run" "$ID4	released	$QID4	approve" "$(cat "$OUT")"
n=$((n + 1))
t_ok "... and delivered to the class" h_wait_sink_count smarthost $n
t_eq "... nothing left in the hold queue" "" "$(held_ids)"

# --- 5. a decision for a message this Postfix no longer holds ------------------
send outsider4@example.org 9a@$D
t_match "9a, a fourth outsider: held" '^DATA 250 ' "$r"
t_wait "... a row" 10 row_for "SELECT id FROM moderation_queue WHERE sender = 'outsider4@example.org'"
ID5=$(q "SELECT id FROM moderation_queue WHERE sender = 'outsider4@example.org'")
QID5=$(q "SELECT queue_id FROM moderation_queue WHERE id = $ID5")
t_wait "... in the hold queue" 10 bash -c "postqueue -j | grep -q '$QID5'"
postsuper -H "$QID5" 2>/dev/null
postqueue -f
n=$((n + 1))
t_ok "released by hand (postsuper -H) and delivered" h_wait_sink_count smarthost $n
P moderate reject "$ID5" --reason "too late"
t_eq "rejecting it: the decision is kept, exit 69" "69	reject" \
    "$RC	$(q "SELECT decision FROM moderation_queue WHERE id = $ID5")"
t_match "... 'not in the hold queue of this Postfix'" "#$ID5: $QID5 is not in the hold queue of this Postfix \(MAIL_CONFIG=$H_PF_CONF\).*postern moderate settle $ID5" "$(cat "$ERR")"
t_eq "... not marked carried out" "NULL" "$(q "SELECT IFNULL(applied_at, 'NULL') FROM moderation_queue WHERE id = $ID5")"
t_eq "... and the sender not told (nothing was deleted)" "$n" "$(h_sink_count smarthost)"
P moderate run
t_eq "every run says so again (exit 69)" 69 "$RC"
t_match "... with the queue ID" "#$ID5: $QID5 is not in the hold queue" "$(cat "$ERR")"
MAIL_CONFIG=$H_DIR/nowhere-postfix "$BUILD/postern" -c "$MDIR/postern.conf" moderate run > "$OUT" 2> "$ERR"; RC=$?
t_eq "a run with another Postfix's MAIL_CONFIG marks nothing done" "NULL" \
    "$(q "SELECT IFNULL(applied_at, 'NULL') FROM moderation_queue WHERE id = $ID5")"
t_not "... and fails" test "$RC" = 0
P moderate settle "$ID5"
t_eq "postern moderate settle: exit 0" 0 "$RC"
t_match "... says so" "^$ID5	settled by hand	by admin-test" "$(cat "$OUT")"
t_ok "... the row is carried out" test -n "$(q "SELECT applied_at FROM moderation_queue WHERE id = $ID5 AND applied_at IS NOT NULL")"
P moderate run
t_eq "the next run: exit 0" 0 "$RC"
P moderate settle "$ID5"
t_eq "settling it again: 66" 66 "$RC"
P moderate settle 999999
t_eq "settling an unknown ID: 66" 66 "$RC"

stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_summary
