#!/usr/bin/env python3
"""managesieve_client.py - a scripted ManageSieve (RFC 5804) session for
tests: connect, then run each argument as one command line and print the
whole response (literals included), one block per command, each block
starting with ">>> COMMAND".

Arguments are sent as they are, with two helpers:
  @STARTTLS           STARTTLS, then the TLS handshake (no verification)
  @AUTH user pass     AUTHENTICATE "PLAIN" with an initial response
  @PUT name file      PUTSCRIPT "name" {N+} with the file's contents
  @CHECK file         CHECKSCRIPT {N+} with the file's contents
  @RAW text           text sent as is (\\r\\n escapes allowed), no reply read

usage: managesieve_client.py PORT ARG...
"""
import base64
import socket
import ssl
import sys


class Session:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """lines up to OK/NO/BYE, literals inlined"""
        out = []
        while True:
            ln = self.line()
            text = ln.decode("utf-8", "replace")
            if text.endswith("}") and "{" in text:
                n = int(text[text.rindex("{") + 1:-1].rstrip("+"))
                text = text[:text.rindex("{")] + self.exact(n).decode("utf-8", "replace")
                rest = self.line().decode()
                text += rest
            out.append(text)
            if text.split(" ", 1)[0] in ("OK", "NO", "BYE"):
                return out

    def send(self, data):
        self.sock.sendall(data)


def main(argv):
    port = int(argv[1])
    s = Session(port)
    print(">>> greeting")
    print("\n".join(s.response()))
    for arg in argv[2:]:
        print(">>> " + arg.split("\n")[0][:60])
        try:
            if arg == "@STARTTLS":
                s.send(b"STARTTLS\r\n")
                resp = s.response()
                print("\n".join(resp))
                if resp[-1].startswith("OK"):
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                    s.sock = ctx.wrap_socket(s.sock)
                    print("TLS " + s.sock.version())
                    print("\n".join(s.response()))
                continue
            if arg.startswith("@AUTH "):
                _, user, pw = arg.split(" ", 2)
                tok = base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode())
                s.send(b'AUTHENTICATE "PLAIN" "' + tok + b'"\r\n')
            elif arg.startswith("@PUT ") or arg.startswith("@CHECK "):
                parts = arg.split(" ")
                data = open(parts[-1], "rb").read()
                head = (b'PUTSCRIPT "' + parts[1].encode() + b'" ') if parts[0] == "@PUT" else b"CHECKSCRIPT "
                s.send(head + b"{%d+}\r\n" % len(data) + data + b"\r\n")
            elif arg.startswith("@RAW "):
                s.send(arg[5:].encode().decode("unicode_escape").encode("latin-1"))
                continue
            else:
                s.send(arg.encode() + b"\r\n")
            print("\n".join(s.response()))
        except (EOFError, OSError) as e:
            print("CLOSED %s" % e)
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
