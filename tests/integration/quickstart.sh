#!/bin/bash
# tests/run: alone
# quickstart.sh - issue 14, "the first hour": the Quick start of README.md,
# run as it stands.  The shell blocks under "## Quick start" are extracted
# from README.md (so README and test cannot drift) and run as one script
# with `set -e`, as root, with only what the harness must change:
#   - `make install` goes to DESTDIR=$Q (a private root), and the paths the
#     blocks name below /usr/local, /etc/postern, /var/mail/postern and
#     /run/postern are those below $Q;
#   - mariadb and migrate talk to the harness MariaDB (socket, root);
#   - Postfix commands get the private instance (-c/-C $H_PF_CONF);
#   - postern's ports are free ones (10031, 10040, 10027 may be taken);
#   - after `cp ... postern.conf`, the copy is pointed at those ports and
#     paths, at the harness slapd, and SPF/DKIM verification of the milter
#     are switched off (no DNS traffic leaves the machine);
#   - `ls` of the Maildir waits until the message is there.
# (adduser lines run unchanged: the users' home is not used.)
# The system users postern and vmail are created for real (adduser
# --system), as the Quick start does; they stay.
# Before 2026-12-05 the Quick start made no database user, password file,
# vmail user or mail store, and pipe(8) deferred every message with
# "4.3.0 database not available".
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
ROOT_DIR=$(pwd)
h_init
h_start_mariadb
h_start_slapd
# Debian's postinst sets mydestination like this for an Internet Site
h_start_postfix - <<'EOF'
mydestination = $myhostname, localhost
EOF
Q=$H_DIR/root
mkdir -p "$Q/run" # /run exists on every machine; the daemons make /run/postern
chmod 755 "$Q" "$Q/run"
PM=$(h_free_port); PP=$(h_free_port); PMI=$(h_free_port)
DBO="--no-defaults --socket=$H_DB_SOCKET -uroot"
# a fresh MariaDB: no postern database or user yet
mariadb $DBO -e "DROP DATABASE postern; DROP USER 'postern'@'localhost', 'postern'@'127.0.0.1'"

# --- the blocks of "## Quick start"
awk '/^## Quick start/{q=1; next} /^## /{q=0} q' README.md > "$H_DIR/qs.md"
awk '/^```sh$/{b=1; next} /^```$/{b=0; next} b' "$H_DIR/qs.md" > "$H_DIR/qs-literal.sh"
t_ok "README.md has a Quick start with shell blocks" test -s "$H_DIR/qs-literal.sh"
t_ok "... with the admin command: a mailbox, an alias, explain, the audit log" \
    grep -q '^postern explain ' "$H_DIR/qs-literal.sh"

CONFPATCH="sed -i -e 's|127.0.0.1:3306|127.0.0.1:$H_DB_PORT|' \
 -e 's|127.0.0.1:10031|127.0.0.1:$PM|' -e 's|127.0.0.1:10040|127.0.0.1:$PP|' \
 -e 's|127.0.0.1:10027|127.0.0.1:$PMI|' -e 's|^uri = .*|uri = $H_LDAP_URI|' \
 -e 's|/etc/postern/|$Q/etc/postern/|' -e 's|/var/mail/postern|$Q/var/mail/postern|' \
 -e 's|/run/postern/|$Q/run/postern/|' -e 's|^spf = yes|spf = no|' -e 's|^verify = yes|verify = no|' \
 $Q/etc/postern/postern.conf"
sed -E \
    -e "s#^make && make install PREFIX=/usr/local#make --no-print-directory BUILD=$BUILD >/dev/null \\&\\& make --no-print-directory BUILD=$BUILD install PREFIX=/usr/local DESTDIR=$Q >/dev/null#" \
    -e "/^adduser /!s#/usr/local/#$Q/usr/local/#g" \
    -e "/^adduser /!s#/etc/postern#$Q/etc/postern#g" \
    -e "/^adduser /!s#/var/mail/postern#$Q/var/mail/postern#g" \
    -e "/^adduser /!s#/run/postern#$Q/run/postern#g" \
    -e "s#(^|[[:space:]])mariadb #\\1mariadb $DBO #g" \
    -e "s#/sql/migrate postern#/sql/migrate $DBO postern#" \
    -e "s#(^|[;[:space:]])postern-postconf #\\1postern-postconf -c $H_PF_CONF --maps 127.0.0.1:$PM --policyd 127.0.0.1:$PP --milter 127.0.0.1:$PMI --lda-path $Q/usr/local/sbin/postern-lda --conf $Q/etc/postern/postern.conf #g" \
    -e "s#postfix reload#postfix -c $H_PF_CONF reload#" \
    -e "s#postmap -q#postmap -c $H_PF_CONF -q#" \
    -e "s#^postern #postern -c $Q/etc/postern/postern.conf #" \
    -e "s#\\| sendmail #| sendmail -C $H_PF_CONF #" \
    -e "s#127.0.0.1:10031#127.0.0.1:$PM#g" \
    -e "s#^(cp .*postern.conf.example .*postern.conf.*)\$#\\1\\n$CONFPATCH#" \
    "$H_DIR/qs-literal.sh" > "$H_DIR/qs-body.sh"
{
    echo "set -e -x"
    echo "cd '$ROOT_DIR'"
    echo "export PATH='$Q/usr/local/sbin':\$PATH"
    # ls of the Maildir: wait for the message (delivery is asynchronous)
    # (an unmatched glob arrives as the pattern: expand it again)
    echo 'ls() { for _ in $(seq 100); do compgen -G "$1*" >/dev/null && break; sleep 0.3; done; command ls $1; }'
    cat "$H_DIR/qs-body.sh"
} > "$H_DIR/qs-run.sh"
bash "$H_DIR/qs-run.sh" > "$H_DIR/qs.out" 2>&1
rc=$?
for n in maps policyd milter; do
    p=$(cat "$Q/run/postern/$n.pid" 2>/dev/null) && [ -n "$p" ] && h_track_pid "$p"
