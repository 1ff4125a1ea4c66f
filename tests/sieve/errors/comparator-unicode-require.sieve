if header :comparator "i;unicode-casemap" "Subject" "x" { keep; }
