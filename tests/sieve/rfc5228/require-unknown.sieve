require "x-unknown";
keep;
