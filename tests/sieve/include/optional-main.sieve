# include-optional.svtest: a top-level script with optional includes
require ["include", "variables"];
global "result";
include :optional "optional-present";
include :optional "optional-missing-script";
include :optional :once "optional-present";
set "result" "${result} M";
keep;
