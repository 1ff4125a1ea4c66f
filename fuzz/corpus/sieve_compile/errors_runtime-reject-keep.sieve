require "reject";
keep;
reject "no thanks";
