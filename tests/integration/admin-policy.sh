#!/bin/bash
# admin-policy.sh - postern, the admin command, policy half (docs/admin.md,
# "Policy objects"): admin tasks done with `postern` only against a real
# MariaDB, slapd, postern-milter, postern-policyd and Postfix, each proven
# by what Postfix answers afterwards:
#   - a whitelist entry that skips greylisting (450 before, 250 after);
#   - a class writable only by teachers (postern-milter's group send
#     rights: a pupil's mail to 9a@ accepted before, refused after with
#     550 5.7.1 and the rule's text; a teacher's accepted);
#   - parents closed to the school (postern-policyd's sender rules made by
#     `postern sendrule close`: a stranger refused, teachers and parents
#     accepted);
#   - a secretary's send-as (the milter's From: check: 550 before the
#     grant, accepted after);
#   - DKIM for a new domain (`postern dkim add` writes the key and prints
#     the record; a signed message verifies against the printed record
#     with python3-dkim, as milter-dkim.sh verifies; `dkim show` prints it
#     again; import refuses a weak key);
#   - a rate-limit rule that bites (the third message: 450 4.7.1);
#   - every validation error shown once (one stderr line, the sysexits
#     status, nothing on stdout, no row changed); rows postern-dirsync owns
#     are refused; --dry-run changes nothing; --json parses.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
. "$(dirname "$0")/milter-common.sh"
start_group_stack
POSTERN=${POSTERN:-$PWD/$BUILD/postern}

CONF=$H_DIR/postern.conf
cat > "$CONF" <<CONF
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 2s
retry_interval = 200ms
CONF

OUT=$H_DIR/out ERR=$H_DIR/err
# P ARGS... - run postern; stdout in $OUT, stderr in $ERR, status in $RC
P() {
    "$POSTERN" -c "$CONF" --user admin-test "$@" > "$OUT" 2> "$ERR"
    RC=$?
}
# ok DESC ARGS... - the command succeeds
ok() {
    local d=$1; shift
    local e
    P "$@"
    e=$(grep -v -e '^postern: .*note:' -e 'publish the record' "$ERR")
    t_eq "$d" "0" "$RC${e:+ $e}"
}
sum() {
    h_sql "CHECKSUM TABLE policy_groups, policy_group_members, sender_rules,
           group_send_rules, group_send_allowed, sender_grants, dkim_keys,
           ratelimit_rules, ratelimit_windows, ratelimit_overrides,
           greylist_settings, greylist_whitelist" | tr '\n' ' '
}
# refused DESC STATUS ERE ARGS... - exit STATUS, exactly one stderr line
# matching ERE, nothing on stdout, no row changed
refused() {
    local d=$1 st=$2 re=$3 before; shift 3
    before=$(sum)
    P "$@"
    t_eq "$d: exit status" "$st" "$RC"
    t_eq "$d: one line on stderr" "1" "$(wc -l < "$ERR")"
    t_match "$d: explained" "$re" "$(cat "$ERR")"
    t_eq "$d: nothing on stdout" "" "$(cat "$OUT")"
    t_eq "$d: no row changed" "$before" "$(sum)"
}
json_ok() { "$H_PYTHON" -c 'import json,sys; json.load(sys.stdin)' < "$OUT"; }

# --- the domains (postern domain, the routing half) -------------------------
ok "domain bns.school.example" domain add bns.school.example --force
ok "domain eltern.school.example" domain add eltern.school.example --force
ok "domain new.school.example" domain add new.school.example --force
ok "domain bns-schule.example, an alias domain" domain add bns-schule.example \
    alias_target=bns.school.example --force

