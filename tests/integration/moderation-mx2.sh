#!/bin/bash
# moderation-mx2.sh - moderated group mail on two MX hosts sharing one
# MariaDB (issue 19 section 2, "several MX hosts sharing the state in SQL";
# docs/milter.md "Moderated groups").  Postfix A and B (harness's
# h_start_postfix_copy), each with its own postern-milter and its own
# postern.conf naming its host ([milter] moderation_host mx-a.test /
# mx-b.test); one MariaDB, one slapd, one smarthost sink:
#   - a message held on A and one held on B: each in its own host's hold
#     queue, its row naming its host; `postern moderate list` on either
#     host lists both;
#   - `postern moderate run` on B mails only the moderators of B's
#     message and carries out only B's decisions: A's held message stays
#     in A's hold queue, its row unchanged; and the other way round;
#   - 9a (may_send: an SQL policy group; moderators: the policy group
#     ag-leitung) held on A: the moderator's reply arrives at B (the reply
#     address is global) and is recorded there; B's run leaves it; A's run
#     releases it, expanded to the class's members (LDAP), delivered;
#   - 9b (may_send: LDAP members; moderators: the LDAP group lehrer@) held
#     on B, approved by a teacher's reply (SASL) at A, released by B's run;
#   - rejected by command on B for a message held on A: B records it only;
#     A's run deletes it from A's hold queue and tells the sender;
#   - expiry: B's expire leaves A's message; A's expires it;
#   - the same queue ID held on both hosts (Postfix's queue IDs are per
#     host): two rows; a rejection on B deletes only B's copy, an approval
#     on A releases only A's.
# MX2_HOST_B=mx-a.test gives B the same name as A (one name for both, as
# gethostname gave before moderation_host): the isolation checks fail.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/../harness/galera.sh"
. "$(dirname "$0")/milter-common.sh"
. "$(dirname "$0")/moderation-common.sh"
start_group_stack

D=bns.school.example
HA=mx-a.test
HB=${MX2_HOST_B:-mx-b.test}
moderation_rules "$D" || t_fail "the SQL rules load"
h_sql "
INSERT INTO group_moderators (rule_id, moderator)
  SELECT id, 'ag-leitung' FROM group_send_rules WHERE group_address = '9a@$D';
INSERT INTO group_moderators (rule_id, moderator)
  SELECT id, 'lehrer@$D' FROM group_send_rules WHERE group_address = '9b@$D';
" || t_fail "the moderators load"

# --- two hosts: a milter and a Postfix each ----------------------------------
CA=$MDIR/a.conf
CB=$MDIR/b.conf
MPORT_A=$MPORT
milter_conf "$CA" "group_domains = $D" "moderation_address = moderate@$D" \
    "moderation_host = $HA"
start_milter "$CA"
t_ok "milter A starts" milter_up
MPORT=$(h_free_port)
MPORT_B=$MPORT
milter_conf "$CB" "group_domains = $D" "moderation_address = moderate@$D" \
    "moderation_host = $HB"
"$MILTER" -f -c "$CB" </dev/null >> "$MDIR/milter-b.log" 2>&1 &
h_track_pid $!
t_ok "milter B starts" milter_up

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT_A
milter_default_action = tempfail
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
EOF
h_start_postfix_copy b - <<EOF
smtpd_milters = inet:127.0.0.1:$MPORT_B
myhostname = mx-b.test.example
EOF
PFA=$H_PF_CONF
PFB=$H_PF_B_CONF
PORTA=$H_PF_SMTP_PORT
PORTB=$H_PF_B_SMTP_PORT

OUT=$H_DIR/mod.out
ERR=$H_DIR/mod.err
# on_a / on_b ARGS - postern on host A / B: its configuration, its Postfix
on_a() { MAIL_CONFIG=$PFA "$BUILD/postern" -c "$CA" --user admin-a "$@" > "$OUT" 2> "$ERR"; RC=$?; }
on_b() { MAIL_CONFIG=$PFB "$BUILD/postern" -c "$CB" --user admin-b "$@" > "$OUT" 2> "$ERR"; RC=$?; }
# row_of ID - the row's host, queue ID and every column a host's run changes
row_of() {
    q "SELECT host, queue_id, IFNULL(notified_at, '-'), IFNULL(token_hash, '-'),
              IFNULL(decision, '-'), IFNULL(decided_by, '-'), IFNULL(applied_at, '-')
         FROM moderation_queue WHERE id = $1"
}
id_of() { q "SELECT id FROM moderation_queue WHERE sender = '$1'"; }
qid_of() { q "SELECT queue_id FROM moderation_queue WHERE id = $1"; }
env_rcpts() {
    sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' "${1%.eml}.env" | sort | tr '\n' ' '
}

