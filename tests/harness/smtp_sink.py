#!/usr/bin/env python3
"""smtp_sink.py - a loopback SMTP sink for postern's test harness.

Plays the "smarthost", "legacy store" or "external MX" in integration tests.
Every accepted message is stored in DIR as NNN.eml (the DATA, dot-unstuffed,
line endings converted to LF) plus NNN.env (the envelope, one item per line:
"HELO name", "TLS yes|no", "AUTH login|-", "MAIL FROM:<addr>",
"RCPT TO:<addr>" per accepted recipient).  The .env file is written before the
.eml file and both are renamed into place, so once NNN.eml exists the message
is complete.

Supports EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, VRFY (252), optional
STARTTLS (--tls-cert/--tls-key) and AUTH PLAIN/LOGIN (--require-auth
user:pass: MAIL is refused until AUTH succeeded; when TLS is configured AUTH
is offered only after STARTTLS, like a real submission service).

Test knobs: --fail-rcpt CODE answers RCPT with CODE (for all recipients, or
only those containing --fail-rcpt-match SUBSTR); --fail-data CODE answers the
end of DATA with CODE; --fail-mail CODE answers MAIL with CODE.

Limits: stdlib only (threads + blocking sockets), loopback use only, message
size capped by --max-size (default 50 MB), lines capped at 64 KiB, no
pipelining optimisations (PIPELINING is still advertised; replies are sent in
order, which is all a client needs).  Listens on --host (127.0.0.1 default,
::1 allowed) and --port (0 = pick one; the bound port is written to
--port-file if given).
"""

import argparse
import base64
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

MAX_LINE = 65536


class Config:
    pass


CFG = Config()
LOCK = threading.Lock()
COUNTER = [0]


def log(msg):
    sys.stderr.write("%s smtp_sink[%d]: %s\n" % (time.strftime("%H:%M:%S"), os.getpid(), msg))
    sys.stderr.flush()


def enh(code):
    c = str(code)
    return "%s.0.0" % c[0] if c[:1] in ("2", "4", "5") else "5.0.0"


def next_id():
    with LOCK:
        # Continue after any files already present (e.g. sink restarted on same dir).
        if COUNTER[0] == 0:
            n = 0
            for f in os.listdir(CFG.dir):
                if f.endswith(".eml") and f[:-4].isdigit():
                    n = max(n, int(f[:-4]))
            COUNTER[0] = n
        COUNTER[0] += 1
        return COUNTER[0]


