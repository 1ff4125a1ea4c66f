require ["enotify", "fcc", "mailbox"];

notify :create "mailto:a@example.org";
