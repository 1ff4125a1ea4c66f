#!/bin/bash
# maps.sh - postern-maps against a real MariaDB and a real Postfix:
# every map and rule through `postmap -q`, live changes within a second,
# the database stopped and restarted (TEMP, then answers again without a
# restart of postern-maps), protocol abuse, and mail through real SMTP.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
h_start_smtp_sink ext
h_start_smtp_sink legacy
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
sed -e "s/@SINK@/$H_SINK_EXT_PORT/g" -e "s/@LEGACY@/$H_SINK_LEGACY_PORT/g" \
    "$(dirname "$0")/data/maps-fixture.sql" > "$H_DIR/fixture.sql"
if ! h_sql_file "$H_DIR/fixture.sql"; then
    t_fail "the test fixture loads"; t_summary; exit 1
fi

MPORT=$(h_free_port)
cat > "$H_DIR/postern.conf" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT, inet:[::1]:$MPORT
idle_timeout = 30s
max_connections = 3000
poll_interval = 100ms
max_staleness = 1s
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 2s
retry_interval = 200ms
CONF
ulimit -n 8192
"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f 2> "$H_DIR/maps.log" &
MPID=$!
h_track_pid $MPID
t_ok "postern-maps -t accepts the configuration" "$BUILD/postern-maps" -t -c "$H_DIR/postern.conf"

h_start_postfix
SM="socketmap:inet:127.0.0.1:$MPORT"
q() { h_postmap_q "$1" "$SM:$2" 2>&1; }
t_wait "postern-maps answers after loading the tables" 10 \
    bash -c "postmap -c $H_PF_CONF -q a.example $SM:domain >/dev/null"

# --- domain maps
t_eq "domain: local domain"            "local"  "$(q a.example domain)"
t_eq "domain: case-insensitive"        "local"  "$(q A.Example domain)"
t_eq "domain: alias domain"            "alias"  "$(q alias-a.example domain)"
t_eq "domain: relay domain"            "relay"  "$(q relay.example domain)"
t_eq "domain: unknown"                 ""       "$(q nowhere.example domain)"
t_eq "domain: inactive is unknown"     ""       "$(q off.example domain)"
t_eq "mailboxdomain: local"            "local"  "$(q a.example mailboxdomain)"
t_eq "mailboxdomain: alias domain"     "alias"  "$(q alias-a.example mailboxdomain)"
t_eq "mailboxdomain: not a relay"      ""       "$(q relay.example mailboxdomain)"
t_eq "relaydomain: relay"              "relay"  "$(q relay.example relaydomain)"
t_eq "relaydomain: legacy"             "legacy" "$(q legacy.example relaydomain)"
t_eq "relaydomain: not a local domain" ""       "$(q a.example relaydomain)"

# --- mailbox and maildir
md=$(h_sql "SELECT maildir FROM mailboxes WHERE address='alice@a.example'")
t_match "maildir is hashed over volumes" '^vol01/[0-9a-f]{2}/[0-9a-f]{4}/alice@a\.example/$' "$md"
t_eq "mailbox: exists"                 "$md" "$(q alice@a.example mailbox)"
t_eq "mailbox: +extension"             "$md" "$(q alice+news@a.example mailbox)"
t_eq "mailbox: upper case"             "$md" "$(q ALICE@A.EXAMPLE mailbox)"
t_eq "mailbox: through alias domain"   "$md" "$(q alice@alias-a.example mailbox)"
t_eq "mailbox: unknown"                ""    "$(q nobody@a.example mailbox)"
t_eq "mailbox: inactive"               ""    "$(q dave@a.example mailbox)"
t_eq "mailbox: in inactive domain"     ""    "$(q zed@off.example mailbox)"
t_eq "mailbox: garbage key"            ""    "$(q 'a b@@c' mailbox)"
t_eq "maildir: same path"              "$md" "$(q alice@a.example maildir)"

# --- aliases
t_eq "alias: several targets, disabled rows ignored" \
    "alice@a.example,bob@a.example" "$(q team@a.example alias)"
t_eq "alias: +ext of an alias"         "alice@a.example,bob@a.example" "$(q team+x@a.example alias)"
t_eq "alias: forward with copy keeps the mailbox" \
    "frank@elsewhere.example,frank@a.example" "$(q frank@a.example alias)"
