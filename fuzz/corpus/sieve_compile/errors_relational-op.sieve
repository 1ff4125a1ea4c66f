require "relational";
if header :value "gg" "subject" "x" { keep; }
