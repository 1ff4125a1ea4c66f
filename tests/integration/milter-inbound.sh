#!/bin/bash
# milter-inbound.sh - inbound authentication by postern-milter through a
# real Postfix, with a real DNS server (dnsmasq, h_start_dns) that the
# milter reaches through h_with_resolver:
#   - SPF of MAIL FROM: pass, fail, softfail, none; <> uses the HELO name;
#     a forged Received-SPF header changes nothing;
#   - DKIM verification: a message signed by python3-dkim with a key
#     published in DNS passes (relaxed and simple canonicalization), a
#     changed body fails, a key missing from DNS is a permerror;
#   - ONE Authentication-Results header at the top, authserv-id
#     mx.test.example; an incoming one with our authserv-id (any case,
#     after a comment) is removed, a foreign one stays;
#   - authenticated (SASL) submissions get no Authentication-Results, and
#     forged ones are removed from them too;
#   - DNS server stopped: spf=temperror, dkim=temperror, mail accepted;
#   - limits: headers over max_headers give dkim=permerror, more forged
#     Authentication-Results than max_headers give 550 5.7.0.
# The test client uses XCLIENT (smtpd_authorized_xclient_hosts) so the
# milter sees a non-loopback client address (192.0.2.10) as on a real MX.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
h_start_smtp_sink smarthost
start_auth || { t_fail "the SASL test server starts"; t_summary; exit 1; }

CLIENT=192.0.2.10
ID=mx.test.example

# --- a DKIM key for sender.example, published in the test DNS ------------------
KDIR=$MDIR/dkim
mkdir -p "$KDIR"
openssl genrsa -traditional -out "$KDIR/sender.key" 2048 2>/dev/null
pub=$(openssl rsa -in "$KDIR/sender.key" -pubout -outform DER 2>/dev/null | base64 -w0)
cat > "$MDIR/zone" <<EOF
# SPF
pass.example       TXT v=spf1 ip4:$CLIENT -all
fail.example       TXT v=spf1 ip4:198.51.100.1 -all
soft.example       TXT v=spf1 ip4:198.51.100.1 ~all
helo.example       TXT v=spf1 ip4:$CLIENT -all
sender.example     TXT v=spf1 ip4:192.0.2.0/24 -all
none.example       A   192.0.2.99
# DKIM (a 2048-bit key: longer than 255 bytes, so several strings)
s1._domainkey.sender.example TXT "v=DKIM1; k=rsa; p=$pub"
EOF
h_start_dns "$MDIR/zone"
t_match "DNS: the key record is served in 255-byte strings" '\(2 strings\)' \
    "$(h_dns_query s1._domainkey.sender.example TXT)"

# --- the milter, under the test resolver ------------------------------------------
cat > "$MDIR/postern.conf" <<EOF
[milter]
listen = inet:127.0.0.1:$MPORT
user = nobody
connections = 2
group_domains = groups.invalid
dkim_sign = no
authserv_id = $ID
# DMARC has its own suite (milter-dmarc.sh); here the SPF and DKIM entries
dmarc = no
[ldap]
uri = ldap://127.0.0.1:1
[database]
hosts = 127.0.0.1:1
EOF
start_inbound_milter() {
    h_with_resolver "$MILTER" -f -c "$MDIR/postern.conf" </dev/null >> "$MDIR/milter.log" 2>&1 &
    MPID=$!
    h_track_pid "$MPID"
}
start_inbound_milter
t_ok "milter starts (in the private resolv.conf namespace)" milter_up
t_match "... and logs its authserv-id" "authserv-id $ID" "$(cat "$MDIR/milter.log")"

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_authorized_xclient_hosts = 127.0.0.0/8
relay_domains = example.net
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
EOF

# --- helpers ------------------------------------------------------------------------
# xsend FROM FILE [HELO]: send FILE from CLIENT (XCLIENT) to someone@example.net
cat > "$MDIR/xclient.py" <<'PYEOF'
import smtplib, sys
port, addr, helo, sender, path = sys.argv[1:6]
try:
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("client.test")
    code, msg = s.docmd("XCLIENT", "ADDR=%s NAME=[UNAVAILABLE] HELO=%s" % (addr, helo))
    if code != 220:
        print("XCLIENT %d %s" % (code, msg.decode())); sys.exit(1)
    s.ehlo_resp = None
    s.ehlo(helo)
    s.sendmail(sender, ["someone@example.net"], open(path, "rb").read())
    print("DATA 250 queued")
    s.quit()
