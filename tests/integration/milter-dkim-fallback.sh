#!/bin/bash
# milter-dkim-fallback.sh - DKIM fallback keys of postern-milter through a
# real Postfix (docs/milter.md, "Fallback keys"): mail from a trusted
# client (trusted_networks = 127.0.0.1) whose From domain is one of ours
# without a key of its own
#   - [milter] dkim_fallback = parent: signed with d= the nearest parent
#     domain that has a key (sub.parent.example -> parent.example,
#     x.a.parent.example -> a.parent.example, not parent.example), never
#     above the organizational domain (shop.co.uk does not fall back to
#     co.uk, which has a key: unsigned, error line);
#   - domains.dkim_fallback wins over the configuration: a customer domain
#     signed with d= the provider domain's key;
#   - dkim_fallback = none: unsigned (the column still applies);
#   - dkim_fallback = DOMAIN: every keyless domain signed by the provider;
#   - a domain with its own key keeps signing with it; one whose own key
#     is unusable gets no fallback (unsigned, error line); one with only
#     inactive keys does;
#   - a bad dkim_fallback value is refused by -t;
# every signature verified with python3-dkim (an independent verifier)
# against the public keys, served by a DNS function reading a zone file.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack

KDIR=$MDIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
: > "$KDIR/zone"
# newkey NAME DOMAIN SELECTOR: a key file and its record in the zone
newkey() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KDIR/$1.key" 2>/dev/null
    chmod 644 "$KDIR/$1.key"
    printf '%s._domainkey.%s. IN TXT "v=DKIM1; k=rsa; p=%s"\n' "$3" "$2" \
        "$(openssl pkey -in "$KDIR/$1.key" -pubout -outform DER 2>/dev/null | base64 -w0)" >> "$KDIR/zone"
}
newkey parent parent.example p1
newkey apar a.parent.example a1
newkey prov provider.example prov
newkey couk co.uk cu1

h_sql "
INSERT INTO domains (name, kind) VALUES ('parent.example', 'local'),
  ('sub.parent.example', 'local'), ('a.parent.example', 'local'),
  ('x.a.parent.example', 'local'), ('provider.example', 'local'),
  ('lonely.example', 'local'), ('co.uk', 'local'), ('shop.co.uk', 'local'),
  ('broken.parent.example', 'local'), ('old.parent.example', 'local');
INSERT INTO domains (name, kind, dkim_fallback) VALUES
  ('customer.example', 'local', 'provider.example'),
  ('brand.parent.example', 'local', 'provider.example');
INSERT INTO dkim_keys (domain, selector, algorithm, key_path) VALUES
  ('parent.example', 'p1', 'rsa-sha256', '$KDIR/parent.key'),
  ('a.parent.example', 'a1', 'rsa-sha256', '$KDIR/apar.key'),
  ('provider.example', 'prov', 'rsa-sha256', '$KDIR/prov.key'),
  ('co.uk', 'cu1', 'rsa-sha256', '$KDIR/couk.key'),
  ('broken.parent.example', 'k1', 'rsa-sha256', '$KDIR/no-such.key'),
  ('old.parent.example', 'o1', 'rsa-sha256', '$KDIR/prov.key');
UPDATE dkim_keys SET active = 0 WHERE domain = 'old.parent.example';
" || t_fail "the SQL rows load"

cat > "$MDIR/verify.py" <<'EOF'
import re, sys, dkim
zone = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\S+)\s+IN\s+TXT\s+"(.*)"', line)
    if m:
        zone[m.group(1).lower().encode()] = m.group(2).encode()
def dnsfunc(name, timeout=5):
    return zone.get(name.lower())
msg = re.sub(rb'\r?\n', b'\r\n', open(sys.argv[2], 'rb').read())
sys.exit(0 if dkim.verify(msg, dnsfunc=dnsfunc) else 1)
EOF
verify() { "$H_PYTHON" "$MDIR/verify.py" "$KDIR/zone" "$(h_sink_last smarthost)"; }
sig() { sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$(h_sink_last smarthost)" | sed '$d' | tr -d ' \t\n'; }
dtag() { sig | sed -n 's/.*;d=\([^;]*\);.*/\1/p'; }

# signed DESC FROM D: trusted mail from FROM leaves signed with d=D, verified
signed() {
    send "$2" someone@example.net; n=$((n + 1))
    if ! h_wait_sink_count smarthost $n; then
        t_fail "$1: delivered" "$r"
        return
    fi
    t_eq "$1: d=$3" "$3" "$(dtag)"
    t_ok "$1: the signature verifies (python3-dkim)" verify
}
unsigned() {
    send "$2" someone@example.net; n=$((n + 1))
    if ! h_wait_sink_count smarthost $n; then
        t_fail "$1: delivered" "$r"
        return
    fi
    t_eq "$1: unsigned" "" "$(sig)"
}

milter_conf "$MDIR/parent.conf" "trusted_networks = 127.0.0.1" "dkim_fallback = parent"
start_milter "$MDIR/parent.conf"
t_ok "milter starts (dkim_fallback = parent)" milter_up

h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
EOF

signed "own key" u@parent.example parent.example
signed "subdomain without a key, parent" u@sub.parent.example parent.example
signed "nearest parent with a key" u@x.a.parent.example a.parent.example
signed "domains.dkim_fallback wins over parent" u@brand.parent.example provider.example
signed "customer domain, domains.dkim_fallback = provider" u@customer.example provider.example
unsigned "below a public suffix (co.uk has a key, but is no parent to fall back to)" u@shop.co.uk
t_match "... with an error line" "no usable DKIM key for shop.co.uk \(nor of its fallback parent\)" \
    "$(cat "$MDIR/milter.log")"
unsigned "an organizational domain without a key" u@lonely.example
unsigned "own key unusable: no fallback" u@broken.parent.example
t_match "... with an error line" "no usable DKIM key for broken\.parent\.example: message passes unsigned" \
    "$(cat "$MDIR/milter.log")"
signed "only an inactive key of its own: parent" u@old.parent.example parent.example
unsigned "not our domain" u@elsewhere.example
stop_milter

milter_conf "$MDIR/none.conf" "trusted_networks = 127.0.0.1"
start_milter "$MDIR/none.conf"
t_ok "milter restarts (dkim_fallback = none, the default)" milter_up
unsigned "none: a subdomain without a key" u@sub.parent.example
signed "none: domains.dkim_fallback still applies" u@customer.example provider.example
signed "none: own key" u@parent.example parent.example
stop_milter

milter_conf "$MDIR/prov.conf" "trusted_networks = 127.0.0.1" "dkim_fallback = Provider.Example"
start_milter "$MDIR/prov.conf"
t_ok "milter restarts (dkim_fallback = provider.example)" milter_up
signed "provider: an organizational domain without a key" u@lonely.example provider.example
signed "provider: a subdomain without a key (no parent search)" u@sub.parent.example provider.example
signed "provider: own key first" u@a.parent.example a.parent.example
stop_milter

milter_conf "$MDIR/bad.conf" "dkim_fallback = provider"
out=$("$MILTER" -t -c "$MDIR/bad.conf" 2>&1); rc=$?
t_not "-t refuses dkim_fallback = provider (no domain)" test "$rc" = 0
t_match "... naming the key" "dkim_fallback: none, parent or a domain name" "$out"
t_summary