# --- 1. one message held on A, one on B ------------------------------------
r=$(h_smtp --port "$PORTA" --from outsider1@example.org --to "9a@$D" --subject "to 9a via A")
t_match "A: 9a from an outsider: accepted" '^DATA 250 ' "$r"
r=$(h_smtp --port "$PORTB" --auth max.schueler:test --from "max.schueler@$D" \
    --to "9b@$D" --subject "to 9b via B")
t_match "B: 9b from a student of 9a: accepted" '^DATA 250 ' "$r"
t_wait "... both have a row" 10 row_for "SELECT COUNT(*) FROM moderation_queue HAVING COUNT(*) = 2"
ID1=$(id_of outsider1@example.org)
QID1=$(qid_of "$ID1")
ID2=$(id_of "max.schueler@$D")
QID2=$(qid_of "$ID2")
t_eq "A's row names host A" "$HA" "$(q "SELECT host FROM moderation_queue WHERE id = $ID1")"
t_eq "B's row names host B" "$HB" "$(q "SELECT host FROM moderation_queue WHERE id = $ID2")"
t_eq "A's hold queue has A's message only" "$QID1 " "$(held_ids "$PFA")"
t_eq "B's hold queue has B's message only" "$QID2 " "$(held_ids "$PFB")"
t_eq "nothing delivered" 0 "$(h_sink_count smarthost)"
for h in a b; do
    on_$h moderate list
    t_match "postern moderate list on $h: A's message" "$ID1	$HA	$QID1	9a@$D	outsider1@example.org" "$(cat "$OUT")"
    t_match "... and B's" "$ID2	$HB	$QID2	9b@$D	max.schueler@$D" "$(cat "$OUT")"
done

# --- 2. each host's run: its own rows only ----------------------------------
S1=$(row_of "$ID1")
on_b moderate run
t_eq "B's run: exit 0" 0 "$RC"
t_eq "... notifies B's message only" "$ID2	notified	$QID2	2 moderator(s)" "$(cat "$OUT")"
t_eq "... A's row unchanged" "$S1" "$(row_of "$ID1")"
t_eq "... A's message still held on A" "$QID1 " "$(held_ids "$PFA")"
n=2
t_ok "B's moderators (LDAP group lehrer@) get the request" h_wait_sink_count smarthost $n
TOKEN2=$(token_in "$(sink_to "bernd.lehrer@$D")" "$D")
t_match "... with a reply address" "^moderate\+[0-9a-f]{32}@$D$" "$TOKEN2"
t_ok "... anna too" has_sink_to "anna.lehrer@$D"

S2=$(row_of "$ID2")
on_a moderate run
t_eq "A's run: notifies A's message only" "$ID1	notified	$QID1	1 moderator(s)" "$(cat "$OUT")"
t_eq "... B's row unchanged" "$S2" "$(row_of "$ID2")"
t_eq "... B's message still held on B" "$QID2 " "$(held_ids "$PFB")"
n=$((n + 1))
t_ok "A's moderator (policy group ag-leitung) gets the request" h_wait_sink_count smarthost $n
TOKEN1=$(token_in "$(sink_to extra.teacher@example.org)" "$D")
t_match "... with its own reply address" "^moderate\+[0-9a-f]{32}@$D$" "$TOKEN1"

# --- 3. the reply for A's message arrives at B ---------------------------------
r=$(h_smtp --port "$PORTB" --from extra.teacher@example.org --to "$TOKEN1" --subject "Re: approve")
t_match "the moderator's reply to A's message at B: accepted" '^DATA 250 ' "$r"
t_eq "... B's milter records the decision" "approve	extra.teacher@example.org	-" \
    "$(q "SELECT decision, decided_by, IFNULL(applied_at, '-') FROM moderation_queue WHERE id = $ID1")"
t_match "... and logs it" "moderation reply from <extra.teacher@example.org>.*#$ID1 \($QID1\): approve" \
    "$(cat "$MDIR/milter-b.log")"
