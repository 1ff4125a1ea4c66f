require "fileinto";

fileinto :specialuse "\\Junk" "Junk";
