#!/bin/bash
# dmarc-reports.sh - DMARC aggregate reports (admin/dmarc.c,
# admin/dmarc_summary.c, docs/dmarc.md) on real servers: MariaDB holds
# dmarc_results rows as postern-milter writes them; `postern dmarc report`
# builds the reports of yesterday and mails them through a real Postfix to
# a sink (the rua destinations); the attached .xml.gz validates against
# the RFC 7489 Appendix C schema (xmllint --schema) with the right counts;
# a second run sends nothing; an external rua without the
# _report._dmarc record (dnsmasq) is skipped, one with it gets the report;
# a !size limit the report exceeds is a skip; with DNS away the external
# destination waits (exit 75) and the next run sends only it; old rows are
# pruned.  Then `postern dmarc summary` over a Maildir with two received
# reports (gzip, zip), a duplicate and a broken one prints the right
# sources and pass/fail counts and names the broken file; hostile files
# (entity expansion, a gzip bomb) are refused one by one while the rest is
# summarized.  Last, end to end: a message through Postfix and
# postern-milter (DMARC fail, p=none) becomes a dmarc_results row and
# today's report at its rua.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
P=$PWD/$BUILD/postern
DATA=$PWD/tests/integration/data
MAILPY=$PWD/tests/integration/dmarc_mail.py
h_init
. "$(dirname "$0")/milter-common.sh"
h_start_mariadb
h_sql_file sql/schema.sql
h_start_smtp_sink rua
cat > "$H_DIR/zone" <<EOF
example.org._report._dmarc.reports.partner.example TXT v=DMARC1
example.org._report._dmarc.spf.example TXT v=spf1 -all
spoofed.example TXT v=spf1 ip4:198.51.100.1 -all
_dmarc.spoofed.example TXT v=DMARC1; p=none; rua=mailto:dmarc@spoofed.example
EOF
h_start_dns "$H_DIR/zone"
# postern-milter evaluates DMARC of inbound mail and fills dmarc_results
# (the end-to-end check at the end)
cat > "$MDIR/milter.conf" <<EOF
[milter]
listen = inet:127.0.0.1:$MPORT
user = nobody
connections = 2
authserv_id = mx.test.example
dkim_sign = no
[ldap]
uri = ldap://127.0.0.1:1
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
retry_interval = 0
connect_timeout = 1s
EOF
h_with_resolver "$MILTER" -f -c "$MDIR/milter.conf" </dev/null >> "$MDIR/milter.log" 2>&1 &
MPID=$!
h_track_pid "$MPID"
t_ok "postern-milter starts" milter_up
h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_RUA_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = accept
smtpd_authorized_xclient_hosts = 127.0.0.0/8
relay_domains = test.example
EOF

# postern runs sendmail as "PATH -i -f FROM -- TO": a wrapper adds -C
SM=$H_DIR/sendmail
printf '#!/bin/sh\nexec /usr/sbin/sendmail -C %s "$@"\n' "$H_PF_CONF" > "$SM"
chmod 755 "$SM"
CONF=$H_DIR/postern.conf
cat > "$CONF" <<EOC
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
[dmarc]
org_name = Test <Receiver> & Co
report_from = dmarc-reports@mx.test.example
sendmail = $SM
keep = 14d
EOC
pd() { h_with_resolver "$P" -c "$CONF" "$@"; }

DAY=$(date -u -d yesterday +%F)
DAY2=$(date -u -d '2 days ago' +%F)
OLD=$(date -u -d '30 days ago' +%F)
BEGIN=$(date -u -d "$DAY 00:00:00" +%s)
END=$((BEGIN + 86399))
row() { # day policy_domain source_ip messages disposition dkim spf reason comment dkim_json rua hash
    h_sql "INSERT INTO dmarc_results (day, row_hash, policy_domain, header_from,
             envelope_from, envelope_to, source_ip, disposition, dkim_aligned,
             spf_aligned, reason, reason_comment, spf_domain, spf_scope,
             spf_result, dkim_results, messages, p, sp, pct, adkim, aspf, rua)
           VALUES ('$1', UNHEX(SHA2('${12}', 256)), '$2', '$2', 'bounce.$2',
             'test.example', '$3', '$5', '$6', '$7', $8, $9, 'bounce.$2',
             'mfrom', IF('$7' = 'pass', 'pass', 'fail'), ${10}, $4, 'reject',
             'quarantine', 100, 'r', 's', ${11})"
}
RUA="'mailto:dmarc@example.org,mailto:agg@reports.partner.example!10m, mailto:x@unverified.example ,mailto:y@spf.example,https://reports.example/x'"
row "$DAY" example.org 192.0.2.10 5 none pass pass NULL NULL \
    "'[{\"domain\":\"example.org\",\"selector\":\"s1\",\"result\":\"pass\"},{\"domain\":\"esp.example\",\"selector\":\"k2\",\"result\":\"pass\"}]'" \
    "$RUA" a1
