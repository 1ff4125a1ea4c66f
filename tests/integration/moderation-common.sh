# moderation-common.sh - helpers shared by the moderation suites
# (moderation.sh, moderation-mx2.sh; sourced, not executable, so tests/run
# does not run it by itself).  Needs harness.sh sourced, h_init done,
# milter-common.sh sourced and start_group_stack run (MariaDB with the
# schema, slapd with the sample school, the smarthost sink).
#
#   moderation_rules D    domain D (local); policy groups bns-teachers
#                         (its member: the LDAP group lehrer@D) and
#                         ag-leitung (extra.teacher@example.org); send
#                         rules 9a@D (may_send groups: bns-teachers) and
#                         9b@D (members), both require_auth, without
#                         moderators (each suite names its own)
#   held_ids [CONF]       queue IDs in the hold queue of the Postfix whose
#                         config directory is CONF (default $H_PF_CONF),
#                         sorted, each followed by a blank
#   q SQL                 h_sql SQL
#   row_for SQL           true when SQL prints something
#   sink_to ADDR          the newest smarthost message with RCPT TO ADDR
#                         (path of the .eml); has_sink_to ADDR
#   token_in FILE D       the reply address moderate+TOKEN@D in FILE

moderation_rules() {
    local d=$1
    h_sql "
INSERT INTO domains (name, kind) VALUES ('$d', 'local');
INSERT INTO policy_groups (name) VALUES ('bns-teachers'), ('ag-leitung');
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'address', 'extra.teacher@example.org' FROM policy_groups WHERE name = 'ag-leitung';
INSERT INTO policy_group_members (group_id, member_type, value)
  SELECT id, 'ldap_group', 'lehrer@$d' FROM policy_groups WHERE name = 'bns-teachers';
INSERT INTO group_send_rules (group_address, may_send, require_auth) VALUES
  ('9a@$d', 'groups', 1), ('9b@$d', 'members', 1);
INSERT INTO group_send_allowed (rule_id, policy_group_id)
  SELECT r.id, g.id FROM group_send_rules r JOIN policy_groups g
   WHERE r.group_address = '9a@$d' AND g.name = 'bns-teachers';
"
}

held_ids() {
    postqueue -c "${1:-$H_PF_CONF}" -j | "$H_PYTHON" -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m["queue_name"] == "hold":
        print(m["queue_id"])' | sort | tr '\n' ' '
}

q() { h_sql "$1"; }
row_for() { [ -n "$(q "$1")" ]; }

sink_to() {
    local f
    f=$(grep -l "^RCPT TO:<$1>" "$H_DIR"/sink-smarthost/*.env 2>/dev/null | sort | tail -n 1)
    [ -n "$f" ] && echo "${f%.env}.eml"
}
has_sink_to() { [ -n "$(sink_to "$1")" ]; }

token_in() {
    grep -o "moderate+[0-9a-f]\{32\}@$2" "$1" 2>/dev/null | head -n 1
}
