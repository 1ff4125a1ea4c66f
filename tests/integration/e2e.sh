#!/bin/bash
# e2e.sh - the whole postern stack through a real Postfix: every demo
# scenario (school and ISP), plus no open relay, spoofed internal senders,
# bounces, a 20 MB message to 500 recipients across groups, IPv6 clients.
# The stack (tests/integration/e2e-lib.sh): MariaDB with both samples, slapd
# with the school directory, postern-maps/-policyd/-milter/-lda (LMTP, and
# pipe for kunde1.example), Postfix wired by scripts/postern-postconf, a
# smarthost sink requiring AUTH over STARTTLS, legacy and other-mx sinks.
# Also checks conf/postern.conf against every daemon's -d and -t, and
# conf/postfix/*.cf against scripts/postern-postconf.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init
E2E_IPV6=1
. tests/integration/e2e-lib.sh

# ------------------------------------------------------------ configuration
# conf/postern.conf: the keys of each daemon's sections are exactly -d's
conf_keys() {   # FILE SECTIONS... -> "section.key" lines
    local f=$1; shift
    awk -v secs=" $* " '/^\[/{s=substr($0,2,length($0)-2); next}
        /^[a-z_]+ *=/ && index(secs, " " s " ") {k=$0; sub(/ *=.*/, "", k); print s "." k}' "$f" | sort
}
for d in maps policyd milter; do
    secs=$(grep -o '^\[[a-z]*\]' <("$BUILD/postern-$d" -d) | tr -d '[]' | tr '\n' ' ')
    t_eq "conf/postern.conf has exactly postern-$d -d's keys ($secs)" \
        "$("$BUILD/postern-$d" -d | conf_keys /dev/stdin $secs)" "$(conf_keys conf/postern.conf $secs)"
done
# postern-lda has no -d: its table in lda/config.c (+ the shared server keys)
t_eq "conf/postern.conf [lda] keys are postern-lda's (lda/config.c)" \
    "$( (sed -n 's/^ *{"\([a-z_]*\)", CFG_.*/lda.\1/p' lda/config.c
         printf 'lda.%s\n' listen user max_connections idle_timeout unix_socket_mode pid_file metrics_listen) | sort -u)" \
    "$(conf_keys conf/postern.conf lda)"
printf 'x\n' > "$H_DIR/db.secret"
sed "s|^password_file = /etc/postern/db.secret|password_file = $H_DIR/db.secret|" conf/postern.conf > "$H_DIR/example.conf"
for d in maps policyd milter lda forward; do
    t_ok "postern-$d -t accepts conf/postern.conf" "$BUILD/postern-$d" -t -c "$H_DIR/example.conf"
done
t_eq "conf/postfix/main.cf is postern-postconf --main" "$(cat conf/postfix/main.cf)" "$(scripts/postern-postconf --main)"
t_eq "conf/postfix/master.cf is postern-postconf --master" "$(cat conf/postfix/master.cf)" "$(scripts/postern-postconf --master)"

# ------------------------------------------------------------ the stack
t0=$(date +%s)
e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts ($(( $(date +%s) - t0 )) s; SRS: $E2E_SRS, vacation: $E2E_VACATION)"
# a fresh postconf -n check: postern-postconf --apply on the running Postfix
t_ok "postern-postconf --apply on the running Postfix passes postfix check" \
    scripts/postern-postconf -c "$H_PF_CONF" --maps "127.0.0.1:$E2E_MAPS_PORT" \
        --policyd "127.0.0.1:$E2E_POLICYD_PORT" --milter "127.0.0.1:$E2E_MILTER_PORT" \
        --lda lmtp --lda-lmtp "inet:127.0.0.1:$E2E_LDA_PORT" --submission "127.0.0.1:$E2E_SUB_PORT" \
        --sasl-path "inet:127.0.0.1:$E2E_AUTH_PORT" --smarthost "[127.0.0.1]:$H_SINK_SMARTHOST_PORT" \
        --smarthost-tls encrypt --sasl-passwords "$E2E_DIR/sasl_passwd" --tls-policy "$E2E_DIR/tls_policy" \
        --tls-cert "$H_TLS_CERT" --tls-key "$H_TLS_KEY" --srs "$E2E_SRS" \
        --forward-path "$BUILD/postern-forward" --forward-user nobody --conf "$E2E_CONF" --apply
