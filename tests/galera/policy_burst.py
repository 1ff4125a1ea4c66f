#!/usr/bin/env python3
"""policy_burst.py - many policy requests at once against several
postern-policyd instances, for exact-count tests.

usage: policy_burst.py PORT[,PORT...] CLIENTS_PER_PORT REQUESTS KEYS ATTR=VALUE...

Starts CLIENTS_PER_PORT threads per port, released together; each sends
REQUESTS policy requests (protocol_state=RCPT, the given attributes, a
unique instance) on one connection, reconnecting once if the connection
drops.  "{k}" in a value becomes the key number, 0..KEYS-1, taken in turn
(request r of a client uses key (r + client) % KEYS).  Prints one line per
answer: PORT <TAB> key number <TAB> action (NO-ANSWER when none came).
"""
import socket
import sys
import threading


def client(port, name, idx, n, keys, attrs, barrier, out, lock):
    s = None
    barrier.wait()
    for r in range(n):
        k = (r + idx) % keys
        a = {key: v.replace("{k}", str(k)) for key, v in attrs.items()}
        a["instance"] = "%s.%d" % (name, r)
        req = "".join("%s=%s\n" % kv for kv in a.items()) + "\n"
        reply = b""
        for _ in range(2):
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(req.encode())
                while not reply.endswith(b"\n\n"):
                    c = s.recv(4096)
                    if not c:
                        raise OSError("closed")
                    reply += c
                break
            except OSError:
                s, reply = None, b""
        action = reply.decode().split("\n")[0].partition("=")[2] or "NO-ANSWER"
        with lock:
            out.append("%d\t%d\t%s" % (port, k, action))


def main():
    ports = [int(p) for p in sys.argv[1].split(",")]
    per, n, keys = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    attrs = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
             "protocol_name": "ESMTP", "client_address": "192.0.2.9",
             "client_name": "unknown", "helo_name": "burst.example",
             "queue_id": "", "sasl_username": ""}
    for kv in sys.argv[5:]:
        k, _, v = kv.partition("=")
        attrs[k] = v
    out, lock = [], threading.Lock()
    barrier = threading.Barrier(per * len(ports))
    ts = []
    for p in ports:
        for c in range(per):
            t = threading.Thread(target=client, args=(
                p, "%d-%d" % (p, c), len(ts), n, keys, attrs, barrier, out,
                lock))
            t.start()
            ts.append(t)
    for t in ts:
        t.join()
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
