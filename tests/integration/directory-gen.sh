#!/bin/bash
# directory-gen.sh - issue 13: the UCS@school-shaped test directory that
# postern-dirsync runs against (tests/tools/gen-directory.py) and the test
# slapd's RFC 4533 content synchronization (syncprov overlay, harness.sh).
#
#   1. gen-directory.py --small (4 schools, 300 people, 20 classes) is
#      deterministic, its domains SQL loads into the real schema;
#   2. loaded through ldapadd (memberof and syncprov run), the directory has
#      the promised shape: role counts, addresses, classes, nested alle-S
#      groups, member = uniqueMember, memberUid, memberOf, UCS send
#      restrictions, an entryUUID on every entry;
#   3. syncprov answers a refreshOnly sync search (-E sync=ro) with every
#      person and its entryUUID, and a cookie;
#   4. a school-year change (--year-change: 10 % leave, 10 % new, 30 % of
#      pupils move class or school) applied with ldapmodify while a
#      refreshAndPersist search (-E sync=rp) runs: the directory afterwards
#      matches the summary (leavers gone, newcomers there, movers at their
#      new DN and class with the same entryUUID and address, no dangling
#      member), and the persist stage reported every leaver's entryUUID as
#      deleted and every school change under its new DN;
#   5. the full directory (60 schools, 32,000 people, 1,500 classes) is
#      generated and bulk-loaded with slapadd below ou=big; the times go to
#      the log (not asserted), the person count is checked.
set -u
. "$(dirname "$0")/../harness/harness.sh"
h_init
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=$ROOT/tests/tools/gen-directory.py
W=$H_DIR/gen
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mkdir -p "$W"

# --------------------------------------------------------------- 1. generate
t_ok "gen-directory --small writes LDIF, SQL and state" \
    "$H_PYTHON" "$GEN" --small --seed 7 --out-ldif "$W/small.ldif" \
        --out-sql "$W/small.sql" --out-state "$W/small.json"
"$H_PYTHON" "$GEN" --small --seed 7 --out-ldif "$W/again.ldif" \
    --out-sql "$W/again.sql" --out-state "$W/again.json" 2>/dev/null
t_ok "the same seed gives the same LDIF" cmp -s "$W/small.ldif" "$W/again.ldif"
t_ok "... the same state" cmp -s "$W/small.json" "$W/again.json"
"$H_PYTHON" "$GEN" --small --seed 8 --out-ldif "$W/other.ldif" 2>/dev/null
t_not "another seed gives another directory" cmp -s "$W/small.ldif" "$W/other.ldif"
t_eq "no entryUUID in the generated LDIF (slapd makes it)" 0 \
    "$(grep -ci '^entryUUID' "$W/small.ldif")"

h_start_mariadb
h_sql_file "$ROOT/sql/schema.sql"
t_ok "the domains SQL loads into the schema" h_sql_file "$W/small.sql"
t_eq "4 local school domains" \
    "gs1.school.example gym1.school.example rs1.school.example sek1.school.example" \
    "$(h_sql "SELECT name FROM domains WHERE kind = 'local' ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"

# --------------------------------------------------------------- 2. shape
h_start_slapd "$W/small.ldif"