t_eq "alias: forward without copy"     "gina@elsewhere.example" "$(q gina@a.example alias)"
t_eq "alias: full key with extension wins" "carol@a.example" "$(q sales+vip@a.example alias)"
t_eq "alias: other extensions use the base alias" "eve@b.example" "$(q sales+x@a.example alias)"
t_eq "alias: a mailbox maps to itself" "alice@a.example" "$(q alice@a.example alias)"
t_eq "alias: mailbox +ext maps to itself with ext" "alice+news@a.example" "$(q alice+news@a.example alias)"
t_eq "alias: catch-all for unknown user" "info@b.example" "$(q random@b.example alias)"
t_eq "alias: catch-all does not swallow a mailbox" "eve@b.example" "$(q eve@b.example alias)"
t_eq "alias: @domain key is the catch-all" "info@b.example" "$(q @b.example alias)"
t_eq "alias: alias domain, mailbox"    "alice@a.example" "$(q alice@alias-a.example alias)"
t_eq "alias: alias domain keeps +ext"  "alice+x@a.example" "$(q alice+x@alias-a.example alias)"
t_eq "alias: alias domain, alias"      "team@a.example" "$(q team@alias-a.example alias)"
t_eq "alias: alias domain, unknown user" "" "$(q nobody@alias-a.example alias)"
t_eq "alias: unknown user, no catch-all" "" "$(q nobody@a.example alias)"
t_eq "alias: unknown domain"           "" "$(q x@nowhere.example alias)"

# --- transport
t_eq "transport: local mailbox -> default local route" "postern-lda:" "$(q alice@a.example transport)"
t_eq "transport: legacy mailbox -> legacy store" "smtp:[127.0.0.1]:$H_SINK_LEGACY_PORT" "$(q bob@a.example transport)"
t_eq "transport: mailbox override" "smtp:[127.0.0.1]:2600" "$(q carol@a.example transport)"
t_eq "transport: address row" "smtp:[127.0.0.1]:2700" "$(q special@a.example transport)"
t_eq "transport: local domain key" "postern-lda:" "$(q a.example transport)"
t_eq "transport: relay domain next hop" "relay:[127.0.0.1]:$H_SINK_EXT_PORT" "$(q x@relay.example transport)"
t_eq "transport: relay domain's own route" "relay:[mx.relay2.example]:25" "$(q x@relay2.example transport)"
t_eq "transport: legacy domain" "smtp:[127.0.0.1]:$H_SINK_LEGACY_PORT" "$(q x@legacy.example transport)"
t_eq "transport: external -> smarthost" "relay:[127.0.0.1]:$H_SINK_EXT_PORT" "$(q someone@gmail.example transport)"
t_eq "transport: .parent row matches subdomains" "smtp:[sub-mx.example]:25" "$(q x@deep.sub.example transport)"

t_eq "transport: per-domain legacy row" "smtp:[old-c.example]:25" "$(q cleg@c.example transport)"
t_eq "transport: per-domain local row" "lmtp:unix:private/c-store" "$(q cnew@c.example transport)"

# --- relayhost
t_eq "relayhost: address row" "[alice-relay.example]:587" "$(q alice@a.example relayhost)"
t_eq "relayhost: domain row" "[relay-a.example]:587" "$(q bob@a.example relayhost)"
t_eq "relayhost: mailbox column" "[info-relay.example]:587" "$(q info@b.example relayhost)"
t_eq "relayhost: domain column" "[relay-b.example]:25" "$(q eve@b.example relayhost)"
t_eq "relayhost: default" "[smarthost.example]:587" "$(q x@elsewhere.example relayhost)"
t_eq "relayhost: .parent domain row" "[corp-relay.example]:587" "$(q x@eu.corp.example relayhost)"
t_eq "relayhost: null sender" "[smarthost.example]:587" "$(q '<>' relayhost)"

# --- senderlogin
t_eq "senderlogin: owner" "alice@a.example" "$(q alice@a.example senderlogin)"
t_eq "senderlogin: owner, +ext" "alice@a.example" "$(q alice+x@a.example senderlogin)"
t_eq "senderlogin: alias with one mailbox target" "alice@a.example" "$(q owned@a.example senderlogin)"
t_eq "senderlogin: address grants" "alice@a.example,eve@b.example" "$(q office@a.example senderlogin)"
t_eq "senderlogin: domain grant plus owner" "eve@b.example,bob@a.example" "$(q eve@b.example senderlogin)"
t_eq "senderlogin: alias domain address" "alice@a.example" "$(q alice@alias-a.example senderlogin)"
t_eq "senderlogin: nobody" "" "$(q stranger@gmail.example senderlogin)"

# --- protocol
t_eq "unknown map name is PERM" "PERM" "$(python3 tests/integration/sockmap.py 127.0.0.1 $MPORT 'bogus x' | cut -c1-4)"
t_eq "IPv6 listener answers" "OK local" "$(python3 tests/integration/sockmap.py ::1 $MPORT 'domain a.example')"
t_ok "malformed netstrings and oversized keys are refused; the daemon keeps serving" \
    python3 tests/integration/sockmap.py --abuse 127.0.0.1 $MPORT
t_ok "2000 concurrent connections are served" \
    python3 tests/integration/sockmap.py --flood 2000 127.0.0.1 $MPORT
