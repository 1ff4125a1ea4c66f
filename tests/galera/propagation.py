#!/usr/bin/env python3
"""propagation.py - how long an admin's SQL change takes to reach the
answers of several postern-maps instances.

usage: propagation.py MAP KEY EXPECT TIMEOUT PORT[,PORT...] -- CMD...

Runs CMD (e.g. a mariadb client that INSERTs a mailbox on one Galera
node), then asks every postern-maps on PORT (socketmap protocol, request
"MAP KEY", a new connection per question, every 10 ms) until its answer
is "OK ..." (EXPECT=found) or "NOTFOUND " (EXPECT=notfound).  The clock
starts just before CMD runs (so the client's own start-up is included).
Prints one line: the milliseconds per port, in order, space-separated
("-1" for a port that did not answer as expected within TIMEOUT
seconds).  Exit status: 0 if every port got there, 1 if not, 2 if CMD
failed.
"""
import socket
import subprocess
import sys
import time


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def ask(port, req):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        s.sendall(ns(req.encode()))
        buf = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            buf += c
            head, sep, rest = buf.partition(b":")
            if sep and head.isdigit() and len(rest) >= int(head) + 1:
                return rest[:int(head)].decode("utf-8", "replace")
        return ""
    finally:
        s.close()


def main():
    sep = sys.argv.index("--")
    mapname, key, expect, timeout, ports = sys.argv[1:sep]
    cmd = sys.argv[sep + 1:]
    ports = [int(p) for p in ports.split(",")]
    want = "OK " if expect == "found" else "NOTFOUND"
    t0 = time.monotonic()
    if subprocess.run(cmd).returncode != 0:
        return 2
    done = {}
    end = t0 + float(timeout)
    while len(done) < len(ports) and time.monotonic() < end:
        for p in ports:
            if p in done:
                continue
            try:
                r = ask(p, "%s %s" % (mapname, key))
            except OSError:
                continue
            if r.startswith(want):
                done[p] = int((time.monotonic() - t0) * 1000)
        time.sleep(0.01)
    print(" ".join(str(done.get(p, -1)) for p in ports))
    return 0 if len(done) == len(ports) else 1


if __name__ == "__main__":
    sys.exit(main())
