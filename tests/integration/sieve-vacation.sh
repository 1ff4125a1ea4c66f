#!/bin/bash
# sieve-vacation.sh - vacation (RFC 5230/6131/3834), redirect loops and the
# other issue-7 extensions.
#   1. every RFC 3834 suppression rule through postern-sieve dry runs,
#      plus the reply itself: header injection, RFC 2047, :mime, threading;
#   2. a differential run of the same script and messages through
#      dovecot-lda + Pigeonhole (reply or not), when installed;
#   3. real Postfix + MariaDB + postern-lda (pipe): the reply reaches the
#      smarthost sink with the configured envelope sender and headers,
#      once per period, aliases from the database count as explicit
#      recipients; redirect reaches the sink, :copy keeps; a redirect loop
#      between two mailboxes stops; duplicate, editheader, enotify,
#      spamtest end to end.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
SIEVE=$PWD/$BUILD/postern-sieve
h_init

# --- 1. the rules (dry run) -------------------------------------------------------
D=$H_DIR/dry
mkdir -p "$D"
printf 'require ["vacation"];\nvacation :subject "Away" "I am away.";\n' > "$D/v.sieve"
# msg EXTRA-HEADERS [TO] - a message to me@example.com with extra fields
msg() {
    printf 'From: Ann <ann@ext.example>\nTo: %s\nSubject: Hello\nMessage-ID: <m1@ext.example>\n%s\nbody\n' \
        "${2:-me@example.com}" "$1" > "$D/m"
}
decide() { "$SIEVE" "$@" "$D/m" 2>&1 | grep '^vacation' | sed -E 's/^vacation (to=[^ ]*).*/reply \1/; s/^vacation suppressed: /no: /'; }
vac() { decide -f "${1}" -a me@example.com "$D/v.sieve"; }

msg ''
t_eq "plain message: reply to the envelope sender" "reply to=ann@ext.example" "$(vac ann@ext.example)"
t_eq "null sender" "no: null sender" "$(vac '<>')"
t_eq "unknown sender (no -f)" "no: null sender" "$(decide -a me@example.com "$D/v.sieve")"
for s in MAILER-DAEMON@ext.example mailer-daemon@ext.example LISTSERV@ext.example majordomo@ext.example owner-list@ext.example list-request@ext.example; do
    t_eq "system sender $s" "no: system sender" "$(vac "$s")"
done
t_eq "the user's own address as sender" "no: own address" "$(vac ME@example.com)"
t_eq "request in the middle is no list" "reply to=requester@ext.example" "$(vac requester@ext.example)"
msg 'Auto-Submitted: auto-generated'
t_eq "Auto-Submitted: auto-generated" "no: auto-submitted" "$(vac ann@ext.example)"
msg 'Auto-Submitted: auto-replied (vacation)'
t_eq "Auto-Submitted: auto-replied" "no: auto-submitted" "$(vac ann@ext.example)"
msg 'Auto-Submitted: No'
t_eq "Auto-Submitted: no" "reply to=ann@ext.example" "$(vac ann@ext.example)"
for p in bulk junk list Bulk; do
    msg "Precedence: $p"
    t_eq "Precedence: $p" "no: precedence" "$(vac ann@ext.example)"
done
msg 'Precedence: first-class'
t_eq "Precedence: first-class" "reply to=ann@ext.example" "$(vac ann@ext.example)"
for l in List-Id List-Help List-Subscribe List-Unsubscribe List-Post List-Owner List-Archive; do
    msg "$l: <x.lists.example>"
    t_eq "$l" "no: mailing list" "$(vac ann@ext.example)"
done
for x in All OOF 'DR, OOF' 'all'; do
    msg "X-Auto-Response-Suppress: $x"
    t_eq "X-Auto-Response-Suppress: $x" "no: x-auto-response-suppress" "$(vac ann@ext.example)"
done
msg 'X-Auto-Response-Suppress: DR, RN, NRN'
t_eq "X-Auto-Response-Suppress: DR, RN, NRN" "reply to=ann@ext.example" "$(vac ann@ext.example)"
msg '' 'other@example.com'
t_eq "not an explicit recipient (To: someone else)" "no: not an explicit recipient" "$(vac ann@ext.example)"
msg 'Cc: "Me" <Me@Example.COM>' 'other@example.com'
t_eq "Cc names the user (any case)" "reply to=ann@ext.example" "$(vac ann@ext.example)"
for f in Bcc Resent-To Resent-Cc Resent-Bcc; do
    msg "$f: me@example.com" 'other@example.com'
    t_eq "$f names the user" "reply to=ann@ext.example" "$(vac ann@ext.example)"
