require ["vacation", "imap4flags"];

vacation :flags "\\Seen" "away";
