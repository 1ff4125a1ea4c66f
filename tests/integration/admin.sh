#!/bin/bash
# admin.sh - postern, the admin command, routing half (docs/admin.md):
# admin tasks done with `postern` only against a real MariaDB, each proven
# by postern-maps' real answers through Postfix's socketmap client
# (postmap -q): a customer domain with mailboxes and a catch-all, an alias
# domain, a forward with a copy, a mailbox switched from the legacy store,
# a pupil disabled.  Every validation error is shown once (exactly one
# line on stderr, the sysexits status, no row changed); --dry-run changes
# nothing; --json parses.  ADMIN_SHOW=1 logs each refusal's message.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null

MPORT=$(h_free_port)
CONF=$H_DIR/postern.conf
cat > "$CONF" <<CONF
[maps]
listen = inet:127.0.0.1:$MPORT
poll_interval = 100ms
max_staleness = 1s
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 2s
retry_interval = 200ms
CONF
"$BUILD/postern-maps" -c "$CONF" -f 2> "$H_DIR/maps.log" &
h_track_pid $!
h_start_postfix
SM="socketmap:inet:127.0.0.1:$MPORT"
q() { h_postmap_q "$1" "$SM:$2" 2>&1; }
t_wait "postern-maps answers" 10 bash -c "postmap -c $H_PF_CONF -q x $SM:domain; [ \$? -le 1 ]"

OUT=$H_DIR/out ERR=$H_DIR/err
# P ARGS... - run postern; stdout in $OUT, stderr in $ERR, status in $RC
P() {
    "$BUILD/postern" -c "$CONF" --user admin-test "$@" > "$OUT" 2> "$ERR"
    RC=$?
}
# ok DESC ARGS... - the command succeeds
ok() {
    local d=$1; shift
    P "$@"
    if [ "$RC" = 0 ]; then t_pass "$d"; else t_fail "$d" "exit $RC: $(cat "$ERR")"; fi
}
# qwait DESC EXPECTED KEY MAP - postern-maps answers EXPECTED within 3 s
qwait() {
    local i
    for i in $(seq 30); do
        [ "$(q "$3" "$4")" = "$2" ] && break
        sleep 0.1
    done
    t_eq "$1" "$2" "$(q "$3" "$4")"
}
sum() { h_sql "CHECKSUM TABLE domains, mailboxes, aliases, transports, relayhosts" | tr '\n' ' '; }
# refused DESC STATUS ERE ARGS... - exit STATUS, exactly one stderr line
# matching ERE, nothing on stdout, no row changed
refused() {
    local d=$1 st=$2 re=$3 before; shift 3
    before=$(sum)
    P "$@"
    [ -n "${ADMIN_SHOW:-}" ] && h_log "$d: $(cat "$ERR")"
    t_eq "$d: exit status" "$st" "$RC"
    t_eq "$d: one line on stderr" "1" "$(wc -l < "$ERR")"
    t_match "$d: explained" "$re" "$(cat "$ERR")"
    t_eq "$d: nothing on stdout" "" "$(cat "$OUT")"
    t_eq "$d: no row changed" "$before" "$(sum)"
}

# --- routes: the defaults every installation needs
ok "transport add default (smarthost)" transport add default 'relay:[127.0.0.1]:2525'
ok "transport add default local route" transport add default postern-lda: purpose=local
ok "transport add default legacy route" transport add default 'smtp:[127.0.0.1]:2526' purpose=legacy
qwait "transport: external -> smarthost" "relay:[127.0.0.1]:2525" x@gmail.example.com transport

# --- a customer domain with mailboxes and a catch-all
ok "domain add" domain add kunde.example.org default_quota=2G description="Kunde 1"
qwait "domain map: local" "local" kunde.example.org domain
t_eq "default quota stored in bytes" "2147483648" \
    "$(h_sql "SELECT default_quota_bytes FROM domains WHERE name='kunde.example.org'")"
