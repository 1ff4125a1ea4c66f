require "ihave";
if ihave "fileinto" {
	fileinto "Enabled";
}
