#!/bin/bash
# milter-dmarc.sh - DMARC (RFC 7489) of inbound mail in postern-milter,
# through a real Postfix, a real DNS server (dnsmasq, h_start_dns, reached
# through h_with_resolver) and MariaDB (dmarc_results, domains.dmarc_action):
#   - pass by an aligned DKIM signature, pass by an aligned SPF pass
#     (relaxed: MAIL FROM in a subdomain);
#   - fail under p=reject: 550 5.7.1 at end of DATA naming the From
#     domain, nothing delivered;
#   - fail under p=quarantine: delivered with X-Postern-DMARC: quarantine
#     (a forged one that came in is removed); with dmarc_quarantine = hold
#     the message sits in Postfix's hold queue (postqueue -j);
#   - no record: dmarc=none; a subdomain without a record gets the
#     organizational domain's sp=;
#   - domains.dmarc_action = record for the recipient domain overrides the
#     rejection (reason local_policy); a trusted forwarder and a host
#     under dmarc_mailing_lists are evaluated and delivered (reasons
#     trusted_forwarder, mailing_list);
#   - an authenticated submission, and mail from dmarc_own_networks
#     (loopback by default), are not evaluated;
#   - DNS away: dmarc=temperror, delivered;
#   - the Authentication-Results entries, the dmarc_results rows (one per
#     tuple, messages summed) and the metrics counters.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
h_start_mariadb
h_sql_file sql/schema.sql
h_start_smtp_sink smarthost
start_auth || { t_fail "the SASL test server starts"; t_summary; exit 1; }

CLIENT=192.0.2.10
FWD=192.0.2.77
ID=mx.test.example
METRICS_PORT=$(h_free_port)

# the policy-group reloader thread (lib/reloader.c) opens its database
# handle in its own thread, which may run after the milter dropped to
# `nobody`: let nobody read the (test) password, as group postern does in
# production (0640)
chmod 644 "$H_DB_PASSWORD_FILE"
h_sql "INSERT INTO domains (name, kind, transport) VALUES
  ('example.net', 'relay', 'smtp:[127.0.0.1]:9'),
  ('records.example', 'relay', 'smtp:[127.0.0.1]:9')"
h_sql "UPDATE domains SET dmarc_action = 'record' WHERE name = 'records.example'"

# --- DNS: SPF, a DKIM key, DMARC records ---------------------------------------
KDIR=$MDIR/dkim
mkdir -p "$KDIR"
openssl genrsa -traditional -out "$KDIR/k.key" 2048 2>/dev/null
pub=$(openssl rsa -in "$KDIR/k.key" -pubout -outform DER 2>/dev/null | base64 -w0)
cat > "$MDIR/zone" <<EOF
fail.example                TXT v=spf1 ip4:198.51.100.1 -all
mail.spfpass.example        TXT v=spf1 ip4:$CLIENT -all
_dmarc.spfpass.example      TXT v=DMARC1; p=reject
s1._domainkey.dkimpass.example TXT "v=DKIM1; k=rsa; p=$pub"
_dmarc.dkimpass.example     TXT v=DMARC1; p=reject; adkim=s
_dmarc.rejecting.example    TXT v=DMARC1; p=reject; rua=mailto:dmarc@rejecting.example
_dmarc.quar.example         TXT v=DMARC1; p=quarantine
_dmarc.parent.example       TXT v=DMARC1; p=none; sp=reject
nodmarc.example             TXT v=spf1 -all
EOF
h_start_dns "$MDIR/zone"

cat > "$MDIR/postern.conf" <<EOF
[milter]
listen = inet:127.0.0.1:$MPORT
user = nobody
connections = 2
authserv_id = $ID
dkim_sign = no
dmarc_trusted_forwarders = $FWD
dmarc_mailing_lists = .lists.example.org
metrics_listen = 127.0.0.1:$METRICS_PORT
poll_interval = 100ms
[ldap]
uri = ldap://127.0.0.1:1
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
retry_interval = 0
connect_timeout = 1s
EOF
start_dmarc_milter() {
    h_with_resolver "$MILTER" -f -c "$MDIR/postern.conf" </dev/null >> "$MDIR/milter.log" 2>&1 &
    MPID=$!
    h_track_pid "$MPID"
}
start_dmarc_milter
t_ok "milter starts (private resolv.conf)" milter_up
t_ok "... with DMARC on" h_wait_for 5 grep -q "DMARC on" "$MDIR/milter.log"

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_authorized_xclient_hosts = 127.0.0.0/8
relay_domains = example.net records.example
transport_maps =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
EOF