t_eq "... A still holds it" "$QID1 " "$(held_ids "$PFA")"
S1=$(row_of "$ID1")
on_b moderate run
t_eq "B's run does not carry out A's decision" "" "$(cat "$OUT")"
t_eq "... A's row unchanged" "$S1" "$(row_of "$ID1")"
t_eq "... still held on A" "$QID1 " "$(held_ids "$PFA")"
on_a moderate run
t_eq "A's run releases it" "$ID1	released	$QID1	approve" "$(cat "$OUT")"
t_eq "... A's hold queue is empty" "" "$(held_ids "$PFA")"
n=$((n + 1))
t_ok "... it is delivered" h_wait_sink_count smarthost $n
t_eq "... to every member of 9a (expanded from LDAP)" \
    "lena.schueler@$D max.schueler@$D " "$(env_rcpts "$(sink_to "lena.schueler@$D")")"
t_ok "... the row says applied" row_for "SELECT id FROM moderation_queue WHERE id = $ID1 AND applied_at IS NOT NULL"
t_eq "... B's message still held on B" "$QID2 " "$(held_ids "$PFB")"

# --- 4. the reply for B's message arrives at A -----------------------------------
r=$(h_smtp --port "$PORTA" --auth anna.lehrer:test --from "anna.lehrer@$D" \
    --to "$TOKEN2" --subject "approve")
t_match "a teacher's reply (SASL) to B's message at A: accepted" '^DATA 250 ' "$r"
t_eq "... recorded" "approve	anna.lehrer@$D" \
    "$(q "SELECT decision, decided_by FROM moderation_queue WHERE id = $ID2")"
S2=$(row_of "$ID2")
on_a moderate run
t_eq "A's run does not carry out B's decision" "" "$(cat "$OUT")"
t_eq "... B's row unchanged" "$S2" "$(row_of "$ID2")"
t_eq "... still held on B" "$QID2 " "$(held_ids "$PFB")"
on_b moderate run
t_eq "B's run releases it" "$ID2	released	$QID2	approve" "$(cat "$OUT")"
t_eq "... B's hold queue is empty" "" "$(held_ids "$PFB")"
n=$((n + 1))
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... to 9b's member with an address" "jonas.schueler@$D " \
    "$(env_rcpts "$(sink_to "jonas.schueler@$D")")"

# --- 5. rejected by command on B, carried out by A --------------------------------
r=$(h_smtp --port "$PORTA" --from outsider3@example.org --to "9b@$D" --subject "to 9b via A")
t_match "A: 9b from an outsider: held" '^DATA 250 ' "$r"
r=$(h_smtp --port "$PORTA" --from outsider4@example.org --to "9a@$D" --subject "to 9a, expires")
t_match "A: 9a from another outsider: held (expires below)" '^DATA 250 ' "$r"
t_wait "... rows" 10 row_for "SELECT COUNT(*) FROM moderation_queue WHERE host = '$HA' AND decision IS NULL HAVING COUNT(*) = 2"
ID3=$(id_of outsider3@example.org)
QID3=$(qid_of "$ID3")
ID4=$(id_of outsider4@example.org)
QID4=$(qid_of "$ID4")
on_b moderate reject "$ID3" --reason "not for the whole class"
t_eq "postern moderate reject on B: exit 0" 0 "$RC"
t_match "... says A carries it out" "^$ID3	reject	by admin-b
$ID3	held on another host" "$(cat "$OUT")"
t_eq "... the decision is in the row, not applied" "reject	admin-b	not for the whole class	-" \
    "$(q "SELECT decision, decided_by, reason, IFNULL(applied_at, '-') FROM moderation_queue WHERE id = $ID3")"
t_match "... still held on A" "$QID3" "$(held_ids "$PFA")"
on_b moderate run
t_eq "B's run leaves it" "" "$(cat "$OUT")"
t_match "... still held on A" "$QID3" "$(held_ids "$PFA")"
on_a moderate run
t_match "A's run deletes it" "$ID3	deleted	$QID3	reject" "$(cat "$OUT")"
t_eq "... gone from A's hold queue" "$QID4 " "$(held_ids "$PFA")"
n=$((n + 2))
t_ok "... the sender is told (and 9a's moderator about the other message)" h_wait_sink_count smarthost $n
t_match "... with the reason" "not for the whole class" "$(cat "$(sink_to outsider3@example.org)")"

# --- 6. expiry on A, by A only -------------------------------------------------
for h in A B; do
    c=$MDIR/${h,,}.conf
    sed 's/^moderation_address = .*/&\nmoderation_timeout = 1s/' "$c" > "$MDIR/short-${h,,}.conf"
