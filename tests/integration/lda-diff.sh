#!/bin/bash
# lda-diff.sh - differential test of postern-lda's Sieve delivery against
# Debian's dovecot-lda with Pigeonhole (dovecot-core + dovecot-sieve).
#
# Each case is a Sieve script, a message and an envelope.  The message is
# delivered by postern-lda (pipe mode, lookup = maps through a scripted
# socketmap server: mail_root/vol01/ADDRESS/) with the script as the
# mailbox's .postern.sieve, and by dovecot-lda (no daemon, private
# dovecot.conf, lda_mailbox_autocreate = yes, recipient_delimiter = +)
# with the same script as ~/.dovecot.sieve.  Then the two Maildirs are
# compared: every stored copy as FOLDER:FLAGS (FLAGS = the Maildir system
# flag letters DFPRST of a cur/ file name; Dovecot's keyword letters a-z
# are left out: postern does not store keywords), sorted.  Both must also
# agree with the expected outcome written in the case.
#
# Cases: fileinto, :copy, stop, discard, explicit and implicit keep,
# imap4flags (setflag/addflag/removeflag, :flags, implicit keep with
# flags), subaddress :user/:detail, envelope, body, header :matches,
# address :domain, size, exists, variables (${1} from :matches, modifiers),
# duplicate fileinto, anyof/allof/not.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
[ -x /usr/lib/dovecot/dovecot-lda ] && [ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || {
    echo "needs dovecot-core and dovecot-sieve"; t_fail "dovecot-lda with Pigeonhole installed"; t_summary; exit 1; }
h_init
W=$H_DIR
mkdir -p "$W/mail" "$W/spool" "$W/dv/run" "$W/cases"
cp "$BUILD/postern-lda" "$W/postern-lda"
FS=$W/maps.sock
"$H_PYTHON" "$(dirname "$0")/lda-fakemaps.py" "$FS" ok vol01 &
h_track_pid $!
h_wait_for 10 test -S "$FS" || { t_fail "fake maps server"; t_summary; exit 1; }
cat > "$W/lda.conf" <<EOC
[lda]
mail_root = $W/mail
temp_dir = $W/spool
hostname = mx1.test.example
lookup = maps
maps_server = unix:$FS
sendmail_path = /bin/true
EOC
cat > "$W/dv/dovecot.conf" <<EOD
base_dir = $W/dv/run
log_path = $W/dv/dovecot.log
protocols =
ssl = no
mail_location = maildir:~/Maildir
postmaster_address = postmaster@diff.example
hostname = mx1.test.example
sendmail_path = /bin/true
lda_mailbox_autocreate = yes
recipient_delimiter = +
protocol lda {
  mail_plugins = sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_extensions = +imap4flags
}
EOD

# stored DIR - the copies in a Maildir as sorted "FOLDER:FLAGS" words
stored() {
    local f dir folder flags out=()
    while IFS= read -r f; do
        dir=${f%/*}; dir=${dir%/*}
        folder=${dir#"$1"}; folder=${folder#/}; folder=${folder:-INBOX}
        flags=""
        case $f in *:2,*) flags=$(printf '%s' "${f##*:2,}" | tr -cd 'DFPRST') ;; esac
        out+=("$folder:$flags")
    done < <(find "$1" -mindepth 2 -maxdepth 3 -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null)
    [ ${#out[@]} -eq 0 ] && { echo "(none)"; return; }
    printf '%s\n' "${out[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

N=0
# check NAME RECIPIENT EXPECTED - deliver $W/cases/NAME.{sieve,eml} both ways
check() {
    local name=$1 rcpt=$2 want=$3 user pm dh p d rcp rcd
    N=$((N + 1))
    user=c$N
    pm=$W/mail/vol01/$user@diff.example
    dh=$W/dv/home$N
    mkdir -p "$pm" "$dh"
    cp "$W/cases/$name.sieve" "$pm/.postern.sieve"
    cp "$W/cases/$name.sieve" "$dh/.dovecot.sieve"
    chown -R nobody:nogroup "$W/mail" "$W/spool" "$W/dv"
    "$W/postern-lda" -c "$W/lda.conf" -f sender@ext.example -a "$user$rcpt@diff.example" \
        < "$W/cases/$name.eml" > "$W/out.$N" 2>&1; rcp=$?
    setpriv --reuid=nobody --regid=nogroup --clear-groups env -i HOME="$dh" USER="$user" \
        /usr/lib/dovecot/dovecot-lda -c "$W/dv/dovecot.conf" -f sender@ext.example \
        -a "$user$rcpt@diff.example" < "$W/cases/$name.eml" > "$W/dout.$N" 2>&1; rcd=$?
    p=$(stored "$pm"); d=$(stored "$dh/Maildir")
    t_eq "$name: both deliver (postern $rcp, dovecot $rcd)" "0 0" "$rcp $rcd" || tail -n 3 "$W/dout.$N" "$W/dv/dovecot.log"
    t_eq "$name: same folders and flags as dovecot-lda" "$d" "$p"
    t_eq "$name: expected outcome" "$want" "$p"
}
# sieve NAME - the script from stdin; msg NAME - the message from stdin
sieve() { cat > "$W/cases/$1.sieve"; }
msg() { cat > "$W/cases/$1.eml"; }
std() { printf 'From: Anna <anna@example.com>\nTo: c@diff.example\nSubject: %s\nDate: Sat, 29 Nov 2025 12:00:00 +0000\nMessage-ID: <%s@example.com>\n\n%s\n' "$2" "$1" "${3:-Hello.}" | msg "$1"; }

sieve fileinto <<'S'
require "fileinto";
if header :contains "Subject" "report" { fileinto "Reports"; }
S
std fileinto "weekly report"
check fileinto "" ".Reports:"

sieve nomatch <<'S'
require "fileinto";
if header :contains "Subject" "report" { fileinto "Reports"; }
S
std nomatch "hello"
check nomatch "" "INBOX:"

sieve copy <<'S'
require ["fileinto", "copy"];
fileinto :copy "Archive";
S
std copy "copy me"
check copy "" ".Archive: INBOX:"

sieve stop <<'S'
require "fileinto";
if true { fileinto "First"; stop; }
fileinto "Second";
S
std stop "stop"
check stop "" ".First:"

sieve discard <<'S'
if header :contains "Subject" "spam" { discard; }
S
std discard "buy spam now"
check discard "" "(none)"

sieve keepfile <<'S'
require "fileinto";
keep;
fileinto "Also";
S
std keepfile "both"
check keepfile "" ".Also: INBOX:"

sieve flags <<'S'
require ["fileinto", "imap4flags"];
fileinto :flags ["\\Seen", "\\Flagged"] "Flagged";
S
std flags "flag me"
check flags "" ".Flagged:FS"

sieve addflag <<'S'
require ["imap4flags"];
addflag "\\Seen";
addflag ["\\Answered", "$Label1"];
removeflag "\\Seen";
keep;
S
std addflag "answered"
check addflag "" "INBOX:R"

sieve implicitflags <<'S'
require ["imap4flags"];
setflag "\\Deleted \\Draft";
S
std implicitflags "implicit keep with flags"
check implicitflags "" "INBOX:DT"

sieve subdetail <<'S'
require ["fileinto", "envelope", "subaddress"];
if envelope :detail "to" "lists" { fileinto "Lists"; }
elsif envelope :user "to" "c10" { fileinto "User"; }
S
std subdetail "to +lists"
check subdetail "+lists" ".Lists:"

sieve subuser <<'S'
require ["fileinto", "envelope", "subaddress"];
if envelope :detail "to" "lists" { fileinto "Lists"; }
elsif envelope :user "to" "c11" { fileinto "User"; }
S
std subuser "to +other"
check subuser "+other" ".User:"

sieve envfrom <<'S'
require ["fileinto", "envelope"];
if envelope :domain :is "from" "ext.example" { fileinto "External"; }
S
std envfrom "envelope"
check envfrom "" ".External:"

sieve body <<'S'
require ["fileinto", "body"];
if body :contains "invoice number" { fileinto "Invoices"; }
S
std body "see attachment" "Please find the Invoice Number 42 below."
check body "" ".Invoices:"

sieve bodyno <<'S'
require ["fileinto", "body"];
if body :contains "invoice number" { fileinto "Invoices"; }
S
std bodyno "invoice number in the subject only" "Nothing here."
check bodyno "" "INBOX:"

sieve matches <<'S'
require "fileinto";
if header :matches "Subject" "*[SPAM]*" { fileinto "Junk"; }
S
std matches "Re: [SPAM] cheap"
check matches "" ".Junk:"

sieve matchq <<'S'
require "fileinto";
if header :matches "Subject" "order ?? shipped" { fileinto "Orders"; }
S
std matchq "Order 42 shipped"
check matchq "" ".Orders:"

sieve variables <<'S'
require ["fileinto", "variables"];
if header :matches "List-Id" "*<*.lists.example.org>" {
    set :lower "list" "${2}";
    fileinto "Lists.${list}";
}
S
printf 'From: a@example.org\nList-Id: Dev List <DEV-Team.lists.example.org>\nSubject: v\n\nb\n' | msg variables
check variables "" ".Lists.dev-team:"

sieve varmod <<'S'
require ["fileinto", "variables"];
set "a" "archive";
set :upperfirst "b" "${a}";
if string :is "${b}" "Archive" { fileinto "${b}.2025"; }
S
std varmod "modifiers"
check varmod "" ".Archive.2025:"

sieve address <<'S'
require "fileinto";
if address :domain :is "From" "EXAMPLE.com" { fileinto "Example"; }
S
std address "address test"
check address "" ".Example:"

sieve size <<'S'
require "fileinto";
if size :over 2K { fileinto "Big"; } elsif size :under 1K { fileinto "Small"; }
S
std size "big" "$(head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 70)"
check size "" ".Big:"

# size is the message as delivered, with LF line ends, in dovecot-lda as
# in postern-lda (Pigeonhole's own test suite sees CRLF messages): 1,500
# short lines are about 3,150 bytes with LF and 4,650 with CRLF
sieve sizelf <<'S'
require "fileinto";
if size :over 4000 { fileinto "Big"; }
S
std sizelf "many lines" "$(for i in $(seq 1500); do echo x; done)"
check sizelf "" "INBOX:"

sieve exists <<'S'
require "fileinto";
if not exists "X-Priority" { fileinto "Normal"; }
if allof (exists "From", header :is "X-Priority" "1") { fileinto "Urgent"; }
S
std exists "no priority"
check exists "" ".Normal:"

sieve dupfile <<'S'
require "fileinto";
fileinto "Same";
fileinto "Same";
S
std dupfile "twice"
check dupfile "" ".Same:"

sieve anyof <<'S'
require "fileinto";
if anyof (header :contains "X-Spam-Flag" "YES", header :contains "Subject" "viagra") {
    fileinto "Junk";
} else { keep; }
S
printf 'From: x@example.net\nX-Spam-Flag: YES\nSubject: s\n\nb\n' | msg anyof
check anyof "" ".Junk:"

t_ok "dovecot-lda ran the scripts (compiled .svbin)" bash -c "ls '$W'/dv/home*/.dovecot.svbin >/dev/null 2>&1"
t_ok "at least 15 cases" test "$N" -ge 15
t_summary