# dump FILE [BASE] - every entry below BASE with the attributes the checks need
dump() {
    ldapsearch -x -LLL -o ldif-wrap=no -H "$H_LDAP_URI" -D "$H_LDAP_BINDDN" \
        -w "$H_LDAP_BINDPW" -b "${2:-$H_LDAP_BASE}" '(objectClass=*)' '*' \
        entryUUID memberOf > "$1"
}
# check MODE ARGS... - the checks, in Python; prints one line per problem
# and a last line "checked: ..."
check() {
    "$H_PYTHON" - "$@" <<'PY'
import base64, json, re, sys

def parse(path):
    entries, cur = {}, None
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line == "":
            cur = None
            continue
        if line.startswith("#"):
            continue
        attr, sep, val = line.partition(":")
        if val.startswith(":"):
            val = base64.b64decode(val[1:].strip()).decode("utf-8")
        else:
            val = val.strip()
        if attr == "dn":
            cur = {"dn": [val]}
            entries[val.lower()] = cur
        elif cur is not None:
            cur.setdefault(attr.lower(), []).append(val)
    return entries

def oc(e, c):
    return c.lower() in [x.lower() for x in e.get("objectclass", [])]

bad = []
ADDR = re.compile(r"^[a-z0-9]+([.-][a-z0-9]+)*@([a-z0-9-]+\.)+[a-z]+$")
mode = sys.argv[1]

def persons_of(d):
    return {e["uid"][0]: e for e in d.values() if oc(e, "inetOrgPerson")}

def groups_of(d):
    return {e["cn"][0]: e for e in d.values() if oc(e, "groupOfNames")}

def check_groups(d, st):
    """every group as the state says; no dangling member"""
    groups = groups_of(d)
    if sorted(groups) != sorted(st["groups"]):
        bad.append("groups differ from the state: %d vs %d"
                   % (len(groups), len(st["groups"])))
    for cn, g in st["groups"].items():
        e = groups.get(cn)
        if e is None:
            continue
        mem = sorted(m.lower() for m in e.get("member", []))
        if mem != sorted(m.lower() for m in e.get("uniquemember", [])):
            bad.append("%s: member != uniqueMember" % cn)
        if mem != sorted(m.lower() for m in g["members"]):
            bad.append("%s: members differ from the state" % cn)
        if not mem:
            bad.append("%s: no member" % cn)
        for m in mem:
            if m not in d:
                bad.append("%s: dangling member %s" % (cn, m))
        uids = sorted(m.split(",")[0][4:] for m in mem if m.startswith("uid="))
        if uids != sorted(e.get("memberuid", [])):
            bad.append("%s: memberUid != the person members" % cn)
        if e.get("mailprimaryaddress") != [g["mail"]]:
            bad.append("%s: mailPrimaryAddress %s" % (cn, e.get("mailprimaryaddress")))
        for attr, key in (("univentionallowedemailusers", "allowed_users"),
                          ("univentionallowedemailgroups", "allowed_groups")):
            if sorted(x.lower() for x in e.get(attr, [])) != \
                    sorted(x.lower() for x in g[key]):
                bad.append("%s: %s differs from the state" % (cn, attr))
    return groups

def check_persons(d, st):
    persons = persons_of(d)
    if sorted(persons) != sorted(st["persons"]):
        bad.append("persons differ from the state: %d vs %d"
                   % (len(persons), len(st["persons"])))
    dom = {s["name"]: s["domain"] for s in st["schools"]}
    for uid, p in st["persons"].items():
        e = persons.get(uid)
        if e is None:
            continue
        if e["dn"][0].lower() != p["dn"].lower():
            bad.append("%s: DN %s, state %s" % (uid, e["dn"][0], p["dn"]))
        if e.get("mailprimaryaddress") != [p["mail"]] or e.get("mail") != [p["mail"]]:
            bad.append("%s: address %s" % (uid, e.get("mailprimaryaddress")))
        if e.get("ucsschoolrole") != ["%s:school:%s" % (p["role"], p["school"])]:
            bad.append("%s: ucsschoolRole %s" % (uid, e.get("ucsschoolrole")))
        if ",ou=%s,ou=schools," % p["school"] not in e["dn"][0]:
            bad.append("%s: not below its school OU" % uid)
        if len(e.get("entryuuid", [])) != 1:
            bad.append("%s: no entryUUID" % uid)
    return persons

if mode == "shape":
    d, st = parse(sys.argv[2]), json.load(open(sys.argv[3], encoding="utf-8"))
    persons = check_persons(d, st)
    groups = check_groups(d, st)
    roles = {}
    for e in persons.values():
        r = e["ucsschoolrole"][0].split(":")[0]
        roles[r] = roles.get(r, 0) + 1
    want = {"student": 180, "teacher": 24, "staff": 6, "parent": 90}
    if roles != want:
        bad.append("roles %s, want %s" % (roles, want))
    addrs = []
    for e in list(persons.values()) + list(groups.values()):
        addrs += e.get("mailprimaryaddress", []) + e.get("mailalternativeaddress", [])
    for a in addrs:
        if not ADDR.match(a):
            bad.append("address %r: not lower-case ASCII" % a)
    if len(addrs) != len(set(addrs)):
        bad.append("%d duplicate addresses" % (len(addrs) - len(set(addrs))))
    for e in persons.values():
        uid, a = e["uid"][0], e["mailprimaryaddress"][0]
        school = e["ucsschoolrole"][0].split(":")[2]
        if a != "%s@%s.school.example" % (uid, school):
            bad.append("%s: address %s is not uid@school domain" % (uid, a))
        if not re.match(r"^[a-z]+\.[a-z]+[0-9]*$", uid):
            bad.append("%s: uid is not first.last[n]" % uid)
    classes = [g for g in groups.values()
               if ",cn=klassen,cn=schueler,cn=groups," in g["dn"][0]]
    if len(classes) != 20:
        bad.append("%d classes, want 20" % len(classes))
    for g in classes:
        cn = g["cn"][0]
        school, cls = cn.split("-", 1)
        if g["mailprimaryaddress"] != ["%s@%s.school.example" % (cls, school)]:
            bad.append("%s: class address %s" % (cn, g["mailprimaryaddress"]))
        kinds = sorted(set(persons[m.split(",")[0][4:]]["ucsschoolrole"][0].split(":")[0]
                           for m in g["member"]))
        if kinds != ["student", "teacher"]:
            bad.append("%s: members are %s, want pupils and a teacher" % (cn, kinds))
    for s in [x["name"] for x in st["schools"]]:
        alle = groups.get("alle-%s" % s)
        lehrer = groups.get("lehrer-%s" % s)
        eltern = groups.get("eltern-%s" % s)
        if not (alle and lehrer and eltern):
            bad.append("%s: alle/lehrer/eltern group missing" % s)
            continue
        want = sorted([g["dn"][0].lower() for g in classes
                       if g["cn"][0].startswith(s + "-")] + [lehrer["dn"][0].lower()])
        if sorted(m.lower() for m in alle["member"]) != want:
            bad.append("alle-%s: members are not its classes and lehrer-%s" % (s, s))
        if alle.get("univentionallowedemailgroups") != [lehrer["dn"][0]] or \
                not alle.get("univentionallowedemailusers"):
            bad.append("alle-%s: send restrictions missing" % s)
        if eltern.get("univentionallowedemailgroups") != [lehrer["dn"][0]]:
            bad.append("eltern-%s: send restriction missing" % s)
        for m in eltern["member"]:
            if not m.split(",")[1] == "cn=eltern":
                bad.append("eltern-%s: %s is no parent" % (s, m))
    for uid, p in st["persons"].items():
        e = persons.get(uid)
        if e is None:
            continue
        if p["role"] == "student":
            want = [groups["%s-%s" % (p["school"], p["class"])]["dn"][0].lower()]
            if [x.lower() for x in e.get("memberof", [])] != want:
                bad.append("%s: memberOf %s" % (uid, e.get("memberof")))
    utf8 = sum(1 for e in persons.values() if not e["displayname"][0].isascii())
    if utf8 == 0:
        bad.append("no displayName with non-ASCII letters")
    quota = [e for e in persons.values() if "univentionmailuserquota" in e]
    if not quota or any(not q["univentionmailuserquota"][0].isdigit() for q in quota):
        bad.append("univentionMailUserQuota missing or not a number")
    for attr in ("mailalternativeaddress", "mailforwardaddress", "mailforwardcopytoself"):
        if not any(attr in e for e in persons.values()):
            bad.append("no person has %s" % attr)
    print("checked: %d persons, %d groups, %d classes, %d addresses, %d non-ASCII names"
          % (len(persons), len(groups), len(classes), len(addrs), utf8))

elif mode == "year":
    before, after = parse(sys.argv[2]), parse(sys.argv[3])
    summ = json.load(open(sys.argv[4], encoding="utf-8"))
    st = json.load(open(sys.argv[5], encoding="utf-8"))
    rp = open(sys.argv[6], encoding="utf-8").read()
    c = summ["counts"]
    persons = check_persons(after, st)
    check_groups(after, st)
    if len(persons) != c["persons_after"]:
        bad.append("%d persons, summary says %d" % (len(persons), c["persons_after"]))
    uuid_before = {e["dn"][0].lower(): e["entryuuid"][0]
                   for e in before.values() if "entryuuid" in e}
    deleted = set(re.findall(r"UUID ([0-9a-f-]{36}) deleted", rp))
    for x in summ["left"]:
        if x["uid"] in persons or x["dn"].lower() in after:
            bad.append("left %s is still there" % x["uid"])
        if uuid_before.get(x["dn"].lower()) not in deleted:
            bad.append("left %s: persist stage did not report its UUID deleted" % x["uid"])
    for x in summ["arrived"]:
        e = after.get(x["dn"].lower())
        if e is None or e.get("mailprimaryaddress") != [x["address"]]:
            bad.append("arrived %s missing or wrong address" % x["uid"])
    for x in summ["moved"]:
        e = after.get(x["dn"].lower())
        if e is None:
            bad.append("moved %s: not at %s" % (x["uid"], x["dn"]))
            continue
        if e["entryuuid"][0] != uuid_before.get(x["old_dn"].lower()):
            bad.append("moved %s: entryUUID changed" % x["uid"])
        if e.get("mailprimaryaddress") != [x["address"]]:
            bad.append("moved %s: address changed" % x["uid"])
        want = "cn=%s-%s,cn=klassen,cn=schueler,cn=groups,ou=%s,ou=schools," % (
            x["school"], x["class"], x["school"])
        mo = [m.lower() for m in e.get("memberof", [])]
        if len(mo) != 1 or not mo[0].startswith(want):
            bad.append("moved %s: memberOf %s, want class %s" % (x["uid"], e.get("memberof"), want))
        if x["school_change"]:
            if x["old_dn"].lower() in after:
                bad.append("moved %s: old DN still there" % x["uid"])
            if not re.search(r"\ndn: %s\ncontrol: [^\n]*\n# SyncState control, UUID %s modified"
                             % (re.escape(x["dn"]), e["entryuuid"][0]), rp, re.I):
                bad.append("moved %s: persist stage did not report the new DN" % x["uid"])
    print("checked: %d persons after, %d left, %d arrived, %d moved (%d school changes), %d deletions seen"
          % (len(persons), len(summ["left"]), len(summ["arrived"]), len(summ["moved"]),
             c["school_changes"], len(deleted)))
for b in bad[:20]:
    print(b)
if len(bad) > 20:
    print("... %d problems in all" % len(bad))
PY
}

