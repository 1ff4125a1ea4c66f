#!/bin/bash
# greylist-learn.sh - greylisting that learns who is real (issue 19,
# section 3), through a real Postfix (XCLIENT for the outside clients,
# SASL through milter-auth.py for the local user), a real MariaDB and the
# harness's private dnsmasq (no query leaves the machine):
#   1. provider pools: a client of the shipped conf/greylist-pools.conf
#      (Google by verified host name, Microsoft by network) passes at
#      once, another client is greylisted; an entry added to the file is
#      taken on SIGHUP, a broken file keeps the old list;
#   2. replies: after teacher@school.test sent to x@outside.test, mail
#      from x to the teacher passes at once, from y is greylisted (and
#      passes with greylist_reply_domain = yes); the rows per user are
#      capped (greylist_reply_max);
#   3. sender domains: after greylist_domain_awl = 2 passed triplets of
#      corp.test from one network, a third sender of corp.test passes at
#      once from that network, not from another;
#   4. selective mode: a clean client (verified name, not listed) passes
#      at once; one listed on the DNS blocklist, one with a dynamic-looking
#      name and one without a verified name are greylisted; with the DNS
#      server down the clean client is greylisted (logged);
#   5. postern explain shows the skip reason.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null ||
    { t_fail "migrations"; t_summary; exit 1; }
h_sql "UPDATE greylist_settings SET delay_seconds = 2, retry_window_seconds = 600,
  expiry_seconds = 3600, auto_whitelist_after = 0, spf_pool = 0 WHERE domain IS NULL;
INSERT INTO domains (name, kind) VALUES ('school.test', 'local');
INSERT INTO mailboxes (local_part, domain) VALUES ('teacher', 'school.test');" ||
    { t_fail "fixture"; t_summary; exit 1; }
cat > "$H_DIR/zone" <<'ZONE'
51.2.0.192.bl.test A 127.0.0.2
mx.clean.test A 192.0.2.50
ZONE
h_start_dns "$H_DIR/zone"
h_start_smtp_sink smarthost

# the SASL server (Dovecot protocol, every password "test")
pf=$H_DIR/auth.port
"$H_PYTHON" "$(dirname "$0")/milter-auth.py" --port-file "$pf" </dev/null \
    >> "$H_DIR/auth.log" 2>&1 &
h_track_pid $!
h_wait_for 10 test -s "$pf" || { t_fail "the SASL test server starts"; t_summary; exit 1; }
AUTH_PORT=$(cat "$pf")