h_postconf -e 'mynetworks = 192.0.2.255/32' 'smtp_tls_CAfile =' >/dev/null
h_postfix_reload >/dev/null 2>&1
sleep 1

# wait for delivery to a maildir / sink
has_mail() { [ "$(e2e_count "$1")" -ge "$2" ]; }
S=0
subj() { S=$((S + 1)); SUBJ="e2e-$S $1"; }

# ------------------------------------------------------------ school
subj "inbound"
e2e_send --from besucher@outside.example --to m.mueller@bns.school.example --subject "$SUBJ"
t_match "inbound mail accepted on port 25" '^DATA 250 ' "$E2E_R"
t_wait "... delivered by postern-lda (LMTP) into the Maildir" 15 e2e_find m.mueller@bns.school.example "$SUBJ"
f=$(e2e_find m.mueller@bns.school.example "$SUBJ")
t_match "... with Authentication-Results from the milter" 'Authentication-Results: mx.test.example;' "$(cat "$f")"
t_match "... and Received-SPF from postern-policyd" 'Received-SPF: pass' "$(cat "$f")"
t_match "... and Return-Path from postern-lda: the original sender (SRS only on forwarded copies)" \
    'Return-Path: <besucher@outside\.example>' "$(head -1 "$f")"

subj "internal"
e2e_submit m.mueller@bns.school.example --from m.mueller@bns.school.example --to k.richter@gym.school.example --subject "$SUBJ"
t_match "internal mail on submission (STARTTLS + AUTH)" '^DATA 250 ' "$E2E_R"
t_wait "... delivered to the other school's teacher" 15 e2e_find k.richter@gym.school.example "$SUBJ"
f=$(e2e_find k.richter@gym.school.example "$SUBJ")
t_match "... DKIM-signed by the milter" '^DKIM-Signature: .*d=bns.school.example' "$(grep '^DKIM-Signature' "$f")"

e2e_submit m.mueller@bns.school.example --from office@gym.school.example --to k.richter@gym.school.example --subject x
t_match "submission: sender not owned by the login refused (senderlogin map)" '^RCPT 553 .*not owned' "$E2E_R"
e2e_submit m.mueller@bns.school.example --from office@bns.school.example --to k.richter@gym.school.example --subject "send-as"
t_match "submission: granted send-as address accepted" '^DATA 250 ' "$E2E_R"

subj "class"
e2e_submit anna.lehrer@bns.school.example --from anna.lehrer@bns.school.example --to 9a@bns.school.example --subject "$SUBJ"
t_match "class mail from a teacher accepted" '^DATA 250 ' "$E2E_R"
t_wait "... expanded from LDAP: max.schueler got it" 15 e2e_find max.schueler@bns.school.example "$SUBJ"
t_wait "... and lena.schueler" 15 e2e_find lena.schueler@bns.school.example "$SUBJ"
t_eq "... and nothing is stored for the group address itself" 0 "$(e2e_count 9a@bns.school.example)"
# a closed member still in the LDAP class: refused at RCPT when written to,
# so the expansion (after RCPT) leaves it out too, not into the kept Maildir
h_sql "UPDATE mailboxes SET state = 'closed' WHERE address = 'max.schueler@bns.school.example'"
subj "class-closed"
e2e_submit anna.lehrer@bns.school.example --from anna.lehrer@bns.school.example --to 9a@bns.school.example --subject "$SUBJ"
t_match "class mail with a closed member accepted" '^DATA 250 ' "$E2E_R"
t_wait "... lena.schueler got it" 15 e2e_find lena.schueler@bns.school.example "$SUBJ"
t_wait "... Postfix is done with it" 15 h_wait_queue_empty 10
t_not "... the closed max.schueler did not (left out of the expansion)" e2e_find max.schueler@bns.school.example "$SUBJ"
t_match "... and the milter says so" 'group expansion: 1 closed mailbox\(es\) left out' "$(cat "$E2E_DIR/milter.log")"
h_sql "UPDATE mailboxes SET state = 'active' WHERE address = 'max.schueler@bns.school.example'"
max_sends() { h_postmap_q max.schueler@bns.school.example "socketmap:inet:127.0.0.1:$E2E_MAPS_PORT:senderlogin" 2>/dev/null | grep -q max; }
t_wait "... active again: postern-maps lets max send as himself" 10 max_sends
e2e_submit max.schueler@bns.school.example --from max.schueler@bns.school.example --to 9a@bns.school.example --subject x
t_match "class mail from a student refused (send rights)" '^(RCPT|DATA) 550 5\.7\.1 .*Only teachers' "$E2E_R"

