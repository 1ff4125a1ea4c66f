# shellcheck shell=bash
# tests/harness/galera.sh - a private MariaDB Galera cluster on 127.0.0.1,
# with the real replication engine (Debian galera-4,
# /usr/lib/galera/libgalera_smm.so).  Source it after harness.sh:
#
#     . "$(dirname "$0")/../harness/harness.sh"
#     . "$(dirname "$0")/../harness/galera.sh"
#     h_init
#     h_start_galera 3             # nodes g1 g2 g3, database/user postern
#     h_sql_on g2 "SELECT 1"       # the harness's MariaDB functions work per node
#     h_kill_mariadb g1            # kill -9 a node
#     h_galera_restart_node g1     # it rejoins (IST, or SST with rsync)
#     h_galera_size g2             # wsrep_cluster_size as node g2 sees it
#
# Every node is a harness MariaDB instance named gN: it exports H_GN_HOST,
# H_GN_PORT, H_GN_SOCKET, H_GN_NAME, H_GN_USER, H_GN_PASSWORD_FILE,
# H_GN_PID, so h_sql_on gN, h_stop_mariadb gN, h_kill_mariadb gN and the
# teardown work as for h_start_mariadb.  Per node there are four ports:
# the SQL port, the group communication port (gmcast.listen_addr), the IST
# receive port (ist.recv_addr) and the SST receive port (rsync).  Also
# exported: H_GALERA_NODES (the count) and H_GALERA_HOSTS
# ("127.0.0.1:P1, 127.0.0.1:P2, ..." for [database] hosts).
#
# The cluster is kept small for a shared 2-core machine: 32M buffer pool,
# 32M gcache, no performance schema, innodb_flush_log_at_trx_commit = 2
# (a node's own crash may lose its last second; the cluster has the
# writesets, so a rejoining node gets them back by IST).  Failure detection
# is faster than Galera's defaults (a killed node is evicted after about
# 2 s, not 5 s): evs.suspect_timeout PT2S, evs.inactive_timeout PT4S.
#
# SST is rsync (the rsync package; wsrep_sst_rsync runs an rsync daemon on
# the joiner's SST port); everything stays on 127.0.0.1.  The nodes run as
# the mysql user (an rsync daemon started by root would drop to nobody and
# could not write the datadir): each node's directory belongs to mysql.
#
# Limits: one cluster per test run; start and stop in the test's own shell
# (as every harness function).

