#!/bin/bash
# shellcheck disable=SC2119,SC2016
# tests/harness/selftest.sh - proves the real-server test harness works.
#
# Starts MariaDB, slapd, Postfix and SMTP sinks through harness.sh and checks
# each one: an SQL round trip, the sample LDAP directory (class 9a and its
# members, nested and cyclic groups), Postfix relaying a message for a domain
# routed to a sink, the sink's TLS+AUTH mode, a second MariaDB instance, a
# MariaDB restart and crash on the same port, a slapd restart, the dnsmasq
# DNS server and h_with_resolver.  Ends with
# "N passed, N failed" and exits non-zero if anything failed; everything is
# torn down by the harness's EXIT trap.
#
# SELFTEST_FAIL=1 adds one deliberately failing assertion (to prove teardown on
# failure); H_KEEP=1 keeps the run directory.
set -u

. "$(dirname "$0")/harness.sh"

h_init
t0=$(date +%s%N)
h_start_mariadb
h_start_slapd
h_start_smtp_sink smarthost
h_start_postfix - <<EOF
relay_domains = external.example
transport_maps = inline:{ external.example=smtp:[127.0.0.1]:$H_SINK_SMARTHOST_PORT }
# loopback clients are in mynetworks; do not let that permit relaying here
smtpd_relay_restrictions = reject_unauth_destination
EOF
t1=$(date +%s%N)
h_log "mariadb + slapd + sink + postfix up in $(( (t1 - t0) / 1000000 )) ms"

# ---- MariaDB
t_eq "mariadb: database postern answers as root" "1" "$(h_sql 'SELECT 1')"
h_sql "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(50)); INSERT INTO t VALUES (1, 'hello')"
t_eq "mariadb: SQL round trip" "hello" "$(h_sql 'SELECT v FROM t WHERE id = 1')"
t_eq "mariadb: password file mode 600" "600" "$(stat -c %a "$H_DB_PASSWORD_FILE")"
t_eq "mariadb: user postern over TCP 127.0.0.1" "hello" \
    "$(mariadb --no-defaults -h "$H_DB_HOST" -P "$H_DB_PORT" -u "$H_DB_USER" \
        -p"$(cat "$H_DB_PASSWORD_FILE")" -N -B "$H_DB_NAME" -e 'SELECT v FROM t' 2>&1)"
t_eq "mariadb: user postern over the socket" "hello" \
    "$(mariadb --no-defaults -S "$H_DB_SOCKET" -u "$H_DB_USER" \
        -p"$(cat "$H_DB_PASSWORD_FILE")" -N -B "$H_DB_NAME" -e 'SELECT v FROM t' 2>&1)"
printf 'INSERT INTO t VALUES (2, "from file");\n' > "$H_DIR/x.sql"
h_sql_file "$H_DIR/x.sql"
t_eq "mariadb: h_sql_file" "2" "$(h_sql 'SELECT COUNT(*) FROM t')"
t_match "mariadb: listens on 127.0.0.1 only" "127\.0\.0\.1:$H_DB_PORT" \
    "$(ss -Hltn "sport = :$H_DB_PORT" 2>/dev/null | awk '{print $4}' | tr '\n' ' ')"

port_before=$H_DB_PORT
h_restart_mariadb
t_eq "mariadb: restart keeps the port" "$port_before" "$H_DB_PORT"
t_eq "mariadb: restart keeps the data" "hello" "$(h_sql 'SELECT v FROM t WHERE id = 1')"
h_stop_mariadb
t_not "mariadb: stopped instance refuses" mariadb-admin --no-defaults -uroot -S "$H_DB_SOCKET" ping
h_restart_mariadb
t_eq "mariadb: back after stop" "hello" "$(h_sql 'SELECT v FROM t WHERE id = 1')"
h_kill_mariadb
t_not "mariadb: killed instance refuses" mariadb-admin --no-defaults -uroot -S "$H_DB_SOCKET" ping
h_restart_mariadb
t_eq "mariadb: back after SIGKILL (crash recovery)" "hello" "$(h_sql 'SELECT v FROM t WHERE id = 1')"

