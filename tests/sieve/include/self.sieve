# include-once.svtest: includes itself without :once: a loop
require "include";
include "self";
