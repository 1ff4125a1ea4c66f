#!/bin/bash
# managesieve.sh - postern-managesieve against a real MariaDB (SQL backend,
# {SHA512-CRYPT} hashes) and slapd (LDAP backend, bind as the user), with
# Debian's sieve-connect as the client (STARTTLS, upload, list, activate,
# download, wrong password) and a scripted session (managesieve_client.py)
# for the protocol details: ENCRYPT-NEEDED, a syntax error with its line
# number, SETACTIVE and the symlink postern-lda reads, quotas, RENAME,
# DELETE of the active script, oversized literals.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
HERE="$(cd "$(dirname "$0")" && pwd)"
CLIENT="$H_PYTHON $HERE/managesieve_client.py"
h_init
h_start_mariadb
h_start_slapd
h_tls_cert
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
HASH=$(openssl passwd -6 'alice-pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('a.example', 'local'), ('bns.school.example', 'local');
INSERT INTO mailboxes (local_part, domain, password_hash) VALUES ('alice', 'a.example', '{SHA512-CRYPT}$HASH');
INSERT INTO mailboxes (local_part, domain, password_hash, active) VALUES ('off', 'a.example', '{SHA512-CRYPT}$HASH', 0);
INSERT INTO mailboxes (local_part, domain) VALUES ('anna.lehrer', 'bns.school.example');"
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address='alice@a.example'")
ROOT=$H_DIR/mail
mkdir -p "$ROOT"
PORT=$(h_free_port)
LPORT=$(h_free_port)
conf() { # $1 port, $2 auth, $3 extra
    cat <<CONF
[managesieve]
listen = inet:127.0.0.1:$1
tls_cert_file = $H_TLS_CERT
tls_key_file = $H_TLS_KEY
auth = $2
mail_root = $ROOT
max_scripts = 2
max_script_size = 2k
# the login throttle has its own suite (managesieve-throttle.sh); short
# here, so the wrong-password cases do not slow the rest down
auth_penalty_initial = 50ms
auth_penalty_max = 200ms
auth_penalty_forget = 1s
$3
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
[ldap]
uri = $H_LDAP_URI
base = $H_LDAP_BASE
CONF
}
conf "$PORT" sql "" > "$H_DIR/ms.conf"
conf "$LPORT" ldap "" > "$H_DIR/ms-ldap.conf"
t_ok "-t accepts the configuration" "$BUILD/postern-managesieve" -t -c "$H_DIR/ms.conf"
conf "$PORT" sql "require_tls = yes" | sed '/^tls_/d' > "$H_DIR/bad.conf"
t_not "-t refuses require_tls without a certificate" "$BUILD/postern-managesieve" -t -c "$H_DIR/bad.conf"
conf "$PORT" sql "max_script_size = 100M" > "$H_DIR/bad2.conf"
t_not "-t refuses max_script_size over the compiler's limit" "$BUILD/postern-managesieve" -t -c "$H_DIR/bad2.conf"

"$BUILD/postern-managesieve" -f -c "$H_DIR/ms.conf" 2> "$H_DIR/ms.log" &
h_track_pid $!
"$BUILD/postern-managesieve" -f -c "$H_DIR/ms-ldap.conf" 2> "$H_DIR/ms-ldap.log" &
h_track_pid $!
t_wait "the server listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
t_wait "the LDAP-backed server listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LPORT"

# --- scripts to upload
printf 'require "fileinto";\nif header :contains "subject" "news" {\n  fileinto "News";\n}\n' > "$H_DIR/good.sieve"
printf 'require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "A";\n}\nif true {\n  frobnicate;\n}\n' > "$H_DIR/bad.sieve"
head -c 3000 /dev/zero | tr '\0' '#' > "$H_DIR/big.sieve"
printf 'keep;\n' > "$H_DIR/keep.sieve"

# --- sieve-connect (Debian's client): STARTTLS, PLAIN, upload/list/activate
sc() { # sieve-connect as alice with password $1, then the rest
    local pw=$1; shift
    sieve-connect -s 127.0.0.1 -p "$PORT" -u alice@a.example --notlsverify \
        --passwordfd 3 "$@" 3<<<"$pw" 2>&1 </dev/null
}
out=$(sc alice-pw --upload --localsieve "$H_DIR/good.sieve" --remotesieve vacation)
t_eq "sieve-connect uploads over STARTTLS" "0" "$?"
t_ok "the script is stored as sieve/NAME.sieve" test -f "$ROOT/$MD/sieve/vacation.sieve"
t_eq "its content is what was sent" "$(cat "$H_DIR/good.sieve")" "$(cat "$ROOT/$MD/sieve/vacation.sieve" 2>/dev/null)"
out=$(sc alice-pw --activate --remotesieve vacation)
t_eq "sieve-connect activates" "0" "$?"
t_eq "SETACTIVE makes .postern.sieve a symlink to it" "sieve/vacation.sieve" \
    "$(readlink "$ROOT/$MD/.postern.sieve")"
out=$(sc alice-pw --list)
t_match "sieve-connect lists it as active" 'vacation.*ACTIVE|vacation  *<-- active' "$out"
out=$(sc alice-pw --download --remotesieve vacation --localsieve "$H_DIR/down.sieve")
t_eq "sieve-connect downloads the same text" "$(cat "$H_DIR/good.sieve")" "$(cat "$H_DIR/down.sieve" 2>/dev/null)"
out=$(sc wrong-pw --list)
rc=$?
t_not "a wrong password fails in sieve-connect" test "$rc" = 0
out=$(sc alice-pw --upload --localsieve "$H_DIR/bad.sieve" --remotesieve broken)
t_match "a syntax error is refused with its line number" 'broken:6: error' "$out"
t_not "the broken script is not stored" test -e "$ROOT/$MD/sieve/broken.sieve"
t_match "the TLS session is logged in" "login alice@a.example" "$(cat "$H_DIR/ms.log")"

# --- the scripted session: the protocol details
out=$($CLIENT "$PORT" CAPABILITY '@AUTH alice@a.example alice-pw')
t_match "greeting offers STARTTLS" '"STARTTLS"' "$out"
t_match "before STARTTLS no SASL mechanism is offered" '"SASL" ""' "$out"
t_match "AUTHENTICATE before STARTTLS is refused" 'NO \(ENCRYPT-NEEDED\)' "$out"
out=$($CLIENT "$PORT" @STARTTLS '@AUTH alice@a.example wrong' '@AUTH alice@a.example wrong2' \
    '@AUTH alice@a.example wrong3' LISTSCRIPTS)
t_match "after STARTTLS the capabilities come again with SASL PLAIN" 'TLS negotiation successful' "$out"
t_match "... over TLS 1.2 or 1.3" 'TLS TLSv1\.[23]' "$out"
t_match "SASL PLAIN is offered over TLS" '"SASL" "PLAIN"' "$out"
t_match "a wrong password: NO" 'NO "Authentication failed"' "$out"
t_match "three failures end the connection" 'BYE "Too many failed logins"' "$out"
out=$($CLIENT "$PORT" @STARTTLS '@AUTH off@a.example alice-pw')
t_match "an inactive mailbox cannot log in" 'NO "Authentication failed"' "$out"
out=$($CLIENT "$PORT" @STARTTLS '@AUTH alice@a.example alice-pw' \
    "@CHECK $H_DIR/bad.sieve" "@CHECK $H_DIR/good.sieve" \
    "@PUT second $H_DIR/keep.sieve" "@PUT third $H_DIR/keep.sieve" \
    'HAVESPACE "third" 100' 'HAVESPACE "vacation" 5000' \
    "@PUT vacation $H_DIR/big.sieve" \
    'DELETESCRIPT "vacation"' 'RENAMESCRIPT "vacation" "second"' \
    'RENAMESCRIPT "vacation" "ooo"' 'GETSCRIPT "ooo"' 'GETSCRIPT "nope"' \
    'SETACTIVE "nope"' 'NOOP "tag1"' 'LISTSCRIPTS' 'LOGOUT')
t_match "CHECKSCRIPT reports the compiler's error with line 6" 'NO .*script:6: error' "$out"
t_match "CHECKSCRIPT accepts a valid script" 'OK "Script is valid"' "$out"
t_match "a second script fits the quota" 'OK "Putscript completed"' "$out"
t_match "a third script is over max_scripts" 'NO \(QUOTA/MAXSCRIPTS\)' "$out"
t_match "HAVESPACE over max_script_size" 'NO \(QUOTA/MAXSIZE\)' "$out"
t_eq "the oversized PUTSCRIPT left the script alone" "$(cat "$H_DIR/good.sieve")" \
    "$(cat "$ROOT/$MD/sieve/ooo.sieve" 2>/dev/null)"
t_match "the active script cannot be deleted" 'NO \(ACTIVE\)' "$out"
t_match "RENAMESCRIPT onto an existing name" 'NO \(ALREADYEXISTS\)' "$out"
t_match "RENAMESCRIPT of the active script" 'OK "Renamescript completed"' "$out"
t_eq "... moves the symlink with it" "sieve/ooo.sieve" "$(readlink "$ROOT/$MD/.postern.sieve")"
t_match "GETSCRIPT returns the text" 'fileinto "News"' "$out"
t_match "GETSCRIPT of a missing script" 'NO \(NONEXISTENT\)' "$out"
t_match "NOOP echoes its tag" 'OK \(TAG "tag1"\)' "$out"
t_match "LISTSCRIPTS marks the active one" '"ooo" ACTIVE' "$out"
t_match "LOGOUT" 'OK "Logout completed"' "$out"
t_ok "the LDA's active script resolves" test -f "$ROOT/$MD/.postern.sieve"

# a literal over max_script_size is skipped and the session goes on
big=$(head -c 5000 /dev/zero | tr '\0' 'x')
out=$($CLIENT "$PORT" @STARTTLS '@AUTH alice@a.example alice-pw' \
    "@RAW PUTSCRIPT \"huge\" {5000+}\r\n${big}\r\n" 'NOOP "after"' \
    'SETACTIVE ""')
t_match "an oversized literal is refused with QUOTA/MAXSIZE" 'NO \(QUOTA/MAXSIZE\)' "$out"
t_match "... and the connection stays in step" 'OK \(TAG "after"\)' "$out"
t_not "SETACTIVE \"\" removes the symlink" test -L "$ROOT/$MD/.postern.sieve"

# --- LDAP backend: bind as the user found with user_filter
AMD=$(h_sql "SELECT maildir FROM mailboxes WHERE address='anna.lehrer@bns.school.example'")
out=$($CLIENT "$LPORT" @STARTTLS '@AUTH anna.lehrer test' "@PUT filters $H_DIR/keep.sieve" \
    'SETACTIVE "filters"')
t_match "LDAP: login by uid with the directory password" 'OK "Logged in"' "$out"
t_ok "LDAP: the script lands in the mailbox from the directory's mail address" \
    test -L "$ROOT/$AMD/.postern.sieve"
out=$($CLIENT "$LPORT" @STARTTLS '@AUTH anna.lehrer@bns.school.example wrong')
t_match "LDAP: a wrong password is refused" 'NO "Authentication failed"' "$out"
out=$($CLIENT "$LPORT" @STARTTLS '@AUTH bernd.lehrer test')
t_match "LDAP: a directory user without a mailbox is refused" 'NO "Authentication failed"' "$out"
h_stop_slapd
out=$($CLIENT "$LPORT" @STARTTLS '@AUTH anna.lehrer test')
t_match "LDAP down: TRYLATER, not a wrong password" 'NO \(TRYLATER\)' "$out"
t_summary
