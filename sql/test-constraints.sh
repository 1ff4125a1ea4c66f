#!/bin/sh
# sql/test-constraints.sh -- prove that the database refuses an admin's typos.
#
# usage: sql/test-constraints.sh [mariadb client options...] DATABASE
#   e.g. sql/test-constraints.sh --socket=/tmp/db/sock -uroot postern
#
# Runs against a database that has the postern schema (with or without the
# sample data).  Every case runs in its own transaction on top of a small
# fixture (domains pt-*.example, group pt-group, rule pt-rule) and is rolled
# back, so the database is left as it was.  A "refused" case passes only if
# the statement fails with the expected error (so a broken fixture cannot
# pass for a refusal).  The last line is "N passed, N failed"; the exit
# status is non-zero if anything failed.
#
# Environment: MARIADB  client program (default: mariadb)
set -u

MARIADB=${MARIADB:-mariadb}
here=$(cd "$(dirname "$0")" && pwd)

# Keep the client options (POSIX sh has no arrays): quote each one.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
OPTS=""
for a in "$@"; do OPTS="$OPTS $(quote "$a")"; done
client() { eval "\"\$MARIADB\" $OPTS --batch --skip-column-names"; }

pass=0
fail=0

FIXTURE="SET NAMES utf8mb4;
START TRANSACTION;
INSERT INTO domains (name, kind) VALUES ('pt-local.example', 'local');
INSERT INTO domains (name, kind, alias_target) VALUES ('pt-alias.example', 'alias', 'pt-local.example');
INSERT INTO mailboxes (local_part, domain) VALUES ('user', 'pt-local.example');
INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', NULL, 'user@pt-local.example');
INSERT INTO policy_groups (name) VALUES ('pt-group');
INSERT INTO policy_group_members (group_id, member_type, value) SELECT id, 'address', 'user@pt-local.example' FROM policy_groups WHERE name = 'pt-group';
INSERT INTO ratelimit_rules (name, key_type) VALUES ('pt-rule', 'sasl_login');
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count) SELECT id, 3600, 10 FROM ratelimit_rules WHERE name = 'pt-rule';
INSERT INTO group_send_rules (group_address, may_send) VALUES ('pt-class@pt-local.example', 'groups');"

run_sql() {
    printf '%s\n%s\nROLLBACK;\n' "$FIXTURE" "$1" | client 2>&1
}

