#!/usr/bin/env python3
"""msieve_penalty.py - the login throttle of postern-managesieve, seen from
clients: prints "ok - ..." / "not ok - ..." lines (the calling script turns
them into assertions).

usage: msieve_penalty.py PORT
  The server must run with auth_penalty_initial = 1s, auth_penalty_max
  = 4s, auth_penalty_forget = 5s, require_tls = no, and know
  alice@a.example / alice-pw, bob@a.example / bob-pw, carol@a.example.
"""
import base64
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
INITIAL, MAX = 1000, 4000
SLACK = 900  # ms: tick granularity, scheduling on a busy shared 2-core machine


def check(cond, text):
    print(("ok - " if cond else "not ok - ") + text, flush=True)


class Session:
    def __init__(self, src="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", PORT))
        self.buf = b""
        self.response()

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("utf-8", "replace")

    def response(self):
        while True:
            ln = self.line()
            if ln.split(" ", 1)[0] in ("OK", "NO", "BYE"):
                return ln

    def cmd(self, text):
        """send a command; (final line, elapsed ms)"""
        t0 = time.monotonic()
        self.sock.sendall(text.encode() + b"\r\n")
        r = self.response()
        return r, int((time.monotonic() - t0) * 1000)

    def auth(self, user, pw):
        b = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
        return self.cmd('AUTHENTICATE "PLAIN" "%s"' % b.decode())

    def close(self):
        self.sock.close()


def main():
    # 1. growing delays for one source and account
    s = Session()
    r1, t1 = s.auth("alice@a.example", "wrong1")
    r2, t2 = s.auth("alice@a.example", "wrong2")
    r3, t3 = s.auth("alice@a.example", "wrong3")
    check(r1.startswith("NO") and t1 < INITIAL,
          "first wrong password: NO at once (%d ms)" % t1)
    check(r2.startswith("NO") and INITIAL <= t2 < INITIAL + SLACK,
          "second: delayed about %d ms (%d ms)" % (INITIAL, t2))
    check(r3.startswith("BYE") and 2 * INITIAL <= t3 < 2 * INITIAL + SLACK,
          "third: delayed about %d ms (%d ms), then the session ends"
          % (2 * INITIAL, t3))
    s.close()
    s = Session()
    r4, t4 = s.auth("alice@a.example", "wrong4")
    r5, t5 = s.auth("alice@a.example", "wrong5")
    check(r4.startswith("NO") and MAX <= t4 < MAX + SLACK,
          "a new session from the same source: delayed %d ms (%d ms)"
          % (MAX, t4))
    check(r5.startswith("NO") and MAX <= t5 < MAX + SLACK,
          "the delay stops growing at %d ms (%d ms)" % (MAX, t5))

    # 2. while one login waits: others go on
    held = {}

    def slow():
        held["r"], held["t"] = s.auth("alice@a.example", "alice-pw")
    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.15)
    other = Session("127.0.0.2")
    rb, tb = other.auth("bob@a.example", "bob-pw")
    check(rb.startswith("OK") and tb < INITIAL,
          "meanwhile another source logs in to another account at once "
          "(%d ms)" % tb)
    rn, tn = other.cmd("NOOP")
    check(rn.startswith("OK") and tn < INITIAL,
          "... and its commands are answered at once (%d ms)" % tn)
    third = Session()
    rn, tn = third.cmd("NOOP")
    check(rn.startswith("OK") and tn < INITIAL,
          "another session from the same source is served meanwhile (%d ms)"
          % tn)
    rp, tp = third.auth("alice@a.example", "alice-pw")
    check(rp.startswith("NO (TRYLATER)") and tp < INITIAL,
          "a parallel login from that source is refused while one waits: %s"
          % rp)
    th.join()
    check(held["r"].startswith("OK") and MAX <= held["t"] < MAX + SLACK,
          "the right password during the penalty is still delayed %d ms "
          "(%d ms), then accepted" % (MAX, held["t"]))
    s.close()
    other.close()
    third.close()

    # 3. per account: failures for carol from one source delay carol from
    # another source; then the penalty is forgotten
    c = Session("127.0.0.3")
    c.auth("carol@a.example", "x1")
    c.auth("carol@a.example", "x2")
    c.close()
    d = Session("127.0.0.4")
    rc, tc = d.auth("carol@a.example", "x3")
    check(rc.startswith("NO") and tc >= 2 * INITIAL,
          "failures for an account delay it from another source too (%d ms)"
          % tc)
    d.close()
    time.sleep(5.3)
    s = Session()
    ra, ta = s.auth("alice@a.example", "alice-pw")
    check(ra.startswith("OK") and ta < INITIAL,
          "after auth_penalty_forget the right password works at once "
          "(%d ms)" % ta)
    s.close()


if __name__ == "__main__":
    main()
