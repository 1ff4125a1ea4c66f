#!/bin/bash
# tests/run: alone
# deb.sh - the Debian package (debian/): a copy of the tree builds with
# `dpkg-buildpackage -b -us -uc`, lintian reports no error, `dpkg -i`
# installs it on this machine (system user postern, /etc/postern/postern.conf
# 0640 root:postern, units installed but not enabled, man pages), every
# daemon's -t accepts the installed configuration, the installed migrate
# script builds the schema in the harness MariaDB, every installed daemon
# starts (-f, no systemd here) and stops on SIGTERM with exit 0, and
# `dpkg --purge` leaves none of the package's files behind.
#
# It installs into /usr of this machine: the package is purged at the end
# and from the EXIT trap, and one run at a time holds /tmp/postern-deb.lock
# (other suites use the BUILD binaries, never /usr).  About 3 minutes on 2
# cores, most of it the compile.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init

for t in dpkg-buildpackage dh lintian; do
    if ! command -v "$t" >/dev/null; then
        t_fail "$t installed (scripts/deps: dpkg-dev, debhelper, lintian)"
        t_summary; exit 1
    fi
done

DEBLOCK=/tmp/postern-deb.lock
exec 9> "$DEBLOCK"
flock -w 600 9 || { t_fail "lock $DEBLOCK"; t_summary; exit 1; }

# a postern package this run installed is purged whatever happens
INSTALLED=0
deb_cleanup() {
    if [ "$INSTALLED" = 1 ] && pkg_present; then
        dpkg --purge postern >/dev/null 2>&1
    fi
}
trap 'deb_rc=$?; deb_cleanup; (exit $deb_rc); h__on_exit' EXIT

# pkg_present: dpkg has postern installed, half-installed or its conffiles
pkg_present() {
    local st
    st=$(dpkg-query -W -f='${Status}' postern 2>/dev/null) || return 1
    [ -n "$st" ] && [[ $st != *not-installed ]]
}
# a package still present while we hold the lock is left over from a run
# that was killed (SIGKILL skips the trap): purge it first
if pkg_present; then
    h_log "purging a postern package left over from an earlier run"
    dpkg --purge postern >/dev/null 2>&1
fi
t_not "no postern package installed before the test" pkg_present

# --- build ------------------------------------------------------------------
SRC=$H_DIR/src/postern
mkdir -p "$SRC"
tar -C . --exclude='./build*' --exclude='./.git' --exclude='./debian/build' \
    --exclude='./debian/postern' --exclude='./debian/.debhelper' -cf - . |
    tar -C "$SRC" -xf -
start=$(date +%s)
# noddebs: no -dbgsym package (saves its stripping and packing here);
# parallel: debian/rules builds with make -jN
(cd "$SRC" && DEB_BUILD_OPTIONS="noddebs parallel=$(nproc)" dpkg-buildpackage -b -us -uc) > "$H_DIR/build.log" 2>&1
rc=$?
t_eq "dpkg-buildpackage -b -us -uc exits 0 ($(( $(date +%s) - start ))s)" 0 "$rc"
[ "$rc" = 0 ] || { tail -n 30 "$H_DIR/build.log"; t_summary; exit 1; }
DEB=$(ls "$H_DIR"/src/postern_*_*.deb 2>/dev/null | head -n 1)
t_ok "postern_VERSION_ARCH.deb built" test -s "$DEB"
version=$(sed -n 's/^#define POSTERN_VERSION "\(.*\)"$/\1/p' lib/version.h)
t_eq "package version is lib/version.h's" "$version" "$(dpkg-deb -f "$DEB" Version)"

start=$(date +%s)
lintian_out=$(lintian "$H_DIR"/src/postern_*.changes 2>&1)
errors=$(grep '^E:' <<< "$lintian_out")
t_eq "lintian: no errors ($(( $(date +%s) - start ))s)" "" "$errors"
w=$(grep -c '^W:' <<< "$lintian_out")
[ "$w" = 0 ] || { h_log "lintian warnings:"; grep '^W:' <<< "$lintian_out" >&2; }

# --- install ----------------------------------------------------------------
INSTALLED=1
start=$(date +%s)
out=$(dpkg -i "$DEB" 2>&1); rc=$?
t_eq "dpkg -i exits 0 ($(( $(date +%s) - start ))s)" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | tail -n 20
for b in postern postern-maps postern-policyd postern-milter postern-lda \
         postern-managesieve postern-dirsync postern-forward postern-sieve postern-sieve-test \
         postern-postconf; do
    t_ok "/usr/sbin/$b installed" test -x "/usr/sbin/$b"
done
t_ok "the LDAP module postern-lda loads on demand is installed" \
    test -s /usr/lib/postern/postern-ldap.so
t_ok "... and postern-lda finds it (-t with [lda] ldap = yes)" \
    sh -c 'printf "[lda]\nldap = yes\n" > /tmp/postern-deb-lda.conf &&
           /usr/sbin/postern-lda -c /tmp/postern-deb-lda.conf -t; rc=$?;
           rm -f /tmp/postern-deb-lda.conf; exit $rc'
