#!/usr/bin/env python3
"""gen-directory.py - a UCS@school-shaped test directory, and its school-year
change, for postern-dirsync (issue 13).  Stdlib only; the same arguments and
--seed give byte-identical output.

Mode 1, the directory:

  gen-directory.py [--seed N] [--small] [--schools 60] [--people 32000]
      [--classes 1500] [--base dc=school,dc=example]
      [--domain-suffix school.example] [--no-base]
      --out-ldif DIR.ldif [--out-sql DOMAINS.sql] [--out-state STATE.json]

  --small = 4 schools, 300 people, 20 classes (integration tests).
  People: about 60 % pupils, 8 % teachers, 2 % staff, 30 % parents, spread
  evenly over the schools.  The LDIF (for slapadd or ldapadd, no entryUUID:
  slapd makes it) has:

    <base>, ou=schools,<base>               (not with --no-base)
    ou=S,ou=schools,<base>                  one per school S (gs1, gym1,
                                            rs1, sek1, bs1, gs2, ...)
    cn=users,ou=S... / cn=schueler|lehrer|eltern|mitarbeiter,cn=users,...
    cn=groups,ou=S... / cn=schueler,cn=groups / cn=klassen,cn=schueler,...
                                            containers (organizationalRole)
    uid=U,cn=<role container>,cn=users,ou=S,ou=schools,<base>
        inetOrgPerson + extensibleObject: uid, cn, sn, givenName,
        displayName (UTF-8, base64 in the LDIF when not ASCII), title
        (student|teacher|staff|parent), mail = mailPrimaryAddress
        (uid@S.<domain-suffix>, uid = first.last[n], lower-case ASCII),
        mailAlternativeAddress (some: f.last[n]@...), mailForwardAddress
        + mailForwardCopyToSelf (about 3 %, to uid@forward.example),
        univentionMailUserQuota (MiB; teachers, staff, some pupils),
        ucsschoolRole ROLE:school:S (student, teacher, staff, parent),
        userPassword "test"
    cn=S-<class>,cn=klassen,cn=schueler,cn=groups,ou=S,...   a class:
        mailPrimaryAddress <class>@S.<suffix> (e.g. 5a@gym1.school.example);
        its pupils and the class teacher
    cn=lehrer-S,cn=groups,ou=S,...   lehrer-S@S.<suffix>: the teachers
    cn=eltern-S,cn=groups,ou=S,...   eltern-S@S.<suffix>: the parents;
        univentionAllowedEmailGroups = the lehrer-S group
    cn=alle-S,cn=groups,ou=S,...     alle-S@S.<suffix>: nested, its members
        are the class groups and the lehrer-S group (no persons);
        univentionAllowedEmailGroups = lehrer-S, univentionAllowedEmailUsers
        = the school's first two staff members
  Every group is groupOfNames + extensibleObject with cn, mailPrimaryAddress,
  member and uniqueMember (the same DNs) and memberUid (uids of the person
  members).  Persons come before groups, so the memberof overlay fills
  memberOf when the LDIF goes through ldapadd.

  --out-sql: INSERT rows for the domains table (kind local, one per school).
  --out-state: JSON for the change generator (and for tests): "base",
  "domain_suffix", "seed", "schools" ([{name, domain, dn}]), "classes"
  (school -> class names), "persons" (uid -> uid, dn, role, school, class,
  mail, alt, fwd, copy_to_self, quota, given, sn),
  "groups" (cn -> dn, mail, school, kind, members, allowed_users,
  allowed_groups, class, description), "used" (every address handed
  out), "uids_ever".

Mode 2, the school-year change:

  gen-directory.py --year-change --state STATE.json --out-ldif CHANGES.ldif
      [--leave 10] [--new 10] [--move 30] [--school-move 20] [--seed N]
      [--summary SUMMARY.json] [--out-state NEW-STATE.json]

  An ldapmodify LDIF (changetype entries) that
    - deletes --leave % of the persons (each first removed from its groups'
      member/uniqueMember/memberUid and from univentionAllowedEmailUsers);
    - adds --new % new persons (same role mix; pupils into a class of
      their school, teachers into lehrer-S and as a class's second
      teacher, parents into eltern-S);
    - moves --move % of the remaining pupils: each leaves its class group
      and joins another; --school-move % of the movers change school too:
      modrdn with newsuperior cn=schueler,cn=users,ou=OTHER,..., then
      ucsschoolRole replaced; the address (and uid) stay.
  No group is ever left without a member (groupOfNames needs one).
  --summary: JSON {"seed", "counts", "left": [...], "arrived": [...],
  "moved": [...]}; each item has uid, address, role, dn (new DN) and
  school; moved items also old_dn, old_school, old_class, class and
  school_change; arrived pupils and teachers class (the class joined).
  counts: persons_before, left, arrived, moved, school_changes,
  persons_after.  Addresses and uids are never reused.
  --out-state: the state after the change (feed it to the next
  --year-change, with another --seed).
"""

