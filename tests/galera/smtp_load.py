#!/usr/bin/env python3
"""smtp_load.py - send numbered messages through one SMTP server the way a
sending MTA does: a 4xx reply (or a refused/dropped connection) is retried
after a pause until the message is accepted or the deadline passes; a 5xx
is final (and what tests/galera/galera.sh asserts never happens).

usage: smtp_load.py PORT COUNT FROM TO TAG DEADLINE_SECONDS [PAUSE_SECONDS]

Message i (0..COUNT-1) has Subject and Message-ID "TAG-i".  One line per
message on stdout, flushed as soon as it is final:
    i <TAB> final-code <TAB> attempts <TAB> codes-of-every-attempt (comma)
final-code is 250 (accepted), the 5xx code, or TIMEOUT.  While it runs,
PROGRESS_FILE (env SMTP_LOAD_PROGRESS, optional) holds the number of
messages accepted so far.  SMTP_LOAD_GAP (seconds, optional) paces the
load: the pause after each accepted message, so that a test can be sure
the load is still running when it breaks something.
"""
import os
import smtplib
import socket
import sys
import time


def attempt(port, sender, rcpt, msg):
    """one SMTP transaction: the reply code that decided it"""
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    except (OSError, smtplib.SMTPException):
        return 0
    try:
        s.ehlo("load.client.example")
        code, _ = s.mail(sender)
        if code != 250:
            return code
        code, _ = s.rcpt(rcpt)
        if code not in (250, 251):
            return code
        code, _ = s.data(msg)
        return code
    except smtplib.SMTPServerDisconnected:
        return 0
    except (OSError, smtplib.SMTPException):
        return 0
    finally:
        try:
            s.quit()
        except (OSError, smtplib.SMTPException):
            pass


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    sender, rcpt, tag = sys.argv[3], sys.argv[4], sys.argv[5]
    deadline = time.time() + float(sys.argv[6])
    pause = float(sys.argv[7]) if len(sys.argv) > 7 else 0.5
    progress = os.environ.get("SMTP_LOAD_PROGRESS")
    gap = float(os.environ.get("SMTP_LOAD_GAP", "0"))
    accepted = 0
    for i in range(count):
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s-%d\r\n"
               "Message-ID: <%s-%d@load.client.example>\r\n\r\nload %d\r\n"
               % (sender, rcpt, tag, i, tag, i, i))
        codes = []
        final = "TIMEOUT"
        while time.time() < deadline:
            code = attempt(port, sender, rcpt, msg)
            codes.append(str(code))
            if code == 250:
                final = "250"
                break
            if code >= 500:
                final = str(code)
                break
            time.sleep(pause)
        print("%d\t%s\t%d\t%s" % (i, final, len(codes), ",".join(codes)),
              flush=True)
        if final == "250":
            accepted += 1
            if progress:
                with open(progress + ".tmp", "w") as f:
                    f.write("%d\n" % accepted)
                os.rename(progress + ".tmp", progress)
            time.sleep(gap)
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