dump "$W/before.ldif"
r=$(check shape "$W/before.ldif" "$W/small.json")
echo "# $(tail -n1 <<<"$r")"
t_eq "the directory has the generated shape" "" "$(grep -v '^checked:' <<<"$r")"
t_match "... 300 persons, 32 groups, 20 classes" '^checked: 300 persons, 32 groups, 20 classes' \
    "$(tail -n1 <<<"$r")"
t_eq "the base has 4 school OUs" 4 \
    "$(h_ldapsearch -s one -b "ou=schools,$H_LDAP_BASE" '(objectClass=organizationalUnit)' 1.1 | grep -c '^dn:')"
t_eq "univentionMailUserQuota orders as an integer (>= 1024: teachers and staff)" 30 \
    "$(h_ldapsearch '(univentionMailUserQuota>=1024)' 1.1 | grep -c '^dn:')"
t_eq "ucsschoolRole matches case-insensitively" 24 \
    "$(h_ldapsearch '(ucsschoolRole=TEACHER:school:*)' 1.1 | grep -c '^dn:')"

# --------------------------------------------------------------- 3. refreshOnly
ro=$(ldapsearch -x -o ldif-wrap=no -H "$H_LDAP_URI" -b "$H_LDAP_BASE" -E sync=ro \
    '(objectClass=inetOrgPerson)' entryUUID 2>&1)
