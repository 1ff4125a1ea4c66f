#!/bin/bash
# srs.sh - SRS only on forwarded copies, through a real Postfix wired as
# `postern-postconf --srs yes` wires it: transport_maps = srstransport,
# sender_dependent_default_transport_maps = forwardtransport (postern-maps),
# the postern-forward pipe(8) transport, recipient_canonical_maps =
# srsdecode.  A forwarded message (virtual alias to an external address)
# reaches the external sink with an SRS envelope sender that the
# independent Python reference (srs_ref.py) verifies; relay-domain, legacy
# and local copies keep the original sender, also when one message has a
# local and a forwarded recipient; a bounce to the SRS address comes back
# to the original sender's domain; forged and expired SRS addresses are
# refused with 550; secret rotation on SIGHUP; -t checks.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd)
REF="$(cd "$(dirname "$0")" && pwd)/srs_ref.py"
h_init
h_start_mariadb
h_start_smtp_sink ext     # the forward target's MX (default route)
h_start_smtp_sink orig    # the original sender's domain orig.example
h_start_smtp_sink relay   # a relay domain's own server
h_start_smtp_sink legacy  # the legacy store
h_start_smtp_sink local   # local delivery (the default local route)
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "
INSERT INTO domains (name, kind) VALUES ('a.example', 'local');
INSERT INTO domains (name, kind, alias_target) VALUES ('alias-a.example', 'alias', 'a.example');
INSERT INTO domains (name, kind, transport) VALUES ('relay.example', 'relay', 'relay:[127.0.0.1]:$H_SINK_RELAY_PORT');
INSERT INTO domains (name, kind) VALUES ('legacy.example', 'legacy');
INSERT INTO mailboxes (local_part, domain) VALUES ('alice', 'a.example');
INSERT INTO aliases (domain, local_part, target) VALUES ('a.example', 'fwd', 'friend@ext.example'),
  ('a.example', 'both', 'alice@a.example'), ('a.example', 'both', 'friend2@ext.example');
INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('default', '', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_EXT_PORT'),
  ('default', '', 'local', 'smtp:[127.0.0.1]:$H_SINK_LOCAL_PORT'),
  ('default', '', 'legacy', 'smtp:[127.0.0.1]:$H_SINK_LEGACY_PORT'),
  ('domain', 'orig.example', 'delivery', 'smtp:[127.0.0.1]:$H_SINK_ORIG_PORT');"

SECRET1=old-secret-0123456789abcdef
SECRET2=new-secret-fedcba9876543210
printf '# postern SRS secrets: the first signs, all verify\n%s\n' "$SECRET1" \
    > "$H_DIR/srs-secrets"
chown nobody "$H_DIR/srs-secrets"   # postern-forward runs as nobody here
chmod 600 "$H_DIR/srs-secrets"
cp "$H_DB_PASSWORD_FILE" "$H_DIR/db.secret"
chown nobody "$H_DIR/db.secret"; chmod 600 "$H_DIR/db.secret"
MPORT=$(h_free_port)
INJECT=$(h_free_port)
# postern-forward re-submits over SMTP here (Postfix's sendmail refuses -C
# for an unprivileged user; in production it is /usr/sbin/sendmail)
printf '#!/bin/sh\nexec python3 %s/sendmail_smtp.py %s "$@"\n' \
    "$H_HARNESS_DIR" "$INJECT" > "$H_DIR/sendmail"
chmod 755 "$H_DIR/sendmail"
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
[forward]
sendmail_path = $H_DIR/sendmail
log = stderr
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DIR/db.secret
CONF
}
conf "$H_DIR/srs-secrets" "" > "$H_DIR/postern.conf"
chmod 644 "$H_DIR/postern.conf"
t_ok "postern-forward -t reads the [maps] SRS keys" "$BUILD/postern-forward" -t -c "$H_DIR/postern.conf"

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
cat > "$H_DIR/master.add" <<EOF
127.0.0.1:$INJECT inet n - n - - smtpd
  -o mynetworks=127.0.0.0/8 -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
$(scripts/postern-postconf --srs yes --master --conf "$H_DIR/postern.conf" \
    --forward-path "$BUILD/postern-forward" --forward-user nobody --submission none \
    | grep -A2 '^postern-forward ')
EOF
# the SRS lines exactly as postern-postconf --srs yes prints them
scripts/postern-postconf --srs yes --main --maps "127.0.0.1:$MPORT" \
    | grep -E '^(postern_maps|transport_maps|sender_dependent_default_transport_maps|postern-forward_destination_recipient_limit|recipient_canonical_(maps|classes)) ' \
    > "$H_DIR/main.add"