ok()     { pass=$((pass + 1)); echo "ok   - $1"; }
not_ok() { fail=$((fail + 1)); echo "FAIL - $1"; [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/       /'; }

# expect_ok DESCRIPTION SQL [EXPECTED-OUTPUT]
expect_ok() {
    out=$(run_sql "$2"); rc=$?
    if [ $rc -ne 0 ]; then
        not_ok "$1 (accepted)" "$out"
    elif [ $# -ge 3 ] && [ "$out" != "$3" ]; then
        not_ok "$1" "expected: $3
got:      $out"
    else
        ok "$1 (accepted)"
    fi
}

# expect_refused DESCRIPTION ERROR-PATTERN SQL
expect_refused() {
    out=$(run_sql "$3"); rc=$?
    if [ $rc -eq 0 ]; then
        not_ok "$1 (was accepted, should be refused)" ""
    elif printf '%s' "$out" | grep -qi -- "$2"; then
        ok "$1 (refused)"
    else
        not_ok "$1 (refused, but not with '$2')" "$out"
    fi
}

# --- connection, schema version --------------------------------------------
if ! out=$(client -e 'SELECT 1' 2>&1); then
    echo "cannot connect: $out"
    echo "0 passed, 1 failed"
    exit 1
fi
latest=0
for f in "$here"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
    [ -f "$f" ] || continue
    n=${f##*/}
    # shellcheck disable=SC2003  # expr, because $((0008)) would be read as octal
    n=$(expr "${n%%_*}" + 0)
    [ "$n" -gt "$latest" ] && latest=$n
done
expect_ok "schema_version is at the newest migration ($latest)" "SELECT MAX(version) FROM schema_version;" "$latest"
expect_ok "fixture loads" "SELECT 1;" "1"

# --- positive controls ------------------------------------------------------
expect_ok "valid local domain" "INSERT INTO domains (name, kind, default_quota_bytes, relayhost, dkim_selector) VALUES ('pt-two.example', 'local', 0, '[smtp.pt.example]:587', 'sel1');"
expect_ok "IDN domain in xn-- form" "INSERT INTO domains (name, kind) VALUES ('xn--mller-kva.example', 'local');"
expect_ok "relay domain with transport" "INSERT INTO domains (name, kind, transport) VALUES ('pt-relay.example', 'relay', 'relay:[mx.pt-relay.example]:25');"
expect_ok "legacy domain" "INSERT INTO domains (name, kind, transport) VALUES ('pt-legacy.example', 'legacy', 'smtp:[legacy.example]:25');"
expect_ok "maildir is derived from volume and address" \
  "SELECT maildir FROM mailboxes WHERE address = 'user@pt-local.example';" \
  "vol01/$(printf 'user@pt-local.example' | sha256sum | cut -c1-2)/$(printf 'user@pt-local.example' | sha256sum | cut -c1-4)/user@pt-local.example/"
expect_ok "mailbox with + and dots, quota 0" "INSERT INTO mailboxes (local_part, domain, quota_bytes, volume, migration_state) VALUES ('first.last+tag', 'pt-local.example', 0, 'vol_02', 'legacy');"
expect_ok "crypt password hash" "UPDATE mailboxes SET password_hash = '\$6\$salt\$abcdefghij' WHERE address = 'user@pt-local.example';"
expect_ok "forward with copy to external address" "INSERT INTO aliases (domain, local_part, target, keep_copy) VALUES ('pt-local.example', 'user', 'Someone@elsewhere.example', 1);"
expect_ok "alias with two targets" "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'team', 'a@pt-local.example'), ('pt-local.example', 'team', 'b@pt-local.example');"
expect_ok "transports rows" "INSERT INTO transports (match_type, pattern, purpose, transport) VALUES ('domain', '.pt-local.example', 'delivery', 'smtp:[10.0.0.1]:25'), ('address', 'x@pt-local.example', 'delivery', 'postern-lda:');"
expect_ok "relayhost rows" "INSERT INTO relayhosts (match_type, pattern, nexthop, credential_ref) VALUES ('domain', 'pt-local.example', '[2001:db8::1]:587', 'pt-local.example'), ('address', 'user@pt-local.example', 'smtp.pt.example:25', NULL);"
expect_ok "whitelist IPv4/IPv6 networks and names" "INSERT INTO greylist_whitelist (kind, value) VALUES ('client_network', '10.1.0.0/16'), ('client_network', '2001:db8:1::/48'), ('client_network', '192.0.2.7'), ('client_hostname', '.pt.example'), ('recipient', 'user@pt-local.example');"
expect_ok "dkim key" "INSERT INTO dkim_keys (domain, selector, algorithm, key_path) VALUES ('pt-local.example', 's2025', 'ed25519-sha256', '/etc/postern/dkim/pt-local.example/s2025.key');"
expect_ok "change_counter moves on insert" \
  "SELECT generation INTO @g FROM change_counter WHERE tbl = 'domains'; INSERT INTO domains (name, kind) VALUES ('pt-three.example', 'local'); SELECT generation - @g FROM change_counter WHERE tbl = 'domains';" "1"
expect_ok "change_counter covers cascaded deletes" \
  "SELECT generation INTO @g FROM change_counter WHERE tbl = 'policy_group_members'; DELETE FROM policy_groups WHERE name = 'pt-group'; SELECT generation - @g FROM change_counter WHERE tbl = 'policy_group_members';" "1"
expect_ok "mailbox flips from legacy to migrated" \
  "UPDATE mailboxes SET migration_state = 'legacy' WHERE address = 'user@pt-local.example'; UPDATE mailboxes SET migration_state = 'migrated' WHERE address = 'user@pt-local.example'; SELECT migration_state FROM mailboxes WHERE address = 'user@pt-local.example';" "migrated"

# --- domains ----------------------------------------------------------------
expect_refused "upper-case domain" "domains_name_lower" \
  "INSERT INTO domains (name, kind) VALUES ('Pt-Upper.example', 'local');"
expect_refused "domain with empty label" "domains_name_syntax" \
  "INSERT INTO domains (name, kind) VALUES ('pt..example', 'local');"
expect_refused "domain with underscore" "domains_name_syntax" \
  "INSERT INTO domains (name, kind) VALUES ('pt_x.example', 'local');"
expect_refused "domain without a dot" "domains_name_syntax" \
  "INSERT INTO domains (name, kind) VALUES ('localhost', 'local');"
expect_refused "domain with trailing space" "domains_name_syntax" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example ', 'local');"
expect_refused "unknown domain kind" "column 'kind'" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example', 'virtual');"
expect_refused "alias domain without target" "domains_alias_target" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example', 'alias');"
expect_refused "alias_target on a local domain" "domains_alias_target" \
  "INSERT INTO domains (name, kind, alias_target) VALUES ('pt-x.example', 'local', 'pt-local.example');"
expect_refused "alias domain pointing at itself" "domains_alias_not_self" \
  "INSERT INTO domains (name, kind, alias_target) VALUES ('pt-x.example', 'alias', 'pt-x.example');"
expect_refused "alias domain pointing at unknown domain (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO domains (name, kind, alias_target) VALUES ('pt-x.example', 'alias', 'pt-nowhere.example');"
expect_refused "alias chain" "no alias chains" \
  "INSERT INTO domains (name, kind, alias_target) VALUES ('pt-x.example', 'alias', 'pt-alias.example');"
expect_refused "alias domain with a transport" "domains_alias_no_route" \
  "INSERT INTO domains (name, kind, alias_target, transport) VALUES ('pt-x.example', 'alias', 'pt-local.example', 'smtp:[x.example]:25');"
expect_refused "relay domain without transport" "domains_relay_transport" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example', 'relay');"
expect_refused "transport without colon" "domains_transport_syntax" \
  "INSERT INTO domains (name, kind, transport) VALUES ('pt-x.example', 'relay', '[mx.x.example]:25');"
expect_refused "relayhost with bad port" "domains_relayhost_syntax" \
  "INSERT INTO domains (name, kind, relayhost) VALUES ('pt-x.example', 'local', '[smtp.x.example]:smtp');"
expect_refused "negative domain quota" "Out of range" \
  "INSERT INTO domains (name, kind, default_quota_bytes) VALUES ('pt-x.example', 'local', -1);"
expect_refused "active flag 2" "domains_active_flag" \
  "UPDATE domains SET active = 2 WHERE name = 'pt-local.example';"
expect_refused "delete a domain that has mailboxes" "foreign key constraint fails" \
  "DELETE FROM domains WHERE name = 'pt-local.example';"
expect_refused "rename a domain that has mailboxes" "foreign key constraint fails" \
  "UPDATE domains SET name = 'pt-renamed.example' WHERE name = 'pt-local.example';"
expect_refused "turn a domain with mailboxes into an alias domain" "still has mailboxes" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example', 'local'); INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'pt-x.example'); UPDATE domains SET kind = 'alias', alias_target = 'pt-local.example' WHERE name = 'pt-x.example';"
expect_refused "turn an alias target into an alias domain (chain)" "other alias domains point at this domain" \
  "INSERT INTO domains (name, kind) VALUES ('pt-x.example', 'local'); UPDATE domains SET kind = 'alias', alias_target = 'pt-x.example' WHERE name = 'pt-local.example';"

# --- mailboxes --------------------------------------------------------------
expect_refused "negative mailbox quota" "Out of range" \
  "INSERT INTO mailboxes (local_part, domain, quota_bytes) VALUES ('neg', 'pt-local.example', -5);"
expect_refused "upper-case local part" "mailboxes_local_part_lower" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('Anna', 'pt-local.example');"
expect_refused "local part with @" "mailboxes_local_part_syntax" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('anna@pt-local.example', 'pt-local.example');"
expect_refused "local part with slash" "mailboxes_local_part_syntax" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('../anna', 'pt-local.example');"
expect_refused "empty local part" "mailboxes_local_part_syntax" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('', 'pt-local.example');"
expect_refused "mailbox in unknown domain (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'pt-nowhere.example');"
expect_refused "mailbox in an alias domain" "is an alias domain" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'pt-alias.example');"
expect_refused "duplicate mailbox" "Duplicate entry" \
  "INSERT INTO mailboxes (local_part, domain) VALUES ('user', 'pt-local.example');"
expect_refused "bad volume name" "mailboxes_volume_syntax" \
  "INSERT INTO mailboxes (local_part, domain, volume) VALUES ('anna', 'pt-local.example', 'Vol/1');"
expect_refused "unknown migration state" "column 'migration_state'" \
  "INSERT INTO mailboxes (local_part, domain, migration_state) VALUES ('anna', 'pt-local.example', 'pending');"
expect_refused "plain-text password in password_hash" "mailboxes_password_hash" \
  "UPDATE mailboxes SET password_hash = 'secret123' WHERE address = 'user@pt-local.example';"
expect_refused "maildir cannot be typed" "maildir" \
  "UPDATE mailboxes SET maildir = 'vol01/x/' WHERE address = 'user@pt-local.example';"

# --- aliases ----------------------------------------------------------------
expect_refused "alias target without @" "aliases_target_syntax" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'info', 'user');"
expect_refused "alias target with two @" "aliases_target_syntax" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'info', 'user@x@pt-local.example');"
expect_refused "alias target in @domain form" "aliases_target_syntax" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'info', '@pt-local.example');"
expect_refused "alias target with upper-case domain" "aliases_target_domain_lower" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'info', 'user@PT-local.example');"
expect_refused "alias pointing at itself" "aliases_target_not_self" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', 'info', 'info@pt-local.example');"
expect_refused "duplicate catch-all row" "Duplicate entry" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', NULL, 'user@pt-local.example');"
expect_refused "empty local part (use NULL for a catch-all)" "aliases_local_part_syntax" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-local.example', '', 'user@pt-local.example');"
expect_refused "keep_copy on a catch-all" "aliases_catchall_no_copy" \
  "INSERT INTO aliases (domain, local_part, target, keep_copy) VALUES ('pt-local.example', NULL, 'other@pt-local.example', 1);"
