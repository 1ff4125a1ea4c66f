#!/usr/bin/env python3
"""milter-auth.py - a minimal Dovecot SASL authentication server (the
protocol Postfix speaks with smtpd_sasl_type = dovecot) for the
postern-milter tests: mechanism PLAIN only, every user whose password is
"test" is accepted under the login they gave.  Not a test by itself (not
executable .sh); started by milter-rights.sh / milter-dkim.sh.

usage: milter-auth.py --port-file FILE [--password test]
"""
import argparse
import base64
import os
import socket
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\n").encode())
        self.wfile.flush()

    def handle(self):
        self.send("VERSION\t1\t2")
        self.send("MECH\tPLAIN\tplaintext")
        self.send("SPID\t%d" % os.getpid())
        self.send("CUID\t1")
        self.send("COOKIE\t" + "0" * 32)
        self.send("DONE")
        pending = {}
        for raw in self.rfile:
            f = raw.decode(errors="replace").rstrip("\r\n").split("\t")
            if f[0] == "AUTH" and len(f) >= 3:
                rid, mech = f[1], f[2]
                args = dict(a.split("=", 1) for a in f[3:] if "=" in a)
                if mech.upper() != "PLAIN":
                    self.send("FAIL\t%s\treason=mechanism not supported" % rid)
                elif "resp" in args:
                    self.check(rid, args["resp"])
                else:
                    pending[rid] = True
                    self.send("CONT\t%s\t" % rid)
            elif f[0] == "CONT" and len(f) >= 3 and f[1] in pending:
                del pending[f[1]]
                self.check(f[1], f[2])

    def check(self, rid, resp):
        try:
            parts = base64.b64decode(resp).split(b"\0")
            authcid, pw = parts[1].decode(), parts[2].decode()
        except Exception:
            self.send("FAIL\t%s" % rid)
            return
        if pw == self.server.password and authcid:
            self.send("OK\t%s\tuser=%s" % (rid, authcid))
        else:
            self.send("FAIL\t%s\tuser=%s" % (rid, authcid))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--password", default="test")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.password = a.password
    with open(a.port_file + ".tmp", "w") as fp:
        fp.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
