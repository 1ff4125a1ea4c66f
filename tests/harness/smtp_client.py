#!/usr/bin/env python3
"""smtp_client.py - send one message over SMTP and report the decisive reply.

Used by tests (through h_smtp in harness.sh) to assert the real SMTP replies
of Postfix + postern.  Prints ONE line on stdout:

    STEP CODE TEXT

where STEP is the step that failed (CONNECT, EHLO, STARTTLS, AUTH, MAIL,
RCPT, DATA) or, on success, "DATA 250 2.0.0 Ok: queued as ..." (or, with
--stop-after rcpt, the last RCPT reply).  Multi-line replies are joined
with a space.  Exit status: 0 accepted, 1 refused or failed, 2 usage error.

With several --to, the first refused recipient ends the transaction (RSET,
QUIT) and is reported, unless --partial is given, in which case the refused
recipients are reported on stderr and DATA is sent to the accepted ones (exit 0
if DATA is accepted).  -v logs every step to stderr.

Limits: stdlib smtplib only; TLS certificates are not verified (test certs
are self-signed); loopback hosts only.
"""

import argparse
import email.utils
import re
import smtplib
import socket
import ssl
import sys


def one_line(msg):
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(str(msg).split("\n")).strip()


def main():
    ap = argparse.ArgumentParser(description="send one test message")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--from", dest="sender", required=True, help="envelope sender ('' for <>)")
    ap.add_argument("--to", action="append", required=True)
    ap.add_argument("--helo", default="client.test.example")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--auth", default="", metavar="USER:PASS")
    ap.add_argument("--auth-mech", default="", choices=["", "PLAIN", "LOGIN"])
    ap.add_argument("--data", metavar="FILE", help="message file (headers+body); '-' = stdin")
    ap.add_argument("--subject", default="postern test")
    ap.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    ap.add_argument("--body", default="test message\n")
    ap.add_argument("--stop-after", choices=["mail", "rcpt"], default=None)
    ap.add_argument("--partial", action="store_true")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("only loopback hosts are allowed")

    def vlog(s):
        if a.verbose:
            sys.stderr.write("smtp_client: %s\n" % s)

    def done(step, code, msg, rc):
        print("%s %s %s" % (step, code, one_line(msg)))
        sys.stdout.flush()
        return rc

    step = "CONNECT"
    s = smtplib.SMTP(timeout=a.timeout)
    try:
        code, msg = s.connect(a.host, a.port)
        vlog("connect %s %s" % (code, one_line(msg)))
        if code != 220:
            return done("CONNECT", code, msg, 1)
        step = "EHLO"
        code, msg = s.ehlo(a.helo)
        vlog("ehlo %s" % code)
        if code != 250:
            return done("EHLO", code, msg, 1)
        if a.starttls:
            step = "STARTTLS"
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if not s.has_extn("starttls"):
                return done("STARTTLS", 0, "server does not offer STARTTLS", 1)
            code, msg = s.docmd("STARTTLS")
            if code != 220:
                return done("STARTTLS", code, msg, 1)
            s.sock = ctx.wrap_socket(s.sock, server_hostname=None)
            s.file = None
            s.helo_resp = s.ehlo_resp = None
            s.esmtp_features = {}
            s.does_esmtp = False
            step = "EHLO"
            code, msg = s.ehlo(a.helo)
            vlog("ehlo after tls %s" % code)
            if code != 250:
                return done("EHLO", code, msg, 1)
        if a.auth:
            step = "AUTH"
            user, _, pw = a.auth.partition(":")
            s.user, s.password = user, pw
            mech = a.auth_mech or "PLAIN"
            try:
                if mech == "PLAIN":
                    code, msg = s.auth("PLAIN", s.auth_plain)
                else:
                    code, msg = s.auth("LOGIN", s.auth_login)
            except smtplib.SMTPAuthenticationError as e:
                return done("AUTH", e.smtp_code, e.smtp_error, 1)
            except smtplib.SMTPException as e:
                return done("AUTH", 0, str(e), 1)
            vlog("auth %s" % code)
            if code not in (235, 503):
                return done("AUTH", code, msg, 1)
        step = "MAIL"
        code, msg = s.mail(a.sender)
        vlog("mail %s %s" % (code, one_line(msg)))
        if code != 250:
            return done("MAIL", code, msg, 1)
        if a.stop_after == "mail":
            s.rset()
            s.quit()
            return done("MAIL", code, msg, 0)
        step = "RCPT"
        accepted = []
        last = None
        for rcpt in a.to:
            code, msg = s.rcpt(rcpt)
            vlog("rcpt %s %s %s" % (rcpt, code, one_line(msg)))
            if code not in (250, 251):
                if not a.partial:
                    try:
                        s.rset()
                        s.quit()
                    except (smtplib.SMTPException, OSError):
                        pass
                    return done("RCPT", code, msg, 1)
                sys.stderr.write("RCPT %s %s %s\n" % (rcpt, code, one_line(msg)))
                last = (code, msg)
                continue
            accepted.append(rcpt)
            if last is None or last[0] in (250, 251):
                last = (code, msg)
        if not accepted:
            s.rset()
            s.quit()
            return done("RCPT", last[0], last[1], 1)
        if a.stop_after == "rcpt":
            s.rset()
            s.quit()
            return done("RCPT", last[0], last[1], 0)
        step = "DATA"
        if a.data:
            if a.data == "-":
                body = sys.stdin.buffer.read()
            else:
                with open(a.data, "rb") as f:
                    body = f.read()
            # smtplib leaves bytes alone: normalise line endings to CRLF
            body = re.sub(rb"\r?\n", b"\r\n", body)
        else:
            hdr = [
                "From: <%s>" % a.sender,
                "To: %s" % ", ".join("<%s>" % t for t in a.to),
                "Subject: %s" % a.subject,
                "Date: %s" % email.utils.formatdate(localtime=True),
                "Message-ID: %s" % email.utils.make_msgid(domain="client.test.example"),
            ] + a.header
            body = ("\r\n".join(hdr) + "\r\n\r\n" + a.body).encode("utf-8")
        code, msg = s.data(body)
        vlog("data %s %s" % (code, one_line(msg)))
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            pass
        return done("DATA", code, msg, 0 if code == 250 else 1)
    except smtplib.SMTPResponseException as e:
        return done(step, e.smtp_code, e.smtp_error, 1)
    except smtplib.SMTPServerDisconnected as e:
        return done(step, 0, "disconnected: %s" % e, 1)
    except (OSError, socket.timeout, ssl.SSLError) as e:
        return done(step, 0, "%s: %s" % (type(e).__name__, e), 1)


if __name__ == "__main__":
    sys.exit(main())