expect_refused "alias in unknown domain (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-nowhere.example', 'info', 'user@pt-local.example');"
expect_refused "alias in an alias domain" "is an alias domain" \
  "INSERT INTO aliases (domain, local_part, target) VALUES ('pt-alias.example', 'info', 'user@pt-local.example');"

# --- transports, relay hosts, send-as ---------------------------------------
expect_refused "default transport with a pattern" "transports_default_pattern" \
  "INSERT INTO transports (match_type, pattern, transport) VALUES ('default', 'pt-local.example', 'smtp:');"
expect_refused "domain transport with empty pattern" "transports_default_pattern" \
  "INSERT INTO transports (match_type, pattern, transport) VALUES ('domain', '', 'smtp:');"
expect_refused "domain transport with an address" "transports_domain_syntax" \
  "INSERT INTO transports (match_type, pattern, transport) VALUES ('domain', 'user@pt-local.example', 'smtp:');"
expect_refused "legacy purpose on an address row" "transports_address_purpose" \
  "INSERT INTO transports (match_type, pattern, purpose, transport) VALUES ('address', 'user@pt-local.example', 'legacy', 'smtp:');"
expect_refused "unknown transport purpose" "column 'purpose'" \
  "INSERT INTO transports (match_type, pattern, purpose, transport) VALUES ('domain', 'pt-local.example', 'outbound', 'smtp:');"
