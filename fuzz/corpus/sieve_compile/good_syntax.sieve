# Everything the grammar allows, in odd places.
require ["fileinto", "reject"]; /* bracket
comment */ require "envelope";
if anyof(header :contains ["Subject","X-Subject"] ["a", "b"], # comment
         size :over 1K, not exists "x")
{
	if header :is "x-multi" text: # comment after text:
first line
..dotted
.
	{ discard; }
	fileinto "INBOX.Folder";
} elsif header :is "subject" "tab\there" { keep; }
else { discard; }
IF TRUE { KEEP; }
