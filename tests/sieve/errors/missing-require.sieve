if true {
	fileinto "Junk";
}
