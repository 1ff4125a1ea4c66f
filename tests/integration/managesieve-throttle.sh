#!/bin/bash
# managesieve-throttle.sh - the login throttle of postern-managesieve (issue
# 15, item 10): failed logins per source and per account bring growing
# delays (as Dovecot's auth_penalty), a right password during the penalty
# waits too, other sources and sessions are served meanwhile (the delay is
# a timer of the event loop, not a sleep), a parallel attempt is refused,
# and the penalty is forgotten after auth_penalty_forget.  The client side
# is msieve_penalty.py; this script sets up the server and checks the log.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
HERE="$(cd "$(dirname "$0")" && pwd)"
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
A=$(openssl passwd -6 'alice-pw')
B=$(openssl passwd -6 'bob-pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('a.example', 'local');
INSERT INTO mailboxes (local_part, domain, password_hash) VALUES
  ('alice', 'a.example', '{SHA512-CRYPT}$A'), ('bob', 'a.example', '{SHA512-CRYPT}$B'),
  ('carol', 'a.example', '{SHA512-CRYPT}$B');" || { t_fail "fixture"; t_summary; exit 1; }
mkdir -p "$H_DIR/mail"
PORT=$(h_free_port)
cat > "$H_DIR/ms.conf" <<CONF
[managesieve]
listen = inet:127.0.0.1:$PORT
require_tls = no
auth = sql
mail_root = $H_DIR/mail
auth_penalty_initial = 1s
auth_penalty_max = 4s
auth_penalty_forget = 5s
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = postern
password_file = $H_DB_PASSWORD_FILE
CONF
t_ok "-t accepts the penalty settings" "$BUILD/postern-managesieve" -t -c "$H_DIR/ms.conf"
sed 's/^auth_penalty_max = .*/auth_penalty_max = 500ms/' "$H_DIR/ms.conf" > "$H_DIR/bad.conf"
t_not "-t refuses auth_penalty_max below auth_penalty_initial" "$BUILD/postern-managesieve" -t -c "$H_DIR/bad.conf"
"$BUILD/postern-managesieve" -f -c "$H_DIR/ms.conf" 2> "$H_DIR/ms.log" &
h_track_pid $!
t_wait "the server listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

while IFS= read -r line; do
    case $line in
    "ok - "*) t_pass "${line#ok - }" ;;
    "not ok - "*) t_fail "${line#not ok - }" ;;
    *) echo "# client: $line" ;;
    esac
done < <($H_PYTHON "$HERE/msieve_penalty.py" "$PORT" 2>&1)
log=$(cat "$H_DIR/ms.log")
t_match "a delay is logged with source and account" \
    'login for alice@a.example delayed 4000 ms after failed logins \([0-9]+ from this source' "$log"
t_match "failed logins are logged with the account" \
    'login failed for alice@a.example \(failures: 1 from this source, 1 for this account\)' "$log"
t_match "a refused parallel attempt is logged" 'is waiting out a penalty' "$log"
[ "$H_T_FAIL" -gt 0 ] && sed 's/^/# ms: /' "$H_DIR/ms.log"
t_summary
