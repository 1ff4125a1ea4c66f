#!/usr/bin/env python3
"""sendmail_smtp.py - a sendmail(1) stand-in for tests: submits over SMTP.

usage: sendmail_smtp.py PORT [-i] [-f SENDER] [--] RCPT...   (message on stdin)

postern-lda re-injects redirects, vacation replies and notifications through
[lda] sendmail_path.  The harness Postfix has a private config directory, and
Postfix's own sendmail refuses -C for an unprivileged user (pipe(8) runs
postern-lda as nobody), so tests point sendmail_path at a two-line shell
wrapper that runs this with the harness Postfix's smtpd port.  Exit 0 when
Postfix accepted the message, 75 (EX_TEMPFAIL) on any failure, like sendmail.
"""
import smtplib
import sys


def main():
    port = int(sys.argv[1])
    args = sys.argv[2:]
    frm = args[args.index("-f") + 1] if "-f" in args else ""
    if "--" in args:
        rcpts = args[args.index("--") + 1:]
    else:
        rcpts = [a for i, a in enumerate(args)
                 if not a.startswith("-") and (i == 0 or args[i - 1] != "-f")]
    frm = "" if frm == "<>" else frm
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        s.sendmail(frm, rcpts, sys.stdin.buffer.read())
        s.quit()
    except Exception as e:  # any failure: the caller keeps the mail
        print("sendmail_smtp: %s" % e, file=sys.stderr)
        return 75
    return 0


if __name__ == "__main__":
    sys.exit(main())
