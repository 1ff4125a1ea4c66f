# include-once.svtest: adds " X" to the global "result" each time it runs
require ["include", "variables"];
global "result";
set "result" "${result} X";
