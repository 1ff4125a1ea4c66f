require ["enclose", "replace"];
enclose :subject "Suspicious message" :headers ["X-Enclosed: yes"] "The original is attached.";
replace :mime text:
Content-Type: text/plain; charset=us-ascii

cleaned
.
;
