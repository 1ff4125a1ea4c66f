#!/usr/bin/env python3
"""sockmap.py - a raw socketmap client for tests.

  sockmap.py HOST PORT 'name key'    send one request, print the reply data
  sockmap.py --abuse HOST PORT       malformed and oversized requests; exit 0
                                     if each is refused by closing and the
                                     server still answers afterwards
  sockmap.py --flood N HOST PORT     N concurrent connections, each asking a
                                     question; exit 0 if all were answered
"""
import socket
import sys


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def read_ns(s):
    buf = b""
    while b":" not in buf:
        c = s.recv(1)
        if not c:
            return None
        buf += c
    n = int(buf[:-1])
    data = b""
    while len(data) < n + 1:
        c = s.recv(n + 1 - len(data))
        if not c:
            return None
        data += c
    return data[:-1].decode("utf-8", "replace")


def conn(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    return s


def ask(host, port, req):
    s = conn(host, port)
    s.sendall(ns(req.encode()))
    r = read_ns(s)
    s.close()
    return r


def closed_after(host, port, payload):
    s = conn(host, port)
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR) if False else None
        data = s.recv(100)
        return data == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.close()


def abuse(host, port):
    ok = True
    cases = {
        "non-digit length": b"x5:hello,",
        "bad terminator": b"5:hello;",
        "oversized key": ns(b"mailbox " + b"a" * 20000),
        "length over the limit": b"99999:",
        "binary garbage": bytes(range(256)),
    }
    for name, payload in cases.items():
        if not closed_after(host, port, payload):
            print("not closed: " + name)
            ok = False
    # a client that disconnects mid-request
    s = conn(host, port)
    s.sendall(b"20:domain a.ex")
    s.close()
    r = ask(host, port, "domain a.example")
    if r is None or not r.startswith(("OK", "NOTFOUND")):
        print("no answer after abuse: %r" % r)
        ok = False
    return ok


def flood(n, host, port):
    socks = []
    for _ in range(n):
        socks.append(conn(host, port))
    for s in socks:
        s.sendall(ns(b"domain a.example"))
    good = 0
    for s in socks:
        r = read_ns(s)
        if r is not None and r.startswith("OK"):
            good += 1
        s.close()
    print("%d of %d answered" % (good, n))
    return good == n


def main():
    a = sys.argv[1:]
    if a[0] == "--abuse":
        sys.exit(0 if abuse(a[1], int(a[2])) else 1)
    if a[0] == "--flood":
        sys.exit(0 if flood(int(a[1]), a[2], int(a[3])) else 1)
    print(ask(a[0], int(a[1]), a[2]))


if __name__ == "__main__":
    main()
