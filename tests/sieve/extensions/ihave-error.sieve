require "ihave";
if not ihave "x-frobnicate" {
	error "this script needs a newer server";
}
