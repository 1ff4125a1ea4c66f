if header :is "subject" "a" {
	keep;
} else if header :is "subject" "b" {
	discard;
} else {
	frob $$$;
}
elsif true { keep; }
