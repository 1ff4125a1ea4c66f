if header :contains "x subject" "" { discard; }
