# include-optional.svtest: a missing script without :optional
require "include";
include :optional "optional-missing-script";
include "optional-missing-script";
keep;
