require "fileinto";
# three mistakes: a missing ';', an unknown command, a bad argument
keep;
fileinto "Junk"
if address :is "from" "boss@example.com" {
	keep;
	stop;
}
frobnicate "x";
if size :over 1M {
	keep;
	fileinto 42;
}
