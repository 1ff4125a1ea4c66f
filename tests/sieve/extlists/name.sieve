require "extlists";
if address :list "from" "parents" {
	discard;
}
