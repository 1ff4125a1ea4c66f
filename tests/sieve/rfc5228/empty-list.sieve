if header :is [] "x" { keep; }