printf 'S3cret-pw\n' | P mailbox add anna@kunde.example.org password=- name="Anna Meyer"
t_eq "mailbox add with password=- (stdin)" "0" "$RC"
t_not "the password is never echoed" grep -q S3cret-pw "$OUT" "$ERR"
hash=$(h_sql "SELECT password_hash FROM mailboxes WHERE address='anna@kunde.example.org'")
t_match "stored as {SHA512-CRYPT} crypt(3)" '^\{SHA512-CRYPT\}\$6\$[^$]+\$' "$hash"
t_eq "the hash verifies the password" "yes" "$(python3 -W ignore -c '
import crypt, sys
h = sys.argv[1][len("{SHA512-CRYPT}"):]
print("yes" if crypt.crypt("S3cret-pw", h) == h else "no")' "$hash")"
ok "mailbox add bob" mailbox add bob@kunde.example.org quota=500M
md=$(h_sql "SELECT maildir FROM mailboxes WHERE address='anna@kunde.example.org'")
qwait "mailbox map: anna's maildir" "$md" anna@kunde.example.org mailbox
t_eq "quota stored" "524288000" "$(h_sql "SELECT quota_bytes FROM mailboxes WHERE address='bob@kunde.example.org'")"
ok "catch-all" alias add @kunde.example.org anna@kunde.example.org
qwait "alias map: catch-all" "anna@kunde.example.org" random@kunde.example.org alias
t_eq "catch-all does not swallow bob" "bob@kunde.example.org" "$(q bob@kunde.example.org alias)"

# --- an alias domain
ok "alias domain" domain add kunde.example.net alias_target=kunde.example.org
qwait "domain map: alias" "alias" kunde.example.net domain
t_eq "mailbox through the alias domain" "$md" "$(q anna@kunde.example.net mailbox)"

# --- a forward with a copy
ok "forward with a copy" alias add bob@kunde.example.org bob@private.example.com keep_copy=yes
qwait "alias map: forward plus the mailbox" "bob@private.example.com,bob@kunde.example.org" \
    bob@kunde.example.org alias
ok "a plain alias with two targets" alias add team@kunde.example.org anna@kunde.example.org bob@kunde.example.org
qwait "alias map: team" "anna@kunde.example.org,bob@kunde.example.org" team@kunde.example.org alias

# --- a mailbox switched from the legacy store
ok "legacy mailbox" mailbox add carl@kunde.example.org migration_state=legacy
qwait "transport: legacy mailbox -> legacy store" "smtp:[127.0.0.1]:2526" carl@kunde.example.org transport
ok "switch to migrated" mailbox set carl@kunde.example.org migration_state=migrated
qwait "transport: migrated -> postern-lda" "postern-lda:" carl@kunde.example.org transport

# --- a pupil disabled
ok "school domain" domain add school.example.org
ok "pupil" mailbox add max.schueler@school.example.org name="Max Schüler"
qwait "pupil: mailbox answers" "$(h_sql "SELECT maildir FROM mailboxes WHERE address='max.schueler@school.example.org'")" \
    max.schueler@school.example.org mailbox
t_eq "pupil: rcptcheck accepts" "" "$(q max.schueler@school.example.org rcptcheck)"
ok "pupil closed (state)" mailbox set max.schueler@school.example.org state=closed reason="left school"
qwait "pupil closed: rcptcheck refuses" "550 5.2.1 mailbox closed" max.schueler@school.example.org rcptcheck
t_eq "state_reason recorded" "left school" \
    "$(h_sql "SELECT state_reason FROM mailboxes WHERE address='max.schueler@school.example.org'")"
ok "pupil disabled" mailbox disable max.schueler@school.example.org
qwait "pupil disabled: mailbox map does not know it" "" max.schueler@school.example.org mailbox
ok "pupil enabled again" mailbox enable max.schueler@school.example.org
ok "pupil reopened" mailbox set max.schueler@school.example.org state=active
qwait "pupil back: rcptcheck accepts" "" max.schueler@school.example.org rcptcheck

# --- a directory account (postern-dirsync's row)
h_sql "INSERT INTO mailboxes (local_part, domain, owner, dir_uuid) VALUES
       ('lisa', 'school.example.org', 'ldap', '11111111-2222-3333-4444-555555555555')"
refused "ldap row: quota belongs to the directory" 65 'postern-dirsync' \
    mailbox set lisa@school.example.org quota=1G
ok "ldap row: an admin may close it" mailbox disable lisa@school.example.org
t_eq "ldap row: disable closed it, active untouched" "closed 1" \
    "$(h_sql "SELECT CONCAT(state, ' ', active) FROM mailboxes WHERE address='lisa@school.example.org'")"
ok "ldap row: closed_forward" mailbox set lisa@school.example.org closed_forward=sekretariat@school.example.org
qwait "closed with forward: alias map" "sekretariat@school.example.org" lisa@school.example.org alias
refused "ldap row: remove is postern-dirsync purge" 65 'postern-dirsync purge' \
    mailbox remove lisa@school.example.org

# --- DKIM fallback and DMARC action per domain (issue 17)
ok "domain set dkim_fallback + dmarc_action" domain set school.example.org \
    dkim_fallback=kunde.example.org dmarc_action=quarantine
t_eq "... stored" "kunde.example.org quarantine" \
    "$(h_sql "SELECT CONCAT(dkim_fallback, ' ', dmarc_action) FROM domains WHERE name='school.example.org'")"
