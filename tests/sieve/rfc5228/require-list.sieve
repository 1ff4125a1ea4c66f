require ["fileinto", "envelope", "copy"];
fileinto :copy "A";
