#!/usr/bin/env python3
"""xclient_send.py - one SMTP transaction as if from another client.

usage: xclient_send.py PORT CLIENT_IP HELO FROM TO [TO ...]

Uses Postfix's XCLIENT (the server must list 127.0.0.0/8 in
smtpd_authorized_xclient_hosts) so that smtpd, its policy service and its
milters see CLIENT_IP and HELO, while the TCP connection stays on loopback.
The environment variable XCLIENT_NAME sets the verified client host name
(Postfix's client_name and reverse_client_name; default [UNAVAILABLE]),
XCLIENT_LOGIN a SASL login as if the client had authenticated (the server
has SASL enabled; default none), XCLIENT_SUBJECT the Subject (default
"xclient test").
Prints one line "STEP CODE TEXT" like tests/harness/smtp_client.py:
"DATA 250 ..." on success, else the refused step.
"""
import os
import smtplib
import sys


def main():
    port, client, helo, sender = sys.argv[1:5]
    rcpts = sys.argv[5:]
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("localhost")
    name = os.environ.get("XCLIENT_NAME") or "[UNAVAILABLE]"
    attrs = "ADDR=%s NAME=%s HELO=%s" % (client, name, helo)
    if os.environ.get("XCLIENT_LOGIN"):
        attrs += " LOGIN=%s" % os.environ["XCLIENT_LOGIN"]
    code, msg = s.docmd("XCLIENT", attrs)
    if code != 220:
        print("XCLIENT %d %s" % (code, msg.decode()))
        return 1
    s.ehlo(helo)
    code, msg = s.mail("<%s>" % sender if sender else "<>")
    if code != 250:
        print("MAIL %d %s" % (code, msg.decode().replace("\n", " ")))
        return 1
    for r in rcpts:
        code, msg = s.rcpt("<%s>" % r)
        if code != 250:
            print("RCPT %d %s" % (code, msg.decode().replace("\n", " ")))
            s.rset()
            s.quit()
            return 1
    body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nhello\r\n"
            % (sender or "mailer-daemon@example.net", rcpts[0],
               os.environ.get("XCLIENT_SUBJECT") or "xclient test"))
    code, msg = s.data(body.encode())
    print("DATA %d %s" % (code, msg.decode().replace("\n", " ")))
    s.quit()
    return 0 if code == 250 else 1


if __name__ == "__main__":
    sys.exit(main())
