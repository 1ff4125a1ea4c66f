require ["reject", "ereject"];
reject "one";
reject "two";