except smtplib.SMTPResponseException as e:
    print("REFUSED %d %s" % (e.smtp_code, e.smtp_error.decode()))
    sys.exit(1)
except smtplib.SMTPRecipientsRefused as e:
    print("RCPT %s" % e.recipients); sys.exit(1)
except smtplib.SMTPSenderRefused as e:
    print("MAIL %d %s" % (e.smtp_code, e.smtp_error.decode())); sys.exit(1)
PYEOF
# dkim-sign.py KEY SELECTOR DOMAIN HCANON/BCANON IN OUT [tamper]
cat > "$MDIR/dkim-sign.py" <<'PYEOF'
import sys, dkim
key, sel, dom, canon, src, out = sys.argv[1:7]
msg = open(src, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
h, b = canon.split("/")
sig = dkim.sign(msg, sel.encode(), dom.encode(), open(key, "rb").read(),
                canonicalize=(h.encode(), b.encode()),
                include_headers=[b"from", b"to", b"subject", b"date"])
msg = sig + msg
if len(sys.argv) > 7:
    msg = msg.replace(b"test body", b"tampered body")
open(out, "wb").write(msg)
PYEOF
n=0
mkmsg() { # mkmsg FILE FROM [EXTRA HEADER LINES...]
    local f=$1 from=$2
    shift 2
    {
        printf 'From: Sender <%s>\n' "$from"
        printf 'To: someone@example.net\n'
        printf 'Subject:  inbound test %s\n' "$n"
        printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\n'
        printf 'Message-ID: <inbound-%s@test.example>\n' "$n"
        for h in "$@"; do printf '%s\n' "$h"; done
        printf '\ntest body\nline  two  \n'
    } > "$f"
}
xsend() {
    r=$("$H_PYTHON" "$MDIR/xclient.py" "$H_PF_SMTP_PORT" "$CLIENT" "${3:-mail.sender.example}" "$1" "$2")
}
# ar: the Authentication-Results headers of the newest delivered message,
# unfolded, one per line; first: the first header line of that message
ar() {
    sed -n '/^$/q;p' "$(h_sink_last smarthost)" | sed -e ':a' -e 'N;$!ba' -e 's/\n[ \t]\+/ /g' |
        grep -i '^Authentication-Results:'
}
first() { head -n 1 "$(h_sink_last smarthost)" | cut -d: -f1; }
nar() { ar | grep -c . ; }

# --- SPF ------------------------------------------------------------------------------
mkmsg "$MDIR/m1" user@pass.example
xsend user@pass.example "$MDIR/m1"; n=$((n + 1))
t_match "SPF pass: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... spf=pass smtp.mailfrom=user@pass.example" \
    "^Authentication-Results: $ID; spf=pass smtp.mailfrom=user@pass\.example; dkim=none$" "$(ar)"
t_eq "... the header is at the top" "Authentication-Results" "$(first)"
t_eq "... exactly one" 1 "$(nar)"

mkmsg "$MDIR/m2" user@fail.example
xsend user@fail.example "$MDIR/m2"; n=$((n + 1))
t_match "SPF fail: still accepted (policyd decides)" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... spf=fail" "; spf=fail smtp\.mailfrom=user@fail\.example;" "$(ar)"
# the milter checks SPF itself and never trusts a Received-SPF header
# (docs/milter.md; the mistake of CVE-2019-20790)
mkmsg "$MDIR/m2f" user@fail.example "Received-SPF: pass (mx.test.example: forged) client-ip=$CLIENT; envelope-from=user@fail.example;"
xsend user@fail.example "$MDIR/m2f"; n=$((n + 1))
t_ok "SPF fail with a forged Received-SPF: pass: delivered" h_wait_sink_count smarthost $n
t_match "... still spf=fail" "; spf=fail smtp\.mailfrom=user@fail\.example;" "$(ar)"

mkmsg "$MDIR/m3" user@soft.example
xsend user@soft.example "$MDIR/m3"; n=$((n + 1))
t_ok "SPF softfail: delivered" h_wait_sink_count smarthost $n
t_match "... spf=softfail" "; spf=softfail smtp\.mailfrom=user@soft\.example;" "$(ar)"

mkmsg "$MDIR/m4" user@none.example
xsend user@none.example "$MDIR/m4"; n=$((n + 1))
t_ok "SPF none (no record): delivered" h_wait_sink_count smarthost $n
t_match "... spf=none" "; spf=none smtp\.mailfrom=user@none\.example;" "$(ar)"

mkmsg "$MDIR/m5" user@nowhere.example
xsend user@nowhere.example "$MDIR/m5"; n=$((n + 1))
t_ok "SPF, domain does not exist: delivered" h_wait_sink_count smarthost $n
t_match "... spf=none" "; spf=none smtp\.mailfrom=user@nowhere\.example;" "$(ar)"

mkmsg "$MDIR/m6" mailer-daemon@helo.example
xsend '' "$MDIR/m6" helo.example; n=$((n + 1))
t_ok "MAIL FROM:<>: delivered" h_wait_sink_count smarthost $n
t_match "... SPF of the HELO name: spf=pass smtp.helo=helo.example" \
    "; spf=pass smtp\.helo=helo\.example;" "$(ar)"

# --- DKIM -------------------------------------------------------------------------------
mkmsg "$MDIR/d1.in" news@sender.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example relaxed/relaxed "$MDIR/d1.in" "$MDIR/d1"
xsend news@sender.example "$MDIR/d1"; n=$((n + 1))
t_ok "DKIM relaxed/relaxed, key in DNS: delivered" h_wait_sink_count smarthost $n
t_match "... dkim=pass header.d=sender.example header.s=s1 header.b=..." \
    "; dkim=pass header\.d=sender\.example header\.s=s1 header\.b=[A-Za-z0-9+/]{8,}$" "$(ar)"
t_match "... and spf=pass" "; spf=pass smtp\.mailfrom=news@sender\.example;" "$(ar)"

mkmsg "$MDIR/d2.in" news@sender.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example simple/simple "$MDIR/d2.in" "$MDIR/d2"
xsend news@sender.example "$MDIR/d2"; n=$((n + 1))
t_ok "DKIM simple/simple (a header with two spaces after the colon): delivered" h_wait_sink_count smarthost $n
t_match "... dkim=pass (header values reach libopendkim byte for byte)" \
    "; dkim=pass header\.d=sender\.example header\.s=s1 " "$(ar)"

mkmsg "$MDIR/d3.in" news@sender.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example relaxed/relaxed "$MDIR/d3.in" "$MDIR/d3" tamper
xsend news@sender.example "$MDIR/d3"; n=$((n + 1))
t_ok "DKIM, body changed after signing: delivered" h_wait_sink_count smarthost $n
t_match "... dkim=fail" "; dkim=fail reason=\"body hash mismatch\" header\.d=sender\.example header\.s=s1 " "$(ar)"

mkmsg "$MDIR/d4.in" news@sender.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" nokey sender.example relaxed/relaxed "$MDIR/d4.in" "$MDIR/d4.1"
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example relaxed/relaxed "$MDIR/d4.1" "$MDIR/d4"
xsend news@sender.example "$MDIR/d4"; n=$((n + 1))
t_ok "DKIM, two signatures (one selector not in DNS): delivered" h_wait_sink_count smarthost $n
t_match "... dkim=pass for s1" "; dkim=pass header\.d=sender\.example header\.s=s1 " "$(ar)"
t_match "... dkim=permerror for the missing key" "; dkim=permerror reason=\"[^\"]*\" header\.d=sender\.example header\.s=nokey " "$(ar)"
t_eq "... still one header" 1 "$(nar)"

# --- forged Authentication-Results ---------------------------------------------------------
mkmsg "$MDIR/f1" user@pass.example \
    "Authentication-Results: MX.Test.Example; spf=pass smtp.mailfrom=boss@bank.example" \
    "Authentication-Results: (forged) $ID;" "  dkim=pass header.d=bank.example" \
    "Authentication-Results: other.example; spf=fail smtp.mailfrom=x@y.example" \
    "Authentication-Results: \"$ID\" ; dmarc=pass"
xsend user@pass.example "$MDIR/f1"; n=$((n + 1))
t_ok "forged A-R with our authserv-id: delivered" h_wait_sink_count smarthost $n
t_eq "... ours (top) and the foreign one remain" 2 "$(nar)"
t_eq "... the forged ones are gone" 0 "$(ar | grep -c -e bank.example -e dmarc)"
t_match "... the foreign one stays" "^Authentication-Results: other\.example; spf=fail" "$(ar | tail -n 1)"
t_match "... ours is at the top" "^Authentication-Results: $ID; spf=pass smtp\.mailfrom=user@pass\.example; dkim=none" \
    "$(ar | head -n 1)"
t_match "... the removal is logged" "removed 3 Authentication-Results header\(s\) claiming authserv-id $ID" \
    "$(cat "$MDIR/milter.log")"

# --- authenticated submission: no A-R ----------------------------------------------------------
mkmsg "$MDIR/a1" anna@pass.example "Authentication-Results: $ID; spf=pass smtp.mailfrom=boss@bank.example"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth anna:test --from anna@pass.example \
    --to someone@example.net --data "$MDIR/a1"); n=$((n + 1))