t_ok "system user postern" getent passwd postern
t_ok "system group postern" getent group postern
t_eq "/etc/postern/postern.conf is 640 root:postern" "640 root:postern" \
    "$(stat -c '%a %U:%G' /etc/postern/postern.conf 2>&1)"
t_ok "postern.conf is a conffile" grep -qx ' /etc/postern/postern.conf [0-9a-f]*' \
    <<< "$(dpkg-query -W -f='${Conffiles}\n' postern)"
t_ok "the daemons drop to the user postern" grep -qx 'user = postern' /etc/postern/postern.conf
t_not "... not to nobody" grep -qx 'user = nobody' /etc/postern/postern.conf
for u in maps policyd milter lda managesieve dirsync; do
    t_ok "unit postern-$u.service installed" test -s "/lib/systemd/system/postern-$u.service"
    t_not "postern-$u.service not enabled on installation" \
        test -e "/etc/systemd/system/multi-user.target.wants/postern-$u.service"
done
t_match "the units start the installed binaries" 'ExecStart=/usr/sbin/postern-maps ' \
    "$(cat /lib/systemd/system/postern-maps.service)"
for m in postern.8 postern.conf.5 postern-maps.8 postern-lda.8 postern-sieve.1; do
    t_ok "man page $m installed" man -w "${m%.*}"
done
t_ok "/run/postern exists (tmpfiles.d)" test -d /run/postern

# --- -t on the installed configuration --------------------------------------
for d in maps policyd milter lda managesieve dirsync; do
    out=$("/usr/sbin/postern-$d" -t 2>&1); rc=$?
    t_eq "postern-$d -t accepts /etc/postern/postern.conf" 0 "$rc"
    [ "$rc" = 0 ] || echo "$out" | tail -n 3
done
t_eq "postern -V is the package version" "postern $version" "$(/usr/sbin/postern -V 2>&1)"

# --- migrate ----------------------------------------------------------------
h_start_mariadb
h_start_slapd
t_ok "the installed migrate script builds the schema" \
    /usr/share/postern/sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
t_eq "... every migration recorded" \
    "$(ls /usr/share/postern/sql/migrations | wc -l)" "$(h_sql 'SELECT COUNT(*) FROM schema_version')"

# --- start and stop each daemon ----------------------------------------------
PM=$(h_free_port); PP=$(h_free_port); PMI=$(h_free_port); PL=$(h_free_port)
PS=$(h_free_port)
mkdir -p "$H_DIR/mail"
C=$H_DIR/run.conf
cat > "$C" <<EOF
[database]
hosts = 127.0.0.1:$H_DB_PORT
password_file = $H_DB_PASSWORD_FILE
[ldap]
uri = $H_LDAP_URI
base = $H_LDAP_BASE
[maps]
listen = inet:127.0.0.1:$PM
user = postern
[policyd]
listen = inet:127.0.0.1:$PP
user = postern
[milter]
listen = inet:127.0.0.1:$PMI
user = postern
[lda]
listen = inet:127.0.0.1:$PL
mail_root = $H_DIR/mail
[managesieve]
listen = inet:127.0.0.1:$PS
require_tls = no
auth = sql
mail_root = $H_DIR/mail
[directory]
retry_interval = 500ms
EOF
chmod 644 "$C"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# run NAME PORT|- ARGS...: start, wait until it serves, SIGTERM, exit 0
run() {
    local name=$1 port=$2 pid rc
    shift 2
    "/usr/sbin/postern-$name" "$@" -f -c "$C" 2> "$H_DIR/$name.log" &
    pid=$!
    h_track_pid $pid
    if [ "$port" = - ]; then
        t_wait "postern-$name started" 15 grep -q 'started' "$H_DIR/$name.log"
    else
        t_wait "postern-$name listens" 15 port_open "$port"
    fi
    kill -TERM $pid
    wait $pid; rc=$?
    t_eq "postern-$name stops on SIGTERM (exit 0)" 0 "$rc"
    [ "$rc" = 0 ] || tail -n 5 "$H_DIR/$name.log"
}
run maps "$PM"
run policyd "$PP"
run milter "$PMI"
run lda "$PL" --lmtp
run managesieve "$PS"
run dirsync -

# --- purge -------------------------------------------------------------------
files=$(dpkg-query -L postern 2>/dev/null)
out=$(dpkg --purge postern 2>&1); rc=$?
t_eq "dpkg --purge exits 0" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | tail -n 10
INSTALLED=0
left=""
while read -r f; do
    [ -n "$f" ] || continue
    if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
    case $f in
        /etc/postern|/usr/share/postern|/usr/share/doc/postern)
            [ -e "$f" ] && left="$left $f" ;;
    esac
done <<< "$files"
[ -e /run/postern ] && left="$left /run/postern"
t_eq "dpkg --purge leaves none of the package's files" "" "$left"
t_not "the package is gone" pkg_present
t_summary
