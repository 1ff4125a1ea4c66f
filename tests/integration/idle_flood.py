#!/usr/bin/env python3
"""idle_flood.py - hold many idle connections to a local server.

usage: idle_flood.py PORT N SECONDS
  Opens N TCP connections to 127.0.0.1:PORT (non-blocking connects, so a
  full listen backlog does not serialise them), writes "opened K" to stdout
  once every connect has finished or 10 s have passed, sends nothing, holds
  them for SECONDS, then prints "still open M" (the connections the server
  has not closed) and exits, closing the rest.
"""
import errno
import os
import select
import socket
import sys
import time


def main():
    port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    socks, pending = [], {}
    ep = select.epoll()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            continue
        socks.append(s)
        if rc == errno.EINPROGRESS:
            pending[s.fileno()] = s
            ep.register(s.fileno(), select.EPOLLOUT)
    end = time.monotonic() + 10
    while pending and time.monotonic() < end:
        for fd, _ in ep.poll(0.5):
            ep.unregister(fd)
            pending.pop(fd, None)
    opened = sum(1 for s in socks
                 if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    print("opened %d" % opened, flush=True)
    time.sleep(hold)
    still = 0
    for s in socks:
        try:
            if s.recv(1) == b"":
                continue
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    print("still open %d" % still, flush=True)
    for s in socks:
        s.close()
    os._exit(0)


if __name__ == "__main__":
    main()