t_eq "still answering after the abuse" "local" "$(q a.example domain)"
t_match "oversized request was logged" "request larger than|too long" "$(cat $H_DIR/maps.log)"

# --- live changes: one UPDATE, visible within a second
h_sql "UPDATE mailboxes SET migration_state='migrated' WHERE address='bob@a.example'"
sleep 1
t_eq "migration switch takes effect within a second" "postern-lda:" "$(q bob@a.example transport)"
h_sql "INSERT INTO aliases (domain, local_part, target) VALUES ('a.example','new','alice@a.example')"
sleep 1
t_eq "a new alias is live within a second" "alice@a.example" "$(q new@a.example alias)"
h_sql "UPDATE mailboxes SET migration_state='legacy' WHERE address='bob@a.example'"
sleep 1

# --- SIGHUP reload keeps serving
kill -HUP $MPID
sleep 0.3
t_match "SIGHUP reloads the configuration" "configuration reloaded" "$(cat $H_DIR/maps.log)"
t_eq "serving after reload" "local" "$(q a.example domain)"

# --- mail through real SMTP
h_postconf -e "virtual_mailbox_domains = $SM:mailboxdomain" \
    "virtual_mailbox_maps = $SM:mailbox" "virtual_alias_maps = $SM:alias" \
    "transport_maps = $SM:transport" "relay_domains = $SM:relaydomain" \
    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination" \
    "virtual_transport = error:no local transport" \
    "recipient_delimiter = +"
h_postconf -M "postern-lda/unix=postern-lda unix - n n - - smtp -o smtp_fallback_relay="
h_postconf -e "postern-lda_destination_recipient_limit = 1"
# in this test local delivery goes to the "store" sink, since the lda is
# tested elsewhere: the transport name postern-lda maps to an smtp client
h_start_smtp_sink store
h_sql "UPDATE transports SET transport='smtp:[127.0.0.1]:$H_SINK_STORE_PORT' WHERE match_type='default' AND purpose='local'"
sleep 1
h_postfix_reload
P=$H_PF_SMTP_PORT
t_match "mailbox accepted" "^DATA 250" "$(h_smtp --port $P --from x@gmail.example --to alice@a.example --subject t1)"
t_match "alias accepted" "^DATA 250" "$(h_smtp --port $P --from x@gmail.example --to team@a.example --subject t2)"
t_match "alias-domain address accepted" "^DATA 250" "$(h_smtp --port $P --from x@gmail.example --to alice@alias-a.example --subject t3)"
t_match "catch-all accepted" "^DATA 250" "$(h_smtp --port $P --from x@gmail.example --to whoever@b.example --subject t4)"
t_match "unknown recipient refused 550 5.1.1" "^RCPT 550 5\.1\.1" "$(h_smtp --port $P --from x@gmail.example --to nobody@a.example --subject t5)"
t_match "unmigrated mailbox accepted" "^DATA 250" "$(h_smtp --port $P --from x@gmail.example --to bob@a.example --subject t6)"
t_ok "the legacy store received bob's mail" h_wait_sink_count legacy 1 15
t_match "legacy delivery was for bob" "bob@a.example" "$(cat $H_SINK_LEGACY_DIR/*.env)"
t_match "nothing for bob reached the new store" "^$" "$(grep -l bob@a.example $H_SINK_STORE_DIR/*.env 2>/dev/null)"
# alice (t1), alice from team (t2; bob's copy went to legacy), alice via
# the alias domain (t3), info via the catch-all (t4)
t_ok "the store received the other deliveries" h_wait_sink_count store 4 15
t_match "alias-domain mail reached alice" "alice@a.example" "$(cat $H_SINK_STORE_DIR/*.env)"
t_match "catch-all mail reached info" "info@b.example" "$(cat $H_SINK_STORE_DIR/*.env)"

# --- the database stops: TEMP, Postfix defers, nothing bounces; then recovery
h_stop_mariadb
sleep 1.5
t_match "database down: lookups answer TEMP" "TEMP" "$(python3 tests/integration/sockmap.py 127.0.0.1 $MPORT 'mailbox alice@a.example')"
r=$(h_smtp --port $P --from x@gmail.example --to alice@a.example --subject down)
t_match "database down: Postfix answers 4xx, not 5xx" "^RCPT 4[0-9][0-9] " "$r"
h_restart_mariadb
t_wait "database back: answers return without restarting postern-maps" 10 \
    bash -c "[ \"\$(postmap -c $H_PF_CONF -q alice@a.example $SM:mailbox)\" = '$md' ]"
t_ok "postern-maps is the same process" kill -0 $MPID
t_match "nothing bounced" "^$" "$(grep -E 'status=bounced' $H_PF_LOG)"

kill -TERM $MPID
t_wait "postern-maps stops cleanly on SIGTERM" 5 bash -c "! kill -0 $MPID 2>/dev/null"
t_summary