done
msg '' 'undisclosed-recipients:;'
t_eq "empty group: not explicit" "no: not an explicit recipient" "$(vac ann@ext.example)"
msg '' 'Team <team@example.com>'
printf 'require ["vacation"];\nvacation :addresses ["team@example.com"] "Away";\n' > "$D/va.sieve"
t_eq ":addresses counts as the user" "reply to=ann@ext.example" "$(decide -f ann@ext.example -a me@example.com "$D/va.sieve")"
t_eq "without :addresses not explicit" "no: not an explicit recipient" "$(vac ann@ext.example)"
t_eq ":addresses sender is own" "no: own address" "$(decide -f team@example.com -a me@example.com "$D/va.sieve")"

# periods and errors
printf 'require ["vacation-seconds"];\nvacation :seconds 0 "x";\n' > "$D/s.sieve"
msg ''
t_match ":seconds 0 raised to the 1-day minimum" 'period=86400 ' "$("$SIEVE" -f a@ext.example -a me@example.com "$D/s.sieve" "$D/m")"
printf 'require ["vacation"];\nvacation :days 365 "x";\n' > "$D/s.sieve"
t_match ":days 365 lowered to the 90-day maximum" 'period=7776000 ' "$("$SIEVE" -f a@ext.example -a me@example.com "$D/s.sieve" "$D/m")"
printf 'require ["vacation"];\nvacation "x";\n' > "$D/s.sieve"
t_match "default period 7 days" 'period=604800 ' "$("$SIEVE" -f a@ext.example -a me@example.com "$D/s.sieve" "$D/m")"
printf 'require ["vacation"];\nvacation :seconds 10 "x";\n' > "$D/s.sieve"
out=$("$SIEVE" "$D/s.sieve" "$D/m" 2>&1); rc=$?
t_eq ":seconds without vacation-seconds: compile error" 1 "$rc"
printf 'require ["vacation", "vacation-seconds"];\nvacation :days 1 :seconds 10 "x";\n' > "$D/s.sieve"
out=$("$SIEVE" "$D/s.sieve" "$D/m" 2>&1); rc=$?
t_eq ":days with :seconds: compile error" "1" "$rc"
printf 'require ["vacation"];\nvacation :from "not an address" "x";\n' > "$D/s.sieve"
out=$("$SIEVE" "$D/s.sieve" "$D/m" 2>&1); rc=$?
t_eq "bad :from: compile error" "1" "$rc"
printf 'require ["vacation", "reject"];\nvacation "x";\nreject "no";\n' > "$D/s.sieve"
out=$("$SIEVE" -f a@ext.example "$D/s.sieve" "$D/m" 2>&1); rc=$?
t_eq "vacation + reject: run-time error" 2 "$rc"
printf 'require ["vacation"];\nvacation "x";\nvacation "y";\n' > "$D/s.sieve"
out=$("$SIEVE" -f a@ext.example "$D/s.sieve" "$D/m" 2>&1); rc=$?
t_eq "two vacation actions: run-time error" 2 "$rc"
printf 'require ["vacation"];\nvacation "x";\ndiscard;\n' > "$D/s.sieve"
out=$("$SIEVE" -f a@ext.example -a me@example.com "$D/s.sieve" "$D/m")
t_eq "vacation with discard: both printed" "$(printf 'vacation to=a@ext.example period=604800 subject="" reason="x"\ndiscard')" "$out"