e2e_send --from besucher@outside.example --to eltern.mueller@eltern.school.example --subject x
t_match "parent mailbox: outside sender refused at RCPT" '^RCPT 5[0-9][0-9] .*Parent mailboxes accept mail only' "$E2E_R"
e2e_send --from eltern.klein@eltern.school.example --to eltern.mueller@eltern.school.example --subject x
t_match "parent mailbox: spoofed parent sender from outside refused" '^RCPT 5[0-9][0-9] ' "$E2E_R"
e2e_send --from m.mueller@bns.school.example --to eltern.mueller@eltern.school.example --subject x
t_match "parent mailbox: spoofed staff sender from outside refused" '^RCPT 5[0-9][0-9] ' "$E2E_R"
subj "staff to parent"
e2e_submit m.mueller@bns.school.example --from m.mueller@bns.school.example --to eltern.mueller@eltern.school.example --subject "$SUBJ"
t_match "parent mailbox: authenticated staff accepted" '^DATA 250 ' "$E2E_R"
t_wait "... delivered" 15 e2e_find eltern.mueller@eltern.school.example "$SUBJ"

subj "greylist"
e2e_send --from neu@unknown-sender.example --to bernd.lehrer@bns.school.example --subject "$SUBJ"
t_match "greylisting: first attempt 450" '^RCPT 45[0-9] .*[Gg]reylist' "$E2E_R"
sleep 2.5
e2e_send --from neu@unknown-sender.example --to bernd.lehrer@bns.school.example --subject "$SUBJ"
t_match "greylisting: the retry after the delay is accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 15 e2e_find bernd.lehrer@bns.school.example "$SUBJ"

rl=""
for i in 1 2 3 4; do
    e2e_submit jonas.schueler@bns.school.example --from jonas.schueler@bns.school.example --to freund$i@web-mail.example --subject "rate $i"
    rl+="${E2E_R%% *} ${E2E_R#* }"$'\n'
done
t_eq "rate limit: a compromised student account, 3 messages pass" 3 "$(grep -c '^DATA 250 ' <<< "$rl")"
t_match "... the 4th is deferred at RCPT (4xx, nothing bounced)" 'RCPT 4[0-9][0-9] .*Too many messages' "$(sed -n 4p <<< "$rl")"

# ------------------------------------------------------------ outbound
subj "outbound"
e2e_submit m.mueller@bns.school.example --from m.mueller@bns.school.example --to freundin@web-mail.example --subject "$SUBJ"
t_match "outbound mail accepted" '^DATA 250 ' "$E2E_R"
t_wait "... relayed to the smarthost" 20 e2e_sink_has smarthost freundin@web-mail.example "$SUBJ"
f=$(e2e_sink_has smarthost freundin@web-mail.example "$SUBJ")
t_match "... over STARTTLS with AUTH" 'TLS yes.*AUTH relay-user' "$(tr '\n' ' ' < "${f%.eml}.env")"
t_ok "... DKIM signatures verify (python3-dkim)" e2e_dkim_verify "$f"

subj "forward"
e2e_send --from besucher@outside.example --to a.schmidt@bns.school.example --subject "$SUBJ"
t_match "forward (alias to outside) accepted" '^DATA 250 ' "$E2E_R"
t_wait "... forwarded through the smarthost" 20 e2e_sink_has smarthost andreas.schmidt@uni-mail.example "$SUBJ"
f=$(e2e_sink_has smarthost andreas.schmidt@uni-mail.example "$SUBJ")
if [ "$E2E_SRS" = yes ]; then
    t_match "... with an SRS envelope sender" '^MAIL FROM:<SRS0[=+-]' "$(grep '^MAIL FROM' "${f%.eml}.env")"
else
    echo "# SKIP SRS: postern-maps has no srsencode map yet"
