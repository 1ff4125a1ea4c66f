if header :is :comparator "i;ascii-numeric" "x-num" "42" { keep; }
