# dovecot-common.sh - shared by dovecot-auth.sh and dovecot-quota-clone.sh
# (sourced after the harness, h_init and h_start_mariadb):
#
#   dovecot_lda_conf   $MAIL (the mail root, owned by nobody) and
#                      $H_DIR/lda.conf: postern-lda in pipe mode as nobody
#                      on the harness MariaDB, the password file readable by
#                      its group (as docs/lda.md asks)
#   dovecot_start D DESC [MAIN [SERVICES]]
#                      a private Dovecot (IMAP on $IP, a free loopback port)
#                      with passdb/userdb from $D/dovecot-sql.conf.ext; MAIN
#                      is added to the global settings, SERVICES after the
#                      services; asserts that it starts and listens (DESC
#                      names the check) and tracks its master pid
MAIL=$H_DIR/mail/postern

dovecot_lda_conf() {
    mkdir -p "$MAIL"; chown nobody:nogroup "$MAIL"
    chmod 755 "$H_DIR/mail"
    chgrp nogroup "$H_DB_PASSWORD_FILE"; chmod 640 "$H_DB_PASSWORD_FILE"
    cat > "$H_DIR/lda.conf" <<EOF
[lda]
user = nobody
mail_root = $MAIL
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
EOF
}

dovecot_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dovecot_start() {
    local d=$1 desc=$2 main=${3:-} services=${4:-} pid
    IP=$(h_free_port)
    mkdir -p "$d/run" "$d/state"
    cat > "$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 100
$main
passdb {
  driver = sql
  args = $d/dovecot-sql.conf.ext
}
userdb {
  driver = sql
  args = $d/dovecot-sql.conf.ext
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IP
  }
  inet_listener imaps {
    port = 0
  }
}
$services
service anvil {
  chroot =
}
EOF
    dovecot -c "$d/dovecot.conf" 2> "$d/start.err"
    t_eq "$desc" 0 $?
    [ -s "$d/start.err" ] && sed 's/^/# /' "$d/start.err"
    t_wait "... and listens on 127.0.0.1:$IP" 10 dovecot_port_open "$IP"
    pid=$(cat "$d/run/master.pid" 2>/dev/null)
    [ -n "$pid" ] && h_track_pid "$pid"
}
