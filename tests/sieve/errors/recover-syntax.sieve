require "fileinto";
if header :is "subject" "a" {
	fileinto "A" & ;
}
if header :is ["subject" "to"] "b" {
	fileinto "B";
}
keep }
"a string";
if anyof (true, false { discard; }
if true { keep;; }
fileinto "C";
