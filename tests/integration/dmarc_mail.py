#!/usr/bin/env python3
"""dmarc_mail.py - helpers of tests/integration/dmarc-reports.sh (stdlib only).

  dmarc_mail.py wrap OUT.eml gz|zip|broken-gz REPORT.xml
      a received aggregate report as a receiver mails it: a MIME message
      with the report attached as .xml.gz, as .zip, or as a .xml.gz whose
      gzip data is cut off (a broken attachment)
  dmarc_mail.py bomb OUT.gz MBYTES
      a gzip file that inflates to MBYTES MiB of XML text (a zip bomb)
  dmarc_mail.py extract IN.eml OUT.xml
      the report of a message postern dmarc report sent: prints the
      Subject, the attachment's file name and its content type, one per
      line, and writes the inflated XML to OUT.xml
"""
import email
import email.policy
import gzip
import io
import sys
import zipfile
from email.message import EmailMessage


def wrap(out, kind, report):
    data = open(report, "rb").read()
    msg = EmailMessage()
    msg["From"] = "noreply-dmarc@reporter.example"
    msg["To"] = "dmarc@example.org"
    msg["Subject"] = "Report Domain: example.org Submitter: reporter.example"
    msg.set_content("This is an aggregate report.\n")
    name = report.rsplit("/", 1)[-1]
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(name, data)
        msg.add_attachment(buf.getvalue(), maintype="application",
                           subtype="zip", filename=name + ".zip")
    else:
        gz = gzip.compress(data)
        if kind == "broken-gz":
            gz = gz[: len(gz) // 2]
        msg.add_attachment(gz, maintype="application", subtype="gzip",
                           filename=name + ".gz")
    open(out, "wb").write(msg.as_bytes())


def bomb(out, mbytes):
    head = b"<?xml version='1.0'?><feedback><report_metadata><org_name>"
    with gzip.open(out, "wb", compresslevel=9) as g:
        g.write(head)
        chunk = b"A" * (1024 * 1024)
        for _ in range(int(mbytes)):
            g.write(chunk)
        g.write(b"</org_name></report_metadata></feedback>")


def extract(path, out):
    msg = email.message_from_binary_file(open(path, "rb"),
                                         policy=email.policy.default)
    print(msg["Subject"])
    for part in msg.walk():
        fn = part.get_filename()
        if fn:
            print(fn)
            print(part.get_content_type())
            open(out, "wb").write(gzip.decompress(part.get_payload(decode=True)))
            return 0
    return 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "wrap":
        wrap(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "bomb":
        bomb(sys.argv[2], sys.argv[3])
    elif cmd == "extract":
        sys.exit(extract(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(2)
