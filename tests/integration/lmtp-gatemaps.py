#!/usr/bin/env python3
"""lmtp-gatemaps.py - a socketmap server that holds chosen lookups back,
for tests/integration/lmtp-concurrent.sh.

  lmtp-gatemaps.py SOCKET STATEDIR

Answers "maildir KEY" (one request per connection, as postern-lda asks)
with "OK vol01/KEY/".  A KEY whose local part starts with "slow" is held
back until the file STATEDIR/open/KEY or STATEDIR/open/all exists (or
until the asking process closes its connection, e.g. because it was
killed).  While requests are held, STATEDIR keeps:

  pending      the number of requests held now
  maxpending   the most ever held at the same time
  pids         "PID KEY" per held request: the asking process (SO_PEERCRED)
"""
import os
import select
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()
HELD = {}  # id -> (pid, key)
MAXP = [0]


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def write_state(state):
    def put(name, text):
        tmp = os.path.join(state, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(state, name))
    put("pending", "%d\n" % len(HELD))
    put("maxpending", "%d\n" % MAXP[0])
    put("pids", "".join("%d %s\n" % v for v in HELD.values()))


def serve(conn, state):
    try:
        conn.settimeout(120)
        buf = b""
        while True:
            if b":" in buf:
                n = int(buf.split(b":", 1)[0])
                if len(buf) >= len(str(n)) + n + 2:
                    break
            c = conn.recv(4096)
            if not c:
                return
            buf += c
        req = buf.split(b":", 1)[1][:-1]
        key = req.split(b" ", 1)[1] if b" " in req else b""
        skey = key.decode(errors="replace")
        if skey.startswith("slow"):
            pid = struct.unpack("3i", conn.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            with LOCK:
                HELD[id(conn)] = (pid, skey)
                MAXP[0] = max(MAXP[0], len(HELD))
                write_state(state)
            gone = False
            try:
                while not (os.path.exists(os.path.join(state, "open", skey)) or
                           os.path.exists(os.path.join(state, "open", "all"))):
                    r, _, _ = select.select([conn], [], [], 0.05)
                    if r and not conn.recv(1, socket.MSG_PEEK):
                        gone = True
                        break
            finally:
                with LOCK:
                    del HELD[id(conn)]
                    write_state(state)
            if gone:
                return
        conn.sendall(ns(b"OK vol01/" + key + b"/"))
    except OSError:
        pass
    finally:
        conn.close()


def main():
    sock, state = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(state, "open"), exist_ok=True)
    with LOCK:
        write_state(state)
    if os.path.exists(sock):
        os.unlink(sock)
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    os.chmod(sock, 0o666)
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, state), daemon=True).start()


main()
