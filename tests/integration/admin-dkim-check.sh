#!/bin/bash
# admin-dkim-check.sh - `postern dkim check DOMAIN [SELECTOR]` against a
# real DNS server (the harness dnsmasq; lib/dnstxt.h through glibc's
# resolver, /etc/resolv.conf replaced by h_with_resolver):
#   - published and matching (RSA 2048 in several TXT strings, Ed25519):
#     exit 0, the fingerprint printed;
#   - published but different: exit 65, both fingerprints named;
#   - not published (NXDOMAIN): exit 66;
#   - a SERVFAIL (a stdlib responder that answers SERVFAIL to everything)
#     and a DNS server that is down: "DNS temporary failure", exit 75;
#   - the worst key decides: a domain with one matching and one missing key
#     exits 66;
#   - a domain without a key of its own is checked through its fallback:
#     [milter] dkim_fallback = parent (aligned, relaxed) and
#     domains.dkim_fallback (a provider: DKIM pass without DMARC
#     alignment), and a domain with neither: 66, "leaves unsigned";
#   - the fallback domain lists the domains that name it;
#   - SELECTOR positional or selector=S; an unknown selector: 66; --json.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
h_sql_file sql/schema.sql

KDIR=$H_DIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
: > "$KDIR/zone"
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KDIR/$1.key" 2>/dev/null; }
pubof() { openssl pkey -in "$KDIR/$1.key" -pubout -outform DER 2>/dev/null | base64 -w0; }
fpof() { printf 'SHA256:%s' "$(openssl pkey -in "$KDIR/$1.key" -pubout -outform DER 2>/dev/null |
                               openssl dgst -sha256 -binary | base64 -w0)"; }