expect_refused "transport with a space" "transports_transport_syntax" \
  "INSERT INTO transports (match_type, pattern, transport) VALUES ('domain', 'pt-local.example', 'smtp: [x.example]:25');"
expect_refused "two default rows of the same purpose" "Duplicate entry" \
  "INSERT INTO transports (match_type, pattern, purpose, transport) VALUES ('default', '', 'local', 'a:'), ('default', '', 'local', 'b:');"
expect_refused "relayhost nexthop with scheme" "relayhosts_nexthop_syntax" \
  "INSERT INTO relayhosts (match_type, pattern, nexthop) VALUES ('domain', 'pt-local.example', 'smtp://smtp.x.example:587');"
expect_refused "password-like credential_ref" "relayhosts_credential_ref" \
  "INSERT INTO relayhosts (match_type, pattern, nexthop, credential_ref) VALUES ('domain', 'pt-local.example', '[smtp.x.example]:587', 'user secret');"
expect_refused "send-as domain grant with an address" "sender_grants_domain_syntax" \
  "INSERT INTO sender_grants (login, match_type, pattern) VALUES ('user@pt-local.example', 'domain', 'user@pt-local.example');"
expect_refused "send-as login upper-case" "sender_grants_login_syntax" \
  "INSERT INTO sender_grants (login, match_type, pattern) VALUES ('User@pt-local.example', 'address', 'x@pt-local.example');"