def extract_addr(arg, prefix):
    """'FROM:<a@b> SIZE=1' -> 'a@b' ; returns None on syntax error."""
    if not arg.upper().startswith(prefix):
        return None
    rest = arg[len(prefix):].strip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        return rest[1:end]
    return rest.split(" ")[0] if rest else None


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.tls = False
        self.authed = None
        self.helo = "-"
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpts = []

    def send(self, line):
        self.wfile.write((line + "\r\n").encode("utf-8", "replace"))
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            self.send("500 5.5.2 line too long")
            return None
        return line

    def ehlo_lines(self):
        lines = ["mx.sink.test", "PIPELINING", "SIZE %d" % CFG.max_size, "8BITMIME", "ENHANCEDSTATUSCODES"]
        if CFG.tls_ctx is not None and not self.tls:
            lines.append("STARTTLS")
        if CFG.auth and (self.tls or CFG.tls_ctx is None) and not self.authed:
            lines.append("AUTH PLAIN LOGIN")
        return lines

    def handle(self):
        peer = self.client_address[0]
        log("connect from %s" % peer)
        self.send("220 mx.sink.test ESMTP smtp_sink (%s)" % CFG.name)
        while True:
            raw = self.readline()
            if raw is None:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            arg = arg.strip()
            if verb == "AUTH":
                log("<<< AUTH %s ..." % arg.split(" ")[0])
            else:
                log("<<< %s" % line)
            if verb == "EHLO":
                self.helo = arg or "-"
                self.reset()
                ls = self.ehlo_lines()
                for l in ls[:-1]:
                    self.send("250-" + l)
                self.send("250 " + ls[-1])
            elif verb == "HELO":
                self.helo = arg or "-"
                self.reset()
                self.send("250 mx.sink.test")
            elif verb == "STARTTLS":
                if CFG.tls_ctx is None or self.tls:
                    self.send("502 5.5.1 STARTTLS not available")
                    continue
                self.send("220 2.0.0 Ready to start TLS")
                try:
                    self.request = CFG.tls_ctx.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    log("TLS handshake failed: %s" % e)
                    return
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
                self.tls = True
                self.helo = "-"
                self.reset()
            elif verb == "AUTH":
                self.do_auth(arg)
            elif verb == "MAIL":
                if CFG.auth and not self.authed:
                    self.send("530 5.7.0 Authentication required")
                    continue
                if self.mail_from is not None:
                    self.send("503 5.5.1 nested MAIL command")
                    continue
                addr = extract_addr(arg, "FROM:")
                if addr is None:
                    self.send("501 5.5.4 syntax: MAIL FROM:<address>")
                    continue
                if CFG.fail_mail:
                    self.send("%s %s sink: sender rejected (--fail-mail)" % (CFG.fail_mail, enh(CFG.fail_mail)))
                    continue
                self.mail_from = addr
                self.send("250 2.1.0 Ok")
            elif verb == "RCPT":
                if self.mail_from is None:
                    self.send("503 5.5.1 need MAIL first")
                    continue
                addr = extract_addr(arg, "TO:")
                if addr is None:
                    self.send("501 5.5.4 syntax: RCPT TO:<address>")
                    continue
                if CFG.fail_rcpt and (not CFG.fail_rcpt_match or CFG.fail_rcpt_match.lower() in addr.lower()):
                    self.send("%s %s sink: recipient rejected (--fail-rcpt)" % (CFG.fail_rcpt, enh(CFG.fail_rcpt)))
                    continue
                self.rcpts.append(addr)
                self.send("250 2.1.5 Ok")
            elif verb == "DATA":
                if not self.rcpts:
                    self.send("503 5.5.1 need RCPT first")
                    continue
                self.send("354 End data with <CR><LF>.<CR><LF>")
                if not self.do_data():
                    break
            elif verb == "RSET":
                self.reset()
                self.send("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.send("250 2.0.0 Ok")
            elif verb == "VRFY":
                self.send("252 2.0.0 Cannot VRFY")
            elif verb == "QUIT":
                self.send("221 2.0.0 Bye")
                break
            else:
                self.send("502 5.5.2 command not recognized")
        log("disconnect from %s" % peer)

    def do_auth(self, arg):
        if not CFG.auth:
            self.send("503 5.5.1 AUTH not enabled")
            return
        if CFG.tls_ctx is not None and not self.tls:
            self.send("530 5.7.0 Must issue a STARTTLS command first")
            return
        if self.authed:
            self.send("503 5.5.1 already authenticated")
            return
        parts = arg.split(" ")
        mech = parts[0].upper()
        try:
            if mech == "PLAIN":
                if len(parts) > 1:
                    resp = parts[1]
                else:
                    self.send("334 ")
                    resp = self.readline().decode().strip()
                dec = base64.b64decode(resp, validate=True).split(b"\0")
                if len(dec) != 3:
                    raise ValueError("bad PLAIN")
                user, pw = dec[1].decode(), dec[2].decode()
            elif mech == "LOGIN":
                if len(parts) > 1:
                    user = base64.b64decode(parts[1], validate=True).decode()
                else:
                    self.send("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.readline().decode().strip(), validate=True).decode()
                self.send("334 UGFzc3dvcmQ6")
                pw = base64.b64decode(self.readline().decode().strip(), validate=True).decode()
            else:
                self.send("504 5.5.4 unrecognized authentication type")
                return
        except (ValueError, UnicodeDecodeError, AttributeError):
            self.send("501 5.5.2 cannot decode response")
            return
        if (user, pw) == CFG.auth:
            self.authed = user
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.8 Authentication failed")

    def do_data(self):
        chunks = []
        size = 0
        too_big = False
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if not raw:
                return False
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            if raw.endswith(b"\r\n"):
                raw = raw[:-2] + b"\n"
            size += len(raw)
            if size > CFG.max_size:
                too_big = True
                continue
            chunks.append(raw)
        if too_big:
            self.send("552 5.3.4 message too big")
            self.reset()
            return True
        if CFG.fail_data:
            self.send("%s %s sink: message rejected (--fail-data)" % (CFG.fail_data, enh(CFG.fail_data)))
            self.reset()
            return True
        n = next_id()
        base = os.path.join(CFG.dir, "%03d" % n)
        env = ["HELO %s" % self.helo, "TLS %s" % ("yes" if self.tls else "no"),
               "AUTH %s" % (self.authed or "-"), "MAIL FROM:<%s>" % self.mail_from]
        env += ["RCPT TO:<%s>" % r for r in self.rcpts]
        with open(base + ".env.tmp", "w") as f:
            f.write("\n".join(env) + "\n")
        os.rename(base + ".env.tmp", base + ".env")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(b"".join(chunks))
        os.rename(base + ".eml.tmp", base + ".eml")
        log("stored %03d from=<%s> rcpts=%s" % (n, self.mail_from, ",".join(self.rcpts)))
        self.send("250 2.0.0 Ok: queued as %03d" % n)
        self.reset()
        return True


class Server4(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Server6(Server4):
    address_family = socket.AF_INET6


def main():
    ap = argparse.ArgumentParser(description="loopback SMTP sink for tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--name", default="sink")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--fail-rcpt", default="")
    ap.add_argument("--fail-rcpt-match", default="")
    ap.add_argument("--fail-mail", default="")
    ap.add_argument("--fail-data", default="")
    ap.add_argument("--require-auth", default="", metavar="USER:PASS")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--max-size", type=int, default=50 * 1024 * 1024)
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("only loopback addresses are allowed")
    for k in ("fail_rcpt", "fail_mail", "fail_data"):
        v = getattr(a, k)
        if v and not (len(v) == 3 and v.isdigit() and v[0] in "45"):
            ap.error("--%s wants a 4xx or 5xx code" % k.replace("_", "-"))
    CFG.dir = a.dir
    CFG.name = a.name
    CFG.fail_rcpt, CFG.fail_rcpt_match = a.fail_rcpt, a.fail_rcpt_match
    CFG.fail_mail, CFG.fail_data = a.fail_mail, a.fail_data
    CFG.max_size = a.max_size
    CFG.auth = tuple(a.require_auth.split(":", 1)) if a.require_auth else None
    if CFG.auth is not None and len(CFG.auth) != 2:
        ap.error("--require-auth wants user:pass")
    CFG.tls_ctx = None
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        CFG.tls_ctx = ctx
    os.makedirs(a.dir, exist_ok=True)
    cls = Server6 if ":" in a.host else Server4
    srv = cls((a.host, a.port), Handler)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    log("listening on %s port %d, storing in %s" % (a.host, port, a.dir))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
