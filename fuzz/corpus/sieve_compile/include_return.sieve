require ["include", "fileinto"];
fileinto "Before";
return;
redirect "never@example.net";
