require "mime";

if header :type "Content-Type" "text" { keep; }
if header :mime :type :subtype "Content-Type" "text" { keep; }
