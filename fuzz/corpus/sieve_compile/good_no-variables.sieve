require "fileinto";
fileinto "${literal}";