cp conf/greylist-pools.conf "$H_DIR/pools.conf"
PP=$(h_free_port)
conf() { # conf [EXTRA LINES]: the policyd configuration
    printf '[policyd]\nlisten = inet:127.0.0.1:%s\nworkers = 2\n' "$PP"
    printf 'poll_interval = 100ms\nchecks = greylist\ngreylist_cache_ttl = 0\n'
    printf 'greylist_pools = %s\ngreylist_reply_max = 3\n' "$H_DIR/pools.conf"
    printf 'greylist_domain_awl = 2\n'
    printf '%s\n' "$@"
    printf '[database]\nhosts = 127.0.0.1:%s\npassword_file = %s\n' "$H_DB_PORT" "$H_DB_PASSWORD_FILE"
    printf 'connect_timeout = 1s\nquery_timeout = 5s\n'
}
conf > "$H_DIR/policyd.conf"
(h_with_resolver "$BUILD/postern-policyd" -f -c "$H_DIR/policyd.conf" 2> "$H_DIR/policyd.log") &
PDPID=$! # the daemon itself (h_with_resolver execs)
h_track_pid $PDPID
pd_up() { [ "$(python3 "$(dirname "$0")/policy_client.py" "$PP" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 pd_up
reloads() { grep -c 'configuration reloaded' "$H_DIR/policyd.log"; }
hup() { # hup: SIGHUP and wait for the reload to be logged
    local n; n=$(reloads)
    kill -HUP "$PDPID"
    t_wait "policyd reloaded its configuration" 5 more_reloads "$n"
}
more_reloads() { [ "$(reloads)" -gt "$1" ]; }

h_start_postfix - <<EOF
relay_domains = school.test
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$PP, permit
EOF
XS="$(dirname "$0")/xclient_send.py"
n=0 # messages expected in the sink
xs() { # xs NAME CLIENT FROM TO: one message through XCLIENT -> $r
    r=$(XCLIENT_NAME=$1 python3 "$XS" "$H_PF_SMTP_PORT" "$2" helo.example "$3" "$4")
}
GREY='^RCPT 450 4\.7\.1 .*Greylisted'
sql_is() { [ "$(h_sql "$1")" = "$2" ]; } # for t_wait: asked again each try

# --- 1. provider pools ----------------------------------------------------------
xs mail-ed1-f41.google.com 209.85.208.41 someone@gmail.com teacher@school.test
t_match "pool by verified name (mail-*.google.com): accepted at once" '^DATA 250 ' "$r"; n=$((n + 1))
t_ok "... delivered" h_wait_sink_count smarthost $n
xs "[UNAVAILABLE]" 40.107.22.10 someone@contoso.example teacher@school.test
t_match "pool by network (Microsoft 40.107.0.0/16, no name): accepted at once" '^DATA 250 ' "$r"; n=$((n + 1))
xs mail.google.com.evil.test 192.0.2.20 someone@gmail.com teacher@school.test
t_match "a name that only contains google.com: greylisted" "$GREY" "$r"
xs "[UNAVAILABLE]" 203.0.113.5 a@prov.test teacher@school.test
t_match "a client of no pool: greylisted" "$GREY" "$r"
t_match "the skip is logged with the provider" 'greylist: skipped \(provider-pool: google\)' "$(cat "$H_DIR/policyd.log")"
t_match "... and in the decision line" 'action=dunno check=greylist rule=provider-pool' "$(cat "$H_DIR/policyd.log")"
printf 'testprov net 203.0.113.0/24 2026-12-05\n' >> "$H_DIR/pools.conf"
hup
xs "[UNAVAILABLE]" 203.0.113.6 b@prov.test teacher@school.test
t_match "an entry added to the pools file is taken on SIGHUP" '^DATA 250 ' "$r"; n=$((n + 1))
cp "$H_DIR/pools.conf" "$H_DIR/pools.good"
printf 'broken suffix nodot 2026-12-05\n' >> "$H_DIR/pools.conf"
kill -HUP "$PDPID"
t_wait "a broken pools file is reported with file:line" 5 grep -q "pools.conf:$(wc -l < "$H_DIR/pools.conf"): not a host name suffix" "$H_DIR/policyd.log"
xs "[UNAVAILABLE]" 203.0.113.7 c@prov.test teacher@school.test
t_match "... and the old list stays in force" '^DATA 250 ' "$r"; n=$((n + 1))
cp "$H_DIR/pools.good" "$H_DIR/pools.conf"

# --- 2. replies ------------------------------------------------------------------
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth teacher@school.test:test --from teacher@school.test \
    --to x@outside.test --subject "about tomorrow")
t_match "the teacher writes to x@outside.test (authenticated)" '^DATA 250 ' "$r"; n=$((n + 1))
t_wait "the reply whitelist row is stored" 5 sql_is "SELECT COUNT(*) FROM greylist_reply_awl WHERE local_user = 'teacher@school.test' AND peer = 'x@outside.test'" 1
xs "[UNAVAILABLE]" 198.51.100.10 x@outside.test teacher@school.test
t_match "x's reply to the teacher: accepted at once" '^DATA 250 ' "$r"; n=$((n + 1))
t_ok "... delivered" h_wait_sink_count smarthost $n
xs "[UNAVAILABLE]" 198.51.100.10 X+tag@Outside.TEST teacher@school.test
t_match "... in another spelling of x (canonical): accepted at once" '^DATA 250 ' "$r"; n=$((n + 1))
xs "[UNAVAILABLE]" 198.51.100.10 y@outside.test teacher@school.test
t_match "y of the same domain: greylisted" "$GREY" "$r"
xs "[UNAVAILABLE]" 198.51.100.10 x@outside.test pupil@school.test
t_match "x to another user: greylisted" "$GREY" "$r"
conf "greylist_reply_domain = yes" > "$H_DIR/policyd.conf"
hup
xs "[UNAVAILABLE]" 198.51.100.11 y@outside.test teacher@school.test
t_match "with greylist_reply_domain = yes, y passes at once" '^DATA 250 ' "$r"; n=$((n + 1))
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth teacher@school.test:test --from teacher@school.test \
    --to a1@far.test --to a2@far.test --to a3@far.test --to a4@far.test --subject "many")
t_match "the teacher writes to 4 more addresses" '^DATA 250 ' "$r"; n=$((n + 1))
t_wait "... at most greylist_reply_max = 3 rows for the user" 5 \
    sql_is "SELECT COUNT(*) FROM greylist_reply_awl WHERE local_user = 'teacher@school.test'" 3
t_match "... a full whitelist is logged" 'reply whitelist of teacher@school.test is full \(3 addresses\)' "$(cat "$H_DIR/policyd.log")"
h_sql "UPDATE greylist_reply_awl SET expires_at = UNIX_TIMESTAMP() - 1 WHERE peer = 'x@outside.test'"
xs "[UNAVAILABLE]" 198.51.100.12 x@outside.test teacher@school.test
t_match "an expired reply row no longer skips greylisting" "$GREY" "$r"
conf > "$H_DIR/policyd.conf"
hup

# --- 3. sender domains ------------------------------------------------------------
xs "[UNAVAILABLE]" 192.0.2.60 a@corp.test u1@school.test
t_match "corp.test, 1st sender: greylisted" "$GREY" "$r"
xs "[UNAVAILABLE]" 192.0.2.60 b@corp.test u2@school.test
t_match "corp.test, 2nd sender: greylisted" "$GREY" "$r"
sleep 2.2
xs "[UNAVAILABLE]" 192.0.2.60 a@corp.test u1@school.test
t_match "... 1st retry passes" '^DATA 250 ' "$r"; n=$((n + 1))
xs "[UNAVAILABLE]" 192.0.2.61 b@corp.test u2@school.test
t_match "... 2nd retry passes (same /24)" '^DATA 250 ' "$r"; n=$((n + 1))
t_wait "the domain has passed 2 triplets from 192.0.2.0/24 (written in the batch)" 5 \
    sql_is "SELECT pass_count FROM greylist_domain_awl WHERE sender_domain = 'corp.test' AND client_net = '192.0.2.0/24'" 2