publish() { printf '%s._domainkey.%s TXT v=DKIM1; k=%s; p=%s\n' "$1" "$2" "$3" "$4" >> "$KDIR/zone"; }
for k in good bad other missing multi; do rsakey $k; done
openssl genpkey -algorithm ED25519 -out "$KDIR/ed.key" 2>/dev/null
EDPUB=$(openssl pkey -in "$KDIR/ed.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)

publish g1 good.example rsa "$(pubof good)"
publish b1 bad.example rsa "$(pubof other)"     # another key than the stored one
publish m1 multi.example rsa "$(pubof multi)"
publish e1 multi.example ed25519 "$EDPUB"
publish x1 multi.example rsa "$(pubof multi)"   # matches, but x1 is inactive
# missing.example m1 and multi.example m2: not published

h_sql "
INSERT INTO domains (name, kind) VALUES ('good.example', 'local'), ('bad.example', 'local'),
  ('missing.example', 'local'), ('multi.example', 'local'), ('sub.good.example', 'local'),
  ('nokey.example', 'local');
INSERT INTO domains (name, kind, dkim_fallback) VALUES ('cust.example', 'local', 'good.example');
INSERT INTO dkim_keys (domain, selector, algorithm, key_path, active) VALUES
  ('good.example', 'g1', 'rsa-sha256', '$KDIR/good.key', 1),
  ('bad.example', 'b1', 'rsa-sha256', '$KDIR/bad.key', 1),
  ('missing.example', 'm1', 'rsa-sha256', '$KDIR/missing.key', 1),
  ('multi.example', 'm1', 'rsa-sha256', '$KDIR/multi.key', 1),
  ('multi.example', 'e1', 'ed25519-sha256', '$KDIR/ed.key', 1),
  ('multi.example', 'm2', 'rsa-sha256', '$KDIR/missing.key', 1),
  ('multi.example', 'x1', 'rsa-sha256', '$KDIR/multi.key', 0);
" || t_fail "the SQL rows load"

CONF=$H_DIR/postern.conf
cat > "$CONF" <<CONF
[milter]
dkim_fallback = parent
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
CONF

h_start_dns "$KDIR/zone"
OUT=$H_DIR/out ERR=$H_DIR/err
P() { h_with_resolver "$BUILD/postern" -c "$CONF" "$@" > "$OUT" 2> "$ERR"; RC=$?; }

t_match "the long RSA record is served in several strings" '\(([2-9]|[1-9][0-9]) strings\)' \
    "$(h_dns_query g1._domainkey.good.example TXT)"

P dkim check good.example
t_eq "matching: exit 0" 0 "$RC"
t_match "... published and matching, with the fingerprint" \
    "g1\._domainkey\.good\.example rsa-sha256: published and matching \($(fpof good | sed 's/[+/]/\\&/g')\)" "$(cat "$OUT")"
t_match "... lists the domain that names it as dkim_fallback" \
    "good\.example: also signs mail of cust\.example \(its domains\.dkim_fallback\): DKIM pass without DMARC alignment" \
    "$(cat "$OUT")"

P dkim check bad.example
t_eq "different: exit 65" 65 "$RC"
t_match "... both fingerprints named" \
    "published but different: stored $(fpof bad | sed 's/[+/]/\\&/g'), published $(fpof other | sed 's/[+/]/\\&/g')" \
    "$(cat "$OUT")"

P dkim check missing.example
t_eq "not published: exit 66" 66 "$RC"
t_match "... not published" "m1\._domainkey\.missing\.example rsa-sha256: not published" "$(cat "$OUT")"

P dkim check multi.example
t_eq "one key missing among matching ones: exit 66" 66 "$RC"
t_match "... Ed25519 matches" "e1\._domainkey\.multi\.example ed25519-sha256: published and matching" "$(cat "$OUT")"
t_match "... RSA m1 matches" "m1\._domainkey\.multi\.example rsa-sha256: published and matching" "$(cat "$OUT")"
t_match "... m2 not published" "m2\._domainkey\.multi\.example rsa-sha256: not published" "$(cat "$OUT")"
t_eq "... the inactive key is not checked" "" "$(grep "x1\._domainkey" "$OUT")"
P dkim check multi.example e1
t_eq "one selector (positional): exit 0" 0 "$RC"
t_eq "... only that key" 1 "$(grep -c . "$OUT")"
P dkim check multi.example selector=x1
t_eq "an inactive key named by selector=: checked, exit 0" 0 "$RC"
P dkim check multi.example nosuch
t_eq "an unknown selector: exit 66" 66 "$RC"

P dkim check sub.good.example
t_eq "no key, parent fallback: exit 0 (the parent's key matches)" 0 "$RC"
t_match "... says it signs with the parent's key, aligned" \
    "sub\.good\.example: no key of its own: signed with the keys of good\.example \(\[milter\] dkim_fallback = parent\), d=good\.example: aligned" \
    "$(cat "$OUT")"
t_match "... and checks that key" "g1\._domainkey\.good\.example rsa-sha256: published and matching" "$(cat "$OUT")"
P dkim check cust.example
t_eq "no key, domains.dkim_fallback: exit 0" 0 "$RC"
t_match "... a provider: DKIM pass without DMARC alignment" \
    "cust\.example: no key of its own: signed with the keys of good\.example \(domains\.dkim_fallback\), d=good\.example: DKIM pass without DMARC alignment" \
    "$(cat "$OUT")"
P dkim check nokey.example
t_eq "no key and no parent with one: exit 66" 66 "$RC"
t_match "... leaves unsigned" "nokey\.example has no DKIM key.*leaves unsigned" "$(cat "$ERR")"
P dkim check nowhere.example
t_eq "not our domain: exit 66" 66 "$RC"

P --json dkim check bad.example
t_eq "--json: exit 65" 65 "$RC"
t_ok "--json parses, state different" "$H_PYTHON" -c '
import json, sys
rows = json.load(open(sys.argv[1]))
sys.exit(0 if rows and rows[0]["state"] == "different" and rows[0]["signer"] == "bad.example" else 1)' "$OUT"

# SERVFAIL: a responder that answers SERVFAIL to every query, over UDP and TCP
cat > "$H_DIR/servfail.py" <<'EOF'
import socket, sys, threading
def reply(q):
    return q[:2] + bytes([0x81 | (q[2] & 0x01), 0x82]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:]
for i in range(33, 65):
    addr = "127.0.53.%d" % i
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, 53))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, 53)); t.listen(5)
        break
    except OSError:
        continue
else:
    sys.exit(1)
def tcp():
    while True:
        c, _ = t.accept()
        try:
            n = int.from_bytes(c.recv(2), "big"); q = c.recv(n); r = reply(q)
            c.sendall(len(r).to_bytes(2, "big") + r)
        finally:
            c.close()
threading.Thread(target=tcp, daemon=True).start()
open(sys.argv[1], "w").write(addr)
while True:
    q, peer = u.recvfrom(4096)
    if len(q) >= 12:
        u.sendto(reply(q), peer)
EOF
"$H_PYTHON" "$H_DIR/servfail.py" "$H_DIR/servfail.addr" &
h_track_pid $!
t_wait "the SERVFAIL responder is up" 5 test -s "$H_DIR/servfail.addr"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$(cat "$H_DIR/servfail.addr")" > "$H_DIR/servfail.resolv"
chmod 644 "$H_DIR/servfail.resolv"
PS() {
    unshare -m --propagation private /bin/sh -c 'mount --bind "$0" /etc/resolv.conf || exit 126; exec "$@"' \
        "$H_DIR/servfail.resolv" "$BUILD/postern" -c "$CONF" "$@" > "$OUT" 2> "$ERR"
    RC=$?
}
PS dkim check good.example
t_eq "SERVFAIL: exit 75" 75 "$RC"
t_match "... DNS temporary failure" "g1\._domainkey\.good\.example rsa-sha256: DNS temporary failure" "$(cat "$OUT")"

h_stop_dns
P dkim check good.example
t_eq "DNS server down: exit 75" 75 "$RC"
t_match "... DNS temporary failure" "DNS temporary failure" "$(cat "$OUT")"
t_summary
