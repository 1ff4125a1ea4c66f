# two errors
frobnicate;
keep;
if header :is "subject" { keep; }