H_GALERA_PROVIDER=${H_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
H_GALERA_NODES=0
H_GALERA_HOSTS=""
H_GALERA_CLUSTER=""   # gcomm://127.0.0.1:G1,127.0.0.1:G2,...

# h__galera_launch NAME [--wsrep-new-cluster] - start node NAME's mariadbd
# and wait until it is Synced (60 s bound: an SST on a loaded machine).
h__galera_launch() {
    local name=$1 d="$H_DIR/mariadb-$1" port gport iport sport pid n state
    shift
    port=$(h__mdb_get "$name" PORT)
    gport=$(h__mdb_get "$name" GPORT)
    iport=$(h__mdb_get "$name" IPORT)
    sport=$(h__mdb_get "$name" SPORT)
    mariadbd --no-defaults --datadir="$d/data" --socket="$d/mysqld.sock" \
        --port="$port" --bind-address=127.0.0.1 --user=mysql \
        --tmpdir="$d/tmp" \
        --log-error="$d/error.log" --pid-file="$d/mysqld.pid" \
        --innodb-log-file-size=8M --innodb-buffer-pool-size=32M \
        --innodb-flush-log-at-trx-commit=2 --innodb-autoinc-lock-mode=2 \
        --performance-schema=OFF --skip-name-resolve --max-connections=300 \
        --binlog-format=ROW --default-storage-engine=InnoDB \
        --wsrep-on=ON --wsrep-provider="$H_GALERA_PROVIDER" \
        --wsrep-cluster-name=postern-test \
        --wsrep-cluster-address="$H_GALERA_CLUSTER" \
        --wsrep-node-name="$name" \
        --wsrep-node-address="127.0.0.1:$gport" \
        --wsrep-node-incoming-address="127.0.0.1:$port" \
        --wsrep-sst-method=rsync \
        --wsrep-sst-receive-address="127.0.0.1:$sport" \
        --wsrep-slave-threads=2 \
        --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$gport;ist.recv_addr=127.0.0.1:$iport;gcache.size=32M;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S;evs.keepalive_period=PT0.5S;evs.install_timeout=PT4S" \
        "$@" </dev/null >>"$d/stdout.log" 2>&1 &
    pid=$!
    h__mdb_set "$name" PID "$pid"
    n=600   # 60 s
    while [ "$n" -gt 0 ]; do
        if ! h__alive "$pid"; then
            wait "$pid" 2>/dev/null || true
            h__fatal "galera node '$name' died during start" "$d/error.log"
            return 1
        fi
        state=$(mariadb --no-defaults -uroot --socket="$d/mysqld.sock" \
                    --connect-timeout=1 -N -B -e \
                    "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null)
        if [ "${state#*	}" = Synced ] && h__port_open 127.0.0.1 "$port"; then
            return 0
        fi
        sleep 0.2
        n=$((n - 2))
    done
    h__fatal "galera node '$name' not Synced within 60 s (port $port)" "$d/error.log"
}

# h_start_galera [N] - a cluster of N nodes (default 3) named g1..gN: g1
# bootstraps, the others join by SST; then database postern and user
# postern (password H_DB_PASSWORD, at localhost and 127.0.0.1) are created
# through g1 and replicate.
h_start_galera() {
    local n=${1:-3} i name d tmpl="$H_DIR/galera-template" addrs=() hosts=()
    if [ ! -r "$H_GALERA_PROVIDER" ]; then
        h__fatal "no Galera provider at $H_GALERA_PROVIDER (Debian package galera-4)"
        return 1
    fi
    command -v rsync >/dev/null || { h__fatal "rsync is needed for SST"; return 1; }
    # a private tmpdir: a stale /tmp/#sql-temptable-PID-* of another
    # process (root's, pid reused) makes the install fail as mysql
    mkdir -p "$H_DIR/galera-tmp"
    chown mysql:mysql "$H_DIR/galera-tmp"
    if ! mariadb-install-db --no-defaults --datadir="$tmpl" --user=mysql \
            --tmpdir="$H_DIR/galera-tmp" \
            --auth-root-authentication-method=normal --skip-test-db \
            --innodb-log-file-size=8M >"$H_DIR/galera-install.log" 2>&1; then
        h__fatal "mariadb-install-db failed" "$H_DIR/galera-install.log"
        return 1
    fi
    for i in $(seq 1 "$n"); do
        name=g$i
        d="$H_DIR/mariadb-$name"
        mkdir -p "$d/tmp"
        cp -a "$tmpl" "$d/data"
        chown mysql:mysql "$d" "$d/tmp"
        h__mdb_set "$name" HOST 127.0.0.1
        h__mdb_set "$name" PORT "$(h_free_port)" || return 1
        h__mdb_set "$name" GPORT "$(h_free_port)" || return 1
        h__mdb_set "$name" IPORT "$(h_free_port)" || return 1
        h__mdb_set "$name" SPORT "$(h_free_port)" || return 1
        h__mdb_set "$name" SOCKET "$d/mysqld.sock"
        h__mdb_set "$name" NAME postern
        h__mdb_set "$name" USER postern
        printf '%s\n' "$H_DB_PASSWORD" > "$d/password"
        chmod 600 "$d/password"
        h__mdb_set "$name" PASSWORD_FILE "$d/password"
        addrs+=("127.0.0.1:$(h__mdb_get "$name" GPORT)")
        hosts+=("127.0.0.1:$(h__mdb_get "$name" PORT)")
    done
    rm -rf "${tmpl:?}"
    H_GALERA_CLUSTER="gcomm://$(IFS=,; echo "${addrs[*]}")"
    H_GALERA_NODES=$n
    H_GALERA_HOSTS=$(printf '%s, ' "${hosts[@]}")
    H_GALERA_HOSTS=${H_GALERA_HOSTS%, }
    export H_GALERA_NODES H_GALERA_HOSTS
    for i in $(seq 1 "$n"); do
        name=g$i
        h__svc_add "mariadb:$name"
        if [ "$i" = 1 ]; then
            h__galera_launch "$name" --wsrep-new-cluster || return 1
            if ! mariadb --no-defaults -uroot --socket="$(h__mdb_get g1 SOCKET)" \
                    >"$H_DIR/mariadb-g1/setup.log" 2>&1 <<EOF
CREATE DATABASE postern CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'postern'@'localhost' IDENTIFIED BY '$H_DB_PASSWORD';
CREATE USER 'postern'@'127.0.0.1' IDENTIFIED BY '$H_DB_PASSWORD';
GRANT ALL PRIVILEGES ON postern.* TO 'postern'@'localhost';
GRANT ALL PRIVILEGES ON postern.* TO 'postern'@'127.0.0.1';
EOF
            then
                h__fatal "creating database/user on g1 failed" "$H_DIR/mariadb-g1/setup.log"
                return 1
            fi
        else
            h__galera_launch "$name" || return 1
        fi
        h_log "galera node '$name' Synced on 127.0.0.1:$(h__mdb_get "$name" PORT) (gcomm $(h__mdb_get "$name" GPORT))"
    done
}

# h_galera_restart_node NAME - start a stopped or killed node again (same
# ports and datadir); it rejoins the running cluster (IST when the donor's
# gcache still holds what it missed, else SST) and is waited for until Synced.
h_galera_restart_node() {
    local name=$1
    [ -n "$(h__mdb_get "$name" GPORT)" ] || { h__err "galera node '$name' was never started"; return 1; }
    h_stop_mariadb "$name"
    h__svc_add "mariadb:$name"
    h__galera_launch "$name" || return 1
    h_log "galera node '$name' rejoined"
}

# h_galera_status NAME VAR - a wsrep status variable as node NAME sees it
# (e.g. wsrep_cluster_size, wsrep_local_state_comment); empty if down
h_galera_status() {
    mariadb --no-defaults -uroot --socket="$(h__mdb_get "$1" SOCKET)" \
        --connect-timeout=1 -N -B -e "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

# h_galera_size NAME - wsrep_cluster_size as node NAME sees it
h_galera_size() { h_galera_status "$1" wsrep_cluster_size; }

# h_galera_size_is NAME N - true when node NAME is Synced in a primary
# component of N nodes (for h_wait_for / t_wait)
h_galera_size_is() {
    [ "$(h_galera_size "$1")" = "$2" ] &&
        [ "$(h_galera_status "$1" wsrep_cluster_status)" = Primary ] &&
        [ "$(h_galera_status "$1" wsrep_local_state_comment)" = Synced ]
}

# ------------------------------------------------------------------ a second Postfix
# h_start_postfix_copy NAME [EXTRA_MAIN_CF_FILE|-] - a second private
# Postfix (a second MX host) made from the harness's instance (call
# h_start_postfix first): the same main.cf and master.cf with its own
# queue, data directory, log and smtpd port, plus extra main.cf settings
# (applied with postconf -e, like h_start_postfix's).  Exports
# H_PF_<NAME>_CONF, H_PF_<NAME>_SMTP_PORT, H_PF_<NAME>_LOG,
# H_PF_<NAME>_QUEUE (<NAME> upper-cased); the teardown stops it through
# its master process.
h_start_postfix_copy() {
    local name=$1 extra=${2:-} up d port settings=() pid out
    h__check_name "$name" || return 1
    up=$(h__upper "$name")
    d="$H_DIR/postfix-$name"
    [ -f "${H_PF_CONF:-}/main.cf" ] || { h__fatal "h_start_postfix_copy needs h_start_postfix first"; return 1; }
    mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/log"
    chown root:root "$d/etc" "$d/spool"
    chmod 755 "$d" "$d/etc" "$d/spool" "$d/log"
    chown postfix:postfix "$d/data"
    chmod 700 "$d/data"
    port=$(h_free_port) || { h__fatal "no free port"; return 1; }
    cp "$H_PF_CONF/main.cf" "$d/etc/main.cf"
    sed -e "s/^127\.0\.0\.1:$H_PF_SMTP_PORT inet/127.0.0.1:$port inet/" \
        -e "/^\[::1\]:$H_PF_SMTP_PORT inet/d" \
        "$H_PF_CONF/master.cf" > "$d/etc/master.cf"
    settings=("queue_directory = $d/spool" "data_directory = $d/data"
              "maillog_file_prefixes = $d/log" "maillog_file = $d/log/maillog")
    if [ -n "$extra" ]; then
        if [ "$extra" = - ]; then cat > "$d/etc/main.cf.extra"; else cat "$extra" > "$d/etc/main.cf.extra"; fi
        if ! h__cf_settings "$d/etc/main.cf.extra" > "$d/etc/main.cf.extra.nul" 2>"$d/log/postconf.err"; then
            h__fatal "bad extra main.cf lines" "$d/log/postconf.err"
            return 1
        fi
        mapfile -d '' -O "${#settings[@]}" settings < "$d/etc/main.cf.extra.nul"
        rm -f "$d/etc/main.cf.extra.nul"
    fi
    if ! postconf -c "$d/etc" -e "${settings[@]}" 2>"$d/log/postconf.err"; then
        h__fatal "postconf -e for postfix '$name' failed" "$d/log/postconf.err"
        return 1
    fi
    : > "$d/log/maillog"
    touch -d '-1 min' "$d/etc/main.cf" "$d/etc/master.cf"
    printf -v "H_PF_${up}_CONF" '%s' "$d/etc"
    printf -v "H_PF_${up}_SMTP_PORT" '%s' "$port"
    printf -v "H_PF_${up}_LOG" '%s' "$d/log/maillog"
    printf -v "H_PF_${up}_QUEUE" '%s' "$d/spool"
    export "H_PF_${up}_CONF" "H_PF_${up}_SMTP_PORT" "H_PF_${up}_LOG" "H_PF_${up}_QUEUE"
    if ! out=$(script -qec "postfix -c '$d/etc' start" /dev/null 2>&1); then
        printf '%s\n' "$out" > "$d/log/start.out"
        cat "$d/log/maillog" >> "$d/log/start.out" 2>/dev/null
        h__fatal "postfix '$name' start failed" "$d/log/start.out"
        return 1
    fi
    pid=$(tr -d ' \n' < "$d/spool/pid/master.pid" 2>/dev/null)
    [ -n "$pid" ] && h_track_pid "$pid"
    if ! h_wait_for 20 h__smtp_banner 127.0.0.1 "$port"; then
        h__fatal "postfix '$name' does not greet on 127.0.0.1:$port within 20 s" "$d/log/maillog"
        return 1
    fi
    h_log "postfix '$name' smtpd on 127.0.0.1:$port, config $d/etc"
}

# h_queue_count_of QUEUE_DIR - messages in that Postfix queue (as h_queue_count)
h_queue_count_of() {
    find "$1/maildrop" "$1/incoming" "$1/active" "$1/deferred" -type f 2>/dev/null | wc -l
}
