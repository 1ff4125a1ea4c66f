#!/usr/bin/env python3
"""metrics_client.py - scrape and check a postern metrics endpoint (tests).

  metrics_client.py get PORT PATH         GET PATH; print "STATUS BODY"
  metrics_client.py raw PORT TEXT         send TEXT (\\r\\n escapes) as the
                                          request; print the status code
  metrics_client.py check PORT            GET /metrics and parse it strictly
                                          (text format 0.0.4); exit 1 with
                                          the first error
  metrics_client.py value PORT NAME [LABEL=VALUE...]
                                          print the value of the one series
                                          of NAME with exactly these labels
                                          (0 when it does not exist yet)

The strict parser: every line is "# HELP name text", "# TYPE name
counter|gauge", or "name{label="value",...} number"; a sample's family has
a TYPE line before it; TYPE and HELP once per family; names and label names
valid; label values escaped only as \\\\, \\" and \\n; no duplicate series;
the body ends with a newline; counters are not negative.
"""
import re
import socket
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


def request(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(raw)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.") else 0
    return status, head.decode("latin-1"), body.decode("utf-8")


def get(port, path):
    return request(port, ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n"
                          % path).encode())


def parse_labels(s, lineno):
    """s: the text between { and }; returns a tuple of (name, value)"""
    out, i = [], 0
    while i < len(s):
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", s[i:])
        if not m:
            raise ValueError("line %d: bad label at %r" % (lineno, s[i:]))
        name, i = m.group(1), i + m.end()
        val = ""
        while True:
            if i >= len(s):
                raise ValueError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise ValueError("line %d: bad escape" % lineno)
                val += {"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]]
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError("line %d: raw newline in a value" % lineno)
            else:
                val += c
                i += 1
        out.append((name, val))
        if i < len(s):
            if s[i] != ",":
                raise ValueError("line %d: expected ','" % lineno)
            i += 1
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValueError("line %d: a label twice" % lineno)
    return tuple(out)


def parse(body):
    """returns {(name, labels): float}; raises ValueError"""
    if body and not body.endswith("\n"):
        raise ValueError("the body does not end with a newline")
    types, helps, samples = {}, set(), {}
    for n, line in enumerate(body.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line[7:].split(" ", 1)[0]
            if not NAME.match(name) or name in helps:
                raise ValueError("line %d: bad or repeated HELP" % n)
            helps.add(name)
        elif line.startswith("# TYPE "):
            parts = line[7:].split(" ")
            if len(parts) != 2 or not NAME.match(parts[0]) or \
                    parts[1] not in ("counter", "gauge") or parts[0] in types:
                raise ValueError("line %d: bad or repeated TYPE: %r" % (n, line))
            types[parts[0]] = parts[1]
        elif line.startswith("#") or line == "":
            raise ValueError("line %d: unexpected %r" % (n, line))
        else:
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)\Z", line)
            if not m:
                raise ValueError("line %d: bad sample %r" % (n, line))
            name, labels = m.group(1), parse_labels(m.group(3) or "", n)
            if name not in types:
                raise ValueError("line %d: %s has no TYPE before it" % (n, name))
            v = float(m.group(4))
            if types[name] == "counter" and v < 0:
                raise ValueError("line %d: negative counter" % n)
            key = (name, tuple(sorted(labels)))
            if key in samples:
                raise ValueError("line %d: duplicate series" % n)
            samples[key] = v
    return samples


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "get":
        st, _, body = get(port, sys.argv[3])
        sys.stdout.write("%d %s" % (st, body))
    elif cmd == "raw":
        raw = sys.argv[3].encode().decode("unicode_escape").encode("latin-1")
        st, _, _ = request(port, raw)
        print(st)
    elif cmd == "check":
        st, head, body = get(port, "/metrics")
        if st != 200 or "text/plain; version=0.0.4" not in head:
            print("status %d, head %r" % (st, head))
            return 1
        try:
            s = parse(body)
        except ValueError as e:
            print(e)
            return 1
        print("%d series" % len(s))
    elif cmd == "value":
        st, _, body = get(port, "/metrics")
        want = tuple(sorted(tuple(a.split("=", 1)) for a in sys.argv[4:]))
        v = parse(body).get((sys.argv[3], want), 0)
        print(int(v) if v == int(v) else v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
