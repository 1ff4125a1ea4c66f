# bench/bench.sieve - the Sieve script of the delivery benches (bench/lda,
# bench/lmtp): about half of bench/gen-msgs.py's messages go to three folders.
require ["fileinto"];
if header :contains "List-Id" "<announce.lists.ext.example>" {
    fileinto "Announce";
} elsif anyof (header :is "X-Spam-Flag" "YES",
               header :contains "Subject" "[SPAM]") {
    fileinto "Junk";
} elsif address :is :domain "From" "partner.example" {
    fileinto "Partners";
}
