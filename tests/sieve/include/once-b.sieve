# include-once.svtest: B, then A :once (running now: no loop error)
require ["include", "variables"];
global "result";
set "result" "${result} B";
include :once "once-a";
