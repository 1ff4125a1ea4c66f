#!/bin/bash
# e2e-wiring.sh - what the Postfix wiring of scripts/postern-postconf refuses
# at RCPT, through the whole stack (tests/integration/e2e-lib.sh) and a real
# Postfix on port 25:
#   - recipients at IP literals (root@[127.0.0.1]): 5xx at RCPT, nothing
#     queued, nothing reaches the smarthost, no bounce (issue 15, item 6)
#   - an alias loop: a permanent 550 5.4.6 at RCPT instead of 451 at DATA
#     for ever
#   - a relay domain with a list of recipients (mailboxes rows) refuses
#     unknown ones with 550 5.1.1; a relay domain without a list accepts all
#   - postern-maps killed and restarted: an address Postfix saw fail while
#     it was down works again at once (smtpd's resolve cache, max_use)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/harness/harness.sh
h_init
. tests/integration/e2e-lib.sh

e2e_start_stack || { t_fail "the stack starts"; t_summary; exit 1; }
t_pass "the stack starts"
MAPQ=socketmap:inet:127.0.0.1:$E2E_MAPS_PORT
FROM=besucher@outside.example

# ------------------------------------------------------------ IP literals
sink_before=$(h_sink_count smarthost)
for rcpt in 'root@[127.0.0.1]' 'nosuchuser@[127.0.0.1]' 'postmaster@[127.0.0.1]'; do
    e2e_send --from "$FROM" --to "$rcpt" --subject "literal $rcpt"
    t_match "RCPT TO:<$rcpt> refused permanently at RCPT" '^RCPT 5[0-9][0-9] ' "$E2E_R"
done
# with a null sender too (nothing to bounce to, still refused)
e2e_send --from '' --to 'root@[127.0.0.1]' --subject "literal null sender"
t_match "RCPT TO:<root@[127.0.0.1]> from <> refused at RCPT" '^RCPT 5[0-9][0-9] ' "$E2E_R"
e2e_submit m.mueller@bns.school.example --from m.mueller@bns.school.example --to 'root@[127.0.0.1]' --stop-after rcpt
t_match "submission: an IP-literal recipient is refused too" '^RCPT 5[0-9][0-9] ' "$E2E_R"
t_eq "nothing queued for IP literals" 0 "$(h_queue_count)"
sleep 1
t_eq "nothing for IP literals reached the smarthost" "$sink_before" "$(h_sink_count smarthost)"
t_eq "no bounce was generated" 0 "$(grep -c 'status=bounced' "$H_PF_LOG")"
r=$(h_postmap_q 'root@[127.0.0.1]' "$MAPQ:transport"); rc=$?
t_eq "the transport map never routes an IP literal (to the smarthost)" "1:" "$rc:$r"

# ------------------------------------------------------------ alias loop
h_sql "INSERT INTO aliases (domain, local_part, target) VALUES
         ('bns.school.example', 'loop-a', 'loop-b@bns.school.example'),
         ('bns.school.example', 'loop-b', 'loop-a@bns.school.example')"
t_wait "postern-maps sees the loop" 10 h_postmap_q loop-a@bns.school.example "$MAPQ:alias"
e2e_send --from "$FROM" --to loop-a@bns.school.example --subject "loop"
t_match "an alias loop is refused at RCPT with 550 5.4.6" '^RCPT 550 5\.4\.6 ' "$E2E_R"
e2e_send --from "$FROM" --to m.mueller@bns.school.example --subject "no loop"
t_match "a normal mailbox of the same domain is accepted" '^DATA 250 ' "$E2E_R"
t_wait "... and delivered" 15 e2e_find m.mueller@bns.school.example 'Subject: no loop'

# ------------------------------------------------------------ relay recipients
h_sql "INSERT INTO mailboxes (local_part, domain, display_name) VALUES ('known', 'kunde3.example', 'listed relay recipient')"
t_wait "postern-maps lists kunde3.example's recipients" 10 h_postmap_q known@kunde3.example "$MAPQ:mailbox"
e2e_send --from "$FROM" --to unknown@kunde3.example --stop-after rcpt
t_match "listed relay domain: an unknown recipient gets 550 5.1.1 at RCPT" '^RCPT 550 5\.1\.1 ' "$E2E_R"
e2e_send --from "$FROM" --to known@kunde3.example --stop-after rcpt
t_match "listed relay domain: a listed mailbox is accepted" '^RCPT 250 ' "$E2E_R"
e2e_send --from "$FROM" --to webmaster@kunde3.example --stop-after rcpt
t_match "listed relay domain: a listed alias is accepted" '^RCPT 250 ' "$E2E_R"
e2e_send --from "$FROM" --to anyone@kunde6.example --stop-after rcpt
t_match "relay domain without a list: any recipient is accepted" '^RCPT 250 ' "$E2E_R"

# ------------------------------------------------------------ maps restart
# the address must fail while postern-maps is down, then work at once
RC=k.richter@gym.school.example
kill -9 "$E2E_MAPS_PID"
wait "$E2E_MAPS_PID" 2>/dev/null
t_wait "postern-maps is down" 5 bash -c "! (echo > /dev/tcp/127.0.0.1/$E2E_MAPS_PORT) 2>/dev/null"
e2e_send --from cache-test@outside.example --to "$RC" --stop-after rcpt
t_match "while postern-maps is down: 4xx at RCPT" '^RCPT 4[0-9][0-9] ' "$E2E_R"
e2e_send --from cache-test@outside.example --to "$RC" --stop-after rcpt
t_match "... again (the same sender and recipient)" '^RCPT 4[0-9][0-9] ' "$E2E_R"
e2e_start_daemon maps "$E2E_MAPS_PORT" || t_fail "postern-maps restarts"
t_wait "postern-maps answers again" 10 h_postmap_q "$RC" "$MAPQ:mailbox"
t0=$(date +%s)
ok=0
# max_use=10: the smtpd that cached the failure serves at most 10 connections
for _ in $(seq 20); do
    e2e_send --from cache-test@outside.example --to "$RC" --subject "after maps restart"
    case "$E2E_R" in "DATA 250 "*) ok=1; break ;; esac
    sleep 1
done
t_eq "after the restart the same sender and address are accepted within 20 tries (last: $E2E_R)" 1 "$ok"
echo "# accepted after $(( $(date +%s) - t0 )) s"
t_wait "... and delivered" 15 e2e_find "$RC" 'Subject: after maps restart'

t_eq "nothing bounced in the whole run" 0 "$(grep -c 'status=bounced' "$H_PF_LOG")"
t_summary
