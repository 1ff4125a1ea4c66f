# bench/bench-mime.sieve - the Sieve script of `BENCH_SIEVE=mime bench/lda`:
# bench/bench.sieve's rules plus a walk over every MIME part (mime,
# foreverypart, RFC 5703): a message with a PDF or ZIP attachment (by
# Content-Type or by file name) goes to Attachments.  Pigeonhole runs the
# same file.
require ["fileinto", "mime", "foreverypart", "variables"];
set "att" "";
foreverypart {
    if header :mime :contenttype "Content-Type"
              ["application/pdf", "application/zip"] {
        set "att" "yes";
        break;
    }
    if header :mime :param "filename" :matches "Content-Disposition"
              ["*.pdf", "*.zip"] {
        set "att" "yes";
        break;
    }
}
if header :contains "List-Id" "<announce.lists.ext.example>" {
    fileinto "Announce";
} elsif anyof (header :is "X-Spam-Flag" "YES",
               header :contains "Subject" "[SPAM]") {
    fileinto "Junk";
} elsif string :is "${att}" "yes" {
    fileinto "Attachments";
} elsif address :is :domain "From" "partner.example" {
    fileinto "Partners";
}
