require "fileinto";
if true {
	keep;
if false {
	discard;
}
frob;
fileinto "x"
