require "envelope";
if envelope "frob" "x" { keep; }
