require "fileinto";
fileinto "B";
