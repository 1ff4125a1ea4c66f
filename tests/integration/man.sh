#!/bin/bash
# tests/run: alone
# man.sh - the man pages (man/) are true to the programs:
#   - every program has a page, and `make install` installs them all;
#   - every key that a program's -d prints is in postern.conf(5) under its
#     [section], with the same default (the page writes each key as
#     .B "key = default", or .BI "key = " (empty)), and the page lists no
#     key that no program prints;
#   - every option in a program's usage (-h) appears in its page, and
#     postern(8) names every command of `postern -h`;
#   - `man -l` renders every page without a warning (MANWIDTH=80).
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
h_init

conf5=man/postern.conf.5
DAEMONS="maps policyd milter lda managesieve dirsync forward"

# page PROGRAM -> its page in man/
page_of() {
    local f
    for f in man/"$1".[158]; do [ -e "$f" ] && { echo "$f"; return; }; done
    echo "man/$1.missing"
}

# conf_entries: "section key value" for every key in postern.conf.5
conf_entries() {
    awk '
        /^\.SS "\[[a-z]+\]"/ { s = $2; gsub(/"/, "", s); next }
        /^\.S[HS] / { s = ""; next }
        s != "" && /^\.B "[a-z_]+ =( .*)?"$/ {
            line = $0; sub(/^\.B "/, "", line); sub(/"$/, "", line)
            gsub(/\\:/, "", line); gsub(/\\-/, "-", line); gsub(/\\&/, "", line)
            k = line; sub(/ =.*/, "", k)
            v = line; sub(/^[a-z_]+ =/, "", v); sub(/^ /, "", v)
            print s, k, v; next
        }
        s != "" && /^\.BI "[a-z_]+ = " \(empty\)$/ {
            k = $2; sub(/^"/, "", k); print s, k; next
        }' "$conf5"
}

# defaults_of PROGRAM: "section key value" from its -d
defaults_of() {
    "$BUILD/$1" -d 2>&1 | awk '
        /^\[[a-z]+\]$/ { s = $0; next }
        /^[a-z_]+ =/ {
            k = $1; v = $0; sub(/^[a-z_]+ =/, "", v); sub(/^ /, "", v)
            sub(/ +$/, "", v)
            print s, k, v
        }'
}

CONF=$H_DIR/conf5.txt
conf_entries | sort -u > "$CONF"
t_ok "postern.conf.5 lists keys" test -s "$CONF"
: > "$H_DIR/all-d.txt"
for d in $DAEMONS; do
    out=$(defaults_of "postern-$d")
    t_ok "postern-$d -d prints settings" test -n "$out"
    echo "$out" >> "$H_DIR/all-d.txt"
    missing=""
    while read -r s k v; do
        [ -n "$s" ] || continue
        if ! grep -qxF -- "$s $k${v:+ $v}" "$CONF"; then
            missing="$missing $s $k = $v;"
        fi
    done <<< "$out"
    t_eq "postern-$d -d: every key in postern.conf(5) with its default" "" "$missing"
done
# sections read only by the admin command, which has no -d: their keys as
# admin/audit.c defines them
cat >> "$H_DIR/all-d.txt" <<'EOF2'
[audit] retention 365d
[dmarc] org_name
[dmarc] report_from
[dmarc] sendmail /usr/sbin/sendmail
[dmarc] keep 14d
[quota] report_to
[quota] report_over 90
[quota] report_from
[quota] sendmail /usr/sbin/sendmail
EOF2
while read -r s k v; do
    grep -qxF -- "$s $k${v:+ $v}" "$CONF" || missing_admin="${missing_admin:-} $s $k = $v;"
done <<'EOF2'
[audit] retention 365d
[dmarc] org_name
[dmarc] report_from
[dmarc] sendmail /usr/sbin/sendmail
[dmarc] keep 14d
[quota] report_to
[quota] report_over 90
[quota] report_from
[quota] sendmail /usr/sbin/sendmail
EOF2
t_eq "postern's [audit]: every key in postern.conf(5) with its default" "" "${missing_admin:-}"
stale=""
while read -r s k _; do
    grep -q "^$(printf '%s' "$s" | sed 's/[][]/\\&/g') $k\( \|$\)" "$H_DIR/all-d.txt" || stale="$stale $s $k;"
done < "$CONF"
t_eq "postern.conf(5) lists no key that no program prints" "" "$stale"

# usage_of PROGRAM: its usage text
usage_of() {
    case $1 in
        postern-postconf) scripts/postern-postconf -h 2>&1 ;;
        postern-sieve-test) "$BUILD/$1" 2>&1 ;;
        *) "$BUILD/$1" -h 2>&1 ;;
    esac
}

PROGS="postern postern-maps postern-policyd postern-milter postern-lda
       postern-managesieve postern-dirsync postern-sieve postern-sieve-test
       postern-postconf postern-forward"
for p in $PROGS; do
    f=$(page_of "$p")
    t_ok "$p has a man page" test -f "$f"
    [ -f "$f" ] || continue
    text=$(MANWIDTH=200 LC_ALL=C man -l "$f" 2>/dev/null)
    usage=$(usage_of "$p")
    opts=$(grep -oE '(^|[][ |(])--?[A-Za-z][A-Za-z0-9-]*' <<< "$usage" |
           sed -E 's/^[][ |(]//' | sort -u)
    t_ok "$p: usage names options" test -n "$opts"
    missing=""
    for o in $opts; do
        grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" <<< "$text" || missing="$missing $o"
    done
    t_eq "$p: every option of the usage is in $f" "" "$missing"
done

# postern(8) names every command of `postern -h`
text=$(MANWIDTH=200 LC_ALL=C man -l man/postern.8 2>/dev/null)
cmds=$("$BUILD/postern" -h 2>&1 | awk '/^commands:/ { c = 1; next } c && NF { print $1 }')
t_ok "postern -h lists commands" test -n "$cmds"
missing=""
for c in $cmds; do
    grep -qE "^ +$c( |$)" <<< "$text" || missing="$missing $c"
done
t_eq "postern(8) names every command of postern -h" "" "$missing"

for f in man/*.[158]; do
    w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
    t_eq "man -l $f renders without warnings" "" "$w"
done

# make install installs every page
D=$H_DIR/stage
out=$(make --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr 2>&1); rc=$?
t_eq "make install exits 0" 0 "$rc"
[ "$rc" = 0 ] || echo "$out" | tail -n 20
for f in man/*.[158]; do
    b=${f#man/}
    t_ok "make install: $b in share/man/man${b##*.}" test -s "$D/usr/share/man/man${b##*.}/$b.gz" -o -s "$D/usr/share/man/man${b##*.}/$b"
done
t_summary