xs "[UNAVAILABLE]" 192.0.2.62 c@corp.test u3@school.test
t_match "a 3rd sender of corp.test from that network: accepted at once" '^DATA 250 ' "$r"; n=$((n + 1))
xs "[UNAVAILABLE]" 198.18.0.62 c@corp.test u3@school.test
t_match "... from another network: greylisted" "$GREY" "$r"

# --- 4. selective mode --------------------------------------------------------------
conf "greylist_mode = selective" "greylist_dnsbl = bl.test" > "$H_DIR/policyd.conf"
hup
xs mx.clean.test 192.0.2.50 news@clean.test teacher@school.test
t_match "selective: a clean client (verified name, not listed) passes at once" '^DATA 250 ' "$r"; n=$((n + 1))
t_ok "... delivered" h_wait_sink_count smarthost $n
xs mx.listed.test 192.0.2.51 news@listed.test teacher@school.test
t_match "selective: a client listed on bl.test is greylisted" "$GREY" "$r"
xs dsl-192-0-2-52.dyn.isp.test 192.0.2.52 news@home.test teacher@school.test
t_match "selective: a dynamic-looking name is greylisted" "$GREY" "$r"
xs "[UNAVAILABLE]" 192.0.2.53 news@noname.test teacher@school.test
t_match "selective: no matching forward/reverse DNS is greylisted" "$GREY" "$r"
log=$(cat "$H_DIR/policyd.log")
t_match "... the reasons are logged (listed)" 'greylist: selective: listed on bl\.test' "$log"
t_match "... (dynamic)" 'greylist: selective: dynamic-looking host name' "$log"
t_match "... (no FCrDNS)" 'greylist: selective: no matching forward/reverse DNS' "$log"
t_match "the DNSBL query went to the private DNS server" '51\.2\.0\.192\.bl\.test' "$(cat "$H_DNS_DIR/dnsmasq.log")"
# DNSBL answers are cached (greylearn.c, PD_DNSBL_CACHE_TTL): a second
# message from each client asks no DNS server
xs mx.clean.test 192.0.2.50 news2@clean.test teacher@school.test
t_match "selective: the clean client's 2nd message passes" '^DATA 250 ' "$r"; n=$((n + 1))
xs mx.listed.test 192.0.2.51 news2@listed.test teacher@school.test
t_match "selective: the listed client's 2nd message is greylisted" "$GREY" "$r"
t_eq "... each client's DNSBL name was asked once (cached answers)" "1 1" \
    "$(grep -c 'query\[A\] 50\.2\.0\.192\.bl\.test' "$H_DNS_DIR/dnsmasq.log") $(grep -c 'query\[A\] 51\.2\.0\.192\.bl\.test' "$H_DNS_DIR/dnsmasq.log")"
h_stop_dns
xs mx.clean.test 192.0.2.50 news3@clean.test teacher@school.test
t_match "selective, DNS down: a client whose answer is cached still passes" '^DATA 250 ' "$r"; n=$((n + 1))
xs mx.clean2.test 192.0.2.54 news@clean.test teacher@school.test
t_match "selective, DNS down: the clean client is greylisted (the safe default)" "$GREY" "$r"
t_match "... and the DNS failure is logged" 'DNS blocklist bl\.test: .* greylisting' "$(cat "$H_DIR/policyd.log")"
h_start_dns "$H_DIR/zone"

# --- 5. explain --------------------------------------------------------------------
cat > "$H_DIR/admin.conf" <<EOF
$(conf)
EOF
out=$("$BUILD/postern" -c "$H_DIR/admin.conf" explain client=209.85.208.41 \
    client_name=mail-ed1-f41.google.com sender=someone@gmail.com recipient=teacher@school.test 2>&1)
t_match "explain shows the pool skip" 'greylist: skipped: provider-pool \(google\)' "$out"
t_ok "postern greylist pools check: the shipped file is valid" \
    "$BUILD/postern" -c "$H_DIR/admin.conf" greylist pools check conf/greylist-pools.conf
printf 'x suffix nodot 2026-12-05\n' > "$H_DIR/bad-pools.conf"
"$BUILD/postern" -c "$H_DIR/admin.conf" greylist pools check "$H_DIR/bad-pools.conf" > "$H_DIR/check.out" 2>&1
t_eq "... a broken file: exit 65" 65 "$?"
t_match "... with file:line" 'bad-pools.conf:1: not a host name suffix' "$(cat "$H_DIR/check.out")"

t_not "no database error" grep -qiE 'incorrect|syntax|data too long|deferring' "$H_DIR/policyd.log"
[ "$H_T_FAIL" -gt 0 ] && sed 's/^/# policyd: /' "$H_DIR/policyd.log" | tail -60
t_summary