done
t_wait "A's message is older than 1 s" 5 row_for \
    "SELECT id FROM moderation_queue WHERE id = $ID4 AND created_at < NOW() - INTERVAL 1 SECOND"
S4=$(row_of "$ID4")
MAIL_CONFIG=$PFB "$BUILD/postern" -c "$MDIR/short-b.conf" moderate expire > "$OUT" 2> "$ERR"
t_eq "B's expire (moderation_timeout = 1s): nothing" "" "$(cat "$OUT")"
t_eq "... A's row unchanged" "$S4" "$(row_of "$ID4")"
t_eq "... still held on A" "$QID4 " "$(held_ids "$PFA")"
MAIL_CONFIG=$PFA "$BUILD/postern" -c "$MDIR/short-a.conf" moderate expire > "$OUT" 2> "$ERR"
t_eq "A's expire: expired and deleted" "$ID4	deleted	$QID4	expire" "$(cat "$OUT")"
t_eq "... A's hold queue is empty" "" "$(held_ids "$PFA")"
n=$((n + 1))
t_ok "... the sender is told" h_wait_sink_count smarthost $n
t_match "... that nobody decided in time" "no moderator decided in time" \
    "$(cat "$(sink_to outsider4@example.org)")"

# --- 7. the same queue ID on both hosts --------------------------------------------
r=$(h_smtp --port "$PORTA" --from outsider5@example.org --to "9a@$D" --subject "to 9a, same ID")
t_match "A: 9a from a fifth outsider: held" '^DATA 250 ' "$r"
t_wait "... a row" 10 row_for "SELECT id FROM moderation_queue WHERE sender = 'outsider5@example.org'"
ID5=$(id_of outsider5@example.org)
QID5=$(qid_of "$ID5")
# B holds a message under the same queue ID (a copy of the queue file) and
# has its row, as B's milter writes it
cp -p "$H_PF_QUEUE/hold/$QID5" "$H_PF_B_QUEUE/hold/$QID5"
t_eq "B's hold queue has the same queue ID" "$QID5 " "$(held_ids "$PFB")"
t_ok "B's row with A's queue ID can be written" h_sql "
INSERT INTO moderation_queue (host, queue_id, rule_id, group_address, sender, subject, excerpt)
  SELECT '$HB', queue_id, rule_id, group_address, 'outsider6@example.org', 'on B', excerpt
    FROM moderation_queue WHERE id = $ID5"
ID6=$(id_of outsider6@example.org)
on_a moderate list
t_match "postern moderate list: the queue ID twice, one per host" \
    "$ID5	$HA	$QID5	.*$ID6	$HB	$QID5	" "$(cat "$OUT" | tr '\n' ' ')"
S5=$(row_of "$ID5")
on_b moderate reject "$ID6" --reason "copy"
t_eq "rejected on B: B's copy deleted at once" "$ID6	reject	by admin-b
$ID6	deleted	$QID5	reject" "$(cat "$OUT")"
t_eq "... B's hold queue is empty" "" "$(held_ids "$PFB")"
t_eq "... A's message with that ID is still held" "$QID5 " "$(held_ids "$PFA")"
t_eq "... A's row unchanged" "$S5" "$(row_of "$ID5")"
n=$((n + 1))
t_ok "... B's sender is told" h_wait_sink_count smarthost $n
t_ok "... (B's sender)" has_sink_to outsider6@example.org
S6=$(row_of "$ID6")
on_a moderate approve "$ID5"
t_eq "approved on A: A's message released at once" "$ID5	approve	by admin-a
$ID5	released	$QID5	approve" "$(cat "$OUT")"
t_eq "... A's hold queue is empty" "" "$(held_ids "$PFA")"
t_eq "... B's row unchanged" "$S6" "$(row_of "$ID6")"
n=$((n + 1))
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... to 9a's members" "lena.schueler@$D max.schueler@$D " \
    "$(env_rcpts "$(sink_to "max.schueler@$D")")"
on_a moderate run
t_eq "nothing left to do on A" "" "$(cat "$OUT")"
on_b moderate run
t_eq "... nor on B" "" "$(cat "$OUT")"
t_eq "every row applied" "0" "$(q "SELECT COUNT(*) FROM moderation_queue WHERE applied_at IS NULL")"
t_eq "no more mail" "$n" "$(h_sink_count smarthost)"
t_summary