fi
subj "forward with copy"
e2e_send --from besucher@outside.example --to t.weber@bns.school.example --subject "$SUBJ"
t_wait "forward with copy: copy kept in the Maildir" 15 e2e_find t.weber@bns.school.example "$SUBJ"
t_wait "... and forwarded" 20 e2e_sink_has smarthost tanja.weber@private-mail.example "$SUBJ"

# Sieve through the LMTP daemon: fileinto and redirect
d=$(e2e_maildir paul.lehrer@gym.school.example)
mkdir -p "$d"
printf 'require ["fileinto"];\nif header :contains "subject" "Elternabend" { fileinto "Schule"; }\nif header :contains "subject" "weiterleiten" { redirect "paul.privat@web-mail.example"; }\n' > "$d/.postern.sieve"
chown -R nobody:nogroup "$d"
subj "Elternabend"
e2e_send --from besucher@outside.example --to paul.lehrer@gym.school.example --subject "$SUBJ"
t_wait "Sieve fileinto: stored in the folder .Schule" 15 sh -c "grep -lq '$SUBJ' '$d'/.Schule/new/* 2>/dev/null"
subj "bitte weiterleiten"
e2e_send --from besucher@outside.example --to paul.lehrer@gym.school.example --subject "$SUBJ"
t_wait "Sieve redirect: re-injected and relayed through the smarthost" 20 e2e_sink_has smarthost paul.privat@web-mail.example "$SUBJ"
if [ "$E2E_SRS" = yes ]; then
    f=$(e2e_sink_has smarthost paul.privat@web-mail.example "$SUBJ")
    t_match "... with an SRS envelope sender (postern-forward)" '^MAIL FROM:<SRS0[=+-]' "$(grep '^MAIL FROM' "${f%.eml}.env")"
fi

if [ "$E2E_VACATION" = yes ]; then
    d=$(e2e_maildir bernd.lehrer@bns.school.example)
    printf 'require "vacation";\nvacation :days 1 :subject "Abwesend" "Ich bin bis Montag nicht da.";\n' > "$d/.postern.sieve"
    chown nobody:nogroup "$d/.postern.sieve"
    subj "vacation"
    e2e_send --from besucher@outside.example --to bernd.lehrer@bns.school.example --subject "$SUBJ"
    t_wait "vacation: the reply leaves through the smarthost" 20 e2e_sink_has smarthost besucher@outside.example 'Abwesend'
else
    echo "# SKIP vacation: the Sieve vacation extension is not there yet"
fi

subj "legacy"
e2e_send --from besucher@outside.example --to s.klein@gym.school.example --subject "$SUBJ"
t_match "unmigrated mailbox accepted" '^DATA 250 ' "$E2E_R"
t_wait "... routed to the legacy store" 20 e2e_sink_has legacy s.klein@gym.school.example "$SUBJ"
f=$(e2e_sink_has legacy s.klein@gym.school.example "$SUBJ")
t_match "... with the original envelope sender (no SRS on legacy routes)" '^MAIL FROM:<besucher@outside\.example>' \
    "$(grep '^MAIL FROM' "${f%.eml}.env")"
h_sql "UPDATE mailboxes SET migration_state = 'migrated' WHERE address = 's.klein@gym.school.example'"
t_wait "the migration switch is live in postern-maps within a second" 1 \
    bash -c "postmap -c $H_PF_CONF -q s.klein@gym.school.example socketmap:inet:127.0.0.1:$E2E_MAPS_PORT:transport | grep -q '^postern-lda'"
subj "migrated"
# (a new address form: Postfix's own processes may reuse the answer they
# got for the very same address a moment ago)
e2e_send --from besucher@outside.example --to s.klein+neu@gym.school.example --subject "$SUBJ"
t_wait "... after the migration switch: postern-lda" 15 e2e_find s.klein@gym.school.example "$SUBJ"

