#!/bin/bash
# forward-limits.sh - forwarded copies under rate limits (ratelimit_rules
# key type forwarder), through a real Postfix wired by postern-postconf
# --srs yes, real MariaDB and postern-maps:
#   - an alias to an outside address with a limit of 2 per hour: the third
#     forwarded copy is deferred by postern-forward (the queue shows it
#     deferred with the limit's text), not bounced; the alias domain
#     counts as the same account; after the limit is raised and
#     `postqueue -f`, it arrives with an SRS sender;
#   - a sender_domain rule (postern-policyd's) on the original sender's
#     domain does not count or block the forwarded copies;
#   - a Sieve redirect of postern-lda over a forwarder limit on the mailbox
#     defers the whole delivery (75, nothing stored, nothing sent); a
#     vacation reply over it is not sent, the message is delivered.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
h_init
h_start_mariadb
h_start_smtp_sink ext     # the forward targets' MX (default route)
h_start_smtp_sink orig    # the original sender's domain (bounces would land here)
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "
INSERT INTO domains (name, kind) VALUES ('a.example', 'local');
INSERT INTO domains (name, kind, alias_target) VALUES ('alias-a.example', 'alias', 'a.example');
INSERT INTO mailboxes (local_part, domain) VALUES ('bob', 'a.example'), ('vera', 'a.example');
INSERT INTO aliases (domain, local_part, target) VALUES ('a.example', 'fwd', 'friend@ext.example'),
  ('a.example', 'other', 'friend@ext.example');
INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('default', '', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_EXT_PORT'),
  ('domain', 'orig.example', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_ORIG_PORT');
INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action, text)
  VALUES ('fwd-hourly', 'forwarder', 'fwd@a.example', 'messages', 'defer', 'Too many forwards');
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 2 FROM ratelimit_rules WHERE name = 'fwd-hourly';
INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action)
  VALUES ('orig-domain', 'sender_domain', 'orig.example', 'messages', 'defer');
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 1 FROM ratelimit_rules WHERE name = 'orig-domain';"
t_eq "key_type forwarder is accepted by the schema (0009)" "forwarder" \
    "$(h_sql "SELECT key_type FROM ratelimit_rules WHERE name = 'fwd-hourly'")"
t_not "a forwarder rule with a group is refused by the schema" h_sql "
INSERT INTO policy_groups (name) VALUES ('g1');
INSERT INTO ratelimit_rules (name, key_type, group_id) SELECT 'bad', 'forwarder', id FROM policy_groups WHERE name = 'g1'"

printf '%s\n' 'forward-limits-secret-0123456789' > "$H_DIR/srs-secrets"
chown nobody "$H_DIR/srs-secrets"; chmod 600 "$H_DIR/srs-secrets"
cp "$H_DB_PASSWORD_FILE" "$H_DIR/db.secret"
chown nobody "$H_DIR/db.secret"; chmod 600 "$H_DIR/db.secret"
MPORT=$(h_free_port)
INJECT=$(h_free_port)
printf '#!/bin/sh\nexec python3 %s/sendmail_smtp.py %s "$@"\n' \
    "$H_HARNESS_DIR" "$INJECT" > "$H_DIR/sendmail"
chmod 755 "$H_DIR/sendmail"
ROOT=$H_DIR/mail
md_bob=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'bob@a.example'")
md_vera=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'vera@a.example'")
mkdir -p "$ROOT/$md_bob/sieve" "$ROOT/$md_vera/sieve"
cat > "$H_DIR/postern.conf" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
poll_interval = 100ms
max_staleness = 2s
srs_domain = a.example
srs_secret_file = $H_DIR/srs-secrets
[forward]
sendmail_path = $H_DIR/sendmail
log = stderr
[lda]
mail_root = $ROOT
temp_dir = $H_DIR
hostname = mx1.test.example
fsync = no
sendmail_path = $H_DIR/sendmail
log = stderr
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DIR/db.secret
connect_timeout = 1s
CONF
chmod 644 "$H_DIR/postern.conf"
"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f 2> "$H_DIR/maps.log" &
h_track_pid $!

