require "mailboxid";

if mailboxidexists ["aa", ""] { keep; }