cat >> "$H_DIR/main.add" <<EOF
virtual_mailbox_domains = $PM:mailboxdomain
virtual_mailbox_maps = $PM:mailbox
virtual_alias_maps = $PM:alias
relay_domains = $PM:relaydomain
smtpd_relay_restrictions = reject_unauth_destination
EOF
t_eq "postern-postconf --srs yes no longer sets sender_canonical_maps" "" \
    "$(scripts/postern-postconf --srs yes --main | grep '^sender_canonical_maps')"
h_start_postfix "$H_DIR/main.add" "$H_DIR/master.add"
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
# forwardtransport (key: sender) and srstransport (key: recipient)
t_eq "forwardtransport: a foreign sender goes to postern-forward" "postern-forward:" \
    "$(q joe@orig.example forwardtransport)"
t_eq "forwardtransport: @domain of a foreign sender too" "postern-forward:" \
    "$(q @orig.example forwardtransport)"
t_eq "forwardtransport: our own sender takes the default route" \
    "smtp:[127.0.0.1]:$H_SINK_EXT_PORT" "$(q alice@a.example forwardtransport)"
t_eq "forwardtransport: the null sender takes the default route" \
    "smtp:[127.0.0.1]:$H_SINK_EXT_PORT" "$(q '<>' forwardtransport)"
t_eq "srstransport: a foreign domain's default route is left to forwardtransport" "" \
    "$(q friend@ext.example srstransport)"
t_eq "srstransport: ... also for the bare domain key" "" "$(q ext.example srstransport)"
t_eq "srstransport: an explicit route of a foreign domain stays" \
    "smtp:[127.0.0.1]:$H_SINK_ORIG_PORT" "$(q joe@orig.example srstransport)"
t_eq "srstransport: relay domains as transport" "relay:[127.0.0.1]:$H_SINK_RELAY_PORT" \
    "$(q x@relay.example srstransport)"
t_eq "srstransport: legacy domains as transport" "smtp:[127.0.0.1]:$H_SINK_LEGACY_PORT" \
    "$(q y@legacy.example srstransport)"
t_eq "srstransport: local mailboxes as transport" "smtp:[127.0.0.1]:$H_SINK_LOCAL_PORT" \
    "$(q alice@a.example srstransport)"
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

# --- relay domains, legacy routes and local copies keep the sender
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from joe@orig.example --to x@relay.example --subject relayed)
t_match "mail to a relay domain is accepted" '^DATA 250 ' "$r"
t_ok "it reaches the relay domain's server" h_wait_sink_count relay 1 15
t_match "... with the original envelope sender (no SRS)" 'MAIL FROM:<joe@orig\.example>' \
    "$(cat "$(h_sink_last relay env)" 2>/dev/null)"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from joe@orig.example --to y@legacy.example --subject legacy)
t_match "mail to a legacy domain is accepted" '^DATA 250 ' "$r"
t_ok "it reaches the legacy store" h_wait_sink_count legacy 1 15
t_match "... with the original envelope sender (no SRS)" 'MAIL FROM:<joe@orig\.example>' \
    "$(cat "$(h_sink_last legacy env)" 2>/dev/null)"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from joe@orig.example --to both@a.example --subject mixed)
t_match "one message to a local and a forwarded recipient is accepted" '^DATA 250 ' "$r"
t_ok "the local copy arrives" h_wait_sink_count local 1 15
t_match "... with the original envelope sender" 'MAIL FROM:<joe@orig\.example>' \
    "$(cat "$(h_sink_last local env)" 2>/dev/null)"
t_match "... for the local mailbox" 'RCPT TO:<alice@a\.example>' \
    "$(cat "$(h_sink_last local env)" 2>/dev/null)"
t_ok "the forwarded copy arrives" h_wait_sink_count ext 3 15
env=$(cat "$(h_sink_last ext env)" 2>/dev/null)
t_match "... for the forward target" 'RCPT TO:<friend2@ext\.example>' "$env"
t_match "... with an SRS envelope sender" 'MAIL FROM:<SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=orig\.example=joe@a\.example>' "$env"
t_match "Postfix delivered the copy via postern-forward (its log line as status text)" \
    'status=sent \(delivered via postern-forward service .*srs=<SRS0=' \
    "$(cat "$H_PF_LOG")"

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
