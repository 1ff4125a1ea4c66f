require ["fileinto", "special-use"];

fileinto :specialuse "Junk" "Spam";
