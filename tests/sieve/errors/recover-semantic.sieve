if header :bogus "subject" "x" { keep; }
fileinto "X";
iff true {
	redirect "not an address";
}
elsif true { keep; }
if header :is "subject" {
	frob;
}
keep
if true { discard; }
reject "no";
