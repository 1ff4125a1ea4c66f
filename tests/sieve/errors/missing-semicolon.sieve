if true {
	keep
	discard;
}
