#!/bin/bash
# sieve-lists.sh - the Sieve "extlists" extension (RFC 6134) in postern-lda
# through a real Postfix and MariaDB: a user's script
#   if address :list "from" "tag:parents" { fileinto "Parents"; }
# files mail whose sender is a member of the postern policy group
# "parents" (an address member, a domain member, a member of a nested
# group, a member written through an alias domain or with a +extension),
# and keeps mail from everyone else in INBOX.  valid_ext_list and
# redirect :list through postern-lda; include :once/:optional and
# enotify :encodeurl through postern-lda too.  When the group cannot be read (its
# table gone) the script fails at run time and the message is kept in
# INBOX; with the database down the delivery is deferred by Postfix and
# filed correctly once the database is back: never lost.
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
SIEVETEST=$PWD/$BUILD/postern-sieve-test
h_init

# --- the engine: tests/sieve/extlists.svtest -----------------------------------------
out=$("$SIEVETEST" tests/sieve/extlists.svtest 2>&1); rc=$?
t_eq "extlists.svtest passes" 0 "$rc"
t_match "extlists.svtest: no failures" '^[0-9]+ passed, 0 failed$' "$(echo "$out" | tail -n 1)"

# --- Postfix + MariaDB + postern-lda -------------------------------------------------
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('school.example', 'local');
       INSERT INTO domains (name, kind, alias_target) VALUES ('old-school.example', 'alias', 'school.example');
       INSERT INTO mailboxes (local_part, domain) VALUES ('teacher', 'school.example'), ('office', 'school.example');
       INSERT INTO policy_groups (name) VALUES ('parents'), ('parents-9a'), ('staff');
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'anna@home.example' FROM policy_groups WHERE name = 'parents';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'domain', 'parents.example' FROM policy_groups WHERE name = 'parents';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'group', 'parents-9a' FROM policy_groups WHERE name = 'parents';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'bert@elsewhere.example' FROM policy_groups WHERE name = 'parents-9a';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'head@school.example' FROM policy_groups WHERE name = 'staff';
       INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'deputy@school.example' FROM policy_groups WHERE name = 'staff';" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@school.example'"; }
md_teacher=$(md teacher); md_office=$(md office)
ROOT=$H_DIR/mail
mkdir -p "$ROOT/$md_teacher" "$ROOT/$md_office"
lda_install
CONF=$H_DIR/lda.conf
lda_conf "$CONF" "$ROOT" < /dev/null
t_ok "postern-lda -t" "$LDA" -c "$CONF" -t
lda_start_postfix school.example "$CONF" relay

cat > "$ROOT/$md_teacher/.postern.sieve" <<'EOS'
require ["fileinto", "extlists"];
if address :list "from" "tag:parents" {
    fileinto "Parents";
} elsif address :list "from" "tag:staff" {
    fileinto "Staff";
}
EOS
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"

