require ["date", "editheader"];
if header "Subject:" "x" { keep; }
if exists "X-Spam:" { keep; }
if address "From:" "a@example.com" { keep; }
if date "Date:" "year" "2020" { keep; }
addheader "X-New:" "v";
deleteheader "X-Old:";
if header ["to", "Cc:"] "x" { keep; }
