#!/usr/bin/env python3
"""directory-changes.py - change-to-answer of postern-dirsync + postern-maps
(bench/directory, part 2).  Stdlib only.

  directory-changes.py --ldap-uri URI --bind-dn DN --bind-pw PW
      --parent DN --domain DOMAIN --school S --tag TAG --count N
      --maps HOST:PORT --sql 'mariadb ... postern' [--timeout 30]

For i in 1..N: a new person uid=bench.TAG.i below --parent (inetOrgPerson +
extensibleObject, mailPrimaryAddress bench.TAG.i@DOMAIN, ucsschoolRole
student:school:S) is added with ldapmodify; the clock starts just before
ldapmodify runs (its own few milliseconds are included) and stops when
postern-maps' `mailbox` map answers OK for the address (socketmap, one
reused connection, polled every 20 ms).  Then for each of them: deleted
with ldapmodify, clock until the mailbox row's state in SQL is 'leaving'
(one long-lived mariadb client, polled every 20 ms).  Changes go one at a
time: each waits for the previous one's answer.

Prints one line:
  add N p50_ms p99_ms max_ms missed del N p50_ms p99_ms max_ms missed
(missed = not visible within --timeout seconds; counted at the timeout).
"""
import argparse
import socket
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
for a in ("--ldap-uri", "--bind-dn", "--bind-pw", "--parent", "--domain",
          "--school", "--tag", "--maps", "--sql"):
    ap.add_argument(a, required=True)
ap.add_argument("--count", type=int, default=20)
ap.add_argument("--timeout", type=float, default=30.0)
o = ap.parse_args()

host, port = o.maps.rsplit(":", 1)
sock = socket.create_connection((host, int(port)))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sf = sock.makefile("rb")


def sockmap(name, key):
    req = ("%s %s" % (name, key)).encode()
    sock.sendall(str(len(req)).encode() + b":" + req + b",")
    n = b""
    while True:
        c = sf.read(1)
        if not c:
            raise SystemExit("directory-changes: postern-maps closed the connection")
        if c == b":":
            break
        n += c
    v = sf.read(int(n) + 1)
    return v[:-1].decode("utf-8", "replace")


sql = subprocess.Popen(o.sql.split() + ["-N", "-B", "-n"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, text=True, bufsize=1)


def state(addr):
    sql.stdin.write("SELECT IFNULL((SELECT state FROM mailboxes WHERE address = '%s'), 'none');\n"
                    % addr.replace("'", ""))
    sql.stdin.flush()
    line = sql.stdout.readline()
    if not line:
        raise SystemExit("directory-changes: the mariadb client ended")
    return line.strip()


def ldapmodify(ldif):
    r = subprocess.run(["ldapmodify", "-x", "-H", o.ldap_uri, "-D", o.bind_dn,
                        "-w", o.bind_pw], input=ldif, text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("directory-changes: ldapmodify failed: " + r.stderr.strip())


def wait(check):
    """milliseconds until check() is true, polled every 20 ms; None on timeout"""
    t0 = time.monotonic()
    while True:
        if check():
            return (time.monotonic() - t0) * 1000.0
        if time.monotonic() - t0 > o.timeout:
            return None
        time.sleep(0.02)


def stats(v):
    v = sorted(v)
    if not v:
        return "0 ? ? ?"
    p = lambda q: v[min(len(v) - 1, int(len(v) * q))]
    return "%d %.0f %.0f %.0f" % (len(v), p(0.50), p(0.99), v[-1])


people = []
add_ms, del_ms, add_miss, del_miss = [], [], 0, 0
for i in range(1, o.count + 1):
    uid = "bench.%s.%d" % (o.tag, i)
    addr = "%s@%s" % (uid, o.domain)
    dn = "uid=%s,%s" % (uid, o.parent)
    people.append((dn, addr))
    t0 = time.monotonic()
    ldapmodify("dn: %s\nchangetype: add\nobjectClass: inetOrgPerson\n"
               "objectClass: extensibleObject\nuid: %s\ncn: Bench %s %d\nsn: Bench\n"
               "displayName: Bench %s %d\ntitle: student\nmailPrimaryAddress: %s\n"
               "ucsschoolRole: student:school:%s\n\n"
               % (dn, uid, o.tag, i, o.tag, i, addr, o.school))
    if wait(lambda: sockmap("mailbox", addr).startswith("OK")) is None:
        add_miss += 1
    add_ms.append((time.monotonic() - t0) * 1000.0)
for dn, addr in people:
    t0 = time.monotonic()
    ldapmodify("dn: %s\nchangetype: delete\n\n" % dn)
    if wait(lambda: state(addr) == "leaving") is None:
        del_miss += 1
    del_ms.append((time.monotonic() - t0) * 1000.0)
sql.stdin.close()
sql.wait()
print("add %s %d del %s %d" % (stats(add_ms), add_miss, stats(del_ms), del_miss))
