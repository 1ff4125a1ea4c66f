#!/bin/bash
# sieve-lists-ldap.sh - Sieve "extlists" (RFC 6134) lists served from LDAP
# in postern-lda, through a real Postfix, MariaDB and slapd
# (ldap/school.ldif).  With [lda] ldap = yes and an [ldap] section:
#   - "tag:NAME" that is no policy group but a directory group
#     (postern-dirsync's table directory_groups: its cn, any case, or its
#     address) is answered in LDAP: mail from a class member is filed,
#     mail from anyone else kept; nested groups count;
#   - ldap_group members of a policy group are answered in LDAP;
#   - redirect :list of a directory group goes to its LDAP members.
# slapd stopped: a run-time error of the script, the message is kept in
# INBOX, never filed by a wrong answer.  With ldap = no (the default) a
# directory group is no list and an ldap_group member a run-time error, as
# before.
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
h_init

h_start_slapd
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
K=cn=klassen,cn=schueler,cn=groups,ou=bns,ou=schools,dc=school,dc=example
G=cn=groups,ou=bns,ou=schools,dc=school,dc=example
# the rows postern-dirsync writes for two of the school's groups
h_sql "INSERT INTO domains (name, kind) VALUES ('school.example', 'local'), ('bns.school.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('teacher', 'school.example'), ('office', 'school.example');
       INSERT INTO directory_groups (dir_uuid, address, dn, name) VALUES
         ('00000000-0000-0000-0000-0000000009a0', '9a@bns.school.example', 'cn=bns-9a,$K', 'bns-9a'),
         ('00000000-0000-0000-0000-000000000a19', 'alle-9@bns.school.example', 'cn=bns-alle-9,$G', 'bns-alle-9');
       INSERT INTO policy_groups (name) VALUES ('parents');
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'anna@home.example' FROM policy_groups WHERE name = 'parents';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'ldap_group', 'cn=eltern-bns,$G' FROM policy_groups WHERE name = 'parents';" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@school.example'"; }
md_teacher=$(md teacher); md_office=$(md office)
ROOT=$H_DIR/mail
mkdir -p "$ROOT/$md_teacher" "$ROOT/$md_office"
lda_install
CONF=$H_DIR/lda.conf
CONF_NOLDAP=$H_DIR/lda-noldap.conf
lda_conf "$CONF_NOLDAP" "$ROOT" < /dev/null
lda_conf "$CONF" "$ROOT" <<< "ldap = yes"
cat >> "$CONF" <<EOC
[ldap]
uri = $H_LDAP_URI
base = $H_LDAP_BASE
connect_timeout = 500ms
query_timeout = 2s
EOC
t_ok "postern-lda -t (ldap = yes, [ldap])" "$LDA" -c "$CONF" -t
t_ok "postern-lda -t (without [ldap])" "$LDA" -c "$CONF_NOLDAP" -t
# the LDAP module (lib/ldapload.h) is loaded on demand; without it the
# configuration test says so, and ldap = no never needs it
mkdir -p "$H_DIR/nomod"
cp "$LDA" "$H_DIR/nomod/postern-lda"
out=$("$H_DIR/nomod/postern-lda" -c "$CONF" -t 2>&1)
t_match "postern-lda -t without postern-ldap.so: a clear error" \
    'ldap = yes: cannot load the LDAP module: .*postern-ldap.so' "$out"
t_ok "... ldap = no does not need it" "$H_DIR/nomod/postern-lda" -c "$CONF_NOLDAP" -t
t_ok "postern-lda itself does not link libldap" \
    sh -c "! ldd '$LDA' | grep -q libldap"
t_match "postern-lda -d lists [lda] ldap and [ldap] uri" '^#? *uri = ' \
    "$("$LDA" -d 2>&1 | grep -A200 '^\[ldap\]' | grep 'uri = ')"
lda_start_postfix school.example "$CONF" relay

cat > "$ROOT/$md_teacher/.postern.sieve" <<'EOS'
require ["fileinto", "extlists"];
if address :list "from" "tag:BNS-9a" {
    fileinto "Class";
} elsif address :list "from" "tag:alle-9@bns.school.example" {
    fileinto "Nine";
} elsif address :list "from" "tag:parents" {
    fileinto "Parents";
}
EOS
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"

