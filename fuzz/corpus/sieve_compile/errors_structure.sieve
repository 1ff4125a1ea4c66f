elsif true { keep; }
if true;
true;
keep { discard; }
redirect;
redirect "not an address";
if allof true { keep; }
size 100;
if not (true, false) { keep; }
