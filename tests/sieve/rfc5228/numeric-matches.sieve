require "comparator-i;ascii-numeric";
if header :matches :comparator "i;ascii-numeric" "x-num" "4*" { keep; }
