#!/usr/bin/env python3
"""maps-churn.py HOST PORT KEYFILE SECONDS RATE CONNS -- MYSQL-CMD...

The churn phase of bench/maps: what a provisioning system does to
postern-maps on an ISP's normal day.  For SECONDS seconds:
  - CONNS threads each keep one socketmap connection (as Postfix's
    processes do) and look up keys of KEYFILE in the map "mailbox" in a
    loop, counting OK / NOTFOUND / TEMP / other answers;
  - a writer makes RATE changes per second through MYSQL-CMD (a mariadb
    client command line reading SQL on stdin): every change inserts a new
    mailbox churn<i>@<a domain of the keys> and a probe thread asks for it
    until the answer is OK, which gives the change-to-answer latency.
Prints one line:
  lookups N ok N notfound N temp N other N changes N seen N p50_ms X p99_ms X max_ms X
(a change not seen within 30 s counts in changes but not in seen)."""
import random
import socket
import subprocess
import sys
import threading
import time

host, port, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seconds, rate, conns = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
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

    def ask(self, key):
        req = ("mailbox %s" % key).encode()
        self.s.sendall(str(len(req)).encode() + b":" + req + b",")
        n = b""
        while True:
            c = self.f.read(1)
            if not c:
                raise OSError("closed")
            if c == b":":
                break
            n += c
        return self.f.read(int(n) + 1)[:-1].split(b" ", 1)[0].decode()


def looker(seed):
    rnd = random.Random(seed)
    c = Conn()
    local = {"ok": 0, "notfound": 0, "temp": 0, "other": 0}
    while time.monotonic() < stop:
        a = c.ask(rnd.choice(keys))
        k = {"OK": "ok", "NOTFOUND": "notfound", "TEMP": "temp"}.get(a, "other")
        local[k] += 1
    with lock:
        for k, v in local.items():
            counts[k] += v


def probe(addr, t0):
    c = Conn()
    while time.monotonic() < t0 + 30:
        if c.ask(addr) == "OK":
            with lock:
                lat.append((time.monotonic() - t0) * 1000)
            return
        time.sleep(0.005)


threads = [threading.Thread(target=looker, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
probes = []
i = 0
nextt = time.monotonic()
while time.monotonic() < stop - 1:
    d = domains[i % len(domains)]
    addr = "churn%d@%s" % (i, d)
    subprocess.run(mysql, input=("INSERT INTO mailboxes (local_part, domain) VALUES ('churn%d', '%s');" % (i, d)).encode(),
                   check=True)
    t0 = time.monotonic()
    p = threading.Thread(target=probe, args=(addr, t0))
    p.start()
    probes.append(p)
    i += 1
    nextt += 1.0 / rate
    time.sleep(max(0.0, nextt - time.monotonic()))
for t in threads + probes:
    t.join()
lat.sort()


def pct(q):
    return "%.0f" % lat[min(len(lat) - 1, int(len(lat) * q))] if lat else "-"


print("lookups %d ok %d notfound %d temp %d other %d changes %d seen %d p50_ms %s p99_ms %s max_ms %s" % (
    sum(counts.values()), counts["ok"], counts["notfound"], counts["temp"], counts["other"],
    i, len(lat), pct(0.5), pct(0.99), "%.0f" % lat[-1] if lat else "-"))
