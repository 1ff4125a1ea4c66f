require ["extlists", "relational"];
if address :list :count "eq" "from" "tag:parents" {
	discard;
}