PM="socketmap:inet:127.0.0.1:$MPORT"
{
    echo "127.0.0.1:$INJECT inet n - n - - smtpd"
    echo "  -o mynetworks=127.0.0.0/8 -o smtpd_relay_restrictions=permit_mynetworks,reject"
    echo "  -o smtpd_recipient_restrictions=permit_mynetworks,reject"
    scripts/postern-postconf --srs yes --master --conf "$H_DIR/postern.conf" \
        --forward-path "$BUILD/postern-forward" --forward-user nobody --submission none \
        | grep -A2 '^postern-forward '
} > "$H_DIR/master.add"
{
    scripts/postern-postconf --srs yes --main --maps "127.0.0.1:$MPORT" \
        | grep -E '^(postern_maps|transport_maps|sender_dependent_default_transport_maps|postern-forward_destination_recipient_limit|recipient_canonical_(maps|classes)|virtual_alias_maps|relay_domains) '
    cat <<EOF
virtual_mailbox_domains = $PM:mailboxdomain
virtual_mailbox_maps = $PM:mailbox
smtpd_relay_restrictions = reject_unauth_destination
EOF
} > "$H_DIR/main.add"
h_start_postfix "$H_DIR/main.add" "$H_DIR/master.add"
t_wait "postern-maps answers" 10 bash -c "postmap -c $H_PF_CONF -q a.example $PM:domain >/dev/null"

send() { h_smtp --port "$H_PF_SMTP_PORT" --from joe@orig.example --to "$1" --subject "$2"; }
queue() { postqueue -c "$H_PF_CONF" -p 2>/dev/null; }
events() {
    h_sql "SELECT COALESCE(SUM(e.amount), 0) FROM ratelimit_events e JOIN ratelimit_rules r
           ON r.id = e.rule_id WHERE r.name = '$1' AND e.key_value = '$2'"
}

# --- an alias forward: 2 per hour pass, the third is deferred
t_match "first forward accepted" '^DATA 250 ' "$(send fwd@a.example one)"
t_match "second forward accepted" '^DATA 250 ' "$(send fwd@a.example two)"
t_ok "both copies reach the target" h_wait_sink_count ext 2 20
t_match "... with SRS senders" 'MAIL FROM:<SRS0=[^>]*=orig\.example=joe@a\.example>' \
    "$(cat "$(h_sink_last ext env)" 2>/dev/null)"
t_eq "the forwarding account counted 2 (canonical key)" 2 "$(events fwd-hourly fwd@a.example)"
t_match "third forward accepted by smtpd (the limit is on the forward, not on SMTP)" \
    '^DATA 250 ' "$(send fwd@a.example three)"
t_wait "the third copy is deferred with the limit's text" 20 \
    bash -c "postqueue -c $H_PF_CONF -p 2>/dev/null | grep -q 'Too many forwards'"
t_match "... naming the forwarding account" 'forwarding account fwd@a\.example' "$(queue)"
t_match "... in Postfix's log as deferred by postern-forward" \
    'relay=postern-forward, .*status=deferred' "$(cat "$H_PF_LOG")"
t_match "the message to the alias domain counts as the same account" '^DATA 250 ' \
    "$(send Fwd+Tag@Alias-A.example four)"
t_wait "... and is deferred too" 20 bash -c \
    "[ \$(postqueue -c $H_PF_CONF -p 2>/dev/null | grep -c 'Too many forwards') -ge 2 ]"
send other@a.example five >/dev/null
t_ok "another alias of the same target is another account (not limited)" \
    h_wait_sink_count ext 3 20
sleep 2
t_eq "nothing was bounced to the original sender" 0 "$(h_sink_count orig)"
t_eq "the deferred copies were not counted" 2 "$(events fwd-hourly fwd@a.example)"
t_eq "the sender_domain rule did not count the forwarded copies" 0 \
    "$(events orig-domain orig.example)"

# --- raise the limit, flush the queue: the deferred copies arrive
h_sql "UPDATE ratelimit_windows SET max_count = 10 WHERE rule_id =
       (SELECT id FROM ratelimit_rules WHERE name = 'fwd-hourly')"
h_postqueue_flush
t_ok "after the limit is raised and postqueue -f, the deferred copies arrive" \
    h_wait_sink_count ext 5 30
t_match "... with an SRS sender" 'MAIL FROM:<SRS0=[^>]*=orig\.example=joe@a\.example>' \
    "$(cat "$(h_sink_last ext env)" 2>/dev/null)"
