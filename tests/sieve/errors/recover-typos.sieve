require "fileinto";
if header contains "subject" "offer" {
	fileinto "Offers"
	stop;
}
if address is :domain "from" "example.com" {
	keep;
}
fileinto "Rest"
discard;
