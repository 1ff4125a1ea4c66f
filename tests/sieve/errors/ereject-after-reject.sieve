require ["reject", "ereject"];
if true {
	reject "one";
}
ereject "two";