# the reply itself
printf 'From: Ann <ann@ext.example>\nTo: me@example.com\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bonn\nMessage-ID: <m2@ext.example>\nReferences: <m0@ext.example> <m1@ext.example>\n\nbody\n' > "$D/m"
printf 'require ["vacation"];\nvacation "Ich bin im Urlaub.\nGrüße";\n' > "$D/s.sieve"
"$SIEVE" -f ann@ext.example -a me@example.com -r "$D/reply" "$D/s.sieve" "$D/m" >/dev/null
R=$(cat "$D/reply" 2>/dev/null)
t_match "reply: Auto-Submitted: auto-replied" $'(^|\n)Auto-Submitted: auto-replied' "$R"
t_match "reply: To the envelope sender, with the name From gave it" $'(^|\n)To: Ann <ann@ext.example>\n' "$R"
t_match "reply: From the recipient" $'(^|\n)From: <me@example.com>\n' "$R"
t_match "reply: In-Reply-To the Message-ID" $'In-Reply-To:\n <m2@ext.example>\n' "$R"
t_match "reply: References = old refs + Message-ID" $'References:\n <m0@ext.example>\n <m1@ext.example>\n <m2@ext.example>\n' "$R"
t_match "reply: UTF-8 text body, quoted-printable" $'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n' "$R"
t_match "reply: MIME-Version" $'\nMIME-Version: 1.0\n' "$R"
subj=$(printf '%s\n' "$R" | sed -n 's/^Subject: //p')
t_match "reply: default subject RFC 2047 encoded" '^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$' "$subj"
dec=$(python3 -c 'import sys,email.header as h; print(str(h.make_header(h.decode_header(sys.argv[1]))))' "$subj")
t_eq "reply: default subject 'Auto: <original>'" "Auto: Grüße aus Bonn" "$dec"
t_match "reply: body" $'\n\nIch bin im Urlaub.\nGr=C3=BC=C3=9Fe' "$R"
# header injection: a subject with line breaks (text: and variables) and a From with a display name
cat > "$D/s.sieve" <<'EOS'
require ["vacation", "variables"];
set "evil" "Away
Bcc: victim@target.example";
vacation :subject "${evil}" :from "Mé Myself <me@example.com>" "x";
EOS
"$SIEVE" -f ann@ext.example -a me@example.com -r "$D/reply" "$D/s.sieve" "$D/m" >/dev/null
R=$(cat "$D/reply" 2>/dev/null)
t_not "injection: no Bcc field" grep -qi '^Bcc:' "$D/reply"
t_match "injection: the line break became a space" $'\nSubject: Away Bcc: victim@target.example\n' "$R"
t_match "From: display name RFC 2047 encoded" '^From: =\?UTF-8\?B\?[^ ]+\?= <me@example.com>$' "$(grep '^From:' "$D/reply")"
python3 - "$D/reply" > "$D/py.out" 2>&1 <<'PYEOF'
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m["From"].addresses[0].display_name, "|", m["Subject"], "|", len(m.get_all("Subject")))
PYEOF
t_eq "a mail parser reads the reply" "Mé Myself | Away Bcc: victim@target.example | 1" "$(cat "$D/py.out")"
# :mime
cat > "$D/s.sieve" <<'EOS'
require ["vacation"];
vacation :mime text:
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable
Bcc: nobody@target.example

Gr=FC=DFe
.
;
EOS
"$SIEVE" -f ann@ext.example -a me@example.com -r "$D/reply" "$D/s.sieve" "$D/m" >/dev/null
R=$(cat "$D/reply" 2>/dev/null)
t_match ":mime: the entity's Content-Type" $'\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe' "$R"
t_not ":mime: other fields of the entity dropped" grep -qi '^Bcc:' "$D/reply"

# the other extensions (dry run)
spam() { printf 'From: a@ext.example\nTo: me@example.com\nSubject: s\n%b\nbody\n' "$1" > "$D/m"; "$SIEVE" "$D/s.sieve" "$D/m" 2>&1; }
printf 'require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];\nif spamtest :value "ge" :comparator "i;ascii-numeric" "8" { fileinto "Junk"; }\nelsif spamtest "0" { fileinto "Untested"; }\n' > "$D/s.sieve"
t_eq "spamtest: score 7.5 of 10 is 8 -> Junk" "fileinto Junk" "$(spam 'X-Spam-Score: 7.5\n')"
t_eq "spamtest: score 2 -> keep" "keep" "$(spam 'X-Spam-Score: 2.0\n')"
t_eq "spamtest: X-Spam-Flag: YES -> Junk" "fileinto Junk" "$(spam 'X-Spam-Flag: YES\n')"
t_eq "spamtest: no field -> 0 (untested)" "fileinto Untested" "$(spam '')"
printf 'require ["spamtestplus", "fileinto", "relational"];\nif spamtest :percent :value "gt" "50" { fileinto "Junk"; }\n' > "$D/s.sieve"
t_eq "spamtestplus :percent 60 > 50" "fileinto Junk" "$(spam 'X-Spam-Score: 6\n')"
printf 'require ["virustest", "fileinto", "relational"];\nif virustest :value "ge" "4" { fileinto "Virus"; }\n' > "$D/s.sieve"
t_eq "virustest: Infected -> 5" "fileinto Virus" "$(spam 'X-Virus-Status: Infected (Eicar)\n')"
t_eq "virustest: Clean -> 1" "keep" "$(spam 'X-Virus-Status: Clean\n')"
printf 'require ["enotify"];\nnotify :importance "1" :message "New mail" "mailto:pager@ext.example?subject=Hi";\n' > "$D/s.sieve"
t_eq "enotify: printed" "$(printf 'notify mailto:pager@ext.example?subject=Hi importance=1 message="New mail"\nkeep')" "$(spam '')"
printf 'require ["enotify"];\nnotify "xmpp:someone@ext.example";\n' > "$D/s.sieve"
out=$(spam ''); rc=$?
t_eq "enotify: only mailto (compile error)" 1 "$rc"
printf 'require ["editheader", "fileinto"];\naddheader "X-Tag" "yes";\nif header :is "x-tag" "yes" { fileinto "Tagged"; }\ndeleteheader "subject";\nif not exists "subject" { fileinto "NoSubject"; }\n' > "$D/s.sieve"
t_eq "editheader: later tests see the edits" "$(printf 'fileinto Tagged\nfileinto NoSubject')" "$(spam '')"
printf 'require ["editheader"];\naddheader "Bad Name" "x";\n' > "$D/s.sieve"
out=$(spam ''); rc=$?
t_eq "editheader: invalid field name (compile error)" 1 "$rc"
printf 'require ["duplicate", "fileinto"];\nif duplicate { fileinto "Dup"; }\n' > "$D/s.sieve"
t_eq "duplicate: dry run never a duplicate" "keep" "$(spam '')"

