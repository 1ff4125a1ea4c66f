require ["fileinto", "x-frobnicate"];