t_ok "the queue is empty" h_wait_queue_empty 20

# --- a Sieve redirect over a forwarder limit on the mailbox defers
t_ok "postern ratelimit add ... key=forwarder (the admin command)" \
    "$BUILD/postern" -c "$H_DIR/postern.conf" ratelimit add bob-redirects key=forwarder \
    match=bob@a.example limit=1/1h
t_not "postern ratelimit refuses a group on a forwarder rule" \
    "$BUILD/postern" -c "$H_DIR/postern.conf" ratelimit add bad2 key=forwarder group=g1 limit=1/1h
printf 'require "copy";\nredirect :copy "bob-elsewhere@ext.example";\n' > "$ROOT/$md_bob/sieve/r.sieve"
ln -s sieve/r.sieve "$ROOT/$md_bob/.postern.sieve"
deliver() {
    printf 'From: <joe@orig.example>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s@orig.example>\n\nbody\n' \
        "$1" "$2" "$2" | "$BUILD/postern-lda" -c "$H_DIR/postern.conf" -f joe@orig.example -a "$1"
}
count() { find "$ROOT/$1/new" "$ROOT/$1/cur" -type f 2>/dev/null | wc -l; }
out=$(deliver bob@a.example r1); rc=$?
t_eq "first redirect: delivered" 0 "$rc"
t_eq "... the :copy is stored" 1 "$(count "$md_bob")"
t_ok "... and the redirect is forwarded (SRS) to the target" h_wait_sink_count ext 6 20
t_match "... with an SRS sender (postern-forward)" 'MAIL FROM:<SRS0=[^>]*=orig\.example=joe@a\.example>' \
    "$(cat "$(h_sink_last ext env)" 2>/dev/null)"
out=$(deliver bob@a.example r2); rc=$?
t_eq "second redirect over the limit: the delivery is deferred (75)" 75 "$rc"
t_match "... with the reason" '^4\.[0-9.]+ .*Forwarding rate limit exceeded \(Sieve redirect' "$out"
t_eq "... nothing was stored" 1 "$(count "$md_bob")"
t_eq "bob's redirects counted once" 1 "$(events bob-redirects bob@a.example)"
h_sql "UPDATE ratelimit_windows SET max_count = 5 WHERE rule_id =
       (SELECT id FROM ratelimit_rules WHERE name = 'bob-redirects')"
out=$(deliver bob@a.example r2); rc=$?
t_eq "the retry after the limit is raised is delivered" 0 "$rc"
t_eq "... stored once" 2 "$(count "$md_bob")"
t_ok "... and redirected" h_wait_sink_count ext 7 20

# --- a vacation reply over a forwarder limit is not sent; mail delivered
h_sql "INSERT INTO ratelimit_rules (name, key_type, match_value, counts, action)
         VALUES ('vera-replies', 'forwarder', 'vera@a.example', 'messages', 'defer');
       INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
         SELECT id, 3600, 0 FROM ratelimit_rules WHERE name = 'vera-replies';"
printf 'require "vacation";\nvacation :days 1 "away";\n' > "$ROOT/$md_vera/sieve/v.sieve"
ln -s sieve/v.sieve "$ROOT/$md_vera/.postern.sieve"
out=$(deliver vera@a.example v1 2>&1); rc=$?
t_eq "vacation over the limit: the message is delivered" 0 "$rc"
t_eq "... stored" 1 "$(count "$md_vera")"
sleep 2
t_eq "... and no reply went to the sender" 0 "$(h_sink_count orig)"
t_match "... logged" 'forward ratelimit vera-replies: key vera@a\.example over 0 per 3600 s: vacation not sent' "$out"
h_sql "UPDATE ratelimit_windows SET max_count = 5 WHERE rule_id =
       (SELECT id FROM ratelimit_rules WHERE name = 'vera-replies')"
printf 'From: <ann@orig.example>\nTo: <vera@a.example>\nSubject: v2\nMessage-ID: <v2@orig.example>\n\nbody\n' \
    | "$BUILD/postern-lda" -c "$H_DIR/postern.conf" -f ann@orig.example -a vera@a.example >/dev/null 2>&1
t_ok "within the limit the vacation reply is sent" h_wait_sink_count orig 1 20
t_summary
