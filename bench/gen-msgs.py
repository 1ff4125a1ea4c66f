#!/usr/bin/python3
# bench/gen-msgs.py DIR N [TO [mime]] - N test messages DIR/00000.eml ... for
# the delivery benches (bench/lda, bench/lmtp): sizes 1-40 KB (triangular,
# mode 4 KB), typical header fields, fixed seed; every 3rd from
# partner.example, every 5th from a mailing list (List-Id), every 7th
# flagged as spam.  With "mime" (BENCH_SIEVE=mime bench/lda) every message
# is multipart/mixed: the text as text/plain and text/html
# (multipart/alternative), and every 2nd has a base64 attachment (PDF,
# every 4th a ZIP named by file name only), 2-20 KB.
# LF line ends (the LDA's input); bench/lmtp converts for the wire.
import base64, os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
to = sys.argv[3] if len(sys.argv) > 3 else "bench@bench.example"
mime = len(sys.argv) > 4 and sys.argv[4] == "mime"
os.makedirs(d)
rnd = random.Random(42)
words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
for i in range(n):
    size = int(rnd.triangular(1000, 40000, 4000))
    body, line = [], []
    total = 0
    while total < size:
        w = rnd.choice(words)
        line.append(w)
        if sum(len(x) + 1 for x in line) > 72:
            body.append(" ".join(line)); total += len(body[-1]) + 1; line = []
    dom = "partner.example" if i % 3 == 0 else "ext.example"
    hdr = ["Received: from client.test.example (client [127.0.0.1]) by mx.test.example",
           "\t(Postfix) with ESMTP id %08X for <%s>" % (i, to),
           "From: Sender %d <sender%d@%s>" % (i, i % 50, dom),
           "To: <%s>" % to,
           "Subject: benchmark message %d" % i,
           "Date: Sat, 29 Nov 2025 12:00:00 +0000",
           "Message-ID: <%d.bench@ext.example>" % i,
           "MIME-Version: 1.0"]
    if not mime:
        hdr.append("Content-Type: text/plain; charset=us-ascii")
    else:
        hdr.append('Content-Type: multipart/mixed; boundary="mix%d"' % i)
        text = "\n".join(body)
        parts = ["--mix%d" % i,
                 'Content-Type: multipart/alternative; boundary="alt%d"' % i, "",
                 "--alt%d" % i, "Content-Type: text/plain; charset=us-ascii", "",
                 text,
                 "--alt%d" % i, "Content-Type: text/html; charset=us-ascii", "",
                 "<html><body><p>" + text.replace("\n", "</p>\n<p>") + "</p></body></html>",
                 "--alt%d--" % i]
        if i % 2 == 0:
            raw = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1500, 15000)))
            b64 = base64.encodebytes(raw).decode().rstrip("\n")
            if i % 4 == 0:
                parts += ["--mix%d" % i, "Content-Type: application/octet-stream",
                          'Content-Disposition: attachment; filename="data%d.zip"' % i]
            else:
                parts += ["--mix%d" % i, 'Content-Type: application/pdf; name="doc%d.pdf"' % i,
                          'Content-Disposition: attachment; filename="doc%d.pdf"' % i]
            parts += ["Content-Transfer-Encoding: base64", "", b64]
        parts.append("--mix%d--" % i)
        body = parts
    if i % 5 == 0:
        hdr.append("List-Id: Announcements <announce.lists.ext.example>")
    if i % 7 == 0:
        hdr.append("X-Spam-Flag: YES")
    with open(os.path.join(d, "%05d.eml" % i), "w") as f:
        f.write("\n".join(hdr) + "\n\n" + "\n".join(body) + "\n")
