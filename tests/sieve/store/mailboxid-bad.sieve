require ["fileinto", "mailboxid"];

fileinto :mailboxid "F00/bar" "Other";
