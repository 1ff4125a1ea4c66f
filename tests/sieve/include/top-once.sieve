# include-once.svtest: run as the top script, includes itself :once
# (RFC 6609 3.2: the running script counts as included)
require ["include", "variables", "fileinto"];
global "result";
set "result" "${result}T";
include :once "top-once";
fileinto "Run${result}";
