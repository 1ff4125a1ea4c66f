require "enotify";
notify "frob:a@example.net";