t_match "authenticated submission: accepted" '^DATA 250 ' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_eq "... without any Authentication-Results (the forged one removed)" 0 "$(nar)"

# --- unauthenticated loopback client: DKIM only (libspf2 would say pass unasked) ------------------
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from user@fail.example --to someone@example.net --subject loop); n=$((n + 1))
t_ok "loopback client: delivered" h_wait_sink_count smarthost $n
t_match "... no spf result, dkim=none" "^Authentication-Results: $ID; dkim=none$" "$(ar)"

# --- DNS down -----------------------------------------------------------------------------------
h_stop_dns
mkmsg "$MDIR/t1.in" news@sender.example
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example relaxed/relaxed "$MDIR/t1.in" "$MDIR/t1"
xsend news@sender.example "$MDIR/t1"; n=$((n + 1))
t_match "DNS server stopped: accepted" '^DATA 250' "$r"
t_ok "... delivered" h_wait_sink_count smarthost $n
t_match "... spf=temperror" "; spf=temperror smtp\.mailfrom=news@sender\.example;" "$(ar)"
t_match "... dkim=temperror" "; dkim=temperror reason=\"key lookup failed\" header\.d=sender\.example header\.s=s1 " "$(ar)"
h_start_dns "$MDIR/zone"
xsend news@sender.example "$MDIR/t1"; n=$((n + 1))
t_ok "DNS back: delivered" h_wait_sink_count smarthost $n
t_match "... spf=pass and dkim=pass again" "spf=pass .*; dkim=pass header\.d=sender\.example" "$(ar)"

