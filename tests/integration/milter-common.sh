# milter-common.sh - helpers shared by the postern-milter integration tests
# (sourced, not executable, so tests/run does not run it by itself).
# Needs harness.sh sourced and h_init done.  Sets MILTER, MPORT, MDIR.
#
#   milter_conf FILE [LINE...]      write a configuration (extra [milter] lines)
#   start_milter CONF; t_ok .. milter_up
#   start_auth                      Dovecot-protocol SASL server -> AUTH_PORT
#   start_group_stack               MariaDB with the schema, slapd, the
#                                   smarthost sink and start_auth (exits
#                                   the test if the SASL server fails)
#   send FROM TO...                 through Postfix; reply line in $r
#   send_auth LOGIN FROM TO...      the same after AUTH PLAIN LOGIN:test
#   (the client writes From: <envelope sender> into the message)
#   rcpts                           RCPT lines of the newest sink message
BUILD=${BUILD:-build}
MILTER=${MILTER:-$PWD/$BUILD/postern-milter}
MPORT=$(h_free_port)
MDIR=$H_DIR/milter
mkdir -p "$MDIR"
chmod 755 "$MDIR"
MPID=
LDAP_EXTRA=()

milter_conf() {
    local f=$1
    shift
    {
        echo "[milter]"
        echo "listen = inet:127.0.0.1:$MPORT"
        echo "user = nobody"
        echo "connections = 4"
        for l in "$@"; do echo "$l"; done
        echo "[ldap]"
        echo "uri = ldap://127.0.0.1:1, $H_LDAP_URI"
        echo "base = $H_LDAP_BASE"
        echo "connect_timeout = 1s"
        echo "query_timeout = 2s"
        echo "retry_interval = 0"
        echo "cache_ttl = 0"
        for l in "${LDAP_EXTRA[@]+"${LDAP_EXTRA[@]}"}"; do echo "$l"; done
        echo "[database]"
        echo "hosts = 127.0.0.1:${H_DB_PORT:-3306}"
        echo "password_file = ${H_DB_PASSWORD_FILE:-}"
        echo "retry_interval = 0"
        echo "connect_timeout = 1s"
    } > "$f"
}

milter_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null; }
start_milter() {
    "$MILTER" -f -c "$1" </dev/null >> "$MDIR/milter.log" 2>&1 &
    MPID=$!
    h_track_pid "$MPID"
}
milter_up() { h_wait_for 10 milter_port_open; }
stop_milter() {
    kill -TERM "$MPID" 2>/dev/null
    wait "$MPID"
}

AUTH_PORT=
start_auth() {
    local pf=$MDIR/auth.port pid
    rm -f "$pf"
    "$H_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/milter-auth.py" --port-file "$pf" \
        </dev/null >>"$MDIR/auth.log" 2>&1 &
    pid=$!
    h_track_pid "$pid"
    h_wait_for 10 test -s "$pf" || return 1
    AUTH_PORT=$(cat "$pf")
}

start_group_stack() {
    h_start_mariadb
    h_sql_file sql/schema.sql
    h_start_slapd
    h_start_smtp_sink smarthost
    start_auth || { t_fail "the SASL test server starts"; t_summary; exit 1; }
}

n=0
send() {
    local from=$1 args=()
    shift
    for t in "$@"; do args+=(--to "$t"); done
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --from "$from" "${args[@]}" \
        --subject "test $n")
}
send_auth() {
    local login=$1 from=$2 args=()
    shift 2
    for t in "$@"; do args+=(--to "$t"); done
    r=$(h_smtp --port "$H_PF_SMTP_PORT" --auth "$login:test" --from "$from" \
        "${args[@]}" --subject "test $n")
}
rcpts() {
    sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' "$(h_sink_last smarthost env)" | sort | tr '\n' ' '
}
