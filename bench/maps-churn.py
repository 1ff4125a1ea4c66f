#!/usr/bin/env python3
"""maps-churn.py [--mix] HOST PORT KEYFILE SECONDS RATE CONNS -- MYSQL-CMD...

The churn phase of bench/maps: what a provisioning system does to
postern-maps on an ISP's normal day.  For SECONDS seconds:
  - CONNS threads each keep one socketmap connection (as Postfix's
    processes do) and look up keys of KEYFILE in the map "mailbox" in a
    loop, counting OK / NOTFOUND / TEMP / other answers;
  - a writer makes RATE changes per second through MYSQL-CMD (a mariadb
    client command line reading SQL on stdin): every change inserts a new
    mailbox c<pid>churn<i>@<a domain of the keys> and a probe thread asks for it
    until the answer is OK, which gives the change-to-answer latency.
With --mix the changes rotate through what an admin does, each probed
for its own expected answer: a new mailbox (mailbox -> OK), a mailbox
added 41 changes before deleted (mailbox -> NOTFOUND), a new alias
(alias -> OK), and the target of an alias added 41 changes before changed
(alias -> the new target); a change to a row waits until the row's own
probe saw it.
Prints one line:
  lookups N ok N notfound N temp N other N changes N seen N p50_ms X p99_ms X max_ms X
(a change not seen within 30 s counts in changes but not in seen)."""
import os
import random
import socket
import subprocess
import sys
import threading
import time

args = sys.argv[1:]
mix = args[0] == "--mix"
if mix:
    args = args[1:]
host, port, keyfile = args[0], int(args[1]), args[2]
seconds, rate, conns = float(args[3]), float(args[4]), int(args[5])
mysql = sys.argv[sys.argv.index("--") + 1:]
keys = [k.strip() for k in open(keyfile) if k.strip()]
domains = sorted({k.split("@", 1)[1].lower() for k in keys if "@" in k and "unknown" not in k})[:50]
lock = threading.Lock()
counts = {"ok": 0, "notfound": 0, "temp": 0, "other": 0}
lat = []
stop = time.monotonic() + seconds


class Conn:
    def __init__(self):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")

    def ask(self, key, name="mailbox"):
        req = ("%s %s" % (name, key)).encode()
        self.s.sendall(str(len(req)).encode() + b":" + req + b",")
        n = b""
        while True:
            c = self.f.read(1)
            if not c:
                raise OSError("closed")
            if c == b":":
                break
            n += c
        return self.f.read(int(n) + 1)[:-1].decode()


def looker(seed):
    rnd = random.Random(seed)
    c = Conn()
    local = {"ok": 0, "notfound": 0, "temp": 0, "other": 0}
    while time.monotonic() < stop:
        a = c.ask(rnd.choice(keys)).split(" ", 1)[0]
        k = {"OK": "ok", "NOTFOUND": "notfound", "TEMP": "temp"}.get(a, "other")
        local[k] += 1
    with lock:
        for k, v in local.items():
            counts[k] += v


missed = []


def probe(addr, t0, name="mailbox", want="OK"):
    c = Conn()
    a = ""
    while time.monotonic() < t0 + 30:
        a = c.ask(addr, name).strip()
        if a == want or (want == "OK" and a.startswith("OK ")):
            with lock:
                lat.append((time.monotonic() - t0) * 1000)
            return
        time.sleep(0.005)
    with lock:
        missed.append("%s %s: wanted %r, last %r" % (name, addr, want, a))


threads = [threading.Thread(target=looker, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
# one client session for all changes, as a provisioning system keeps one
writer = subprocess.Popen(mysql + ["--batch", "--skip-column-names", "--unbuffered"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
probes = []
P = "c%d" % os.getpid()  # names of this run: a second run adds new rows
LAG = 41  # a change to a row waits this many changes after its creation
i = 0
nextt = time.monotonic()
while time.monotonic() < stop - 1:
    d = domains[i % len(domains)]
    step = i % 4 if mix else 0
    if step in (1, 3) and i < LAG:
        step -= 1  # nothing old enough to change yet: add instead
    if step in (1, 3):
        probes[i - LAG].join()  # its own probe is done: no race with it
    j, pd = i - LAG, domains[(i - LAG) % len(domains)]
    if step == 0:    # a new mailbox
        sql, pargs = ("INSERT INTO mailboxes (local_part, domain) VALUES ('%schurn%d', '%s');" % (P, i, d),
                      ("%schurn%d@%s" % (P, i, d),))
    elif step == 1:  # the mailbox added LAG changes ago, deleted
        sql, pargs = ("DELETE FROM mailboxes WHERE local_part = '%schurn%d' AND domain = '%s';" % (P, j, pd),
                      ("%schurn%d@%s" % (P, j, pd), "mailbox", "NOTFOUND"))
    elif step == 2:  # a new alias
        sql, pargs = ("INSERT INTO aliases (domain, local_part, target) VALUES ('%s', '%salias%d', 'first%d@remote.example');" % (d, P, i, i),
                      ("%salias%d@%s" % (P, i, d), "alias", "OK first%d@remote.example" % i))
    else:            # the target of the alias added LAG changes ago
        sql, pargs = ("UPDATE aliases SET target = 'second%d@remote.example' WHERE domain = '%s' AND local_part = '%salias%d';" % (j, pd, P, j),
                      ("%salias%d@%s" % (P, j, pd), "alias", "OK second%d@remote.example" % j))
    writer.stdin.write(("%s\nSELECT 'done%d';\n" % (sql, i)).encode())
    writer.stdin.flush()
    while True:  # the change is committed (autocommit) once this is read
        line = writer.stdout.readline()
        if not line:
            sys.exit("maps-churn: the SQL client ended")
        if line.strip() == b"done%d" % i:
            break
    t0 = time.monotonic()
    p = threading.Thread(target=probe, args=(pargs[0], t0) + pargs[1:])
    p.start()
    probes.append(p)
    i += 1
    nextt += 1.0 / rate
    time.sleep(max(0.0, nextt - time.monotonic()))
writer.stdin.close()
writer.wait()
for t in threads + probes:
    t.join()
lat.sort()
for m in missed[:5]:
    print("not seen: " + m, file=sys.stderr)


def pct(q):
    return "%.0f" % lat[min(len(lat) - 1, int(len(lat) * q))] if lat else "-"


print("lookups %d ok %d notfound %d temp %d other %d changes %d seen %d p50_ms %s p99_ms %s max_ms %s" % (
    sum(counts.values()), counts["ok"], counts["notfound"], counts["temp"], counts["other"],
    i, len(lat), pct(0.5), pct(0.99), "%.0f" % lat[-1] if lat else "-"))