# --- DKIM -------------------------------------------------------------------
expect_refused "relative DKIM key path" "dkim_keys_key_path_syntax" \
  "INSERT INTO dkim_keys (domain, selector, key_path) VALUES ('pt-local.example', 's1', 'dkim/s1.key');"
expect_refused "DKIM key path with .." "dkim_keys_key_path_syntax" \
  "INSERT INTO dkim_keys (domain, selector, key_path) VALUES ('pt-local.example', 's1', '/etc/postern/../shadow');"
expect_refused "unknown DKIM algorithm" "column 'algorithm'" \
  "INSERT INTO dkim_keys (domain, selector, algorithm, key_path) VALUES ('pt-local.example', 's1', 'rsa-sha1', '/k');"
expect_refused "DKIM key for unknown domain (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO dkim_keys (domain, selector, key_path) VALUES ('pt-nowhere.example', 's1', '/k');"
expect_refused "DKIM selector with underscore" "dkim_keys_selector_syntax" \
  "INSERT INTO dkim_keys (domain, selector, key_path) VALUES ('pt-local.example', 's_1', '/k');"

# --- policy groups and rules ------------------------------------------------
expect_refused "nested member group that does not exist" "foreign key constraint fails" \
  "INSERT INTO policy_group_members (group_id, member_type, value) SELECT id, 'group', 'pt-nowhere' FROM policy_groups WHERE name = 'pt-group';"
expect_refused "member address upper-case" "policy_group_members_address" \
  "INSERT INTO policy_group_members (group_id, member_type, value) SELECT id, 'address', 'Anna@pt-local.example' FROM policy_groups WHERE name = 'pt-group';"
expect_refused "member domain with @" "policy_group_members_domain" \
  "INSERT INTO policy_group_members (group_id, member_type, value) SELECT id, 'domain', '@pt-local.example' FROM policy_groups WHERE name = 'pt-group';"
expect_refused "unknown member type" "column 'member_type'" \
  "INSERT INTO policy_group_members (group_id, member_type, value) SELECT id, 'user', 'x' FROM policy_groups WHERE name = 'pt-group';"
expect_refused "member of unknown group (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO policy_group_members (group_id, member_type, value) VALUES (4294967295, 'address', 'a@pt-local.example');"
expect_refused "group name with space" "policy_groups_name_syntax" \
  "INSERT INTO policy_groups (name) VALUES ('pt group');"
expect_refused "sender rule without any group" "sender_rules_some_group" \
  "INSERT INTO sender_rules (name, action) VALUES ('pt-rule', 'reject');"
expect_refused "sender rule with unknown action" "column 'action'" \
  "INSERT INTO sender_rules (name, recipient_group_id, action) SELECT 'pt-rule', id, 'drop' FROM policy_groups WHERE name = 'pt-group';"
