#!/bin/bash
# explain.sh - `postern explain` against what Postfix really does: every
# scenario of the demo (scripts/demo DEMO_MAIL: school and ISP, greylisting,
# a rate limit, a login contained by a contain rule and mail to it, a class,
# a parent mailbox, DKIM, SRS, the legacy store, a relay domain, an IP
# literal, a moderated group: held, the moderator's reply to the one-time
# address, released and rejected with `postern moderate`, the demo's own
# steps) is explained first, then sent through the whole stack
# (tests/integration/e2e-lib.sh); the first digit of explain's verdict must
# be the first digit of Postfix's reply (a held message is a 2xx), and for
# accepted mail the verdict names where it goes (held: "held for
# moderation").  explain must change nothing: greylisting
# and rate limits are decided as the next real message meets them.  Also:
# `postern explain queue QUEUEID` finds the message's log lines, bad
# arguments are usage errors, and the database down gives a 4xx verdict.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init
. tests/integration/e2e-lib.sh

e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts"
P=("$BUILD/postern" -c "$E2E_CONF")

# the demo's own scenarios, and its steps (moderation: `postern moderate`,
# the one-time reply address of a request)
eval "$(sed -n '/^DEMO_MAIL=(/,/^)/p' scripts/demo)"
eval "$(sed -n '/^# --- demo steps/,/^# --- end of demo steps/p' scripts/demo)"
t_ok "... and its steps" declare -F demo_step demo_resolve_to
DEMO_QIDS=()
USED_TOKEN=""
t_ok "the demo's scenarios are read (${#DEMO_MAIL[@]})" test "${#DEMO_MAIL[@]}" -ge 16

d=$(e2e_maildir paul.lehrer@gym.school.example)
mkdir -p "$d"
printf 'require "vacation";\nvacation :days 1 :subject "Abwesend" "Ich bin bis Montag nicht da.";\n' > "$d/.postern.sieve"
chown -R nobody:nogroup "$E2E_MAIL_ROOT"

send() {   # via from to [subject]
    if [ "$1" = sub ]; then
        e2e_submit "$2" --from "$2" --to "$3" --subject "${4:-explain test}"
    else
        e2e_send --from "$2" --to "$3" --subject "${4:-explain test}"
    fi
}

explain() {   # via from to -> EX (the whole output), V (the verdict line)
    local login=()
    [ "$1" = sub ] && login=(login="$2")
    EX=$("${P[@]}" explain client=127.0.0.1 helo=client.outside.example \
        sender="$2" recipient="$3" "${login[@]}" 2>&1)
    V=$(grep '^verdict: ' <<< "$EX")
}