# --- 2. differential: dovecot-lda + Pigeonhole ---------------------------------------
if [ -x /usr/lib/dovecot/dovecot-lda ] && [ -e /usr/lib/dovecot/modules/sieve ] || [ -d /usr/lib/dovecot/modules/sieve ] || ls /usr/lib/dovecot/modules/lib90_sieve_plugin.so >/dev/null 2>&1; then
    X=$H_DIR/pigeon
    mkdir -p "$X"
    printf '#!/bin/sh\ncat > "$HOME/sent.$$"\n' > "$X/sendmail"
    chmod 755 "$X/sendmail"
    printf 'require ["vacation"];\nvacation :days 1 :subject "Away" "I am away.";\nredirect :copy "fwd@ext.example";\n' > "$X/v.sieve"
    pigeon_decide() { # FROM MSGFILE -> "reply" / "no"
        local h=$X/home.$RANDOM$RANDOM
        mkdir -p "$h/Maildir"; cp "$X/v.sieve" "$h/.dovecot.sieve"
        printf 'protocols =\nssl = no\nbase_dir = %s/base\nlog_path = %s/log\nmail_location = maildir:~/Maildir\npostmaster_address = postmaster@example.com\nhostname = mx.example.com\nsendmail_path = %s/sendmail\nprotocol lda {\n  mail_plugins = sieve\n}\nplugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n' "$h" "$h" "$X" > "$h/dovecot.conf"
        chown -R nobody "$h"
        setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin HOME="$h" USER=me@example.com \
            /usr/lib/dovecot/dovecot-lda -c "$h/dovecot.conf" -f "$1" -a me@example.com < "$2" >/dev/null 2>&1
        local v=no r=no
        for f in "$h"/sent.*; do
            [ -e "$f" ] || continue
            if grep -qi '^Auto-Submitted: auto-replied' "$f"; then v=reply; else r=redirect; fi
        done
        echo "$v $r"
    }
    postern_decide() {
        local out v=no r=no
        out=$("$SIEVE" -f "$1" -a me@example.com "$X/v.sieve" "$2" 2>/dev/null)
        [[ "$out" == *"vacation to="* ]] && v=reply
        [[ "$out" == *"redirect fwd@ext.example"* ]] && r=redirect
        echo "$v $r"
    }
    n=0
    while IFS='|' read -r from extra to; do
        n=$((n + 1))
        printf 'From: Ann <ann@ext.example>\nTo: %s\nSubject: Hello\nMessage-ID: <d%s@ext.example>\n%b\nbody\n' \
            "$to" "$n" "$extra" > "$X/m$n"
        chmod 644 "$X/m$n"
        a=$(pigeon_decide "$from" "$X/m$n"); b=$(postern_decide "$from" "$X/m$n")
        t_eq "same as Pigeonhole: from=$from ${extra:-plain} to=$to" "$a" "$b"
    done <<'CASES'
ann@ext.example||me@example.com
MAILER-DAEMON@ext.example||me@example.com
owner-x@ext.example||me@example.com
x-request@ext.example||me@example.com
LISTSERV@ext.example||me@example.com
me@example.com||me@example.com
ann@ext.example|Auto-Submitted: auto-generated|me@example.com
ann@ext.example|Auto-Submitted: no|me@example.com
ann@ext.example|Precedence: bulk|me@example.com
ann@ext.example|Precedence: junk|me@example.com
ann@ext.example|Precedence: list|me@example.com
ann@ext.example|List-Id: <x.example>|me@example.com
ann@ext.example|List-Unsubscribe: <mailto:u@x.example>|me@example.com
ann@ext.example|List-Post: <mailto:p@x.example>|me@example.com
ann@ext.example||other@example.com
ann@ext.example|Cc: me@example.com|other@example.com
ann@ext.example|Bcc: me@example.com|other@example.com
ann@ext.example|Resent-To: me@example.com|other@example.com
ann@ext.example||Me <ME@example.com>
CASES
else
    echo "# dovecot-lda with Pigeonhole not installed: differential cases skipped"
