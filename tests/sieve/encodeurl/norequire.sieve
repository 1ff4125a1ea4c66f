require "variables";
# :encodeurl belongs to enotify (RFC 5435 4.1)
set :encodeurl "u" "a b";
