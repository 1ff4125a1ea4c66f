if header :bogus "subject" "x" { keep; }
if header :is :contains "subject" "x" { keep; }
if header :comparator "i;frob" "subject" "x" { keep; }
if header :comparator "i;ascii-numeric" "subject" "1" { keep; }
if header "subject" :is "x" { keep; }
if address :localpart :domain "from" "x" { keep; }