import argparse
import base64
import json
import random
import sys

FIRST = [
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hannah",
    "ida", "jonas", "karl", "lena", "mia", "noah", "olivia", "paul",
    "quentin", "rosa", "sophie", "tim", "ulla", "valentin", "wilma",
    "xaver", "yara", "zoe", "leon", "marie", "finn", "lea", "elias",
    "emilia", "luis", "lina", "henry", "ella", "anton", "frieda", "jakob",
    "mila", "theo", "nora", "moritz", "lotta", "oskar", "ida", "samuel",
    "luisa", "levi", "amelie", "arne", "selin", "can", "aylin", "mehmet",
    "fatma", "luca", "giulia", "nikola", "ana",
]
FIRST_UTF8 = {  # (display form, ASCII form)
    0: ("Jürgen", "juergen"), 1: ("Björn", "bjoern"), 2: ("Sören", "soeren"),
    3: ("Männi", "maenni"), 4: ("Zoë", "zoe"), 5: ("Jörg", "joerg"),
}
LAST = [
    "mueller", "schmidt", "schneider", "fischer", "weber", "meyer",
    "wagner", "becker", "schulz", "hoffmann", "schaefer", "koch", "bauer",
    "richter", "klein", "wolf", "schroeder", "neumann", "schwarz",
    "zimmermann", "braun", "krueger", "hofmann", "hartmann", "lange",
    "schmitt", "werner", "schmitz", "krause", "meier", "lehmann",
    "schmid", "schulze", "maier", "koehler", "herrmann", "koenig",
    "walter", "mayer", "huber", "kaiser", "fuchs", "peters", "lang",
    "scholz", "moeller", "weiss", "jung", "hahn", "schubert", "vogel",
    "friedrich", "keller", "guenther", "frank", "berger", "winkler",
    "roth", "beck", "lorenz", "baumann", "franke", "albrecht", "schuster",
    "simon", "ludwig", "boehm", "winter", "kraus", "martin", "schumacher",
    "kraemer", "vogt", "stein", "jaeger", "otto", "sommer", "gross",
    "seidel", "heinrich", "yilmaz", "kaya", "rossi", "novak",
]
LAST_UTF8 = {  # ASCII form -> display form
    "mueller": "Müller", "schaefer": "Schäfer", "schroeder": "Schröder",
    "krueger": "Krüger", "koehler": "Köhler", "koenig": "König",
    "moeller": "Möller", "weiss": "Weiß", "guenther": "Günther",
    "boehm": "Böhm", "kraemer": "Krämer", "jaeger": "Jäger",
    "gross": "Groß",
}
SCHOOL_TYPES = ["gs", "gym", "rs", "sek", "bs"]
GRADES = [5, 6, 7, 8, 9, 10, 11, 12]
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# role -> (title, container, ucsschoolRole word)
ROLES = {
    "student": ("student", "schueler"),
    "teacher": ("teacher", "lehrer"),
    "staff": ("staff", "mitarbeiter"),
    "parent": ("parent", "eltern"),
}
ROLE_MIX = [("student", 60), ("teacher", 8), ("staff", 2), ("parent", 30)]


