#!/bin/bash
# greylist-bounds.sh - values the database would refuse never reach the
# greylisting writer of postern-policyd (issue 15, item 11): a sender with
# bytes that are not UTF-8 and an SPF-pool key "spf:DOMAIN" for a
# 253-character domain (longer than client_net's 255 characters) are
# canonicalised before they are keyed, cached or queued (lib/dbtext.h), so
# they are stored, their retries pass (read back from the database: no
# cache), nothing is dropped, and later triplets are written as usual.
# The same rule for the rate-limit keys (ratelimit_keys/events.key_value,
# 320 characters): a sender that is not UTF-8 and a 400-character SASL
# login are counted (canonicalised), neither refused by the database nor
# skipped.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "UPDATE greylist_settings SET delay_seconds = 2, retry_window_seconds = 600,
  expiry_seconds = 3600, auto_whitelist_after = 0, spf_pool = 1 WHERE domain IS NULL;
INSERT INTO domains (name, kind) VALUES ('d.example', 'local');
INSERT INTO ratelimit_rules (name, key_type, counts, action, text, priority) VALUES
  ('per-sender', 'sender', 'recipients', 'defer', 'Slow down', 10),
  ('per-login', 'sasl_login', 'recipients', 'defer', 'Slow down', 20);
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 2 FROM ratelimit_rules;" ||
    { t_fail "fixture"; t_summary; exit 1; }

L63=$(printf 'a%.0s' $(seq 63))
LONG="$L63.$L63.$L63.$(printf 'b%.0s' $(seq 57)).net" # 253 characters
t_eq "the long domain has 253 characters" 253 "${#LONG}"
printf '%s TXT v=spf1 ip4:192.0.2.0/24 -all\n' "$LONG" > "$H_DIR/zone"
h_start_dns "$H_DIR/zone"

