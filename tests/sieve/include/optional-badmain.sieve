# include-optional.svtest: includes a script that does not compile
require "include";
include :optional "optional-bad";
keep;