t_eq "sync=ro: syncprov sends every person with a SyncState control" 300 \
    "$(grep -c '^# SyncState control, UUID [0-9a-f-]\{36\} added' <<<"$ro")"
t_eq "... and its entryUUID" 300 "$(grep -c '^entryUUID: ' <<<"$ro")"
t_match "... and ends with a SyncDone control and a cookie" \
    $'# SyncDone control[^\n]*\n# cookie: rid=[0-9]+,csn=[0-9]{14}' "$ro"

# --------------------------------------------------------------- 4. year change
t_ok "gen-directory --year-change writes the change LDIF and the summary" \
    "$H_PYTHON" "$GEN" --year-change --seed 7 --state "$W/small.json" \
        --out-ldif "$W/year.ldif" --summary "$W/year.json" --out-state "$W/after.json"
counts=$("$H_PYTHON" -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(c["left"], c["arrived"], c["moved"], c["school_changes"] > 0)' "$W/year.json")
t_eq "summary: 30 left, 30 arrived, 30 % of the remaining pupils moved, some to another school" \
    "30 30 48 True" "$counts"

rp=$H_DIR/sync-rp.out
timeout 60 ldapsearch -x -o ldif-wrap=no -H "$H_LDAP_URI" -b "$H_LDAP_BASE" -E sync=rp \
    '(objectClass=inetOrgPerson)' entryUUID > "$rp" 2>&1 &
RP_PID=$!
h_track_pid "$RP_PID"
t_wait "sync=rp: refresh done, persisting" 10 grep -q '^# refresh done, switching to persist stage' "$rp"
t0=$(date +%s.%N)
t_ok "ldapmodify applies the year change" ldapmodify -x -H "$H_LDAP_URI" \
    -D "$H_LDAP_BINDDN" -w "$H_LDAP_BINDPW" -f "$W/year.ldif" >"$H_DIR/year-modify.log" 2>&1
h_log "year change ($(grep -c '^dn:' "$W/year.ldif") operations) applied in $(secs "$t0" "$(date +%s.%N)") s"
rp_deleted() { [ "$(grep -c '^# SyncState control, UUID .* deleted' "$rp")" -ge "$1" ]; }
t_wait "the persist stage reports 30 deletions" 10 rp_deleted 30
sleep 0.3
kill "$RP_PID" 2>/dev/null
wait "$RP_PID" 2>/dev/null
dump "$W/after.ldif"
r=$(check year "$W/before.ldif" "$W/after.ldif" "$W/year.json" "$W/after.json" "$rp")
echo "# $(tail -n1 <<<"$r")"
t_eq "the directory after the year change matches the summary and the new state" "" \
    "$(grep -v '^checked:' <<<"$r")"
t_match "... all of it was checked" '^checked: 300 persons after, 30 left, 30 arrived, 48 moved' \
    "$(tail -n1 <<<"$r")"

# --------------------------------------------------------------- 5. full size
BIG=ou=big,$H_LDAP_BASE
t0=$(date +%s.%N)
t_ok "gen-directory (60 schools, 32,000 people, 1,500 classes) below $BIG" \
    "$H_PYTHON" "$GEN" --seed 1 --base "$BIG" --out-ldif "$W/big.ldif" \
        --out-state "$W/big.json" --out-sql "$W/big.sql"
t1=$(date +%s.%N)
t_ok "h_slapadd loads it" h_slapadd "$W/big.ldif"
t2=$(date +%s.%N)
"$H_PYTHON" "$GEN" --year-change --state "$W/big.json" --out-ldif "$W/big-year.ldif" \
    --summary "$W/big-year.json" 2>/dev/null
t3=$(date +%s.%N)
h_log "full directory: $(grep -c '^dn:' "$W/big.ldif") entries, $(du -m "$W/big.ldif" | cut -f1) MB LDIF;" \
    "generated in $(secs "$t0" "$t1") s, slapadd + restart $(secs "$t1" "$t2") s," \
    "year change ($(grep -c '^dn:' "$W/big-year.ldif") operations) generated in $(secs "$t2" "$t3") s"
t_eq "32,000 persons below $BIG" 32000 \
    "$(h_ldapsearch -b "$BIG" '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:')"
t_eq "1,500 classes below $BIG" 1500 \
    "$(h_ldapsearch -b "$BIG" '(&(objectClass=groupOfNames)(cn=*-*)(!(cn=lehrer-*))(!(cn=eltern-*))(!(cn=alle-*)))' 1.1 | grep -c '^dn:')"
t_eq "the small directory is still there" 300 \
    "$(h_ldapsearch -b "ou=schools,$H_LDAP_BASE" '(objectClass=inetOrgPerson)' 1.1 | grep -c '^dn:')"
t_summary