def die(msg):
    sys.stderr.write("gen-directory: %s\n" % msg)
    sys.exit(2)


# ------------------------------------------------------------------ LDIF
def ldif_line(attr, value):
    s = str(value)
    safe = (s.isascii() and s != "" and s[0] not in " :<"
            and s[-1] != " " and "\n" not in s and "\r" not in s
            and "\0" not in s)
    if safe:
        return "%s: %s\n" % (attr, s)
    return "%s:: %s\n" % (attr, base64.b64encode(s.encode()).decode())


def ldif_entry(dn, attrs):
    out = [ldif_line("dn", dn)]
    for a, v in attrs:
        out.append(ldif_line(a, v))
    out.append("\n")
    return "".join(out)


# ------------------------------------------------------------------ model
class Dir:
    """The directory as the generators see it (also the state file)."""

    def __init__(self, st):
        self.st = st
        self.idx = None         # member DN -> set of group cns

    @property
    def base(self):
        return self.st["base"]

    def school_dn(self, s):
        return "ou=%s,ou=schools,%s" % (s, self.base)

    def domain(self, s):
        return "%s.%s" % (s, self.st["domain_suffix"])

    def person_dn(self, uid, role, school):
        return "uid=%s,cn=%s,cn=users,%s" % (uid, ROLES[role][1],
                                             self.school_dn(school))

    def class_cn(self, school, cls):
        return "%s-%s" % (school, cls)

    def class_dn(self, school, cls):
        return "cn=%s,cn=klassen,cn=schueler,cn=groups,%s" % (
            self.class_cn(school, cls), self.school_dn(school))

    def group_dn(self, cn, school):
        return "cn=%s,cn=groups,%s" % (cn, self.school_dn(school))

    # a new person: unique uid/address, never one handed out before
    def new_person(self, rng, role, school):
        st = self.st
        used = st["_used"]
        fi = rng.randrange(len(FIRST))
        first_a = FIRST[fi]
        first_d = first_a.capitalize()
        if rng.random() < 0.05:
            first_d, first_a = FIRST_UTF8[rng.randrange(len(FIRST_UTF8))]
        last_a = LAST[rng.randrange(len(LAST))]
        last_d = LAST_UTF8.get(last_a, last_a.capitalize())
        dom = self.domain(school)
        stem = "%s.%s" % (first_a, last_a)
        n = 1
        uid = stem
        while uid in st["persons"] or ("%s@%s" % (uid, dom)) in used \
                or uid in st["_uids_ever"]:
            n += 1
            uid = "%s%d" % (stem, n)
        mail = "%s@%s" % (uid, dom)
        used.add(mail)
        st["_uids_ever"].add(uid)
        p = {
            "uid": uid, "role": role, "school": school,
            "dn": self.person_dn(uid, role, school), "mail": mail,
            "given": first_d, "sn": last_d, "class": None,
            "alt": [], "fwd": [], "copy_to_self": None, "quota": None,
        }
        r = rng.random()
        if role in ("teacher", "staff") and r < 0.4 or r < 0.05:
            m = 1
            alt = "%s.%s@%s" % (first_a[0], last_a, dom)
            while alt in used:
                m += 1
                alt = "%s.%s%d@%s" % (first_a[0], last_a, m, dom)
            used.add(alt)
            p["alt"].append(alt)
        if rng.random() < 0.03:
            p["fwd"].append("%s@forward.example" % uid)
            p["copy_to_self"] = rng.choice(["0", "1"])
        if role == "teacher":
            p["quota"] = 2048
        elif role == "staff":
            p["quota"] = 1024
        elif role == "student" and rng.random() < 0.2:
            p["quota"] = 512
        st["persons"][uid] = p
        return p

    def person_attrs(self, p):
        a = [("objectClass", "inetOrgPerson"),
             ("objectClass", "extensibleObject"),
             ("uid", p["uid"]),
             ("cn", "%s %s" % (p["given"], p["sn"])),
             ("sn", p["sn"]), ("givenName", p["given"]),
             ("displayName", "%s %s" % (p["given"], p["sn"])),
             ("title", ROLES[p["role"]][0]),
             ("mail", p["mail"]), ("mailPrimaryAddress", p["mail"])]
        for x in p["alt"]:
            a.append(("mailAlternativeAddress", x))
        for x in p["fwd"]:
            a.append(("mailForwardAddress", x))
        if p["copy_to_self"] is not None:
            a.append(("mailForwardCopyToSelf", p["copy_to_self"]))
        if p["quota"] is not None:
            a.append(("univentionMailUserQuota", p["quota"]))
        a.append(("ucsschoolRole", "%s:school:%s" % (p["role"], p["school"])))
        a.append(("userPassword", "test"))
        return a

    def group_attrs(self, g):
        a = [("objectClass", "groupOfNames"),
             ("objectClass", "extensibleObject"),
             ("cn", g["cn"]), ("mailPrimaryAddress", g["mail"]),
             ("description", g["description"])]
        for m in g["members"]:
            a.append(("member", m))
        for m in g["members"]:
            a.append(("uniqueMember", m))
        for u in self.member_uids(g):
            a.append(("memberUid", u))
        for x in g["allowed_users"]:
            a.append(("univentionAllowedEmailUsers", x))
        for x in g["allowed_groups"]:
            a.append(("univentionAllowedEmailGroups", x))
        return a

    def member_uids(self, g):
        out = []
        for m in g["members"]:
            if m.startswith("uid="):
                out.append(m[4:m.index(",")])
        return out

    def groups_of(self, dn):
        """the cns of the groups dn is a direct member of, sorted"""
        if self.idx is None:
            self.idx = {}
            for cn, g in self.st["groups"].items():
                for m in g["members"]:
                    self.idx.setdefault(m, set()).add(cn)
        return sorted(self.idx.get(dn, ()))

    def member_add(self, cn, dn):
        self.st["groups"][cn]["members"].append(dn)
        if self.idx is not None:
            self.idx.setdefault(dn, set()).add(cn)

    def member_del(self, cn, dn):
        self.st["groups"][cn]["members"].remove(dn)
        if self.idx is not None:
            self.idx[dn].discard(cn)


