#!/bin/bash
# sieve-store.sh - issue 18, the Sieve extensions that touch the mail
# store, end to end: mail through a private Postfix, postern-lda (pipe, as
# nobody) running the user's script, and a private Dovecot IMAP (the SQL
# configuration of docs/dovecot.md, tests/integration/dovecot-common.sh)
# showing what a mail client sees:
#   imap4flags keywords  FETCH FLAGS shows $Junk and NonJunk (stored as
#                        dovecot-keywords letters); 26 at most, invalid
#                        atoms dropped, the mail stored all the same
#   subscriptions        a folder created on delivery (by Sieve, or by
#                        -m without a script) is in LSUB and in
#                        LIST (SUBSCRIBED)
#   special-use          [lda] special_use, the mapping Dovecot is given
#                        (LIST RETURN (SPECIAL-USE) agrees):
#                        specialuse_exists, fileinto :specialuse
#   mailboxid            the id IMAP reports (STATUS MAILBOXID, or X-GUID
#                        on a Dovecot 2.3 without OBJECTID: the same GUID)
#                        is accepted by mailboxidexists and fileinto
#                        :mailboxid; an unknown id falls back to the name
#   fcc                  vacation :fcc and notify :fcc file the sent reply /
#                        notification (\Seen by default, :flags); nothing
#                        is filed when no reply is sent
set -u
. "$(dirname "$0")/../harness/harness.sh"
. "$(dirname "$0")/lda-common.sh"
BUILD=${BUILD:-build}
h_init
if ! [ -x /usr/lib/dovecot/imap ] || ! [ -e /usr/lib/dovecot/modules/libdriver_mysql.so ]; then
    t_fail "dovecot-imapd and dovecot-mysql are installed (scripts/deps)"
    t_summary; exit 1
fi
h_start_mariadb
sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern >/dev/null
HASH=$(doveadm pw -s SHA512-CRYPT -p 'pw')
h_sql "INSERT INTO domains (name, kind) VALUES ('st.example', 'local');
       INSERT INTO mailboxes (local_part, domain, password_hash) VALUES
         ('anna', 'st.example', '$HASH')" || exit 1
. "$(dirname "$0")/dovecot-common.sh"
dovecot_lda_conf
MD=$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'anna@st.example'")
BOX=$MAIL/$MD
mkdir -p "$BOX"
lda_install
CONF=$H_DIR/lda.conf
lda_conf "$CONF" "$MAIL" <<EOC
user = nobody
special_use = \\Junk=Junk \\Sent=Sent \\Archive="Old Mail"
EOC
t_ok "-t accepts [lda] special_use" "$LDA" -c "$CONF" -t

# --- Postfix -> postern-lda (pipe), replies to a sink --------------------------------
lda_start_postfix st.example "$CONF" relay

# --- Dovecot IMAP on the same Maildirs -----------------------------------------------
D=$H_DIR/dovecot
mkdir -p "$D"
awk '/^```dovecot-sql$/{b=1; next} /^```$/{b=0} b' docs/dovecot.md > "$D/sql.literal"
sed -e "s|^connect = .*|connect = host=127.0.0.1 port=$H_DB_PORT dbname=postern user=postern password=$H_DB_PASSWORD|" \
    -e "s|'/var/mail/postern/'|'$MAIL/'|" "$D/sql.literal" > "$D/dovecot-sql.conf.ext"
chmod 600 "$D/dovecot-sql.conf.ext"
dovecot_start "$D" "a private dovecot starts" 'namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox "Old Mail" {
    special_use = \Archive
  }
}'
cat > "$H_DIR/imap.py" <<'PY'
import imaplib, re, sys
port, cmd = int(sys.argv[1]), sys.argv[2]
args = sys.argv[3:]
c = imaplib.IMAP4("127.0.0.1", port)
c.login("anna@st.example", "pw")
def q(name):
    return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'
if cmd == "flags":            # FOLDER: the flags of every message, one line each
    typ, d = c.select(q(args[0]), readonly=True)
    if typ == "OK" and int(d[0]):
        typ, d = c.fetch("1:*", "(FLAGS)")
        for x in d:
            m = re.search(rb"FLAGS \(([^)]*)\)", x)
            fl = sorted(m.group(1).decode().split()) if m else []
            print(" ".join(f for f in fl if f != "\\Recent"))
elif cmd == "count":          # FOLDER: messages, or "none"
    typ, d = c.select(q(args[0]), readonly=True)
    print(int(d[0]) if typ == "OK" else "none")
