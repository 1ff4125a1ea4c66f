require ["ihave", "fileinto"];
if ihave "x-frobnicate" {
	frobnicate :hard "now";
} else {
	fileinto "Fallback";
}