count() { find "$ROOT/$md_teacher/$1/new" "$ROOT/$md_teacher/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
kept() { # the message NMSG is in the teacher's INBOX
    grep -qs "^Message-ID: <l$NMSG\\." "$ROOT/$md_teacher"/new/* "$ROOT/$md_teacher"/cur/*
}

send 'Max <max.schueler@bns.school.example>' teacher@school.example
settle
t_eq "directory group by its cn (any case): a class member is filed" 1 "$(count .Class)"
t_eq "... and not kept in INBOX" 0 "$(count .)"
send 'eve@home.example' teacher@school.example
settle
t_ok "a non-member is kept in INBOX" kept
t_eq "... and not filed" 1 "$(count .Class)"
send 'Jonas <Jonas.Schueler@BNS.school.example>' teacher@school.example
settle
t_eq "directory group by its address: a member of a nested class (any case) is filed" 1 "$(count .Nine)"
send 'Mueller <eltern.mueller@eltern.school.example>' teacher@school.example
settle
t_eq "ldap_group member of a policy group: filed" 1 "$(count .Parents)"
send 'anna@home.example' teacher@school.example
settle
t_eq "address member of the same policy group: filed" 2 "$(count .Parents)"
send 'paul.lehrer@gym.school.example' teacher@school.example
settle
t_ok "in LDAP but in none of the groups: kept" kept
t_eq "... not filed anywhere" "1 1 2" "$(count .Class) $(count .Nine) $(count .Parents)"

# valid_ext_list and redirect :list of a directory group
cat > "$ROOT/$md_office/.postern.sieve" <<'EOS'
require ["fileinto", "extlists", "copy"];
if valid_ext_list "tag:bns-9b" { fileinto "Wrong"; stop; }
if valid_ext_list "tag:bns-9a" { redirect :copy :list "tag:bns-9a"; }
EOS
chown nobody "$ROOT/$md_office/.postern.sieve"
send 'someone@remote.example' office@school.example
settle
t_eq "redirect :list of a directory group: kept (:copy)" 1 \
    "$(find "$ROOT/$md_office/new" -type f | wc -l)"
t_eq "valid_ext_list: a group without a directory_groups row is no list" 0 \
    "$(find "$ROOT/$md_office/.Wrong" -type f 2>/dev/null | wc -l)"
t_ok "redirect :list: sent to max (LDAP member)" \
    grep -q 'to=<max.schueler@bns.school.example>' "$H_PF_LOG"
t_ok "redirect :list: ... and to lena" \
    grep -q 'to=<lena.schueler@bns.school.example>' "$H_PF_LOG"

# a name two directory groups share: ambiguous, a run-time error (kept)
h_sql "INSERT INTO directory_groups (dir_uuid, address, dn, name) VALUES
         ('00000000-0000-0000-0000-0000000009a1', '9a-copy@bns.school.example', 'cn=bns-9a-copy,$K', 'bns-9a')"
send 'max.schueler@bns.school.example' teacher@school.example
settle
t_ok "a cn two directory groups share: kept in INBOX" kept
t_eq "... not filed" 1 "$(count .Class)"
h_sql "DELETE FROM directory_groups WHERE address = '9a-copy@bns.school.example'"

# slapd stopped: run-time error, kept in INBOX, never filed wrongly
h_stop_slapd
send 'max.schueler@bns.school.example' teacher@school.example
settle
t_ok "slapd stopped: a class member's message is kept in INBOX" kept
t_eq "slapd stopped: not filed into Class" 1 "$(count .Class)"
send 'eltern.mueller@eltern.school.example' teacher@school.example
settle
t_ok "slapd stopped: an ldap_group member's message is kept" kept
t_eq "slapd stopped: not filed into Parents" 2 "$(count .Parents)"
t_ok "slapd stopped: the run-time error is in the user's log" \
    grep -q 'temporary failure of the list lookup' "$ROOT/$md_teacher/.postern.sieve.log"
h_restart_slapd
send 'max.schueler@bns.school.example' teacher@school.example
settle
t_eq "slapd back: filed again" 2 "$(count .Class)"

# without [ldap] (ldap = no): as before, a directory group is no list and
# an ldap_group member cannot be asked (run-time error, kept)
# (pipe mode reads the file at every delivery)
cp "$CONF_NOLDAP" "$CONF"
send 'max.schueler@bns.school.example' teacher@school.example
settle
t_ok "ldap = no: a directory group is no list (kept)" kept
t_eq "ldap = no: not filed into Class" 2 "$(count .Class)"
send 'eltern.mueller@eltern.school.example' teacher@school.example
settle
t_ok "ldap = no: an ldap_group member is kept (cannot tell)" kept
t_eq "ldap = no: not filed into Parents" 2 "$(count .Parents)"
t_summary
