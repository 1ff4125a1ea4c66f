require "ihave";
if true {
	error "Policy says no";
}
