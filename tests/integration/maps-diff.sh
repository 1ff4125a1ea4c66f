#!/bin/bash
# maps-diff.sh - differential test: for every address and domain in the
# sample data (school and ISP) plus generated edge cases (case variants,
# unknown users and domains, catch-all keys), postern-maps and Postfix's own
# mysql: tables with the equivalent queries of conf/mysql/ must agree, map
# by map, wherever SQL can express the rule.  Keys with +extensions and in
# alias domains are resolved by postern only (conf/mysql/README) and are
# checked against the rows they resolve to instead.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
t_ok "school sample loads" h_sql_file sql/sample-school.sql
t_ok "ISP sample loads" h_sql_file sql/sample-isp.sql

MPORT=$(h_free_port)
cat > "$H_DIR/postern.conf" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
CONF
"$BUILD/postern-maps" -c "$H_DIR/postern.conf" -f 2> "$H_DIR/maps.log" &
h_track_pid $!
h_start_postfix
SM="socketmap:inet:127.0.0.1:$MPORT"
t_wait "postern-maps is serving" 10 bash -c "postmap -c $H_PF_CONF -q x $SM:domain; [ \$? -le 1 ]"

for m in domain mailbox alias relayhost; do
    sed -e "s|@HOSTS@|inet:127.0.0.1:$H_DB_PORT|" -e "s|@USER@|postern|" \
        -e "s|@PASSWORD@|$(cat "$H_DB_PASSWORD_FILE")|" -e "s|@DBNAME@|postern|" \
        conf/mysql/$m.cf > "$H_DIR/mysql-$m.cf"
done

# keys: every domain, mailbox, alias source, grant pattern; upper-case
# variants; unknown users in every domain; unknown domains
{
    h_sql "SELECT name FROM domains WHERE kind <> 'alias'"
    h_sql "SELECT address FROM mailboxes"
    h_sql "SELECT source FROM aliases a JOIN domains d ON d.name = a.domain WHERE d.kind <> 'alias'"
    h_sql "SELECT CONCAT('no-such-user@', name) FROM domains WHERE kind <> 'alias'"
    h_sql "SELECT UPPER(address) FROM mailboxes LIMIT 50"
    h_sql "SELECT CONCAT('@', name) FROM domains WHERE kind <> 'alias'"
    echo "someone@unknown-domain.example"
    echo "unknown-domain.example"
} | sort -u > "$H_DIR/keys"
nkeys=$(wc -l < "$H_DIR/keys")
t_ok "at least 50 keys from the samples ($nkeys)" test "$nkeys" -ge 50

for m in domain mailbox alias relayhost; do
    keys=$H_DIR/keys
    # the domain map is asked for domains; the others for addresses
    if [ $m = domain ]; then grep -v @ "$H_DIR/keys" > "$H_DIR/keys.$m"
    else grep @ "$H_DIR/keys" > "$H_DIR/keys.$m"; fi
    [ $m = relayhost ] && grep -v '^@' "$H_DIR/keys.$m" > "$H_DIR/k" && mv "$H_DIR/k" "$H_DIR/keys.$m"
    postmap -c "$H_PF_CONF" -q - "$SM:$m" < "$H_DIR/keys.$m" | LC_ALL=C sort > "$H_DIR/postern.$m"
    postmap -c "$H_PF_CONF" -q - "mysql:$H_DIR/mysql-$m.cf" < "$H_DIR/keys.$m" | LC_ALL=C sort > "$H_DIR/mysql.$m"
    n=$(wc -l < "$H_DIR/postern.$m")
    if diff -u "$H_DIR/mysql.$m" "$H_DIR/postern.$m" > "$H_DIR/diff.$m"; then
        t_pass "map $m: postern and Postfix mysql agree on $(wc -l < "$H_DIR/keys.$m") keys ($n found)"
    else
        t_fail "map $m: postern and Postfix mysql differ" "$(head -n 20 "$H_DIR/diff.$m")"
    fi
    t_ok "map $m: some keys were found" test "$n" -gt 0
done

# what SQL cannot express: +ext and alias domains resolve to the same rows
addr=$(h_sql "SELECT address FROM mailboxes m JOIN domains d ON d.name = m.domain WHERE d.kind = 'local' AND m.active = 1 LIMIT 1")
ext=${addr%@*}+tag@${addr#*@}
t_eq "+ext resolves like the plain address (mailbox)" \
    "$(postmap -c $H_PF_CONF -q "$addr" "mysql:$H_DIR/mysql-mailbox.cf")" \
    "$(postmap -c $H_PF_CONF -q "$ext" "$SM:mailbox")"
ad=$(h_sql "SELECT name, alias_target FROM domains WHERE kind = 'alias' LIMIT 1")
if [ -n "$ad" ]; then
    a_dom=${ad%%$'\t'*}; t_dom=${ad#*$'\t'}
    u=$(h_sql "SELECT local_part FROM mailboxes WHERE domain = '$t_dom' AND active = 1 LIMIT 1")
    t_eq "alias domain: $u@$a_dom maps to $u@$t_dom" "$u@$t_dom" \
        "$(postmap -c $H_PF_CONF -q "$u@$a_dom" "$SM:alias")"
fi
t_summary
