#!/bin/bash
# srs.sh - SRS in postern-maps (srsencode / srsdecode) through a real
# Postfix with sender_canonical_maps and recipient_canonical_maps on
# socketmap: a forwarded message (virtual alias to an external address)
# reaches the external sink with an SRS envelope sender that the
# independent Python reference (srs_ref.py) verifies; a bounce to that
# address comes back to the original sender's domain; forged and expired
# SRS addresses are refused with 550; secret rotation on SIGHUP; -t checks.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
REF="$(cd "$(dirname "$0")" && pwd)/srs_ref.py"
h_init
h_start_mariadb
h_start_smtp_sink ext     # the forward target's MX (default route)
h_start_smtp_sink orig    # the original sender's domain orig.example
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "
INSERT INTO domains (name, kind) VALUES ('a.example', 'local');
INSERT INTO domains (name, kind, alias_target) VALUES ('alias-a.example', 'alias', 'a.example');
INSERT INTO domains (name, kind, transport) VALUES ('relay.example', 'relay', 'relay:[127.0.0.1]:9');
INSERT INTO mailboxes (local_part, domain) VALUES ('alice', 'a.example');
INSERT INTO aliases (domain, local_part, target) VALUES ('a.example', 'fwd', 'friend@ext.example');
INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('default', '', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_EXT_PORT'),
  ('domain', 'orig.example', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_ORIG_PORT');"

SECRET1=old-secret-0123456789abcdef
SECRET2=new-secret-fedcba9876543210
printf '# postern SRS secrets: the first signs, all verify\n%s\n' "$SECRET1" \
    > "$H_DIR/srs-secrets"
chmod 600 "$H_DIR/srs-secrets"
MPORT=$(h_free_port)
conf() {
    cat <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
poll_interval = 100ms
max_staleness = 2s
srs_domain = a.example
srs_secret_file = $1
srs_max_age = 10d
$2
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
CONF
}
conf "$H_DIR/srs-secrets" "" > "$H_DIR/postern.conf"

# --- configuration checks (-t)
t_ok "-t accepts the SRS configuration" "$BUILD/postern-maps" -t -c "$H_DIR/postern.conf"
cp "$H_DIR/srs-secrets" "$H_DIR/open-secrets"; chmod 644 "$H_DIR/open-secrets"
conf "$H_DIR/open-secrets" "" > "$H_DIR/bad1.conf"
out=$("$BUILD/postern-maps" -t -c "$H_DIR/bad1.conf" 2>&1)
t_match "-t refuses a world-readable secret file" "without access for others" "$out"
conf "$H_DIR/missing" "" > "$H_DIR/bad2.conf"
out=$("$BUILD/postern-maps" -t -c "$H_DIR/bad2.conf" 2>&1)
t_match "-t refuses a missing secret file" "No such file" "$out"
conf "$H_DIR/srs-secrets" "srs_separator = /" > "$H_DIR/bad3.conf"
out=$("$BUILD/postern-maps" -t -c "$H_DIR/bad3.conf" 2>&1)
t_match "-t refuses a bad separator with file:line" "bad3.conf:[0-9]+" "$out"
conf "$H_DIR/srs-secrets" "srs_max_age = 1100d" > "$H_DIR/bad4.conf"
t_not "-t refuses srs_max_age over 1023 days" "$BUILD/postern-maps" -t -c "$H_DIR/bad4.conf"
printf 'short\n' > "$H_DIR/short-secret"; chmod 600 "$H_DIR/short-secret"
conf "$H_DIR/short-secret" "" > "$H_DIR/bad5.conf"
out=$("$BUILD/postern-maps" -t -c "$H_DIR/bad5.conf" 2>&1)
t_match "-t refuses a secret under 16 bytes" "16\.\.256 bytes" "$out"

"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f -v 2> "$H_DIR/maps.log" &
MPID=$!
h_track_pid $MPID

PM="socketmap:inet:127.0.0.1:$MPORT"
h_start_postfix - <<EOF
virtual_mailbox_domains = $PM:mailboxdomain
virtual_mailbox_maps = $PM:mailbox
virtual_alias_maps = $PM:alias
relay_domains = $PM:relaydomain
transport_maps = $PM:transport
sender_canonical_maps = $PM:srsencode
recipient_canonical_maps = $PM:srsdecode
sender_canonical_classes = envelope_sender
recipient_canonical_classes = envelope_recipient
smtpd_relay_restrictions = reject_unauth_destination
EOF
q() { h_postmap_q "$1" "$PM:$2" 2>&1; }
t_wait "postern-maps answers" 10 bash -c "postmap -c $H_PF_CONF -q a.example $PM:domain >/dev/null"

today=$(( $(date +%s) / 86400 ))
# --- the maps through postmap
enc=$(q joe@orig.example srsencode)
t_eq "srsencode: foreign sender, same as the Python reference" \
    "$("$REF" forward "$SECRET1" a.example joe@orig.example "$today")" "$enc"
t_match "srsencode: SRS0 format" '^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=orig\.example=joe@a\.example$' "$enc"
t_eq "srsencode: our local domain is not rewritten"  "" "$(q alice@a.example srsencode)"
t_eq "srsencode: our alias domain is not rewritten"  "" "$(q x@alias-a.example srsencode)"
t_eq "srsencode: our relay domain is not rewritten"  "" "$(q x@relay.example srsencode)"
t_eq "srsencode: upper-case domain of ours"          "" "$(q x@A.EXAMPLE srsencode)"
t_eq "srsencode: @domain keys are not answered"      "" "$(q @orig.example srsencode)"
t_eq "srsencode: a bare local part is not answered"  "" "$(q joe srsencode)"
t_eq "srsencode: <> is not answered"                 "" "$(q '<>' srsencode)"
t_eq "srsdecode: valid SRS0"        "joe@orig.example" "$(q "$enc" srsdecode)"
t_eq "srsdecode: lower-cased by a relay" "joe@orig.example" "$(q "${enc,,}" srsdecode)"
t_eq "srsdecode: an ordinary address" "" "$(q alice@a.example srsdecode)"
forged="SRS0=AAAA=${enc:10:2}=orig.example=joe@a.example"
t_eq "srsdecode: forged hash"       "" "$(q "$forged" srsdecode)"
old=$("$REF" forward "$SECRET1" a.example joe@orig.example $((today - 11)))
t_eq "srsdecode: 11 days old with srs_max_age 10d" "" "$(q "$old" srsdecode)"
ok10=$("$REF" forward "$SECRET1" a.example joe@orig.example $((today - 10)))
t_eq "srsdecode: 10 days old is still valid" "joe@orig.example" "$(q "$ok10" srsdecode)"
srs1=$(q "SRS0=HHHH=TT=orig.example=joe@fwd.example" srsencode)
t_eq "srsencode: SRS0 of another forwarder becomes SRS1 (reference)" \
    "$("$REF" forward "$SECRET1" a.example SRS0=HHHH=TT=orig.example=joe@fwd.example "$today")" "$srs1"
t_eq "srsdecode: SRS1 back to the first forwarder" \
    "SRS0=HHHH=TT=orig.example=joe@fwd.example" "$(q "$srs1" srsdecode)"
t_match "the refused SRS addresses are logged with the reason" "refused: bad hash" \
    "$(cat "$H_DIR/maps.log")"

# --- a forward through Postfix: SRS envelope sender at the external sink
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from joe@orig.example --to fwd@a.example --subject forwarded)
t_match "the forwarded message is accepted" '^DATA 250 ' "$r"
t_ok "it reaches the external sink" h_wait_sink_count ext 1 15
env=$(cat "$(h_sink_last ext env)" 2>/dev/null)
t_match "recipient is the forward target" 'RCPT TO:<friend@ext\.example>' "$env"
t_match "envelope sender is SRS0 in our domain" 'MAIL FROM:<SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=orig\.example=joe@a\.example>' "$env"
sender=$(sed -n 's/^MAIL FROM:<\(.*\)>.*/\1/p' <<<"$env")
t_eq "the Python reference verifies the SRS sender" "joe@orig.example" \
    "$("$REF" reverse a.example "$sender" "$today" 10 "$SECRET1")"
t_match "the From header is untouched" 'From: <?joe@orig\.example' "$(cat "$(h_sink_last ext)")"

# --- the bounce to that SRS address comes back to the original sender
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from '' --to "$sender" --subject "Undelivered Mail")
t_match "a bounce to the SRS address is accepted" '^DATA 250 ' "$r"
t_ok "it reaches the original sender's domain" h_wait_sink_count orig 1 15
t_match "recipient is the original sender" 'RCPT TO:<joe@orig\.example>' \
    "$(cat "$(h_sink_last orig env)" 2>/dev/null)"