expect_refused "sender rule with dangling group (FK)" "foreign key constraint fails" \
  "INSERT INTO sender_rules (name, recipient_group_id, action) VALUES ('pt-rule', 4294967295, 'reject');"
expect_refused "delete a group still used by a rule" "foreign key constraint fails" \
  "INSERT INTO sender_rules (name, recipient_group_id, action) SELECT 'pt-rule', id, 'reject' FROM policy_groups WHERE name = 'pt-group'; DELETE FROM policy_groups WHERE name = 'pt-group';"
expect_refused "unknown group send mode" "column 'may_send'" \
  "INSERT INTO group_send_rules (group_address, may_send) VALUES ('x@pt-local.example', 'teachers');"
expect_refused "group send rule with dangling policy group (FK)" "foreign key constraint fails" \
  "INSERT INTO group_send_allowed (rule_id, policy_group_id) SELECT id, 4294967295 FROM group_send_rules WHERE group_address = 'pt-class@pt-local.example';"

# --- greylisting ------------------------------------------------------------
expect_refused "second default greylist row" "Duplicate entry" \
  "INSERT INTO greylist_settings (domain, enabled, delay_seconds, retry_window_seconds, expiry_seconds, auto_whitelist_after, ipv4_prefix, ipv6_prefix, add_header, spf_pool) VALUES (NULL, 1, 300, 86400, 864000, 5, 24, 64, 1, 1);"
expect_refused "incomplete default greylist row" "greylist_settings_default_complete" \
  "DELETE FROM greylist_settings WHERE domain IS NULL; INSERT INTO greylist_settings (domain, enabled) VALUES (NULL, 1);"
expect_refused "retry window shorter than delay" "greylist_settings_window" \
  "INSERT INTO greylist_settings (domain, delay_seconds, retry_window_seconds) VALUES ('pt-local.example', 600, 300);"
expect_refused "IPv4 prefix 33" "greylist_settings_prefix" \
  "INSERT INTO greylist_settings (domain, ipv4_prefix) VALUES ('pt-local.example', 33);"
expect_refused "greylist settings for unknown domain (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO greylist_settings (domain, enabled) VALUES ('pt-nowhere.example', 0);"
expect_refused "whitelist network /33" "greylist_whitelist_network" \
  "INSERT INTO greylist_whitelist (kind, value) VALUES ('client_network', '10.0.0.0/33');"
expect_refused "whitelist network that is no address" "greylist_whitelist_network" \
  "INSERT INTO greylist_whitelist (kind, value) VALUES ('client_network', '10.0.0');"
expect_refused "unknown whitelist kind" "column 'kind'" \
  "INSERT INTO greylist_whitelist (kind, value) VALUES ('helo', 'x.example');"

# --- rate limits ------------------------------------------------------------
expect_refused "unknown rate-limit key type" "column 'key_type'" \
  "INSERT INTO ratelimit_rules (name, key_type) VALUES ('pt-x', 'ip');"
expect_refused "prefix on a non-client rule" "ratelimit_rules_prefix" \
  "INSERT INTO ratelimit_rules (name, key_type, ipv4_prefix) VALUES ('pt-x', 'sasl_login', 24);"
expect_refused "sender_domain rule with an address" "ratelimit_rules_match_domain" \
  "INSERT INTO ratelimit_rules (name, key_type, match_value) VALUES ('pt-x', 'sender_domain', 'a@pt-local.example');"
expect_refused "window of 0 seconds" "ratelimit_windows_length" \
  "INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count) SELECT id, 0, 10 FROM ratelimit_rules WHERE name = 'pt-rule';"
expect_refused "negative limit" "Out of range" \
  "INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count) SELECT id, 60, -1 FROM ratelimit_rules WHERE name = 'pt-rule';"
expect_refused "override for a window the rule does not have" "foreign key constraint fails" \
  "INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count) SELECT id, 'a@pt-local.example', 86400, 5 FROM ratelimit_rules WHERE name = 'pt-rule';"
expect_refused "window for unknown rule (dangling FK)" "foreign key constraint fails" \
  "INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count) VALUES (4294967295, 60, 1);"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