row "$DAY" example.org 198.51.100.7 3 reject fail fail NULL NULL NULL "$RUA" a2
row "$DAY" example.org 203.0.113.5 2 none fail fail "'forwarded'" \
    "'list <x> & \"y\"'" "'[{\"domain\":\"list.example\",\"selector\":\"m\",\"result\":\"fail\"}]'" "$RUA" a3
row "$DAY2" example.org 192.0.2.99 7 none pass pass NULL NULL NULL "$RUA" b1
row "$OLD" example.org 192.0.2.98 1 none pass pass NULL NULL NULL "$RUA" c1
row "$DAY" small.example 192.0.2.20 1 none pass pass NULL NULL NULL "'mailto:tiny@small.example!1k'" d1
row "$DAY" norua.example 192.0.2.30 4 none pass pass NULL NULL NULL NULL e1

# --- reports sent ----------------------------------------------------------
pd dmarc report > "$H_DIR/r1.out" 2> "$H_DIR/r1.err"
t_eq "first run: exit 0 (every destination sent or skipped by rule)" 0 $?
out=$(cat "$H_DIR/r1.out"); err=$(cat "$H_DIR/r1.err")
t_match "sent to the rua of the policy domain itself" $'example.org\tdmarc@example.org\t[^\t]+\t[0-9]+\tsent' "$out"
t_match "sent to the verified external destination" $'\tagg@reports.partner.example\t[^\t]+\t[0-9]+\tsent' "$out"
t_match "external destination without _report._dmarc record skipped" $'\tx@unverified.example\t.*\tskipped-unverified' "$out"
t_match "a TXT record that is not v=DMARC1 does not verify" $'\ty@spf.example\t.*\tskipped-unverified' "$out"
t_match "the skip is logged with the name looked up" 'example.org._report._dmarc.unverified.example' "$err"
t_match "a non-mailto URI is skipped" $'https://reports.example/x\t.*\tskipped-scheme' "$out"
t_match "a destination whose !size limit the report exceeds is skipped" $'small.example\ttiny@small.example\t.*\tskipped-size' "$out"
t_match "the size skip is logged" 'over the limit of 1024 bytes' "$err"
t_not "no report for a domain without rua" grep -q norua.example "$H_DIR/r1.out"
t_ok "two reports arrive at the sink through Postfix" h_wait_sink_count rua 2 20
rcpts=$(cat "$H_SINK_RUA_DIR"/*.env | grep '^RCPT' | sort | tr '\n' ' ')
t_eq "to the two accepted destinations" "RCPT TO:<agg@reports.partner.example> RCPT TO:<dmarc@example.org> " "$rcpts"
t_eq "envelope sender is [dmarc] report_from" 2 "$(grep -c '^MAIL FROM:<dmarc-reports@mx.test.example>' "$H_SINK_RUA_DIR"/*.env | awk -F: '{s+=$2} END {print s}')"

eml=$(grep -l 'RCPT TO:<dmarc@example.org>' "$H_SINK_RUA_DIR"/*.env); eml=${eml%.env}.eml
meta=$(python3 "$MAILPY" extract "$eml" "$H_DIR/report.xml")
t_eq "extract the attachment" 0 $?
RID="mx.test.example.example.org.${DAY//-/}"
t_eq "Subject per RFC 7489 7.2.1.1" "Report Domain: example.org Submitter: mx.test.example Report-ID: <$RID>" "$(sed -n 1p <<< "$meta")"
t_eq "file name receiver!policy-domain!begin!end.xml.gz" "mx.test.example!example.org!$BEGIN!$END.xml.gz" "$(sed -n 2p <<< "$meta")"
t_eq "attached as application/gzip" application/gzip "$(sed -n 3p <<< "$meta")"
t_ok "the report validates against the RFC 7489 Appendix C schema" \
    xmllint --noout --schema "$DATA/rfc7489.xsd" "$H_DIR/report.xml"
x() { xmllint --xpath "$1" "$H_DIR/report.xml" 2>/dev/null; }
t_eq "three records (yesterday's rows only)" 3 "$(x 'count(//record)')"
t_eq "message count of the day" 10 "$(x 'sum(//record/row/count)')"
t_eq "date_range is the UTC day" "$BEGIN $END" "$(x 'string(//date_range/begin)') $(x 'string(//date_range/end)')"
t_eq "org_name escaped and read back" "Test <Receiver> & Co" "$(x 'string(//org_name)')"
t_eq "policy_published as last seen" "example.org reject quarantine 100 r s" \
    "$(x 'string(//policy_published/domain)') $(x 'string(//policy_published/p)') $(x 'string(//policy_published/sp)') $(x 'string(//policy_published/pct)') $(x 'string(//policy_published/adkim)') $(x 'string(//policy_published/aspf)')"
t_eq "a record: source, count, policy_evaluated" "3 reject fail fail" \
    "$(x 'string(//record[row/source_ip="198.51.100.7"]/row/count)') $(x 'string(//record[row/source_ip="198.51.100.7"]//disposition)') $(x 'string(//record[row/source_ip="198.51.100.7"]//policy_evaluated/dkim)') $(x 'string(//record[row/source_ip="198.51.100.7"]//policy_evaluated/spf)')"
t_eq "both DKIM signatures of a row, with selectors" "example.org/s1/pass esp.example/k2/pass" \
    "$(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[1]/domain)')/$(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[1]/selector)')/$(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[1]/result)') $(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[2]/domain)')/$(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[2]/selector)')/$(x 'string(//record[row/source_ip="192.0.2.10"]/auth_results/dkim[2]/result)')"
t_eq "a row without DKIM has only spf" "0 1" \
    "$(x 'count(//record[row/source_ip="198.51.100.7"]/auth_results/dkim)') $(x 'count(//record[row/source_ip="198.51.100.7"]/auth_results/spf)')"
t_eq "reason type and comment, escaped" 'forwarded|list <x> & "y"' \
    "$(x 'string(//reason/type)')|$(x 'string(//reason/comment)')"
t_eq "identifiers" "test.example bounce.example.org example.org" \
    "$(x 'string(//record[1]/identifiers/envelope_to)') $(x 'string(//record[1]/identifiers/envelope_from)') $(x 'string(//record[1]/identifiers/header_from)')"
t_eq "spf auth result" "bounce.example.org mfrom pass" \
    "$(x 'string(//record[1]/auth_results/spf/domain)') $(x 'string(//record[1]/auth_results/spf/scope)') $(x 'string(//record[1]/auth_results/spf/result)')"
t_eq "what was sent is recorded" "agg@reports.partner.example dmarc@example.org" \
    "$(h_sql "SELECT GROUP_CONCAT(destination ORDER BY destination SEPARATOR ' ') FROM dmarc_reports_sent WHERE day = '$DAY'")"

# --- a second run sends nothing twice; rows older than keep are pruned ------
t_eq "pruned: the row of 30 days ago" 0 "$(h_sql "SELECT COUNT(*) FROM dmarc_results WHERE day = '$OLD'")"
t_eq "kept: the rows of the last days" 4 "$(h_sql "SELECT COUNT(*) FROM dmarc_results WHERE day IN ('$DAY', '$DAY2') AND policy_domain = 'example.org'")"
pd dmarc report > "$H_DIR/r2.out" 2> "$H_DIR/r2.err"
t_eq "second run: exit 0" 0 $?
t_eq "second run: both destinations already sent" 2 "$(grep -c $'\talready-sent$' "$H_DIR/r2.out")"
t_ok "second run: the Postfix queue is empty" h_wait_queue_empty 10
sleep 1
t_eq "second run: still two messages at the sink" 2 "$(h_sink_count rua)"

# --- another day, --domain, --out and --dry-run -----------------------------
mkdir -p "$H_DIR/out"
pd --dry-run dmarc report --day "$DAY2" --domain example.org --out "$H_DIR/out" > "$H_DIR/r3.out" 2>&1
t_eq "dry run: exit 0" 0 $?
t_eq "dry run: nothing sent, two destinations would be" 2 "$(grep -c $'\tdry-run$' "$H_DIR/r3.out")"
B2=$(date -u -d "$DAY2 00:00:00" +%s)
f="$H_DIR/out/mx.test.example!example.org!$B2!$((B2 + 86399)).xml.gz"
t_ok "--out wrote the report file" test -s "$f"
gunzip -c "$f" > "$H_DIR/day2.xml" 2>/dev/null
t_ok "that report validates too" xmllint --noout --schema "$DATA/rfc7489.xsd" "$H_DIR/day2.xml"
t_eq "with that day's row only" 7 "$(xmllint --xpath 'sum(//record/row/count)' "$H_DIR/day2.xml")"
t_eq "dry run records nothing" 0 "$(h_sql "SELECT COUNT(*) FROM dmarc_reports_sent WHERE day = '$DAY2'")"
sleep 1
t_eq "dry run: still two messages at the sink" 2 "$(h_sink_count rua)"
pd dmarc report --day 2026-02-30 > /dev/null 2>&1
t_eq "an impossible --day is a usage error" 64 $?

# DNS away: the external destination waits (exit 75), the next run sends
# only what is missing
h_stop_dns
pd dmarc report --day "$DAY2" > "$H_DIR/r4.out" 2> "$H_DIR/r4.err"
t_eq "DNS away: exit 75" 75 $?
t_match "DNS away: the own-domain destination is sent" $'\tdmarc@example.org\t.*\tsent' "$(cat "$H_DIR/r4.out")"
t_match "DNS away: the external one is not, for now" $'\tagg@reports.partner.example\t.*\tdns-tempfail' "$(cat "$H_DIR/r4.out")"
t_ok "DNS away: ... one report at the sink" h_wait_sink_count rua 3 20
h_start_dns "$H_DIR/zone"
pd dmarc report --day "$DAY2" > "$H_DIR/r5.out" 2>&1
t_eq "DNS back: exit 0" 0 $?
t_eq "DNS back: only the external destination is sent now" "already-sent sent" \
    "$(grep -E $'\t(dmarc@example.org|agg@reports.partner.example)\t' "$H_DIR/r5.out" | awk -F'\t' '{print $5}' | tr '\n' ' ' | sed 's/ $//')"
t_ok "DNS back: ... four reports at the sink in all" h_wait_sink_count rua 4 20

# --- reports received: postern dmarc summary -------------------------------
MD=$H_DIR/Maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
python3 "$MAILPY" wrap "$MD/new/1.a.eml" gz "$DATA/dmarc/report-a.xml"
python3 "$MAILPY" wrap "$MD/cur/2.b.eml:2,S" zip "$DATA/dmarc/report-b.xml"
python3 "$MAILPY" wrap "$MD/new/3.broken.eml" broken-gz "$DATA/dmarc/report-a.xml"
python3 "$MAILPY" wrap "$MD/new/4.dup.eml" gz "$DATA/dmarc/report-a.xml"
printf 'From: x@y.example\nSubject: hello\n\njust text\n' > "$MD/new/5.text.eml"
"$P" -c "$CONF" dmarc summary --maildir "$MD" > "$H_DIR/s1.out" 2> "$H_DIR/s1.err"
t_eq "summary with a broken input: exit 65" 65 $?
sum=$(grep -v '^#' "$H_DIR/s1.out")
expect=$'example.org\t192.0.2.10\tBig Mailer\t20\t20\t0\t20\t0\t20\t0\t20\t0\t0
example.org\t192.0.2.10\tOther ISP\t6\t6\t0\t6\t0\t0\t6\t6\t0\t0
example.org\t198.51.100.7\tBig Mailer\t4\t0\t4\t0\t4\t0\t4\t0\t0\t4
example.org\t203.0.113.5\tOther ISP\t3\t0\t3\t0\t3\t0\t3\t0\t3\t0'
t_eq "sources, messages, DMARC/DKIM/SPF pass and fail, dispositions" "$expect" "$sum"
t_match "header line names the columns" '^# domain	source_ip	reporter	messages	dmarc_pass	dmarc_fail' "$(head -1 "$H_DIR/s1.out")"
serr=$(cat "$H_DIR/s1.err")
t_match "the broken file is named" '3\.broken\.eml: report-a\.xml\.gz: (broken|truncated) gzip' "$serr"
t_match "a message without a report is named" '5\.text\.eml: no DMARC report' "$serr"
t_match "the duplicate is counted once" '2 reports summarized, 1 duplicates ignored, 2 inputs with errors' "$serr"
"$P" -c "$CONF" dmarc summary --maildir "$MD" --domain other.example > "$H_DIR/s2.out" 2>/dev/null
t_eq "--domain of another domain: no rows" 1 "$(wc -l < "$H_DIR/s2.out")"
"$P" -c "$CONF" --json dmarc summary --since 2026-12-04 "$MD/new/1.a.eml" > "$H_DIR/s3.out" 2>/dev/null
t_eq "--json, one file: valid JSON with the two sources" "2 24" \
    "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), sum(int(r["messages"]) for r in d))' "$H_DIR/s3.out")"
"$P" -c "$CONF" dmarc summary --since 2027-01-01 "$MD/new/1.a.eml" > "$H_DIR/s4.out" 2>/dev/null
t_eq "--since after the report's range: no rows" 1 "$(wc -l < "$H_DIR/s4.out")"

# hostile files: each refused by name, the good one still summarized
python3 "$MAILPY" bomb "$H_DIR/bomb.xml.gz" 20
gzip -c "$DATA/dmarc/report-b.xml" > "$H_DIR/good.xml.gz"
head -c 3000 /dev/urandom > "$H_DIR/noise.bin"
"$P" -c "$CONF" dmarc summary "$H_DIR/bomb.xml.gz" "$DATA/dmarc/report-entities.xml" \
    "$H_DIR/noise.bin" "$H_DIR/good.xml.gz" > "$H_DIR/s5.out" 2> "$H_DIR/s5.err"
t_eq "hostile batch: exit 65" 65 $?
serr=$(cat "$H_DIR/s5.err")
t_match "the gzip bomb stops at the named limit" 'bomb\.xml\.gz: report: more than 16777216 bytes after decompression' "$serr"
t_match "a document type declaration is refused" 'report-entities\.xml: report: a document type declaration is not allowed' "$serr"
t_not "nothing of the entity file is counted" grep -q 192.0.2.66 "$H_DIR/s5.out"
t_match "random bytes are named" 'noise\.bin: ' "$serr"
t_eq "the good file after them is summarized" 2 "$(grep -vc '^#' "$H_DIR/s5.out")"

# --- end to end: a message through Postfix and postern-milter -> a row ->
# --- the report of today at its rua ------------------------------------------
before=$(h_sink_count rua)
r=$("$H_PYTHON" tests/integration/xclient_send.py "$H_PF_SMTP_PORT" 192.0.2.55 \
    mail.client.example ceo@spoofed.example someone@test.example)
t_match "e2e: a message From spoofed.example (SPF fails) is accepted (p=none)" '^DATA 250' "$r"
t_ok "e2e: ... and relayed" h_wait_sink_count rua $((before + 1)) 20
spoofed_rows() { [ "$(h_sql "SELECT COALESCE(SUM(messages), 0) FROM dmarc_results WHERE policy_domain = 'spoofed.example'")" -ge 1 ]; }
t_ok "e2e: postern-milter records the DMARC result in dmarc_results" h_wait_for 10 spoofed_rows
TODAY=$(date -u +%F)
pd dmarc report --day "$TODAY" --domain spoofed.example > "$H_DIR/e2e.out" 2>&1
t_match "e2e: postern dmarc report sends today's report to the rua" $'spoofed.example\tdmarc@spoofed.example\t.*\tsent' "$(cat "$H_DIR/e2e.out")"
t_ok "e2e: ... it arrives through Postfix" h_wait_sink_count rua $((before + 2)) 20
python3 "$MAILPY" extract "$(h_sink_last rua eml)" "$H_DIR/e2e.xml" > /dev/null
t_ok "e2e: the report validates against the schema" \
    xmllint --noout --schema "$DATA/rfc7489.xsd" "$H_DIR/e2e.xml"
t_eq "e2e: one record: the client, one message, none, dkim fail, spf fail" "192.0.2.55 1 none fail fail" \
    "$(xmllint --xpath 'concat(string(//row/source_ip), " ", string(//row/count), " ", string(//disposition), " ", string(//policy_evaluated/dkim), " ", string(//policy_evaluated/spf))' "$H_DIR/e2e.xml")"
t_eq "e2e: auth_results spf as the milter checked it" "spoofed.example mfrom fail" \
    "$(xmllint --xpath 'concat(string(//auth_results/spf/domain), " ", string(//auth_results/spf/scope), " ", string(//auth_results/spf/result))' "$H_DIR/e2e.xml")"

t_summary