PORT=$(h_free_port)
cat > "$H_DIR/p.conf" <<CONF
[policyd]
listen = inet:127.0.0.1:$PORT
workers = 2
poll_interval = 100ms
checks = spf, greylist
greylist_cache_ttl = 0
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 5s
retry_interval = 100ms
CONF
(h_with_resolver "$BUILD/postern-policyd" -f -c "$H_DIR/p.conf" 2> "$H_DIR/p.log") &
h_track_pid $!
PC="$(dirname "$0")/policy_client.py"
up() { [ "$(python3 "$PC" "$PORT" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 up
up_r() { [ "$(python3 "$PC" "$RPORT" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
req() { # req CLIENT SENDER INSTANCE > file: one RCPT request
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n'
    printf 'client_address=%s\nclient_name=unknown\nhelo_name=h.example\n' "$1"
    printf 'sender=%s\nrecipient=r@d.example\ninstance=%s\n\n' "$2" "$3"
}
ask() { python3 "$PC" "$PORT" --raw "$1"; }
is() { [ "$(h_sql "$1")" = "$2" ]; }
BAD8=$(printf 'caf\xe9\xff@example.net')
QBAD8=$(printf '"j\xc3\x28n"@example.net')

req 192.0.2.10 "$BAD8" u1 > "$H_DIR/u1"
req 192.0.2.11 "$QBAD8" q1 > "$H_DIR/q1"
req 192.0.2.30 "x@$LONG" s1 > "$H_DIR/s1"
req 192.0.2.40 good@example.net g1 > "$H_DIR/g1"
t_match "sender not UTF-8: first sight deferred" '^action=DEFER_IF_PERMIT ' "$(ask "$H_DIR/u1")"
t_match "quoted sender not UTF-8: first sight deferred" '^action=DEFER_IF_PERMIT ' "$(ask "$H_DIR/q1")"
t_match "253-character SPF-pool domain: first sight deferred" '^action=DEFER_IF_PERMIT ' "$(ask "$H_DIR/s1")"
t_match "a good triplet after them: deferred" '^action=DEFER_IF_PERMIT ' "$(ask "$H_DIR/g1")"
t_wait "the good triplet is written" 5 is "SELECT COUNT(*) FROM greylist_triplets WHERE sender = 'good@example.net'" 1
t_wait "every triplet is written (4 rows)" 5 is "SELECT COUNT(*) FROM greylist_triplets" 4
t_eq "the SPF-pool key fits client_net, canonicalised with a hash" "1 255" \
    "$(h_sql "SELECT COUNT(*), MAX(CHAR_LENGTH(client_net)) FROM greylist_triplets WHERE client_net LIKE 'spf:aaa%#%'" | tr '\t' ' ')"
t_eq "the senders that are not UTF-8 are stored canonicalised" 2 \
    "$(h_sql "SELECT COUNT(*) FROM greylist_triplets WHERE sender REGEXP '#[0-9a-f]{16}\$'")"
sleep 2.2
t_match "sender not UTF-8: the retry passes (state read back from the database)" \
    '^action=PREPEND ' "$(req 192.0.2.10 "$BAD8" u2 > "$H_DIR/u2"; ask "$H_DIR/u2")"
t_match "quoted sender not UTF-8: the retry passes" \
    '^action=PREPEND ' "$(req 192.0.2.11 "$QBAD8" q2 > "$H_DIR/q2"; ask "$H_DIR/q2")"
t_match "253-character SPF-pool domain: the retry passes (another client of the pool)" \
    '^action=PREPEND ' "$(req 192.0.2.31 "x@$LONG" s2 > "$H_DIR/s2"; ask "$H_DIR/s2")"
t_wait "the passes are written" 5 is "SELECT COUNT(*) FROM greylist_triplets WHERE passed_at IS NOT NULL" 3
req 192.0.2.50 later@example.net l1 > "$H_DIR/l1"
ask "$H_DIR/l1" > /dev/null
t_wait "later triplets are written as usual" 5 is "SELECT COUNT(*) FROM greylist_triplets WHERE sender = 'later@example.net'" 1
log=$(cat "$H_DIR/p.log")
t_not "no state change was dropped or refused" grep -qE 'dropped a state change|was refused|does not fit' "$H_DIR/p.log"
t_match "the canonicalisation is logged" 'is not UTF-8 or too long for the database: triplet stored as' "$log"

# --- rate-limit keys -----------------------------------------------------------
RPORT=$(h_free_port)
sed -e "s/:$PORT\$/:$RPORT/" -e 's/^checks = .*/checks = ratelimit/' "$H_DIR/p.conf" > "$H_DIR/r.conf"
"$BUILD/postern-policyd" -f -c "$H_DIR/r.conf" 2> "$H_DIR/r.log" &
h_track_pid $!
t_wait "policyd (rate limits) answers" 10 up_r
LOGIN=$(printf 'l%.0s' $(seq 400))
rl() { # rl SENDER LOGIN N: the Nth RCPT of its own message
    { printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n'
      printf 'client_address=192.0.2.60\nclient_name=unknown\nsender=%s\n' "$1"
      printf 'sasl_username=%s\nrecipient=r%s@d.example\ninstance=r%s\n\n' "$2" "$3" "$3"
    } > "$H_DIR/rl$3"
    python3 "$PC" "$RPORT" --raw "$H_DIR/rl$3"
}
t_eq "sender not UTF-8: counted, 1st recipient passes" "action=DUNNO" "$(rl "$BAD8" "" 1)"
t_eq "... 2nd passes" "action=DUNNO" "$(rl "$BAD8" "" 2)"
t_match "... 3rd is over the limit of 2" '^action=450 4\.7\.1 Slow down' "$(rl "$BAD8" "" 3)"
t_eq "400-character login: 1st passes" "action=DUNNO" "$(rl good@example.net "$LOGIN" 4)"
t_eq "... 2nd passes" "action=DUNNO" "$(rl other@example.net "$LOGIN" 5)"
t_match "... 3rd is over the limit of 2 (the long login is counted, not skipped)" \
    '^action=450 4\.7\.1 Slow down' "$(rl third@example.net "$LOGIN" 6)"
t_eq "their keys are stored canonicalised" 2 \
    "$(h_sql "SELECT COUNT(*) FROM ratelimit_keys WHERE key_value REGEXP '#[0-9a-f]{16}\$'")"
t_not "no database error" grep -qiE 'incorrect string|data too long' "$H_DIR/r.log"
[ "$H_T_FAIL" -gt 0 ] && sed 's/^/# policyd: /' "$H_DIR/p.log" "$H_DIR/r.log"
t_summary
