#!/usr/bin/python3
# bench/gen-msgs.py DIR N [TO] - N test messages DIR/00000.eml ... for the
# delivery benches (bench/lda, bench/lmtp): sizes 1-40 KB (triangular, mode
# 4 KB), typical header fields, fixed seed; every 3rd from partner.example,
# every 5th from a mailing list (List-Id), every 7th flagged as spam.
# LF line ends (the LDA's input); bench/lmtp converts for the wire.
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
to = sys.argv[3] if len(sys.argv) > 3 else "bench@bench.example"
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
           "MIME-Version: 1.0",
           "Content-Type: text/plain; charset=us-ascii"]
    if i % 5 == 0:
        hdr.append("List-Id: Announcements <announce.lists.ext.example>")
    if i % 7 == 0:
        hdr.append("X-Spam-Flag: YES")
    with open(os.path.join(d, "%05d.eml" % i), "w") as f:
        f.write("\n".join(hdr) + "\n\n" + "\n".join(body) + "\n")
