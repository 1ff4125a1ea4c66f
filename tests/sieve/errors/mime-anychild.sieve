require "mime";
# :anychild needs :mime
if header :anychild "Subject" "x" { keep; }