def new_state(args):
    return {
        "version": 1, "seed": args.seed, "base": args.base,
        "domain_suffix": args.domain_suffix, "schools": [],
        "classes": {}, "persons": {}, "groups": {},
        "_used": set(), "_uids_ever": set(),
    }


def school_names(n):
    out = []
    i = 0
    while len(out) < n:
        out.append("%s%d" % (SCHOOL_TYPES[i % len(SCHOOL_TYPES)],
                             i // len(SCHOOL_TYPES) + 1))
        i += 1
    return out


def role_counts(people):
    counts = {}
    total = 0
    for role, pct in ROLE_MIX:
        counts[role] = people * pct // 100
        total += counts[role]
    counts["student"] += people - total
    return counts


def build(args):
    rng = random.Random("gen-directory/%d" % args.seed)
    st = new_state(args)
    d = Dir(st)
    schools = school_names(args.schools)
    st["schools"] = [{"name": s, "domain": d.domain(s), "dn": d.school_dn(s)}
                     for s in schools]
    # classes spread over the schools
    for i, s in enumerate(schools):
        k = args.classes // len(schools) + (1 if i < args.classes % len(schools)
                                            else 0)
        st["classes"][s] = ["%d%s" % (GRADES[j % len(GRADES)],
                                      LETTERS[j // len(GRADES)])
                            for j in range(k)]
        if k > len(GRADES) * len(LETTERS):
            die("too many classes per school")
    # persons: each role round-robin over the schools
    counts = role_counts(args.people)
    order = []
    for role in ("teacher", "staff", "student", "parent"):
        for i in range(counts[role]):
            order.append((role, schools[i % len(schools)]))
    for role, s in order:
        p = d.new_person(rng, role, s)
        if role == "student":
            if not st["classes"][s]:
                die("school %s has pupils but no class" % s)
            p["class"] = rng.choice(st["classes"][s])
    # groups
    for s in schools:
        dom = d.domain(s)
        persons = [p for p in st["persons"].values() if p["school"] == s]
        teachers = [p["dn"] for p in persons if p["role"] == "teacher"]
        staff = [p["dn"] for p in persons if p["role"] == "staff"]
        parents = [p["dn"] for p in persons if p["role"] == "parent"]
        class_groups = []
        for ci, cls in enumerate(st["classes"][s]):
            members = [p["dn"] for p in persons
                       if p["role"] == "student" and p["class"] == cls]
            if teachers:
                members.append(teachers[ci % len(teachers)])
            if not members:
                continue        # groupOfNames needs a member
            cn = d.class_cn(s, cls)
            st["groups"][cn] = {
                "cn": cn, "dn": d.class_dn(s, cls), "school": s,
                "kind": "class", "class": cls,
                "mail": "%s@%s" % (cls, dom),
                "description": "Klasse %s (%s)" % (cls, s),
                "members": members, "allowed_users": [],
                "allowed_groups": []}
            st["_used"].add("%s@%s" % (cls, dom))
            class_groups.append(d.class_dn(s, cls))
        lehrer_dn = d.group_dn("lehrer-%s" % s, s)
        specs = [
            ("lehrer-%s" % s, "teachers", "Lehrkraefte %s" % s, teachers,
             [], []),
            ("eltern-%s" % s, "parents", "Eltern %s" % s, parents, [],
             [lehrer_dn] if teachers else []),
            ("alle-%s" % s, "all", "Alle Klassen und Lehrkraefte %s" % s,
             class_groups + ([lehrer_dn] if teachers else []),
             staff[:2], [lehrer_dn] if teachers else []),
        ]
        for cn, kind, desc, members, au, ag in specs:
            if not members:
                continue
            st["groups"][cn] = {
                "cn": cn, "dn": d.group_dn(cn, s), "school": s,
                "kind": kind, "class": None, "mail": "%s@%s" % (cn, dom),
                "description": desc, "members": list(members),
                "allowed_users": list(au), "allowed_groups": list(ag)}
            st["_used"].add("%s@%s" % (cn, dom))
    return st


def base_entries(d, no_base):
    out = []
    if not no_base:
        base = d.base
        rdn = base.split(",", 1)[0]
        attr, val = rdn.split("=", 1)
        attr = attr.strip().lower()
        if attr == "dc":
            attrs = [("objectClass", "dcObject"),
                     ("objectClass", "organization"), ("dc", val),
                     ("o", "Schultraeger (gen-directory)")]
        elif attr == "ou":
            attrs = [("objectClass", "organizationalUnit"), ("ou", val)]
        elif attr == "o":
            attrs = [("objectClass", "organization"), ("o", val)]
        else:
            die("--base must start with dc=, ou= or o=")
        out.append(ldif_entry(base, attrs))
        out.append(ldif_entry("ou=schools,%s" % base,
                              [("objectClass", "organizationalUnit"),
                               ("ou", "schools")]))
    return out


def write_directory(st, args):
    d = Dir(st)
    out = ["# generated by tests/tools/gen-directory.py --seed %d "
           "--schools %d --people %d --classes %d\n"
           "# %d persons, %d groups; do not edit\n\n"
           % (args.seed, args.schools, args.people, args.classes,
              len(st["persons"]), len(st["groups"]))]
    out += base_entries(d, args.no_base)
    for sc in st["schools"]:
        s = sc["name"]
        sdn = sc["dn"]
        out.append(ldif_entry(sdn, [("objectClass", "organizationalUnit"),
                                    ("ou", s),
                                    ("description",
                                     "school %s (%s)" % (s, sc["domain"]))]))
        for c in ["cn=users", "cn=lehrer,cn=users", "cn=schueler,cn=users",
                  "cn=eltern,cn=users", "cn=mitarbeiter,cn=users",
                  "cn=groups", "cn=schueler,cn=groups",
                  "cn=klassen,cn=schueler,cn=groups"]:
            out.append(ldif_entry("%s,%s" % (c, sdn),
                                  [("objectClass", "organizationalRole"),
                                   ("cn", c.split(",")[0][3:])]))
    for uid in st["persons"]:
        p = st["persons"][uid]
        out.append(ldif_entry(p["dn"], d.person_attrs(p)))
    # classes and lehrer first: alle-S holds them
    kinds = {"class": 0, "teachers": 1, "parents": 2, "all": 3}
    for cn in sorted(st["groups"],
                     key=lambda c: (kinds[st["groups"][c]["kind"]], c)):
        g = st["groups"][cn]
        out.append(ldif_entry(g["dn"], d.group_attrs(g)))
    with open(args.out_ldif, "w", encoding="utf-8") as f:
        f.write("".join(out))


def write_sql(st, path):
    rows = ["  ('%s', 'local', 'school %s (gen-directory)')"
            % (sc["domain"], sc["name"]) for sc in st["schools"]]
    with open(path, "w", encoding="utf-8") as f:
        f.write("-- generated by tests/tools/gen-directory.py: the school "
                "domains\nINSERT INTO domains (name, kind, description) "
                "VALUES\n%s;\n" % ",\n".join(rows))


def save_state(st, path):
    out = dict(st)
    out["used"] = sorted(st["_used"])
    out["uids_ever"] = sorted(st["_uids_ever"])
    del out["_used"]
    del out["_uids_ever"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, sort_keys=True, indent=0, ensure_ascii=False)
        f.write("\n")


def load_state(path):
    with open(path, encoding="utf-8") as f:
        st = json.load(f)
    st["_used"] = set(st.pop("used"))
    st["_uids_ever"] = set(st.pop("uids_ever"))
    return st


# ------------------------------------------------------------------ year change
def modify(dn, ops):
    """ops: [(op, attr, [values])] -> one changetype: modify record"""
    out = [ldif_line("dn", dn), "changetype: modify\n"]
    for op, attr, vals in ops:
        out.append("%s: %s\n" % (op, attr))
        for v in vals:
            out.append(ldif_line(attr, v))
        out.append("-\n")
    out.append("\n")
    return "".join(out)


def membership_ops(op, p):
    ops = [(op, "member", [p["dn"]]), (op, "uniqueMember", [p["dn"]]),
           (op, "memberUid", [p["uid"]])]
    return ops


def year_change(args):
    st = load_state(args.state)
    d = Dir(st)
    rng = random.Random("gen-directory/year/%d/%d" % (st["seed"], args.seed))
    persons = st["persons"]
    groups = st["groups"]
    schools = [s["name"] for s in st["schools"]]
    n0 = len(persons)
    out = ["# generated by tests/tools/gen-directory.py --year-change "
           "--seed %d --leave %d --new %d --move %d (ldapmodify -f)\n\n"
           % (args.seed, args.leave, args.new, args.move)]
    summary = {"seed": args.seed, "left": [], "arrived": [], "moved": []}

    def safe_to_remove(dn, skip=()):
        for cn in d.groups_of(dn):
            if cn in skip:
                continue
            if len(groups[cn]["members"]) < 2:
                return False
        return True

    def remove_from_groups(p, only=None):
        for cn in d.groups_of(p["dn"]):
            if only is not None and cn != only:
                continue
            d.member_del(cn, p["dn"])
            out.append(modify(groups[cn]["dn"], membership_ops("delete", p)))

    def add_to_group(p, cn):
        d.member_add(cn, p["dn"])
        out.append(modify(groups[cn]["dn"], membership_ops("add", p)))

    allowed_in = {}
    for cn in sorted(groups):
        for x in groups[cn]["allowed_users"]:
            allowed_in.setdefault(x, []).append(cn)

    # 1. leavers
    uids = sorted(persons)
    rng.shuffle(uids)
    want = n0 * args.leave // 100
    left = set()
    for uid in uids:
        if len(left) >= want:
            break
        p = persons[uid]
        if not safe_to_remove(p["dn"]):
            continue
        remove_from_groups(p)
        for cn in allowed_in.get(p["dn"], []):
            g = groups[cn]
            if p["dn"] in g["allowed_users"]:
                g["allowed_users"].remove(p["dn"])
                out.append(modify(g["dn"], [("delete",
                                             "univentionAllowedEmailUsers",
                                             [p["dn"]])]))
        out.append("%schangetype: delete\n\n" % ldif_line("dn", p["dn"]))
        left.add(uid)
        summary["left"].append({"uid": uid, "address": p["mail"],
                                "role": p["role"], "dn": p["dn"],
                                "school": p["school"]})
        del persons[uid]

    # 2. movers: pupils only
    pupils = sorted(u for u in persons if persons[u]["role"] == "student")
    rng.shuffle(pupils)
    want = len(pupils) * args.move // 100
    moved = 0
    for uid in pupils:
        if moved >= want:
            break
        p = persons[uid]
        old_cls = p["class"]
        old_cn = d.class_cn(p["school"], old_cls)
        if old_cn not in groups or len(groups[old_cn]["members"]) < 2:
            continue
        school_change = len(schools) > 1 and \
            rng.randrange(100) < args.school_move
        if school_change:
            new_school = rng.choice([s for s in schools if s != p["school"]])
        else:
            new_school = p["school"]
        choices = [c for c in st["classes"][new_school]
                   if d.class_cn(new_school, c) in groups
                   and not (new_school == p["school"] and c == old_cls)]
        if not choices:
            continue
        new_cls = rng.choice(choices)
        item = {"uid": uid, "address": p["mail"], "role": p["role"],
                "old_dn": p["dn"], "old_school": p["school"],
                "old_class": old_cls, "school_change": school_change}
        remove_from_groups(p, only=old_cn)
        if school_change:
            new_dn = d.person_dn(uid, "student", new_school)
            if d.groups_of(p["dn"]):
                die("a pupil in groups besides the class cannot move")
            out.append("%schangetype: modrdn\nnewrdn: uid=%s\n"
                       "deleteoldrdn: 1\n%s\n"
                       % (ldif_line("dn", p["dn"]), uid,
                          ldif_line("newsuperior", new_dn.split(",", 1)[1])))
            p["dn"] = new_dn
            p["school"] = new_school
            out.append(modify(new_dn, [("replace", "ucsschoolRole",
                                        ["student:school:%s" % new_school])]))
        p["class"] = new_cls
        add_to_group(p, d.class_cn(new_school, new_cls))
        item.update({"dn": p["dn"], "school": p["school"], "class": new_cls})
        summary["moved"].append(item)
        moved += 1

    # 3. newcomers, same role mix
    counts = role_counts(n0 * args.new // 100)
    for role in ("teacher", "staff", "student", "parent"):
        for _ in range(counts[role]):
            s = rng.choice(schools)
            p = d.new_person(rng, role, s)
            if role == "student":
                cls = [c for c in st["classes"][s]
                       if d.class_cn(s, c) in groups]
                if not cls:
                    del persons[p["uid"]]
                    continue
                p["class"] = rng.choice(cls)
            out.append("%schangetype: add\n%s\n" % (
                ldif_line("dn", p["dn"]),
                "".join(ldif_line(a, v) for a, v in d.person_attrs(p))))
            item = {"uid": p["uid"], "address": p["mail"], "role": role,
                    "dn": p["dn"], "school": s}
            if role == "student":
                add_to_group(p, d.class_cn(s, p["class"]))
                item["class"] = p["class"]
            elif role == "teacher":
                if "lehrer-%s" % s in groups:
                    add_to_group(p, "lehrer-%s" % s)
                cls = [c for c in st["classes"][s]
                       if d.class_cn(s, c) in groups]
                if cls:
                    c = rng.choice(cls)
                    add_to_group(p, d.class_cn(s, c))
                    item["class"] = c
            elif role == "parent" and "eltern-%s" % s in groups:
                add_to_group(p, "eltern-%s" % s)
            summary["arrived"].append(item)

    summary["counts"] = {
        "persons_before": n0, "left": len(summary["left"]),
        "arrived": len(summary["arrived"]), "moved": len(summary["moved"]),
        "school_changes": sum(1 for m in summary["moved"]
                              if m["school_change"]),
        "persons_after": len(persons)}
    with open(args.out_ldif, "w", encoding="utf-8") as f:
        f.write("".join(out))
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, sort_keys=True, indent=1,
                      ensure_ascii=False)
            f.write("\n")
    if args.out_state:
        save_state(st, args.out_state)
    return summary["counts"]


def main():
    ap = argparse.ArgumentParser(
        description="UCS@school-shaped test directory and its school-year "
                    "change (see the header of this file)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--small", action="store_true",
                    help="4 schools, 300 people, 20 classes")
    ap.add_argument("--schools", type=int)
    ap.add_argument("--people", type=int)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--base", default="dc=school,dc=example")
    ap.add_argument("--domain-suffix", default="school.example")
    ap.add_argument("--no-base", action="store_true",
                    help="leave out <base> and ou=schools,<base>")
    ap.add_argument("--out-ldif")
    ap.add_argument("--out-sql")
    ap.add_argument("--out-state")
    ap.add_argument("--year-change", action="store_true")
    ap.add_argument("--state")
    ap.add_argument("--summary")
    ap.add_argument("--leave", type=int, default=10)
    ap.add_argument("--new", type=int, default=10)
    ap.add_argument("--move", type=int, default=30)
    ap.add_argument("--school-move", type=int, default=20,
                    help="%% of the movers that change school")
    args = ap.parse_args()
    if not args.out_ldif:
        die("--out-ldif is required")
    if args.year_change:
        if not args.state:
            die("--year-change needs --state")
        c = year_change(args)
        sys.stderr.write("gen-directory: year change: %(left)d left, "
                         "%(arrived)d arrived, %(moved)d moved "
                         "(%(school_changes)d to another school), "
                         "%(persons_after)d persons\n" % c)
        return
    dflt = (4, 300, 20) if args.small else (60, 32000, 1500)
    if args.schools is None:
        args.schools = dflt[0]
    if args.people is None:
        args.people = dflt[1]
    if args.classes is None:
        args.classes = dflt[2]
    if args.schools < 1 or args.people < 0 or args.classes < 0:
        die("--schools must be at least 1, --people and --classes >= 0")
    st = build(args)
    write_directory(st, args)
    if args.out_sql:
        write_sql(st, args.out_sql)
    if args.out_state:
        save_state(st, args.out_state)
    sys.stderr.write("gen-directory: %d schools, %d persons, %d groups\n"
                     % (len(st["schools"]), len(st["persons"]),
                        len(st["groups"])))


if __name__ == "__main__":
    main()
