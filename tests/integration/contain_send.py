#!/usr/bin/env python3
"""contain_send.py - one SMTP transaction as an authenticated login from a
given client address, for tests/integration/contain.sh.

usage: contain_send.py PORT CLIENT_IP LOGIN SUBJECT FROM TO [TO ...]

XCLIENT ADDR=CLIENT_IP LOGIN=LOGIN (LOGIN "-": none, an unauthenticated
client) makes smtpd and its policy service see that client and SASL login
(the server lists 127.0.0.0/8 in smtpd_authorized_xclient_hosts and has
SASL enabled).  Prints one line "STEP CODE TEXT": "DATA 250 2.0.0 Ok:
queued as QID" on success, else the refused step.
"""
import smtplib
import sys


def main():
    port, client, login, subject, sender = sys.argv[1:6]
    rcpts = sys.argv[6:]
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=30)
    s.ehlo("localhost")
    attrs = "ADDR=%s NAME=[UNAVAILABLE] HELO=client.test" % client
    if login != "-":
        attrs += " LOGIN=%s" % login
    code, msg = s.docmd("XCLIENT", attrs)
    if code != 220:
        print("XCLIENT %d %s" % (code, msg.decode()))
        return 1
    s.ehlo("client.test")
    code, msg = s.mail("<%s>" % sender)
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
            % (sender, rcpts[0], subject))
    code, msg = s.data(body.encode())
    print("DATA %d %s" % (code, msg.decode().replace("\n", " ")))
    s.quit()
    return 0 if code == 250 else 1


if __name__ == "__main__":
    sys.exit(main())