# --- forged and expired SRS addresses are refused at RCPT
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from '' --to "$forged" --stop-after rcpt)
t_match "a forged SRS address is refused with 550 user unknown" '^RCPT 550 5\.1\.1 ' "$r"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from '' --to "$old" --stop-after rcpt)
t_match "an expired SRS address is refused with 550" '^RCPT 550 ' "$r"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from x@y.example --to someone@ext.example --stop-after rcpt)
t_match "no open relay through SRS (an external recipient is refused)" '^RCPT 554 ' "$r"

# --- mail from one of our own senders keeps its sender
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from alice@a.example --to fwd@a.example --subject own)
t_ok "our own sender's forward arrives" h_wait_sink_count ext 2 15
t_match "our own sender is not rewritten" 'MAIL FROM:<alice@a\.example>' \
    "$(cat "$(h_sink_last ext env)" 2>/dev/null)"

# --- rotation: a new first secret signs, the old one still verifies
printf '%s\n%s\n' "$SECRET2" "$SECRET1" > "$H_DIR/srs-secrets"
kill -HUP $MPID
t_wait "after SIGHUP the new secret signs" 5 bash -c \
    "[ \"\$(postmap -c $H_PF_CONF -q joe@orig.example $PM:srsencode)\" = \"\$($REF forward $SECRET2 a.example joe@orig.example $today)\" ]"
t_eq "an address signed with the old secret still decodes" "joe@orig.example" \
    "$(q "$sender" srsdecode)"
printf '%s\n' "$SECRET2" > "$H_DIR/srs-secrets"
kill -HUP $MPID
t_wait "once the old secret is removed its addresses are refused" 5 bash -c \
    "! postmap -c $H_PF_CONF -q '$sender' $PM:srsdecode"
chmod 644 "$H_DIR/srs-secrets"
kill -HUP $MPID
sleep 0.5
t_match "a reload with a world-readable secret file is refused (logged)" \
    "without access for others" "$(cat "$H_DIR/maps.log")"
t_eq "... and the running secrets stay" "joe@orig.example" \
    "$(q "$("$REF" forward "$SECRET2" a.example joe@orig.example "$today")" srsdecode)"

# --- srsdecode answers while the database is down (it needs no table)
h_stop_mariadb
sleep 2.5
t_eq "srsdecode still answers with the database down" "joe@orig.example" \
    "$(q "$("$REF" forward "$SECRET2" a.example joe@orig.example "$today")" srsdecode)"
q joe@orig.example srsencode > "$H_DIR/enc-down.txt"
t_match "srsencode answers TEMP with the database down (no unsigned mail leaves)" \
    "temporary|TEMP|unavailable|failed" "$(cat "$H_DIR/enc-down.txt")"
t_summary
