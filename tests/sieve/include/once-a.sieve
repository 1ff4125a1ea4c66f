# include-once.svtest: A, then B :once (which includes A :once back)
require ["include", "variables"];
global "result";
set "result" "${result} A";
include :once "once-b";
