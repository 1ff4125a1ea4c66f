# include-once.svtest: includes itself :once (RFC 6609 3.2: no error)
require ["include", "variables"];
global "result";
set "result" "${result} S";
include :once "self-once";
