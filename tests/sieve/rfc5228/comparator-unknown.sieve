if header :is :comparator "i;frobnicate" "subject" "x" { keep; }