fi

# --- 3. real Postfix, MariaDB, postern-lda ---------------------------------------------
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('va.example', 'local');
       INSERT INTO domains (name, kind, alias_target) VALUES ('va-alias.example', 'alias', 'va.example');
       INSERT INTO mailboxes (local_part, domain) VALUES ('anna', 'va.example'), ('bert', 'va.example'),
         ('carl', 'va.example'), ('dora', 'va.example'), ('emil', 'va.example');
       INSERT INTO aliases (domain, local_part, target) VALUES ('va.example', 'info', 'anna@va.example');" || exit 1
md() { h_sql "SELECT maildir FROM mailboxes WHERE address = '$1@va.example'"; }
md_anna=$(md anna); md_bert=$(md bert); md_carl=$(md carl); md_dora=$(md dora); md_emil=$(md emil)
ROOT=$H_DIR/mail
for m in "$md_anna" "$md_bert" "$md_carl" "$md_dora" "$md_emil"; do mkdir -p "$ROOT/$m"; done
mkdir -p "$H_DIR/spool"
cp "$BUILD/postern-lda" "$H_DIR/postern-lda"; chmod 755 "$H_DIR/postern-lda"
LDA=$H_DIR/postern-lda
cp "$H_DB_PASSWORD_FILE" "$H_DIR/dbpw"; chown nobody "$H_DIR/dbpw"; chmod 600 "$H_DIR/dbpw"
h_start_smtp_sink smarthost
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $ROOT
temp_dir = $H_DIR/spool
hostname = mx1.test.example
fsync = no
sendmail_path = $H_DIR/sendmail
vacation_min_period = 1d
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DIR/dbpw
connect_timeout = 1s
EOC
chmod 644 "$CONF"
t_ok "-t accepts the vacation keys" "$LDA" -c "$CONF" -t
cat > "$H_DIR/master.extra" <<EOM
postern   unix  -       n       n       -       -       pipe
  flags=Xh user=nobody:nogroup null_sender=
  argv=$LDA -c $CONF -f \${sender} -a \${recipient}
EOM
h_start_postfix - "$H_DIR/master.extra" <<EOF
virtual_mailbox_domains = va.example
virtual_mailbox_maps = static:ok
virtual_alias_maps = inline:{ info@va.example=anna@va.example }
virtual_transport = postern
postern_destination_recipient_limit = 1
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
EOF
# Postfix's sendmail refuses -C for an unprivileged user (pipe runs
# postern-lda as nobody), so the stand-in submits over SMTP to this Postfix
printf '#!/bin/sh\nexec python3 %s/sendmail_smtp.py %s "$@"\n' \
    "$H_HARNESS_DIR" "$H_PF_SMTP_PORT" > "$H_DIR/sendmail"
chmod 755 "$H_DIR/sendmail"
chown -R nobody:nogroup "$ROOT" "$H_DIR/spool"