ok "... cleared" domain set school.example.org dkim_fallback= dmarc_action=
t_eq "... NULL again" "1" \
    "$(h_sql "SELECT dkim_fallback IS NULL AND dmarc_action IS NULL FROM domains WHERE name='school.example.org'")"
refused "dmarc_action not a known action" 65 "dmarc_action 'bounce' is not reject, quarantine or record" \
    domain set school.example.org dmarc_action=bounce
refused "dkim_fallback not one of our domains" 65 'nowhere\.example\.com' \
    domain set school.example.org dkim_fallback=nowhere.example.com
refused "dkim_fallback is the domain itself" 65 'cannot be school\.example\.org itself' \
    domain set school.example.org dkim_fallback=school.example.org

# --- validation: each error once, before SQL
refused "typo in a domain" 65 'no domain kunde\.exmaple\.org; did you mean kunde\.example\.org\?' \
    mailbox add x@kunde.exmaple.org
refused "mailbox in an unknown domain" 65 'no domain nowhere\.example\.com' \
    mailbox add x@nowhere.example.com
refused "mailbox in an alias domain" 65 'alias domain of kunde\.example\.org.*x@kunde\.example\.org' \
    mailbox add x@kunde.example.net
refused "TLD not a public suffix" 65 "'\.lan' is not a top-level domain.*--force" \
    domain add intranet.lan
ok "--force adds it anyway" domain add intranet.lan --force
ok "and it can be removed" domain remove intranet.lan
refused "a public suffix itself" 65 'co\.uk is itself a public suffix' domain add co.uk
ok "first half of a loop" alias add loop1@kunde.example.org loop2@kunde.example.org
refused "alias loop, named" 65 'alias loop: loop2@kunde\.example\.org -> loop1@kunde\.example\.org -> loop2@kunde\.example\.org' \
    alias add loop2@kunde.example.org loop1@kunde.example.org
ok "the first half disabled" alias disable loop1@kunde.example.org
ok "the second half is no loop while it is off" alias add loop2@kunde.example.org loop1@kunde.example.org
refused "enable would close the loop" 65 'alias loop: loop1@kunde\.example\.org -> loop2@kunde\.example\.org -> loop1@kunde\.example\.org' \
    alias enable loop1@kunde.example.org
ok "the second half removed" alias remove loop2@kunde.example.org
ok "the first half enabled" alias enable loop1@kunde.example.org
refused "leaving needs grace_until" 65 'state=leaving needs grace_until' \
    mailbox set bob@kunde.example.org state=leaving
refused "loop through the catch-all" 65 'alias loop: @kunde\.example\.org -> nobody@kunde\.example\.org -> @kunde\.example\.org' \
    alias add @kunde.example.org nobody@kunde.example.org
refused "loop through the alias domain" 65 'alias loop: echo@kunde\.example\.org -> echo@kunde\.example\.net -> echo@kunde\.example\.org' \
    alias add echo@kunde.example.org echo@kunde.example.net
refused "open forwarder: catch-all off-site" 65 'catch-all @school\.example\.org -> x@gmail\.example\.com.*open forwarder.*--force' \
    alias add @school.example.org x@gmail.example.com
ok "--force: a catch-all off-site when it is meant" alias add @school.example.org x@gmail.example.com --force
qwait "the forced catch-all answers" "x@gmail.example.com" nobody@school.example.org alias
ok "and removed again" alias remove @school.example.org
refused "alias shadows a mailbox" 65 'anna@kunde\.example\.org is a mailbox.*keep_copy=yes.*keep_copy=no' \
    alias add anna@kunde.example.org anna@elsewhere.example.com
refused "alias on an alias domain" 65 'alias domain of kunde\.example\.org' \
    alias add info@kunde.example.net anna@kunde.example.org
refused "typo in a local target" 65 'no mailbox or alias max\.schuler@school\.example\.org; did you mean max\.schueler@school\.example\.org\?' \
    alias add info@school.example.org max.schuler@school.example.org
refused "typo in a target's domain" 65 'no domain kunde\.exmaple\.org here; did you mean kunde\.example\.org\?' \
    alias add info@school.example.org anna@kunde.exmaple.org
refused "duplicate domain" 73 'kunde\.example\.org exists already' domain add kunde.example.org
refused "duplicate mailbox" 73 'anna@kunde\.example\.org exists already' mailbox add anna@kunde.example.org
refused "duplicate alias" 73 'exists already' alias add team@kunde.example.org bob@kunde.example.org
refused "mailbox over an alias" 73 'team@kunde\.example\.org is an alias' mailbox add team@kunde.example.org
refused "unknown mailbox" 66 'no mailbox nobdy@kunde\.example\.org' mailbox show nobdy@kunde.example.org
refused "unknown domain, suggested" 66 'no domain kunde\.exampel\.org; did you mean kunde\.example\.org\?' \
    domain show kunde.exampel.org
