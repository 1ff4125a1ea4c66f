require "enotify";
notify :message "new mail" "mailto:carol@example.net";