elif cmd == "subject":        # FOLDER: the Subject of the last message
    typ, d = c.select(q(args[0]), readonly=True)
    n = int(d[0]) if typ == "OK" else 0
    if n:
        typ, d = c.fetch(str(n), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        print(d[0][1].decode().strip())
elif cmd == "lsub":
    typ, d = c.lsub('""', "*")
    print(" | ".join(sorted(x.decode().split(' "/" ')[-1].strip('"') for x in d if x)))
elif cmd == "subscribed":     # LIST ... RETURN (SUBSCRIBED): subscribed names
    typ, d = c._simple_command("LIST", '""', '"*"', "RETURN", "(SUBSCRIBED)")
    typ, d = c._untagged_response(typ, d, "LIST")
    print(" | ".join(sorted(x.decode().split(' "/" ')[-1].strip('"') for x in d
                            if x and b"\\Subscribed" in x)))
elif cmd == "specialuse":     # FLAG: the folder LIST RETURN (SPECIAL-USE) gives it
    typ, d = c._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
    typ, d = c._untagged_response(typ, d, "LIST")
    for x in d:
        if x and args[0].encode() in x.split(b")")[0]:
            print(x.decode().split(' "/" ')[-1].strip('"'))
elif cmd == "create":
    print(c.create(q(args[0]))[0])
elif cmd == "mailboxid":      # FOLDER: STATUS MAILBOXID (OBJECTID), else X-GUID
    caps = c.capabilities
    item = "MAILBOXID" if "OBJECTID" in caps else "X-GUID"
    typ, d = c.status(q(args[0]), "(%s)" % item)
    m = re.search(r"(?:MAILBOXID \(|X-GUID )([A-Za-z0-9_-]+)", d[0].decode())
    print(m.group(1) if m else "")
c.logout()
PY
imap() { python3 "$H_DIR/imap.py" "$IP" "$@" 2>&1; }

# the user's script (GUID filled in below)
cat > "$H_DIR/user.sieve" <<'EOS'
require ["fileinto", "imap4flags", "mailbox", "special-use", "mailboxid",
         "fcc", "vacation", "enotify"];
if header :is "subject" "kw" {
    fileinto :flags ["$Junk", "\\Seen", "NonJunk"] "Junk"; stop;
}
if header :is "subject" "kw-many" {
    fileinto :flags ["k01 k02 k03 k04 k05 k06 k07 k08 k09 k10 k11 k12 k13",
                     "k14 k15 k16 k17 k18 k19 k20 k21 k22 k23 k24 k25 k26",
                     "k27 bad(kw \\Recent"] "Many"; stop;
}
if header :is "subject" "create" { fileinto :create "Projects/2026"; stop; }
if header :is "subject" "special" {
    if specialuse_exists "Junk" "\\Junk" {
        fileinto :specialuse "\\Junk" "Spam";
    } else {
        fileinto "NoSpecial";
    }
    stop;
}
if header :is "subject" "special-nofolder" {
    if specialuse_exists "\\Archive" { fileinto "ArchiveSeen"; stop; }
    fileinto :specialuse "\\Archive" "Elsewhere"; stop;
}
if header :is "subject" "id" {
    if mailboxidexists "@GUID@" {
        fileinto :mailboxid "@GUID@" "WrongName";
    } else {
        fileinto "NoId";
    }
    stop;
}
if header :is "subject" "id-unknown" {
    if mailboxidexists "0123456789abcdef0123456789abcdef" { fileinto "Bad"; stop; }
    fileinto :mailboxid "0123456789abcdef0123456789abcdef" "Fallback"; stop;
}
if header :is "subject" "vacation" {
    vacation :fcc "Sent" :days 1 :subject "Away" "I am away.";
}
if header :is "subject" "notify" {
    notify :fcc "Notes" :flags "$Notified" :message "New mail"
           "mailto:pager@remote.example";
}
EOS
install_script() {
    sed "s/@GUID@/${1:-0}/g" "$H_DIR/user.sieve" > "$BOX/.postern.sieve"
    chown -R nobody:nogroup "$MAIL"
}
install_script
chown -R nobody:nogroup "$MAIL" "$H_DIR/spool"
NMSG=0
send() { # SUBJECT [HEADER]
    local f
    NMSG=$((NMSG + 1)); f=$H_DIR/send.$NMSG
    printf 'From: sam@remote.example\nTo: anna@st.example\nSubject: %s\nMessage-ID: <s%s.%s@remote.example>\n%s\nbody %s\n' \
        "$1" "$NMSG" "$$" "${2:+$2$'\n'}" "$NMSG" > "$f"
    h_smtp --port "$H_PF_SMTP_PORT" --from sam@remote.example --to anna@st.example --data "$f" >/dev/null
    h_wait_queue_empty 20 >/dev/null
}
count() { find "$BOX/$1/new" "$BOX/$1/cur" -maxdepth 1 -type f 2>/dev/null | wc -l; }

# --- imap4flags keywords --------------------------------------------------------------
send kw
t_eq "keywords: stored in Junk" 1 "$(count .Junk)"
t_eq "keywords: dovecot-keywords as Dovecot reads it" "$(printf '0 $Junk\n1 NonJunk')" "$(cat "$BOX/.Junk/dovecot-keywords" 2>&1)"
t_match "keywords: file name carries S and the keyword letters" ':2,Sab$' "$(ls "$BOX/.Junk/cur" 2>&1)"
t_eq "keywords: IMAP FETCH FLAGS shows \$Junk and NonJunk" '$Junk NonJunk \Seen' "$(imap flags Junk)"
send kw-many
t_eq "26 keywords at most: the message is stored" 1 "$(count .Many)"
t_eq "... 26 keywords in dovecot-keywords" 26 "$(wc -l < "$BOX/.Many/dovecot-keywords" 2>/dev/null)"
fl=$(imap flags Many)
t_eq "... IMAP shows 26 keywords (k27, bad(kw and \\Recent dropped)" 26 "$(wc -w <<< "$fl")"
t_not "... k27 is not among them" grep -qw k27 <<< "$fl"
sed 's/^fsync = no$/fsync = no\nlog = stderr/' "$CONF" > "$H_DIR/lda-stderr.conf"
out=$(printf 'Subject: kw-many\nFrom: s@ext.example\nTo: anna@st.example\n\nx\n' |
      "$LDA" -c "$H_DIR/lda-stderr.conf" -f s@ext.example -a anna@st.example 2>&1)
t_match "dropped keywords are logged: over 26" 'keyword k27 dropped: the folder holds 26' "$out"
t_match "... not an atom" 'keyword "bad\(kw" is not an IMAP atom' "$out"
t_match "... \\Recent" 'flag \\Recent is not a keyword' "$out"
t_eq "... and the message is stored all the same" 2 "$(count .Many)"

# --- subscriptions --------------------------------------------------------------------
send create
t_eq "fileinto :create: stored in Projects/2026" 1 "$(count .Projects.2026)"
t_eq "subscriptions: Dovecot 2.3 format" "$(printf 'V\t2\n\nJunk\nMany\nProjects\t2026')" "$(cat "$BOX/subscriptions" 2>&1)"
t_eq "subscriptions: IMAP LSUB shows the folders created on delivery" "Junk | Many | Projects/2026" "$(imap lsub)"
t_eq "subscriptions: LIST RETURN (SUBSCRIBED) agrees" "Junk | Many | Projects/2026" "$(imap subscribed)"

# without a script: -m FOLDER (pipe) creating a folder subscribes it too
mv "$BOX/.postern.sieve" "$H_DIR/saved.sieve"
out=$(printf 'Subject: direct\nFrom: s@ext.example\n\nx\n' |
      "$LDA" -c "$CONF" -f s@ext.example -a anna@st.example -m "Direct/Sub" 2>&1)
t_match "-m Direct/Sub without a script: delivered" '^2\.0\.0 ' "$out"
mv "$H_DIR/saved.sieve" "$BOX/.postern.sieve"
t_eq "... and subscribed" "Direct/Sub | Junk | Many | Projects/2026" "$(imap lsub)"

# --- special-use ----------------------------------------------------------------------
t_eq "special-use: Dovecot's LIST (SPECIAL-USE) gives \\Junk to Junk" "Junk" "$(imap specialuse '\Junk')"
send special
t_eq "specialuse_exists + fileinto :specialuse: into Junk, not Spam" "2 0" "$(count .Junk) $(count .Spam)"
t_eq "... Dovecot sees it in Junk" 2 "$(imap count Junk)"
send special-nofolder
t_eq "a special-use folder that does not exist: the name is used" "1 0" "$(count .Elsewhere) $(count .ArchiveSeen)"

# --- mailboxid --------------------------------------------------------------------------
t_eq "mailboxid: IMAP CREATE Archive" OK "$(imap create Archive)"
ID=$(imap mailboxid Archive)
t_match "mailboxid: the id IMAP reports (MAILBOXID or X-GUID)" '^[0-9a-f]{32}$' "$ID"
install_script "$ID"
send id
t_eq "mailboxidexists + fileinto :mailboxid: into Archive by its id" "1 0 0" "$(imap count Archive) $(count .WrongName) $(count .NoId)"
send id-unknown
t_eq "an unknown id: mailboxidexists false, fileinto uses the name" "1 0" "$(count .Fallback) $(count .Bad)"
t_eq "a folder postern-lda created has no dovecot-uidlist of its own" no "$( [ -e "$BOX/.Fallback/dovecot-uidlist" ] && echo yes || echo no)"

# --- fcc --------------------------------------------------------------------------------
send vacation
t_ok "vacation: the reply reaches the smarthost" h_wait_sink_count smarthost 1 10
t_eq "vacation :fcc: the reply is filed in Sent" 1 "$(imap count Sent)"
t_eq "... as \\Seen" '\Seen' "$(imap flags Sent)"
t_eq "... the reply itself (Subject: Away)" "Subject: Away" "$(imap subject Sent)"
send vacation
sleep 1
t_eq "vacation :fcc: no reply in the period, nothing filed" "1 1" "$(h_sink_count smarthost) $(imap count Sent)"
send notify
t_ok "notify: the notification reaches the smarthost" h_wait_sink_count smarthost 2 10
t_eq "notify :fcc :flags: filed in Notes with \$Notified" '$Notified' "$(imap flags Notes)"
t_eq "... the notification itself" "Subject: New mail" "$(imap subject Notes)"
t_match "... Notes, created on delivery, is subscribed" '(^| )Notes( |$)' "$(imap lsub)"
t_eq "every message was also kept or filed: INBOX holds vacation and notify mails" 3 "$(imap count INBOX)"
doveadm -c "$D/dovecot.conf" stop 2>/dev/null
t_summary
