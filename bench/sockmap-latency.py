#!/usr/bin/env python3
"""sockmap-latency.py HOST PORT MAP KEYFILE - per-request latency of a
socketmap server on one reused connection (like Postfix's client); prints
"requests p50_us p99_us" (client overhead included: an upper bound)."""
import socket
import sys
import time

host, port, name, keyfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
lat = []
for key in open(keyfile):
    req = ("%s %s" % (name, key.strip())).encode()
    t0 = time.perf_counter_ns()
    s.sendall(str(len(req)).encode() + b":" + req + b",")
    n = b""
    while True:
        c = f.read(1)
        if c == b":":
            break
        n += c
    f.read(int(n) + 1)
    lat.append(time.perf_counter_ns() - t0)
lat.sort()
print(len(lat), lat[len(lat) // 2] // 1000, lat[len(lat) * 99 // 100] // 1000)