newcount() { find "$ROOT/$1/new" "$ROOT/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }
NMSG=0
send() { # FROM RCPT SUBJECT [--header 'N: v' ...]: a whole message of our own
    local from=$1 to=$2 subj=$3 f hdrs="" hasto=0
    shift 3
    while [ $# -ge 2 ] && [ "$1" = --header ]; do
        hdrs="$hdrs$2"$'\n'; [[ "$2" == [Tt]o:* ]] && hasto=1; shift 2
    done
    [[ "$hdrs" == *Message-ID:* ]] || hdrs="${hdrs}Message-ID: <t$NMSG.$$@remote.example>"$'\n'
    [ $hasto = 1 ] || hdrs="${hdrs}To: $to"$'\n'
    NMSG=$((NMSG + 1)); f=$H_DIR/send.$NMSG
    printf 'From: %s\nSubject: %s\n%s\nbody %s\n' "${from:-daemon@remote.example}" "$subj" "$hdrs" "$NMSG" > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from "$from" --to "$to" --data "$f" >/dev/null
}
settle() { h_wait_queue_empty 20 >/dev/null; }
sink() { h_sink_count smarthost; }

cat > "$ROOT/$md_anna/.postern.sieve" <<'EOS'
require ["vacation"];
vacation :days 2 :subject "Out of office" "I am away until Monday.";
EOS
chown nobody "$ROOT/$md_anna/.postern.sieve"
send sam@remote.example anna@va.example "first" --header 'To: anna@va.example' --header 'Message-ID: <v1@remote.example>'
settle
t_ok "vacation: the reply reaches the smarthost" h_wait_sink_count smarthost 1 10
t_eq "vacation: the message is delivered too" 1 "$(newcount "$md_anna")"
E=$(h_sink_last smarthost env); M=$(h_sink_last smarthost eml)
t_match "vacation: envelope sender <> (vacation_envelope_sender = null)" 'MAIL FROM:<>' "$(cat "$E")"
t_match "vacation: envelope recipient the sender" 'RCPT TO:<sam@remote.example>' "$(cat "$E")"
t_match "vacation: Auto-Submitted: auto-replied" '^Auto-Submitted: auto-replied' "$(grep -i '^Auto-Submitted' "$M")"
t_match "vacation: In-Reply-To" '<v1@remote.example>' "$(grep -A1 -i '^In-Reply-To' "$M")"
t_eq "vacation: Subject" "Subject: Out of office" "$(grep '^Subject:' "$M")"
t_match "vacation: From the mailbox" '^From: <anna@va.example>' "$(grep '^From:' "$M")"
t_eq "vacation: one row in vacation_responses" "anna@va.example	sam@remote.example	172800" \
    "$(h_sql "SELECT recipient, sender, expires_at - sent_at FROM vacation_responses")"

send sam@remote.example anna@va.example "second" --header 'To: anna@va.example'
settle; sleep 1
t_eq "vacation: once per period (no second reply)" 1 "$(sink)"
t_eq "vacation: second message delivered" 2 "$(newcount "$md_anna")"
send sam@remote.example anna@va.example "list" --header 'To: anna@va.example' --header 'List-Id: <l.remote.example>'
send tom@remote.example anna@va.example "bulk" --header 'To: anna@va.example' --header 'Precedence: bulk'
send '' anna@va.example "bounce" --header 'To: anna@va.example'
send MAILER-DAEMON@remote.example anna@va.example "daemon" --header 'To: anna@va.example'
send tom@remote.example anna@va.example "not to me" --header 'To: someone@else.example'
settle; sleep 1
t_eq "vacation: no reply to lists, bulk, <>, MAILER-DAEMON, not-explicit" 1 "$(sink)"
t_eq "vacation: all those delivered" 7 "$(newcount "$md_anna")"
# an alias from the database is the user's address; so is the alias domain
send uma@remote.example info@va.example "via alias" --header 'To: info@va.example'
settle
t_ok "vacation: alias (aliases table) counts as explicit" h_wait_sink_count smarthost 2 10
send vic@remote.example anna@va.example "via alias domain" --header 'To: anna@va-alias.example'
settle
t_ok "vacation: alias-domain address counts as explicit" h_wait_sink_count smarthost 3 10
# a new period after expiry: move the row back in time
h_sql "UPDATE vacation_responses SET sent_at = sent_at - 200000, expires_at = expires_at - 200000 WHERE sender = 'sam@remote.example'"
send sam@remote.example anna@va.example "later" --header 'To: anna@va.example'
settle
t_ok "vacation: a reply again after the period" h_wait_sink_count smarthost 4 10
# envelope sender = the recipient
sed -i 's/^vacation_min_period = 1d/vacation_min_period = 1d\nvacation_envelope_sender = recipient/' "$CONF"
send wil@remote.example anna@va.example "recipient sender" --header 'To: anna@va.example'
settle
t_ok "vacation: reply with vacation_envelope_sender = recipient" h_wait_sink_count smarthost 5 10
t_match "vacation: envelope sender the mailbox" 'MAIL FROM:<anna@va.example>' "$(cat "$(h_sink_last smarthost env)")"
# the database is down: delivered, no reply
h_stop_mariadb
send xen@remote.example anna@va.example "db down" --header 'To: anna@va.example'
sleep 3
t_eq "database down: no reply" 5 "$(sink)"
h_restart_mariadb
h_postqueue_flush; settle

# --- redirect ------------------------------------------------------------------------
printf 'redirect "friend@remote.example";\n' > "$ROOT/$md_bert/.postern.sieve"
printf 'require "copy";\nredirect :copy "copy@remote.example";\n' > "$ROOT/$md_emil/.postern.sieve"
printf 'redirect "dora@va.example";\n' > "$ROOT/$md_carl/.postern.sieve"
printf 'redirect "carl@va.example";\n' > "$ROOT/$md_dora/.postern.sieve"
chown nobody "$ROOT"/*/*/*/*/.postern.sieve 2>/dev/null; chown -R nobody "$ROOT"
base=$(sink)
send sam@remote.example bert@va.example "fwd" --header 'Message-ID: <r1@remote.example>'
settle
t_ok "redirect: reaches the external sink" h_wait_sink_count smarthost $((base + 1)) 10
t_match "redirect: to the target" 'RCPT TO:<friend@remote.example>' "$(cat "$(h_sink_last smarthost env)")"
t_match "redirect: original sender kept" 'MAIL FROM:<sam@remote.example>' "$(cat "$(h_sink_last smarthost env)")"
t_eq "redirect: not kept" 0 "$(newcount "$md_bert")"
send sam@remote.example emil@va.example "fwd copy"
settle
t_ok "redirect :copy: reaches the sink" h_wait_sink_count smarthost $((base + 2)) 10
t_eq "redirect :copy: kept too" 1 "$(newcount "$md_emil")"
# the same message again (same Message-ID): not redirected twice, kept
send sam@remote.example bert@va.example "fwd" --header 'Message-ID: <r1@remote.example>'
settle; sleep 1
t_eq "redirect: same Message-ID not redirected again" $((base + 2)) "$(sink)"
t_eq "redirect: ... kept instead" 1 "$(newcount "$md_bert")"
# a loop between carl and dora stops, the message is kept, no bounce
send sam@remote.example carl@va.example "loop" --header 'Message-ID: <loop1@remote.example>'
settle; sleep 1
t_eq "loop: stops with the message kept once" 1 "$(( $(newcount "$md_carl") + $(newcount "$md_dora") ))"
t_eq "loop: nothing sent out (no bounce)" $((base + 2)) "$(sink)"

# --- duplicate, editheader, enotify through postern-lda ------------------------------
cat > "$ROOT/$md_carl/.postern.sieve" <<'EOS'
require ["duplicate", "fileinto", "editheader", "enotify"];
if duplicate { fileinto "Dups"; stop; }
addheader "X-Sieve-Tag" "tagged by sieve";
deleteheader "X-Remove";
deleteheader "Received";
notify :message "You have mail" "mailto:pager@remote.example";
EOS
chown nobody "$ROOT/$md_carl/.postern.sieve"
rm -f "$ROOT/$md_dora/.postern.sieve"
base=$(sink)
rows=$(h_sql "SELECT COUNT(*) FROM sieve_duplicates WHERE mailbox = 'carl@va.example'")
send sam@remote.example carl@va.example "dup" --header 'Message-ID: <dup1@remote.example>' --header 'X-Remove: secret'
settle
t_ok "enotify: the notification reaches the sink" h_wait_sink_count smarthost $((base + 1)) 10
N=$(h_sink_last smarthost eml)
t_match "enotify: to the mailto address" 'RCPT TO:<pager@remote.example>' "$(cat "$(h_sink_last smarthost env)")"
t_eq "enotify: Auto-Submitted: auto-notified" "Auto-Submitted: auto-notified" "$(grep -i '^Auto-Submitted' "$N")"
t_eq "enotify: subject from :message" "Subject: You have mail" "$(grep '^Subject:' "$N")"
f=$(find "$ROOT/$md_carl/new" -type f | head -n 1)
t_ok "editheader: field added to the stored message" grep -q '^X-Sieve-Tag: tagged by sieve$' "$f"
t_not "editheader: field deleted" grep -q '^X-Remove:' "$f"
t_ok "editheader: Received is protected" grep -q '^Received:' "$f"
t_ok "editheader: body unchanged" grep -q '^body ' "$f"
send sam@remote.example carl@va.example "dup again" --header 'Message-ID: <dup1@remote.example>'
settle
t_eq "duplicate: the second copy goes to Dups" 1 "$(find "$ROOT/$md_carl/.Dups/new" -type f 2>/dev/null | wc -l)"
t_eq "duplicate: one row more in sieve_duplicates for carl" $((rows + 1)) "$(h_sql "SELECT COUNT(*) FROM sieve_duplicates WHERE mailbox = 'carl@va.example'")"

# --- non-ASCII vacation through Postfix: RFC 2047 words, QP body, RFC 2231 ---------
# what a mail client shows: python3's email parser reads the reply the sink got
readreply() {
    python3 - "$1" <<'PYEOF'
import sys, email, email.policy
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
lines = raw.replace(b"\r\n", b"\n").split(b"\n")
body = m.get_body(("plain",))
print("subject=" + str(m["Subject"]))
print("from=" + m["From"].addresses[0].display_name + " <" + m["From"].addresses[0].addr_spec + ">")
print("charset=" + str(m.get_content_charset()))
print("cte=" + str(m["Content-Transfer-Encoding"]))
print("body=" + body.get_content().replace("\n", "|"))
print("filename=" + str(m.get_filename()))
print("ascii=" + str(all(b < 128 for b in raw)))
print("longest=" + str(max(len(l) for l in lines)))
PYEOF
}
cat > "$ROOT/$md_dora/.postern.sieve" <<'EOS'
require ["vacation"];
vacation :from "Dörte Müller <dora@va.example>" :subject "Abwesenheit – Grüße aus Köln, zurück am 14. März, bitte wenden Sie sich an das Sekretariat" "Ich bin bis Montag nicht im Büro.
Viele Grüße";
EOS
chown nobody "$ROOT/$md_dora/.postern.sieve"
base=$(sink)
send ute@remote.example dora@va.example "=?ISO-8859-1?Q?Gr=FC=DFe?=" --header 'To: dora@va.example'
settle
t_ok "non-ASCII vacation: the reply reaches the smarthost" h_wait_sink_count smarthost $((base + 1)) 10
P=$(readreply "$(h_sink_last smarthost eml)")
t_match "non-ASCII vacation: Subject decodes to the UTF-8 text" \
    $'(^|\n)subject=Abwesenheit – Grüße aus Köln, zurück am 14. März, bitte wenden Sie sich an das Sekretariat\n' "$P"
t_match "non-ASCII vacation: From display name decodes" $'\nfrom=Dörte Müller <dora@va.example>\n' "$P"
t_match "non-ASCII vacation: text/plain; charset=utf-8" $'\ncharset=utf-8\n' "$P"
t_match "non-ASCII vacation: quoted-printable" $'\ncte=quoted-printable\n' "$P"
t_match "non-ASCII vacation: the body decodes" $'\nbody=Ich bin bis Montag nicht im Büro.|Viele Grüße|\n' "$P"
t_match "non-ASCII vacation: the reply is 7-bit ASCII on the wire" $'\nascii=True\n' "$P"
t_match "non-ASCII vacation: no line over 78 characters" $'\nlongest=([0-9]|[1-6][0-9]|7[0-8])$' "$P"
cat > "$ROOT/$md_dora/.postern.sieve" <<'EOS'
require ["vacation"];
vacation :mime text:
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline; filename="Übersicht.txt"

Grüße
.
;
EOS
send vera@remote.example dora@va.example "=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=" --header 'To: dora@va.example'
settle
t_ok "Auto: vacation: the reply reaches the smarthost" h_wait_sink_count smarthost $((base + 2)) 10
P=$(readreply "$(h_sink_last smarthost eml)")
t_match "Auto: + the decoded original subject (ISO-8859-1 word)" $'(^|\n)subject=Auto: Grüße aus Köln\n' "$P"
t_match ":mime: a non-ASCII file name in RFC 2231 form decodes" $'\nfilename=Übersicht.txt\n' "$P"
t_match ":mime: 8-bit text sent quoted-printable" $'\ncte=quoted-printable\n' "$P"
t_match ":mime: the body decodes" $'\nbody=Grüße|\n' "$P"
# the reply's From must be the mailbox's own (lib/sendas): an alias of it
# stays, anything else becomes the mailbox
printf 'require ["vacation"];\nvacation :from "Info <info@va.example>" "away";\n' > "$ROOT/$md_anna/.postern.sieve"
printf 'require ["vacation"];\nvacation :from "Chef <chef@va.example>" "away";\n' > "$ROOT/$md_emil/.postern.sieve"
chown nobody "$ROOT/$md_anna/.postern.sieve" "$ROOT/$md_emil/.postern.sieve"
base=$(sink)
send own1@remote.example anna@va.example "own from"
settle
t_ok ":from an alias of the mailbox: the reply is sent" h_wait_sink_count smarthost $((base + 1)) 10
t_match "... From the alias, as the script says" '^From: Info <info@va.example>' "$(grep '^From:' "$(h_sink_last smarthost eml)")"
base=$(sink)
send own2@remote.example emil@va.example "forged from"
settle
t_ok ":from another address: the reply is sent" h_wait_sink_count smarthost $((base + 1)) 10
t_match "... From the mailbox instead" '^From: <emil@va.example>' "$(grep '^From:' "$(h_sink_last smarthost eml)")"
printf 'require ["enotify"];\nnotify :from "Chef <chef@va.example>" :message "ping" "mailto:pager2@remote.example";\n' > "$ROOT/$md_emil/.postern.sieve"
chown nobody "$ROOT/$md_emil/.postern.sieve"
base=$(sink)
send own3@remote.example emil@va.example "notify from"
settle
t_ok "notify :from another address: the notification is sent" h_wait_sink_count smarthost $((base + 1)) 10
t_match "... From the mailbox instead" '^From: <emil@va.example>' "$(grep '^From:' "$(h_sink_last smarthost eml)")"
t_summary
