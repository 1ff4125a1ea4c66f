require "extlists";
# tag:broken cannot be read: a run-time error, the message is kept
if address :list "from" "tag:broken" {
	discard;
}