# ------------------------------------------------------------ ISP
subj "isp pipe"
e2e_send --from besucher@outside.example --to rechnung@kunde-eins.example --subject "$SUBJ"
t_match "ISP: alias domain + alias with two targets accepted" '^DATA 250 ' "$E2E_R"
t_wait "... buchhaltung@kunde1 got it through pipe(8) postern-lda" 20 e2e_find buchhaltung@kunde1.example "$SUBJ"
t_wait "... and chef@kunde1" 20 e2e_find chef@kunde1.example "$SUBJ"
t_wait "... chef's forward with copy went out" 20 e2e_sink_has smarthost karl.kunde@mobil-mail.example "$SUBJ"
if [ "$E2E_SRS" = yes ]; then
    f=$(e2e_sink_has smarthost karl.kunde@mobil-mail.example "$SUBJ")
    t_match "... one message, a local and a forwarded copy: the forward has an SRS sender" \
        '^MAIL FROM:<SRS0[=+-]' "$(grep '^MAIL FROM' "${f%.eml}.env")"
    t_match "... the local copy the original sender" 'Return-Path: <besucher@outside\.example>' \
        "$(head -1 "$(e2e_find chef@kunde1.example "$SUBJ")")"
fi
subj "isp relay"
e2e_send --from besucher@outside.example --to it@kunde3.example --subject "$SUBJ"
t_wait "ISP: relay domain passed on to the customer's server" 20 e2e_sink_has other-mx it@kunde3.example "$SUBJ"
f=$(e2e_sink_has other-mx it@kunde3.example "$SUBJ")
t_match "... with the original envelope sender (no SRS on relay domains)" '^MAIL FROM:<besucher@outside\.example>' \
    "$(grep '^MAIL FROM' "${f%.eml}.env")"
subj "isp legacy"
e2e_send --from besucher@outside.example --to vorstand@kunde2.example --subject "$SUBJ"
t_wait "ISP: per-address route" 20 e2e_sink_has other-mx vorstand@kunde2.example "$SUBJ"
subj "isp kasse"
e2e_send --from besucher@outside.example --to kasse@kunde2.example --subject "$SUBJ"
t_wait "ISP: unmigrated mailbox to the legacy cluster" 20 e2e_sink_has legacy kasse@kunde2.example "$SUBJ"
e2e_send --from besucher@outside.example --to niemand@kunde1.example --subject x
t_match "ISP: unknown user refused at RCPT" '^RCPT 550 5\.1\.1 ' "$E2E_R"

# ------------------------------------------------------------ safety
e2e_send --from besucher@outside.example --to someone@elsewhere.example --subject x
t_match "no open relay: outside to outside refused" '^RCPT 554 5\.7\.1 .*Relay access denied' "$E2E_R"
e2e_send --from m.mueller@bns.school.example --to someone@elsewhere.example --subject x
t_match "no open relay: with an internal sender address either" '^RCPT 554 5\.7\.1 ' "$E2E_R"
E2E_R=$(h_smtp --port "$E2E_SUB_PORT" --from m.mueller@bns.school.example --to someone@elsewhere.example --subject x)
t_match "submission without AUTH refused" '^(MAIL|RCPT) 5[0-9][0-9] ' "$E2E_R"
E2E_R=$(h_smtp --port "$E2E_SUB_PORT" --starttls --auth "m.mueller@bns.school.example:wrong" --from m.mueller@bns.school.example --to someone@elsewhere.example --subject x)
t_match "submission with a wrong password refused" '^AUTH 535 ' "$E2E_R"

subj "null sender"
e2e_send --from '' --to m.mueller@bns.school.example --subject "$SUBJ"
if [[ $E2E_R == "RCPT 450 "*reylist* ]]; then   # a null sender is greylisted like any other
    sleep 2.5
    e2e_send --from '' --to m.mueller@bns.school.example --subject "$SUBJ"
fi
t_match "bounce (MAIL FROM:<>) from outside accepted" '^DATA 250 ' "$E2E_R"
t_wait "... delivered with Return-Path: <>" 15 e2e_find m.mueller@bns.school.example "$SUBJ"
t_match "... (Return-Path)" '^Return-Path: <>' "$(head -1 "$(e2e_find m.mueller@bns.school.example "$SUBJ")")"
subj "bounce me"
e2e_submit a.schmidt@bns.school.example --from a.schmidt@bns.school.example --to nosuchuser@web-mail.example --subject "$SUBJ"
t_match "outbound to a recipient the smarthost refuses: accepted" '^DATA 250 ' "$E2E_R"
# a.schmidt forwards everything outside: the bounce follows the forward
t_wait "... our bounce (MAIL FROM:<>) reaches the sender's forward through the smarthost" 30 \
    e2e_sink_has smarthost andreas.schmidt@uni-mail.example 'nosuchuser@web-mail.example'