i=0
for row in "${DEMO_MAIL[@]}"; do
    i=$((i + 1))
    IFS='|' read -r label pause via from to expect _ <<< "$row"
    [ -n "$pause" ] && sleep "$pause"
    if [ "$via" = run ]; then   # an admin command, not a message
        demo_step "$from" "$to"
        t_eq "$i $label: postern $to (nothing to explain): exit 0" 0 "$DEMO_STEP_RC"
        continue
    fi
    subj="explain test"
    if [[ $to == @* ]]; then    # a reply to a moderation request
        subj=${to##*:}
        to=$(demo_resolve_to "$to")
        t_match "$i $label: the request's one-time address" '^moderate\+[0-9a-f]{32}@' "$to"
        USED_TOKEN=$to
    fi
    explain "$via" "$from" "$to"
    send "$via" "$from" "$to" "$subj"
    DEMO_QIDS[i - 1]=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<< "$E2E_R")
    code=${E2E_R#* }; code=${code:0:1}
    vcode=${V#verdict: }; vcode=${vcode:0:1}
    if [ "$vcode" = "$code" ]; then
        t_pass "$i $label: explain said ${V#verdict: }; Postfix said ${E2E_R:0:60}"
    else
        t_fail "$i $label: explain said '${V#verdict: }', Postfix said '$E2E_R'"
        printf '%s\n' "$EX" | sed 's/^/    /' >&2
    fi
    # where accepted mail goes, as the demo expects it
    case "$expect" in
        "2;held for moderation"*)
            t_match "$i ... explain says it is held for moderation" 'held for moderation' "$V"
            t_ok "$i ... and Postfix holds it (moderation_queue)" \
                test -n "$(h_sql "SELECT id FROM moderation_queue WHERE queue_id = '${DEMO_QIDS[i - 1]}'")"
            t_match "$i ... once approved, delivered by postern-lda" 'postern-lda' "$V" ;;
        "2;decision "*)
            t_match "$i ... explain knows a reply to a moderation request" \
                '^verdict: 250 accepted: a reply to a moderation request' "$V" ;;
        "2;sink smarthost"*|"2;sink other-mx"*|"2;sink legacy"*)
            case "$expect" in   # e2e_routes points every next hop at a sink
                *legacy*) want=":$H_SINK_LEGACY_PORT" ;;
                *other-mx*) want=":$H_SINK_OTHER_MX_PORT" ;;
                *) want=":$H_SINK_SMARTHOST_PORT" ;;
            esac
            t_match "$i ... explain names the route ($want)" "$want" "$V" ;;
        2\;*@*/*)
            t_match "$i ... explain names the local delivery" 'postern-lda' "$V" ;;
    esac
done

# what explain shows along the way
explain mx besucher@outside.example eltern.mueller@eltern.school.example
t_match "a parent mailbox: the sender rule that fired is named" 'sender rule [a-z0-9_-]+: reject' "$EX"
t_match "... and the verdict is postern-policyd's" '^verdict: 5[0-9][0-9] .*postern-policyd' "$V"
explain sub anna.lehrer@bns.school.example 9a@bns.school.example
t_match "a class: the expansion is listed" 'expands to [0-9]+ addresses' "$EX"
t_match "... with a member" 'max\.schueler@bns\.school\.example' "$EX"
explain sub max.schueler@bns.school.example 9a@bns.school.example
t_match "a class from a pupil: refused by the send rights" '^verdict: 550 .*send rights' "$V"
explain sub max.schueler@bns.school.example ag-robotics@bns.school.example
t_match "a moderated group from a non-member: the verdict says held for moderation" \
    '^verdict: 250 accepted and held for moderation \(postern-milter, group_send_rules #[0-9]+\); once approved goes to: .*tim\.klein@' "$V"
t_match "... and the send rights name the moderated rule" 'send rights: refused, but the rule is moderated' "$EX"
j=$("${P[@]}" --json explain client=127.0.0.1 login=max.schueler@bns.school.example sender=max.schueler@bns.school.example recipient=ag-robotics@bns.school.example)
t_eq "... --json: the verdict too" "250 accepted and held for moderation" \
    "$(python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["code"], d["verdict"])' <<< "$j")"
explain sub tim.klein@bns.school.example ag-robotics@bns.school.example
t_match "... from a member: accepted, not held" '^verdict: 250 accepted; goes to: ' "$V"
explain sub anna.lehrer@bns.school.example "${USED_TOKEN:-moderate+00000000000000000000000000000000@bns.school.example}"
t_match "a used moderation address: explain refuses it (550 5.1.1)" \
    '^verdict: 550 5\.1\.1 Unknown or used moderation address' "$V"
send sub anna.lehrer@bns.school.example "${USED_TOKEN:-moderate+00000000000000000000000000000000@bns.school.example}" approve
t_match "... as the milter does at RCPT" '^RCPT 550 5\.1\.1 ' "$E2E_R"
send sub max.schueler@bns.school.example 9a@bns.school.example
t_match "... as Postfix refuses it" '^(RCPT|DATA) 550 ' "$E2E_R"
explain sub m.mueller@bns.school.example freundin@web-mail.example
t_match "outbound: the DKIM signature is shown" 'DKIM: signs: DKIM-Signature: .*d=bns\.school\.example' "$EX"
t_match "routing: the mailbox row is shown" 'row mailboxes: address=m\.mueller@bns\.school\.example' \
    "$("${P[@]}" explain recipient=m.mueller@bns.school.example sender=besucher@outside.example)"

j=$("${P[@]}" --json explain client=127.0.0.1 sender=besucher@outside.example recipient=nobody@bns.school.example)
t_eq "--json: one document with the code" 550 "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])' <<< "$j")"

# a message file: the Sieve dry run of the mailbox
printf 'From: besucher@outside.example\nTo: paul.lehrer@gym.school.example\nSubject: hallo\n\nText\n' > "$H_DIR/msg.eml"
out=$("${P[@]}" explain client=127.0.0.1 sender=besucher@outside.example recipient=paul.lehrer@gym.school.example message="$H_DIR/msg.eml" 2>&1)
t_match "a message file: the mailbox's Sieve script is run (vacation)" 'vacation' "$out"

# explain changes nothing: greylisting state and rate-limit counts
before=$(h_sql "SELECT COUNT(*) FROM greylist_triplets; SELECT COALESCE(SUM(amount),0) FROM ratelimit_events")
explain mx fresh@unknown2.example bernd.lehrer@bns.school.example
t_match "a new triplet: explain says greylisting would defer" '^verdict: 45[0-9] .*greylist' "$V"
explain sub jonas.schueler@bns.school.example other@web-mail.example
sleep 1.5   # greylisting writes in batches: a write would be there now
t_eq "explain wrote no greylisting state and counted nothing" "$before" \
    "$(h_sql "SELECT COUNT(*) FROM greylist_triplets; SELECT COALESCE(SUM(amount),0) FROM ratelimit_events")"

# the log of one message
e2e_send --from besucher@outside.example --to m.mueller@bns.school.example --subject "explain queue"
qid=$(sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<< "$E2E_R")
t_ok "a queue id was given ($qid)" test -n "$qid"
t_wait "... Postfix logged the delivery" 15 grep -q "$qid: .*status=sent" "$H_PF_LOG"
out=$("${P[@]}" explain queue "$qid" log="$H_PF_LOG" 2>&1)
t_match "explain queue: Postfix's lines for it" "$qid: .*status=sent" "$out"
t_eq "... and only lines naming it" "0" "$(grep -vc "$qid" <<< "$out")"
"${P[@]}" explain queue 'x;rm' log="$H_PF_LOG" >/dev/null 2>&1
t_eq "explain queue: a bad queue id is a usage error (64)" 64 "$?"
"${P[@]}" explain sender=a@b.example >/dev/null 2>&1
t_eq "explain without recipient: usage error (64)" 64 "$?"
"${P[@]}" explain recipient=a@b.example colour=blue >/dev/null 2>&1
t_eq "explain with an unknown setting: usage error (64)" 64 "$?"

# the database down: a temporary verdict, never a refusal
h_stop_mariadb
explain mx besucher@outside.example m.mueller@bns.school.example
t_match "database down: explain's verdict is 4xx" '^verdict: 4[0-9][0-9] ' "$V"
h_restart_mariadb

t_summary