count() { find "$ROOT/$md_teacher/$1/new" "$ROOT/$md_teacher/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
inbox() { count .; }
parents() { count .Parents; }

send 'Anna <anna@home.example>' teacher@school.example
settle
t_eq "address member: filed into Parents" 1 "$(parents)"
t_eq "address member: not in INBOX" 0 "$(inbox)"
send 'eve@home.example' teacher@school.example
settle
t_eq "non-member: kept in INBOX" 1 "$(inbox)"
t_eq "non-member: not filed" 1 "$(parents)"
send 'Carla <carla@parents.example>' teacher@school.example
settle
t_eq "domain member: filed" 2 "$(parents)"
send 'bert@elsewhere.example' teacher@school.example
settle
t_eq "member of a nested group: filed" 3 "$(parents)"
send '"ANNA" <ANNA+school@Home.Example>' teacher@school.example
settle
t_eq "canonical form (case, quoting, +extension): filed" 4 "$(parents)"
send 'Head <head@old-school.example>' teacher@school.example
settle
t_eq "alias domain: head@old-school.example is head@school.example (staff)" 1 "$(count .Staff)"
t_eq "... and not a parent" 4 "$(parents)"
send 'x@sub.parents.example' teacher@school.example
settle
t_eq "a subdomain is no member of a domain member" 2 "$(inbox)"

# a member added in SQL counts at the next delivery
h_sql "INSERT INTO policy_group_members (group_id, member_type, value)
         SELECT id, 'address', 'eve@home.example' FROM policy_groups WHERE name = 'parents'"
send 'eve@home.example' teacher@school.example
settle
t_eq "a member added in SQL: filed at the next delivery" 5 "$(parents)"

# valid_ext_list and redirect :list
cat > "$ROOT/$md_office/.postern.sieve" <<'EOS'
require ["fileinto", "extlists", "copy"];
if valid_ext_list "tag:no-such-group" { fileinto "Wrong"; stop; }
if valid_ext_list "tag:staff" { redirect :copy :list "tag:staff"; }
EOS
chown nobody "$ROOT/$md_office/.postern.sieve"
base=$(h_sink_count smarthost)
send 'someone@remote.example' office@school.example
settle
t_eq "redirect :list: kept (:copy)" 1 "$(find "$ROOT/$md_office/new" -type f | wc -l)"
t_eq "valid_ext_list: an unknown group is no list" 0 "$(find "$ROOT/$md_office/.Wrong" -type f 2>/dev/null | wc -l)"
# staff's members are local: Postfix sends them back to postern-lda; head
# and deputy have no mailboxes here, so count what the queue saw
t_ok "redirect :list: both staff members were sent to" \
    grep -q 'to=<deputy@school.example>' "$H_PF_LOG"
t_ok "redirect :list: ... head too" grep -q 'to=<head@school.example>' "$H_PF_LOG"

# include :once / :optional and enotify's :encodeurl through postern-lda:
# "common" adds a header and is included twice with :once (one header),
# a missing :optional script is skipped, and the notification's subject
# carries the original subject percent-encoded in the mailto URI
mkdir -p "$ROOT/$md_office/sieve"
cat > "$ROOT/$md_office/sieve/common.sieve" <<'EOS'
require ["editheader"];
addheader "X-Common" "included";
EOS
cat > "$ROOT/$md_office/.postern.sieve" <<'EOS'
require ["include", "enotify", "variables", "fileinto"];
include :personal :once "common";
include :personal :once "common";
include :personal :optional "no-such-script";
if header :matches "subject" "*" { set :encodeurl "s" "${1}"; }
notify :message "new mail" "mailto:watch@remote.example?subject=${s}";
fileinto "Seen-Once";
EOS
chown -R nobody "$ROOT/$md_office"
base=$(h_sink_count smarthost)
f=$H_DIR/once.eml
printf 'From: a@remote.example\nTo: office@school.example\nSubject: Fees & dates? 100%% sure\nMessage-ID: <once.%s@remote.example>\n\nbody\n' "$$" > "$f"
h_smtp --port "$H_PF_SMTP_PORT" --from a@remote.example --to office@school.example --data "$f" >/dev/null
settle
stored=$(cat "$ROOT/$md_office/.Seen-Once/new/"* 2>/dev/null)
t_match "include :once through Postfix: the message is filed" 'Subject: Fees & dates' "$stored"
t_eq "include :once: the included script ran once (one X-Common header)" 1 \
    "$(printf '%s\n' "$stored" | grep -c '^X-Common: included')"
t_wait "enotify: the notification reached the sink" 20 \
    test "$(h_sink_count smarthost)" -gt "$base"
note=$(grep -l '^To:.*watch@remote.example' "$H_SINK_SMARTHOST_DIR"/*.eml 2>/dev/null | tail -n 1)
t_ok "enotify: sent to the mailto recipient" test -n "$note"
t_eq ":encodeurl: the subject survived the URI whole" 'Fees & dates? 100% sure' \
    "$(python3 -c 'import email,sys; from email.header import decode_header, make_header; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print(str(make_header(decode_header(m["Subject"]))))' "$note" 2>/dev/null)"

# the groups cannot be read: a run-time error, the message stays in INBOX
h_sql "RENAME TABLE policy_group_members TO policy_group_members_away"
send 'Anna <anna@home.example>' teacher@school.example
settle
# (the user may also find a notice of the script error in INBOX)
t_ok "group table unreadable: kept in INBOX (never lost)" \
    grep -qs "^Message-ID: <l$NMSG\\." "$ROOT/$md_teacher"/new/* "$ROOT/$md_teacher"/cur/*
t_eq "group table unreadable: not filed by a wrong answer" 5 "$(parents)"
t_ok "group table unreadable: the run-time error is in the user's log" \
    grep -q 'temporary failure of the list lookup' "$ROOT/$md_teacher/.postern.sieve.log"
h_sql "RENAME TABLE policy_group_members_away TO policy_group_members"

# the database is down: Postfix defers, nothing is lost, filed afterwards
h_stop_mariadb
send 'Anna <anna@home.example>' teacher@school.example
sleep 3
t_eq "database down: nothing delivered yet" 5 "$(parents)"
t_eq "database down: the message waits in Postfix's queue" 1 "$(h_queue_count)"
h_restart_mariadb
h_postqueue_flush; settle
t_eq "database back: the deferred message is filed into Parents" 6 "$(parents)"
t_summary
