#!/usr/bin/env python3
"""trickle.py - a steady trickle of mail into Postfix that behaves like a
well-behaved sending MTA: a temporary refusal (4xx, or a dropped
connection) is retried later, a permanent one (5xx) is recorded as lost.
Used by tests/integration/e2e-faults.sh.

Message i goes to ROUTES[i % len(ROUTES)]; each route is
"port25|FROM|TO" or "submit:LOGIN|FROM|TO".  Every message carries
"X-Trickle: RUN-i".  Runs until STOPFILE exists and nothing is pending, or
--timeout.  Writes one line per event to the log and a summary to stdout:
"sent N accepted N refused N retries N pending N".
"""
import argparse, os, smtplib, ssl, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--sub-port", type=int, required=True)
ap.add_argument("--password", default="test")
ap.add_argument("--interval", type=float, default=0.4)
ap.add_argument("--retry", type=float, default=1.5)
ap.add_argument("--run", default="t")
ap.add_argument("--stopfile", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--timeout", type=float, default=150)
ap.add_argument("routes", nargs="+")
a = ap.parse_args()

log = open(a.log, "a", buffering=1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def send(i):
    kind, frm, to = a.routes[i % len(a.routes)].split("|")
    msg = ("From: %s\r\nTo: %s\r\nSubject: trickle %d\r\nX-Trickle: %s-%d\r\n\r\n"
           "message %d of the fault test\r\n" % (frm, to, i, a.run, i, i))
    try:
        if kind == "port25":
            s = smtplib.SMTP("127.0.0.1", a.port, "client.outside.example", timeout=20)
        else:
            s = smtplib.SMTP("127.0.0.1", a.sub_port, "laptop.outside.example", timeout=20)
            s.starttls(context=ctx)
            s.ehlo("laptop.outside.example")
            s.login(kind.split(":", 1)[1], a.password)
        try:
            refused = s.sendmail(frm, [to], msg)
        finally:
            try:
                s.quit()
            except Exception:
                pass
        if refused:
            code, text = list(refused.values())[0]
            return code, text
        return 250, b"ok"
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        return code, text
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error
    except (OSError, smtplib.SMTPException) as e:
        return 0, str(e).encode()


pending = {}   # i -> next attempt time
accepted = refused = retries = 0
i = 0
start = time.time()
next_new = start
while time.time() - start < a.timeout:
    now = time.time()
    stopping = os.path.exists(a.stopfile)
    if stopping and not pending:
        break
    due = [k for k, t in pending.items() if t <= now]
    if due:
        k = due[0]
        retries += 1
    elif not stopping and now >= next_new:
        k = i
        i += 1
        next_new = now + a.interval
    else:
        time.sleep(0.05)
        continue
    code, text = send(k)
    t = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    log.write("%.1f %d %d %s\n" % (now - start, k, code, t.replace("\n", " ")[:200]))
    if code == 250:
        accepted += 1
        pending.pop(k, None)
    elif code >= 500:
        refused += 1
        pending.pop(k, None)
    else:
        pending[k] = time.time() + a.retry
print("sent %d accepted %d refused %d retries %d pending %d" % (i, accepted, refused, retries, len(pending)))
sys.exit(0 if refused == 0 and not pending else 1)
