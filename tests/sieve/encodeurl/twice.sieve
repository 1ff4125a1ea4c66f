require ["variables", "enotify"];
set :encodeurl :encodeurl "u" "a b";
