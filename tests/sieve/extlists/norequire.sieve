require "fileinto";
if address :list "from" "tag:parents" {
	fileinto "Parents";
}
