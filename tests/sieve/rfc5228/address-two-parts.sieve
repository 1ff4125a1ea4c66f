if address :localpart :domain "from" "x" { keep; }