h_start_mariadb db2
t_ok "mariadb db2: second instance answers" h_sql_on db2 'SELECT 1'
t_ok "mariadb db2: different port" test "$H_DB2_PORT" != "$H_DB_PORT"
t_eq "mariadb db2: separate data" "0" "$(h_sql_on db2 "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'postern'")"
t_eq "mariadb db2: user postern over TCP" "1" \
    "$(mariadb --no-defaults -h "$H_DB2_HOST" -P "$H_DB2_PORT" -u "$H_DB2_USER" \
        -p"$(cat "$H_DB2_PASSWORD_FILE")" -N -B "$H_DB2_NAME" -e 'SELECT 1' 2>&1)"
db2_pid=$H_DB2_PID
h_stop_mariadb db2
t_not "mariadb db2: process gone after stop" h__alive "$db2_pid"

# ---- slapd
members=$(h_ldapsearch '(mailPrimaryAddress=9a@bns.school.example)' member memberUid)
t_match "ldap: class 9a found" "dn: cn=bns-9a,cn=klassen,cn=schueler,cn=groups,ou=bns" "$members"
t_match "ldap: 9a has member max" "member: uid=max.schueler," "$members"
t_match "ldap: 9a has memberUid lena" "memberUid: lena.schueler" "$members"
mail=$(ldapsearch -x -LLL -H "$H_LDAP_URI" -b "$H_LDAP_BASE" '(uid=max.schueler)' mailPrimaryAddress)
t_match "ldap: anonymous read of a user's mailPrimaryAddress" "mailPrimaryAddress: max.schueler@bns.school.example" "$mail"
t_ok "ldap: user bind (anna.lehrer / test)" ldapwhoami -x -H "$H_LDAP_URI" \
    -D "uid=anna.lehrer,cn=lehrer,cn=users,ou=bns,ou=schools,$H_LDAP_BASE" -w test
nested=$(h_ldapsearch '(mailPrimaryAddress=alle-9@bns.school.example)' member)
t_match "ldap: nested group alle-9 contains group 9b" "member: cn=bns-9b," "$nested"
cyc=$(h_ldapsearch '(mailPrimaryAddress=zyklus-b@bns.school.example)' member)
t_match "ldap: cycle zyklus-b contains zyklus-a" "member: cn=bns-zyklus-a," "$cyc"
n_users=$(h_ldapsearch '(objectClass=inetOrgPerson)' dn | grep -c '^dn:')
t_eq "ldap: 11 users" "11" "$n_users"
if grep -q memberof "$H_DIR/slapd/slapd.conf"; then
    mo=$(h_ldapsearch '(uid=lena.schueler)' memberOf)
    t_match "ldap: memberOf overlay lists ag-robotics for lena" "memberOf: cn=bns-ag-robotics," "$mo"
fi
h_restart_slapd
t_match "ldap: data survives a restart on the same port" "member: uid=max.schueler," \
    "$(h_ldapsearch '(cn=bns-9a)' member)"

# ---- Postfix + sink
t_eq "postfix: postconf reads the private config" "mydestination =" "$(h_postconf mydestination)"
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from sender@test.example --to user@external.example --subject "selftest 1")
t_match "postfix: accepts mail for a relay domain" "^DATA 250 2\.0\.0 Ok: queued as" "$r"
t_ok "sink: receives the relayed message" h_wait_sink_count smarthost 1 20
env=$(cat "$(h_sink_last smarthost env)" 2>/dev/null)
t_match "sink: envelope recipient recorded" "RCPT TO:<user@external\.example>" "$env"
t_match "sink: envelope sender recorded" "MAIL FROM:<sender@test\.example>" "$env"
t_match "sink: message body stored" "Subject: selftest 1" "$(cat "$(h_sink_last smarthost)" 2>/dev/null)"
t_ok "postfix: queue empty after delivery" h_wait_queue_empty 10
r=$(h_smtp --port "$H_PF_SMTP_PORT" --from sender@test.example --to user@elsewhere.example)
t_match "postfix: refuses relaying elsewhere (real RCPT reply)" "^RCPT 554 5\.7\.1 .*Relay access denied" "$r"
t_eq "postfix: postmap -q on an inline table" "smtp:[127.0.0.1]:$H_SINK_SMARTHOST_PORT" \
    "$(h_postmap_q external.example "$(h_postconf -h transport_maps)")"