done
t_eq "the Quick start runs to its end (set -e)" 0 "$rc"
[ "$rc" = 0 ] || { tail -n 30 "$H_DIR/qs.out" | sed 's/^/# /'; tail -n 20 "$H_PF_LOG" | sed 's/^/# maillog: /'; }

# --- what it made
t_eq "the database user logs in with the password file" 1 \
    "$(mariadb --no-defaults -h127.0.0.1 -P"$H_DB_PORT" -upostern -p"$(cat "$Q/etc/postern/db.secret")" postern -N -B -e 'SELECT 1' 2>&1)"
t_eq "the configuration is 0640 root:postern" "640 root:postern" "$(stat -c '%a %U:%G' "$Q/etc/postern/postern.conf")"
t_eq "the password file is 0640 root:postern" "640 root:postern" "$(stat -c '%a %U:%G' "$Q/etc/postern/db.secret")"
t_ok "the daemons run as postern" sh -c "ps -o user= -p \"\$(cat $Q/run/postern/maps.pid)\" | grep -qx postern"
for n in maps policyd milter; do
    t_ok "postern-$n wrote its pid file" test -s "$Q/run/postern/$n.pid"
done
out=$(postmap -c "$H_PF_CONF" -q info@kunde1.example "socketmap:inet:127.0.0.1:$PM:mailbox" 2>&1)
t_match "the closing postmap -q answers with the sample data: info@kunde1.example's maildir" '^vol01/[0-9a-f]{2}/[0-9a-f]{4}/info@kunde1\.example/$' "$out"
mails=$(find "$Q/var/mail/postern/vol01" -path '*info@kunde1.example/new/*' -type f 2>/dev/null)
t_ok "the first mail is in info@kunde1.example's Maildir" test -n "$mails"
t_match "... with its text" 'the first mail' "$(cat $mails 2>/dev/null)"
t_eq "... owned by vmail" vmail "$(stat -c %U $mails 2>/dev/null | head -n 1)"
t_eq "postern alias add: postern-maps answers the new alias" anna.berg@kunde1.example \
    "$(postmap -c "$H_PF_CONF" -q kontakt@kunde1.example "socketmap:inet:127.0.0.1:$PM:alias" 2>&1)"
t_match "postern explain: the alias leads to the new mailbox" 'alias +kontakt@kunde1\.example +-> anna\.berg@kunde1\.example' "$(cat "$H_DIR/qs.out")"
t_match "... and ends with a verdict (here SPF cannot be asked: no DNS in tests)" '^verdict: [245][0-9][0-9] ' "$(grep '^verdict' "$H_DIR/qs.out")"
t_match "postern audit: the new mailbox is in the audit log" 'mailboxes.*INSERT.*anna.berg@kunde1\.example|anna.berg@kunde1\.example.*INSERT' "$(cat "$H_DIR/qs.out")"
t_eq "Postfix kept the host's mydestination (not emptied by --apply)" \
    'mydestination = $myhostname, localhost' "$(postconf -c "$H_PF_CONF" -n mydestination)"
t_not "... and set no placeholder smarthost" grep -q 'smarthost.provider.example' "$H_PF_CONF/main.cf"
t_ok "--apply wrote nothing to /etc/postfix" test ! -e /etc/postfix/postern_tls_policy

# a reload as the daemons' user, with the installed modes
p=$(cat "$Q/run/postern/maps.pid")
kill -HUP "$p"; sleep 0.5
t_ok "SIGHUP to postern-maps (running as postern, config 0640 root:postern) keeps it up" kill -0 "$p"
for n in maps policyd milter; do
    p=$(cat "$Q/run/postern/$n.pid" 2>/dev/null)
    [ -n "$p" ] && kill -TERM "$p"
done
for n in maps policyd milter; do
    # as postern it may not remove the file from root's /run/postern: emptied
    t_wait "SIGTERM: postern-$n stops and its pid file names no process" 10 \
        sh -c "[ ! -s '$Q/run/postern/$n.pid' ]"
done
t_summary
