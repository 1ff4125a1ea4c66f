# include-optional.svtest: exists but does not compile (:optional does
# not hide it)
require "include";
frobnicate;