t_not "postfix: postmap -q exits non-zero when not found" h_postmap_q nowhere.example "$(h_postconf -h transport_maps)"
printf 'Subject: via sendmail\n\nhello\n' | h_sendmail -f root@test.example other@external.example
t_ok "postfix: sendmail submission reaches the sink" h_wait_sink_count smarthost 2 20
t_match "postfix: maillog_file is written" "status=sent" "$(cat "$H_PF_LOG")"
h_postconf -e 'smtpd_banner = $myhostname ESMTP reloaded-banner'
h_postfix_reload
t_match "postfix: reload applies postconf -e" "reloaded-banner" \
    "$(printf 'QUIT\r\n' | timeout 5 "$H_PYTHON" -c 'import socket,sys
s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); print(s.makefile().readline()); s.close()' "$H_PF_SMTP_PORT")"

# ---- sink: TLS + AUTH, failure knob
h_start_smtp_sink secure --tls --require-auth alice:secret
r=$(h_smtp --port "$H_SINK_SECURE_PORT" --from a@test.example --to b@external.example)
t_match "sink secure: MAIL refused without AUTH" "^MAIL 530" "$r"
r=$(h_smtp --port "$H_SINK_SECURE_PORT" --starttls --auth alice:secret --from a@test.example --to b@external.example)
t_match "sink secure: STARTTLS + AUTH PLAIN accepted" "^DATA 250" "$r"
r=$(h_smtp --port "$H_SINK_SECURE_PORT" --starttls --auth alice:secret --auth-mech LOGIN --from a@test.example --to b@external.example)
t_match "sink secure: STARTTLS + AUTH LOGIN accepted" "^DATA 250" "$r"
r=$(h_smtp --port "$H_SINK_SECURE_PORT" --starttls --auth alice:wrong --from a@test.example --to b@external.example)
t_match "sink secure: wrong password refused" "^AUTH 535" "$r"
t_match "sink secure: envelope notes TLS and login" "TLS yes.*AUTH alice" "$(tr '\n' ' ' < "$(h_sink_last secure env)")"
h_start_smtp_sink picky --fail-rcpt 450 --fail-rcpt-match bad
r=$(h_smtp --port "$H_SINK_PICKY_PORT" --from a@test.example --to bad@external.example)
t_match "sink picky: --fail-rcpt answers RCPT 450" "^RCPT 450 4\.0\.0" "$r"
printf 'Subject: dots\n\n.leading dot\n..two dots\nend\n' > "$H_DIR/dots.eml"
r=$(h_smtp --port "$H_SINK_PICKY_PORT" --from a@test.example --to good@external.example --data "$H_DIR/dots.eml")
t_match "sink picky: other recipients accepted" "^DATA 250" "$r"
t_eq "sink: dot-unstuffing keeps the message intact" "$(cat "$H_DIR/dots.eml")" "$(cat "$(h_sink_last picky)")"

# ---- DNS (dnsmasq) and the private resolv.conf
long=$(printf 'k%.0s' $(seq 1 400))
h_start_dns "spf.dns.test TXT v=spf1 ip4:192.0.2.0/24 -all" "host.dns.test A 192.0.2.7" \
    "key._domainkey.dns.test TXT \"v=DKIM1; k=rsa; \" \"p=$long\""
t_match "dns: TXT record served" "v=spf1 ip4:192\.0\.2\.0/24 -all" "$(h_dns_query spf.dns.test TXT)"
t_match "dns: a long TXT record comes in 255-byte strings, joined intact" \
    "^NOERROR.v=DKIM1; k=rsa; p=k{400}  \(2 strings\)\.$" "$(h_dns_query key._domainkey.dns.test TXT | tr '\n' '.')"
t_match "dns: unknown names are NXDOMAIN (nothing forwarded)" "^NXDOMAIN" "$(h_dns_query www.example.org A)"
t_match "dns: h_with_resolver replaces /etc/resolv.conf" "^nameserver $H_DNS_ADDR" \
    "$(h_with_resolver cat /etc/resolv.conf)"
t_match "dns: glibc's resolver in the namespace asks the test server" "^192\.0\.2\.7 " \
    "$(h_with_resolver getent ahostsv4 host.dns.test)"
dns_pid=$H_DNS_PID
h_stop_dns
t_not "dns: h_stop_dns stops dnsmasq" h__alive "$dns_pid"

if [ "${SELFTEST_FAIL:-0}" = 1 ]; then
    t_eq "deliberate failure (SELFTEST_FAIL=1)" "yes" "no"
fi

t_summary