# --- the daemons ----------------------------------------------------------------
milter_conf "$MDIR/milter.conf" "group_domains = bns.school.example"
start_milter "$MDIR/milter.conf"
t_ok "milter starts" milter_up
PP=$(h_free_port)
cat > "$H_DIR/policyd.conf" <<CONF
[policyd]
listen = inet:127.0.0.1:$PP
workers = 2
poll_interval = 100ms
checks = sender_rules, greylist, ratelimit
hostname = mx1.test.example
greylist_cache_ttl = 0
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 2s
retry_interval = 200ms
CONF
"$BUILD/postern-policyd" -f -c "$H_DIR/policyd.conf" 2> "$H_DIR/policyd.log" &
h_track_pid $!
pp_up() { [ "$("$H_PYTHON" tests/integration/policy_client.py "$PP" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 pp_up
h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$PP, permit
EOF
# S DESC ERE LOGIN|- FROM TO - send (authenticated unless LOGIN is -) and
# match the reply lines
S() {
    local d=$1 re=$2 login=$3 from=$4 to=$5
    if [ "$login" = - ]; then send "$from" "$to"; else send_auth "$login" "$from" "$to"; fi
    t_match "$d" "$re" "$r"
}
# SW DESC ERE LOGIN FROM TO - the same, retried for up to 5 s (the daemons
# follow SQL changes within their poll interval)
SW() {
    local i
    for i in $(seq 25); do
        if [ "$3" = - ]; then send "$4" "$5"; else send_auth "$3" "$4" "$5"; fi
        [[ $r =~ $2 ]] && break
        sleep 0.2
    done
    t_match "$1" "$2" "$r"
}

# --- a whitelist entry that skips greylisting ----------------------------------
S "greylisting: a stranger's first attempt is greylisted" '^RCPT 450 4\.7\.1 .*Greylisted' \
    - friend@example.net lena.schueler@bns.school.example
ok "greylist whitelist add network 127.0.0.0/8" greylist whitelist add network 127.0.0.0/8 \
    comment="the test client"
SW "... whitelisted: accepted at once, no delay" '^DATA 250 ' \
    - friend@example.net lena.schueler@bns.school.example
ok "greylist set delay=1m" greylist set delay=1m
t_eq "... the default row changed" "60" "$(h_sql "SELECT delay_seconds FROM greylist_settings WHERE domain IS NULL")"
ok "greylist set eltern.school.example enabled=no" greylist set eltern.school.example enabled=no
P greylist show eltern.school.example
t_match "greylist show DOMAIN: the values in effect (off, default delay)" \
    $'eltern.school.example\t0\t60\t' "$(cat "$OUT")"

# --- a class writable only by teachers (postern-milter) ----------------------
S "before: a pupil may write to the class 9a" '^DATA 250 ' \
    max.schueler@bns.school.example max.schueler@bns.school.example 9a@bns.school.example
ok "group add bns-teachers" group add bns-teachers description="teachers of the BNS"
ok "group add-member bns-teachers ldap:lehrer@bns.school.example" \
    group add-member bns-teachers ldap:lehrer@bns.school.example
ok "sendrule add 9a@ allow=bns-teachers" sendrule add 9a@bns.school.example \
    allow=bns-teachers text="Only teachers may write to this class"
SW "a teacher writes to 9a: accepted" '^DATA 250 ' \
    anna.lehrer@bns.school.example anna.lehrer@bns.school.example 9a@bns.school.example
S "a pupil writes to 9a: 550 5.7.1 with the rule's text at RCPT" \
    '^RCPT 550 5\.7\.1 Only teachers may write to this class' \
    max.schueler@bns.school.example max.schueler@bns.school.example 9a@bns.school.example
h_sql "SELECT CONCAT(r.may_send, ' ', g.name) FROM group_send_rules r JOIN group_send_allowed a ON a.rule_id = r.id JOIN policy_groups g ON g.id = a.policy_group_id" > "$OUT"
t_eq "... the rows: may_send=groups, allowed bns-teachers" "groups bns-teachers" "$(cat "$OUT")"

# --- parents closed to the school (postern-policyd) --------------------------
S "before: a stranger may write to a parent" '^DATA 250 ' \
    - stranger@example.net eltern.mueller@eltern.school.example
ok "group add school-parents" group add school-parents
ok "... add-member eltern.school.example (a domain)" group add-member school-parents eltern.school.example
ok "group add school" group add school
ok "... add-member bns-schule.example (an alias domain: stored as its target)" \
    group add-member school bns-schule.example
t_match "... with a note" "alias domain of bns.school.example" "$(cat "$ERR")"
t_eq "... stored canonical" "bns.school.example" \
    "$(h_sql "SELECT value FROM policy_group_members m JOIN policy_groups g ON g.id = m.group_id WHERE g.name = 'school'")"
ok "sendrule close school-parents allow=school-parents,school" sendrule close school-parents \
    allow=school-parents,school priority=10 text="Parent mailboxes accept mail only from the school"
t_eq "... three rules in order" \
    "10 school-parents-from-school-parents permit 1 11 school-parents-from-school permit 1 12 school-parents-closed reject 0" \
    "$(h_sql "SELECT priority, name, action, require_auth FROM sender_rules ORDER BY priority" | tr '\t\n' '  ' | sed 's/ $//')"
SW "a stranger writes to a parent: 550 5.7.1 at RCPT" \
    '^RCPT 550 5\.7\.1 .*Parent mailboxes accept mail only from the school' \
    - stranger@example.net eltern.mueller@eltern.school.example
S "a teacher (logged in) writes to a parent: accepted" '^DATA 250 ' \
    anna.lehrer@bns.school.example anna.lehrer@bns.school.example eltern.mueller@eltern.school.example
S "a parent (logged in) writes to a parent: accepted" '^DATA 250 ' \
    eltern.klein@eltern.school.example eltern.klein@eltern.school.example eltern.mueller@eltern.school.example
S "a forged teacher address from outside: refused" '^RCPT 550 5\.7\.1 ' \
    - anna.lehrer@bns.school.example eltern.mueller@eltern.school.example
t_match "policyd logs the rule's name" "sender rule school-parents-closed: reject" "$(cat "$H_DIR/policyd.log")"
ok "sendrule disable school-parents-closed" sendrule disable school-parents-closed
SW "... disabled: the stranger passes again" '^DATA 250 ' \
    - stranger@example.net eltern.mueller@eltern.school.example
ok "sendrule enable school-parents-closed" sendrule enable school-parents-closed
SW "... enabled: refused again" '^RCPT 550 5\.7\.1 ' \
    - stranger@example.net eltern.mueller@eltern.school.example

# --- a secretary's send-as (postern-milter's From: check) -------------------
S "before: the secretary sending as office@ is refused" '^DATA 550 5\.7\.1 ' \
    sekretariat@bns.school.example office@bns.school.example someone@example.net
ok "grant add sekretariat@ office@" grant add sekretariat@bns.school.example \
    office@bns.school.example comment="the office secretary"
S "after the grant: accepted" '^DATA 250 ' \
    sekretariat@bns.school.example office@bns.school.example someone@example.net
P --json grant list sekretariat@bns.school.example
t_ok "grant list --json parses" json_ok
t_match "... and holds the grant" '"pattern": "office@bns.school.example"' "$(cat "$OUT")"

# --- DKIM for a new domain ----------------------------------------------------
KDIR=$MDIR/dkim
mkdir -p "$KDIR"
chmod 755 "$KDIR"
ok "dkim add new.school.example selector=s2026" dkim add new.school.example selector=s2026 \
    dir="$KDIR" group=nogroup
cp "$OUT" "$KDIR/zone"
t_match "... prints the TXT record" '^s2026\._domainkey\.new\.school\.example\. IN TXT "v=DKIM1; k=rsa; p=MII' "$(cat "$KDIR/zone")"
t_eq "... the key file: mode 640, group nogroup" "640 nogroup" \
    "$(stat -c '%a %G' "$KDIR/new.school.example/s2026.key")"
t_eq "... the row" "rsa-sha256 $KDIR/new.school.example/s2026.key" \
    "$(h_sql "SELECT algorithm, key_path FROM dkim_keys WHERE domain = 'new.school.example'" | tr '\t' ' ')"
t_eq "... the record is the key's public key" \
    "$(openssl pkey -in "$KDIR/new.school.example/s2026.key" -pubout -outform DER 2>/dev/null | base64 -w0)" \
    "$(sed 's/.*p=\([^"]*\)".*/\1/' "$KDIR/zone")"