# xsend ADDR FROM RCPT FILE: send FILE as client ADDR (XCLIENT), reply in $r
cat > "$MDIR/xclient.py" <<'PYEOF'
import smtplib, sys
port, addr, helo, sender, rcpt, path = sys.argv[1:7]
name = sys.argv[7] if len(sys.argv) > 7 else "[UNAVAILABLE]"
try:
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("client.test")
    code, msg = s.docmd("XCLIENT", "ADDR=%s NAME=%s HELO=%s" % (addr, name, helo))
    if code != 220:
        print("XCLIENT %d %s" % (code, msg.decode())); sys.exit(1)
    s.ehlo_resp = None
    s.ehlo(helo)
    s.sendmail(sender, [rcpt], open(path, "rb").read())
    print("DATA 250 queued")
    s.quit()
except smtplib.SMTPResponseException as e:
    print("REFUSED %d %s" % (e.smtp_code, e.smtp_error.decode()))
    sys.exit(1)
except smtplib.SMTPRecipientsRefused as e:
    print("RCPT %s" % e.recipients); sys.exit(1)
PYEOF
cat > "$MDIR/dkim-sign.py" <<'PYEOF'
import sys, dkim
key, sel, dom, src, out = sys.argv[1:6]
msg = open(src, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
sig = dkim.sign(msg, sel.encode(), dom.encode(), open(key, "rb").read(),
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date"])
open(out, "wb").write(sig + msg)
PYEOF
k=0
mkmsg() { # mkmsg FILE FROM [EXTRA HEADER LINES...]
    local f=$1 from=$2
    shift 2
    k=$((k + 1))
    {
        printf 'From: Sender <%s>\n' "$from"
        printf 'To: someone@example.net\n'
        printf 'Subject: dmarc test %s\n' "$k"
        printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\n'
        printf 'Message-ID: <dmarc-%s@test.example>\n' "$k"
        for h in "$@"; do printf '%s\n' "$h"; done
        printf '\ntest body\n'
    } > "$f"
}
xsend() { # xsend CLIENT MAILFROM RCPT FILE [CLIENT-NAME]
    r=$("$H_PYTHON" "$MDIR/xclient.py" "$H_PF_SMTP_PORT" "$1" mail.client.example "$2" "$3" "$4" "${5:-[UNAVAILABLE]}")
}
ar() {
    sed -n '/^$/q;p' "$(h_sink_last smarthost)" | sed -e ':a' -e 'N;$!ba' -e 's/\n[ \t]\+/ /g' |
        grep -i '^Authentication-Results:'
}
hdrs() { sed -n '/^$/q;p' "$(h_sink_last smarthost)"; }
n=0

# --- pass ------------------------------------------------------------------------
mkmsg "$MDIR/p1.in" news@dkimpass.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/k.key" s1 dkimpass.example "$MDIR/p1.in" "$MDIR/p1"
xsend $CLIENT bounce@fail.example someone@example.net "$MDIR/p1"; n=$((n + 1))
t_match "aligned DKIM (SPF fails): accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... dmarc=pass (p=reject dis=none) header.from=dkimpass.example policy.dmarc=reject" \
    "; dmarc=pass \(p=reject dis=none\) header\.from=dkimpass\.example policy\.dmarc=reject$" "$(ar)"
t_match "... in the one header after spf and dkim" \
    "^Authentication-Results: $ID; spf=fail smtp\.mailfrom=bounce@fail\.example; dkim=pass header\.d=dkimpass\.example .*; dmarc=pass" "$(ar)"

mkmsg "$MDIR/p2" boss@spfpass.example
xsend $CLIENT bounce@mail.spfpass.example someone@example.net "$MDIR/p2"; n=$((n + 1))
t_ok "aligned SPF (relaxed, MAIL FROM in a subdomain), no DKIM: delivered" h_wait_sink_count smarthost $n
t_match "... dmarc=pass" "; spf=pass .*; dkim=none; dmarc=pass \(p=reject dis=none\) header\.from=spfpass\.example" "$(ar)"

# --- reject ---------------------------------------------------------------------------
mkmsg "$MDIR/r1" ceo@rejecting.example
xsend $CLIENT ceo@fail.example someone@example.net "$MDIR/r1"
t_match "fail under p=reject: 550 5.7.1 naming the From domain" \
    '^REFUSED 550 5\.7\.1 .*DMARC policy \(p=reject\) of its From domain rejecting\.example' "$r"
sleep 1
t_eq "... not delivered" "$n" "$(ls "$H_DIR"/sink-smarthost/*.eml | wc -l)"
t_match "... logged as a decision" "action=reject check=dmarc" "$(cat "$MDIR/milter.log")"

# a second From domain cannot hide the failing one
mkmsg "$MDIR/r2" "ceo@rejecting.example>, <x@nodmarc.example"
xsend $CLIENT ceo@fail.example someone@example.net "$MDIR/r2"
t_match "two From domains, one failing p=reject: 550 5.7.1" '^REFUSED 550 5\.7\.1 ' "$r"

# --- quarantine -----------------------------------------------------------------------
mkmsg "$MDIR/q1" info@quar.example "X-Postern-DMARC: none (forged)"
xsend $CLIENT info@fail.example someone@example.net "$MDIR/q1"; n=$((n + 1))
t_match "fail under p=quarantine: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... with X-Postern-DMARC: quarantine (the forged one removed)" \
    "X-Postern-DMARC: quarantine" "$(hdrs | grep -i '^X-Postern-DMARC')"
t_match "... dmarc=fail (p=quarantine dis=quarantine)" \
    "; dmarc=fail \(p=quarantine dis=quarantine\) header\.from=quar\.example policy\.dmarc=quarantine$" "$(ar)"

# --- none, sp= ------------------------------------------------------------------------------
mkmsg "$MDIR/n1" a@nodmarc.example
xsend $CLIENT a@fail.example someone@example.net "$MDIR/n1"; n=$((n + 1))
t_ok "no DMARC record: delivered" h_wait_sink_count smarthost $n
t_match "... dmarc=none header.from=nodmarc.example" "; dmarc=none header\.from=nodmarc\.example$" "$(ar)"

mkmsg "$MDIR/s1" a@sub.parent.example
xsend $CLIENT a@fail.example someone@example.net "$MDIR/s1"
t_match "subdomain without a record, sp=reject at the organizational domain: 550 5.7.1" \
    '^REFUSED 550 5\.7\.1 .*From domain sub\.parent\.example' "$r"
mkmsg "$MDIR/s2" a@parent.example
xsend $CLIENT a@fail.example someone@example.net "$MDIR/s2"; n=$((n + 1))
t_ok "the organizational domain itself (p=none): delivered" h_wait_sink_count smarthost $n
t_match "... dmarc=fail (p=none sp=reject dis=none)" \
    "; dmarc=fail \(p=none sp=reject dis=none\) header\.from=parent\.example policy\.dmarc=none$" "$(ar)"

# --- per-domain action, trusted forwarder, authenticated ----------------------------------------
mkmsg "$MDIR/d1" ceo@rejecting.example
xsend $CLIENT ceo@fail.example someone@records.example "$MDIR/d1"; n=$((n + 1))
t_match "p=reject to a domain with dmarc_action = record: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... dis=none reason=local_policy" \
    "; dmarc=fail \(p=reject dis=none reason=local_policy\) header\.from=rejecting\.example" "$(ar)"

xsend $FWD ceo@fail.example someone@example.net "$MDIR/r1"; n=$((n + 1))
t_match "p=reject from a trusted forwarder: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... dis=none reason=trusted_forwarder" \
    "; dmarc=fail \(p=reject dis=none reason=trusted_forwarder\) header\.from=rejecting\.example" "$(ar)"

xsend 203.0.113.5 ceo@fail.example someone@example.net "$MDIR/r1" mx2.lists.example.org; n=$((n + 1))
t_match "p=reject from a host under dmarc_mailing_lists (.lists.example.org): accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... dis=none reason=mailing_list" \
    "; dmarc=fail \(p=reject dis=none reason=mailing_list\) header\.from=rejecting\.example" "$(ar)"

r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth anna:test --from ceo@rejecting.example \
    --to someone@example.net --data "$MDIR/r1"); n=$((n + 1))
t_match "authenticated submission with a p=reject From: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... not evaluated (no Authentication-Results)" 0 "$(ar | grep -c .)"

r=$(h_smtp --port "$H_PF_SMTP_PORT" --from ceo@rejecting.example \
    --to someone@example.net --data "$MDIR/r1"); n=$((n + 1))
t_match "unauthenticated loopback client (dmarc_own_networks): accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... not evaluated (no dmarc= entry)" "^Authentication-Results: $ID; dkim=none$" "$(ar)"

# --- the results in SQL, the counters ------------------------------------------------------------
xsend $CLIENT ceo@fail.example someone@example.net "$MDIR/r1"
rows() { h_sql "SELECT header_from, disposition, dkim_aligned, spf_aligned, IFNULL(reason, '-'), messages, p FROM dmarc_results ORDER BY header_from, disposition, reason"; }
has_rows() { [ "$(h_sql "SELECT COALESCE(SUM(messages), 0) FROM dmarc_results")" -ge 11 ]; }
t_ok "dmarc_results written within seconds" h_wait_for 10 has_rows
dbrows=$(rows)
has_line() { grep -qE "$1" <<<"$dbrows"; }
t_ok "... pass by DKIM" has_line "^dkimpass\.example	none	pass	fail	-	1	reject$"
t_ok "... pass by SPF" has_line "^spfpass\.example	none	fail	pass	-	1	reject$"
t_ok "... the rejected ones summed in one row" has_line "^rejecting\.example	reject	fail	fail	-	3	reject$"
t_ok "... local_policy" has_line "^rejecting\.example	none	fail	fail	local_policy	1	reject$"
t_ok "... mailing_list" has_line "^rejecting\.example	none	fail	fail	mailing_list	1	reject$"
t_ok "... trusted_forwarder" has_line "^rejecting\.example	none	fail	fail	trusted_forwarder	1	reject$"
t_ok "... quarantine" has_line "^quar\.example	quarantine	fail	fail	-	1	quarantine$"
t_match "... sp: the policy domain is the organizational domain" "parent\.example	reject" \
    "$(h_sql "SELECT policy_domain, disposition, sp FROM dmarc_results WHERE header_from = 'sub.parent.example'")"
t_match "... row columns: ip, envelope, SPF, DKIM JSON, rua" \
    "^192\.0\.2\.10	dkimpass\.example	fail\.example	example\.net	fail\.example	mfrom	fail	dkimpass\.example	s1	pass	NULL$" \
    "$(h_sql "SELECT source_ip, policy_domain, envelope_from, envelope_to, spf_domain, spf_scope, spf_result, JSON_UNQUOTE(JSON_EXTRACT(dkim_results, '\$[0].domain')), JSON_UNQUOTE(JSON_EXTRACT(dkim_results, '\$[0].selector')), JSON_UNQUOTE(JSON_EXTRACT(dkim_results, '\$[0].result')), IFNULL(rua, 'NULL') FROM dmarc_results WHERE header_from = 'dkimpass.example'")"
t_eq "... rua as published" "mailto:dmarc@rejecting.example" \
    "$(h_sql "SELECT DISTINCT rua FROM dmarc_results WHERE header_from = 'rejecting.example'")"
t_eq "... none and no-record results are not rows" 0 \
    "$(h_sql "SELECT COUNT(*) FROM dmarc_results WHERE header_from = 'nodmarc.example'")"

metrics() { "$H_PYTHON" -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics').read().decode())"; }
m=$(metrics)
t_match "metrics: dmarc pass" 'postern_milter_dmarc_total\{result="pass"\} 2' "$m"
t_match "metrics: dmarc fail" 'postern_milter_dmarc_total\{result="fail"\} ' "$m"
t_match "metrics: dmarc none" 'postern_milter_dmarc_total\{result="none"\} ' "$m"
t_match "metrics: rejected" 'postern_milter_dmarc_actions_total\{action="rejected"\} 4' "$m"
t_match "metrics: quarantined" 'postern_milter_dmarc_actions_total\{action="quarantined"\} 1' "$m"

# --- the database away: mail flows, the results wait in memory ----------------------------------
h_stop_mariadb
xsend $CLIENT bounce@mail.spfpass.example someone@example.net "$MDIR/p2"; n=$((n + 1))
t_match "database stopped: a DMARC pass is still accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_ok "... the writer says it keeps the results" \
    h_wait_for 10 grep -q "cannot write dmarc_results" "$MDIR/milter.log"
h_restart_mariadb
spf2() { [ "$(h_sql "SELECT messages FROM dmarc_results WHERE header_from = 'spfpass.example'")" = 2 ]; }
t_ok "database back: the kept result is added (messages = 2)" h_wait_for 15 spf2

# --- temperror ------------------------------------------------------------------------------------
h_stop_dns
xsend $CLIENT ceo@fail.example someone@example.net "$MDIR/r1"; n=$((n + 1))
t_match "DNS away, p=reject domain: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... dmarc=temperror header.from=rejecting.example" "; dmarc=temperror header\.from=rejecting\.example$" "$(ar)"
t_match "metrics: temperror" 'postern_milter_dmarc_total\{result="temperror"\} 1' "$(metrics)"
h_start_dns "$MDIR/zone"

# --- dmarc_quarantine = hold -----------------------------------------------------------------------
stop_milter
echo "dmarc_quarantine = hold" > "$MDIR/extra"
sed -i "/^\[milter\]$/r $MDIR/extra" "$MDIR/postern.conf"
start_dmarc_milter
t_ok "milter restarts with dmarc_quarantine = hold" milter_up
xsend $CLIENT info@fail.example someone@example.net "$MDIR/q1"
t_match "p=quarantine with hold: accepted" '^DATA 250' "$r"
held() { postqueue -c "$H_PF_CONF" -j | grep -q '"queue_name": *"hold"'; }
t_ok "... in Postfix's hold queue (postqueue -j)" h_wait_for 10 held
sleep 1
t_eq "... not delivered" "$n" "$(ls "$H_DIR"/sink-smarthost/*.eml | wc -l)"

stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_summary
