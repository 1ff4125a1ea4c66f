discard;
stop;
redirect "x@example.net";
