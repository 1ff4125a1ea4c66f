if header :mime "Subject" "x" { keep; }
