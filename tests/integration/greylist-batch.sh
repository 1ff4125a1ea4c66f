#!/bin/bash
# greylist-batch.sh - the greylisting writer of postern-policyd
# (policyd/greycache.c) writes each batch as one transaction, run again as
# a whole after a deadlock, never committed in part; and one change the
# database refuses does not keep the rest of its batch out forever.
#
# 1. A real deadlock in the middle of a batch: triplet B passes, so its
#    batch updates the triplet and then the client network's row, which an
#    admin session holds; the admin, holding more locks, then asks for the
#    triplet's row: InnoDB rolls the batch back as the victim.  After the
#    admin commits, both rows must carry the pass (the batch ran again),
#    never the client network's row alone (one statement re-run on its own).
# 2. A poisoned change (a trigger refuses one sender) in a batch with a
#    good one: the good one is written, the bad one logged and dropped.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
h_sql "UPDATE greylist_settings SET delay_seconds = 2, retry_window_seconds = 600,
  expiry_seconds = 3600, auto_whitelist_after = 0 WHERE domain IS NULL;
INSERT INTO domains (name, kind) VALUES ('d.example', 'local');
CREATE TABLE heavy (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB;
INSERT INTO heavy SELECT seq, 0 FROM seq_1_to_50;" || { t_fail "fixture"; t_summary; exit 1; }

PORT=$(h_free_port)
cat > "$H_DIR/p.conf" <<CONF
[policyd]
listen = inet:127.0.0.1:$PORT
workers = 2
poll_interval = 100ms
checks = greylist
greylist_cache_ttl = 0
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
connect_timeout = 1s
query_timeout = 20s
retry_interval = 100ms
CONF
"$BUILD/postern-policyd" -f -c "$H_DIR/p.conf" 2> "$H_DIR/p.log" &
h_track_pid $!
PC="$(dirname "$0")/policy_client.py"
up() { [ "$(python3 "$PC" "$PORT" protocol_state=CONNECT 2>/dev/null)" = DUNNO ]; }
t_wait "policyd answers" 10 up
req() { # req CLIENT SENDER INSTANCE: one RCPT request, as on one connection
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n'
    printf 'client_address=%s\nclient_name=unknown\nhelo_name=h.example\n' "$1"
    printf 'sender=%s\nrecipient=r@d.example\ninstance=%s\n\n' "$2" "$3"
}
rows() { h_sql "SELECT COUNT(*) FROM greylist_triplets WHERE sender = '$1'"; }
# is SQL VALUE: the query's answer is VALUE now (t_wait runs it again)
is() { [ "$(h_sql "$1")" = "$2" ]; }
written() { is "SELECT COUNT(*) FROM greylist_triplets WHERE sender = '$1'" 1; }

# --- 1. a deadlock in the middle of a batch ------------------------------------
t_match "B: first sight" '^DEFER_IF_PERMIT ' \
    "$(python3 "$PC" "$PORT" client_address=192.0.2.20 sender=b@example.net recipient=r@d.example instance=b0)"
t_wait "B is in the database" 5 written b@example.net
h_sql "UPDATE greylist_triplets SET first_seen = first_seen - 100 WHERE sender = 'b@example.net'"
sleep 1.1 # older than greylist_cache_ttl = 0
# the admin locks rows by primary key only (a scan would lock every row)
net=$(h_sql "SELECT client_net FROM greylist_triplets WHERE sender = 'b@example.net'")
t_eq "B's client network" "192.0.2.0/24" "$net"
HASH_B="UNHEX(SHA2(CONCAT_WS(' ', '$net', 'b@example.net', 'r@d.example'), 256))"

# B passes: its batch is "UPDATE the triplet; INSERT .. ON DUPLICATE KEY
# UPDATE the client network".  The admin (heavier: 50 rows) holds the
# client network's row, so the batch waits there holding the triplet's row;
# then the admin asks for the triplet's row: deadlock, the batch is the
# victim and InnoDB rolls all of it back.
mkfifo "$H_DIR/admin.in"
mariadb --no-defaults -S "$H_DB_SOCKET" -uroot postern < "$H_DIR/admin.in" \
    > "$H_DIR/admin.out" 2>&1 &
ADMIN=$!
exec 3> "$H_DIR/admin.in"
echo "SET SESSION innodb_lock_wait_timeout = 20; START TRANSACTION;
UPDATE heavy SET n = n + 1;
INSERT INTO greylist_clients (client_net, first_seen, last_seen, pass_count) VALUES ('$net', 1, 1, 0);" >&3
sleep 0.5
t_match "B: after the delay, passes" '^PREPEND X-Greylist' \
    "$(python3 "$PC" "$PORT" client_address=192.0.2.20 sender=b@example.net recipient=r@d.example instance=b1)"
lockwait() {
    [ "$(h_sql "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")" -ge 1 ]
}
t_wait "the writer's batch (triplet updated) waits for the admin's lock" 5 lockwait
echo "UPDATE greylist_triplets SET block_count = block_count + 1 WHERE triplet_hash = $HASH_B;" >&3
sleep 0.5
echo "COMMIT;" >&3
exec 3>&-
wait $ADMIN
status=$(h_sql "SHOW ENGINE INNODB STATUS")
t_match "a deadlock happened" 'LATEST DETECTED DEADLOCK' "$status"
t_wait "the client network's pass is written" 5 \
    is "SELECT pass_count FROM greylist_clients WHERE client_net = '$net'" 1
t_eq "... and the triplet's pass, from the same batch, too: the batch ran again whole" \
    "1 1" "$(h_sql "SELECT pass_count, passed_at IS NOT NULL FROM greylist_triplets WHERE sender = 'b@example.net'" | tr '\t' ' ')"

# --- 2. one refused change does not hold up its batch ---------------------------
h_sql "CREATE TRIGGER poison BEFORE INSERT ON greylist_triplets FOR EACH ROW
  SET NEW.sender = IF(NEW.sender = 'poison@example.net', NULL, NEW.sender)"
{ req 192.0.2.40 poison@example.net p1; req 192.0.2.41 good@example.net g1; } > "$H_DIR/pg.req"
out=$(python3 "$PC" "$PORT" --raw "$H_DIR/pg.req")
t_eq "both first sights are deferred" 2 "$(grep -c '^action=DEFER_IF_PERMIT ' <<< "$out")"
t_wait "the good change of the batch is written" 5 written good@example.net
t_eq "the refused one is not" 0 "$(rows poison@example.net)"
t_wait "... and is logged as dropped" 3 grep -q 'dropped a state change for client .*poison@example.net' "$H_DIR/p.log"
{ req 192.0.2.42 later@example.net l1; } > "$H_DIR/l.req"
python3 "$PC" "$PORT" --raw "$H_DIR/l.req" > /dev/null
t_wait "later batches are written as usual" 5 written later@example.net
if [ "$H_T_FAIL" -gt 0 ]; then
    sed 's/^/# policyd: /' "$H_DIR/p.log"
    h_sql "SELECT id, command, time, state, info FROM information_schema.processlist; SELECT trx_mysql_thread_id, trx_state, trx_started, trx_query FROM information_schema.innodb_trx; SELECT sender, first_seen FROM greylist_triplets" | sed 's/^/# db: /'
fi
t_summary