# --- limits ---------------------------------------------------------------------------------------
stop_milter
sed -i 's/^connections = 2$/connections = 2\nmax_headers = 10/' "$MDIR/postern.conf"
start_inbound_milter
t_ok "milter restarts with max_headers = 10" milter_up
mkmsg "$MDIR/l1.in" news@sender.example X-A:1 X-B:2 X-C:3 X-D:4 X-E:5 X-F:6
"$H_PYTHON" "$MDIR/dkim-sign.py" "$KDIR/sender.key" s1 sender.example relaxed/relaxed "$MDIR/l1.in" "$MDIR/l1"
xsend news@sender.example "$MDIR/l1"; n=$((n + 1))
t_ok "more headers than max_headers: delivered" h_wait_sink_count smarthost $n
t_match "... dkim=permerror with the reason, spf still checked" \
    "; spf=pass smtp\.mailfrom=news@sender\.example; dkim=permerror reason=\"headers over max_headers/max_header_bytes\"$" "$(ar)"
forged=()
for i in $(seq 1 11); do forged+=("Authentication-Results: $ID; spf=pass"); done
mkmsg "$MDIR/l2" user@pass.example "${forged[@]}"
xsend user@pass.example "$MDIR/l2"
t_match "more forged Authentication-Results than max_headers: 550 5.7.0" '^REFUSED 550 5\.7\.0 ' "$r"

stop_milter; rc=$?
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_summary
