#!/usr/bin/env python3
"""policy_client.py - talk the Postfix policy delegation protocol.

usage: policy_client.py PORT [name=value ...]
  Sends one request (protocol_state=RCPT and request=smtpd_access_policy
  unless given) and prints the action value.
usage: policy_client.py PORT --raw FILE
  Sends FILE as-is and prints the replies until there is one per request
  in FILE, the server closes, or 5 s pass; for several requests on one
  connection and for malformed-input tests.
"""
import socket
import sys


def main():
    port = int(sys.argv[1])
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    if len(sys.argv) > 2 and sys.argv[2] == "--raw":
        data = open(sys.argv[3], "rb").read()
        want = data.count(b"\n\n")
        out = b""
        try:
            s.sendall(data)
            s.settimeout(5)
            while out.count(b"\n\n") < want:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        sys.stdout.write(out.decode("utf-8", "replace"))
        return 0
    attrs = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
             "protocol_name": "ESMTP", "client_address": "192.0.2.10",
             "client_name": "unknown", "helo_name": "mail.example.net",
             "sender": "", "recipient": "", "instance": "1.1.1",
             "queue_id": "", "sasl_username": ""}
    for a in sys.argv[2:]:
        k, _, v = a.partition("=")
        attrs[k] = v
    req = "".join("%s=%s\n" % (k, v) for k, v in attrs.items()) + "\n"
    s.sendall(req.encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    line = buf.decode().split("\n")[0]
    print(line[len("action="):] if line.startswith("action=") else "NOREPLY " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