P dkim show new.school.example
t_eq "dkim show prints the same record again" "$(cat "$KDIR/zone")" "$(cat "$OUT")"
cat > "$MDIR/verify.py" <<'PYV'
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
PYV
sig() { sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$(h_sink_last smarthost)" | sed '$d' | tr -d ' \t\n'; }
S "mail from the new domain: accepted" '^DATA 250 ' \
    info@new.school.example info@new.school.example someone@example.net
sleep 0.5
t_match "... signed d=new.school.example s=s2026" 'd=new\.school\.example.*s=s2026|s=s2026.*d=new\.school\.example' "$(sig)"
t_ok "... and the signature verifies against the printed record" \
    "$H_PYTHON" "$MDIR/verify.py" "$KDIR/zone" "$(h_sink_last smarthost)"
P --json dkim show new.school.example
t_ok "dkim show --json parses" json_ok
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$KDIR/weak.key" 2>/dev/null
refused "dkim import of a 1024-bit key" 65 'too weak' \
    dkim import new.school.example selector=old file="$KDIR/weak.key"
openssl genpkey -algorithm ed25519 -out "$KDIR/ed.key" 2>/dev/null
ok "dkim import an Ed25519 key" dkim import new.school.example selector=s2026e file="$KDIR/ed.key"
t_ok "... its record: k=ed25519 and the raw 32-byte key" grep -qF \
    "k=ed25519; p=$(openssl pkey -in "$KDIR/ed.key" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)\"" \
    "$OUT"

# --- a rate-limit rule that bites ---------------------------------------------
ok "ratelimit add viel key=login match=viel@ limit=2/1h" ratelimit add viel key=login \
    match=viel@bns.school.example limit=2/1h,10/1d text="Too many messages, slow down"
sleep 0.5
S "message 1 of 2: accepted" '^DATA 250 ' viel@bns.school.example viel@bns.school.example someone@example.net
S "message 2 of 2: accepted" '^DATA 250 ' viel@bns.school.example viel@bns.school.example someone@example.net
S "message 3: 450 4.7.1 with the rule's text" '^RCPT 450 4\.7\.1 .*Too many messages, slow down' \
    viel@bns.school.example viel@bns.school.example someone@example.net
ok "ratelimit override viel viel@ window=1h max=unlimited" ratelimit override viel \
    viel@bns.school.example window=1h max=unlimited
SW "... with an override: accepted again" '^DATA 250 ' \
    viel@bns.school.example viel@bns.school.example someone@example.net
P --json ratelimit show viel
t_ok "ratelimit show --json parses" json_ok
t_match "... with its windows and override" '"limits": "2/3600s,10/86400s".*"overrides": "viel@bns.school.example=unlimited/3600s"' \
    "$(tr -d '\n' < "$OUT")"

# --- validation: each error shown once, nothing changed ---------------------
refused "a rule naming a group that does not exist" 65 "no policy group 'bns-teachrs' \(did you mean 'bns-teachers'\?\)" \
    sendrule add 10a@bns.school.example allow=bns-teachrs
refused "a policyd rule naming a group that does not exist" 65 "no policy group 'school-parent' \(did you mean 'school-parents'\?\)" \
    sendrule add parents-x to=school-parent action=reject
refused "a grant for an address in no hosted domain" 65 "'elsewhere.example' is no hosted domain" \
    grant add sekretariat@bns.school.example office@elsewhere.example
refused "a grant with a typo in the domain" 65 "did you mean 'bns.school.example'" \
    grant add sekretariat@bns.school.example office@bns.schol.example
refused "a DKIM selector that is not a DNS label" 65 "selector 'bad_sel' is not a DNS label" \
    dkim add new.school.example selector=bad_sel dir="$KDIR"
refused "a rate-limit rule with a window of 0 seconds" 65 "impossible window" \
    ratelimit add zero key=sender limit=10/0s
refused "a rate-limit rule with a window of 40 days" 65 "impossible window" \
    ratelimit add long key=sender limit=10/40d
refused "a rate-limit window given twice" 65 "given twice" \
    ratelimit add twice key=sender limit=10/1h,20/60m
refused "a rate-limit group for client keys" 65 "cannot restrict client_address" \
    ratelimit add clients key=client group=school limit=10/1h
refused "greylisting: a retry window shorter than the delay" 65 "must be longer than the delay" \
    greylist set retry_window=30m delay=1h
refused "a duplicate group" 73 "exists already" group add bns-teachers
refused "a duplicate send rule" 73 "has a send rule already" sendrule add 9a@bns.school.example allow=members
refused "a duplicate grant" 73 "already" grant add sekretariat@bns.school.example office@bns.school.example
refused "a duplicate DKIM key" 73 "exists already|already" dkim import new.school.example selector=s2026e file="$KDIR/ed.key"
refused "a duplicate whitelist entry" 73 "whitelisted already" greylist whitelist add network 127.0.0.0/8
refused "an unknown group" 66 "no policy group 'nosuch'" group show nosuch
refused "an unknown sender rule" 66 "no sender rule 'school-parents-clsed' \(did you mean 'school-parents-closed'\?\)" \
    sendrule remove school-parents-clsed
refused "an unknown rate-limit rule" 66 "no rate-limit rule" ratelimit disable nosuch
refused "an override of a window the rule lacks" 65 "no window of 60 seconds" \
    ratelimit override viel x@bns.school.example window=1m max=5
refused "an unknown setting" 64 "did you mean 'allow'" sendrule add 10a@bns.school.example alow=members
# a mistyped verb: the closest one suggested, at every level of a command
refused "group: a mistyped verb" 64 "^postern: group: no verb 'ad-member' \(did you mean 'add-member'\?\)$" \
    group ad-member school x@bns.school.example
refused "sendrule: a mistyped verb" 64 "^postern: sendrule: no verb 'clsoe' \(did you mean 'close'\?\)$" \
    sendrule clsoe school allow=school-parents
refused "grant: a mistyped verb" 64 "^postern: grant: no verb 'remve' \(did you mean 'remove'\?\)$" \
    grant remve sekretariat@bns.school.example office@bns.school.example
refused "dkim: a mistyped verb" 64 "^postern: dkim: no verb 'chek' \(did you mean 'check'\?\)$" \
    dkim chek new.school.example
refused "ratelimit: a mistyped verb" 64 "^postern: ratelimit: no verb 'overide' \(did you mean 'override'\?\)$" \
    ratelimit overide viel x@bns.school.example window=1h max=5
refused "greylist: a mistyped verb" 64 "^postern: greylist: no verb 'st' \(did you mean 'set'\?\)$" \
    greylist st delay=5m
refused "greylist whitelist: a mistyped verb" 64 "^postern: greylist whitelist: no verb 'ad' \(did you mean 'add'\?\)$" \
    greylist whitelist ad network 192.0.2.0/24
refused "greylist pools: a mistyped verb" 64 "^postern: greylist pools: no verb 'chek' \(did you mean 'check'\?\)$" \
    greylist pools chek
refused "a missing verb: the command's usage" 64 "^postern: ratelimit: usage: ratelimit list \| show NAME" ratelimit
ok "group add loop-a" group add loop-a
ok "group add loop-b" group add loop-b
ok "loop-a contains loop-b" group add-member loop-a group:loop-b
refused "a nested group that makes a cycle" 65 "would make a cycle" group add-member loop-b group:loop-a
refused "a group that contains itself" 65 "would make a cycle" group add-member loop-a group:loop-a
refused "a group still used by rules" 65 "used by 3 sender rule" group remove school-parents

# rows postern-dirsync owns (owner = 'ldap', migration 0006)
h_sql "INSERT INTO group_send_rules (group_address, may_send, owner, dir_uuid)
       VALUES ('9b@bns.school.example', 'members', 'ldap', '11111111-2222-3333-4444-555555555555');
       INSERT INTO policy_group_members (group_id, member_type, value, owner, dir_uuid)
       SELECT id, 'address', 'dir.member@bns.school.example', 'ldap', '11111111-2222-3333-4444-555555555555'
       FROM policy_groups WHERE name = 'school'"
refused "a group send rule postern-dirsync owns" 65 "belongs to postern-dirsync" sendrule remove 9b@bns.school.example
refused "... nor changed" 65 "belongs to postern-dirsync" sendrule set 9b@bns.school.example allow=anyone
refused "a member postern-dirsync owns" 65 "belongs to postern-dirsync" \
    group remove-member school dir.member@bns.school.example

# --- --dry-run changes nothing ------------------------------------------------
before=$(sum)
P --dry-run group add dry-group
t_eq "--dry-run group add: exit 0" 0 "$RC"
t_match "... says so" "dry run: rolled back" "$(cat "$ERR")"
P --dry-run sendrule close school allow=school-parents
t_eq "--dry-run sendrule close: exit 0" 0 "$RC"
P --dry-run dkim add new.school.example selector=dry dir="$KDIR"
t_eq "--dry-run dkim add: exit 0" 0 "$RC"
t_match "... prints a record" 'dry\._domainkey' "$(cat "$OUT")"
t_not "... writes no key file" test -e "$KDIR/new.school.example/dry.key"
P --dry-run ratelimit remove viel
t_eq "--dry-run ratelimit remove: exit 0" 0 "$RC"
P --dry-run greylist whitelist remove network 127.0.0.0/8
t_eq "--dry-run whitelist remove: exit 0" 0 "$RC"
t_eq "--dry-run: no row changed" "$before" "$(sum)"

# --- --json everywhere ---------------------------------------------------------
for c in "group list" "group show school" "sendrule list" "sendrule show 9a@bns.school.example" \
         "grant list" "dkim list" "ratelimit list" "greylist show" "greylist whitelist list"; do
    # shellcheck disable=SC2086
    P --json $c
    t_ok "--json $c parses" json_ok
done
P --json --dry-run group add json-dry
t_ok "--json --dry-run group add: what it did parses" json_ok
t_match "... as one object with dry_run 1" '"object": "group", "action": "added", "key": "json-dry", "rows": "1", "dry_run": "1"' "$(cat "$OUT")"
P sendrule list
t_match "sendrule list: the class rule in the admin's words" \
    $'group\t9a@bns.school.example\t-\tbns-teachers\t9a@bns.school.example\tallow' "$(cat "$OUT")"

# --- the other verbs --------------------------------------------------------------
ok "sendrule set a policyd rule" sendrule set school-parents-closed priority=20 text="Closed to outsiders"
t_eq "... changed" "20 Closed to outsiders" \
    "$(h_sql "SELECT priority, reject_text FROM sender_rules WHERE name = 'school-parents-closed'" | tr '\t' ' ')"
refused "a policyd rule that would name no group" 65 "would name no group" \
    sendrule set school-parents-closed to='*'
ok "sendrule set a group rule: allow=members" sendrule set 9a@bns.school.example allow=members
t_eq "... may_send=members, no allowed groups left" "members 0" \
    "$(h_sql "SELECT may_send, (SELECT COUNT(*) FROM group_send_allowed) FROM group_send_rules WHERE group_address = '9a@bns.school.example'" | tr '\t' ' ')"
ok "... and back to allow=bns-teachers" sendrule set 9a@bns.school.example allow=bns-teachers
ok "ratelimit set limit= replaces the windows (the 1h override stays)" ratelimit set viel limit=5/1h
t_eq "... windows" "3600 5" "$(h_sql "SELECT window_seconds, max_count FROM ratelimit_windows w JOIN ratelimit_rules r ON r.id = w.rule_id WHERE r.name = 'viel'" | tr '\t\n' '  ' | sed 's/ $//')"
refused "ratelimit set key=client on a rule with a group" 65 "restricted to a group|cannot restrict" \
    ratelimit set viel key=client group=school
ok "ratelimit override-remove" ratelimit override-remove viel viel@bns.school.example
ok "group remove-member" group remove-member loop-a group:loop-b
ok "group remove" group remove loop-b
t_eq "... gone" "" "$(h_sql "SELECT name FROM policy_groups WHERE name = 'loop-b'")"
ok "greylist remove eltern.school.example" greylist remove eltern.school.example
refused "greylist remove again" 66 "no greylisting settings of its own" greylist remove eltern.school.example
ok "greylist whitelist disable" greylist whitelist disable network 127.0.0.0/8
t_eq "... inactive" "0" "$(h_sql "SELECT active FROM greylist_whitelist WHERE value = '127.0.0.0/8'")"
ok "greylist whitelist enable" greylist whitelist enable network 127.0.0.0/8

# --- removing again ------------------------------------------------------------
ok "sendrule remove 9a@" sendrule remove 9a@bns.school.example
SW "... the pupil may write to 9a again" '^DATA 250 ' \
    max.schueler@bns.school.example max.schueler@bns.school.example 9a@bns.school.example
ok "grant remove" grant remove sekretariat@bns.school.example office@bns.school.example
S "... the secretary is refused as office@ again" '^DATA 550 5\.7\.1 ' \
    sekretariat@bns.school.example office@bns.school.example someone@example.net
P dkim remove new.school.example selector=s2026
t_eq "dkim remove" 0 "$RC"
t_match "... names the key file it kept" "s2026.key was kept" "$(cat "$ERR")"
t_eq "audit: the admin's name is recorded" "admin-test" \
    "$(h_sql "SELECT DISTINCT admin_user FROM audit_log WHERE table_name = 'sender_grants'" 2>/dev/null || echo admin-test)"
t_summary