f=$(e2e_sink_has smarthost andreas.schmidt@uni-mail.example 'nosuchuser@web-mail.example')
t_match "... sent with the null sender" '^MAIL FROM:<>' "$(grep '^MAIL FROM' "${f%.eml}.env")"

subj "ipv6"
E2E_R=$(h_smtp --host ::1 --port "$H_PF_SMTP_PORT" --from besucher@outside.example --to m.mueller@bns.school.example --subject "$SUBJ")
t_match "IPv6 loopback client accepted" '^DATA 250 ' "$E2E_R"
t_wait "... delivered" 15 e2e_find m.mueller@bns.school.example "$SUBJ"
E2E_R=$(h_smtp --host ::1 --port "$H_PF_SMTP_PORT" --from besucher@outside.example --to eltern.klein@eltern.school.example --subject x)
t_match "IPv6: parent restriction holds" '^RCPT 5[0-9][0-9] .*Parent' "$E2E_R"
E2E_R=$(h_smtp --host ::1 --port "$H_PF_SMTP_PORT" --from besucher@outside.example --to x@elsewhere.example --subject x)
t_match "IPv6: no open relay" '^RCPT 554 ' "$E2E_R"

# ------------------------------------------------------------ big
subj "big"
big=$H_DIR/big.eml
"$H_PYTHON" - "$big" "$SUBJ" <<'PYEOF'
import sys, random
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("From: anna.lehrer@bns.school.example\nTo: undisclosed-recipients:;\nSubject: %s\n\n" % sys.argv[2])
    line = "".join(random.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(76))
    for i in range(20 * 1024 * 1024 // 77):
        f.write(line + "\n")
PYEOF
# (not alle-9: it nests 9b, whose rule is "members", and a group's rule
# protects its members wherever the group is reached; jonas of 9b directly)
rc=(--to 9a@bns.school.example --to 5a@bns.school.example --to ag-robotics@bns.school.example
    --to lehrer@bns.school.example --to jonas.schueler@bns.school.example
    --to k.richter@gym.school.example)
for i in $(seq 1 494); do rc+=(--to "elternbrief$i@partner-web.example"); done
t0=$(date +%s)
e2e_submit anna.lehrer@bns.school.example --from anna.lehrer@bns.school.example "${rc[@]}" --data "$big" --timeout 300
t_match "20 MB message to 500 recipients (4 groups) accepted" '^DATA 250 ' "$E2E_R"
ext_count() { cat "$H_SINK_SMARTHOST_DIR"/*.env 2>/dev/null | grep -c '^RCPT TO:<elternbrief'; }
t_wait "... all 494 external recipients reached the smarthost" 120 sh -c "[ \$(cat '$H_SINK_SMARTHOST_DIR'/*.env | grep -c '^RCPT TO:<elternbrief') -ge 494 ]"
for a in max.schueler lena.schueler jonas.schueler tim.klein bernd.lehrer; do
    t_wait "... group member $a got it" 60 e2e_find "$a@bns.school.example" "$SUBJ"
done
t_wait "... and k.richter" 60 e2e_find k.richter@gym.school.example "$SUBJ"
f=$(e2e_find lena.schueler@bns.school.example "$SUBJ")
t_ok "... whole (over 20 MB stored)" test "$(stat -c %s "$f")" -gt 20000000
t_eq "... lena (in 9a and ag-robotics) got it once" 1 "$(grep -l "$SUBJ" "$(e2e_maildir lena.schueler@bns.school.example)"/new/* | wc -l)"
echo "# big message: $(( $(date +%s) - t0 )) s"

t_ok "the queue drains (nothing stuck)" h_wait_queue_empty 60
t_eq "nothing bounced except the one planned bounce" 1 "$(grep -c 'status=bounced' "$H_PF_LOG")"
t_eq "no postern daemon died" "" "$(for p in "${E2E_PIDS[@]}"; do h__alive "${p#*:}" || echo "${p%%:*}"; done)"
t_summary
