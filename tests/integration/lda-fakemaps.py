#!/usr/bin/env python3
"""lda-fakemaps.py - a scripted socketmap server for postern-lda tests.

  lda-fakemaps.py SOCKET MODE [PATH]

Listens on the unix socket SOCKET and answers every "maildir KEY" request
according to MODE, one request per connection (as postern-lda asks):

  ok        "OK PATH/KEY/"      (PATH default "vol01")
  notfound  "NOTFOUND "
  temp      "TEMP database busy"
  perm      "PERM bad map"
  garbage   "hello" (not a netstring)
  bad       "OK ../escape/"     (a path postern-lda must refuse)
  hang      read the request and never answer
  close     close without answering
"""
import os
import socket
import sys
import threading
import time


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def serve(conn, mode, path):
    try:
        conn.settimeout(30)
        buf = b""
        while b"," not in buf or len(buf) < int(buf.split(b":")[0]) + len(buf.split(b":")[0]) + 2:
            c = conn.recv(4096)
            if not c:
                return
            buf += c
        req = buf.split(b":", 1)[1][:-1]
        key = req.split(b" ", 1)[1] if b" " in req else b""
        if mode == "ok":
            conn.sendall(ns(b"OK " + path.encode() + b"/" + key + b"/"))
        elif mode == "notfound":
            conn.sendall(ns(b"NOTFOUND "))
        elif mode == "temp":
            conn.sendall(ns(b"TEMP database busy"))
        elif mode == "perm":
            conn.sendall(ns(b"PERM bad map"))
        elif mode == "garbage":
            conn.sendall(b"hello")
            time.sleep(0.2)
        elif mode == "bad":
            conn.sendall(ns(b"OK ../escape/"))
        elif mode == "hang":
            time.sleep(30)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    sock, mode = sys.argv[1], sys.argv[2]
    path = sys.argv[3] if len(sys.argv) > 3 else "vol01"
    if os.path.exists(sock):
        os.unlink(sock)
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    os.chmod(sock, 0o666)
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, mode, path), daemon=True).start()


main()
