# include-optional.svtest: an optional script that exists
require ["include", "variables"];
global "result";
set "result" "${result} P";