refused "unknown setting, suggested" 64 "unknown setting 'qouta' \(did you mean 'quota'\?\)" \
    mailbox set bob@kunde.example.org qouta=1G
refused "bad size" 65 "quota '12X' is not a size" mailbox set bob@kunde.example.org quota=12X
refused "bad transport" 65 "is not a Postfix transport:nexthop" \
    transport add kunde.example.org 'SMTP mx'
refused "bad relay host" 65 "is not a relay host" relayhost add bob@kunde.example.org 'mx example'
refused "plain-text password refused" 64 'password=-' mailbox set bob@kunde.example.org password=secret
refused "relay domain without transport" 65 'needs transport=' domain add partner.example.com kind=relay
refused "domain still in use" 65 'still has .*mailboxes' domain remove school.example.org
refused "mailbox still named by aliases" 65 'aliases still name anna@kunde\.example\.org.*--cascade' \
    mailbox remove anna@kunde.example.org

# --- --dry-run changes nothing
before=$(sum)
P --dry-run mailbox add dry@kunde.example.org quota=1G
t_eq "dry run: succeeds" "0" "$RC"
t_match "dry run: says it rolled back" "dry run: rolled back" "$(cat "$ERR")"
t_eq "dry run: no row changed" "$before" "$(sum)"
P --dry-run domain set kunde.example.org default_quota=5G
t_eq "dry run set: no row changed" "0 $before" "$RC $(sum)"
P --dry-run mailbox remove bob@kunde.example.org --cascade
t_eq "dry run remove: no row changed" "0 $before" "$RC $(sum)"
P --dry-run alias add loop2@kunde.example.org loop1@kunde.example.org
t_eq "dry run still validates" "65" "$RC"

# --- --json parses
for cmd in "domain list" "domain show kunde.example.org" "mailbox list" \
           "mailbox show anna@kunde.example.org" "alias list kunde.example.org" \
           "alias show @kunde.example.org" "transport list" "relayhost list"; do
    # shellcheck disable=SC2086
    P --json $cmd
    t_ok "--json $cmd parses" python3 -m json.tool "$OUT"
done
P --json mailbox set bob@kunde.example.org quota=1G
t_ok "--json of a change parses" python3 -m json.tool "$OUT"
t_eq "--json of a change says what" "changed" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["action"])' "$OUT")"
P --json mailbox show anna@kunde.example.org
t_eq "--json show: the password is never shown" "set" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$OUT")"

# --- relay hosts and transports by row
ok "relayhost for a domain" relayhost add kunde.example.org '[relay.kunde.example.org]:587' credential_ref=kunde
qwait "relayhost map" "[relay.kunde.example.org]:587" bob@kunde.example.org relayhost
ok "relayhost changed" relayhost set kunde.example.org 'nexthop=[relay2.kunde.example.org]:25'
qwait "relayhost map follows" "[relay2.kunde.example.org]:25" bob@kunde.example.org relayhost
ok "transport for a partner domain" transport add partner.example.com 'smtp:[127.0.0.1]:2600'
qwait "transport map: partner" "smtp:[127.0.0.1]:2600" x@partner.example.com transport
ok "transport disabled" transport disable partner.example.com
qwait "transport map: back to the smarthost" "relay:[127.0.0.1]:2525" x@partner.example.com transport
ok "another legacy mailbox" mailbox add dora@kunde.example.org migration_state=legacy
refused "the only legacy route of a legacy mailbox" 65 '1 legacy mailboxes have no other legacy route' \
    transport remove default purpose=legacy
refused "several default rows: purpose= needed" 64 'several purposes' transport disable default

# --- removing a mailbox: what it leaves
ok "mailbox remove --cascade" mailbox remove anna@kunde.example.org --cascade
t_match "remove prints the Maildir left on disk" "$md" "$(cat "$OUT")"
t_match "and says it stays" "Maildir stays on disk: $md" "$(cat "$ERR")"
t_eq "the aliases naming it went with it (catch-all, team)" "2" \
    "$(awk -F'\t' 'NR==2 {print $6}' "$OUT")"
qwait "mailbox map: gone" "" anna@kunde.example.org mailbox
qwait "alias map: the catch-all is gone" "" random@kunde.example.org alias
t_eq "team keeps its other target" "bob@kunde.example.org" "$(q team@kunde.example.org alias)"

t_summary
