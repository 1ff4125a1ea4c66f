#!/usr/bin/python3
# bench/lmtp-client.py HOST PORT CONC DIR RCPT... - deliver every DIR/*.eml
# over LMTP (RFC 2033) with CONC connections at once, as Postfix's lmtp(8)
# client does: one transaction per message (MAIL, RCPT, DATA), the
# connection kept for the next one.  Message i goes to RCPT[i % len(RCPT)].
# Prints the wall-clock seconds from the first connect to the last reply;
# exits 1 when any transaction was not answered 250 (the reply is printed).
import os
import socket
import sys
import threading
import time

host, port, conc, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rcpts = sys.argv[5:]
files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".eml"))
msgs = []
for i, f in enumerate(files):
    with open(f, "rb") as fh:
        lines = fh.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    data = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)
    msgs.append((rcpts[i % len(rcpts)], data + b".\r\n"))
failed = []


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise OSError("connection closed")
        if line[3:4] != b"-":
            return line


def worker(part):
    s = socket.create_connection((host, port), timeout=120)
    f = s.makefile("rb")
    try:
        reply(f)
        s.sendall(b"LHLO bench.test.example\r\n")
        reply(f)
        for rcpt, data in part:
            s.sendall(b"MAIL FROM:<sender@ext.example>\r\nRCPT TO:<" +
                      rcpt.encode() + b">\r\nDATA\r\n")
            for _ in range(3):
                r = reply(f)
                if r[:1] not in (b"2", b"3"):
                    failed.append(r)
                    return
            s.sendall(data)
            r = reply(f)
            if r[:3] != b"250":
                failed.append(r)
                return
        s.sendall(b"QUIT\r\n")
    except OSError as e:
        failed.append(str(e).encode())
    finally:
        s.close()


parts = [msgs[i::conc] for i in range(conc)]
t0 = time.monotonic()
threads = [threading.Thread(target=worker, args=(p,)) for p in parts if p]
for t in threads:
    t.start()
for t in threads:
    t.join()
t1 = time.monotonic()
if failed:
    sys.stderr.write("lmtp-client: %d failed, first: %r\n" % (len(failed), failed[0]))
    sys.exit(1)
print("%.3f" % (t1 - t0))
