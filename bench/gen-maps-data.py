#!/usr/bin/env python3
"""gen-maps-data.py N_MAILBOXES OUT_SQL OUT_KEYS N_KEYS

Writes a synthetic ISP data set (domains, mailboxes, aliases, forwards,
catch-alls) as SQL, and a key list for the lookup benchmark: existing
mailboxes, aliases, upper-case variants, unknown users in known domains,
and unknown domains, shuffled with a fixed seed so every run is the same.
"""
import random
import sys

n_mbox, out_sql, out_keys, n_keys = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rnd = random.Random(4711)
domains = ["kunde%03d.example" % i for i in range(200)]
with open(out_sql, "w") as f:
    f.write("INSERT INTO domains (name, kind) VALUES\n")
    f.write(",\n".join("('%s','local')" % d for d in domains) + ";\n")
    mboxes = []
    for i in range(n_mbox):
        d = domains[i % len(domains)]
        mboxes.append(("user%06d" % i, d))
    for chunk in range(0, len(mboxes), 5000):
        part = mboxes[chunk:chunk + 5000]
        f.write("INSERT INTO mailboxes (local_part, domain, volume) VALUES\n")
        f.write(",\n".join("('%s','%s','vol%02d')" % (l, d, i % 8) for i, (l, d) in enumerate(part)) + ";\n")
    aliases = []
    for i in range(n_mbox // 4):
        l, d = mboxes[rnd.randrange(len(mboxes))]
        aliases.append(("alias%06d" % i, d, "%s@%s" % (l, d), 0))
    for i in range(n_mbox // 20):
        l, d = mboxes[rnd.randrange(len(mboxes))]
        aliases.append((l, d, "fwd%06d@extern.example" % i, i % 2))
    for chunk in range(0, len(aliases), 5000):
        part = aliases[chunk:chunk + 5000]
        f.write("INSERT IGNORE INTO aliases (local_part, domain, target, keep_copy) VALUES\n")
        f.write(",\n".join("('%s','%s','%s',%d)" % a for a in part) + ";\n")
    f.write("INSERT INTO aliases (local_part, domain, target) VALUES\n")
    f.write(",\n".join("(NULL,'%s','postmaster@%s')" % (d, d) for d in domains[:50]) + ";\n")
keys = []
for _ in range(n_keys):
    r = rnd.random()
    if r < 0.55:
        l, d = mboxes[rnd.randrange(len(mboxes))]
        keys.append("%s@%s" % (l, d))
    elif r < 0.75:
        a = aliases[rnd.randrange(len(aliases))]
        keys.append("%s@%s" % (a[0], a[1]))
    elif r < 0.85:
        l, d = mboxes[rnd.randrange(len(mboxes))]
        keys.append(("%s@%s" % (l, d)).upper())
    elif r < 0.95:
        keys.append("nobody%d@%s" % (rnd.randrange(10**6), domains[rnd.randrange(len(domains))]))
    else:
        keys.append("someone@unknown%d.example" % rnd.randrange(1000))
with open(out_keys, "w") as f:
    f.write("\n".join(keys) + "\n")
